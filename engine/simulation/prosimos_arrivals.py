"""Prosimos arrivals: ``arrival_time_distribution`` and the arrival calendar.

``arrival_time_calendar`` becomes the calendar :data:`ARRIVAL_CALENDAR`; without one, the
union of the calendars of the resources that can do a first task (Prosimos's fallback,
``SimDiffSetup.find_arrival_calendar``). See ``docs/prosimos.md``.
"""

from __future__ import annotations

from typing import Any

from engine.model import CalendarDef, WorkingPeriod
from engine.simulation.distributions import Distribution
from engine.simulation.graph import FlowGraph, NodeKind
from engine.simulation.prosimos_calendars import calendar_periods, read_periods
from engine.simulation.prosimos_distributions import parse_distribution
from engine.simulation.prosimos_json import JsonReader
from engine.simulation.prosimos_resources import Resource

__all__ = ["ARRIVAL_CALENDAR", "arrival_calendar", "arrival_distribution"]

ARRIVAL_CALENDAR = "arrivals"
"""Name of the calendar built from ``arrival_time_calendar``."""


def arrival_distribution(root: dict[str, Any], reader: JsonReader) -> Distribution | None:
    """The inter-arrival time distribution; None (reported) when missing or bad."""
    value = reader.required(root, "arrival_time_distribution", "")
    if value is None:
        return None
    entry = reader.obj(value, "arrival_time_distribution")
    if entry is None:
        return None
    return parse_distribution(entry, "arrival_time_distribution", reader)


def arrival_calendar(
    root: dict[str, Any],
    reader: JsonReader,
    zone: str,
    graph: FlowGraph | None,
    resources_of: dict[str, list[str]],
    resources: dict[str, Resource | None],
) -> CalendarDef | None:
    """``arrival_time_calendar``; without one, the union of the calendars of the resources
    able to do a first task (``SimDiffSetup.find_arrival_calendar``)."""
    if "arrival_time_calendar" in root:
        periods = read_periods(root["arrival_time_calendar"], "arrival_time_calendar", reader)
        if periods is None:
            return None
        if not periods:
            reader.add("arrival_time_calendar", "the arrival calendar has no working hours")
            return None
        return CalendarDef(name=ARRIVAL_CALENDAR, timezone=zone, periods=periods)
    if graph is None:
        return None
    calendars = calendar_periods(root)
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
