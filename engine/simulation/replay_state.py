"""The state of one replay (see :mod:`engine.simulation.replay`): the runtime and its clock,
the simulated cases matched to runtime cases, what the steps left for later steps, and the
disagreements found so far."""

from __future__ import annotations

from datetime import datetime
from typing import NoReturn

from engine.clock import ManualClock
from engine.facade import Engine
from engine.simulation.replay_outcome import CaseCheck, Disagreement, ReplayOutcome
from engine.simulation.replay_trace import Step, describe_step, family_of
from engine.simulation.results import ReplicationLog, to_datetime

__all__ = ["ReplayAbort", "ReplayState"]


class ReplayAbort(Exception):
    """The runtime refused a step: the replay of the case stops there."""


class ReplayState:
    """The state of one replay of top-level case ``case_index`` and its sub-cases."""

    def __init__(
        self, engine: Engine, clock: ManualClock, log: ReplicationLog, case_index: int
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.log = log
        self.top = case_index
        self.family = family_of(log, case_index)
        missing = [i for i in self.family if i not in log.traces]
        if missing:
            raise ValueError(f"cases {missing} have no trace: run the replication with trace=True")
        self.refs: dict[int, str] = {}
        """Simulated case index -> runtime case reference, once matched."""
        self.extra_data: dict[int, dict[str, object]] = {}
        """Case data a runtime case lacks, entered with its next ``complete_action``."""
        self.started: dict[tuple[int, str], str] = {}
        """(case, action type) -> the runtime action its ``start`` step started."""
        self.woken: set[str] = set()
        """Cases whose ``until`` hold the ``tick()`` of the current instant woke."""
        self.disagreements: list[Disagreement] = []
        self.commands = 0
        self.ops: set[str] = set()
        self.now: datetime = clock.now()

    def note(self, index: int, step: Step | None, kernel: str, runtime: str) -> None:
        """Record a disagreement about case ``index`` (at ``step``, or after the run)."""
        self.disagreements.append(
            Disagreement(
                case=index,
                ref=self.refs.get(index),
                at=to_datetime(step[0]) if step else None,
                step=describe_step(step) if step else "after the run",
                kernel=kernel,
                runtime=runtime,
            )
        )

    def stop(self, index: int, step: Step, kernel: str, runtime: str) -> NoReturn:
        """Record a disagreement that ends the replay (raises :class:`ReplayAbort`)."""
        self.note(index, step, kernel, runtime)
        raise ReplayAbort

    def outcome(self, checks: tuple[CaseCheck, ...]) -> ReplayOutcome:
        """The outcome of the replay with the per-case ``checks`` made."""
        return ReplayOutcome(
            case=self.top,
            checks=checks,
            disagreements=tuple(self.disagreements),
            commands=self.commands,
            ops=frozenset(self.ops),
        )
