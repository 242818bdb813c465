"""The case lifecycle as a pure status machine (SPEC C2-C4, S1-S7, H1-H9, R1-R5).

No I/O here: each command function checks the transition table, validates its arguments,
then changes the in-memory :class:`CaseRecord` and returns an :class:`Outcome` naming the side
effects the engine must carry out (SLA start/pause/resume, timers, closing actions, moving the
flow on). Validation happens before any change, so a refused command changes nothing.

``TRANSITIONS`` is the whole table: for each command, the statuses it is allowed from and the
status it leads to (``SAME`` = unchanged). ``docs/lifecycle.md`` is generated from it
(``caseloom lifecycle > docs/lifecycle.md``) and a test checks the file is current.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Final

from engine.errors import InvalidArgument, InvalidTransition
from engine.model import CaseSettings
from engine.runtime.records import CaseRecord
from engine.runtime.status import CaseStatus, HoldKind

S = CaseStatus


class Command(StrEnum):
    SUBMIT = "submit"
    START_WORK = "start_work"
    SET_TO_DO = "set_status(To Do)"
    SET_IN_PROGRESS = "set_status(In Progress)"
    ASSIGN = "assign"
    UNASSIGN = "unassign"
    RETURN_TO_QUEUE = "return_to_queue"
    HOLD = "hold"
    REPLY = "reply"
    WAKE_UP = "wake_up"
    RESOLVE = "resolve"
    REOPEN = "reopen"
    CLOSE = "close"
    CANCEL = "cancel"
    WORK_ACTION = "start/complete an action"
    LAUNCH_ACTION = "launch_action"
    FAIL_ACTION = "fail_action"
    REWORK = "rework"
    CREATE_SUBCASE = "create_subcase"
    EDIT = "set_title/override_due"


#: Marks a transition that keeps the status.
SAME: Final = "same"

_OPEN_NOT_DRAFT = (S.TO_DO, S.IN_PROGRESS, S.WAITING)

#: command -> {allowed from: leads to}; RESOLVE leads to Closed without a feedback window (R2).
TRANSITIONS: dict[Command, dict[CaseStatus, CaseStatus | str]] = {
    Command.SUBMIT: {S.DRAFT: S.TO_DO},
    Command.START_WORK: {S.TO_DO: S.IN_PROGRESS},
    Command.SET_TO_DO: {S.TO_DO: SAME, S.IN_PROGRESS: S.TO_DO, S.WAITING: S.TO_DO},
    Command.SET_IN_PROGRESS: {
        S.TO_DO: S.IN_PROGRESS,
        S.IN_PROGRESS: SAME,
        S.WAITING: S.IN_PROGRESS,
    },
    Command.ASSIGN: {S.DRAFT: SAME, S.TO_DO: SAME, S.IN_PROGRESS: S.TO_DO, S.WAITING: SAME},
    Command.UNASSIGN: {S.DRAFT: SAME, S.TO_DO: SAME, S.IN_PROGRESS: S.TO_DO, S.WAITING: SAME},
    Command.RETURN_TO_QUEUE: {S.TO_DO: SAME, S.IN_PROGRESS: S.TO_DO, S.WAITING: SAME},
    Command.HOLD: {S.TO_DO: S.WAITING, S.IN_PROGRESS: S.WAITING},
    Command.REPLY: {
        S.DRAFT: SAME,
        S.TO_DO: SAME,
        S.IN_PROGRESS: SAME,
        S.WAITING: S.TO_DO,
        S.RESOLVED: S.TO_DO,
    },
    Command.WAKE_UP: {S.WAITING: S.TO_DO},
    Command.RESOLVE: {S.IN_PROGRESS: S.RESOLVED},
    Command.REOPEN: {S.RESOLVED: S.TO_DO},
    Command.CLOSE: {S.RESOLVED: S.CLOSED},
    Command.CANCEL: {
        S.DRAFT: S.CANCELLED,
        S.TO_DO: S.CANCELLED,
        S.IN_PROGRESS: S.CANCELLED,
        S.WAITING: S.CANCELLED,
        S.RESOLVED: S.CANCELLED,
    },
    Command.WORK_ACTION: dict.fromkeys(_OPEN_NOT_DRAFT, SAME),
    Command.LAUNCH_ACTION: {S.TO_DO: SAME, S.IN_PROGRESS: SAME},
    Command.FAIL_ACTION: {S.TO_DO: SAME, S.IN_PROGRESS: S.TO_DO, S.WAITING: SAME},
    Command.REWORK: {S.TO_DO: S.IN_PROGRESS, S.IN_PROGRESS: SAME},
    Command.CREATE_SUBCASE: dict.fromkeys((S.DRAFT, *_OPEN_NOT_DRAFT), SAME),
    Command.EDIT: dict.fromkeys((S.DRAFT, *_OPEN_NOT_DRAFT, S.RESOLVED), SAME),
}

#: Notes shown in the generated table (docs/lifecycle.md).
NOTES: dict[Command, str] = {
    Command.SUBMIT: "C2, C3: a Draft becomes To Do on first submission; the SLA starts",
    Command.START_WORK: "S1: assigns the case to the resource",
    Command.SET_TO_DO: "S2 by hand; from Waiting a person ends the hold (H7, H8)",
    Command.SET_IN_PROGRESS: "S1 by hand (assigns to the user if unassigned); ends a hold",
    Command.ASSIGN: "S2: a transfer puts an In Progress case back to To Do until the new "
    "assignee starts",
    Command.UNASSIGN: "S2",
    Command.RETURN_TO_QUEUE: "S2",
    Command.HOLD: "H1-H8: kind more_info (reason from the list; pauses the SLA when "
    "add_wait_time_to_due_date, H4), until (wakes at the date, H6), paused (H7)",
    Command.REPLY: "H9: ends a more_info hold (other holds: recorded, case highlighted); "
    "R2: re-opens a Resolved case; R4: on Closed or Cancelled a new case is created",
    Command.WAKE_UP: "H6: timer at the hold's date; the assignee is kept and the case highlighted",
    Command.RESOLVE: "R1: refused while a sub-case is unfinished (SC1); open actions close; "
    "Closed at once without a feedback window (R2)",
    Command.REOPEN: "R2, R3: To Do with the previous assignee; first resolution kept",
    Command.CLOSE: "R4: the feedback window ended without a reply",
    Command.CANCEL: "R5: open actions close; no more work",
    Command.WORK_ACTION: "H2: actions can be worked while Waiting; no follow-on action is "
    "created until the case is To Do or In Progress",
    Command.LAUNCH_ACTION: "A1, A2: refused while Waiting",
    Command.FAIL_ACTION: "S4: the case goes To Do with the failing action as reason",
    Command.REWORK: "RW8: the case becomes In Progress",
    Command.CREATE_SUBCASE: "SC2",
    Command.EDIT: "V3, V5 (when the definition allows)",
}


@dataclass
class Outcome:
    """What a command did to the case and what the engine must do next."""

    command: Command
    status_from: CaseStatus
    status_to: CaseStatus
    event: str
    details: dict[str, Any] = field(default_factory=dict)
    sla: str | None = None  # "start", "pause", "resume"
    set_timer: tuple[str, datetime] | None = None
    cancel_timers: tuple[str, ...] = ()
    cancel_all_timers: bool = False
    close_open_actions: bool = False
    start_flow: bool = False
    sync_flow: bool = False

    @property
    def status_changed(self) -> bool:
        return self.status_from is not self.status_to


def allowed(command: Command, status: CaseStatus) -> bool:
    return status in TRANSITIONS[command]


def check(case: CaseRecord, command: Command | str, detail: str = "") -> CaseStatus:
    """The status the command leads to; InvalidTransition (S7) when not allowed."""
    command = Command(command)
    table = TRANSITIONS[command]
    if case.status not in table:
        allowed_from = ", ".join(s.value for s in table) or "nowhere"
        what = f"{command.value}{f' ({detail})' if detail else ''}"
        raise InvalidTransition(
            f"case {case.ref} is {case.status.value}: cannot {what} (allowed from: {allowed_from})"
        )
    target = table[case.status]
    return case.status if target == SAME else CaseStatus(target)


def available_commands(status: CaseStatus) -> list[Command]:
    """V7: what may be done from a status."""
    return [c for c, table in TRANSITIONS.items() if status in table]


def _touch(case: CaseRecord, by: str | None, now: datetime) -> None:
    case.updated_by = by
    case.updated_at = now


def _set_status(
    case: CaseRecord, status: CaseStatus, by: str | None, reason: str, now: datetime
) -> None:
    """S6: record who set the status, why and when (only when it changes)."""
    if status is not case.status:
        case.status = status
        case.status_set_by = by
        case.status_reason = reason
        case.status_set_at = now
    _touch(case, by, now)


def _outcome(case: CaseRecord, command: Command, event: str, **kw: Any) -> Outcome:
    return Outcome(
        command=command, status_from=case.status, status_to=case.status, event=event, **kw
    )


def _finish(out: Outcome, case: CaseRecord) -> Outcome:
    out.status_to = case.status
    if out.status_changed:
        out.details.setdefault("from", out.status_from.value)
        out.details.setdefault("to", out.status_to.value)
    return out


def _clear_hold(case: CaseRecord, out: Outcome) -> None:
    """Ending a hold: resume the SLA if paused, drop the wake-up timer, move the flow on."""
    out.details["hold_kind"] = case.hold_kind.value if case.hold_kind else None
    case.hold_kind = None
    case.hold_reason = None
    case.hold_until = None
    case.hold_started_at = None
    out.sla = "resume"
    out.cancel_timers = ("hold_until",)
    out.sync_flow = True


# -- C: creation ----------------------------------------------------------------------------


def submit(case: CaseRecord, *, by: str, now: datetime) -> Outcome:
    target = check(case, Command.SUBMIT)
    out = _outcome(case, Command.SUBMIT, "submitted", sla="start", start_flow=True)
    _set_status(case, target, by, "submitted", now)
    return _finish(out, case)


# -- S: statuses and assignment --------------------------------------------------------------


def start_work(case: CaseRecord, *, by: str, now: datetime) -> Outcome:
    target = check(case, Command.START_WORK)
    out = _outcome(case, Command.START_WORK, "work_started", details={"assignee": by})
    case.assignee = by
    case.last_assignee = by
    case.highlighted = False
    _set_status(case, target, by, "work started", now)
    return _finish(out, case)


def set_status(
    case: CaseRecord, status: CaseStatus, *, by: str, reason: str | None, now: datetime
) -> Outcome:
    if status is S.TO_DO:
        command = Command.SET_TO_DO
    elif status is S.IN_PROGRESS:
        command = Command.SET_IN_PROGRESS
    else:
        raise InvalidTransition(
            f"case {case.ref} is {case.status.value}: cannot set_status({status.value}) by "
            "hand; only To Do or In Progress can be set (use submit, hold, resolve, reopen "
            "or cancel)"
        )
    target = check(case, command)
    out = _outcome(case, command, "status_set", details={"reason": reason or "manual"})
    was_waiting = case.status is S.WAITING
    if was_waiting:
        _clear_hold(case, out)
    if target is S.IN_PROGRESS:
        if case.assignee is None:
            case.assignee = by
            case.last_assignee = by
        case.highlighted = False
    elif was_waiting:
        case.highlighted = True  # H8: back in the work inbox, highlighted until opened
    _set_status(case, target, by, reason or "manual", now)
    return _finish(out, case)


def assign(case: CaseRecord, to: str, *, by: str, now: datetime) -> Outcome:
    target = check(case, Command.ASSIGN)
    if to == case.assignee:
        target = case.status
    out = _outcome(
        case, Command.ASSIGN, "assigned", details={"assignee": to, "previous": case.assignee}
    )
    case.assignee = to
    case.last_assignee = to
    _set_status(case, target, by, f"assigned to {to}", now)
    return _finish(out, case)


def unassign(case: CaseRecord, *, by: str, now: datetime, to_queue: bool = False) -> Outcome:
    command = Command.RETURN_TO_QUEUE if to_queue else Command.UNASSIGN
    target = check(case, command)
    event = "returned_to_queue" if to_queue else "unassigned"
    out = _outcome(case, command, event, details={"previous": case.assignee})
    case.assignee = None
    reason = "returned to queue" if to_queue else "unassigned"
    _set_status(case, target, by, reason, now)
    return _finish(out, case)


# -- H: holds --------------------------------------------------------------------------------


def hold(
    case: CaseRecord,
    kind: HoldKind,
    *,
    by: str,
    now: datetime,
    settings: CaseSettings,
    reason: str | None = None,
    until: datetime | None = None,
) -> Outcome:
    target = check(case, Command.HOLD, kind.value)
    if kind is HoldKind.MORE_INFO:
        if not reason:
            raise InvalidArgument(
                f"case {case.ref} is {case.status.value}: hold more_info needs a reason (H3)"
                + _reasons_hint(settings)
            )
        if settings.more_info_reasons and reason not in settings.more_info_reasons:
            raise InvalidArgument(
                f"case {case.ref} is {case.status.value}: hold more_info reason {reason!r} is "
                f"not in the configured list (H3){_reasons_hint(settings)}"
            )
    if kind is HoldKind.UNTIL:
        if until is None:
            raise InvalidArgument(
                f"case {case.ref} is {case.status.value}: hold until needs a date/time (H6)"
            )
        if until <= now:
            raise InvalidArgument(
                f"case {case.ref} is {case.status.value}: hold until {until.isoformat()} is "
                f"not later than now ({now.isoformat()})"
            )
    elif until is not None:
        raise InvalidArgument(
            f"case {case.ref} is {case.status.value}: 'until' only goes with hold kind until"
        )
    out = _outcome(
        case,
        Command.HOLD,
        "hold",
        details={
            "hold_kind": kind.value,
            "reason": reason,
            "until": until.isoformat() if until else None,
        },
    )
    case.hold_kind = kind
    case.hold_reason = reason
    case.hold_until = until
    case.hold_started_at = now
    case.highlighted = False
    if kind is HoldKind.MORE_INFO and settings.add_wait_time_to_due_date:
        out.sla = "pause"  # H4
    if kind is HoldKind.UNTIL and until is not None:
        out.set_timer = ("hold_until", until)
    _set_status(
        case, target, by, f"on hold: {kind.value}" + (f" ({reason})" if reason else ""), now
    )
    return _finish(out, case)


def _reasons_hint(settings: CaseSettings) -> str:
    if not settings.more_info_reasons:
        return ""
    return "; choose one of: " + ", ".join(repr(r) for r in settings.more_info_reasons)


def wake_up(case: CaseRecord, *, now: datetime) -> Outcome | None:
    """H6: the hold's date is reached. None when the case no longer waits on that date."""
    if case.status is not S.WAITING or case.hold_kind is not HoldKind.UNTIL:
        return None
    if case.hold_until is not None and case.hold_until > now:
        return None
    target = check(case, Command.WAKE_UP)
    out = _outcome(case, Command.WAKE_UP, "woke_up")
    _clear_hold(case, out)
    out.cancel_timers = ()
    case.highlighted = True
    _set_status(case, target, None, "hold date reached", now)
    return _finish(out, case)


def reply(case: CaseRecord, *, sender: str | None, now: datetime) -> Outcome:
    """H9, R2, V15: a comment or email arrives (not for Closed/Cancelled: see the engine)."""
    check(case, Command.REPLY)
    out = _outcome(case, Command.REPLY, "reply", details={"sender": sender})
    if case.status is S.WAITING and case.hold_kind is HoldKind.MORE_INFO:
        _clear_hold(case, out)
        _set_status(case, S.TO_DO, sender, "reply received", now)
    elif case.status is S.RESOLVED:
        _reopen(case, out)
        _set_status(case, S.TO_DO, sender, "reopened by a reply", now)
    else:
        _touch(case, sender, now)
    case.highlighted = True
    return _finish(out, case)


# -- R: resolution ---------------------------------------------------------------------------


def resolve(
    case: CaseRecord,
    *,
    by: str,
    now: datetime,
    settings: CaseSettings,
    feedback_until: datetime | None,
    unfinished_subcases: list[str],
) -> Outcome:
    check(case, Command.RESOLVE)
    if unfinished_subcases:
        raise InvalidTransition(
            f"case {case.ref} is {case.status.value}: cannot resolve while sub-cases are "
            f"unfinished: {', '.join(unfinished_subcases)} (R1, SC1)"
        )
    out = _outcome(case, Command.RESOLVE, "resolved", close_open_actions=True)
    out.details["first"] = case.first_resolved_at is None
    if case.first_resolved_at is None:  # R3: never overwritten
        case.first_resolved_by = by
        case.first_resolved_at = now
    case.resolved_by = by
    case.resolved_at = now
    case.highlighted = False
    if feedback_until is not None:
        out.set_timer = ("feedback_window", feedback_until)
        out.details["feedback_until"] = feedback_until.isoformat()
        _set_status(case, S.RESOLVED, by, "resolved", now)
    else:
        _set_status(case, S.CLOSED, by, "resolved (no feedback window)", now)
    return _finish(out, case)


def _reopen(case: CaseRecord, out: Outcome) -> None:
    """R2: back to To Do with the previous assignee; steps of an unfinished flow whose actions
    the resolution closed come back as fresh actions."""
    out.cancel_timers = ("feedback_window",)
    out.sync_flow = True
    if case.assignee is None:
        case.assignee = case.last_assignee
    out.details["assignee"] = case.assignee


def reopen(case: CaseRecord, *, by: str, now: datetime) -> Outcome:
    target = check(case, Command.REOPEN)
    out = _outcome(case, Command.REOPEN, "reopened")
    _reopen(case, out)
    _set_status(case, target, by, "reopened", now)
    return _finish(out, case)


def close(case: CaseRecord, *, now: datetime) -> Outcome | None:
    """R4: the feedback window ended. None when the case is no longer Resolved."""
    if case.status is not S.RESOLVED:
        return None
    target = check(case, Command.CLOSE)
    out = _outcome(case, Command.CLOSE, "closed")
    _set_status(case, target, None, "feedback window ended", now)
    return _finish(out, case)


def cancel(case: CaseRecord, *, by: str, now: datetime) -> Outcome:
    target = check(case, Command.CANCEL)
    out = _outcome(
        case, Command.CANCEL, "cancelled", close_open_actions=True, cancel_all_timers=True
    )
    if case.hold_kind is not None:
        out.details["hold_kind"] = case.hold_kind.value
    case.hold_kind = None
    case.hold_reason = None
    case.hold_until = None
    case.hold_started_at = None
    case.highlighted = False
    _set_status(case, target, by, "cancelled", now)
    return _finish(out, case)


# -- A: the case side of action commands ------------------------------------------------------


def fail_action(case: CaseRecord, action_ref: str, error: str, *, now: datetime) -> Outcome:
    """S4: a problem in an action puts the case back to To Do with the reason."""
    target = check(case, Command.FAIL_ACTION)
    out = _outcome(
        case, Command.FAIL_ACTION, "action_failed", details={"action": action_ref, "error": error}
    )
    reason = f"action {action_ref} failed: {error}"
    if target is not case.status:
        _set_status(case, target, None, reason, now)
    else:
        case.status_reason = reason
        case.status_set_at = now
        case.status_set_by = None
        _touch(case, None, now)
    return _finish(out, case)


def rework(case: CaseRecord, *, by: str, now: datetime, details: dict[str, Any]) -> Outcome:
    """RW8: the case becomes In Progress (assigned to the user reworking it if unassigned)."""
    target = check(case, Command.REWORK)
    out = _outcome(case, Command.REWORK, "rework", details=details)
    if case.assignee is None:
        case.assignee = by
        case.last_assignee = by
    case.flow_finished = False
    _set_status(case, target, by, "rework", now)
    return _finish(out, case)


# -- docs ------------------------------------------------------------------------------------


def transition_table_markdown() -> str:
    """docs/lifecycle.md, generated from TRANSITIONS and NOTES."""
    lines = [
        "# Case lifecycle",
        "",
        "Generated from `engine/runtime/lifecycle.py` by `caseloom lifecycle > docs/lifecycle.md`;",
        "a test fails when this file and the code disagree. Any command from a status not",
        "listed is refused with `InvalidTransition` naming the case, its status and the",
        "command, and nothing changes (S7).",
        "",
        "| command | from | to | rules |",
        "|---|---|---|---|",
    ]
    for command, table in TRANSITIONS.items():
        for source, target in table.items():
            to = "(unchanged)" if target == SAME else CaseStatus(target).value
            if command is Command.RESOLVE:
                to = "Resolved (Closed without a feedback window)"
            lines.append(f"| `{command.value}` | {source.value} | {to} | {NOTES[command]} |")
    lines += [
        "",
        "Statuses: " + ", ".join(s.value for s in CaseStatus) + ".",
        "Hold kinds: " + ", ".join(k.value for k in HoldKind) + ".",
        "",
    ]
    return "\n".join(lines)
