"""Working-time calendar arithmetic (engine.calendars)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.calendars import (
    WorkingCalendar,
    calendar_for,
    due_date,
    format_time_range,
    parse_time_range,
)
from engine.durations import parse_due
from engine.model import CalendarDef, DueRule, DueUnit, WorkingPeriod, office_calendar

PARIS = ZoneInfo("Europe/Paris")
NEW_YORK = ZoneInfo("America/New_York")


def weekly(hours: dict[int, list[tuple[int, int]]]) -> tuple[WorkingPeriod, ...]:
    """Periods from ``{weekday: [(start_hour, end_hour), ...]}``; 24 means end of day."""
    return tuple(
        WorkingPeriod(day, time(start), time(0) if end == 24 else time(end))
        for day, ranges in hours.items()
        for start, end in ranges
    )


OFFICE = calendar_for(office_calendar())
SPLIT_PARIS = WorkingCalendar(
    CalendarDef(
        name="split",
        timezone="Europe/Paris",
        periods=weekly({d: [(9, 12), (13, 17)] for d in range(5)}),
        country="FR",
    )
)
PARIS_OFFICE = WorkingCalendar(
    CalendarDef(
        name="paris", timezone="Europe/Paris", periods=weekly({d: [(9, 17)] for d in range(5)})
    )
)
NY_LATE = WorkingCalendar(
    CalendarDef(
        name="late",
        timezone="America/New_York",
        periods=weekly({0: [(18, 24)], 1: [(0, 2), (18, 24)], 2: [(8, 12)], 6: [(10, 14)]}),
        holidays=(date(2026, 11, 2),),
        country="US",
    )
)


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def paris(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=PARIS)


# -- the API.md examples on the office calendar (Mon-Fri 09:00-17:00 UTC) ---------------------


def test_friday_afternoon_plus_4h_is_monday_11() -> None:
    assert OFFICE.add_working_time(utc(2026, 3, 6, 15), timedelta(hours=4)) == utc(2026, 3, 9, 11)


def test_monday_opening_plus_3_working_days_is_wednesday_close() -> None:
    assert OFFICE.add_working_days(utc(2026, 3, 2, 9), 3) == utc(2026, 3, 4, 17)


def test_monday_afternoon_plus_3_working_days_is_thursday_close() -> None:
    assert OFFICE.add_working_days(utc(2026, 3, 2, 13), 3) == utc(2026, 3, 5, 17)


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        (utc(2026, 3, 2, 7), 1, utc(2026, 3, 2, 17)),  # before opening: the day counts
        (utc(2026, 3, 2, 9, 0, 1), 1, utc(2026, 3, 3, 17)),  # just after opening: it does not
        (utc(2026, 3, 2, 17), 1, utc(2026, 3, 3, 17)),  # at close
        (utc(2026, 3, 7, 10), 1, utc(2026, 3, 9, 17)),  # Saturday
        (utc(2026, 3, 6, 12), 1, utc(2026, 3, 9, 17)),  # Friday noon
        (utc(2026, 3, 2, 9), 5, utc(2026, 3, 6, 17)),
        (utc(2026, 3, 2, 9), 6, utc(2026, 3, 9, 17)),
        (utc(2026, 3, 2, 9), 260, utc(2027, 2, 26, 17)),  # skips whole weeks
        (utc(2026, 3, 2, 9), 0, utc(2026, 3, 2, 9)),
    ],
)
def test_add_working_days(start: datetime, days: int, expected: datetime) -> None:
    assert OFFICE.add_working_days(start, days) == expected


@pytest.mark.parametrize(
    ("start", "hours", "expected"),
    [
        (utc(2026, 3, 6, 13), 4, utc(2026, 3, 6, 17)),  # exactly at close stays at close
        (utc(2026, 3, 7, 10), 4, utc(2026, 3, 9, 13)),  # Saturday: starts Monday 09:00
        (utc(2026, 3, 2, 7), 4, utc(2026, 3, 2, 13)),  # before opening
        (utc(2026, 3, 2, 20), 1, utc(2026, 3, 3, 10)),  # after close
        (utc(2026, 3, 2, 9), 40, utc(2026, 3, 6, 17)),
        (utc(2026, 3, 2, 9), 41, utc(2026, 3, 9, 10)),
        (utc(2026, 3, 4, 12), 8 * 5 * 10, utc(2026, 5, 13, 12)),  # ten weeks later
    ],
)
def test_add_working_time(start: datetime, hours: int, expected: datetime) -> None:
    assert OFFICE.add_working_time(start, timedelta(hours=hours)) == expected


def test_adding_zero_working_time_returns_the_start() -> None:
    assert OFFICE.add_working_time(utc(2026, 3, 7, 10), timedelta(0)) == utc(2026, 3, 7, 10)


def test_negative_amounts_are_refused() -> None:
    with pytest.raises(ValueError, match="negative working time"):
        OFFICE.add_working_time(utc(2026, 3, 2, 9), timedelta(minutes=-1))
    with pytest.raises(ValueError, match="negative number of working days"):
        OFFICE.add_working_days(utc(2026, 3, 2, 9), -1)


@pytest.mark.parametrize(
    ("at", "working"),
    [
        (utc(2026, 3, 2, 9), True),
        (utc(2026, 3, 2, 8, 59, 59), False),
        (utc(2026, 3, 2, 16, 59), True),
        (utc(2026, 3, 2, 17), False),
        (utc(2026, 3, 7, 12), False),  # Saturday
        (utc(2026, 3, 8, 12), False),  # Sunday
        (datetime(2026, 3, 2, 10, tzinfo=PARIS), True),  # 09:00 UTC
        (datetime(2026, 3, 2, 9, 30, tzinfo=PARIS), False),  # 08:30 UTC
    ],
)
def test_is_working_time(at: datetime, working: bool) -> None:
    assert OFFICE.is_working_time(at) is working


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (utc(2026, 3, 2, 10), utc(2026, 3, 2, 10)),
        (utc(2026, 3, 2, 17), utc(2026, 3, 3, 9)),
        (utc(2026, 3, 6, 17), utc(2026, 3, 9, 9)),
        (utc(2026, 3, 2, 3), utc(2026, 3, 2, 9)),
    ],
)
def test_next_working_time(at: datetime, expected: datetime) -> None:
    assert OFFICE.next_working_time(at) == expected


def test_working_time_between() -> None:
    assert OFFICE.working_time_between(utc(2026, 3, 6, 15), utc(2026, 3, 9, 11)) == timedelta(
        hours=4
    )
    assert OFFICE.working_time_between(utc(2026, 3, 2), utc(2026, 3, 9)) == timedelta(hours=40)
    assert OFFICE.working_time_between(utc(2026, 3, 2), utc(2027, 3, 1)) == timedelta(
        hours=8 * 5 * 52
    )
    assert OFFICE.working_time_between(utc(2026, 3, 9, 11), utc(2026, 3, 6, 15)) == timedelta(0)
    assert OFFICE.working_time_between(utc(2026, 3, 7), utc(2026, 3, 8)) == timedelta(0)


def test_outputs_are_utc() -> None:
    start = paris(2026, 3, 6, 16)
    for result in (
        OFFICE.add_working_time(start, timedelta(hours=4)),
        OFFICE.add_working_days(start, 1),
        OFFICE.next_working_time(start),
        due_date(start, DueRule(4, DueUnit.HOURS), None),
    ):
        assert result.tzinfo is UTC


def test_day_length() -> None:
    assert OFFICE.day_length() == timedelta(hours=8)
    assert SPLIT_PARIS.day_length() == timedelta(hours=7)
    short_fridays = WorkingCalendar(
        CalendarDef("f", periods=weekly({0: [(9, 17)], 1: [(9, 17)], 4: [(9, 13)]}))
    )
    assert short_fridays.day_length() == timedelta(hours=8)


# -- multiple periods, overlapping periods, 24:00 --------------------------------------------


def test_lunch_break_is_not_working_time() -> None:
    monday = paris(2026, 3, 2, 11)
    assert SPLIT_PARIS.add_working_time(monday, timedelta(hours=2)) == paris(2026, 3, 2, 14)
    assert not SPLIT_PARIS.is_working_time(paris(2026, 3, 2, 12, 30))
    assert SPLIT_PARIS.is_working_time(paris(2026, 3, 2, 13))
    assert SPLIT_PARIS.next_working_time(paris(2026, 3, 2, 12, 30)) == paris(2026, 3, 2, 13)
    assert SPLIT_PARIS.working_time_between(monday, paris(2026, 3, 2, 14)) == timedelta(hours=2)
    # morning period ends at noon: landing there stays there
    assert SPLIT_PARIS.add_working_time(monday, timedelta(hours=1)) == paris(2026, 3, 2, 12)


def test_working_days_with_a_lunch_break() -> None:
    assert SPLIT_PARIS.add_working_days(paris(2026, 3, 2, 12, 30), 1) == paris(2026, 3, 3, 17)
    assert SPLIT_PARIS.add_working_days(paris(2026, 3, 2, 9), 1) == paris(2026, 3, 2, 17)


def test_overlapping_periods_are_merged() -> None:
    overlapping = WorkingCalendar(CalendarDef("o", periods=weekly({0: [(9, 13), (12, 17)]})))
    assert overlapping.day_length() == timedelta(hours=8)
    assert overlapping.working_time_between(utc(2026, 3, 2), utc(2026, 3, 3)) == timedelta(hours=8)


def test_period_ending_at_midnight() -> None:
    # Mon 18-24, Tue 00-02 and 18-24, Wed 08-12, Sun 10-14 (New York)
    start = datetime(2026, 3, 2, 23, tzinfo=NEW_YORK)
    assert NY_LATE.add_working_time(start, timedelta(hours=2)) == datetime(
        2026, 3, 3, 1, tzinfo=NEW_YORK
    )
    assert NY_LATE.is_working_time(datetime(2026, 3, 2, 23, 59, tzinfo=NEW_YORK))
    assert NY_LATE.is_working_time(datetime(2026, 3, 3, 0, 0, tzinfo=NEW_YORK))
    # Monday's period ends at 24:00, so Monday's close of business is Tuesday 00:00
    assert NY_LATE.add_working_days(datetime(2026, 3, 2, 12, tzinfo=NEW_YORK), 1) == datetime(
        2026, 3, 3, 0, tzinfo=NEW_YORK
    )


# -- holidays --------------------------------------------------------------------------------


def test_explicit_holiday_is_skipped() -> None:
    cal = WorkingCalendar(
        CalendarDef("h", periods=office_calendar().periods, holidays=(date(2026, 3, 3),))
    )
    assert cal.is_holiday(date(2026, 3, 3))
    assert not cal.is_holiday(date(2026, 3, 4))
    assert not cal.is_working_time(utc(2026, 3, 3, 10))
    assert cal.add_working_time(utc(2026, 3, 2, 16), timedelta(hours=2)) == utc(2026, 3, 4, 10)
    assert cal.add_working_days(utc(2026, 3, 2, 9), 3) == utc(2026, 3, 5, 17)
    assert cal.working_time_between(utc(2026, 3, 2), utc(2026, 3, 9)) == timedelta(hours=32)


def test_country_holidays_france_bastille_day() -> None:
    # 2026-07-14 is a Tuesday; Paris is UTC+2 in July
    assert SPLIT_PARIS.is_holiday(date(2026, 7, 14))
    assert not SPLIT_PARIS.is_working_time(paris(2026, 7, 14, 10))
    assert SPLIT_PARIS.add_working_time(paris(2026, 7, 13, 16), timedelta(hours=2)) == paris(
        2026, 7, 15, 10
    )
    assert SPLIT_PARIS.add_working_days(paris(2026, 7, 13, 9), 2) == utc(2026, 7, 15, 15)


def test_country_holidays_great_britain_christmas_and_boxing_day_observed() -> None:
    cal = WorkingCalendar(
        CalendarDef(
            "uk", "Europe/London", office_calendar().periods, country="GB", subdivision="ENG"
        )
    )
    # Fri 25 Dec and Mon 28 Dec (Boxing Day observed) 2026 are holidays
    assert cal.add_working_time(utc(2026, 12, 24, 16), timedelta(hours=2)) == utc(2026, 12, 29, 10)
    assert not cal.is_holiday(date(2026, 1, 2))


def test_country_subdivision_scotland() -> None:
    cal = WorkingCalendar(
        CalendarDef(
            "sc", "Europe/London", office_calendar().periods, country="GB", subdivision="SCT"
        )
    )
    assert cal.is_holiday(date(2026, 1, 2))
    assert cal.next_working_time(utc(2026, 1, 2, 10)) == utc(2026, 1, 5, 9)


def test_country_holidays_united_states_observed_independence_day() -> None:
    cal = WorkingCalendar(
        CalendarDef("us", "America/New_York", office_calendar().periods, country="us")
    )
    # 4 July 2026 is a Saturday; Friday 3 July is the observed holiday
    assert cal.is_holiday(date(2026, 7, 3))
    start = datetime(2026, 7, 2, 16, tzinfo=NEW_YORK)
    assert cal.add_working_time(start, timedelta(hours=2)) == datetime(
        2026, 7, 6, 10, tzinfo=NEW_YORK
    )


def test_is_holiday_refuses_datetimes() -> None:
    with pytest.raises(TypeError, match="date, not a datetime"):
        OFFICE.is_holiday(utc(2026, 12, 25))


# -- daylight saving time --------------------------------------------------------------------


def test_dst_spring_forward_keeps_local_hours() -> None:
    # Clocks go forward on Sunday 29 March 2026 in Paris: 09-17 is 08-16 UTC before, 07-15 after
    assert PARIS_OFFICE.is_working_time(utc(2026, 3, 27, 8, 30))
    assert not PARIS_OFFICE.is_working_time(utc(2026, 3, 27, 7, 30))
    assert PARIS_OFFICE.is_working_time(utc(2026, 3, 30, 7, 30))
    assert not PARIS_OFFICE.is_working_time(utc(2026, 3, 30, 15, 30))
    friday = paris(2026, 3, 27, 16)
    assert PARIS_OFFICE.add_working_time(friday, timedelta(hours=2)) == paris(2026, 3, 30, 10)
    assert PARIS_OFFICE.add_working_time(friday, timedelta(hours=2)) == utc(2026, 3, 30, 8)
    assert PARIS_OFFICE.working_time_between(paris(2026, 3, 27, 9), paris(2026, 3, 30, 17)) == (
        timedelta(hours=16)
    )
    assert PARIS_OFFICE.add_working_days(friday, 1) == paris(2026, 3, 30, 17)


def test_dst_fall_back_keeps_local_hours() -> None:
    # Clocks go back on Sunday 25 October 2026 in Paris
    friday = paris(2026, 10, 23, 16)
    assert PARIS_OFFICE.add_working_time(friday, timedelta(hours=2)) == paris(2026, 10, 26, 10)
    assert PARIS_OFFICE.next_working_time(paris(2026, 10, 26, 8)) == utc(2026, 10, 26, 8)


def test_dst_working_time_is_elapsed_time() -> None:
    always = WorkingCalendar(
        CalendarDef("24x7", "Europe/Paris", weekly({d: [(0, 24)] for d in range(7)}))
    )
    # the night of 28-29 March 2026 is one hour short in Paris
    assert always.working_time_between(paris(2026, 3, 28), paris(2026, 3, 30)) == timedelta(
        hours=47
    )
    assert always.add_working_time(paris(2026, 3, 28, 12), timedelta(hours=24)) == paris(
        2026, 3, 29, 13
    )
    assert always.add_working_days(paris(2026, 3, 28), 2) == paris(2026, 3, 30)


def test_dst_gap_inside_a_period_is_not_counted_twice() -> None:
    # on 29 March 2026 Paris skips from 02:00 to 03:00; 02:30 does not exist that day
    night = WorkingCalendar(
        CalendarDef(
            "night",
            "Europe/Paris",
            (WorkingPeriod(6, time(1), time(2, 30)), WorkingPeriod(6, time(3), time(5))),
        )
    )
    sunday = (paris(2026, 3, 29), paris(2026, 3, 30))
    assert night.working_time_between(*sunday) == timedelta(hours=3)
    assert night.add_working_time(sunday[0], timedelta(hours=3)) == paris(2026, 3, 29, 5)
    # an ordinary Sunday has 3.5 hours; whole weeks are summed the same way
    assert night.working_time_between(paris(2026, 3, 22), paris(2026, 3, 23)) == timedelta(
        hours=3, minutes=30
    )
    assert night.working_time_between(paris(2026, 3, 22), paris(2026, 4, 6)) == timedelta(hours=10)


# -- due_date --------------------------------------------------------------------------------


def test_due_date_without_calendar_is_wall_clock() -> None:
    friday = utc(2026, 3, 6, 15)
    assert due_date(friday, parse_due("4h"), None) == utc(2026, 3, 6, 19)
    assert due_date(friday, parse_due("2d"), None) == utc(2026, 3, 8, 15)
    assert due_date(friday, parse_due("90m"), None) == utc(2026, 3, 6, 16, 30)


def test_due_date_without_calendar_counts_elapsed_hours_across_dst() -> None:
    saturday = paris(2026, 3, 28, 12)
    assert due_date(saturday, parse_due("1d"), None) == utc(2026, 3, 29, 11)
    assert due_date(saturday, parse_due("1d"), None) == paris(2026, 3, 29, 13)


def test_due_date_working_rule_without_calendar_uses_office() -> None:
    friday = utc(2026, 3, 6, 15)
    assert due_date(friday, parse_due("6 working hours"), None) == utc(2026, 3, 9, 13)
    assert due_date(utc(2026, 3, 2, 9), parse_due("3 working days"), None) == utc(2026, 3, 4, 17)


def test_due_date_with_calendar() -> None:
    friday = utc(2026, 3, 6, 15)
    assert due_date(friday, parse_due("4h"), OFFICE) == utc(2026, 3, 9, 11)
    assert due_date(friday, parse_due("PT4H"), OFFICE) == utc(2026, 3, 9, 11)
    assert due_date(friday, parse_due("30m"), OFFICE) == utc(2026, 3, 6, 15, 30)
    assert due_date(utc(2026, 3, 2, 9), parse_due("3d"), OFFICE) == utc(2026, 3, 4, 17)
    assert due_date(utc(2026, 3, 2, 13), parse_due("3 working days"), OFFICE) == utc(2026, 3, 5, 17)
    # a P1DT2H rule is 26 working hours, not a working day and two hours
    assert due_date(utc(2026, 3, 2, 9), parse_due("P1DT2H"), OFFICE) == utc(2026, 3, 5, 11)


def test_due_date_with_days_on_a_calendar_with_short_fridays() -> None:
    cal = WorkingCalendar(
        CalendarDef(
            "short-fri",
            periods=weekly({0: [(9, 17)], 1: [(9, 17)], 2: [(9, 17)], 3: [(9, 17)], 4: [(9, 13)]}),
        )
    )
    # the second working day from Thursday morning is Friday, which closes at 13:00
    assert due_date(utc(2026, 3, 5, 9), parse_due("2d"), cal) == utc(2026, 3, 6, 13)


# -- subtracting working time (an overdue SLA resuming) ----------------------------------------


@pytest.mark.parametrize(
    ("end", "minutes", "expected"),
    [
        (utc(2026, 3, 4, 12), 60, utc(2026, 3, 4, 11)),  # inside one period
        (utc(2026, 3, 4, 12), 8 * 60, utc(2026, 3, 3, 12)),  # one working day back
        (utc(2026, 3, 9, 10), 30, utc(2026, 3, 9, 9, 30)),  # Monday morning
        (utc(2026, 3, 9, 10), 60, utc(2026, 3, 6, 17)),  # whole Monday part: Friday close
        (utc(2026, 3, 9, 10), 61, utc(2026, 3, 6, 16, 59)),
        (utc(2026, 3, 7, 12), 120, utc(2026, 3, 6, 15)),  # from Saturday
        (utc(2026, 3, 7, 12), 0, utc(2026, 3, 6, 17)),  # zero from a weekend: Friday close
        (utc(2026, 3, 4, 12), 0, utc(2026, 3, 4, 12)),  # zero from working time: itself
        (utc(2026, 3, 9, 9), 0, utc(2026, 3, 6, 17)),  # zero from an opening: last close
        (utc(2026, 5, 13, 12), 8 * 5 * 10 * 60, utc(2026, 3, 4, 12)),  # ten weeks back
        (utc(2026, 3, 16, 10), 8 * 5 * 60 + 60, utc(2026, 3, 6, 17)),  # a whole week + 1h
    ],
)
def test_subtract_working_time(end: datetime, minutes: int, expected: datetime) -> None:
    assert OFFICE.subtract_working_time(end, timedelta(minutes=minutes)) == expected


def test_subtract_working_time_across_a_lunch_break_and_a_holiday() -> None:
    # 2026-07-14 (Tuesday) is Bastille Day; Paris is UTC+2 in summer
    end = paris(2026, 7, 15, 10)
    assert SPLIT_PARIS.subtract_working_time(end, timedelta(hours=2)) == paris(2026, 7, 13, 16)
    assert SPLIT_PARIS.subtract_working_time(end, timedelta(hours=6)) == paris(2026, 7, 13, 11)
    assert SPLIT_PARIS.subtract_working_time(paris(2026, 7, 13, 14), timedelta(hours=2)) == (
        paris(2026, 7, 13, 11)
    )
    assert SPLIT_PARIS.subtract_working_time(end, timedelta(hours=2)).tzinfo is UTC


def test_subtracting_a_negative_working_time_is_refused() -> None:
    with pytest.raises(ValueError, match="negative working time"):
        OFFICE.subtract_working_time(utc(2026, 3, 2, 10), timedelta(minutes=-1))


def test_zone_is_the_calendar_time_zone() -> None:
    assert SPLIT_PARIS.zone == PARIS
    assert OFFICE.zone == ZoneInfo("UTC")


# -- refusals --------------------------------------------------------------------------------

_NAIVE = datetime(2026, 3, 2, 10)


@pytest.mark.parametrize(
    "call",
    [
        lambda: OFFICE.is_working_time(_NAIVE),
        lambda: OFFICE.next_working_time(_NAIVE),
        lambda: OFFICE.add_working_time(_NAIVE, timedelta(hours=1)),
        lambda: OFFICE.add_working_days(_NAIVE, 1),
        lambda: OFFICE.subtract_working_time(_NAIVE, timedelta(hours=1)),
        lambda: OFFICE.working_time_between(_NAIVE, utc(2026, 3, 3)),
        lambda: OFFICE.working_time_between(utc(2026, 3, 1), _NAIVE),
        lambda: due_date(_NAIVE, DueRule(1, DueUnit.HOURS), None),
        lambda: due_date(_NAIVE, DueRule(1, DueUnit.HOURS), OFFICE),
    ],
)
def test_naive_datetimes_are_refused(call: Callable[[], object]) -> None:
    with pytest.raises(ValueError, match="naive datetime"):
        call()


@pytest.mark.parametrize(
    ("definition", "fragment"),
    [
        (CalendarDef("x"), "calendar 'x' has no working hours"),
        (CalendarDef("x", "Mars/Olympus", office_calendar().periods), "unknown time zone"),
        (CalendarDef("x", "../etc", office_calendar().periods), "unknown time zone"),
        (CalendarDef("x", periods=(WorkingPeriod(7, time(9), time(17)),)), "weekday 7"),
        (CalendarDef("x", periods=(WorkingPeriod(0, time(17), time(9)),)), "ends before it starts"),
        (CalendarDef("x", periods=(WorkingPeriod(0, time(9), time(9)),)), "ends before it starts"),
        (
            CalendarDef("x", periods=(WorkingPeriod(0, time(9, tzinfo=UTC), time(17)),)),
            "must be local",
        ),
        (CalendarDef("x", periods=office_calendar().periods, country="XX"), "XX not available"),
        (
            CalendarDef("x", periods=office_calendar().periods, country="FR", subdivision="ZZ"),
            "subdivision ZZ",
        ),
        (CalendarDef("x", periods=office_calendar().periods, subdivision="ENG"), "needs a country"),
    ],
)
def test_unusable_definitions_are_refused(definition: CalendarDef, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        WorkingCalendar(definition)


def test_a_calendar_that_never_works_fails_instead_of_looping() -> None:
    mondays = tuple(date(2026, 1, 5) + timedelta(weeks=n) for n in range(52 * 11))
    cal = WorkingCalendar(CalendarDef("never", periods=weekly({0: [(9, 17)]}), holidays=mondays))
    start = utc(2026, 1, 1)
    with pytest.raises(ValueError, match="no working time within"):
        cal.next_working_time(start)
    with pytest.raises(ValueError, match="no working time within"):
        cal.add_working_time(start, timedelta(hours=1))
    with pytest.raises(ValueError, match="no working time within"):
        cal.add_working_days(start, 1)
    assert cal.working_time_between(start, utc(2030, 1, 1)) == timedelta(0)
    with pytest.raises(ValueError, match="no working time within 3660 days before"):
        cal.subtract_working_time(utc(2036, 12, 20), timedelta(hours=1))


def test_calendar_for_is_cached_by_value() -> None:
    assert calendar_for(office_calendar()) is calendar_for(office_calendar())
    assert calendar_for(office_calendar()) is not calendar_for(
        CalendarDef("o", periods=weekly({0: [(9, 17)]}))
    )


# -- parse_time_range ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("09:00-17:00", (time(9), time(17))),
        (" 9:30 - 12:15 ", (time(9, 30), time(12, 15))),
        ("13:00\u201317:00", (time(13), time(17))),
        ("18:00-24:00", (time(18), time(0))),
        ("00:00-24:00", (time(0), time(0))),
    ],
)
def test_parse_time_range(text: str, expected: tuple[time, time]) -> None:
    assert parse_time_range(text) == expected


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("17:00-09:00", "end must be after the start"),
        ("09:00-09:00", "end must be after the start"),
        ("09:00", "expected 'HH:MM-HH:MM'"),
        ("9-17", "expected 'HH:MM-HH:MM'"),
        ("09:00-17:00:00", "expected 'HH:MM-HH:MM'"),
        ("24:00-24:00", "bad start time"),
        ("09:60-17:00", "bad start time"),
        ("09:00-25:00", "bad end time"),
        ("09:00-24:30", "bad end time"),
        ("09:00-17:75", "bad end time"),
    ],
)
def test_parse_time_range_refusals(text: str, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        parse_time_range(text)


def test_parse_time_range_refuses_non_text() -> None:
    with pytest.raises(ValueError, match="expected text"):
        parse_time_range(900)  # type: ignore[arg-type]


@pytest.mark.parametrize("text", ["09:00-17:00", "00:00-24:00", "13:30-24:00", "08:05-08:06"])
def test_format_time_range_round_trips(text: str) -> None:
    assert format_time_range(*parse_time_range(text)) == text


# -- properties ------------------------------------------------------------------------------

_CALENDARS = [OFFICE, SPLIT_PARIS, NY_LATE]

_starts = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC)
)
_amounts = st.integers(1, 60 * 8 * 300).map(lambda minutes: timedelta(minutes=minutes))


def reference_working_time(cal: WorkingCalendar, start: datetime, end: datetime) -> timedelta:
    """Working time from ``start`` to ``end``, day by day from the definition (no caching)."""
    definition = cal.definition
    zone = ZoneInfo(definition.timezone)
    country = (
        holidays.country_holidays(definition.country.upper(), subdiv=definition.subdivision)
        if definition.country
        else {}
    )
    total = timedelta(0)
    day = start.astimezone(zone).date() - timedelta(days=1)
    while day <= end.astimezone(zone).date():
        if day not in definition.holidays and day not in country:
            for period in definition.periods:
                if period.weekday != day.weekday():
                    continue
                low = datetime.combine(day, period.start, tzinfo=zone)
                high = (
                    datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
                    if period.end == time(0)
                    else datetime.combine(day, period.end, tzinfo=zone)
                )
                low, high = max(low.astimezone(UTC), start), min(high.astimezone(UTC), end)
                if high > low:
                    total += high - low
        day += timedelta(days=1)
    return total


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(_CALENDARS), _starts, _amounts)
def test_between_is_the_inverse_of_add(
    cal: WorkingCalendar, start: datetime, amount: timedelta
) -> None:
    end = cal.add_working_time(start, amount)
    assert end > start
    assert cal.working_time_between(start, end) == amount
    # and end is the earliest such instant: the moment just before it is working time
    assert cal.is_working_time(end - timedelta(microseconds=1))


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(_CALENDARS), _starts, st.integers(0, 60 * 24 * 400))
def test_between_matches_a_day_by_day_reference(
    cal: WorkingCalendar, start: datetime, minutes: int
) -> None:
    end = start + timedelta(minutes=minutes)
    assert cal.working_time_between(start, end) == reference_working_time(cal, start, end)


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(_CALENDARS), _starts, _starts)
def test_add_of_between_lands_on_the_last_working_instant(
    cal: WorkingCalendar, start: datetime, end: datetime
) -> None:
    back = cal.add_working_time(start, cal.working_time_between(start, end))
    assert back <= max(start, end)
    assert cal.working_time_between(back, end) == timedelta(0)


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(_CALENDARS), _starts)
def test_next_working_time_is_working_and_nothing_is_skipped(
    cal: WorkingCalendar, start: datetime
) -> None:
    found = cal.next_working_time(start)
    assert found >= start
    assert cal.is_working_time(found)
    assert cal.working_time_between(start, found) == timedelta(0)


@settings(max_examples=150, deadline=None)
@given(st.sampled_from([OFFICE, SPLIT_PARIS]), _starts, st.integers(1, 300))
def test_working_days_equal_day_lengths_then_close_of_business_on_uniform_calendars(
    cal: WorkingCalendar, start: datetime, days: int
) -> None:
    """Add N x day length of working time, then move on to that day's close of business.

    (Landing at the end of a morning period does not count as close of business.)
    """
    zone = ZoneInfo(cal.definition.timezone)
    reached = cal.add_working_time(start, days * cal.day_length())
    local_day = reached.astimezone(zone).date()
    last_end = max(p.end for p in cal.definition.periods if p.weekday == local_day.weekday())
    close = datetime.combine(local_day, last_end, tzinfo=zone)
    assert cal.add_working_days(start, days) == close


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(_CALENDARS), _starts, st.integers(0, 60 * 8 * 300))
def test_subtract_is_the_earliest_start_giving_that_working_time(
    cal: WorkingCalendar, end: datetime, minutes: int
) -> None:
    amount = timedelta(minutes=minutes)
    start = cal.subtract_working_time(end, amount)
    assert start <= end
    assert cal.working_time_between(start, end) == amount
    assert reference_working_time(cal, start, end) == amount
    # earliest: a moment earlier would add working time
    assert cal.is_working_time(start - timedelta(microseconds=1))


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(_CALENDARS), _starts, st.integers(1, 60 * 8 * 20), _amounts)
def test_subtract_undoes_add_from_a_point_reached_by_adding(
    cal: WorkingCalendar, origin: datetime, offset: int, amount: timedelta
) -> None:
    """From any instant :meth:`add_working_time` can give, adding then subtracting is exact."""
    start = cal.add_working_time(origin, timedelta(minutes=offset))
    assert cal.subtract_working_time(cal.add_working_time(start, amount), amount) == start
