"""YAML process definitions -> :class:`~engine.model.ProcessModel`.

:func:`model_from_yaml` loads the text safely (:mod:`engine.builder.yaml_source`), validates it
against the JSON Schema (:mod:`engine.builder.schema`), then checks what a schema cannot
(durations, conditions, calendars, ids, sub-case permissions ...). Every problem found is
collected with its line, column and YAML path, and raised at once as one
:class:`~engine.errors.DefinitionError`. Only a definition without errors becomes a model.

Problem codes of the checks here (``E0xx``):

======  ===========================================================================
E001    a duration that cannot be read (``due``, an action's ``due``, ``feedback_window``,
        a schedule's ``every``), or a "working" one where only wall-clock time is meant
E002    a condition that does not parse or uses syntax that is not allowed
E003    ``calendar`` names no calendar
E004    a working-hours range that cannot be read, or a calendar with no working hours
E005    an unknown time zone
E006    a holiday that is not a real date
E007    an unknown country or subdivision, or a subdivision without a country
E008    ``flow: false`` without ``manual_launch: true``
E009    a stage with no action in the flow
E010    an action id used twice
E011    a stage name used twice
E012    a sub-case process that is not known (only when ``known_processes`` is given)
E013    a ``subcase`` step whose process is not listed in ``subcases`` (SC5)
E014    the same entry twice in a list (reasons, mailboxes, sub-cases, categories, contacts)
E015    a ``subcase`` step that is out of the flow or a robot step
E016    a data field name used twice (V16)
E017    a schedule's ``first`` that is not a date-time with a UTC offset (C1)
======  ===========================================================================
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from datetime import UTC, date, datetime, time
from os import PathLike
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

from engine.builder.schema import DATE_PATTERN, schema_problems
from engine.builder.yaml_source import MAX_BYTES, YamlDocument, YamlPath, load_yaml, path_str
from engine.calendars import parse_time_range
from engine.durations import DurationError, parse_due, parse_wall_duration
from engine.errors import DefinitionError, Problem
from engine.expressions import ExpressionError, parse_condition
from engine.model import (
    BUILTIN_CALENDARS,
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
    office_calendar,
)

__all__ = [
    "calendar_from_yaml",
    "check_calendar",
    "check_document",
    "humanise",
    "load_yaml_file",
    "model_from_document",
    "model_from_yaml",
    "schedule_interval",
    "schedule_start",
]


def model_from_yaml(
    source: bytes | str, file: str, *, known_processes: Collection[str] | None = None
) -> ProcessModel:
    """Read a YAML definition into a :class:`ProcessModel`.

    ``known_processes``: ids of the processes that sub-case steps and ``subcases`` permissions
    may name (the process itself always counts); ``None`` skips that check.
    Raises one :class:`DefinitionError` listing every problem.
    """
    return model_from_document(load_yaml(source, file), known_processes=known_processes)


def load_yaml_file(
    path: str | PathLike[str], *, known_processes: Collection[str] | None = None
) -> ProcessModel:
    """Read a YAML definition file into a :class:`ProcessModel` (see :func:`model_from_yaml`)."""
    with open(path, "rb") as handle:
        data = handle.read(MAX_BYTES + 1)
    return model_from_yaml(data, str(path), known_processes=known_processes)


def model_from_document(
    doc: YamlDocument, *, known_processes: Collection[str] | None = None
) -> ProcessModel:
    """Validate an already loaded document and build its model; see :func:`model_from_yaml`."""
    problems = check_document(doc, known_processes=known_processes)
    if problems:
        raise DefinitionError(problems)
    return _build(doc.data)


def check_document(
    doc: YamlDocument, *, known_processes: Collection[str] | None = None
) -> list[Problem]:
    """Every schema and semantic problem of ``doc``, sorted by position."""
    found = schema_problems(doc)
    found.extend(_Checker(doc, known_processes).run())
    return sorted(found, key=lambda p: (p.line or 0, p.column or 0, p.path, p.message))


def check_calendar(doc: YamlDocument, path: YamlPath, body: dict[str, Any]) -> list[Problem]:
    """Problems of the calendar ``body`` written at ``path`` of ``doc`` that a schema cannot
    see (time zone, working hours, holidays, country): the checks a definition's
    ``calendars`` entries get, for other documents that hold calendars (scenarios)."""
    checker = _Checker(doc, None)
    checker.calendar(path, body)
    return checker.problems


def calendar_from_yaml(name: str, body: dict[str, Any]) -> CalendarDef:
    """The calendar ``name`` of a ``calendars`` entry ``body`` that passed the schema, as a
    definition's is built (no ``hours``: the office's). Raises :class:`ValueError` for a
    working-hours range that cannot be read (:func:`check_calendar` reports it)."""
    return _calendar(name, body)


def schedule_interval(text: str) -> DueRule:
    """The rule of a schedule's ``every`` (C1): a wall-clock duration such as ``1d``.

    Raises :class:`~engine.durations.DurationError` (a :class:`ValueError`) for what
    :func:`~engine.durations.parse_due` refuses (zero included) and for a "working" rule:
    schedules repeat in wall-clock time.
    """
    rule = parse_due(text)
    if rule.working:
        wall = DueRule(rule.amount, rule.unit).text
        raise DurationError(
            text,
            "schedules repeat in wall-clock time (1d is 24 hours, weekends included); "
            f"drop 'working', e.g. '{wall}'",
        )
    return rule


def schedule_start(value: object) -> datetime:
    """The instant a schedule's ``first`` names, in UTC (C1).

    ``value`` is what YAML read: a date-time, or a text in ISO 8601 (``2026-03-02T08:00:00Z``,
    ``2026-03-06T16:00:00+01:00``). Raises :class:`ValueError`, saying what to write instead,
    for anything else: a date alone, a date-time without a UTC offset, a text that is not a
    date-time, or an instant outside the years datetimes can hold once in UTC.
    """
    example = "e.g. 2026-03-02T08:00:00Z or '2026-03-06T16:00:00+01:00'"
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        raise ValueError(
            f"{value.isoformat()} is a date alone: add a time and a UTC offset, {example}"
        )
    elif isinstance(value, str):
        if _iso_date(value.strip()) is not None:
            raise ValueError(f"{value!r} is a date alone: add a time and a UTC offset, {example}")
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(
                f"{value!r} is not an ISO 8601 date-time: write one with a UTC offset, {example}"
            ) from None
    else:
        raise ValueError(f"expected a date-time, {example}")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(
            f"{moment.isoformat()} has no UTC offset: add one ('Z' for UTC, or "
            f"'+01:00' ...), {example}"
        )
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"{moment.isoformat()} is out of range once in UTC") from None


def humanise(action_id: str) -> str:
    """Default title of an action: ``second_opinion`` -> ``Second opinion``."""
    words = " ".join(part for part in action_id.split("_") if part)
    return words[:1].upper() + words[1:]


# -- semantic checks ------------------------------------------------------------------------


def _items(value: Any) -> list[tuple[int, Any]]:
    return list(enumerate(value)) if isinstance(value, list) else []


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


class _Checker:
    """Semantic checks over possibly schema-invalid data: each looks only at well-typed parts."""

    def __init__(self, doc: YamlDocument, known_processes: Collection[str] | None) -> None:
        self.doc = doc
        self.data = _mapping(doc.data)
        self.known = known_processes
        self.problems: list[Problem] = []

    def add(
        self,
        message: str,
        path: YamlPath,
        code: str,
        *,
        at_key: bool = False,
        offset: int | None = None,
    ) -> None:
        self.problems.append(
            self.doc.problem(message, path, code=code, at_key=at_key, offset=offset)
        )

    def run(self) -> list[Problem]:
        self.durations()
        self.calendars()
        self.stages()
        self.subcases()
        for key, what in (
            ("more_info_reasons", "reason"),
            ("subcases", "sub-case process"),
            ("defect_categories", "defect category"),
            ("required_contacts", "contact tag"),
        ):
            self.duplicates((key,), _items(self.data.get(key)), what)
        routes = self.data.get("email_routes")
        mailboxes = [(i, _mapping(route).get("mailbox")) for i, route in _items(routes)]
        self.duplicates(
            ("email_routes",), mailboxes, "mailbox", fold_case=True, suffix=("mailbox",)
        )
        fields = [
            (i, _mapping(item).get("name")) for i, item in _items(self.data.get("data_fields"))
        ]
        self.duplicates(("data_fields",), fields, "data field name", suffix=("name",), code="E016")
        self.schedules()
        return self.problems

    # -- durations ---------------------------------------------------------------------------
    def duration(
        self, path: YamlPath, value: Any, parse: Callable[[str], object] = parse_due
    ) -> None:
        if not isinstance(value, str):
            return  # wrong type: reported by the schema
        try:
            parse(value)
        except DurationError as err:
            self.add(str(err), path, "E001")

    def durations(self) -> None:
        self.duration(("due",), self.data.get("due"))
        self.duration(("feedback_window",), self.data.get("feedback_window"), parse_wall_duration)
        for s, stage in _items(self.data.get("stages")):
            for a, action in _items(_mapping(stage).get("actions")):
                path: YamlPath = ("stages", s, "actions", a, "due")
                self.duration(path, _mapping(action).get("due"))

    # -- schedules (C1) ----------------------------------------------------------------------
    def schedules(self) -> None:
        for i, entry in _items(self.data.get("schedules")):
            schedule = _mapping(entry)
            path: YamlPath = ("schedules", i)
            every = schedule.get("every")
            if isinstance(every, str):
                self.schedule_every(path + ("every",), every)
            if "first" in schedule and isinstance(schedule["first"], (str, date)):
                try:
                    schedule_start(schedule["first"])
                except ValueError as err:
                    self.add(f"invalid schedule start: {err}", path + ("first",), "E017")

    def schedule_every(self, path: YamlPath, every: str) -> None:
        try:
            schedule_interval(every)
        except DurationError as err:
            self.add(str(err), path, "E001")

    # -- calendars ---------------------------------------------------------------------------
    def calendars(self) -> None:
        defined = _mapping(self.data.get("calendars"))
        chosen = self.data.get("calendar")
        if isinstance(chosen, str) and chosen not in defined and chosen not in BUILTIN_CALENDARS:
            names = sorted(set(defined) | set(BUILTIN_CALENDARS))
            self.add(
                f"unknown calendar {chosen!r} (defined: {', '.join(names)})", ("calendar",), "E003"
            )
        for name, body in defined.items():
            if isinstance(body, dict):
                self.calendar(("calendars", name), body)

    def calendar(self, path: YamlPath, body: dict[str, Any]) -> None:
        zone = body.get("timezone")
        if isinstance(zone, str) and not _valid_zone(zone):
            self.add(
                f"unknown time zone {zone!r} (use an IANA name such as 'Europe/Paris')",
                path + ("timezone",),
                "E005",
            )
        hours = body.get("hours")
        if isinstance(hours, dict):
            self.hours(path + ("hours",), hours)
        for i, day in _items(body.get("holidays")):
            if isinstance(day, str) and _matches_date(day) and _iso_date(day) is None:
                self.add(f"{day!r} is not a real date", path + ("holidays", i), "E006")
        self.country(path, body.get("country"), body.get("subdivision"))

    def hours(self, path: YamlPath, hours: dict[str, Any]) -> None:
        working = False
        for day, ranges in hours.items():
            entries: list[tuple[YamlPath, Any]]
            if isinstance(ranges, list):
                entries = [(path + (day, i), text) for i, text in enumerate(ranges)]
            else:
                entries = [(path + (day,), ranges)]
            for where, text in entries:
                if not isinstance(text, str):
                    continue
                try:
                    parse_time_range(text)
                except ValueError as err:
                    self.add(str(err), where, "E004")
                working = True
        if hours and not working and all(isinstance(v, list) for v in hours.values()):
            self.add("the calendar has no working hours", path, "E004")

    def country(self, path: YamlPath, country: Any, subdivision: Any) -> None:
        if not isinstance(country, str):
            if isinstance(subdivision, str) and country is None:
                self.add(
                    "a subdivision needs a country", path + ("subdivision",), "E007", at_key=True
                )
            return
        sub = subdivision if isinstance(subdivision, str) else None
        try:
            holidays.country_holidays(country.upper(), subdiv=sub)
        except NotImplementedError:
            if _country_known(country):
                self.add(
                    f"unknown subdivision {sub!r} of country {country!r}",
                    path + ("subdivision",),
                    "E007",
                )
            else:
                self.add(
                    f"unknown country {country!r} (use an ISO 3166 code such as 'GB' or 'FR')",
                    path + ("country",),
                    "E007",
                )

    # -- stages and actions ------------------------------------------------------------------
    def stages(self) -> None:
        stage_names: dict[str, int] = {}
        action_ids: dict[str, str] = {}
        for s, stage_value in _items(self.data.get("stages")):
            stage = _mapping(stage_value)
            path: YamlPath = ("stages", s)
            name = stage.get("name")
            if isinstance(name, str):
                if name in stage_names:
                    self.add(
                        f"duplicate stage name {name!r} (first at stages[{stage_names[name]}])",
                        path + ("name",),
                        "E011",
                    )
                else:
                    stage_names[name] = s
            self.condition(path + ("condition",), stage.get("condition"))
            actions = stage.get("actions")
            if not isinstance(actions, list):
                continue
            in_flow = 0
            for a, action_value in enumerate(actions):
                action = _mapping(action_value)
                self.action(path + ("actions", a), action, action_ids)
                if action_value is not None and action.get("flow", True) is not False:
                    in_flow += 1
            if in_flow == 0:
                label = f"stage {name!r}" if isinstance(name, str) else "this stage"
                detail = "has no actions" if not actions else "has no action in the flow"
                self.add(
                    f"{label} {detail}: add an action without 'flow: false'",
                    path + ("actions",),
                    "E009",
                )

    def condition(self, path: YamlPath, text: Any) -> None:
        if not isinstance(text, str):
            return
        try:
            parse_condition(text)
        except ExpressionError as err:
            self.add(f"invalid condition: {err.reason}", path, "E002", offset=err.offset)

    def action(self, path: YamlPath, action: dict[str, Any], seen: dict[str, str]) -> None:
        action_id = action.get("id")
        where = f"stages[{path[1]}].actions[{path[3]}]"
        if isinstance(action_id, str):
            if action_id in seen:
                self.add(
                    f"duplicate action id {action_id!r} (first used at {seen[action_id]})",
                    path + ("id",),
                    "E010",
                )
            else:
                seen[action_id] = where
        flow = action.get("flow", True)
        manual = action.get("manual_launch", False)
        if flow is False and manual is not True:
            self.add(
                "an action with 'flow: false' can only be launched by hand: "
                "add 'manual_launch: true'",
                path + ("flow",),
                "E008",
            )
        process = action.get("subcase")
        if isinstance(process, str):
            if flow is False:
                self.add(
                    "a sub-case step must be in the flow: remove 'flow: false'",
                    path + ("flow",),
                    "E015",
                )
            if action.get("robot") is True:
                self.add(
                    "a sub-case step is run by the engine, not a robot: remove 'robot: true'",
                    path + ("robot",),
                    "E015",
                )
            permitted = self.data.get("subcases", [])
            if isinstance(permitted, list) and process not in permitted:
                self.add(
                    f"sub-case process {process!r} is not listed in 'subcases' (SC5)",
                    path + ("subcase",),
                    "E013",
                )
            self.known_process(path + ("subcase",), process)

    # -- sub-cases ---------------------------------------------------------------------------
    def subcases(self) -> None:
        for i, process in _items(self.data.get("subcases")):
            if isinstance(process, str):
                self.known_process(("subcases", i), process)

    def known_process(self, path: YamlPath, process: str) -> None:
        if self.known is None:
            return
        own = self.data.get("id")
        if process != own and process not in self.known:
            self.add(f"unknown process {process!r}: no such process is deployed", path, "E012")

    # -- lists -------------------------------------------------------------------------------
    def duplicates(
        self,
        path: YamlPath,
        entries: list[tuple[int, Any]],
        what: str,
        *,
        fold_case: bool = False,
        suffix: YamlPath = (),
        code: str = "E014",
    ) -> None:
        """Report entries (index, value) of the list at ``path`` that repeat an earlier one."""
        first: dict[str, int] = {}
        for i, value in entries:
            if not isinstance(value, str):
                continue
            key = value.casefold() if fold_case else value
            if key in first:
                self.add(
                    f"duplicate {what} {value!r} "
                    f"(first at {path_str(path + (first[key],) + suffix)})",
                    path + (i,) + suffix,
                    code,
                )
            else:
                first[key] = i


def _valid_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _matches_date(text: str) -> bool:
    return re.match(DATE_PATTERN, text) is not None


def _iso_date(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def _country_known(country: str) -> bool:
    try:
        holidays.country_holidays(country.upper())
    except NotImplementedError:
        return False
    return True


# -- building the model ---------------------------------------------------------------------


def _build(data: dict[str, Any]) -> ProcessModel:
    """The model of a definition that passed every check."""
    return ProcessModel(
        id=data["id"],
        version=int(data["version"]),  # JSON Schema's integer also admits 1.0
        name=data["name"],
        customer=data.get("customer"),
        contract=data.get("contract"),
        service=data.get("service"),
        settings=_settings(data),
        stages=tuple(_stage(stage) for stage in data["stages"]),
        calendars=tuple(_calendar(name, body) for name, body in data.get("calendars", {}).items()),
        data_fields=tuple(_data_field(item) for item in data.get("data_fields", ())),
    )


def _optional_due(value: str | None) -> DueRule | None:
    return parse_due(value) if value is not None else None


def _records_count(value: bool | str) -> RecordsCount:
    if value is True:
        return RecordsCount.SHOWN
    if value is False:
        return RecordsCount.HIDDEN
    return RecordsCount(value)


def _settings(data: dict[str, Any]) -> CaseSettings:
    defaults = CaseSettings()
    flags = (
        "add_wait_time_to_due_date",
        "allow_title_edit",
        "allow_due_date_override",
        "send_automated_emails",
        "calendar_required",
        "keep_with_me",
        "keep_actions_with_me",
    )
    return CaseSettings(
        due=_optional_due(data.get("due")),
        calendar=data.get("calendar"),
        feedback_window=_optional_due(data.get("feedback_window")),
        records_count=_records_count(data.get("records_count", False)),
        more_info_reasons=tuple(data.get("more_info_reasons", ())),
        subcases=tuple(data.get("subcases", ())),
        defect_categories=tuple(data.get("defect_categories", ())),
        sop_url=data.get("sop_url"),
        email_routes=tuple(
            EmailRoute(
                mailbox=route["mailbox"],
                enabled=route.get("enabled", True),
                test_mode=route.get("test_mode", False),
            )
            for route in data.get("email_routes", ())
        ),
        queue=data.get("queue"),
        required_contacts=tuple(data.get("required_contacts", ())),
        schedules=tuple(_schedule(entry) for entry in data.get("schedules", ())),
        **{flag: data.get(flag, getattr(defaults, flag)) for flag in flags},
    )


def _schedule(data: dict[str, Any]) -> ScheduleDef:
    return ScheduleDef(
        every=schedule_interval(data["every"]),
        first=schedule_start(data["first"]),
        title=data.get("title"),
    )


def _stage(data: dict[str, Any]) -> StageDef:
    return StageDef(
        name=data["name"],
        actions=tuple(_action(action) for action in data["actions"]),
        condition=data.get("condition"),
        parallel=data.get("parallel", False),
    )


def _action(data: dict[str, Any]) -> ActionDef:
    return ActionDef(
        id=data["id"],
        title=data.get("title") or humanise(data["id"]),
        instructions=data.get("instructions"),
        due=_optional_due(data.get("due")),
        manual_launch=data.get("manual_launch", False),
        flow=data.get("flow", True),
        robot=data.get("robot", False),
        queue=data.get("queue"),
        sop_url=data.get("sop_url"),
        subcase=data.get("subcase"),
    )


def _data_field(data: dict[str, Any]) -> DataField:
    return DataField(
        name=data["name"],
        type=data["type"],
        label=data.get("label"),
        required=data.get("required", False),
    )


def _holiday(value: date | str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(value)


def _calendar(name: str, data: dict[str, Any]) -> CalendarDef:
    hours = data.get("hours")
    if hours is None:
        periods = office_calendar().periods
    else:
        found: list[WorkingPeriod] = []
        for day, ranges in hours.items():
            for text in ranges if isinstance(ranges, list) else [ranges]:
                start, end = parse_time_range(text)
                found.append(WorkingPeriod(WEEKDAYS.index(day), start, end))
        periods = tuple(sorted(found, key=_period_key))
    return CalendarDef(
        name=name,
        timezone=data.get("timezone", "UTC"),
        periods=periods,
        holidays=tuple(sorted({_holiday(day) for day in data.get("holidays", ())})),
        country=data.get("country"),
        subdivision=data.get("subdivision"),
    )


def _period_key(period: WorkingPeriod) -> tuple[int, time, time]:
    return (period.weekday, period.start, period.end)
