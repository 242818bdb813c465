"""Check a scenario's simulated cases against the real runtime (``caseloom simulate --verify``).

:func:`verify` runs replication 0 of a scenario with traces, samples finished top-level
cases, and replays each (with its sub-cases) through a fresh in-memory
:class:`engine.Engine` on a :class:`~engine.clock.ManualClock`
(:func:`engine.simulation.replay.replay_case`): the completed actions, due dates and SLA
outcomes must be identical. This is the test suite's equivalence check, offered for an
analyst's own scenario.

Only scenarios that run the deployed definitions unchanged can be replayed: a Prosimos import
has no case model, and ``settings`` overrides, scenario calendars that replace a process
calendar, or branch probabilities on gateways that have conditions make the simulator run a
hypothesis the runtime would not (that is what what-if variants are for). Such scenarios are
refused with the reason.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from engine.builder.loader import load_definition
from engine.errors import InvalidArgument
from engine.simulation.api import replication_seed
from engine.simulation.kernel import run_replication
from engine.simulation.replay import ReplayOutcome, replay_case
from engine.simulation.results import ReplicationLog, to_datetime
from engine.simulation.scenario_model import Scenario


@dataclass(frozen=True)
class Verification:
    """The replays of ``len(outcomes)`` sampled cases of replication 0 of ``scenario``."""

    scenario: str
    variant: str
    outcomes: tuple[ReplayOutcome, ...]

    @property
    def ok(self) -> bool:
        return all(o.ok for o in self.outcomes)

    def summary(self) -> str:
        same = sum(1 for o in self.outcomes if o.ok)
        head = (
            f"verify {self.scenario} ({self.variant}): {len(self.outcomes)} sampled cases "
            f"replayed through the runtime, {same} identical"
        )
        details = [o.report() for o in self.outcomes if not o.ok]
        return "\n".join([head, *details])


def not_replayable(scenario: Scenario) -> list[str]:
    """Why the runtime cannot replay ``scenario``'s cases (empty when it can)."""
    reasons = []
    for pid, process in scenario.processes.items():
        if process.model is None:
            reasons.append(f"process {pid!r} is not a caseloom definition (e.g. Prosimos BPMN)")
            continue
        params = scenario.params.get(pid)
        if params is not None and params.settings:
            reasons.append(f"process {pid!r}: the scenario overrides case settings")
        deployed = load_definition(process.source, known_processes=scenario.processes).model
        for calendar in process.model.calendars:
            own = deployed.calendar(calendar.name)
            if own is not None and own != calendar:
                reasons.append(
                    f"process {pid!r}: the scenario's calendar {calendar.name!r} replaces the "
                    "definition's"
                )
        if params is not None:
            for gateway in params.branches:
                node = process.graph.nodes[gateway]
                if any(flow.condition for flow in node.outgoing):
                    reasons.append(
                        f"process {pid!r}: gateway {gateway!r} has conditions but the scenario "
                        "branches it by probability"
                    )
    return reasons


def verify(scenario: Scenario, *, sample: int = 20, seed: int = 0) -> Verification:
    """Replay ``sample`` finished top-level cases (chosen with ``seed``) of replication 0 of
    ``scenario`` through the runtime. :class:`InvalidArgument` when the scenario cannot be
    replayed (see :func:`not_replayable`) or ``sample`` is below 1."""
    if sample < 1:
        raise InvalidArgument(f"verify: sample must be at least 1, not {sample}")
    reasons = not_replayable(scenario)
    if reasons:
        raise InvalidArgument(
            f"scenario {scenario.name!r} ({scenario.variant}) cannot be replayed through the "
            "runtime: " + "; ".join(reasons)
        )
    log = run_replication(scenario, 0, replication_seed(scenario.seed, 0), trace=True)
    finished = [
        i
        for i in range(len(log.cases))
        if log.cases.parent[i] < 0 and log.cases.end[i] == log.cases.end[i]
    ]
    chosen = sorted(random.Random(seed).sample(finished, min(sample, len(finished))))
    sources = [p.source for p in scenario.processes.values()]
    return Verification(
        scenario.name,
        scenario.variant,
        tuple(_replay(log, index, sources) for index in chosen),
    )


def _replay(log: ReplicationLog, index: int, sources: list[str]) -> ReplayOutcome:
    from engine.clock import ManualClock
    from engine.facade import Engine

    clock = ManualClock(to_datetime(log.cases.arrival[index]))
    with Engine("sqlite:///:memory:", clock=clock) as engine:
        for source in sources:
            engine.deploy(source)
        return replay_case(engine, clock, log, index)
