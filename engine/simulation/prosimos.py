"""Import a Prosimos 2.x scenario (BPMN + JSON parameters) as a :class:`Scenario`.

The BPMN is read by :func:`engine.simulation.graph.read_graph` like any other; the JSON gives
arrivals, durations, branching probabilities, resources and calendars. Every problem found in
either file is collected and raised as one :class:`DefinitionError` (JSON problems carry the
JSON path, e.g. ``task_resource_distribution[2].resources[0].distribution_params[1].value``).

The mapping mirrors Prosimos's own reading of the file (``prosimos/simulation_properties_parser.py``
and ``pix_framework/statistics/distribution.py``); ``docs/prosimos.md`` records the semantics
and where they come from. In short:

- distributions (values in seconds): ``fix [value]``, ``expon [mean, min, max]``,
  ``uniform [min, max]``, ``norm [mean, std, min, max]``, ``lognorm [mean, variance, min, max]``,
  ``gamma [mean, variance, min, max]``; extra parameters are ignored as Prosimos does;
  negative samples are never drawn (the lower bound is at least 0);
- one duration distribution per task (Prosimos allows one per task and resource; a task whose
  resources differ is refused);
- a resource of ``resource_profiles[].resource_list[]`` becomes a pool of ``amount``
  interchangeable resources doing every task whose distribution names it (Prosimos ignores
  ``assigned_tasks``, and so does the import);
- calendars become :class:`~engine.model.CalendarDef` in the start's time zone (Prosimos
  applies calendar hours to the wall time of its start datetime); an end of ``23:59:59`` or
  later means the end of the day;
- ``arrival_time_calendar`` becomes the calendar :data:`ARRIVAL_CALENDAR`; without one, the
  union of the calendars of the resources that can do a first task (Prosimos's fallback).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from engine.builder.bpmn_xml import parse_xml
from engine.clock import require_aware
from engine.errors import DefinitionError, InvalidArgument, Problem, ProblemCollector
from engine.model import CalendarDef, WorkingPeriod
from engine.simulation.distributions import Distribution, distribution_problems
from engine.simulation.graph import FlowGraph, NodeKind, read_graph
from engine.simulation.scenario_model import (
    Arrivals,
    ProcessParams,
    ResourcePool,
    Scenario,
    SimProcess,
)

__all__ = [
    "ACCEPTED_DISTRIBUTIONS",
    "ARRIVAL_CALENDAR",
    "UNSUPPORTED_SECTIONS",
    "WEEKDAY_NAMES",
    "import_prosimos",
]

ARRIVAL_CALENDAR = "arrivals"
"""Name of the calendar built from ``arrival_time_calendar``."""

ACCEPTED_DISTRIBUTIONS: tuple[str, ...] = ("fix", "expon", "uniform", "norm", "lognorm", "gamma")
"""Distribution names Prosimos 2.x accepts (``pix_framework`` ``DistributionType`` values
other than ``triang``, which ``DurationDistribution.from_dict`` cannot build)."""

UNSUPPORTED_SECTIONS: tuple[str, ...] = (
    "batch_processing",
    "prioritisation_rules",
    "case_attributes",
    "event_distribution",
    "branch_rules",
    "event_attributes",
    "global_attributes",
    "multitask",
)
"""Prosimos features the simulator does not run: refused when present and not empty."""

WEEKDAY_NAMES: tuple[str, ...] = (
    "MONDAY",
    "TUESDAY",
    "WEDNESDAY",
    "THURSDAY",
    "FRIDAY",
    "SATURDAY",
    "SUNDAY",
)

_PARAM_NAMES: dict[str, tuple[str, ...]] = {
    "fix": ("value",),
    "expon": ("mean", "min", "max"),
    "uniform": ("min", "max"),
    "norm": ("mean", "std", "min", "max"),
    "lognorm": ("mean", "variance", "min", "max"),
    "gamma": ("mean", "variance", "min", "max"),
}
"""Parameter order of each distribution (``DurationDistribution.from_dict``)."""

_TIME = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?$")
_END_OF_DAY = time(23, 59, 59)


def import_prosimos(
    bpmn_path: str | Path,
    json_path: str | Path,
    *,
    start: datetime,
    cases: int | None = None,
    horizon: float | None = None,
    seed: int = 0,
    replications: int = 1,
) -> Scenario:
    """Read a Prosimos scenario into a :class:`Scenario` of one process.

    ``start`` is the simulation start (Prosimos's ``starting_at``); exactly one of ``cases``
    (number of cases, as Prosimos's ``total_cases``) and ``horizon`` (seconds) bounds the run.
    Raises :class:`InvalidArgument` for bad arguments and one :class:`DefinitionError` listing
    every problem of both files.
    """
    utc_start = require_aware(start, "start")
    zone = _zone_name(start)
    _check_bounds(cases, horizon, replications)
    bpmn_file, json_file = str(bpmn_path), str(json_path)
    problems = ProblemCollector(json_file)
    graph = _read_bpmn(bpmn_file, problems)
    data = _read_json(json_file)
    reader = _Reader(problems)
    root = reader.obj(data, "")
    if root is None:
        problems.raise_if_any()
        raise AssertionError("unreachable: a non-object JSON root is a problem")
    _check_sections(root, reader)
    tasks = _tasks(graph)
    calendars = _calendars(root, reader, zone)
    resources = _resources(root, reader, calendars)
    assignment = _durations(root, reader, tasks, resources)
    branches = _branches(root, reader, graph)
    interarrival = _arrival_distribution(root, reader)
    arrival_calendar = _arrival_calendar(
        root, reader, zone, graph, assignment.resources_of, resources
    )
    problems.raise_if_any()
    if graph is None or interarrival is None or arrival_calendar is None:
        raise AssertionError("unreachable: missing parts were reported as problems")
    pid = graph.process_id
    valid = [r for r in resources.values() if r is not None]
    used = {r.calendar for r in valid}
    scenario_calendars = {
        name: cal for name, cal in calendars.items() if name in used and cal is not None
    }
    arrival_name = _free_name(ARRIVAL_CALENDAR, scenario_calendars)
    scenario_calendars[arrival_name] = _renamed(arrival_calendar, arrival_name)
    process = SimProcess(
        id=pid,
        graph=graph,
        model=None,
        task_actions={t: t for t in tasks},
        labels={t: graph.nodes[t].name for t in tasks},
        source=bpmn_file,
    )
    params = ProcessParams(process=pid, durations=assignment.durations, branches=branches)
    return Scenario(
        name=Path(json_file).stem,
        processes={pid: process},
        params={pid: params},
        arrivals=Arrivals(pid, interarrival, arrival_name, gaps="wall"),
        resources=_pools(valid, tasks, assignment.resources_of, pid),
        calendars=scenario_calendars,
        start=utc_start,
        cases=cases,
        horizon=horizon,
        seed=seed,
        replications=replications,
        file=json_file,
    )


# -- arguments and files ----------------------------------------------------------------------


def _check_bounds(cases: int | None, horizon: float | None, replications: int) -> None:
    if (cases is None) == (horizon is None):
        raise InvalidArgument("give exactly one of cases and horizon")
    if cases is not None and (isinstance(cases, bool) or not isinstance(cases, int) or cases < 1):
        raise InvalidArgument(f"cases must be a positive integer, not {cases!r}")
    if horizon is not None and not (isinstance(horizon, int | float) and 0 < horizon < math.inf):
        raise InvalidArgument(f"horizon must be a positive number of seconds, not {horizon!r}")
    if isinstance(replications, bool) or not isinstance(replications, int) or replications < 1:
        raise InvalidArgument(f"replications must be a positive integer, not {replications!r}")


def _zone_name(start: datetime) -> str:
    """The time zone in which Prosimos would read calendar hours: that of ``start``."""
    tz = start.tzinfo
    if isinstance(tz, ZoneInfo):
        return tz.key
    offset = start.utcoffset() or timedelta(0)
    if offset == timedelta(0):
        return "UTC"
    hours, rest = divmod(offset, timedelta(hours=1))
    if rest:
        raise InvalidArgument(
            f"start {start.isoformat()}: give a named time zone (ZoneInfo) or a whole-hour offset"
        )
    return f"Etc/GMT{-hours:+d}"  # POSIX sign: Etc/GMT-2 is UTC+02:00


def _read_bpmn(file: str, problems: ProblemCollector) -> FlowGraph | None:
    try:
        data = Path(file).read_bytes()
    except OSError as exc:
        raise DefinitionError(
            Problem(f"cannot read the BPMN file: {exc.strerror}", file=file)
        ) from exc
    try:
        return read_graph(parse_xml(data, file), file)
    except DefinitionError as exc:  # keep going: report the JSON's problems too
        problems.extend(exc.problems)
        return None


def _read_json(file: str) -> object:
    try:
        text = Path(file).read_text(encoding="utf-8")
    except OSError as exc:
        raise DefinitionError(
            Problem(f"cannot read the JSON file: {exc.strerror}", file=file)
        ) from exc
    except UnicodeDecodeError as exc:
        raise DefinitionError(
            Problem(f"the JSON file is not UTF-8: {exc.reason}", file=file)
        ) from exc
    try:
        data: object = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DefinitionError(
            Problem(f"malformed JSON: {exc.msg}", file=file, line=exc.lineno, column=exc.colno)
        ) from exc
    return data


# -- JSON access with located problems --------------------------------------------------------


class _Reader:
    """Typed access to the loaded JSON; every mismatch becomes a problem at its JSON path."""

    def __init__(self, problems: ProblemCollector) -> None:
        self.problems = problems

    def add(self, path: str, message: str, element_id: str = "") -> None:
        self.problems.add(message, path=path, element_id=element_id)

    def obj(self, value: object, path: str) -> dict[str, Any] | None:
        if isinstance(value, dict):
            return value
        self.add(path, f"expected an object, found {_kind(value)}")
        return None

    def items(self, value: object, path: str) -> Iterator[tuple[str, Any]]:
        if not isinstance(value, list):
            self.add(path, f"expected a list, found {_kind(value)}")
            return
        for index, item in enumerate(value):
            yield f"{path}[{index}]", item

    def objects(self, value: object, path: str) -> Iterator[tuple[str, dict[str, Any]]]:
        for item_path, item in self.items(value, path):
            obj = self.obj(item, item_path)
            if obj is not None:
                yield item_path, obj

    def required(self, obj: dict[str, Any], key: str, path: str) -> object:
        if key not in obj:
            self.add(path, f"missing {key!r}")
            return None
        return obj[key]

    def text(self, obj: dict[str, Any], key: str, path: str) -> str | None:
        if key not in obj:
            self.add(path, f"missing {key!r}")
            return None
        value = obj[key]
        if isinstance(value, str) and value:
            return value
        self.add(_join(path, key), f"expected a non-empty string, found {_kind(value)}")
        return None

    def number(self, value: object, path: str) -> float | None:
        """A finite number; numeric strings are accepted as Prosimos's ``float()`` does."""
        number: float | None = None
        if isinstance(value, int | float) and not isinstance(value, bool):
            number = float(value)
        elif isinstance(value, str):
            try:
                number = float(value)
            except ValueError:
                number = None
        if number is None or not math.isfinite(number):
            self.add(path, f"expected a finite number, found {_kind(value)}")
            return None
        return number


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, str):
        return repr(value) if len(value) <= 40 else "a string"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


# -- sections ---------------------------------------------------------------------------------


def _check_sections(root: dict[str, Any], reader: _Reader) -> None:
    for key in UNSUPPORTED_SECTIONS:
        if root.get(key):
            reader.add(key, f"the simulator does not support Prosimos's {key!r}")
    model_type = root.get("model_type")
    if model_type not in (None, "CRISP", "CRSIP"):
        reader.add("model_type", f"the simulator supports only crisp calendars, not {model_type!r}")


def _tasks(graph: FlowGraph | None) -> list[str]:
    if graph is None:
        return []
    return [n.id for n in graph.nodes.values() if n.kind == NodeKind.TASK]


# -- calendars --------------------------------------------------------------------------------


def _calendars(root: dict[str, Any], reader: _Reader, zone: str) -> dict[str, CalendarDef | None]:
    """Calendars by id; None for one whose problems were reported."""
    calendars: dict[str, CalendarDef | None] = {}
    value = reader.required(root, "resource_calendars", "")
    if value is None:
        return calendars
    for path, entry in reader.objects(value, "resource_calendars"):
        name = reader.text(entry, "id", path)
        periods = _periods(entry.get("time_periods"), _join(path, "time_periods"), reader)
        if name is None:
            continue
        if name in calendars:
            reader.add(_join(path, "id"), f"calendar {name!r} is defined twice")
            continue
        calendars[name] = (
            None if periods is None else CalendarDef(name=name, timezone=zone, periods=periods)
        )
    return calendars


def _periods(value: object, path: str, reader: _Reader) -> tuple[WorkingPeriod, ...] | None:
    """Prosimos time periods (``from``/``to`` weekday names, wrapping past Sunday, and
    ``beginTime``/``endTime``) as working periods; None when one of them is bad."""
    periods: list[WorkingPeriod] = []
    ok = True
    for item_path, item in reader.objects(value, path):
        first = _weekday(reader.text(item, "from", item_path), _join(item_path, "from"), reader)
        last = _weekday(reader.text(item, "to", item_path), _join(item_path, "to"), reader)
        begin = _clock_time(
            reader.text(item, "beginTime", item_path), _join(item_path, "beginTime"), reader
        )
        end = _clock_time(
            reader.text(item, "endTime", item_path), _join(item_path, "endTime"), reader
        )
        if first is None or last is None or begin is None or end is None:
            ok = False
            continue
        if end >= _END_OF_DAY:
            end = time(0)  # through midnight: Prosimos's 24-hour spelling
        elif end <= begin:
            reader.add(item_path, f"endTime {end} is not after beginTime {begin}")
            ok = False
            continue
        day = first
        while True:
            periods.append(WorkingPeriod(day, begin, end))
            if day == last:
                break
            day = (day + 1) % 7
    if not isinstance(value, list):
        return None
    return tuple(periods) if ok else None


def _weekday(name: str | None, path: str, reader: _Reader) -> int | None:
    if name is None:
        return None
    upper = name.upper()
    if upper not in WEEKDAY_NAMES:
        reader.add(path, f"unknown weekday {name!r} (expected MONDAY ... SUNDAY)")
        return None
    return WEEKDAY_NAMES.index(upper)


def _clock_time(text: str | None, path: str, reader: _Reader) -> time | None:
    if text is None:
        return None
    match = _TIME.match(text.strip())
    if match is not None:
        hour, minute = int(match[1]), int(match[2])
        second = int(match[3] or 0)
        micro = int((match[4] or "0")[:6].ljust(6, "0"))
        if hour < 24 and minute < 60 and second < 60:
            return time(hour, minute, second, micro)
    reader.add(path, f"expected a time of day such as '09:00:00', found {text!r}")
    return None


def _renamed(calendar: CalendarDef, name: str) -> CalendarDef:
    return CalendarDef(name=name, timezone=calendar.timezone, periods=calendar.periods)


def _free_name(name: str, taken: dict[str, CalendarDef]) -> str:
    candidate, n = name, 1
    while candidate in taken:
        n += 1
        candidate = f"{name}_{n}"
    return candidate


# -- resources --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Resource:
    id: str
    amount: int
    calendar: str
    cost_per_hour: float


def _resources(
    root: dict[str, Any], reader: _Reader, calendars: dict[str, CalendarDef | None]
) -> dict[str, _Resource | None]:
    """Resources by id; None for one whose problems were reported."""
    resources: dict[str, _Resource | None] = {}
    profiles = reader.required(root, "resource_profiles", "")
    if profiles is None:
        return resources
    for profile_path, profile in reader.objects(profiles, "resource_profiles"):
        members = reader.required(profile, "resource_list", profile_path)
        if members is None:
            continue
        for path, entry in reader.objects(members, _join(profile_path, "resource_list")):
            rid = entry.get("id")
            resource = _resource(entry, path, reader, calendars)
            if not isinstance(rid, str) or not rid:
                continue
            if rid in resources:
                reader.add(_join(path, "id"), f"resource {rid!r} is defined twice")
                continue
            resources[rid] = resource
    return resources


def _resource(
    entry: dict[str, Any], path: str, reader: _Reader, calendars: dict[str, CalendarDef | None]
) -> _Resource | None:
    rid = reader.text(entry, "id", path)
    calendar = reader.text(entry, "calendar", path)
    amount = _amount(reader.required(entry, "amount", path), _join(path, "amount"), reader)
    cost = 0.0
    if "cost_per_hour" in entry:
        cost_value = reader.number(entry["cost_per_hour"], _join(path, "cost_per_hour"))
        if cost_value is not None and cost_value < 0:
            reader.add(_join(path, "cost_per_hour"), "cost_per_hour must not be negative")
        cost = cost_value if cost_value is not None else 0.0
    if calendar is not None:
        if calendar not in calendars:
            reader.add(_join(path, "calendar"), f"unknown calendar {calendar!r}")
        definition = calendars.get(calendar)
        if definition is not None and not definition.periods:
            reader.add(
                _join(path, "calendar"),
                f"resource {rid!r} has no working hours: calendar {calendar!r} is empty",
            )
        calendar = calendar if definition is not None and definition.periods else None
    if rid is None or calendar is None or amount is None:
        return None
    return _Resource(rid, amount, calendar, cost)


def _pools(
    resources: list[_Resource], tasks: list[str], resources_of: dict[str, list[str]], pid: str
) -> tuple[ResourcePool, ...]:
    """One pool per resource, doing the tasks (qualified ``process.task``) that name it."""
    return tuple(
        ResourcePool(
            name=r.id,
            count=r.amount,
            actions=tuple(f"{pid}.{t}" for t in tasks if r.id in resources_of.get(t, ())),
            calendar=r.calendar,
            cost_per_hour=r.cost_per_hour,
        )
        for r in resources
    )


def _amount(value: object, path: str, reader: _Reader) -> int | None:
    if value is None:
        return None
    amount: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        amount = value
    elif isinstance(value, str) and value.strip().isdigit():
        amount = int(value)
    if amount is None or amount < 1:
        reader.add(path, f"amount must be a positive integer, found {_kind(value)}")
        return None
    return amount


# -- durations --------------------------------------------------------------------------------


@dataclass
class _Assignment:
    """Per task: its one duration distribution and the resources that can do it."""

    durations: dict[str, Distribution]
    resources_of: dict[str, list[str]]


def _durations(
    root: dict[str, Any],
    reader: _Reader,
    tasks: list[str],
    resources: dict[str, _Resource | None],
) -> _Assignment:
    assignment = _Assignment({}, {})
    value = reader.required(root, "task_resource_distribution", "")
    if value is None:
        return assignment
    known = set(tasks)
    seen: dict[str, tuple[str, str, Distribution]] = {}  # task -> (path, resource, dist)
    for path, entry in reader.objects(value, "task_resource_distribution"):
        task = reader.text(entry, "task_id", path)
        if task is not None and known and task not in known:
            reader.add(
                _join(path, "task_id"), f"task {task!r} is not a task of the BPMN", element_id=task
            )
            task = None
        members = reader.required(entry, "resources", path)
        if members is None:
            continue
        if members == []:
            reader.add(
                _join(path, "resources"), f"task {entry.get('task_id')!r} lists no resources"
            )
        for rpath, rentry in reader.objects(members, _join(path, "resources")):
            rid = reader.text(rentry, "resource_id", rpath)
            if rid is not None and rid not in resources:
                reader.add(_join(rpath, "resource_id"), f"unknown resource {rid!r}")
            dist = _parse_distribution(rentry, rpath, reader)
            if task is None or rid is None or dist is None:
                continue
            if rid not in assignment.resources_of.setdefault(task, []):
                assignment.resources_of[task].append(rid)
            previous = seen.get(task)
            if previous is None:
                seen[task] = (rpath, rid, dist)
                assignment.durations[task] = dist
            elif previous[2] != dist:
                reader.add(
                    rpath,
                    f"task {task!r} takes a different duration with resource {rid!r} than with "
                    f"{previous[1]!r} ({previous[0]}); the simulator needs one duration "
                    "distribution per task",
                    element_id=task,
                )
    named = _reported_tasks(value)
    for task in tasks:
        if task not in assignment.resources_of and task not in named:
            reader.add(
                "task_resource_distribution",
                f"task {task!r} has no resource and duration",
                element_id=task,
            )
    return assignment


def _reported_tasks(value: object) -> set[str]:
    """Task ids named in the section (their own problems were reported where they are)."""
    if not isinstance(value, list):
        return set()
    return {
        e["task_id"] for e in value if isinstance(e, dict) and isinstance(e.get("task_id"), str)
    }


def _parse_distribution(entry: dict[str, Any], path: str, reader: _Reader) -> Distribution | None:
    """A Prosimos ``{"distribution_name", "distribution_params": [{"value": ...}]}`` as a
    :class:`Distribution`, with the meaning ``pix_framework``'s ``DurationDistribution`` gives it.
    """
    name = reader.text(entry, "distribution_name", path)
    raw = reader.required(entry, "distribution_params", path)
    if name is None or raw is None:
        return None
    if name not in ACCEPTED_DISTRIBUTIONS:
        reader.add(
            _join(path, "distribution_name"),
            f"distribution {name!r} is not accepted (Prosimos 2.x accepts "
            f"{', '.join(ACCEPTED_DISTRIBUTIONS)})",
        )
        return None
    names = _PARAM_NAMES[name]
    params_path = _join(path, "distribution_params")
    values: list[float | None] = []
    for item_path, item in reader.items(raw, params_path):
        if len(values) == len(names):
            break  # Prosimos reads the first len(names) parameters and ignores the rest
        obj = reader.obj(item, item_path)
        if obj is None:
            values.append(None)
            continue
        value = reader.required(obj, "value", item_path)
        values.append(None if value is None else reader.number(value, _join(item_path, "value")))
    if not isinstance(raw, list):
        return None
    if len(values) < len(names):
        reader.add(
            params_path,
            f"{name} takes {len(names)} parameters ({', '.join(names)}), found {len(raw)}",
        )
        return None
    numbers = [v for v in values if v is not None]
    if len(numbers) != len(names):
        return None
    return _distribution(name, dict(zip(names, numbers, strict=True)), params_path, reader)


def _distribution(
    name: str, p: dict[str, float], path: str, reader: _Reader
) -> Distribution | None:
    """Check the numbers and build the distribution (see ``docs/prosimos.md``)."""
    errors: list[str] = []
    if name == "fix":
        if p["value"] < 0:
            errors.append(f"fix value {p['value']:g} is negative")
        return _or_report(errors, path, reader, Distribution("fix", (p["value"],)))
    low, high = p["min"], p["max"]
    if low > high:
        errors.append(f"min {low:g} is greater than max {high:g}")
    if high < 0:
        errors.append(f"max {high:g} is negative: no duration can be drawn")
    lower = max(low, 0.0)  # pix_framework also drops negative samples
    if name == "uniform":
        if lower >= high:
            errors.append(f"uniform needs 0 <= min < max, found {low:g} and {high:g}")
        # Draws below 0 are redrawn: uniform over [max(min, 0), max], no bounds needed.
        return _or_report(errors, path, reader, Distribution("uniform", (lower, high)))
    mean = p["mean"]
    if name == "expon":
        if mean <= 0:
            errors.append(f"expon mean {mean:g} must be positive")
        elif mean == low:
            errors.append(f"expon mean equals min ({mean:g}): its scale mean - min is 0")
        return _or_report(errors, path, reader, _expon(mean, low, lower, high))
    if name == "norm":
        std = p["std"]
        if std <= 0:
            errors.append(f"norm std {std:g} must be positive (use fix for a constant)")
        return _or_report(
            errors, path, reader, Distribution("norm", (mean, std), lower, high, resample=True)
        )
    variance = p["variance"]  # lognorm and gamma: mean and variance of the values
    if mean <= 0:
        errors.append(f"{name} mean {mean:g} must be positive")
    if variance <= 0:
        errors.append(f"{name} variance {variance:g} must be positive")
    std = math.sqrt(variance) if variance > 0 else 0.0
    return _or_report(
        errors, path, reader, Distribution(name, (mean, std), lower, high, resample=True)
    )


def _expon(mean: float, loc: float, lower: float, high: float) -> Distribution:
    """Prosimos's ``expon [mean, min, max]``: ``min + Exp(scale = mean - min)`` (scale ``mean``
    when ``mean < min``), redrawn until within ``[max(min, 0), max]``."""
    scale = mean - loc if mean >= loc else mean
    if loc <= 0:
        return Distribution("expon", (scale,), lower, high, resample=True)
    return Distribution("expon", (loc + scale, loc), lower, high, resample=True)


def _or_report(
    errors: list[str], path: str, reader: _Reader, dist: Distribution
) -> Distribution | None:
    """Report ``errors``, or the simulator's own objections to ``dist``; None if any."""
    if not errors:
        errors = [message for _, message in distribution_problems(dist, time=True)]
    for message in errors:
        reader.add(path, message)
    return None if errors else dist


# -- gateways ---------------------------------------------------------------------------------


def _branches(
    root: dict[str, Any], reader: _Reader, graph: FlowGraph | None
) -> dict[str, tuple[tuple[str, float], ...]]:
    branches: dict[str, tuple[tuple[str, float], ...]] = {}
    value = reader.required(root, "gateway_branching_probabilities", "")
    if value is None:
        return branches
    for path, entry in reader.objects(value, "gateway_branching_probabilities"):
        gateway = reader.text(entry, "gateway_id", path)
        members = reader.required(entry, "probabilities", path)
        if gateway is None or members is None:
            continue
        flows = _gateway_flows(gateway, _join(path, "gateway_id"), reader, graph)
        if gateway in branches:
            reader.add(_join(path, "gateway_id"), f"gateway {gateway!r} is listed twice", gateway)
            continue
        choice = _probabilities(members, _join(path, "probabilities"), reader, flows, gateway)
        if choice is not None and flows is not None:
            branches[gateway] = choice
    if graph is not None:
        for node in graph.nodes.values():
            if node.kind == NodeKind.XOR and len(node.outgoing) > 1 and node.id not in branches:
                if node.id not in _listed_gateways(value):
                    reader.add(
                        "gateway_branching_probabilities",
                        f"exclusive gateway {node.id!r} splits but has no branching probabilities",
                        node.id,
                    )
    return branches


def _listed_gateways(value: object) -> set[str]:
    if not isinstance(value, list):
        return set()
    return {
        e["gateway_id"]
        for e in value
        if isinstance(e, dict) and isinstance(e.get("gateway_id"), str)
    }


def _gateway_flows(
    gateway: str, path: str, reader: _Reader, graph: FlowGraph | None
) -> set[str] | None:
    """The outgoing flow ids of an exclusive gateway of the BPMN; None (reported) otherwise."""
    if graph is None:
        return None
    node = graph.nodes.get(gateway)
    if node is None:
        reader.add(path, f"gateway {gateway!r} is not in the BPMN", gateway)
        return None
    if node.kind != NodeKind.XOR:
        reader.add(
            path,
            f"{gateway!r} is a {node.kind.name} node; branching probabilities apply to "
            "exclusive gateways",
            gateway,
        )
        return None
    return {f.id for f in node.outgoing}


def _probabilities(
    members: object, path: str, reader: _Reader, flows: set[str] | None, gateway: str
) -> tuple[tuple[str, float], ...] | None:
    """(flow, probability) pairs; flows without ``value`` share what is left, as in Prosimos."""
    pairs: list[tuple[str, float | None]] = []
    ok = True
    for item_path, item in reader.objects(members, path):
        flow = reader.text(item, "path_id", item_path)
        if flow is None:
            ok = False
            continue
        if flows is not None and flow not in flows:
            reader.add(
                _join(item_path, "path_id"),
                f"{flow!r} is not an outgoing flow of gateway {gateway!r}",
                gateway,
            )
            ok = False
        if any(flow == f for f, _ in pairs):
            reader.add(_join(item_path, "path_id"), f"flow {flow!r} is listed twice", gateway)
            ok = False
        probability: float | None = None
        if "value" in item:
            probability = reader.number(item["value"], _join(item_path, "value"))
            if probability is None:
                ok = False
            elif not 0 <= probability <= 1:
                reader.add(
                    _join(item_path, "value"), f"probability {probability:g} is not in [0, 1]"
                )
                ok = False
        pairs.append((flow, probability))
    if not isinstance(members, list) or not ok:
        return None
    if not pairs:
        reader.add(path, f"gateway {gateway!r} lists no flows", gateway)
        return None
    given = sum(p for _, p in pairs if p is not None)
    missing = sum(1 for _, p in pairs if p is None)
    share = (1 - given) / missing if missing else 0.0
    result = tuple((f, share if p is None else p) for f, p in pairs)
    total = sum(p for _, p in result)
    if share < 0 or abs(total - 1) > 1e-6:
        reader.add(path, f"probabilities of gateway {gateway!r} sum to {total:g}, not 1", gateway)
        return None
    return result


# -- arrivals ---------------------------------------------------------------------------------


def _arrival_distribution(root: dict[str, Any], reader: _Reader) -> Distribution | None:
    value = reader.required(root, "arrival_time_distribution", "")
    if value is None:
        return None
    entry = reader.obj(value, "arrival_time_distribution")
    if entry is None:
        return None
    return _parse_distribution(entry, "arrival_time_distribution", reader)


def _arrival_calendar(
    root: dict[str, Any],
    reader: _Reader,
    zone: str,
    graph: FlowGraph | None,
    resources_of: dict[str, list[str]],
    resources: dict[str, _Resource | None],
) -> CalendarDef | None:
    """``arrival_time_calendar``; without one, the union of the calendars of the resources
    able to do a first task (``SimDiffSetup.find_arrival_calendar``)."""
    if "arrival_time_calendar" in root:
        periods = _periods(root["arrival_time_calendar"], "arrival_time_calendar", reader)
        if periods is None:
            return None
        if not periods:
            reader.add("arrival_time_calendar", "the arrival calendar has no working hours")
            return None
        return CalendarDef(name=ARRIVAL_CALENDAR, timezone=zone, periods=periods)
    if graph is None:
        return None
    calendars = _calendars_by_name(root)
    union: list[WorkingPeriod] = []
    for task in _first_tasks(graph):
        for rid in resources_of.get(task, []):
            resource = resources.get(rid)
            if resource is not None and resource.calendar in calendars:
                union.extend(calendars[resource.calendar])
    if not union:
        reader.add(
            "arrival_time_calendar",
            "no arrival calendar: give arrival_time_calendar (no first task has a resource "
            "with working hours)",
        )
        return None
    unique = tuple(dict.fromkeys(union))
    return CalendarDef(name=ARRIVAL_CALENDAR, timezone=zone, periods=unique)


def _calendars_by_name(root: dict[str, Any]) -> dict[str, tuple[WorkingPeriod, ...]]:
    """Calendar periods re-read quietly (their problems were reported by :func:`_calendars`)."""
    quiet = _Reader(ProblemCollector())
    found: dict[str, tuple[WorkingPeriod, ...]] = {}
    for path, entry in quiet.objects(root.get("resource_calendars"), "resource_calendars"):
        name = entry.get("id")
        periods = _periods(entry.get("time_periods"), path, quiet)
        if isinstance(name, str) and periods:
            found.setdefault(name, periods)
    return found


def _first_tasks(graph: FlowGraph) -> list[str]:
    """Tasks reachable from the start event without passing another task."""
    seen: set[str] = set()
    tasks: list[str] = []
    pending = [graph.start]
    while pending:
        node = graph.nodes[pending.pop()]
        for flow in node.outgoing:
            target = graph.nodes.get(flow.target)
            if target is None or target.id in seen:
                continue
            seen.add(target.id)
            if target.kind == NodeKind.TASK:
                tasks.append(target.id)
            elif target.kind != NodeKind.END:
                pending.append(target.id)
    return tasks
