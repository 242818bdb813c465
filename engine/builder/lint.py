"""Warnings about process definitions that are valid but probably not what was meant.

:func:`lint` looks at a valid :class:`~engine.model.ProcessModel` (from YAML or BPMN) and
returns :class:`~engine.errors.Problem` objects with severity ``"warning"``. Given the
:class:`~engine.builder.yaml_source.YamlDocument` it came from, each warning carries the line,
column and YAML path of what it is about.

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
======  ===========================================================================
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, time

from engine.builder.yaml_source import YamlDocument, YamlPath
from engine.errors import Problem
from engine.expressions import ExpressionError, parse_condition
from engine.model import WEEKDAYS, CalendarDef, DueRule, ProcessModel

__all__ = ["lint"]

_MIDNIGHT_END = 24 * 60
_FREQUENT_MINUTES = 60
"""A schedule repeating in less than this many minutes gets W012."""


def lint(model: ProcessModel, doc: YamlDocument | None = None, file: str = "") -> list[Problem]:
    """Warnings for ``model``, located in ``doc`` when given; sorted by position."""
    linter = _Linter(model, doc, file or (doc.file if doc is not None else ""))
    linter.run()
    return sorted(linter.found, key=lambda p: (p.line or 0, p.column or 0, p.code))


class _Linter:
    def __init__(self, model: ProcessModel, doc: YamlDocument | None, file: str) -> None:
        self.model = model
        self.doc = doc
        self.file = file
        self.found: list[Problem] = []

    def warn(self, code: str, message: str, path: YamlPath, *, at_key: bool = False) -> None:
        if self.doc is None:
            self.found.append(Problem(message, file=self.file, severity="warning", code=code))
            return
        problem = self.doc.problem(message, path, code=code, severity="warning", at_key=at_key)
        self.found.append(replace(problem, file=self.file))

    def run(self) -> None:
        self.stages()
        self.settings()
        self.schedules()
        self.calendars()

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


def _minutes(value: time) -> int:
    return value.hour * 60 + value.minute


def _end_minutes(value: time) -> int:
    return _MIDNIGHT_END if value == time(0) else _minutes(value)
