"""Warnings about process definitions that are valid but probably not what was meant.

:func:`lint` looks at a valid :class:`~engine.model.ProcessModel` (from YAML or BPMN) and
returns :class:`~engine.errors.Problem` objects with severity ``"warning"``. Given the
:class:`~engine.builder.yaml_source.YamlDocument` it came from, each warning carries the line,
column and YAML path of what it is about; given the ``bpmn:process`` element it was read from,
the line and element id, and the BPMN-only checks (W015) run on it.

======  ===========================================================================
W001    a stage condition that is always false: the stage never runs
W002    a stage condition that is always true: it has no effect
W003    a stage condition that always fails when evaluated
W004    a sub-case step that starts this same process (endless nesting)
W005    a calendar that is defined but is not the case calendar
W006    ``add_wait_time_to_due_date`` without ``more_info_reasons`` (no more-info hold possible)
W007    ``add_wait_time_to_due_date`` without ``due`` (no SLA clock to pause)
W008    a working-time duration without a ``calendar`` (counted as wall-clock time)
W009    ``parallel: true`` on a stage with fewer than two actions in the flow
W010    overlapping working hours on a day of a calendar
W011    an action due rule longer than the case's own
W012    a schedule repeating more often than hourly (C1): many cases a day
W013    two schedules with the same ``every`` and ``first`` (C1): two cases each time
W014    schedules on a process with ``required_contacts`` (C1, V10): scheduled cases have no
        contacts, so they cannot be submitted and stay Draft
W015    (BPMN) an exclusive or inclusive gateway without a default flow whose outgoing flows
        all have conditions: when none is true, the command that reaches it is refused
W016    a sub-case process that is not among the files checked together (only when
        ``known_processes`` is given): it must be deployed before such a sub-case is created
======  ===========================================================================
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace
from datetime import datetime, time

from lxml import etree

from engine.builder.bpmn_xml import source_line
from engine.builder.namespaces import BPMN_NS, bpmn, caseloom
from engine.builder.yaml_source import YamlDocument, YamlPath
from engine.errors import Problem
from engine.expressions import ExpressionError, parse_condition
from engine.model import WEEKDAYS, CalendarDef, DueRule, ProcessModel

__all__ = ["BpmnPlaces", "lint"]

_MIDNIGHT_END = 24 * 60
_FREQUENT_MINUTES = 60
"""A schedule repeating in less than this many minutes gets W012."""


def lint(
    model: ProcessModel,
    doc: YamlDocument | None = None,
    file: str = "",
    *,
    process: etree._Element | None = None,
    known_processes: Collection[str] | None = None,
) -> list[Problem]:
    """Warnings for ``model``, sorted by position.

    ``doc``: the YAML document of the model, which locates the warnings (line, column, path).
    ``process``: the ``bpmn:process`` element of a model read from BPMN, which locates them
    (line, element id) and is checked for what only BPMN can say (W015).
    ``known_processes``: ids of the processes checked together with this one; a sub-case
    process among none of them gets W016. ``None`` skips that check.
    """
    linter = _Linter(model, doc, file or (doc.file if doc is not None else ""), process)
    linter.run()
    if known_processes is not None:
        linter.subcases(known_processes)
    return sorted(linter.found, key=lambda p: (p.line or 0, p.column or 0, p.code))


class _Linter:
    def __init__(
        self,
        model: ProcessModel,
        doc: YamlDocument | None,
        file: str,
        process: etree._Element | None = None,
    ) -> None:
        self.model = model
        self.doc = doc
        self.file = file
        self.process = process
        self.places = BpmnPlaces(process, model) if process is not None else None
        self.found: list[Problem] = []

    def warn(self, code: str, message: str, path: YamlPath, *, at_key: bool = False) -> None:
        if self.doc is not None:
            problem = self.doc.problem(message, path, code=code, severity="warning", at_key=at_key)
            self.found.append(replace(problem, file=self.file))
        elif self.places is not None:
            self.warn_at(code, message, self.places.element(path))
        else:
            self.found.append(Problem(message, file=self.file, severity="warning", code=code))

    def warn_at(self, code: str, message: str, element: etree._Element) -> None:
        """A warning about a BPMN element (its line, and the id of the BPMN element holding
        it)."""
        self.found.append(
            Problem(
                message,
                file=self.file,
                line=source_line(element),
                element_id=_owner_id(element),
                severity="warning",
                code=code,
            )
        )

    def run(self) -> None:
        self.stages()
        self.settings()
        self.schedules()
        self.calendars()
        if self.process is not None:
            self.gateways(self.process)

    # -- sub-case processes ------------------------------------------------------------------
    def subcases(self, known: Collection[str]) -> None:
        """W016: a static check cannot know what will be deployed, only what it was given."""
        allowed = set(known) | {self.model.id}
        for i, process in enumerate(self.model.settings.subcases):
            if process not in allowed:
                self.warn(
                    "W016",
                    f"sub-case process {process!r} is not among the files checked: it must be "
                    "deployed before a case creates such a sub-case",
                    ("subcases", i),
                )
        for s, stage in enumerate(self.model.stages):
            for a, action in enumerate(stage.actions):
                if action.subcase is not None and action.subcase not in allowed:
                    self.warn(
                        "W016",
                        f"action {action.id!r} starts a sub-case of process {action.subcase!r}, "
                        "which is not among the files checked: it must be deployed before a "
                        "case creates this sub-case",
                        ("stages", s, "actions", a, "subcase"),
                    )

    # -- BPMN gateways -----------------------------------------------------------------------
    def gateways(self, process: etree._Element) -> None:
        """W015: a gateway that may find no way out. SpiffWorkflow then refuses to move on, and
        so the engine refuses the command that reached the gateway."""
        for gateway in process.iter(bpmn("exclusiveGateway"), bpmn("inclusiveGateway")):
            ident = gateway.get("id", "")
            container = gateway.getparent()
            if container is None or not ident or gateway.get("default"):
                continue
            flows = [
                flow
                for flow in container.iterchildren(bpmn("sequenceFlow"))
                if flow.get("sourceRef") == ident
            ]
            conditions = [flow.find(bpmn("conditionExpression")) for flow in flows]
            if not flows or any(c is None for c in conditions):
                continue  # a lone flow without condition is the default; several are refused
            if any(_always_true(c.text or "") for c in conditions if c is not None):
                continue
            kind = "exclusive" if gateway.tag == bpmn("exclusiveGateway") else "inclusive"
            name = gateway.get("name")
            named = f"{name!r} ({ident})" if name and name.strip() else repr(ident)
            self.warn_at(
                "W015",
                f"{kind} gateway {named} has no default flow and every flow out of it has a "
                "condition: when none is true, the flow cannot move on and the command that "
                "reaches the gateway is refused; add a default flow",
                gateway,
            )

    # -- stages and actions ------------------------------------------------------------------
    def stages(self) -> None:
        case_due = self.model.settings.due
        for s, stage in enumerate(self.model.stages):
            if stage.condition is not None:
                self.condition(s, stage.name, stage.condition)
            in_flow = [action for action in stage.actions if action.flow]
            if stage.parallel and len(in_flow) < 2:
                self.warn(
                    "W009",
                    f"stage {stage.name!r} is parallel but has {len(in_flow)} action in the "
                    "flow: 'parallel' has no effect",
                    ("stages", s, "parallel"),
                )
            for a, action in enumerate(stage.actions):
                path: YamlPath = ("stages", s, "actions", a)
                if action.subcase == self.model.id:
                    self.warn(
                        "W004",
                        f"action {action.id!r} starts a sub-case of this same process, "
                        "which will start another, and so on without end",
                        path + ("subcase",),
                    )
                if action.due is not None:
                    self.action_due(path, action.id, action.due, case_due)

    def condition(self, s: int, name: str, text: str) -> None:
        path: YamlPath = ("stages", s, "condition")
        try:
            expression = parse_condition(text)
            if expression.names:
                return
            value = bool(expression.evaluate({}))
        except ExpressionError as err:
            self.warn("W003", f"the condition of stage {name!r} always fails: {err}", path)
            return
        if value:
            self.warn("W002", f"the condition of stage {name!r} is always true", path)
        else:
            self.warn(
                "W001",
                f"the condition of stage {name!r} is always false: the stage never runs",
                path,
            )

    def action_due(
        self, path: YamlPath, action_id: str, rule: DueRule, case_due: DueRule | None
    ) -> None:
        if (
            case_due is not None
            and rule.unit is case_due.unit
            and rule.working == case_due.working
            and rule.amount > case_due.amount
        ):
            self.warn(
                "W011",
                f"action {action_id!r} is due in {rule.text}, "
                f"later than its case ({case_due.text})",
                path + ("due",),
            )
        self.working_rule(path + ("due",), rule)

    def working_rule(self, path: YamlPath, rule: DueRule) -> None:
        if rule.working and self.model.settings.calendar is None:
            self.warn(
                "W008",
                f"'{rule.text}' counts working time but the process has no 'calendar': it "
                "is counted as wall-clock time",
                path,
            )

    # -- case settings -----------------------------------------------------------------------
    def settings(self) -> None:
        settings = self.model.settings
        if settings.due is not None:
            self.working_rule(("due",), settings.due)
        if settings.add_wait_time_to_due_date:
            key: YamlPath = ("add_wait_time_to_due_date",)
            if not settings.more_info_reasons:
                self.warn(
                    "W006",
                    "'add_wait_time_to_due_date' is on but there are no 'more_info_reasons': "
                    "no more-info hold can be chosen (H3), so the SLA never pauses",
                    key,
                    at_key=True,
                )
            if settings.due is None:
                self.warn(
                    "W007",
                    "'add_wait_time_to_due_date' is on but the process has no 'due': there is "
                    "no SLA clock to pause",
                    key,
                    at_key=True,
                )

    # -- schedules (C1) ----------------------------------------------------------------------
    def schedules(self) -> None:
        first_at: dict[tuple[int, datetime], int] = {}
        for i, schedule in enumerate(self.model.settings.schedules):
            path: YamlPath = ("schedules", i)
            minutes = schedule.every.total_minutes
            if minutes < _FREQUENT_MINUTES:
                self.warn(
                    "W012",
                    f"schedule {i} creates a case every {schedule.every.text}: more than "
                    f"{24 * 60 // _FREQUENT_MINUTES} cases a day",
                    path + ("every",),
                )
            key = (minutes, schedule.first)
            if key in first_at:
                self.warn(
                    "W013",
                    f"schedule {i} has the same 'every' and 'first' as schedule "
                    f"{first_at[key]}: each time two cases are created",
                    path,
                )
            else:
                first_at[key] = i
        if self.model.settings.schedules and self.model.settings.required_contacts:
            self.warn(
                "W014",
                "the process has 'schedules' and 'required_contacts': scheduled cases have no "
                "contacts, so they cannot be submitted and stay Draft (V10)",
                ("schedules",),
                at_key=True,
            )

    # -- calendars ---------------------------------------------------------------------------
    def calendars(self) -> None:
        for calendar in self.model.calendars:
            path: YamlPath = ("calendars", calendar.name)
            if calendar.name != self.model.settings.calendar:
                self.warn(
                    "W005",
                    f"calendar {calendar.name!r} is defined but is not the process 'calendar' "
                    "(it can only be chosen at sub-case creation or rework)",
                    path,
                    at_key=True,
                )
            self.overlaps(path, calendar)

    def overlaps(self, path: YamlPath, calendar: CalendarDef) -> None:
        for weekday, day in enumerate(WEEKDAYS):
            spans = sorted(
                (_minutes(p.start), _end_minutes(p.end))
                for p in calendar.periods
                if p.weekday == weekday
            )
            for (_, end), (start, _) in zip(spans, spans[1:], strict=False):
                if start < end:
                    self.warn(
                        "W010",
                        f"calendar {calendar.name!r} has overlapping working hours on {day}",
                        path + ("hours", day),
                    )
                    break


def _always_true(text: str) -> bool:
    """A condition over no case data that is true (``True``, ``1 == 1``)."""
    try:
        expression = parse_condition(text)
        return not expression.names and bool(expression.evaluate({}))
    except ExpressionError:
        return False


def _owner_id(element: etree._Element) -> str:
    """Id of the nearest BPMN element holding ``element`` (itself included)."""
    node: etree._Element | None = element
    while node is not None:
        if isinstance(node.tag, str) and node.tag.startswith(f"{{{BPMN_NS}}}") and node.get("id"):
            return node.get("id", "")
        node = node.getparent()
    return ""


class BpmnPlaces:
    """Where the parts of a model read from BPMN are written: a model path (as a YAML path:
    ``("stages", 1, "actions", 0, "due")``) to the element holding it."""

    def __init__(self, process: etree._Element, model: ProcessModel) -> None:
        self.process = process
        self.model = model
        self.case: etree._Element | None = None
        for ext in process.iterchildren(bpmn("extensionElements")):
            for case in ext.iterchildren(caseloom("case")):
                self.case = case
                break

    def locate(self, path: YamlPath) -> tuple[int | None, str]:
        """Line and element id (of the nearest BPMN element) for ``path``."""
        element = self.element(path)
        return source_line(element), _owner_id(element)

    def element(self, path: YamlPath) -> etree._Element:
        """The element for ``path``: the action's ``caseloom:action`` (or task), the stage's
        ``caseloom:stage``, the list item; else ``caseloom:case`` (else the process)."""
        found = self._find(path)
        if found is not None:
            return found
        return self.case if self.case is not None else self.process

    def _find(self, path: YamlPath) -> etree._Element | None:
        if len(path) < 2 or not isinstance(path[0], str):
            return None
        head, index = path[0], path[1]
        if head == "stages" and isinstance(index, int):
            if len(path) >= 4 and path[2] == "actions" and isinstance(path[3], int):
                return self._action(index, path[3])
            return self._nth("stage", index)
        if head in ("subcases", "schedules") and isinstance(index, int):
            return self._nth(head[:-1], index)  # caseloom:subcase, caseloom:schedule
        if head == "calendars" and self.case is not None:
            for calendar in self.case.iterchildren(caseloom("calendar")):
                if calendar.get("name") == index:
                    return calendar
        return None

    def _nth(self, local: str, index: int) -> etree._Element | None:
        if self.case is None:
            return None
        found = list(self.case.iterchildren(caseloom(local)))
        return found[index] if 0 <= index < len(found) else None

    def _action(self, stage: int, position: int) -> etree._Element | None:
        stages = self.model.stages
        if not 0 <= stage < len(stages) or not 0 <= position < len(stages[stage].actions):
            return None
        ident = stages[stage].actions[position].id
        for marker in self.process.iter(caseloom("action")):
            if marker.get("actionId") == ident:
                return marker
        for node in self.process.iter():  # a plain BPMN process: the action id is the task id
            if isinstance(node.tag, str) and node.get("id") == ident:
                return node
        return None


def _minutes(value: time) -> int:
    return value.hour * 60 + value.minute


def _end_minutes(value: time) -> int:
    return _MIDNIGHT_END if value == time(0) else _minutes(value)
