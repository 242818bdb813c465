"""The comparison at the end of a replay (checks 1-3 of :mod:`engine.simulation.replay`):
per case of the family, the action types completed, the final ``due``, the resolution
instant and the SLA outcome of the runtime against the kernel's; and every runtime sub-case
matched to a simulated one."""

from __future__ import annotations

import math
from datetime import datetime

from engine.runtime.snapshots import Case
from engine.simulation.replay_outcome import CaseCheck
from engine.simulation.replay_state import ReplayState
from engine.simulation.results import to_datetime

__all__ = ["compare_family"]


def compare_family(state: ReplayState) -> tuple[CaseCheck, ...]:
    """One :class:`CaseCheck` per case of the family the runtime has; every difference noted
    on ``state`` as a disagreement."""
    kernel_done = _kernel_completions(state)
    checks = []
    for index in state.family:
        ref = state.refs.get(index)
        if ref is None:
            state.note(index, None, "the case exists", "no runtime case was matched")
            continue
        case = state.engine.case(ref)
        check = CaseCheck(
            case=index,
            ref=ref,
            process=case.process,
            kernel_actions=tuple(kernel_done.get(index, ())),
            runtime_actions=_runtime_completions(state, case),
            kernel_due=_when(state.log.cases.due[index]),
            runtime_due=case.due,
            kernel_end=_when(state.log.cases.end[index]),
            runtime_resolved=case.first_resolved_at,
        )
        checks.append(check)
        _compare_case(state, check)
        mapped = set(state.refs.values())
        for sub in case.subcases:
            if sub not in mapped:
                state.note(index, None, "started no such sub-case", f"has sub-case {sub}")
    return tuple(checks)


def _compare_case(state: ReplayState, check: CaseCheck) -> None:
    index = check.case
    if check.kernel_actions != check.runtime_actions:
        state.note(
            index,
            None,
            f"completed {list(check.kernel_actions)}",
            f"completed {list(check.runtime_actions)}",
        )
    if check.kernel_due != check.runtime_due:
        state.note(index, None, f"due {_iso(check.kernel_due)}", f"due {_iso(check.runtime_due)}")
    if check.kernel_end != check.runtime_resolved:
        state.note(
            index,
            None,
            f"resolved {_iso(check.kernel_end)}",
            f"resolved {_iso(check.runtime_resolved)}",
        )
    if check.kernel_sla_met != check.runtime_sla_met:
        state.note(
            index,
            None,
            f"SLA met: {check.kernel_sla_met}",
            f"SLA met: {check.runtime_sla_met}",
        )


def _kernel_completions(state: ReplayState) -> dict[int, list[str]]:
    """Per case of the family, the action types of its completed event-log rows."""
    log = state.log
    acts = log.acts
    members = set(state.family)
    rows: dict[int, list[tuple[float, int, str]]] = {}
    labels = _labels(state)
    for row in range(len(acts)):
        index = acts.case[row]
        if index not in members or acts.outcome[row] != 0:
            continue
        process = log.processes[log.cases.process[index]]
        label = log.activities[acts.activity[row]]
        action_type = labels.get(process, {}).get(label, f"<label {label!r}>")
        rows.setdefault(index, []).append((acts.end[row], row, action_type))
    return {i: [r[2] for r in sorted(found)] for i, found in rows.items()}


def _labels(state: ReplayState) -> dict[str, dict[str, str]]:
    """process -> activity label (action title) -> action type, from the deployed models
    (a title shared by two actions of a process maps to neither)."""
    out: dict[str, dict[str, str]] = {}
    for index in state.family:
        process = state.log.processes[state.log.cases.process[index]]
        if process in out:
            continue
        model = state.engine.definition(process).model
        titles: dict[str, str] = {}
        shared: set[str] = set()
        for action in model.all_actions():
            if action.title in titles:
                shared.add(action.title)
            titles[action.title] = action.id
        out[process] = {t: a for t, a in titles.items() if t not in shared}
    return out


def _runtime_completions(state: ReplayState, case: Case) -> tuple[str, ...]:
    """The action types the runtime completed in the case, in completion order, sub-case
    steps left out."""
    events = state.engine.timeline(case.ref, include_related=True, kinds=["action_completed"])
    return tuple(
        str(e.details["action_type"])
        for e in events
        if e.case_ref == case.ref and e.ref != case.ref and "subcase" not in e.details
    )


def _when(seconds: float) -> datetime | None:
    return None if math.isnan(seconds) else to_datetime(seconds)


def _iso(at: datetime | None) -> str:
    return at.isoformat() if at is not None else "none"
