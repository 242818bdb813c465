"""``simulate`` / ``simulate_variants``: overrides, replications, progress, refusals."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from engine.errors import InvalidArgument
from engine.simulation.api import replication_seed, simulate, simulate_variants
from engine.simulation.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
CLAIMS = ROOT / "examples" / "claims.scenario.yaml"
WHATIF = ROOT / "examples" / "claims-whatif.scenario.yaml"


def test_overrides_replace_the_scenarios_bounds_and_seed() -> None:
    result = simulate(CLAIMS, cases=30, replications=3, seed=9)
    assert len(result.replications) == 3
    assert [r.seed for r in result.replications] == [replication_seed(9, r) for r in range(3)]
    for log in result.replications:
        top = [i for i in range(len(log.cases)) if log.cases.parent[i] == -1]
        assert len(top) == 30
    assert result.scenario == "Claims baseline" and result.variant == "base"


def test_horizon_override_stops_the_clock() -> None:
    result = simulate(CLAIMS, horizon=2 * 86400.0, replications=1)
    log = result.replications[0]
    assert log.end == log.start + 2 * 86400.0
    assert max(log.cases.arrival) <= log.end


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"cases": 10, "horizon": 3600.0}, "cases or horizon, not both"),
        ({"cases": 0}, "cases must be at least 1"),
        ({"horizon": -1.0}, "horizon must be positive"),
        ({"replications": 0}, "replications must be at least 1"),
    ],
)
def test_bad_overrides_are_refused_naming_the_scenario(
    options: dict[str, float], message: str
) -> None:
    scenario = load_scenario(CLAIMS)
    with pytest.raises(InvalidArgument, match=message) as err:
        simulate(scenario, **options)  # type: ignore[arg-type]
    assert "Claims baseline" in str(err.value)


def test_what_if_runs_every_variant_with_the_same_overrides() -> None:
    results = simulate_variants(WHATIF, horizon=86400.0, replications=1)
    assert [r.variant for r in results] == [
        "base",
        "one more clerk",
        "one more investigator",
        "no wait-time credit",
        "long days",
        "assess fewer claims",
    ]
    assert all(r.replications[0].end == r.replications[0].start + 86400.0 for r in results)


def test_progress_bar_counts_finished_cases(monkeypatch: pytest.MonkeyPatch) -> None:
    stream = io.StringIO()
    monkeypatch.setattr("sys.stderr", stream)
    simulate(CLAIMS, cases=20, replications=2, progress=True)
    text = stream.getvalue()
    assert "40/40 cases" in text


def test_progress_bar_counts_simulated_days_with_a_horizon(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stream = io.StringIO()
    monkeypatch.setattr("sys.stderr", stream)
    simulate(CLAIMS, horizon=3 * 86400.0, replications=2, progress=True)
    assert "6/6 days" in stream.getvalue()


def test_the_progress_bar_does_not_change_the_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stderr", io.StringIO())
    quiet = simulate(CLAIMS, horizon=4 * 86400.0, replications=1, progress=False)
    shown = simulate(CLAIMS, horizon=4 * 86400.0, replications=1, progress=True)
    assert list(quiet.replications[0].acts.end) == list(shown.replications[0].acts.end)
    # nan (still open) compares unequal to itself: compare the texts
    assert [repr(x) for x in quiet.replications[0].cases.end] == [
        repr(x) for x in shown.replications[0].cases.end
    ]
