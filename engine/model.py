"""The immutable definition model.

A process is written in YAML or BPMN; either way it ends as one :class:`ProcessDefinition`.
The case-level part (:class:`ProcessModel`: stages, actions, settings, calendars) is plain
frozen data and compares by value, so ``YAML -> model`` and ``YAML -> BPMN -> model`` can be
checked for equality. The executable part (the BPMN XML and the SpiffWorkflow spec parsed
from it) hangs off :class:`ProcessDefinition` and takes no part in equality.

Runtime state never lives here (see ``engine.runtime``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from enum import StrEnum
from typing import Any

WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class DueUnit(StrEnum):
    MINUTES = "minutes"
    HOURS = "hours"
    DAYS = "days"


@dataclass(frozen=True)
class DueRule:
    """A duration such as ``4h``, ``2d``, ``PT4H``, ``3 working days``, ``6 working hours``.

    ``minutes`` is the length in minutes for minute/hour units, and for day units the number of
    days times 24*60 (wall clock); the runtime converts days to working days with a calendar.
    ``working`` is True when the text said "working" explicitly. ``text`` is the normalised
    spelling (used when compiling back to BPMN), so two rules are equal when they mean the same.
    """

    amount: int
    unit: DueUnit
    working: bool = False

    @property
    def text(self) -> str:
        if self.working:
            word = {DueUnit.MINUTES: "minute", DueUnit.HOURS: "hour", DueUnit.DAYS: "day"}
            return f"{self.amount} working {word[self.unit]}{'s' if self.amount != 1 else ''}"
        short = {DueUnit.MINUTES: "m", DueUnit.HOURS: "h", DueUnit.DAYS: "d"}
        return f"{self.amount}{short[self.unit]}"

    @property
    def total_minutes(self) -> int:
        """Length as wall-clock minutes (days = 24 h)."""
        factor = {DueUnit.MINUTES: 1, DueUnit.HOURS: 60, DueUnit.DAYS: 24 * 60}
        return self.amount * factor[self.unit]

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class WorkingPeriod:
    """One working interval on a weekday (0 = Monday), local time of the calendar."""

    weekday: int
    start: time
    end: time


@dataclass(frozen=True)
class CalendarDef:
    """A working calendar: weekly hours in a time zone, holiday dates, optional country."""

    name: str
    timezone: str = "UTC"
    periods: tuple[WorkingPeriod, ...] = ()
    holidays: tuple[date, ...] = ()
    country: str | None = None
    subdivision: str | None = None


def office_calendar() -> CalendarDef:
    """The built-in ``office`` calendar: Monday to Friday 09:00-17:00 UTC."""
    return CalendarDef(
        name="office",
        timezone="UTC",
        periods=tuple(WorkingPeriod(d, time(9), time(17)) for d in range(5)),
    )


BUILTIN_CALENDARS: dict[str, CalendarDef] = {"office": office_calendar()}


@dataclass(frozen=True)
class ActionDef:
    """An action type of a process.

    ``flow=False`` keeps it out of the flow: it exists only to be launched by hand
    (``manual_launch`` must then be true). ``subcase`` makes the step a flow step that starts a
    sub-case of that process and waits for it (C1, SC1).
    """

    id: str
    title: str
    instructions: str | None = None
    due: DueRule | None = None
    manual_launch: bool = False
    flow: bool = True
    robot: bool = False
    queue: str | None = None
    sop_url: str | None = None
    subcase: str | None = None


@dataclass(frozen=True)
class StageDef:
    """A stage: its actions run in order, or all at once when ``parallel``.

    ``condition`` is evaluated when the stage starts; false skips the stage (RW3).
    """

    name: str
    actions: tuple[ActionDef, ...]
    condition: str | None = None
    parallel: bool = False


@dataclass(frozen=True)
class EmailRoute:
    """A mailbox that starts cases of this process (C1, SC4)."""

    mailbox: str
    enabled: bool = True
    test_mode: bool = False


@dataclass(frozen=True)
class ScheduleDef:
    """C1 "automatically on a schedule": a case of the process is created and submitted at
    ``first`` and then every ``every`` (wall-clock: ``1d`` is 24 hours; a "working" rule is
    refused), by the engine's ``tick()``. ``first`` is timezone-aware (UTC). ``title`` is the
    title of the cases it creates."""

    every: DueRule
    first: datetime
    title: str | None = None


class RecordsCount(StrEnum):
    HIDDEN = "hidden"
    SHOWN = "shown"
    EDITABLE = "editable"


@dataclass(frozen=True)
class CaseSettings:
    """Case-level settings of SPEC.md's table."""

    due: DueRule | None = None
    calendar: str | None = None
    add_wait_time_to_due_date: bool = False
    allow_title_edit: bool = False
    allow_due_date_override: bool = False
    feedback_window: DueRule | None = None
    send_automated_emails: bool = True
    records_count: RecordsCount = RecordsCount.HIDDEN
    more_info_reasons: tuple[str, ...] = ()
    subcases: tuple[str, ...] = ()
    defect_categories: tuple[str, ...] = ()
    sop_url: str | None = None
    email_routes: tuple[EmailRoute, ...] = ()
    calendar_required: bool = False
    keep_with_me: bool = False
    keep_actions_with_me: bool = False
    queue: str | None = None
    required_contacts: tuple[str, ...] = ()
    schedules: tuple[ScheduleDef, ...] = ()


DATA_FIELD_TYPES: tuple[str, ...] = ("text", "number", "boolean", "date")
"""Types a smart-card data field may declare (V16)."""


@dataclass(frozen=True)
class DataField:
    """A custom data field of the case, shown as a smart card (V16).

    ``name`` is the key of the value in the case data; ``type`` one of
    :data:`DATA_FIELD_TYPES`; ``label`` the caption shown (the name when absent).
    """

    name: str
    type: str
    label: str | None = None
    required: bool = False


@dataclass(frozen=True)
class ProcessModel:
    """Everything a case needs to know about its process, as plain comparable data."""

    id: str
    version: int
    name: str
    customer: str | None = None
    contract: str | None = None
    service: str | None = None
    settings: CaseSettings = field(default_factory=CaseSettings)
    stages: tuple[StageDef, ...] = ()
    calendars: tuple[CalendarDef, ...] = ()
    data_fields: tuple[DataField, ...] = ()

    # -- lookups -----------------------------------------------------------------------
    def calendar(self, name: str) -> CalendarDef | None:
        for cal in self.calendars:
            if cal.name == name:
                return cal
        return BUILTIN_CALENDARS.get(name)

    def action(self, action_id: str) -> ActionDef | None:
        for stage in self.stages:
            for act in stage.actions:
                if act.id == action_id:
                    return act
        return None

    def stage_of(self, action_id: str) -> int | None:
        """Stage number (from 1) holding the action type."""
        for number, stage in enumerate(self.stages, start=1):
            if any(a.id == action_id for a in stage.actions):
                return number
        return None

    def all_actions(self) -> tuple[ActionDef, ...]:
        return tuple(a for s in self.stages for a in s.actions)


@dataclass(frozen=True)
class ProcessDefinition:
    """A deployed, executable process version.

    ``model`` is the case-level description; ``bpmn`` the BPMN 2.0 XML the runtime executes
    (compiled from YAML, or as written); ``spec`` and ``subprocess_specs`` SpiffWorkflow's
    parsed specs; ``source`` the file it came from; ``digest`` a hash of the source content,
    used to refuse redeploying the same id and version with different content.
    ``task_stages`` maps BPMN task ids to stage numbers and ``stage_entries`` gives, for
    each stage number, the BPMN element id of its entry task (rework resets there).
    ``task_actions`` maps BPMN task ids to action type ids.
    """

    model: ProcessModel
    bpmn: bytes = field(compare=False, repr=False)
    spec: Any = field(compare=False, repr=False, default=None)
    subprocess_specs: dict[str, Any] = field(compare=False, repr=False, default_factory=dict)
    source: str = field(compare=False, default="")
    digest: str = field(compare=False, default="")
    task_actions: dict[str, str] = field(compare=False, repr=False, default_factory=dict)
    task_stages: dict[str, int] = field(compare=False, repr=False, default_factory=dict)
    stage_entries: dict[int, str] = field(compare=False, repr=False, default_factory=dict)

    @property
    def id(self) -> str:
        return self.model.id

    @property
    def version(self) -> int:
        return self.model.version

    @property
    def name(self) -> str:
        return self.model.name

    @property
    def key(self) -> tuple[str, int]:
        return (self.model.id, self.model.version)
