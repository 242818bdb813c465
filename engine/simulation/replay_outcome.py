"""What a replay of simulated cases through the runtime ends with (see
:mod:`engine.simulation.replay`): per case a :class:`CaseCheck`, per difference a
:class:`Disagreement`, and for the whole family of one top-level case a
:class:`ReplayOutcome`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

__all__ = ["CaseCheck", "Disagreement", "ReplayOutcome"]


@dataclass(frozen=True)
class Disagreement:
    """One difference between the kernel and the runtime.

    ``case`` is the simulator's case index, ``ref`` the runtime's reference (None when the
    runtime has no such case), ``at`` the instant, ``step`` the trace step (or the check)
    concerned, ``kernel`` what the kernel did or assumed and ``runtime`` what the runtime did.
    """

    case: int
    ref: str | None
    at: datetime | None
    step: str
    kernel: str
    runtime: str

    def __str__(self) -> str:
        when = self.at.isoformat() if self.at else "end"
        return (
            f"case {self.case} ({self.ref or 'no runtime case'}) at {when}, {self.step}: "
            f"kernel: {self.kernel}; runtime: {self.runtime}"
        )


@dataclass(frozen=True)
class CaseCheck:
    """What the kernel and the runtime ended with for one case of the family."""

    case: int
    ref: str
    process: str
    kernel_actions: tuple[str, ...]
    runtime_actions: tuple[str, ...]
    kernel_due: datetime | None
    runtime_due: datetime | None
    kernel_end: datetime | None
    runtime_resolved: datetime | None

    @property
    def kernel_sla_met(self) -> bool | None:
        """Resolved at or before due in the simulation; None without an SLA or resolution."""
        return _sla_met(self.kernel_end, self.kernel_due)

    @property
    def runtime_sla_met(self) -> bool | None:
        """Resolved at or before due in the runtime; None without an SLA or resolution."""
        return _sla_met(self.runtime_resolved, self.runtime_due)


@dataclass(frozen=True)
class ReplayOutcome:
    """The replay of one top-level case (index ``case``) and its sub-cases."""

    case: int
    checks: tuple[CaseCheck, ...]
    disagreements: tuple[Disagreement, ...]
    commands: int
    ops: frozenset[str] = field(default_factory=frozenset)
    """The :func:`~engine.simulation.replay_trace.step_features` of the steps replayed (up
    to a disagreement that stopped the replay)."""

    @property
    def ok(self) -> bool:
        return not self.disagreements

    def report(self) -> str:
        """The disagreements, one per line (empty when none)."""
        return "\n".join(str(d) for d in self.disagreements)


def _sla_met(end: datetime | None, due: datetime | None) -> bool | None:
    if end is None or due is None:
        return None
    return end <= due
