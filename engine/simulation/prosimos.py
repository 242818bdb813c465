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
- a duration distribution per task and resource: the first resource's is the task's, a
  resource that differs gets its own (``ProcessParams.pool_durations``);
- a resource of ``resource_profiles[].resource_list[]`` becomes a pool of ``amount``
  interchangeable resources doing every task whose distribution names it (Prosimos ignores
  ``assigned_tasks``, and so does the import);
- calendars become :class:`~engine.model.CalendarDef` in the start's time zone (Prosimos
  applies calendar hours to the wall time of its start datetime); an end of ``23:59:59`` or
  later means the end of the day;
- ``arrival_time_calendar`` becomes the calendar :data:`ARRIVAL_CALENDAR`; without one, the
  union of the calendars of the resources that can do a first task (Prosimos's fallback).

This module checks the arguments and the sections and puts the scenario together; each part
of the JSON is read by its own module: :mod:`~engine.simulation.prosimos_json` (file and
located access), :mod:`~engine.simulation.prosimos_calendars`,
:mod:`~engine.simulation.prosimos_distributions`, :mod:`~engine.simulation.prosimos_resources`
(resources and task durations), :mod:`~engine.simulation.prosimos_branches` (gateways) and
:mod:`~engine.simulation.prosimos_arrivals`.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from engine.builder.bpmn_xml import parse_xml
from engine.clock import require_aware
from engine.errors import DefinitionError, InvalidArgument, Problem, ProblemCollector
from engine.simulation.graph import FlowGraph, NodeKind, read_graph
from engine.simulation.prosimos_arrivals import (
    ARRIVAL_CALENDAR,
    arrival_calendar,
    arrival_distribution,
)
from engine.simulation.prosimos_branches import read_branches
from engine.simulation.prosimos_calendars import (
    WEEKDAY_NAMES,
    free_name,
    read_calendars,
    renamed,
)
from engine.simulation.prosimos_distributions import ACCEPTED_DISTRIBUTIONS
from engine.simulation.prosimos_json import JsonReader, read_json_file
from engine.simulation.prosimos_resources import read_durations, read_resources, resource_pools
from engine.simulation.scenario_model import (
    Arrivals,
    ProcessParams,
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
    try:
        data = read_json_file(json_file)
    except DefinitionError as exc:  # report the BPMN's problems with it
        problems.extend(exc.problems)
        problems.raise_if_any()
        raise
    reader = JsonReader(problems)
    root = reader.obj(data, "")
    if root is None:
        problems.raise_if_any()
        raise AssertionError("unreachable: a non-object JSON root is a problem")
    _check_sections(root, reader)
    tasks = _tasks(graph)
    calendars = read_calendars(root, reader, zone)
    resources = read_resources(root, reader, calendars)
    assignment = read_durations(root, reader, tasks, resources)
    branches = read_branches(root, reader, graph)
    interarrival = arrival_distribution(root, reader)
    arrivals_calendar = arrival_calendar(
        root, reader, zone, graph, assignment.resources_of, resources
    )
    problems.raise_if_any()
    if graph is None or interarrival is None or arrivals_calendar is None:
        raise AssertionError("unreachable: missing parts were reported as problems")
    pid = graph.process_id
    valid = [r for r in resources.values() if r is not None]
    used = {r.calendar for r in valid}
    scenario_calendars = {
        name: cal for name, cal in calendars.items() if name in used and cal is not None
    }
    arrival_name = free_name(ARRIVAL_CALENDAR, scenario_calendars)
    scenario_calendars[arrival_name] = renamed(arrivals_calendar, arrival_name)
    process = SimProcess(
        id=pid,
        graph=graph,
        model=None,
        task_actions={t: t for t in tasks},
        labels={t: graph.nodes[t].name for t in tasks},
        source=bpmn_file,
    )
    params = ProcessParams(
        process=pid,
        durations=assignment.durations,
        pool_durations=assignment.by_resource,  # one pool per resource, named by its id
        branches=branches,
    )
    return Scenario(
        name=Path(json_file).stem,
        processes={pid: process},
        params={pid: params},
        arrivals=Arrivals(pid, interarrival, arrival_name, gaps="wall"),
        resources=resource_pools(valid, tasks, assignment.resources_of, pid),
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
    except OSError as exc:  # keep going: report the JSON's problems too
        problems.extend([Problem(f"cannot read the BPMN file: {exc.strerror}", file=file)])
        return None
    try:
        return read_graph(parse_xml(data, file), file)
    except DefinitionError as exc:  # keep going: report the JSON's problems too
        problems.extend(exc.problems)
        return None


# -- sections ---------------------------------------------------------------------------------


def _check_sections(root: dict[str, Any], reader: JsonReader) -> None:
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
