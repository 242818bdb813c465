"""The kernel's per-case traces as a replay reads them (see :mod:`engine.simulation.replay`).

A trace step is ``(t, op, args)``: epoch seconds, the runtime command it stands for and its
arguments. This module finds the family of a top-level case (its sub-cases, recursively),
merges the family's traces into instants (per instant, one queue of steps a case, in the
kernel's per-case order), and names what steps exercise and how they read in a message.
"""

from __future__ import annotations

from collections import deque

from engine.simulation.results import ReplicationLog

__all__ = [
    "Step",
    "describe_step",
    "family_features",
    "family_of",
    "merged_instants",
    "step_features",
]

Step = tuple[float, str, dict[str, object]]
"""One trace step: ``(t, op, args)``."""


def step_features(step: Step) -> frozenset[str]:
    """What a trace step exercises: its ``op``, plus ``hold:<kind>``, ``rework:stage`` or
    ``rework:action``, and ``create:step`` / ``create:adhoc`` for sub-cases (what a test may
    require a sample of cases to cover)."""
    _, op, args = step
    found = {op}
    if op == "hold":
        found.add(f"hold:{args['kind']}")
    elif op == "rework":
        found.add("rework:stage" if args.get("stage") is not None else "rework:action")
    elif op == "create" and args.get("parent") is not None:
        found.add("create:step" if args.get("step") else "create:adhoc")
    return frozenset(found)


def family_features(log: ReplicationLog, case_index: int) -> frozenset[str]:
    """The :func:`step_features` of every trace step of a case and its sub-cases."""
    return frozenset(
        feature
        for index in family_of(log, case_index)
        for step in log.traces.get(index, ())
        for feature in step_features(step)
    )


def family_of(log: ReplicationLog, case_index: int) -> list[int]:
    """``case_index`` and its sub-cases (recursively), parents before their sub-cases."""
    children: dict[int, list[int]] = {}
    for index, parent in enumerate(log.cases.parent):
        if parent >= 0:
            children.setdefault(parent, []).append(index)
    family = [case_index]
    pending = deque([case_index])
    while pending:
        for child in children.get(pending.popleft(), []):
            family.append(child)
            pending.append(child)
    return family


def merged_instants(
    log: ReplicationLog, family: list[int]
) -> list[tuple[float, list[deque[tuple[int, Step]]]]]:
    """The instants of the family's traces in time order, each with one queue of
    ``(case, step)`` a case that has steps then (in ``family`` order; steps in trace order)."""
    instants: dict[float, list[deque[tuple[int, Step]]]] = {}
    for index in family:
        per_instant: dict[float, deque[tuple[int, Step]]] = {}
        for step in log.traces[index]:
            per_instant.setdefault(step[0], deque()).append((index, step))
        for t, queue in per_instant.items():
            instants.setdefault(t, []).append(queue)
    return [(t, instants[t]) for t in sorted(instants)]


def describe_step(step: Step) -> str:
    """``op{key=value, ...}`` (case data left out), as a disagreement names the step."""
    _, op, args = step
    shown = {k: v for k, v in args.items() if k != "data"}
    inner = ", ".join(f"{k}={v}" for k, v in shown.items())
    return f"{op}{{{inner}}}"
