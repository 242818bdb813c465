"""Prosimos resources (``resource_profiles``) and task durations (``task_resource_distribution``).

A resource of ``resource_profiles[].resource_list[]`` becomes a pool of ``amount``
interchangeable resources doing every task whose distribution names it (Prosimos ignores
``assigned_tasks``, and so does the import). Prosimos gives one duration distribution per
task and resource: the first resource's becomes the task's duration, and a resource that
differs gets its own (``ProcessParams.pool_durations``). See ``docs/prosimos.md``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from engine.model import CalendarDef
from engine.simulation.distributions import Distribution
from engine.simulation.prosimos_distributions import parse_distribution
from engine.simulation.prosimos_json import JsonReader, join_path, kind_of, string_values
from engine.simulation.scenario_model import ResourcePool

__all__ = ["Assignment", "Resource", "read_durations", "read_resources", "resource_pools"]


@dataclass(frozen=True)
class Resource:
    """One entry of a ``resource_list``: ``amount`` resources working on ``calendar``."""

    id: str
    amount: int
    calendar: str
    cost_per_hour: float


@dataclass
class Assignment:
    """Per task: its duration distribution (the first resource's), the resources that can do
    it, and the distributions of the resources whose duration differs from that one."""

    durations: dict[str, Distribution]
    resources_of: dict[str, list[str]]
    by_resource: dict[str, dict[str, Distribution]] = field(default_factory=dict)


def read_resources(
    root: dict[str, Any], reader: JsonReader, calendars: dict[str, CalendarDef | None]
) -> dict[str, Resource | None]:
    """Resources by id; None for one whose problems were reported."""
    resources: dict[str, Resource | None] = {}
    for profile_path, profile in reader.section(root, "resource_profiles"):
        members = reader.required(profile, "resource_list", profile_path)
        if members is None:
            continue
        for path, entry in reader.objects(members, join_path(profile_path, "resource_list")):
            rid = entry.get("id")
            resource = _resource(entry, path, reader, calendars)
            if not isinstance(rid, str) or not rid:
                continue
            reader.define_once(resources, rid, resource, path, "resource")
    return resources


def _resource(
    entry: dict[str, Any], path: str, reader: JsonReader, calendars: dict[str, CalendarDef | None]
) -> Resource | None:
    rid = reader.text(entry, "id", path)
    calendar = reader.text(entry, "calendar", path)
    amount = _amount(reader.required(entry, "amount", path), join_path(path, "amount"), reader)
    cost = 0.0
    if "cost_per_hour" in entry:
        cost_value = reader.number(entry["cost_per_hour"], join_path(path, "cost_per_hour"))
        if cost_value is not None and cost_value < 0:
            reader.add(join_path(path, "cost_per_hour"), "cost_per_hour must not be negative")
        cost = cost_value if cost_value is not None else 0.0
    if calendar is not None:
        if calendar not in calendars:
            reader.add(join_path(path, "calendar"), f"unknown calendar {calendar!r}")
        definition = calendars.get(calendar)
        if definition is not None and not definition.periods:
            reader.add(
                join_path(path, "calendar"),
                f"resource {rid!r} has no working hours: calendar {calendar!r} is empty",
            )
        calendar = calendar if definition is not None and definition.periods else None
    if rid is None or calendar is None or amount is None:
        return None
    return Resource(rid, amount, calendar, cost)


def _amount(value: object, path: str, reader: JsonReader) -> int | None:
    if value is None:
        return None
    amount: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        amount = value
    elif isinstance(value, str) and value.strip().isdigit():
        amount = int(value)
    if amount is None or amount < 1:
        reader.add(path, f"amount must be a positive integer, found {kind_of(value)}")
        return None
    return amount


def resource_pools(
    resources: list[Resource], tasks: list[str], resources_of: dict[str, list[str]], pid: str
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


def read_durations(
    root: dict[str, Any],
    reader: JsonReader,
    tasks: list[str],
    resources: dict[str, Resource | None],
) -> Assignment:
    """``task_resource_distribution``: the duration of each task of ``tasks`` (the BPMN's;
    none known when the BPMN could not be read), the resources that can do it, and the
    resources that take another duration (Prosimos gives one per task and resource)."""
    assignment = Assignment({}, {}, {})
    value = reader.required(root, "task_resource_distribution", "")
    if value is None:
        return assignment
    known = set(tasks)
    seen: dict[str, tuple[str, str, Distribution]] = {}  # task -> (path, resource, dist)
    for path, entry in reader.objects(value, "task_resource_distribution"):
        task = reader.text(entry, "task_id", path)
        if task is not None and known and task not in known:
            reader.add(
                join_path(path, "task_id"),
                f"task {task!r} is not a task of the BPMN",
                element_id=task,
            )
            task = None
        members = reader.required(entry, "resources", path)
        if members is None:
            continue
        if members == []:
            reader.add(
                join_path(path, "resources"), f"task {entry.get('task_id')!r} lists no resources"
            )
        for rpath, rentry in reader.objects(members, join_path(path, "resources")):
            rid = reader.text(rentry, "resource_id", rpath)
            if rid is not None and rid not in resources:
                reader.add(join_path(rpath, "resource_id"), f"unknown resource {rid!r}")
            dist = parse_distribution(rentry, rpath, reader)
            if task is None or rid is None or dist is None:
                continue
            if rid not in assignment.resources_of.setdefault(task, []):
                assignment.resources_of[task].append(rid)
            previous = seen.get(task)
            if previous is None:
                seen[task] = (rpath, rid, dist)
                assignment.durations[task] = dist
            elif previous[2] != dist:  # this resource works at its own pace
                assignment.by_resource.setdefault(task, {})[rid] = dist
    named = string_values(value, "task_id")  # their own problems were reported where they are
    for task in tasks:
        if task not in assignment.resources_of and task not in named:
            reader.add(
                "task_resource_distribution",
                f"task {task!r} has no resource and duration",
                element_id=task,
            )
    return assignment
