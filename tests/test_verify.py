"""``verify``: sampled simulated cases replayed through the runtime, for any scenario."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from engine.cli import app
from engine.errors import InvalidArgument
from engine.simulation.scenario import load_scenario, load_variants
from engine.simulation.verify import not_replayable, verify

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
runner = CliRunner()


def test_sampled_cases_of_the_example_replay_identically() -> None:
    checked = verify(load_scenario(EXAMPLES / "claims.scenario.yaml"), sample=6, seed=3)
    assert len(checked.outcomes) == 6
    assert checked.ok, checked.summary()
    assert "6 sampled cases replayed through the runtime, 6 identical" in checked.summary()


def test_hypotheses_that_change_the_definitions_are_not_replayable() -> None:
    variants = {s.variant: s for s in load_variants(EXAMPLES / "claims-whatif.scenario.yaml")}
    assert not_replayable(variants["base"]) == []
    assert not_replayable(variants["long days"]) == []  # resource calendars only
    assert not_replayable(variants["no wait-time credit"]) == [
        "process 'claim': the scenario overrides case settings"
    ]
    [reason] = not_replayable(variants["assess fewer claims"])
    assert "gateway 'Stage_3_entry' has conditions" in reason
    with pytest.raises(InvalidArgument, match="cannot be replayed through the runtime"):
        verify(variants["no wait-time credit"])


def test_verify_refuses_an_empty_sample() -> None:
    with pytest.raises(InvalidArgument, match="sample must be at least 1"):
        verify(load_scenario(EXAMPLES / "claims.scenario.yaml"), sample=0)


def test_cli_verify_replays_each_variant_or_says_why_not(tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        [
            "simulate",
            str(EXAMPLES / "claims-whatif.scenario.yaml"),
            "--variant",
            "base",
            "--variant",
            "no wait-time credit",
            "--horizon",
            "10d",
            "--replications",
            "1",
            "--no-xes",
            "--out",
            str(tmp_path),
            "--verify",
            "3",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "verify Claims what-if (base): 3 sampled cases replayed" in result.output
    assert "verify Claims what-if (no wait-time credit): skipped" in result.output
