"""The immutable scenario model: what an analyst asks the simulator to run.

A scenario (``schemas/scenario.schema.json``, loaded by :mod:`engine.simulation.scenario`, or
imported from Prosimos by :mod:`engine.simulation.prosimos`) names the processes to run and
gives the stochastic parameters around them. Everything here is frozen plain data; the
simulator compiles it into a fast executor (:mod:`engine.simulation.kernel`) and never
changes it.

Units: every time value is in **seconds** (floats); every datetime is timezone-aware UTC.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from engine.model import CalendarDef, ProcessModel
from engine.simulation.distributions import Distribution
from engine.simulation.graph import FlowGraph

ARRIVAL_GAPS: tuple[str, ...] = ("working", "wall")
"""How inter-arrival times count against an arrival calendar (:class:`Arrivals`)."""

HOLD_KINDS: tuple[str, ...] = ("more_info", "until", "paused")
"""Hold kinds a scenario may draw (``HoldKind`` values, H1)."""


@dataclass(frozen=True)
class DataGenerator:
    """Generates one case data field at arrival, so that stage conditions branch.

    Exactly one of ``distribution`` (a number; ``integer`` rounds it), ``choices`` (value ->
    weight) or ``probability`` (a boolean, true with that probability) is set; ``value`` is a
    constant when all three are absent.
    """

    name: str
    distribution: Distribution | None = None
    integer: bool = False
    choices: tuple[tuple[object, float], ...] = ()
    probability: float | None = None
    value: object = None


@dataclass(frozen=True)
class HoldSpec:
    """After an action of ``after`` completes (any action when empty), with ``probability``
    the case goes Waiting with hold ``kind`` for a sampled ``duration`` (H1-H9).

    ``more_info`` ends by a reply (H9) and pauses the SLA when the process adds wait time to
    the due date (H4); ``until`` wakes at its date (H6); ``paused`` ends when a person sets
    the case back to To Do (H7).
    """

    kind: str
    probability: float
    duration: Distribution
    after: tuple[str, ...] = ()


@dataclass(frozen=True)
class ReworkSpec:
    """After action ``after`` completes, with ``probability``, rework the case from the start
    of ``stage`` (conditions re-evaluated, RW3) or from action ``action`` (RW1, RW8)."""

    after: str
    probability: float
    stage: int | None = None
    action: str | None = None


@dataclass(frozen=True)
class SubcaseSpawn:
    """After action ``after`` completes, with ``probability`` a sub-case of ``process`` is
    created (SC1-SC5); the parent cannot be resolved until it is finished (SC1)."""

    after: str
    process: str
    probability: float


@dataclass(frozen=True)
class RobotBehaviour:
    """How a robot treats an action: fails it (S4) or refuses it (S3) with these rates.

    A failed or refused action goes back to To Do for a person of a pool that does it.
    """

    failure: float = 0.0
    refusal: float = 0.0


@dataclass(frozen=True)
class ProcessParams:
    """The stochastic parameters of one process of the scenario.

    ``durations``: action key -> processing time (working time of the resource's calendar).
    ``pool_durations``: action key -> pool name -> processing time when that pool does it
    (e.g. Prosimos's per-resource durations); ``durations`` for the other pools.
    ``branches``: gateway element id -> ((flow id, probability), ...) (a scenario file may
    name them by stage name and outcome, resolved to ids on loading); a gateway listed here
    branches by probability, others by their conditions on case data.
    ``robots``: action key -> behaviour; ``robot_default`` for robot actions not listed.
    ``settings``: overrides of the definition's case settings (what-if: e.g.
    ``{"add_wait_time_to_due_date": False}``), applied before running.
    """

    process: str
    durations: dict[str, Distribution] = field(default_factory=dict)
    pool_durations: dict[str, dict[str, Distribution]] = field(default_factory=dict)
    data: tuple[DataGenerator, ...] = ()
    branches: dict[str, tuple[tuple[str, float], ...]] = field(default_factory=dict)
    holds: tuple[HoldSpec, ...] = ()
    rework: tuple[ReworkSpec, ...] = ()
    subcases: tuple[SubcaseSpawn, ...] = ()
    robots: dict[str, RobotBehaviour] = field(default_factory=dict)
    robot_default: RobotBehaviour = RobotBehaviour()
    settings: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class ResourcePool:
    """``count`` interchangeable resources (people, or robots when ``robot``), working the
    hours of ``calendar`` (None: around the clock), able to do ``actions`` (action keys)."""

    name: str
    count: int
    actions: tuple[str, ...]
    calendar: str | None = None
    robot: bool = False
    cost_per_hour: float = 0.0


@dataclass(frozen=True)
class Arrivals:
    """New cases of ``process``: inter-arrival times from ``interarrival``.

    With a ``calendar`` cases arrive only in its working hours: ``gaps="working"`` counts each
    inter-arrival time in the calendar's working time (the rate inside the hours is
    1/mean); ``gaps="wall"`` adds it in wall-clock time and moves an arrival outside the
    hours to the next opening, as Prosimos does (so a case arrives at every opening).
    """

    process: str
    interarrival: Distribution
    calendar: str | None = None
    gaps: str = "working"


@dataclass(frozen=True)
class SimProcess:
    """One executable process as the simulator sees it.

    ``graph`` is read from the very BPMN the runtime executes (or from a foreign BPMN for
    Prosimos imports). ``model`` is the case-level definition (None for foreign BPMN: no
    SLA, stages or case settings). ``task_actions`` maps task element ids to action keys
    (the keys of durations and resource pools); ``labels`` maps action keys to the activity
    name written in event logs. ``task_stages``/``stage_entries`` as on
    :class:`~engine.model.ProcessDefinition`.
    """

    id: str
    graph: FlowGraph
    model: ProcessModel | None
    task_actions: dict[str, str]
    labels: dict[str, str]
    task_stages: dict[str, int] = field(default_factory=dict)
    stage_entries: dict[int, str] = field(default_factory=dict)
    source: str = ""


@dataclass(frozen=True)
class Scenario:
    """A complete, validated simulation scenario (one variant).

    Exactly one of ``cases`` (number of arriving top-level cases) and ``horizon`` (seconds
    after ``start``) bounds the run; with ``cases`` the run goes on until they all finish.
    ``calendars`` holds every calendar the scenario names (resource pools, arrivals) and the
    processes' own. ``file`` is where the scenario came from (for messages).
    """

    name: str
    processes: dict[str, SimProcess]
    params: dict[str, ProcessParams]
    arrivals: Arrivals
    resources: tuple[ResourcePool, ...]
    calendars: dict[str, CalendarDef]
    start: datetime
    cases: int | None = None
    horizon: float | None = None
    seed: int = 0
    replications: int = 1
    file: str = ""
    variant: str = "base"
