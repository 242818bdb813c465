"""The pinned public surface of ``engine.simulation`` (loaded lazily)."""

from __future__ import annotations

import subprocess
import sys

import pytest

import engine.simulation

EXPECTED = {
    "Arrivals",
    "DataGenerator",
    "Distribution",
    "HoldSpec",
    "KpiTable",
    "ProcessParams",
    "ReplicationLog",
    "ResourcePool",
    "ReworkSpec",
    "RobotBehaviour",
    "Scenario",
    "ScenarioError",
    "SimProcess",
    "SimulationError",
    "SimulationResult",
    "SubcaseSpawn",
    "import_prosimos",
    "load_scenario",
    "load_variants",
    "mean_cycle_time_hours",
    "read_csv",
    "replication_seed",
    "run_replication",
    "simulate",
    "simulate_variants",
    "summarise",
    "write_csv",
    "write_report",
    "write_xes",
    "verify",
    "Verification",
}


def test_public_surface_is_pinned() -> None:
    assert set(engine.simulation.__all__) == EXPECTED
    for name in EXPECTED:
        assert getattr(engine.simulation, name) is not None


def test_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        engine.simulation.nope  # noqa: B018


def test_bad_input_errors_are_definition_errors() -> None:
    from engine.errors import DefinitionError

    assert issubclass(engine.simulation.ScenarioError, DefinitionError)
    assert issubclass(engine.simulation.SimulationError, DefinitionError)


def test_importing_the_command_line_does_not_load_numpy_or_matplotlib() -> None:
    code = (
        "import sys, engine.cli; "
        "print(sorted(m for m in ('numpy', 'matplotlib') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
