"""The SLA clock (engine.runtime.sla): SPEC H4, H5, V4, V5; API.md "SLA start", "Working time"."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.calendars import WorkingCalendar, calendar_for
from engine.durations import parse_due
from engine.errors import NotFound
from engine.model import CalendarDef, DueRule, DueUnit, ProcessModel, WorkingPeriod, office_calendar
from engine.runtime.records import CaseRecord
from engine.runtime.sla import (
    action_due,
    case_calendar,
    compute_due,
    due_state,
    due_text,
    is_paused,
    override_due,
    pause_sla,
    resume_sla,
    start_sla,
    time_left,
)
from engine.runtime.status import CaseStatus

OFFICE = calendar_for(office_calendar())
PARIS_DEF = CalendarDef(
    name="paris",
    timezone="Europe/Paris",
    periods=tuple(WorkingPeriod(d, time(9), time(17)) for d in range(5)),
    country="FR",
)
PARIS = calendar_for(PARIS_DEF)
SPLIT_DEF = CalendarDef(
    name="split",
    timezone="America/New_York",
    periods=tuple(
        WorkingPeriod(d, start, end)
        for d in range(5)
        for start, end in ((time(8), time(12)), (time(13), time(16, 30)))
    ),
)
SPLIT = calendar_for(SPLIT_DEF)
MODEL = ProcessModel(id="claim", version=1, name="Claim", calendars=(PARIS_DEF,))


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


# 2026-03-02 is a Monday
MON, TUE, WED, FRI, SAT = 2, 3, 4, 6, 7
NEXT_MON = 9


def mar(day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return utc(2026, 3, day, hour, minute, second)


def new_case() -> CaseRecord:
    return CaseRecord(
        ref="C-1",
        process="claim",
        version=1,
        status=CaseStatus.TO_DO,
        created_at=mar(MON, 8),
        created_by="ann",
    )


def submitted(rule: str | None, calendar: WorkingCalendar | None, at: datetime) -> CaseRecord:
    case = new_case()
    start_sla(case, None if rule is None else parse_due(rule), calendar, at)
    return case


# -- case calendar and SLA start -------------------------------------------------------------


def test_case_calendar_resolves_names() -> None:
    assert case_calendar(MODEL, None) is None
    assert case_calendar(MODEL, "office") is OFFICE
    assert case_calendar(MODEL, "paris") is PARIS


def test_case_calendar_unknown_name_is_not_found() -> None:
    with pytest.raises(NotFound, match="unknown calendar 'mars'.*known: office, paris"):
        case_calendar(MODEL, "mars")


def test_sla_start_due_is_submission_plus_rule_in_working_days() -> None:
    case = submitted("3 working days", OFFICE, mar(MON, 9))
    assert case.sla_started_at == mar(MON, 9)
    assert case.due == mar(WED, 17)
    assert not is_paused(case)


def test_sla_start_without_calendar_is_wall_clock() -> None:
    case = submitted("4h", None, mar(FRI, 15))
    assert case.due == mar(FRI, 19)


def test_sla_start_without_rule_has_no_sla() -> None:
    case = submitted(None, OFFICE, mar(MON, 9))
    assert case.sla_started_at == mar(MON, 9)
    assert case.due is None
    assert time_left(case, OFFICE, mar(MON, 10)) is None
    assert due_state(case, OFFICE, mar(MON, 10)) is None
    assert due_text(case, OFFICE, mar(MON, 10)) is None


def test_draft_has_no_sla() -> None:
    case = new_case()
    case.status = CaseStatus.DRAFT
    assert due_state(case, None, mar(MON, 10)) is None
    assert due_text(case, None, mar(MON, 10)) is None
    pause_sla(case, None, mar(MON, 10))  # nothing to pause
    assert not is_paused(case)


def test_start_sla_clears_a_previous_pause_and_override() -> None:
    case = submitted("4h", OFFICE, mar(MON, 9))
    pause_sla(case, OFFICE, mar(MON, 10))
    case.due_overridden = True
    start_sla(case, parse_due("1h"), OFFICE, mar(TUE, 9))
    assert case.due == mar(TUE, 10)
    assert (case.sla_paused_at, case.sla_remaining, case.due_overridden) == (None, None, False)


def test_compute_due() -> None:
    assert compute_due(mar(MON, 9), None, OFFICE) is None
    assert compute_due(mar(FRI, 15), DueRule(4, DueUnit.HOURS), OFFICE) == mar(NEXT_MON, 11)
    with pytest.raises(ValueError, match="naive"):
        compute_due(datetime(2026, 3, 2, 9), DueRule(4, DueUnit.HOURS), OFFICE)


# -- H4: pausing moves the due date by the time spent waiting -------------------------------


def test_H4_more_info_pause_moves_due_by_waiting_time() -> None:
    case = submitted("4h", OFFICE, mar(MON, 9))
    assert case.due == mar(MON, 13)
    pause_sla(case, OFFICE, mar(MON, 9, 40))
    assert case.due is None
    assert is_paused(case)
    assert case.sla_paused_at == mar(MON, 9, 40)
    assert case.sla_remaining == timedelta(hours=3, minutes=20).total_seconds()
    resume_sla(case, OFFICE, mar(TUE, 10))
    assert case.due == mar(TUE, 13, 20)
    assert not is_paused(case)
    assert (case.sla_paused_at, case.sla_remaining) == (None, None)


def test_H4_paused_over_a_weekend_moves_due_by_the_working_time_elapsed_only() -> None:
    # due Mon 17:00; paused Friday after closing, resumed Monday at opening: nothing moves
    case = submitted("2 working days", OFFICE, mar(FRI, 9))
    assert case.due == mar(NEXT_MON, 17)
    pause_sla(case, OFFICE, mar(FRI, 18))
    resume_sla(case, OFFICE, mar(NEXT_MON, 9))
    assert case.due == mar(NEXT_MON, 17)
    # paused Friday 16:00 (one working hour before closing): the due moves by that hour
    case = submitted("2 working days", OFFICE, mar(FRI, 9))
    pause_sla(case, OFFICE, mar(FRI, 16))
    assert case.sla_remaining == timedelta(hours=9).total_seconds()
    resume_sla(case, OFFICE, mar(NEXT_MON, 9))
    assert case.due == utc(2026, 3, 10, 10)


def test_H4_working_time_follows_the_calendar_time_zone_and_holidays() -> None:
    # Paris is UTC+2 from 29 March 2026 (9-17 local = 07-15 UTC); 6 April is Easter Monday.
    case = submitted("6h", PARIS, utc(2026, 4, 3, 7))  # Friday 09:00 Paris
    assert case.due == utc(2026, 4, 3, 13)  # 15:00 Paris
    pause_sla(case, PARIS, utc(2026, 4, 3, 10))  # 12:00 Paris: 3h left
    assert case.sla_remaining == timedelta(hours=3).total_seconds()
    resume_sla(case, PARIS, utc(2026, 4, 6, 6))  # Easter Monday 08:00 Paris: no working time
    assert case.due == utc(2026, 4, 7, 10)  # Tuesday 09:00 Paris + 3h = 12:00 Paris
    assert due_text(case, PARIS, utc(2026, 4, 7, 9)) == (
        "Due: 2026-04-07 12:00 Europe/Paris (due today)"
    )


def test_H4_wall_clock_case_pauses_by_wall_time() -> None:
    case = submitted("4h", None, mar(FRI, 15))
    pause_sla(case, None, mar(FRI, 16))
    assert case.sla_remaining == timedelta(hours=3).total_seconds()
    assert due_text(case, None, mar(SAT, 12)) == "Due: paused 3h 0m before due date"
    resume_sla(case, None, mar(NEXT_MON, 9))
    assert case.due == mar(NEXT_MON, 12)


def test_H4_overdue_pause_resumes_overdue_by_the_same_working_time() -> None:
    case = submitted("4h", OFFICE, mar(MON, 9))  # due Mon 13:00
    pause_sla(case, OFFICE, mar(MON, 14, 5))
    assert case.sla_remaining == -timedelta(hours=1, minutes=5).total_seconds()
    resume_sla(case, OFFICE, mar(TUE, 10))
    assert case.due == mar(MON, 16, 55)
    assert due_state(case, OFFICE, mar(TUE, 10)) == "overdue"
    assert time_left(case, OFFICE, mar(TUE, 10)) == -timedelta(hours=1, minutes=5)


def test_H4_overdue_resume_lands_at_close_of_business_not_at_opening() -> None:
    case = submitted("4h", OFFICE, mar(MON, 9))
    pause_sla(case, OFFICE, mar(MON, 14))  # overdue by 1h
    resume_sla(case, OFFICE, mar(TUE, 10))  # 1h before is Tue 09:00 or Mon 17:00: the latter
    assert case.due == mar(MON, 17)
    assert time_left(case, OFFICE, mar(TUE, 10)) == -timedelta(hours=1)


def test_H4_overdue_by_no_working_time_pauses_as_zero_left() -> None:
    case = submitted("2 working days", OFFICE, mar(TUE, 9))  # due Wed 17:00
    assert due_state(case, OFFICE, mar(WED, 18)) == "overdue"
    pause_sla(case, OFFICE, mar(WED, 18))
    assert case.sla_remaining == 0
    assert due_text(case, OFFICE, mar(WED, 18)) == "Due: paused 0h 0m before due date"
    resume_sla(case, OFFICE, mar(WED, 20))  # still after hours: back to Wed 17:00
    assert case.due == mar(WED, 17)
    pause_sla(case, OFFICE, mar(WED, 20))
    resume_sla(case, OFFICE, mar(FRI, 10))  # in working hours: due now
    assert case.due == mar(FRI, 10)


def test_H4_pause_is_a_no_op_when_already_paused() -> None:
    case = submitted("4h", OFFICE, mar(MON, 9))
    pause_sla(case, OFFICE, mar(MON, 10))
    pause_sla(case, OFFICE, mar(MON, 12))
    assert case.sla_paused_at == mar(MON, 10)
    assert case.sla_remaining == timedelta(hours=3).total_seconds()


def test_H4_resume_is_a_no_op_when_not_paused() -> None:
    case = submitted("4h", OFFICE, mar(MON, 9))
    resume_sla(case, OFFICE, mar(TUE, 9))
    assert case.due == mar(MON, 13)
    assert not is_paused(case)


def test_H4_due_is_none_exactly_when_paused() -> None:
    case = submitted("4h", OFFICE, mar(MON, 9))
    assert case.due is not None and not is_paused(case)
    pause_sla(case, OFFICE, mar(MON, 10))
    assert case.due is None and is_paused(case)
    assert due_state(case, OFFICE, mar(MON, 11)) == "paused"
    resume_sla(case, OFFICE, mar(MON, 11))
    assert case.due is not None and not is_paused(case)


def test_H4_a_paused_record_without_time_left_is_refused() -> None:
    case = submitted("4h", OFFICE, mar(MON, 9))
    case.due, case.sla_paused_at = None, mar(MON, 10)
    with pytest.raises(ValueError, match="C-1.*without a time left"):
        resume_sla(case, OFFICE, mar(MON, 11))


def test_H4_naive_times_are_refused() -> None:
    case = submitted("4h", OFFICE, mar(MON, 9))
    with pytest.raises(ValueError, match="naive"):
        pause_sla(case, OFFICE, datetime(2026, 3, 2, 10))


# -- H5: what a paused case shows -------------------------------------------------------------


def test_H5_due_text_paused_before_due_date() -> None:
    case = submitted("4h", OFFICE, mar(MON, 9))
    pause_sla(case, OFFICE, mar(MON, 9, 40))
    assert due_text(case, OFFICE, mar(TUE, 12)) == "Due: paused 3h 20m before due date"
    assert time_left(case, OFFICE, mar(WED, 12)) == timedelta(hours=3, minutes=20)


def test_H5_due_text_paused_after_due_date() -> None:
    case = submitted("4h", OFFICE, mar(MON, 9))
    pause_sla(case, OFFICE, mar(MON, 14, 5))
    assert due_text(case, OFFICE, mar(MON, 15)) == "Due: paused 1h 5m after due date"
    assert due_state(case, OFFICE, mar(MON, 15)) == "paused"


def test_H5_time_left_shown_is_working_time_with_a_calendar() -> None:
    case = submitted("3 working days", OFFICE, mar(MON, 9))  # due Wed 17:00
    pause_sla(case, OFFICE, mar(MON, 13, 40))  # Mon 3h20m + Tue 8h + Wed 8h
    assert due_text(case, OFFICE, mar(MON, 14)) == "Due: paused 19h 20m before due date"


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "Due: paused 0h 0m before due date"),
        (59, "Due: paused 0h 0m before due date"),
        (3 * 3600 + 20 * 60 + 59.9, "Due: paused 3h 20m before due date"),
        (-59, "Due: paused 0h 0m after due date"),
        (-(3600 + 5 * 60 + 30), "Due: paused 1h 5m after due date"),
        (-(100 * 3600), "Due: paused 100h 0m after due date"),
    ],
)
def test_H5_due_text_whole_hours_and_minutes_rounded_down(seconds: float, text: str) -> None:
    case = submitted("4h", OFFICE, mar(MON, 9))
    pause_sla(case, OFFICE, mar(MON, 10))
    case.sla_remaining = seconds
    assert due_text(case, OFFICE, mar(MON, 10)) == text


# -- V4: due date with a state ----------------------------------------------------------------


def test_V4_due_state_on_time_then_due_today_then_overdue() -> None:
    case = submitted("3 working days", OFFICE, mar(MON, 9))  # due Wed 17:00
    assert due_state(case, OFFICE, mar(TUE, 23, 59)) == "on time"
    assert due_state(case, OFFICE, mar(WED, 0)) == "due today"
    assert due_state(case, OFFICE, mar(WED, 17)) == "due today"
    assert due_state(case, OFFICE, mar(WED, 17, 0, 1)) == "overdue"
    assert due_state(case, OFFICE, mar(FRI, 9)) == "overdue"


def test_V4_due_today_uses_the_calendar_local_date() -> None:
    case = new_case()
    case.due = mar(WED, 23, 30)  # Thursday 00:30 in Paris
    assert due_state(case, None, mar(WED, 10)) == "due today"
    assert due_state(case, PARIS, mar(WED, 10)) == "on time"
    assert due_state(case, PARIS, mar(WED, 23, 10)) == "due today"  # Thursday 00:10 in Paris


def test_V4_due_text_not_paused_shows_the_date_and_state() -> None:
    case = submitted("3 working days", OFFICE, mar(MON, 9))
    assert due_text(case, OFFICE, mar(MON, 9)) == "Due: 2026-03-04 17:00 UTC (on time)"
    assert due_text(case, OFFICE, mar(WED, 9)) == "Due: 2026-03-04 17:00 UTC (due today)"
    assert due_text(case, OFFICE, mar(THU := 5, 9)) == "Due: 2026-03-04 17:00 UTC (overdue)"
    assert THU == 5
    case = submitted("4h", PARIS, mar(WED, 8))
    assert due_text(case, PARIS, mar(WED, 8)) == "Due: 2026-03-04 13:00 Europe/Paris (due today)"
    case = submitted("4h", None, mar(WED, 8))
    assert due_text(case, None, mar(WED, 8)) == "Due: 2026-03-04 12:00 UTC (due today)"


def test_V4_time_left_is_signed_working_time() -> None:
    case = submitted("4h", OFFICE, mar(FRI, 15))  # due Mon 11:00
    assert time_left(case, OFFICE, mar(FRI, 16)) == timedelta(hours=3)
    assert time_left(case, OFFICE, mar(SAT, 12)) == timedelta(hours=2)
    assert time_left(case, OFFICE, mar(NEXT_MON, 12)) == -timedelta(hours=1)
    assert time_left(case, None, mar(SAT, 11)) == timedelta(days=2)


# -- V5: overriding the due date --------------------------------------------------------------


def test_V5_override_due_sets_the_due_date() -> None:
    case = submitted("4h", OFFICE, mar(MON, 9))
    override_due(
        case, datetime(2026, 3, 5, 18, tzinfo=ZoneInfo("Europe/Paris")), mar(MON, 10), OFFICE
    )
    assert case.due == mar(5, 17)
    assert case.due.tzinfo is UTC
    assert case.due_overridden


def test_V5_override_while_paused_sets_the_time_left() -> None:
    case = submitted("4h", OFFICE, mar(MON, 9))
    pause_sla(case, OFFICE, mar(MON, 10))
    override_due(case, mar(TUE, 12), mar(MON, 15), OFFICE)
    assert case.due is None and is_paused(case) and case.due_overridden
    assert case.sla_remaining == timedelta(hours=5).total_seconds()  # Mon 15-17 + Tue 09-12
    resume_sla(case, OFFICE, mar(MON, 15))
    assert case.due == mar(TUE, 12)


def test_V5_override_into_the_past_while_paused_reads_after_due_date() -> None:
    case = submitted("4h", OFFICE, mar(MON, 9))
    pause_sla(case, OFFICE, mar(MON, 10))
    override_due(case, mar(MON, 12), mar(MON, 15), OFFICE)
    assert due_text(case, OFFICE, mar(MON, 15)) == "Due: paused 3h 0m after due date"


def test_V5_override_refuses_naive_dates() -> None:
    case = submitted("4h", OFFICE, mar(MON, 9))
    with pytest.raises(ValueError, match="naive"):
        override_due(case, datetime(2026, 3, 5, 12), mar(MON, 10), OFFICE)
    assert case.due == mar(MON, 13) and not case.due_overridden


# -- action due dates (API.md "SLA start") -----------------------------------------------------


def test_action_due_from_its_own_rule_else_the_case_due() -> None:
    case = submitted("3 working days", OFFICE, mar(MON, 9))
    assert action_due(parse_due("4h"), case, OFFICE, mar(FRI, 15)) == mar(NEXT_MON, 11)
    assert action_due(parse_due("4h"), case, None, mar(FRI, 15)) == mar(FRI, 19)
    assert action_due(None, case, OFFICE, mar(TUE, 9)) == mar(WED, 17)


def test_action_due_is_none_while_the_case_sla_is_paused() -> None:
    case = submitted("3 working days", OFFICE, mar(MON, 9))
    pause_sla(case, OFFICE, mar(MON, 10))
    assert action_due(None, case, OFFICE, mar(MON, 11)) is None
    assert action_due(parse_due("1h"), case, OFFICE, mar(MON, 11)) == mar(MON, 12)
    assert action_due(None, submitted(None, OFFICE, mar(MON, 9)), OFFICE, mar(MON, 11)) is None


# -- properties -------------------------------------------------------------------------------

_CALENDARS: list[WorkingCalendar | None] = [None, OFFICE, PARIS, SPLIT]
_instants = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC)
)
_rules = st.builds(
    DueRule,
    st.integers(1, 400),
    st.sampled_from(list(DueUnit)),
    st.booleans(),
)


def _working_between(calendar: WorkingCalendar | None, start: datetime, end: datetime) -> timedelta:
    return end - start if calendar is None else calendar.working_time_between(start, end)


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(_CALENDARS), _rules, _instants, st.integers(0, 60 * 24 * 60))
def test_H4_pause_then_resume_at_the_same_instant_restores_the_due_date(
    calendar: WorkingCalendar | None, rule: DueRule, start: datetime, minutes: int
) -> None:
    if calendar is None:
        rule = DueRule(rule.amount, rule.unit)  # a "working" rule has no calendar to pause on
    case = new_case()
    start_sla(case, rule, calendar, start)
    due = case.due
    now = start + timedelta(minutes=minutes)  # before or after the due date
    pause_sla(case, calendar, now)
    resume_sla(case, calendar, now)
    assert case.due == due


@settings(max_examples=100, deadline=None)
@given(
    st.sampled_from(_CALENDARS),
    _rules,
    _instants,
    st.lists(st.integers(0, 60 * 24 * 20), min_size=1, max_size=6),
)
def test_H4_a_pause_keeps_the_time_left_and_shifts_due_by_the_working_time_waited(
    calendar: WorkingCalendar | None, rule: DueRule, start: datetime, gaps: list[int]
) -> None:
    """Alternate pauses and resumes: each resume shifts due by the time waited while paused."""
    if calendar is None:
        rule = DueRule(rule.amount, rule.unit)
    case = new_case()
    start_sla(case, rule, calendar, start)
    now = start
    paused_at: datetime | None = None
    before: timedelta | None = None
    old_due: datetime | None = None
    for gap in gaps:
        now += timedelta(minutes=gap)
        if paused_at is None:
            before, old_due = time_left(case, calendar, now), case.due
            pause_sla(case, calendar, now)
            paused_at = now
            assert case.due is None and is_paused(case)
            assert time_left(case, calendar, now + timedelta(days=3)) == before
        else:
            resume_sla(case, calendar, now)
            assert case.due is not None and not is_paused(case)
            assert time_left(case, calendar, now) == before
            assert old_due is not None
            waited = _working_between(calendar, paused_at, now)
            if before is not None and before > timedelta(0):
                assert _working_between(calendar, old_due, case.due) == waited
            if calendar is None:
                assert case.due - old_due == now - paused_at
            paused_at = None
