"""The SLA clock of a case (SPEC H4, H5, V4, V5; API.md "SLA start", "Working time").

Pure functions over a :class:`~engine.runtime.records.CaseRecord`: no I/O, time is passed in.
``calendar`` is the case's :class:`~engine.calendars.WorkingCalendar` (see
:func:`case_calendar`), or None for wall-clock time.

* Submission starts the clock: ``due`` = submission time + the due rule (:func:`start_sla`).
* A *more info* hold with ``add_wait_time_to_due_date`` pauses it (H4, :func:`pause_sla`):
  ``due`` becomes None and ``sla_remaining`` keeps the time that was left, in seconds of working
  time when the case has a calendar, negative when the case was already overdue.
* Resuming (:func:`resume_sla`) places ``due`` that much time after the resume instant (or,
  when overdue, that much time before it), so the time spent waiting does not count.

Time left with a calendar is working time; "overdue" is always the plain comparison
``now > due``. With a calendar every due date the clock gives is inside working time or at the
close of a working period, as :func:`engine.calendars.due_date` gives them; so pausing and
resuming at the same instant gives back the same due date. Zero time left resumes to the last
working instant at or before the resume (the previous close of business when resuming outside
working hours). A case overdue by no working time at all (due Friday 17:00, paused on
Saturday) has zero time left: it shows ``Due: paused 0h 0m before due date`` and, resumed on
Monday 10:00, is due Monday 10:00. A ``working`` rule on a case without a calendar computes
its due on the built-in ``office`` calendar (:func:`engine.calendars.due_date`), but the
case's clock is still wall time: pauses are measured in elapsed time.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from engine.calendars import WorkingCalendar, calendar_for, due_date
from engine.clock import require_aware
from engine.errors import NotFound
from engine.model import DueRule, ProcessModel
from engine.runtime.records import CaseRecord

__all__ = [
    "DUE_TODAY",
    "ON_TIME",
    "OVERDUE",
    "PAUSED",
    "action_due",
    "case_calendar",
    "compute_due",
    "due_after",
    "due_state",
    "due_text",
    "is_paused",
    "left_until",
    "override_due",
    "pause_sla",
    "resume_sla",
    "start_sla",
    "time_left",
]

ON_TIME = "on time"
DUE_TODAY = "due today"
OVERDUE = "overdue"
PAUSED = "paused"

_ZERO = timedelta(0)


def case_calendar(model: ProcessModel, calendar: str | None) -> WorkingCalendar | None:
    """The working calendar named ``calendar`` in ``model`` (built-in ``office`` included).

    None means wall-clock time. An unknown name raises :class:`~engine.errors.NotFound`.
    """
    if calendar is None:
        return None
    definition = model.calendar(calendar)
    if definition is None:
        known = ", ".join(sorted({c.name for c in model.calendars} | {"office"}))
        raise NotFound(
            f"unknown calendar {calendar!r} for process {model.id!r} version {model.version}"
            f" (known: {known})"
        )
    return calendar_for(definition)


def compute_due(
    start: datetime, rule: DueRule | None, calendar: WorkingCalendar | None
) -> datetime | None:
    """The due date of ``rule`` counted from ``start`` (UTC); None without a rule."""
    if rule is None:
        return None
    return due_date(require_aware(start, "SLA start"), rule, calendar)


def start_sla(
    case: CaseRecord, rule: DueRule | None, calendar: WorkingCalendar | None, now: datetime
) -> None:
    """Start the clock on submission: ``sla_started_at = now``, ``due`` from ``rule``.

    Without a rule the case has no SLA (``due`` stays None). Any pause is cleared and the due
    date is no longer an override.
    """
    moment = require_aware(now, "now")
    case.sla_started_at = moment
    case.due = compute_due(moment, rule, calendar)
    case.due_overridden = False
    case.sla_paused_at = None
    case.sla_remaining = None


def is_paused(case: CaseRecord) -> bool:
    """True while the case's SLA clock is paused (H4)."""
    return case.sla_paused_at is not None


def pause_sla(case: CaseRecord, calendar: WorkingCalendar | None, now: datetime) -> None:
    """Pause the clock (H4): keep the time left, clear ``due``.

    No-op when the case has no due date or is already paused.
    """
    if case.due is None or is_paused(case):
        return
    moment = require_aware(now, "now")
    left = left_until(case.due, calendar, moment)
    case.sla_remaining = left.total_seconds()
    case.sla_paused_at = moment
    case.due = None


def resume_sla(case: CaseRecord, calendar: WorkingCalendar | None, now: datetime) -> None:
    """Restart a paused clock: ``due`` = ``now`` + the time that was left.

    With a calendar the time is working time; a negative time left (overdue) places ``due``
    that much working time before ``now`` (``WorkingCalendar.subtract_working_time``), so
    the case stays overdue by the same working time, and zero places it at the last working
    instant at or before ``now``. No-op when not paused.
    """
    if not is_paused(case):
        return
    moment = require_aware(now, "now")
    case.due = due_after(_remaining(case), calendar, moment)
    case.sla_paused_at = None
    case.sla_remaining = None


def time_left(
    case: CaseRecord, calendar: WorkingCalendar | None, now: datetime
) -> timedelta | None:
    """Signed time left before the due date; negative when overdue; None without an SLA.

    While paused this is the time that was left when the pause began. With a calendar it is
    working time.
    """
    if is_paused(case):
        return _remaining(case)
    if case.due is None:
        return None
    return left_until(case.due, calendar, require_aware(now, "now"))


def due_state(case: CaseRecord, calendar: WorkingCalendar | None, now: datetime) -> str | None:
    """V4: ``"on time"``, ``"due today"`` or ``"overdue"``; ``"paused"`` while paused.

    None when the case has no SLA (a Draft, or no due rule). Overdue means ``now > due``; due
    today means the due date falls on the same local date as ``now`` (in the calendar's time
    zone, UTC without a calendar).
    """
    if is_paused(case):
        return PAUSED
    if case.due is None:
        return None
    moment = require_aware(now, "now")
    if moment > case.due:
        return OVERDUE
    if _local(case.due, calendar).date() == _local(moment, calendar).date():
        return DUE_TODAY
    return ON_TIME


def due_text(case: CaseRecord, calendar: WorkingCalendar | None, now: datetime) -> str | None:
    """What the case shows for its due date; None without an SLA.

    While paused (H5): ``Due: paused 3h 20m before due date`` (or ``after due date`` when it was
    overdue), whole hours and whole minutes of the time left, rounded down, no padding; zero
    left counts as before. Otherwise the due date in the calendar's time zone (UTC without a
    calendar) and its state: ``Due: 2026-03-04 17:00 UTC (on time)``,
    ``Due: 2026-03-04 18:00 Europe/Paris (due today)``.
    """
    if is_paused(case):
        left = _remaining(case)
        minutes = int(abs(left) // timedelta(minutes=1))
        side = "after" if left < _ZERO else "before"
        return f"Due: paused {minutes // 60}h {minutes % 60}m {side} due date"
    if case.due is None:
        return None
    state = due_state(case, calendar, now)
    zone = "UTC" if calendar is None else calendar.zone.key
    return f"Due: {_local(case.due, calendar):%Y-%m-%d %H:%M} {zone} ({state})"


def override_due(
    case: CaseRecord, due: datetime, now: datetime, calendar: WorkingCalendar | None
) -> None:
    """Set the due date by hand (V5; the caller checks ``allow_due_date_override``).

    While paused the clock stays paused: the time left becomes the time from ``now`` to
    ``due`` (working time with a calendar), so resuming at once gives back ``due`` and a later
    resume moves it out by the time spent waiting, as for a computed due date.
    """
    target = require_aware(due, "due")
    moment = require_aware(now, "now")
    if is_paused(case):
        case.sla_remaining = left_until(target, calendar, moment).total_seconds()
    else:
        case.due = target
    case.due_overridden = True


def action_due(
    rule: DueRule | None, case: CaseRecord, calendar: WorkingCalendar | None, now: datetime
) -> datetime | None:
    """An action's due date when it is created: from its own rule, else the case's due.

    The case's due is None while its SLA is paused or when it has none.
    """
    if rule is not None:
        return compute_due(now, rule, calendar)
    return case.due


# -- helpers ------------------------------------------------------------------------------------


def left_until(due: datetime, calendar: WorkingCalendar | None, now: datetime) -> timedelta:
    """Signed time from ``now`` to ``due``: working time with a calendar, else elapsed."""
    if calendar is None:
        return due - now
    if due >= now:
        return calendar.working_time_between(now, due)
    return -calendar.working_time_between(due, now)


def due_after(left: timedelta, calendar: WorkingCalendar | None, now: datetime) -> datetime:
    """The due date ``left`` (signed) after ``now``: the inverse of :func:`left_until`."""
    if calendar is None:
        return now + left
    if left > _ZERO:
        return calendar.add_working_time(now, left)
    return calendar.subtract_working_time(now, -left)


def _remaining(case: CaseRecord) -> timedelta:
    """The time left kept by a paused case."""
    if case.sla_remaining is None:
        raise ValueError(
            f"case {case.ref!r}: SLA paused at {case.sla_paused_at} without a time left"
        )
    return timedelta(seconds=case.sla_remaining)


def _local(at: datetime, calendar: WorkingCalendar | None) -> datetime:
    """``at`` in the calendar's time zone (UTC without a calendar)."""
    return require_aware(at) if calendar is None else at.astimezone(calendar.zone)
