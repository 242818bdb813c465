"""``simulate``: run a scenario's replications and return every log.

Replication ``r`` (from 0) of a scenario with seed ``s`` draws from ``random.Random(s * 1000 +
r)``, so a run is reproducible from the scenario alone and replications are independent of how
many there are.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Sequence
from pathlib import Path

from engine.errors import InvalidArgument
from engine.simulation.kernel import DAY, run_replication
from engine.simulation.progress import Progress
from engine.simulation.results import SimulationResult
from engine.simulation.scenario import load_scenario, load_variants
from engine.simulation.scenario_model import Scenario


def replication_seed(seed: int, replication: int) -> int:
    """The seed of replication ``replication`` (from 0) of a scenario seeded ``seed``."""
    return seed * 1000 + replication


def _override(
    scenario: Scenario,
    cases: int | None,
    horizon: float | None,
    replications: int | None,
    seed: int | None,
) -> Scenario:
    """``scenario`` with the bounds, replications and seed given to :func:`simulate`."""
    if cases is not None and horizon is not None:
        raise InvalidArgument(f"scenario {scenario.name!r}: give cases or horizon, not both")
    if cases is not None and (isinstance(cases, bool) or cases < 1):
        raise InvalidArgument(f"scenario {scenario.name!r}: cases must be at least 1, not {cases}")
    if horizon is not None and not horizon > 0:
        raise InvalidArgument(
            f"scenario {scenario.name!r}: horizon must be positive, not {horizon}"
        )
    if replications is not None and (isinstance(replications, bool) or replications < 1):
        raise InvalidArgument(
            f"scenario {scenario.name!r}: replications must be at least 1, not {replications}"
        )
    if cases is not None:
        scenario = dataclasses.replace(scenario, cases=cases, horizon=None)
    if horizon is not None:
        scenario = dataclasses.replace(scenario, horizon=horizon, cases=None)
    if replications is not None:
        scenario = dataclasses.replace(scenario, replications=replications)
    if seed is not None:
        scenario = dataclasses.replace(scenario, seed=seed)
    return scenario


def simulate(
    scenario: Scenario | str | Path,
    *,
    variant: str | None = None,
    cases: int | None = None,
    horizon: float | None = None,
    replications: int | None = None,
    seed: int | None = None,
    progress: bool | None = False,
    trace: bool = False,
) -> SimulationResult:
    """Run every replication of ``scenario`` (a :class:`Scenario` or a scenario file).

    ``cases``/``horizon`` (seconds), ``replications`` and ``seed`` override the scenario's.
    ``progress``: draw a progress bar on stderr (None: only when stderr is a terminal).
    ``trace``: record the runtime commands of every case (for replays; costs memory).
    A bad scenario raises :class:`~engine.errors.DefinitionError` before anything runs; bad
    overrides raise :class:`~engine.errors.InvalidArgument`.
    """
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario, variant=variant)
    scenario = _override(scenario, cases, horizon, replications, seed)
    if scenario.cases is not None:
        bar = Progress(scenario.replications * scenario.cases, enabled=progress)
    else:
        days = math.ceil((scenario.horizon or 0.0) / DAY)
        bar = Progress(scenario.replications * days, enabled=progress, unit="days")
    logs = []
    began = time.perf_counter()
    try:
        for r in range(scenario.replications):
            logs.append(
                run_replication(
                    scenario,
                    r,
                    replication_seed(scenario.seed, r),
                    trace=trace,
                    on_progress=bar.update if bar.enabled else None,
                )
            )
    finally:
        bar.close()
    return SimulationResult(
        scenario=scenario.name,
        variant=scenario.variant,
        replications=logs,
        wall_seconds=time.perf_counter() - began,
    )


def simulate_variants(
    scenarios: str | Path | Sequence[Scenario],
    *,
    cases: int | None = None,
    horizon: float | None = None,
    replications: int | None = None,
    seed: int | None = None,
    progress: bool | None = False,
) -> list[SimulationResult]:
    """Run the base scenario and each of its variants (what-if), in order, with the same
    overrides; a scenario file is checked whole (every variant) before anything runs."""
    if isinstance(scenarios, str | Path):
        scenarios = load_variants(scenarios)
    return [
        simulate(
            s,
            cases=cases,
            horizon=horizon,
            replications=replications,
            seed=seed,
            progress=progress,
        )
        for s in scenarios
    ]
