"""Read the case model (:class:`~engine.model.ProcessModel`) back from a BPMN document.

The mapping is described in ``docs/bpmn-mapping.md``; :mod:`engine.builder.compiler` writes
it. A process carrying ``caseloom:case`` in its ``bpmn:extensionElements`` is read from its
extensions (stages, actions, settings, schedules, calendars, data fields), which are
validated: every problem found is collected, with element id and line, into one
:class:`~engine.errors.DefinitionError`.
A plain BPMN process (no caseloom extensions) becomes a one-stage model whose actions are its
tasks.

This module also holds the XML vocabulary (attribute names per model field) shared with the
compiler, so writer and reader cannot drift apart.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
from lxml import etree

from engine.builder.namespaces import BPMN_NS, CASELOOM_NS, bpmn, caseloom
from engine.builder.yaml_definition import schedule_interval, schedule_start
from engine.calendars import format_time_range, parse_time_range
from engine.durations import DurationError, parse_due, parse_wall_duration
from engine.errors import DefinitionError, Problem, ProblemCollector
from engine.expressions import ExpressionError, parse_condition
from engine.model import (
    BUILTIN_CALENDARS,
    DATA_FIELD_TYPES,
    WEEKDAYS,
    ActionDef,
    CalendarDef,
    CaseSettings,
    DataField,
    DueRule,
    EmailRoute,
    ProcessModel,
    RecordsCount,
    ScheduleDef,
    StageDef,
    WorkingPeriod,
)

__all__ = [
    "ACTION_ATTRS",
    "ACTION_HOSTS",
    "MODEL_ATTRS",
    "SETTINGS_ATTRS",
    "SETTINGS_LISTS",
    "Attr",
    "AttrKind",
    "BpmnReading",
    "format_attr",
    "format_hours",
    "format_schedule_start",
    "read_model",
    "select_process",
]

Element = etree._Element


# -- vocabulary ------------------------------------------------------------------------------


class AttrKind(StrEnum):
    """How a model value is spelled in an XML attribute."""

    TEXT = "text"
    BOOL = "bool"
    INT = "int"
    DUE = "due"
    WALL_DUE = "wall_due"
    RECORDS = "records"


@dataclass(frozen=True)
class Attr:
    """One XML attribute holding the model field ``field``."""

    xml: str
    field: str
    kind: AttrKind = AttrKind.TEXT


MODEL_ATTRS: tuple[Attr, ...] = (
    Attr("version", "version", AttrKind.INT),
    Attr("customer", "customer"),
    Attr("contract", "contract"),
    Attr("service", "service"),
)
"""Attributes of ``caseloom:case`` holding :class:`ProcessModel` fields."""

SETTINGS_ATTRS: tuple[Attr, ...] = (
    Attr("due", "due", AttrKind.DUE),
    Attr("calendar", "calendar"),
    Attr("addWaitTimeToDueDate", "add_wait_time_to_due_date", AttrKind.BOOL),
    Attr("allowTitleEdit", "allow_title_edit", AttrKind.BOOL),
    Attr("allowDueDateOverride", "allow_due_date_override", AttrKind.BOOL),
    Attr("feedbackWindow", "feedback_window", AttrKind.WALL_DUE),
    Attr("sendAutomatedEmails", "send_automated_emails", AttrKind.BOOL),
    Attr("recordsCount", "records_count", AttrKind.RECORDS),
    Attr("sopUrl", "sop_url"),
    Attr("calendarRequired", "calendar_required", AttrKind.BOOL),
    Attr("keepWithMe", "keep_with_me", AttrKind.BOOL),
    Attr("keepActionsWithMe", "keep_actions_with_me", AttrKind.BOOL),
    Attr("queue", "queue"),
)
"""Attributes of ``caseloom:case`` holding scalar :class:`CaseSettings` fields."""

SETTINGS_LISTS: dict[str, str] = {
    "moreInfoReason": "more_info_reasons",
    "defectCategory": "defect_categories",
    "requiredContact": "required_contacts",
}
"""Child elements of ``caseloom:case`` whose text is one item of a list setting."""

ACTION_ATTRS: tuple[Attr, ...] = (
    Attr("due", "due", AttrKind.DUE),
    Attr("manualLaunch", "manual_launch", AttrKind.BOOL),
    Attr("flow", "flow", AttrKind.BOOL),
    Attr("robot", "robot", AttrKind.BOOL),
    Attr("queue", "queue"),
    Attr("sopUrl", "sop_url"),
    Attr("subcase", "subcase"),
)
"""Attributes of ``caseloom:action`` holding :class:`ActionDef` fields (besides the id)."""

ACTION_ID = "actionId"
ACTION_STAGE = "stage"
ACTION_HOSTS: frozenset[str] = frozenset(
    bpmn(tag) for tag in ("userTask", "manualTask", "task", "serviceTask", "callActivity")
)
"""BPMN elements that may carry a ``caseloom:action``."""
PLAIN_TASKS: tuple[str, ...] = tuple(
    bpmn(tag) for tag in ("userTask", "manualTask", "task", "serviceTask")
)
"""Tasks that become actions of a plain BPMN process."""

ACTIVITIES: frozenset[str] = frozenset(
    bpmn(tag)
    for tag in (
        "task",
        "userTask",
        "manualTask",
        "serviceTask",
        "scriptTask",
        "sendTask",
        "receiveTask",
        "businessRuleTask",
        "callActivity",
        "subProcess",
    )
)
"""BPMN activities drawn as boxes (tasks, call activities, sub-processes)."""

FLOW_NODES: frozenset[str] = ACTIVITIES | frozenset(
    bpmn(tag)
    for tag in (
        "startEvent",
        "endEvent",
        "intermediateCatchEvent",
        "intermediateThrowEvent",
        "boundaryEvent",
        "adHocSubProcess",
        "transaction",
        "exclusiveGateway",
        "parallelGateway",
        "inclusiveGateway",
        "eventBasedGateway",
        "complexGateway",
    )
)
"""BPMN flow nodes (what a stage entry may be)."""

_DATA_FIELD_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_BOOL_WORDS = {"true": True, "1": True, "false": False, "0": False}


def format_hours(period: WorkingPeriod) -> tuple[str, str]:
    """``start``/``end`` attribute values of a working period (``24:00`` for an end at midnight).

    Raises ValueError for times that are not whole minutes (YAML and BPMN both write
    ``HH:MM``).
    """
    for value in (period.start, period.end):
        if value.second or value.microsecond or value.tzinfo is not None:
            raise ValueError(f"working hours must be whole minutes without a zone, not {value}")
    start, end = format_time_range(period.start, period.end).split("-")
    return start, end


def format_schedule_start(moment: datetime) -> str:
    """The ``first`` attribute of a ``caseloom:schedule``: ISO 8601 in UTC
    (``2026-03-02T08:00:00+00:00``). Raises ValueError for a naive date-time."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"a schedule's first date-time needs a UTC offset, not {moment}")
    return moment.astimezone(UTC).isoformat()


def format_attr(kind: AttrKind, value: Any) -> str:
    """The attribute spelling of a (non-None) model value."""
    if kind is AttrKind.BOOL:
        return "true" if value else "false"
    if kind in (AttrKind.DUE, AttrKind.WALL_DUE):
        assert isinstance(value, DueRule)
        return value.text
    if kind is AttrKind.RECORDS:
        assert isinstance(value, RecordsCount)
        return value.value
    return str(value)


# -- result ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class BpmnReading:
    """What :func:`read_model` found: the model and where its parts are in the BPMN.

    ``task_actions``: BPMN task id -> action id. ``task_stages``: BPMN flow node id -> stage
    number (from 1), for every action task and every other flow node reachable from a stage's
    entry before the next stage's entry. ``stage_entries``: stage number -> id of the stage's
    entry element (where rework restarts the stage).
    """

    model: ProcessModel
    task_actions: dict[str, str]
    task_stages: dict[str, int]
    stage_entries: dict[int, str]


# -- process selection -----------------------------------------------------------------------


def _is_executable(process: Element) -> bool:
    # SpiffWorkflow's reading: a process is executable unless it says otherwise.
    return process.get("isExecutable", "true") == "true"


def case_element(process: Element) -> Element | None:
    """The process's ``caseloom:case`` extension element, if any."""
    for ext in process.iterchildren(bpmn("extensionElements")):
        for child in ext.iterchildren(caseloom("case")):
            return child
    return None


def select_process(root: Element, file: str, process_id: str | None = None) -> Element:
    """The ``bpmn:process`` to read (see the module docs of the mapping for the rules)."""
    if root.tag != bpmn("definitions"):
        raise DefinitionError(
            Problem(
                f"not a BPMN 2.0 document: the root element is {root.tag!r}, "
                "expected bpmn:definitions",
                file=file,
                line=_line(root),
            )
        )
    processes = list(root.iterchildren(bpmn("process")))
    ids = ", ".join(repr(p.get("id")) for p in processes) or "none"
    if process_id is not None:
        for process in processes:
            if process.get("id") == process_id:
                return process
        raise DefinitionError(
            Problem(f"no bpmn:process with id {process_id!r} (processes: {ids})", file=file)
        )
    executable = [p for p in processes if _is_executable(p)]
    if not executable:
        raise DefinitionError(Problem(f"no executable bpmn:process (processes: {ids})", file=file))
    if len(executable) == 1:
        return executable[0]
    marked = [p for p in executable if case_element(p) is not None]
    if len(marked) == 1:
        return marked[0]
    if not marked:
        called = {
            call.get("calledElement")
            for p in executable
            for call in p.iter(bpmn("callActivity"))
            if call.get("calledElement") != p.get("id")
        }
        roots = [p for p in executable if p.get("id") not in called]
        if roots:
            return roots[0]
    candidates = ", ".join(repr(p.get("id")) for p in (marked or executable))
    raise DefinitionError(
        Problem(
            f"several executable processes could be the case process ({candidates}); "
            "give the process id to use",
            file=file,
        )
    )


# -- reading ---------------------------------------------------------------------------------


def read_model(
    root: Element, file: str, process_id: str | None = None, *, check_conditions: bool = True
) -> BpmnReading:
    """Read the case model of one process of a parsed BPMN document.

    ``root`` is the ``bpmn:definitions`` element. Raises one :class:`DefinitionError` listing
    every problem found. ``check_conditions=False`` leaves the sequence flows' conditions to
    the caller (the loader has :func:`engine.builder.spiff_parser.check_bpmn` check them, with
    every other expression, so that each is reported once).
    """
    process = select_process(root, file, process_id)
    problems = ProblemCollector(file)
    graph = _Graph(process, problems, check_conditions=check_conditions)
    case = case_element(process)
    if case is None:
        reading = _read_plain(process, graph, problems)
    else:
        reading = _CaseReader(process, case, graph, problems).read()
    problems.raise_if_any()
    return reading


def _line(element: Element) -> int | None:
    line: object = element.sourceline
    return line if isinstance(line, int) else None


def _owner_id(element: Element) -> str:
    """Id of the nearest BPMN element holding ``element`` (itself included)."""
    node: Element | None = element
    while node is not None:
        if isinstance(node.tag, str) and node.tag.startswith(f"{{{BPMN_NS}}}"):
            ident = node.get("id")
            if ident:
                return ident
        node = node.getparent()
    return ""


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _elements(parent: Element) -> Iterator[Element]:
    """Child elements, skipping comments and processing instructions."""
    for child in parent:
        if isinstance(child.tag, str):
            yield child


def _process_name(process: Element, fallback: str) -> str:
    name = process.get("name")
    return name if name is not None and name.strip() else fallback


def _documentation(element: Element) -> str | None:
    for doc in element.iterchildren(bpmn("documentation")):
        return doc.text or ""
    return None


class _Graph:
    """Ids, sequence flows and conditions of one process."""

    def __init__(
        self, process: Element, problems: ProblemCollector, *, check_conditions: bool = True
    ) -> None:
        self.process = process
        self.problems = problems
        self.nodes: dict[str, Element] = {}
        self.outgoing: dict[str, list[Element]] = {}
        self.incoming: dict[str, list[Element]] = {}
        for element in process.iter():
            if not isinstance(element.tag, str) or not element.tag.startswith(f"{{{BPMN_NS}}}"):
                continue
            ident = element.get("id")
            if ident is None or element is process:
                continue
            self._index(element, ident)
        if check_conditions:
            self._check_conditions()

    def _index(self, element: Element, ident: str) -> None:
        if ident in self.nodes:
            self.problems.add(
                f"duplicate element id {ident!r}", line=_line(element), element_id=ident
            )
            return
        self.nodes[ident] = element
        if element.tag == bpmn("sequenceFlow"):
            self.outgoing.setdefault(element.get("sourceRef", ""), []).append(element)
            self.incoming.setdefault(element.get("targetRef", ""), []).append(element)

    def _check_conditions(self) -> None:
        for expr in self.process.iter(bpmn("conditionExpression")):
            text = expr.text or ""
            try:
                parse_condition(text)
            except ExpressionError as err:
                self.problems.add(
                    f"invalid condition {text!r}: {err}",
                    line=_line(expr),
                    element_id=_owner_id(expr),
                )

    def is_flow_node(self, ident: str) -> bool:
        element = self.nodes.get(ident)
        return element is not None and element.tag in FLOW_NODES

    def connected(self, ident: str) -> bool:
        return bool(self.incoming.get(ident) or self.outgoing.get(ident))

    def conditions_out_of(self, ident: str) -> list[str]:
        texts = []
        for flow in self.outgoing.get(ident, []):
            for expr in flow.iterchildren(bpmn("conditionExpression")):
                texts.append((expr.text or "").strip())
        return texts

    def members(self, entries: dict[int, str]) -> dict[str, int]:
        """Flow nodes reachable from each stage entry before another entry or an end event."""
        found: dict[str, int] = {}
        stop = set(entries.values())
        for number, entry in sorted(entries.items()):
            if entry not in self.nodes:
                continue
            found.setdefault(entry, number)
            todo = [entry]
            seen = {entry}
            while todo:
                for flow in self.outgoing.get(todo.pop(), []):
                    target = flow.get("targetRef", "")
                    element = self.nodes.get(target)
                    if target in seen or target in stop or element is None:
                        continue
                    seen.add(target)
                    if element.tag == bpmn("endEvent"):
                        continue
                    found.setdefault(target, number)
                    todo.append(target)
        return found


def _read_plain(process: Element, graph: _Graph, problems: ProblemCollector) -> BpmnReading:
    """A process without caseloom extensions: one stage, one action per task."""
    pid = process.get("id", "")
    actions = []
    task_actions: dict[str, str] = {}
    for task in process.iter(*PLAIN_TASKS):
        ident = task.get("id", "")
        name = task.get("name")
        actions.append(
            ActionDef(
                id=ident,
                title=name if name is not None and name.strip() else ident,
                instructions=_documentation(task),
                robot=task.tag == bpmn("serviceTask"),
            )
        )
        task_actions[ident] = ident
    starts = [s.get("id", "") for s in process.iterchildren(bpmn("startEvent"))]
    if not starts:
        problems.add("the process has no start event", line=_line(process), element_id=pid)
    name = _process_name(process, pid)
    model = ProcessModel(
        id=pid, version=1, name=name, stages=(StageDef(name=name, actions=tuple(actions)),)
    )
    entries = {1: starts[0]} if starts else {}
    stages = graph.members(entries)
    stages.update({task: 1 for task in task_actions})
    return BpmnReading(model, task_actions, stages, entries)


@dataclass
class _StageListing:
    """A ``caseloom:stage`` as written, before it is checked against the actions."""

    element: Element
    name: str
    entry: str
    condition: str | None
    parallel: bool
    refs: list[tuple[str, Element]]


@dataclass
class _CaseChildren:
    """What ``caseloom:case`` holds besides its attributes."""

    lists: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    calendars: list[CalendarDef] = field(default_factory=list)
    data_fields: list[DataField] = field(default_factory=list)
    stages: list[_StageListing] = field(default_factory=list)


@dataclass
class _TaskAction:
    """A ``caseloom:action`` and the BPMN task carrying it."""

    task: Element
    element: Element
    action: ActionDef
    stage: int | None


class _CaseReader:
    """Reads and checks the caseloom extensions of one process."""

    def __init__(
        self, process: Element, case: Element, graph: _Graph, problems: ProblemCollector
    ) -> None:
        self.process = process
        self.case = case
        self.graph = graph
        self.problems = problems
        self.consumed: set[Element] = set()

    # -- helpers ---------------------------------------------------------------------------

    def problem(self, element: Element, message: str) -> None:
        self.problems.add(message, line=_line(element), element_id=_owner_id(element))

    def take(self, element: Element, allowed: Iterable[str]) -> None:
        """Mark an extension element read, reporting attributes it should not have."""
        self.consumed.add(element)
        known = set(allowed)
        for name in element.attrib:
            if name not in known:
                self.problem(
                    element, f"unknown attribute {name!r} on caseloom:{_local(element.tag)}"
                )

    def text(self, element: Element, name: str, *, required: bool = False) -> str | None:
        value = element.get(name)
        if value is None and required:
            self.problem(element, f"caseloom:{_local(element.tag)} needs a {name!r} attribute")
        return value

    def typed(self, element: Element, attr: Attr, default: Any) -> Any:
        raw = element.get(attr.xml)
        if raw is None:
            return default
        parser = _PARSERS[attr.kind]
        try:
            return parser(raw)
        except ValueError as err:
            self.problem(element, f"invalid {attr.xml} {raw!r}: {err}")
            return default

    # -- the case --------------------------------------------------------------------------

    def read(self) -> BpmnReading:
        case = self.case
        self.take(case, [a.xml for a in MODEL_ATTRS + SETTINGS_ATTRS])
        fields: dict[str, Any] = {}
        for attr in MODEL_ATTRS:
            default = 1 if attr.field == "version" else None
            fields[attr.field] = self.typed(case, attr, default)
        defaults = CaseSettings()
        settings: dict[str, Any] = {
            a.field: self.typed(case, a, getattr(defaults, a.field)) for a in SETTINGS_ATTRS
        }
        children = self.case_children()
        settings.update(children.lists)
        settings_value = CaseSettings(**settings)
        self.check_calendar_choice(settings_value.calendar, children.calendars)
        actions = self.task_actions()
        stages = self.stages(children.stages, actions, settings_value.subcases)
        self.report_leftovers()
        entries = {n: listing.entry for n, listing in enumerate(children.stages, start=1)}
        model = ProcessModel(
            id=self.process.get("id", ""),
            name=self.process.get("name", self.process.get("id", "")),
            settings=settings_value,
            stages=stages,
            calendars=tuple(children.calendars),
            data_fields=tuple(children.data_fields),
            **fields,
        )
        task_stages = self.graph.members(
            {n: e for n, e in entries.items() if self.graph.is_flow_node(e)}
        )
        task_actions: dict[str, str] = {}
        for number, stage in enumerate(stages, start=1):
            for action in stage.actions:
                task_id = actions[action.id][0].task.get("id", "")
                task_actions[task_id] = action.id
                task_stages[task_id] = number
        return BpmnReading(model, task_actions, task_stages, entries)

    def case_children(self) -> _CaseChildren:
        """List settings, calendars and stage listings under ``caseloom:case``."""
        found = _CaseChildren()
        lists: dict[str, list[Any]] = {f: [] for f in SETTINGS_LISTS.values()}
        lists.update(subcases=[], email_routes=[], schedules=[])
        seen: dict[str, set[str]] = {}
        for child in _elements(self.case):
            local = _local(child.tag)
            if child.tag != caseloom(local):
                continue  # reported with the leftovers
            key: str | None = None
            if local in SETTINGS_LISTS:
                self.take(child, ())
                key = child.text or ""
                lists[SETTINGS_LISTS[local]].append(key)
            elif local == "subcase":
                self.take(child, ["process"])
                key = self.text(child, "process", required=True) or ""
                lists["subcases"].append(key)
            elif local == "emailRoute":
                route = self.email_route(child)
                key = route.mailbox
                lists["email_routes"].append(route)
            elif local == "schedule":
                schedule = self.schedule(child)
                if schedule is not None:
                    lists["schedules"].append(schedule)
            elif local == "calendar":
                calendar = self.calendar(child)
                key = calendar.name
                found.calendars.append(calendar)
            elif local == "dataField":
                data_field = self.data_field(child)
                key = data_field.name
                found.data_fields.append(data_field)
            elif local == "stage":
                listing = self.stage_listing(child, len(found.stages) + 1)
                key = listing.name
                found.stages.append(listing)
            if key is not None:
                if key in seen.setdefault(local, set()):
                    self.problem(child, f"caseloom:{local} {key!r} appears twice")
                seen[local].add(key)
        found.lists = {name: tuple(items) for name, items in lists.items()}
        return found

    def email_route(self, element: Element) -> EmailRoute:
        self.take(element, ["mailbox", "enabled", "testMode"])
        return EmailRoute(
            mailbox=self.text(element, "mailbox", required=True) or "",
            enabled=self.typed(element, Attr("enabled", "enabled", AttrKind.BOOL), True),
            test_mode=self.typed(element, Attr("testMode", "test_mode", AttrKind.BOOL), False),
        )

    def schedule(self, element: Element) -> ScheduleDef | None:
        """A ``caseloom:schedule`` (C1); None when a value is bad (each is reported)."""
        self.take(element, ["every", "first", "title"])
        raw_every = self.text(element, "every", required=True)
        raw_first = self.text(element, "first", required=True)
        title = element.get("title")
        every = first = None
        if raw_every is not None:
            try:
                every = schedule_interval(raw_every.strip())
            except DurationError as err:
                self.problem(element, f"invalid every {raw_every!r}: {err.reason}")
        if raw_first is not None:
            try:
                first = schedule_start(raw_first)
            except ValueError as err:
                self.problem(element, f"invalid first {raw_first!r}: {err}")
        if title == "":
            self.problem(element, "the title of a caseloom:schedule must not be empty")
        if every is None or first is None or title == "":
            return None
        return ScheduleDef(every=every, first=first, title=title)

    def data_field(self, element: Element) -> DataField:
        """A ``caseloom:dataField`` (V16); bad values are reported, defaults stand in."""
        self.take(element, ["name", "type", "label", "required"])
        name = self.text(element, "name", required=True) or ""
        if name and _DATA_FIELD_NAME.match(name) is None:
            self.problem(
                element,
                f"invalid data field name {name!r}: lowercase letters, digits and '_', "
                "starting with a letter",
            )
        kind = self.text(element, "type", required=True)
        if kind is not None and kind not in DATA_FIELD_TYPES:
            self.problem(
                element,
                f"invalid type {kind!r} of data field {name!r}: expected one of "
                + ", ".join(DATA_FIELD_TYPES),
            )
            kind = None
        return DataField(
            name=name,
            type=kind or DATA_FIELD_TYPES[0],
            label=element.get("label"),
            required=self.typed(element, Attr("required", "required", AttrKind.BOOL), False),
        )

    def calendar(self, element: Element) -> CalendarDef:
        self.take(element, ["name", "timezone", "country", "subdivision"])
        periods: list[WorkingPeriod] = []
        days_off: list[date] = []
        for child in _elements(element):
            if child.tag == caseloom("hours"):
                self.take(child, ["day", "start", "end"])
                periods.append(self.period(child))
            elif child.tag == caseloom("holiday"):
                self.take(child, ["date"])
                raw = self.text(child, "date", required=True)
                if raw is not None:
                    days_off.append(self.parsed(child, "date", raw, date.fromisoformat, date.min))
        if not periods:
            self.problem(element, "a calendar needs at least one caseloom:hours")
        timezone = element.get("timezone", "UTC")
        if not _valid_zone(timezone):
            self.problem(
                element, f"unknown time zone {timezone!r} (use an IANA name such as 'Europe/Paris')"
            )
        country, subdivision = element.get("country"), element.get("subdivision")
        trouble = _region_problem(country, subdivision)
        if trouble:
            self.problem(element, trouble)
        return CalendarDef(
            name=self.text(element, "name", required=True) or "",
            timezone=timezone,
            periods=tuple(periods),
            holidays=tuple(days_off),
            country=country,
            subdivision=subdivision,
        )

    def period(self, element: Element) -> WorkingPeriod:
        day = self.text(element, "day", required=True)
        weekday = 0
        if day is not None:
            if day.strip().lower() in WEEKDAYS:
                weekday = WEEKDAYS.index(day.strip().lower())
            else:
                self.problem(element, f"invalid day {day!r}: expected one of {', '.join(WEEKDAYS)}")
        start = self.text(element, "start", required=True)
        end = self.text(element, "end", required=True)
        bounds = (time(9), time(17))
        if start is not None and end is not None:
            try:
                bounds = parse_time_range(f"{start.strip()}-{end.strip()}")
            except ValueError as err:
                self.problem(element, str(err))
        return WorkingPeriod(weekday, *bounds)

    def parsed(
        self, element: Element, name: str, raw: str, parse: Callable[[str], Any], default: Any
    ) -> Any:
        try:
            return parse(raw.strip())
        except ValueError as err:
            self.problem(element, f"invalid {name} {raw!r}: {err}")
            return default

    def check_calendar_choice(self, chosen: str | None, calendars: list[CalendarDef]) -> None:
        names = {cal.name for cal in calendars} | set(BUILTIN_CALENDARS)
        if chosen is not None and chosen not in names:
            known = ", ".join(sorted(names))
            self.problem(self.case, f"unknown calendar {chosen!r} (known: {known})")

    # -- stages ----------------------------------------------------------------------------

    def stage_listing(self, element: Element, number: int) -> _StageListing:
        self.take(element, ["number", "name", "entry", "condition", "parallel"])
        declared = element.get("number")
        if declared is not None and declared.strip() != str(number):
            self.problem(
                element,
                f"caseloom:stage number {declared!r} does not match its position ({number})",
            )
        condition = element.get("condition")
        if condition is not None:
            try:
                parse_condition(condition)
            except ExpressionError as err:
                self.problem(element, f"invalid condition {condition!r} of stage {number}: {err}")
        refs = []
        for child in _elements(element):
            if child.tag == caseloom("actionRef"):
                self.take(child, [ACTION_ID])
                ref = self.text(child, ACTION_ID, required=True)
                if ref is not None:
                    refs.append((ref, child))
        return _StageListing(
            element=element,
            name=self.text(element, "name", required=True) or "",
            entry=self.text(element, "entry", required=True) or "",
            condition=condition,
            parallel=self.typed(element, Attr("parallel", "parallel", AttrKind.BOOL), False),
            refs=refs,
        )

    def stages(
        self,
        listings: list[_StageListing],
        actions: dict[str, list[_TaskAction]],
        permitted: tuple[str, ...],
    ) -> tuple[StageDef, ...]:
        stages = []
        listed: dict[str, int] = {}
        entries: dict[str, int] = {}
        for number, listing in enumerate(listings, start=1):
            self.check_entry(number, listing, entries)
            members = self.members(number, listing, actions, listed)
            if not any(found.action.flow for found in members):
                self.problem(
                    listing.element,
                    f'stage {number} has no action in the flow: list an action with flow="true"',
                )
            for found in members:
                subcase = found.action.subcase
                if subcase is not None and subcase not in permitted:
                    self.problem(
                        found.element,
                        f"sub-case process {subcase!r} is not listed by a caseloom:subcase (SC5)",
                    )
            stages.append(
                StageDef(
                    name=listing.name,
                    actions=tuple(found.action for found in members),
                    condition=listing.condition,
                    parallel=listing.parallel,
                )
            )
        for ident, found_list in actions.items():
            if ident not in listed:
                self.problem(found_list[0].element, f"action {ident!r} is not listed by any stage")
        return tuple(stages)

    def members(
        self,
        number: int,
        listing: _StageListing,
        actions: dict[str, list[_TaskAction]],
        listed: dict[str, int],
    ) -> list[_TaskAction]:
        """The actions a stage lists, in order; ``listed`` records who listed what."""
        members = []
        for ref, element in listing.refs:
            if ref in listed:
                self.problem(
                    element, f"action {ref!r} is listed by stage {listed[ref]} and {number}"
                )
                continue
            listed[ref] = number
            found = actions.get(ref)
            if not found:
                self.problem(
                    element, f"stage {number} lists action {ref!r}, but no task carries it"
                )
                continue
            if found[0].stage is not None and found[0].stage != number:
                self.problem(
                    found[0].element,
                    f"action {ref!r} says stage {found[0].stage} but is listed by stage {number}",
                )
            members.append(found[0])
        return members

    def check_entry(self, number: int, listing: _StageListing, seen: dict[str, int]) -> None:
        entry = listing.entry
        if not entry:
            return
        if not self.graph.is_flow_node(entry):
            self.problem(
                listing.element, f"entry {entry!r} of stage {number} is not a flow node here"
            )
            return
        if entry in seen:
            self.problem(
                listing.element, f"stages {seen[entry]} and {number} share the entry {entry!r}"
            )
        seen[entry] = number
        condition = listing.condition
        if condition is not None and condition.strip() not in self.graph.conditions_out_of(entry):
            self.problem(
                listing.element,
                f"stage {number} has condition {condition!r} but no sequence flow leaving its "
                f"entry {entry!r} carries it as bpmn:conditionExpression",
            )

    # -- actions ---------------------------------------------------------------------------

    def task_actions(self) -> dict[str, list[_TaskAction]]:
        found: dict[str, list[_TaskAction]] = {}
        for element in self.process.iter(caseloom("action")):
            ext = element.getparent()
            task = ext.getparent() if ext is not None else None
            if ext is None or ext.tag != bpmn("extensionElements") or task is None:
                continue  # reported with the leftovers
            if task.tag not in ACTION_HOSTS:
                self.consumed.add(element)
                self.problem(
                    element,
                    f"caseloom:action is not allowed on a bpmn:{_local(task.tag)}; use a "
                    "userTask, manualTask, task, serviceTask or callActivity",
                )
                continue
            read = self.action(task, element)
            if read.action.id in found:
                self.problem(element, f"duplicate action id {read.action.id!r}")
            found.setdefault(read.action.id, []).append(read)
        return found

    def action(self, task: Element, element: Element) -> _TaskAction:
        self.take(element, [ACTION_ID, ACTION_STAGE] + [a.xml for a in ACTION_ATTRS])
        ident = self.text(element, ACTION_ID, required=True) or ""
        stage = None
        if element.get(ACTION_STAGE) is not None:
            stage = self.typed(element, Attr(ACTION_STAGE, "stage", AttrKind.INT), None)
        task_id = task.get("id", "")
        defaults = {
            "due": None,
            "manual_launch": False,
            "flow": self.graph.connected(task_id),
            "robot": task.tag == bpmn("serviceTask"),
            "queue": None,
            "sop_url": None,
            "subcase": None,
        }
        fields = {a.field: self.typed(element, a, defaults[a.field]) for a in ACTION_ATTRS}
        name = task.get("name")
        action = ActionDef(
            id=ident,
            title=name if name is not None else ident,
            instructions=_documentation(task),
            **fields,
        )
        self.check_action(task, element, action)
        return _TaskAction(task, element, action, stage)

    def check_action(self, task: Element, element: Element, action: ActionDef) -> None:
        connected = self.graph.connected(task.get("id", ""))
        if action.flow and not connected:
            self.problem(element, f"action {action.id!r} is in the flow but has no sequence flow")
        if not action.flow and connected:
            self.problem(element, f'action {action.id!r} says flow="false" but has sequence flows')
        if not action.flow and not action.manual_launch:
            self.problem(
                element,
                f'action {action.id!r} is out of the flow, so it needs manualLaunch="true"',
            )
        is_call = task.tag == bpmn("callActivity")
        if action.subcase is None:
            if is_call:
                self.problem(
                    element, "a bpmn:callActivity action needs the subcase attribute (C1, SC1)"
                )
            return
        if not is_call:
            self.problem(element, f"sub-case step {action.id!r} must be a bpmn:callActivity")
        elif task.get("calledElement") != action.subcase:
            self.problem(
                element,
                f"subcase {action.subcase!r} differs from calledElement "
                f"{task.get('calledElement')!r}",
            )
        if not action.flow:
            self.problem(element, f"sub-case step {action.id!r} must be in the flow")
        if action.robot:
            self.problem(element, f"sub-case step {action.id!r} cannot be a robot step")

    # -- leftovers -------------------------------------------------------------------------

    def report_leftovers(self) -> None:
        """Report caseloom elements nobody read, and anything nested in read ones."""
        for element in self.process.iter():
            if not isinstance(element.tag, str) or element in self.consumed:
                continue
            parent = element.getparent()
            if element.tag.startswith(f"{{{CASELOOM_NS}}}") or parent in self.consumed:
                self.problem(element, f"unexpected element {_prefixed(element.tag)} here")


def _prefixed(tag: str) -> str:
    if tag.startswith(f"{{{CASELOOM_NS}}}"):
        return f"caseloom:{_local(tag)}"
    return tag


def _valid_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _region_problem(country: str | None, subdivision: str | None) -> str | None:
    """Why ``country``/``subdivision`` cannot give public holidays, if they cannot."""
    if country is None:
        return "a subdivision needs a country" if subdivision is not None else None
    try:
        holidays.country_holidays(country.upper(), subdiv=subdivision)
    except NotImplementedError:
        try:
            holidays.country_holidays(country.upper())
        except NotImplementedError:
            return f"unknown country {country!r} (use an ISO 3166 code such as 'GB' or 'FR')"
        return f"unknown subdivision {subdivision!r} of country {country!r}"
    return None


def _parse_bool(raw: str) -> bool:
    word = raw.strip().lower()
    if word not in _BOOL_WORDS:
        raise ValueError("expected true or false")
    return _BOOL_WORDS[word]


def _parse_int(raw: str) -> int:
    text = raw.strip()
    if not text.isdigit() or int(text) < 1:
        raise ValueError("expected a whole number from 1")
    return int(text)


def _parse_wall_due(raw: str) -> DueRule:
    """A wall-clock duration (no "working" time), as a rule."""
    parse_wall_duration(raw)
    return parse_due(raw)


def _parse_records(raw: str) -> RecordsCount:
    try:
        return RecordsCount(raw.strip())
    except ValueError:
        raise ValueError("expected one of " + ", ".join(r.value for r in RecordsCount)) from None


_PARSERS: dict[AttrKind, Callable[[str], Any]] = {
    AttrKind.TEXT: lambda raw: raw,
    AttrKind.BOOL: _parse_bool,
    AttrKind.INT: _parse_int,
    AttrKind.DUE: parse_due,
    AttrKind.WALL_DUE: _parse_wall_due,
    AttrKind.RECORDS: _parse_records,
}
