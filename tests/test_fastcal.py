"""Fast float calendar of the simulator (engine.simulation.fastcal) against WorkingCalendar."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.calendars import WorkingCalendar, calendar_for
from engine.model import CalendarDef, WorkingPeriod, office_calendar
from engine.simulation.fastcal import AroundTheClock, FastCalendar, calendar_24_7

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
PARIS = ZoneInfo("Europe/Paris")
NEW_YORK = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")
TOLERANCE = 1e-6


def weekly(hours: dict[int, list[tuple[int, int]]]) -> tuple[WorkingPeriod, ...]:
    """Periods from ``{weekday: [(start_hour, end_hour), ...]}``; 24 means end of day."""
    return tuple(
        WorkingPeriod(day, time(start), time(0) if end == 24 else time(end))
        for day, ranges in hours.items()
        for start, end in ranges
    )


OFFICE = office_calendar()
PARIS_LUNCH = CalendarDef(
    name="paris-lunch",
    timezone="Europe/Paris",
    periods=weekly({d: [(9, 12), (13, 17)] for d in range(5)}),
)
HOLIDAYS = CalendarDef(
    name="ny-holidays",
    timezone="America/New_York",
    periods=weekly({d: [(8, 16)] for d in range(5)}),
    holidays=tuple(date(2024, 1, 3) + timedelta(days=9 * n) for n in range(170)),
)
FRANCE = CalendarDef(
    name="france",
    timezone="Europe/Paris",
    periods=(
        *(WorkingPeriod(d, time(8, 30), time(18)) for d in range(5)),
        WorkingPeriod(5, time(9), time(12)),
        WorkingPeriod(5, time(11), time(12, 45)),  # overlaps: merged into 09:00-12:45
    ),
    country="FR",
)
NIGHTS = CalendarDef(
    name="nights",
    timezone="America/New_York",
    periods=weekly({0: [(18, 24)], 1: [(0, 2), (18, 24)], 2: [(0, 6)], 4: [(20, 24)]}),
)
WEEKENDS = CalendarDef(
    name="weekends",
    timezone="Australia/Sydney",
    periods=weekly({5: [(10, 16)], 6: [(0, 3), (10, 16)]}),
)
ALL_DAYS = CalendarDef(
    name="all-days", timezone="Europe/London", periods=weekly({d: [(0, 24)] for d in range(7)})
)

DEFINITIONS = [OFFICE, PARIS_LUNCH, HOLIDAYS, FRANCE, NIGHTS, WEEKENDS, ALL_DAYS]
PAIRS = [(calendar_for(d), FastCalendar.from_definition(d)) for d in DEFINITIONS]

_LOW_US = int((datetime(2024, 1, 1, tzinfo=UTC) - EPOCH).total_seconds()) * 10**6
_HIGH_US = int((datetime(2028, 1, 1, tzinfo=UTC) - EPOCH).total_seconds()) * 10**6
# any microsecond, or a whole quarter of an hour (lands on period boundaries)
_instants = st.one_of(
    st.integers(_LOW_US, _HIGH_US),
    st.integers(_LOW_US // 900_000_000, _HIGH_US // 900_000_000).map(lambda q: q * 900_000_000),
)
_amounts = st.one_of(
    st.integers(1, 400 * 3600 * 10**6),
    st.integers(1, 1600).map(lambda q: q * 900_000_000),
)


def moment(micros: int) -> datetime:
    return EPOCH + timedelta(microseconds=micros)


def seconds(micros: int) -> float:
    return micros / 1e6


def stamp(at: datetime) -> float:
    return at.timestamp()


def local(zone: ZoneInfo, year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> float:
    """Epoch seconds of a local wall time in ``zone``."""
    return datetime(year, month, day, hour, minute, tzinfo=zone).timestamp()


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> float:
    """Epoch seconds of a UTC instant."""
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC).timestamp()


# -- equal to WorkingCalendar ----------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(PAIRS), _instants, _amounts)
def test_add_working_equals_add_working_time(
    pair: tuple[WorkingCalendar, FastCalendar], start: int, amount: int
) -> None:
    slow, fast = pair
    expected = slow.add_working_time(moment(start), timedelta(microseconds=amount))
    assert fast.add_working(seconds(start), seconds(amount)) == pytest.approx(
        stamp(expected), abs=TOLERANCE, rel=0
    )


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(PAIRS), _instants, _instants)
def test_working_between_equals_working_time_between(
    pair: tuple[WorkingCalendar, FastCalendar], a: int, b: int
) -> None:
    slow, fast = pair
    expected = slow.working_time_between(moment(a), moment(b)).total_seconds()
    assert fast.working_between(seconds(a), seconds(b)) == pytest.approx(
        expected, abs=TOLERANCE, rel=0
    )


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(PAIRS), _instants)
def test_next_working_and_is_working_equal_the_datetime_ones(
    pair: tuple[WorkingCalendar, FastCalendar], at: int
) -> None:
    slow, fast = pair
    assert fast.is_working(seconds(at)) is slow.is_working_time(moment(at))
    expected = stamp(slow.next_working_time(moment(at)))
    assert fast.next_working(seconds(at)) == pytest.approx(expected, abs=TOLERANCE, rel=0)


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(PAIRS), _instants, _instants)
def test_periods_between_are_the_working_time_between(
    pair: tuple[WorkingCalendar, FastCalendar], a: int, b: int
) -> None:
    _, fast = pair
    low, high = seconds(a), seconds(b)
    periods = fast.periods_between(low, high)
    assert sum(e - s for s, e in periods) == pytest.approx(
        fast.working_between(low, high), abs=TOLERANCE, rel=0
    )
    for s, e in periods:
        assert low <= s < e <= high
        assert fast.is_working(s)
        assert fast.is_working((s + e) / 2)
    for (_, e), (s, _) in zip(periods, periods[1:], strict=False):
        assert e < s  # maximal: touching intervals are joined
        assert not fast.is_working((e + s) / 2)


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(DEFINITIONS), st.lists(_instants, min_size=1, max_size=6), _amounts)
def test_answers_do_not_depend_on_query_history(
    definition: CalendarDef, earlier: list[int], amount: int
) -> None:
    """A calendar queried elsewhere first (chunks grown in another order) answers identically."""
    used = FastCalendar.from_definition(definition)
    for at in earlier:
        used.next_working(seconds(at))
    probe = seconds(earlier[0])
    fresh = FastCalendar.from_definition(definition)
    assert fresh.add_working(probe, seconds(amount)) == used.add_working(probe, seconds(amount))
    assert fresh.next_working(probe) == used.next_working(probe)
    last = seconds(earlier[-1])
    assert fresh.working_between(probe, last) == used.working_between(probe, last)


# -- fixed cases -----------------------------------------------------------------------------


def test_office_examples_and_exact_period_ends() -> None:
    cal = FastCalendar.from_definition(OFFICE)
    assert cal.add_working(utc(2026, 3, 6, 15), 4 * 3600) == utc(2026, 3, 9, 11)
    # a sum ending exactly at close of business stays there, not at the next opening
    assert cal.add_working(utc(2026, 3, 6, 13), 4 * 3600) == utc(2026, 3, 6, 17)
    assert cal.add_working(utc(2026, 3, 2, 9), 5 * 8 * 3600) == utc(2026, 3, 6, 17)
    assert cal.add_working(utc(2026, 3, 6, 17), 1.0) == utc(2026, 3, 9, 9, 0, 1)
    assert cal.is_working(utc(2026, 3, 9, 9))
    assert not cal.is_working(utc(2026, 3, 6, 17))
    assert cal.is_working(utc(2026, 3, 6, 17) - 1e-6)
    assert cal.next_working(utc(2026, 3, 6, 17)) == utc(2026, 3, 9, 9)
    assert cal.next_working(utc(2026, 3, 9, 9)) == utc(2026, 3, 9, 9)
    assert cal.next_working(utc(2026, 3, 9, 12, 30)) == utc(2026, 3, 9, 12, 30)
    assert cal.working_between(utc(2026, 3, 6, 15), utc(2026, 3, 9, 11)) == 4 * 3600
    assert cal.working_between(utc(2026, 3, 9, 11), utc(2026, 3, 6, 15)) == 0.0
    assert cal.periods_between(utc(2026, 3, 6, 15), utc(2026, 3, 9, 10)) == [
        (utc(2026, 3, 6, 15), utc(2026, 3, 6, 17)),
        (utc(2026, 3, 9, 9), utc(2026, 3, 9, 10)),
    ]


def test_a_sum_a_rounding_error_past_a_period_end_stays_at_that_end() -> None:
    cal = FastCalendar.from_definition(OFFICE)
    for fraction in (0.1, 0.2, 0.7, 0.123456, 0.9):  # not exact in binary
        thursday = utc(2026, 3, 5, 9) + fraction
        assert cal.add_working(thursday, 16 * 3600 - fraction) == utc(2026, 3, 6, 17)
        assert cal.add_working(thursday, 8 * 3600 - fraction) == utc(2026, 3, 5, 17)
        # less than half a microsecond past the end (zero in whole microseconds): the end
        assert cal.add_working(thursday, 16 * 3600 - fraction + 2e-7) == utc(2026, 3, 6, 17)
        assert cal.add_working(thursday, 16 * 3600 - fraction + 1e-6) == pytest.approx(
            utc(2026, 3, 9, 9) + 1e-6, abs=5e-7, rel=0
        )


def test_adding_zero_returns_the_instant_even_off_hours() -> None:
    cal = FastCalendar.from_definition(OFFICE)
    saturday = utc(2026, 3, 7, 10, 0, 0) + 0.25
    assert cal.add_working(saturday, 0) == saturday
    assert cal.add_working(saturday, 0.0) == saturday


@pytest.mark.parametrize("amount", [-1.0, float("nan"), float("inf")])
def test_bad_amounts_are_refused(amount: float) -> None:
    with pytest.raises(ValueError, match="cannot add"):
        FastCalendar.from_definition(OFFICE).add_working(utc(2026, 3, 2, 9), amount)


@pytest.mark.parametrize("at", [float("nan"), float("inf"), -float("inf")])
def test_non_finite_instants_are_refused(at: float) -> None:
    cal = FastCalendar.from_definition(OFFICE)
    with pytest.raises(ValueError, match="office"):
        cal.next_working(at)
    with pytest.raises(ValueError, match="office"):
        cal.is_working(at)
    with pytest.raises(ValueError, match="office|between"):
        low, high = (at, utc(2026, 3, 2)) if at < 0 else (utc(2026, 3, 2), at)
        cal.working_between(low, high)


def test_queries_before_the_first_generated_chunk() -> None:
    cal = FastCalendar.from_definition(PARIS_LUNCH)
    slow = calendar_for(PARIS_LUNCH)
    assert cal.next_working(local(PARIS, 2027, 6, 5, 10)) == local(PARIS, 2027, 6, 7, 9)
    # now far before everything generated so far, then spanning both
    early = datetime(2024, 2, 2, 11, 30, tzinfo=PARIS)
    assert cal.add_working(stamp(early), 2 * 3600) == local(PARIS, 2024, 2, 2, 14, 30)
    assert cal.is_working(stamp(early))
    assert not cal.is_working(local(PARIS, 2024, 2, 2, 12, 30))
    late = datetime(2027, 6, 7, 10, tzinfo=PARIS)
    assert cal.working_between(stamp(early), stamp(late)) == pytest.approx(
        slow.working_time_between(early, late).total_seconds(), abs=TOLERANCE, rel=0
    )
    total = slow.working_time_between(early, late).total_seconds()
    assert cal.add_working(stamp(early), total) == pytest.approx(stamp(late), abs=TOLERANCE)


def test_dst_keeps_local_hours_and_counts_elapsed_time() -> None:
    cal = FastCalendar.from_definition(PARIS_LUNCH)
    # spring forward in Paris on Sunday 2026-03-29: Friday 16:00 + 2 h is Monday 10:00 local
    assert cal.add_working(local(PARIS, 2026, 3, 27, 16), 2 * 3600) == local(PARIS, 2026, 3, 30, 10)
    assert cal.next_working(local(PARIS, 2026, 3, 28, 12)) == local(PARIS, 2026, 3, 30, 9)
    assert local(PARIS, 2026, 3, 30, 9) == utc(2026, 3, 30, 7)  # summer time: UTC+2
    around = FastCalendar.from_definition(ALL_DAYS)
    saturday, monday = local(LONDON, 2026, 3, 28), local(LONDON, 2026, 3, 30)
    assert around.working_between(saturday, monday) == 47 * 3600
    assert around.working_between(local(LONDON, 2026, 10, 24), local(LONDON, 2026, 10, 26)) == (
        49 * 3600
    )
    assert around.add_working(saturday, 47 * 3600) == monday
    assert around.periods_between(saturday, monday) == [(saturday, monday)]


def test_periods_ending_at_midnight() -> None:
    cal = FastCalendar.from_definition(NIGHTS)
    monday_18 = local(NEW_YORK, 2026, 3, 2, 18)
    tuesday_0 = local(NEW_YORK, 2026, 3, 3, 0)
    assert cal.add_working(monday_18, 6 * 3600) == tuesday_0
    assert cal.add_working(monday_18, 7 * 3600) == local(NEW_YORK, 2026, 3, 3, 1)
    assert cal.add_working(monday_18, 8 * 3600) == local(NEW_YORK, 2026, 3, 3, 2)
    assert cal.add_working(monday_18, 9 * 3600) == local(NEW_YORK, 2026, 3, 3, 19)
    assert cal.is_working(tuesday_0)
    assert cal.next_working(tuesday_0) == tuesday_0
    assert not cal.is_working(local(NEW_YORK, 2026, 3, 3, 2))
    assert cal.periods_between(monday_18, local(NEW_YORK, 2026, 3, 3, 12)) == [
        (monday_18, local(NEW_YORK, 2026, 3, 3, 2))
    ]


def test_holidays_explicit_and_country() -> None:
    france = FastCalendar.from_definition(FRANCE)
    # Bastille Day 2026 is a Tuesday: Monday 17:00 + 2 h ends on Wednesday 09:30
    assert france.add_working(local(PARIS, 2026, 7, 13, 17), 2 * 3600) == local(
        PARIS, 2026, 7, 15, 9, 30
    )
    assert not france.is_working(local(PARIS, 2026, 7, 14, 10))
    assert france.working_between(local(PARIS, 2026, 3, 7), local(PARIS, 2026, 3, 8)) == (
        3.75 * 3600  # Saturday periods 09:00-12:00 and 11:00-12:45 merged
    )
    explicit = FastCalendar.from_definition(HOLIDAYS)
    # every 9th day from 2024-01-03 is a holiday: Tuesday 2026-06-30 is one
    assert date(2024, 1, 3) + timedelta(days=9 * 101) == date(2026, 6, 30)
    assert explicit.is_working(local(NEW_YORK, 2026, 6, 29, 15))
    assert not explicit.is_working(local(NEW_YORK, 2026, 6, 30, 10))
    assert explicit.next_working(local(NEW_YORK, 2026, 6, 30, 10)) == local(NEW_YORK, 2026, 7, 1, 8)
    assert explicit.add_working(local(NEW_YORK, 2026, 6, 29, 15), 2 * 3600) == local(
        NEW_YORK, 2026, 7, 1, 9
    )


def test_weekend_only_calendar() -> None:
    cal = FastCalendar.from_definition(WEEKENDS)
    sydney = ZoneInfo("Australia/Sydney")
    wednesday = local(sydney, 2026, 4, 1, 12)
    assert cal.next_working(wednesday) == local(sydney, 2026, 4, 4, 10)
    # Saturday 10-16, Sunday 00-03 then 10-16 (Sunday 2026-04-05 03:00 DST ends: 3 h + 1 h)
    assert cal.working_between(wednesday, local(sydney, 2026, 4, 6)) == (6 + 4 + 6) * 3600


def test_a_calendar_that_never_works_fails_instead_of_looping() -> None:
    mondays = tuple(date(2026, 1, 5) + timedelta(weeks=n) for n in range(52 * 11))
    never = CalendarDef("never", periods=weekly({0: [(9, 17)]}), holidays=mondays)
    cal = FastCalendar.from_definition(never)
    start = utc(2026, 1, 1)
    with pytest.raises(ValueError, match="calendar 'never' has no working time within"):
        cal.next_working(start)
    with pytest.raises(ValueError, match="calendar 'never' has no working time within"):
        cal.add_working(start, 3600)
    assert cal.working_between(start, utc(2030, 1, 1)) == 0.0
    assert not cal.is_working(utc(2027, 3, 1, 10))
    assert cal.periods_between(start, utc(2028, 1, 1)) == []


def test_unusable_definitions_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown time zone"):
        FastCalendar.from_definition(CalendarDef("bad", timezone="Mars/Olympus", periods=()))
    with pytest.raises(ValueError, match="no working hours"):
        FastCalendar.from_definition(CalendarDef("empty"))


def test_around_the_clock() -> None:
    for cal in (FastCalendar.from_definition(None), calendar_24_7()):
        assert isinstance(cal, AroundTheClock)
        assert cal.name == "24/7"
        assert cal.is_working(utc(2026, 3, 7, 3))
        assert cal.next_working(123.5) == 123.5
        assert cal.add_working(100.0, 50.5) == 150.5
        assert cal.add_working(100.0, 0) == 100.0
        assert cal.working_between(100.0, 150.0) == 50.0
        assert cal.working_between(150.0, 100.0) == 0.0
        assert cal.periods_between(100.0, 150.0) == [(100.0, 150.0)]
        assert cal.periods_between(150.0, 100.0) == []
        for amount in (-1.0, float("inf"), float("nan")):
            with pytest.raises(ValueError, match="cannot add"):
                cal.add_working(100.0, amount)


def test_repr_and_name() -> None:
    cal = FastCalendar.from_definition(PARIS_LUNCH)
    assert cal.name == "paris-lunch"
    assert repr(cal) == "FastCalendar('paris-lunch')"
