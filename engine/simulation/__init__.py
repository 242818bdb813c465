"""Simulation for analysts: the same process definitions on a virtual clock.

    from engine.simulation import load_scenario, simulate, summarise, write_report

    result = simulate("examples/claims.scenario.yaml", replications=5)
    print(summarise(result).format_table())
    write_report([result], "out/claims")

See docs/simulation.md (overview and semantics), docs/scenario-format.md (the scenario file),
docs/simulation-outputs.md (KPIs, event logs, report) and docs/prosimos.md (Prosimos import).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from engine.simulation.api import replication_seed, simulate, simulate_variants
    from engine.simulation.distributions import Distribution
    from engine.simulation.eventlog import mean_cycle_time_hours, read_csv, write_csv, write_xes
    from engine.simulation.kernel import SimulationError, run_replication
    from engine.simulation.kpis import KpiTable, summarise
    from engine.simulation.prosimos import import_prosimos
    from engine.simulation.report import write_report
    from engine.simulation.results import ReplicationLog, SimulationResult
    from engine.simulation.scenario import ScenarioError, load_scenario, load_variants
    from engine.simulation.scenario_model import (
        Arrivals,
        DataGenerator,
        HoldSpec,
        ProcessParams,
        ResourcePool,
        ReworkSpec,
        RobotBehaviour,
        Scenario,
        SimProcess,
        SubcaseSpawn,
    )
    from engine.simulation.verify import Verification, verify

_LAZY: dict[str, str] = {
    "Verification": "engine.simulation.verify",
    "verify": "engine.simulation.verify",
    "Arrivals": "engine.simulation.scenario_model",
    "DataGenerator": "engine.simulation.scenario_model",
    "Distribution": "engine.simulation.distributions",
    "HoldSpec": "engine.simulation.scenario_model",
    "KpiTable": "engine.simulation.kpis",
    "ProcessParams": "engine.simulation.scenario_model",
    "ReplicationLog": "engine.simulation.results",
    "ResourcePool": "engine.simulation.scenario_model",
    "ReworkSpec": "engine.simulation.scenario_model",
    "RobotBehaviour": "engine.simulation.scenario_model",
    "Scenario": "engine.simulation.scenario_model",
    "ScenarioError": "engine.simulation.scenario",
    "SimProcess": "engine.simulation.scenario_model",
    "SimulationError": "engine.simulation.kernel",
    "SimulationResult": "engine.simulation.results",
    "SubcaseSpawn": "engine.simulation.scenario_model",
    "import_prosimos": "engine.simulation.prosimos",
    "load_scenario": "engine.simulation.scenario",
    "load_variants": "engine.simulation.scenario",
    "mean_cycle_time_hours": "engine.simulation.eventlog",
    "read_csv": "engine.simulation.eventlog",
    "replication_seed": "engine.simulation.api",
    "run_replication": "engine.simulation.kernel",
    "simulate": "engine.simulation.api",
    "simulate_variants": "engine.simulation.api",
    "summarise": "engine.simulation.kpis",
    "write_csv": "engine.simulation.eventlog",
    "write_report": "engine.simulation.report",
    "write_xes": "engine.simulation.eventlog",
}
"""Public name -> module: loaded on first use, so that ``import engine.simulation`` (and the
command line) does not pull numpy and matplotlib in before they are needed."""


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'engine.simulation' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
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
]
