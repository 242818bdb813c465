"""The command driver of a replay: each trace step becomes :class:`~engine.Engine` calls.

The table of trace operations and the commands they become, and the extra steps taken for
the runtime's sake, are in the docstring of :mod:`engine.simulation.replay`. A step the
runtime refuses (or cannot be taken: no such open action, no such hold...) ends the replay
with a disagreement (:meth:`ReplayState.stop`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import NoReturn

from engine.errors import EngineError
from engine.runtime.snapshots import Action, Case
from engine.runtime.status import CaseStatus, HoldKind
from engine.simulation.replay_runtime import (
    flow_subcase,
    open_action,
    open_actions,
    open_flow_actions,
    open_subcases,
    open_summary,
    ref_number,
)
from engine.simulation.replay_state import ReplayState
from engine.simulation.replay_trace import Step, step_features
from engine.simulation.results import to_datetime

__all__ = ["ARRIVALS", "CUSTOMER", "PERSON", "apply_step", "can_apply"]

PERSON = "replayer"
"""Who does the steps the trace does not attribute to a resource (holds, resolutions...)."""
CUSTOMER = "customer"
"""Who replies to a ``more_info`` hold."""
ARRIVALS = "arrivals"
"""Who creates the top-level case."""

_MISSING = object()


def can_apply(state: ReplayState, index: int, step: Step) -> bool:
    """Whether the runtime can take ``step`` of case ``index`` now (see
    :mod:`engine.simulation.replay` for how this orders the steps of one instant)."""
    _, op, args = step
    ref = state.refs.get(index)
    if ref is None:
        if op != "create":
            return False
        if args.get("parent") is None:
            return True
        return bool(args.get("step")) and _flow_subcase(state, args) is not None
    if op in ("start", "refuse"):
        return open_action(state.engine, ref, str(args["action"]), CaseStatus.TO_DO) is not None
    if op in ("complete", "fail"):
        return open_action(state.engine, ref, str(args["action"])) is not None
    if op == "resolve":
        case = state.engine.case(ref)
        return (
            case.status is not CaseStatus.WAITING
            and not open_flow_actions(state.engine, ref)
            and not open_subcases(state.engine, case)
        )
    return True


def apply_step(state: ReplayState, index: int, step: Step) -> None:
    """Take trace ``step`` of case ``index`` on the runtime (its features noted)."""
    _, op, args = step
    state.ops.update(step_features(step))
    handler = _HANDLERS.get(op)
    if handler is None:
        state.stop(index, step, f"a trace step {op!r}", "the replayer knows no such step")
    ref = state.refs.get(index)
    if ref is None and op != "create":
        state.stop(
            index,
            step,
            f"{op} on a case it had started",
            "no runtime case was matched to this case",
        )
    try:
        handler(state, index, step)
    except EngineError as err:
        state.stop(index, step, f"{op} allowed", f"refused: {err}")


def _create(state: ReplayState, index: int, step: Step) -> None:
    _, _, args = step
    process = str(args["process"])
    data = args.get("data")
    kernel_data: dict[str, object] = dict(data) if isinstance(data, dict) else {}
    ref = state.refs.get(index)
    if args.get("parent") is None:
        state.commands += 1
        case = state.engine.create_case(process, by=ARRIVALS, data=kernel_data, submit=True)
        state.refs[index] = case.ref
    elif ref is not None:  # an ad hoc sub-case, created by its parent's "subcase" step
        case = state.engine.case(ref)
    elif not args.get("step"):
        state.stop(
            index,
            step,
            "the parent created this sub-case ad hoc (its 'subcase' step) first",
            "no runtime sub-case was created for it",
        )
    else:
        found = _flow_subcase(state, args)
        if found is None:
            state.stop(
                index,
                step,
                "the flow step created the sub-case",
                f"no unmatched sub-case of {process!r} created by the parent's flow",
            )
        case = found
        state.refs[index] = case.ref
    if case.status is not CaseStatus.TO_DO:
        state.note(index, step, "created and submitted: To Do", f"{case.status.value}")
    unknown = sorted(set(case.data) - set(kernel_data))
    if unknown:
        state.note(
            index,
            step,
            f"case data has fields {sorted(kernel_data)}",
            f"case data also has {unknown}",
        )
    extra = {k: v for k, v in kernel_data.items() if case.data.get(k, _MISSING) != v}
    if extra:
        state.extra_data[index] = extra


def _flow_subcase(state: ReplayState, args: Mapping[str, object]) -> Case | None:
    """The runtime sub-case a ``create`` step of a flow sub-case is matched to."""
    parent = state.refs.get(int(str(args["parent"])))
    return flow_subcase(state.engine, parent, args["process"], set(state.refs.values()))


def _start(state: ReplayState, index: int, step: Step) -> None:
    _, _, args = step
    action_type, by = str(args["action"]), str(args["by"])
    action = _to_do_action(state, index, step, "to start")
    state.commands += 1
    state.engine.start_action(action.ref, by=by)
    state.started[(index, action_type)] = action.ref


def _refuse(state: ReplayState, index: int, step: Step) -> None:
    _, _, args = step
    by = str(args["by"])
    action = _to_do_action(state, index, step, "to a robot")
    state.commands += 1
    state.engine.refuse_action(action.ref, by=by)


def _to_do_action(state: ReplayState, index: int, step: Step, offered: str) -> Action:
    """The To Do action a ``start``/``refuse`` step takes (the kernel offered it ``offered``)."""
    _, _, args = step
    ref = state.refs[index]
    action_type = str(args["action"])
    action = open_action(state.engine, ref, action_type, CaseStatus.TO_DO)
    if action is None:
        _no_action(state, index, step, f"offers an open {action_type!r} action {offered}", "To Do")
    return action


def _complete(state: ReplayState, index: int, step: Step) -> None:
    _, _, args = step
    action_type, by = str(args["action"]), str(args["by"])
    action = _worked_action(state, index, step)
    state.commands += 1
    data = state.extra_data.pop(index, None)
    state.engine.complete_action(action.ref, by=by, data=data)
    state.started.pop((index, action_type), None)


def _fail(state: ReplayState, index: int, step: Step) -> None:
    _, _, args = step
    action = _worked_action(state, index, step)
    state.commands += 1
    state.engine.fail_action(action.ref, error="automation failed (simulated)")
    state.started.pop((index, str(args["action"])), None)


def _worked_action(state: ReplayState, index: int, step: Step) -> Action:
    """The action a ``complete``/``fail`` step is about: the one started for it."""
    _, op, args = step
    ref = state.refs[index]
    action_type = str(args["action"])
    started = state.started.get((index, action_type))
    candidates = open_actions(state.engine, ref, action_type)
    action = next((a for a in candidates if a.ref == started), None)
    if action is None and candidates:
        action = candidates[0]
    if action is None:
        _no_action(state, index, step, f"{op} of an open {action_type!r} action", "open")
    return action


def _no_action(state: ReplayState, index: int, step: Step, kernel: str, which: str) -> NoReturn:
    """Stop: case ``index`` has no ``which`` action of the step's type (its open ones listed)."""
    ref = state.refs[index]
    action_type = str(step[2]["action"])
    open_now = open_summary(state.engine, ref)
    state.stop(index, step, kernel, f"no {which} {action_type!r} action (open: {open_now})")


def _subcase(state: ReplayState, index: int, step: Step) -> None:
    _, _, args = step
    process = str(args["process"])
    child = int(str(args["case"]))
    calendar = state.engine.definition(process).model.settings.calendar
    state.commands += 1
    sub = state.engine.create_subcase(state.refs[index], process, by=PERSON, calendar=calendar)
    state.refs[child] = sub.ref


def _hold(state: ReplayState, index: int, step: Step) -> None:
    _, _, args = step
    ref = state.refs[index]
    kind = HoldKind.parse(str(args["kind"]))
    state.commands += 1
    if kind is HoldKind.MORE_INFO:
        case = state.engine.case(ref)
        reasons = state.engine.definition(case.process, case.version).model.settings
        reason = next(iter(reasons.more_info_reasons), "More information")
        state.engine.hold(ref, kind, by=PERSON, reason=reason)
    elif kind is HoldKind.UNTIL:
        until = to_datetime(float(str(args["until"])))
        state.engine.hold(ref, kind, by=PERSON, until=until)
    else:
        state.engine.hold(ref, kind, by=PERSON)


def _hold_end(state: ReplayState, index: int, step: Step) -> None:
    _, _, args = step
    ref = state.refs[index]
    kind = HoldKind.parse(str(args["kind"]))
    before = state.engine.case(ref)
    if kind is HoldKind.UNTIL:
        if ref not in state.woken or before.status is CaseStatus.WAITING:
            state.stop(
                index,
                step,
                "the hold's date is reached: the case wakes up (H6)",
                f"no wake-up fired now; the case is {before.status.value}",
            )
        return
    if before.status is not CaseStatus.WAITING or before.hold_kind is not kind:
        held = before.hold_kind.value if before.hold_kind else "no hold"
        state.stop(
            index,
            step,
            f"the case waits with hold {kind.value}",
            f"the case is {before.status.value} ({held})",
        )
    state.commands += 1
    if kind is HoldKind.MORE_INFO:
        after = state.engine.reply(ref, body="the information asked for", sender=CUSTOMER)
    else:
        after = state.engine.set_status(ref, CaseStatus.TO_DO, by=PERSON, reason="resumed")
    if after.status is not CaseStatus.TO_DO:
        state.note(index, step, "the hold ends: To Do", after.status.value)


def _rework(state: ReplayState, index: int, step: Step) -> None:
    _, _, args = step
    ref = state.refs[index]
    state.commands += 1
    stage = args.get("stage")
    if stage is not None:
        state.engine.rework(ref, by=PERSON, stage=int(str(stage)))
        return
    action_type = str(args["action"])
    done = [
        a
        for a in state.engine.actions(ref)
        if a.action_type == action_type and a.status is CaseStatus.RESOLVED and not a.ad_hoc
    ]
    if not done:
        state.stop(
            index,
            step,
            f"rework from a completed {action_type!r} action",
            f"no Resolved {action_type!r} action",
        )
    latest = max(done, key=lambda a: (a.completed_at or state.now, ref_number(a.ref)))
    state.engine.rework(ref, by=PERSON, action=latest.ref)


def _resolve(state: ReplayState, index: int, step: Step) -> None:
    ref = state.refs[index]
    still_open = open_flow_actions(state.engine, ref)
    if still_open:
        state.stop(
            index,
            step,
            "the flow is finished: nothing left to do",
            "open actions "
            + ", ".join(f"{a.ref} {a.action_type} ({a.status.value})" for a in still_open),
        )
    case = state.engine.case(ref)
    if case.status is CaseStatus.TO_DO:
        state.commands += 1
        state.engine.start_work(ref, by=PERSON)
    state.commands += 1
    state.engine.resolve(ref, by=PERSON)


_HANDLERS: Mapping[str, Callable[[ReplayState, int, Step], None]] = {
    "create": _create,
    "start": _start,
    "complete": _complete,
    "refuse": _refuse,
    "fail": _fail,
    "subcase": _subcase,
    "hold": _hold,
    "hold_end": _hold_end,
    "rework": _rework,
    "resolve": _resolve,
}
