"""What one simulation run produces: a columnar log per replication.

The kernel appends to these arrays while it runs (compact ``array`` columns, so 100,000 cases
fit in a few tens of MB); KPIs, event logs, plots and the report are all computed from them
afterwards. Times are float seconds since the Unix epoch (UTC); ``nan`` means "not reached
before the end of the run".
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass, field
from datetime import UTC, datetime

HOLD_INDEX: dict[str, int] = {"more_info": 0, "until": 1, "paused": 2}
"""Column of each hold kind in the per-case hold arrays."""


def _floats() -> array[float]:
    return array("d")


def _ints() -> array[int]:
    return array("q")


@dataclass
class ActivityLog:
    """One row per action that started (the event log): indexes into the lookup lists.

    ``processing`` is the working time the resource spent on it (its calendar's hours);
    ``end - start - processing`` is time the action stood still off the calendar.
    ``outcome``: 0 completed, 1 failed by a robot (S4), 2 refused by a robot (S3),
    3 closed by a rework (RW8) or cancelled unfinished at the end.
    """

    case: array[int] = field(default_factory=_ints)
    activity: array[int] = field(default_factory=_ints)
    enable: array[float] = field(default_factory=_floats)
    start: array[float] = field(default_factory=_floats)
    end: array[float] = field(default_factory=_floats)
    resource: array[int] = field(default_factory=_ints)
    processing: array[float] = field(default_factory=_floats)
    outcome: array[int] = field(default_factory=_ints)

    def __len__(self) -> int:
        return len(self.case)


@dataclass
class CaseLog:
    """One row per case (top-level cases and sub-cases), indexed by case number.

    ``parent`` is -1 for a top-level case. ``due`` is the final due date (after H4 pauses),
    nan without an SLA. ``hold`` holds three columns per case (``HOLD_INDEX``): seconds spent
    Waiting in each kind; ``sla_paused`` the seconds the due date moved out (H4; wall-clock:
    the due date after the hold minus the one before).
    ``reworks`` counts reworks of the case. ``subcase_wait`` is the time its flow waited for
    sub-cases: flow steps that start one and wait for it, and the wait between the end of the
    flow and the end of the last open sub-case (SC1).
    """

    process: array[int] = field(default_factory=_ints)
    parent: array[int] = field(default_factory=_ints)
    arrival: array[float] = field(default_factory=_floats)
    end: array[float] = field(default_factory=_floats)
    due: array[float] = field(default_factory=_floats)
    hold: array[float] = field(default_factory=_floats)
    sla_paused: array[float] = field(default_factory=_floats)
    reworks: array[int] = field(default_factory=_ints)
    subcase_wait: array[float] = field(default_factory=_floats)

    def __len__(self) -> int:
        return len(self.process)


@dataclass
class ResourceLog:
    """Per resource (one row per individual, ``pool`` its pool name): busy working seconds
    and the working seconds its calendar offered between the run's start and end."""

    name: list[str] = field(default_factory=list)
    pool: list[str] = field(default_factory=list)
    busy: array[float] = field(default_factory=_floats)
    available: array[float] = field(default_factory=_floats)


@dataclass
class ReplicationLog:
    """Everything one replication produced.

    ``activities``/``processes`` are the lookup lists for the integer columns (activity
    labels as written to event logs, process ids). ``wip_time``/``wip_value`` are the change
    points of the number of open top-level cases. ``traces`` holds, when asked for, the
    runtime commands each case went through (see :mod:`engine.simulation.trace`).
    """

    replication: int
    seed: int
    start: float
    end: float
    activities: list[str] = field(default_factory=list)
    processes: list[str] = field(default_factory=list)
    acts: ActivityLog = field(default_factory=ActivityLog)
    cases: CaseLog = field(default_factory=CaseLog)
    resources: ResourceLog = field(default_factory=ResourceLog)
    wip_time: array[float] = field(default_factory=_floats)
    wip_value: array[int] = field(default_factory=_ints)
    traces: dict[int, list[tuple[float, str, dict[str, object]]]] = field(default_factory=dict)


@dataclass
class SimulationResult:
    """All replications of one scenario variant."""

    scenario: str
    variant: str
    replications: list[ReplicationLog]
    wall_seconds: float = 0.0


def to_datetime(seconds: float) -> datetime:
    """Epoch seconds to an aware UTC datetime."""
    return datetime.fromtimestamp(seconds, UTC)
