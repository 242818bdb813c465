"""Working-time arithmetic over a :class:`~engine.model.CalendarDef`.

A calendar is a set of weekly working periods (local wall times in the calendar's time zone),
minus holidays (explicit dates plus, optionally, the public holidays of a country from the
``holidays`` package). Every datetime going in must be timezone-aware; every datetime coming
out is in UTC. Periods are turned into UTC intervals day by day in the calendar's zone, so
daylight-saving changes keep working hours at the same local wall times, and working time is
real elapsed time.

A period ending at ``time(0)`` ends at midnight at the end of its day (``24:00``).

Due dates (API.md "Working time"): without a calendar every rule is wall-clock (``d`` = 24 h);
with one, minute and hour rules add working time, and day rules add working days ending at
close of business (see :meth:`WorkingCalendar.add_working_days`).
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

from engine.model import BUILTIN_CALENDARS, CalendarDef, DueRule, DueUnit

__all__ = [
    "MAX_IDLE_DAYS",
    "WorkingCalendar",
    "calendar_for",
    "due_date",
    "format_time_range",
    "parse_time_range",
]

MAX_IDLE_DAYS = 3660
"""Longest run of days without working time searched before giving up (about 10 years)."""

_ZERO = timedelta(0)
_ONE_DAY = timedelta(days=1)
_WEEK = timedelta(days=7)
_END_OF_DAY = timedelta(days=1)
_CACHE_LIMIT = 50_000

Interval = tuple[datetime, datetime]


class WorkingCalendar:
    """Working-time arithmetic for one calendar definition.

    Construction validates the definition (time zone, periods, country) and raises
    :class:`ValueError` when it is unusable. Per-day UTC intervals and per-week totals are
    cached, so repeated calls are cheap; use :func:`calendar_for` to share instances.
    """

    def __init__(self, definition: CalendarDef) -> None:
        self.definition = definition
        self._zone = _zone(definition)
        self._weekly = _weekly_periods(definition)
        self._holidays = frozenset(definition.holidays)
        self._country = _country_holidays(definition)
        self._days: dict[date, tuple[Interval, ...]] = {}
        self._weeks: dict[date, tuple[timedelta, int]] = {}
        self._midnights: dict[date, datetime] = {}

    def __repr__(self) -> str:
        return f"WorkingCalendar({self.definition.name!r})"

    # -- queries -------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self.definition.name

    @property
    def zone(self) -> ZoneInfo:
        """The calendar's time zone (its working hours are local wall times there)."""
        return self._zone

    def is_holiday(self, day: date) -> bool:
        """True when ``day`` is an explicit holiday or a public holiday of the country."""
        if isinstance(day, datetime):
            raise TypeError("is_holiday takes a date, not a datetime")
        if day in self._holidays:
            return True
        return self._country is not None and day in self._country

    def is_working_time(self, at: datetime) -> bool:
        """True when ``at`` falls inside a working period (start included, end excluded)."""
        moment = _utc(at)
        local_day = moment.astimezone(self._zone).date()
        for day in (local_day - _ONE_DAY, local_day):
            for start, end in self._intervals(day):
                if start <= moment < end:
                    return True
        return False

    def day_length(self) -> timedelta:
        """The typical length of a working day: the most frequent non-zero daily total.

        Ties go to the longest. Nominal (local wall time, ignoring holidays and DST).
        """
        totals = [sum((e - s for s, e in periods), _ZERO) for periods in self._weekly]
        counts = Counter(t for t in totals if t > _ZERO)
        return max(counts, key=lambda total: (counts[total], total))

    # -- arithmetic ----------------------------------------------------------------------
    def next_working_time(self, at: datetime) -> datetime:
        """The first working instant at or after ``at`` (``at`` itself when working)."""
        moment = _utc(at)
        day = moment.astimezone(self._zone).date() - _ONE_DAY
        idle = 0
        while True:
            intervals = self._intervals(day)
            for start, end in intervals:
                if end > moment:
                    return max(start, moment)
            idle = self._idle(idle, 1, bool(intervals), moment)
            day += _ONE_DAY

    def add_working_time(self, start: datetime, amount: timedelta) -> datetime:
        """The instant at which ``amount`` of working time has passed since ``start``.

        Time outside working periods does not count: with Mon-Fri 09-17, Fri 15:00 + 4h is
        Mon 11:00. A result falling exactly at the end of a period stays there (Fri 13:00 +
        4h is Fri 17:00). Adding zero returns ``start`` (in UTC).
        """
        moment = _utc(start)
        if amount < _ZERO:
            raise ValueError(f"cannot add a negative working time ({amount})")
        if amount == _ZERO:
            return moment
        remaining = amount
        cursor = moment
        first_day = moment.astimezone(self._zone).date()
        day = first_day - _ONE_DAY
        idle = 0
        while True:
            if day.weekday() == 0 and day > first_day:
                week_total, week_days = self._week(day)
                if week_total < remaining:  # the whole week is used up: skip it
                    remaining -= week_total
                    idle = self._idle(idle, 7, week_days > 0, moment)
                    day += _WEEK
                    continue
            intervals = self._intervals(day)
            for period_start, period_end in intervals:
                if period_end <= cursor:
                    continue
                begin = max(period_start, cursor)
                length = period_end - begin
                if remaining <= length:
                    return begin + remaining
                remaining -= length
                cursor = period_end
            idle = self._idle(idle, 1, bool(intervals), moment)
            day += _ONE_DAY

    def working_time_between(self, start: datetime, end: datetime) -> timedelta:
        """Working time from ``start`` to ``end``; zero when ``end <= start``.

        Inverse of :meth:`add_working_time`:
        ``working_time_between(s, add_working_time(s, a)) == a``.
        """
        begin, finish = _utc(start), _utc(end)
        if finish <= begin:
            return _ZERO
        total = _ZERO
        cursor = begin
        first_day = begin.astimezone(self._zone).date()
        day = first_day - _ONE_DAY
        while self._midnight(day) < finish:
            if day.weekday() == 0 and day > first_day and self._midnight(day + _WEEK) <= finish:
                total += self._week(day)[0]
                day += _WEEK
                continue
            for period_start, period_end in self._intervals(day):
                low, high = max(period_start, cursor), min(period_end, finish)
                if high > low:
                    total += high - low
                    cursor = high
            day += _ONE_DAY
        return total

    def subtract_working_time(self, end: datetime, amount: timedelta) -> datetime:
        """The earliest instant from which ``amount`` of working time runs up to ``end``.

        Mirror of :meth:`add_working_time`, used to place a due date ``amount`` of working
        time in the past (an overdue SLA resuming): ``working_time_between(result, end) ==
        amount``. Of all such instants the earliest is taken, so the result is working time
        or the end of a working period, never an opening: with Mon-Fri 09-17, Mon 10:00 - 1h
        is Fri 17:00 (not Mon 09:00), Mon 10:00 - 30m is Mon 09:30, and subtracting zero from
        a non-working instant gives the last close of business before it. This keeps due
        dates in the form :func:`due_date` gives them (working time or close of a period).
        """
        moment = _utc(end)
        if amount < _ZERO:
            raise ValueError(f"cannot subtract a negative working time ({amount})")
        remaining = amount
        cursor = moment
        last_day = moment.astimezone(self._zone).date()
        day = last_day + _ONE_DAY
        idle = 0
        while True:
            if day.weekday() == 6 and day < last_day:
                week_total, week_days = self._week(day - timedelta(days=6))
                if week_total <= remaining:  # the whole week is used up: skip it
                    remaining -= week_total
                    idle = self._idle(idle, 7, week_days > 0, moment, "before")
                    day -= _WEEK
                    continue
            intervals = self._intervals(day)
            for period_start, period_end in reversed(intervals):
                high = min(period_end, cursor)
                if high <= period_start:
                    continue
                length = high - period_start
                if remaining < length:
                    return high - remaining
                remaining -= length
                cursor = period_start
            idle = self._idle(idle, 1, bool(intervals), moment, "before")
            day -= _ONE_DAY

    def add_working_days(self, start: datetime, days: int) -> datetime:
        """Close of business of the ``days``-th working day counted from ``start``.

        The day of ``start`` counts as day 1 only when ``start`` is at or before its opening
        (its first working period); otherwise counting begins with the next working day.
        Holidays and days without working periods are not working days. With Mon-Fri 09-17:
        Mon 09:00 + 3 = Wed 17:00, Mon 13:00 + 3 = Thu 17:00, Sat 10:00 + 1 = Mon 17:00.

        On a calendar whose working days all have the same length this equals adding
        ``days * day_length()`` of working time and then moving on to the end of that day's
        last working period unless already at the end of a period. Zero returns ``start``.
        """
        moment = _utc(start)
        if days < 0:
            raise ValueError(f"cannot add a negative number of working days ({days})")
        if days == 0:
            return moment
        counted = 0
        first_day = moment.astimezone(self._zone).date()
        day = first_day - _ONE_DAY
        idle = 0
        while True:
            if day.weekday() == 0 and day > first_day:
                week_days = self._week(day)[1]
                if counted + week_days < days:  # the whole week is used up: skip it
                    counted += week_days
                    idle = self._idle(idle, 7, week_days > 0, moment)
                    day += _WEEK
                    continue
            intervals = self._intervals(day)
            if intervals and intervals[0][0] >= moment:
                counted += 1
                if counted == days:
                    return intervals[-1][1]
            idle = self._idle(idle, 1, bool(intervals), moment)
            day += _ONE_DAY

    # -- internals -----------------------------------------------------------------------
    def _idle(
        self, idle: int, step: int, worked: bool, moment: datetime, direction: str = "after"
    ) -> int:
        """Days in a row without working time after a step; raises past the search bound."""
        if worked:
            return 0
        idle += step
        if idle > MAX_IDLE_DAYS:
            raise ValueError(
                f"calendar {self.name!r} has no working time within {MAX_IDLE_DAYS} days "
                f"{direction} {moment.isoformat()}"
            )
        return idle

    def _intervals(self, day: date) -> tuple[Interval, ...]:
        """Working intervals of local ``day`` in UTC, sorted and disjoint (cached)."""
        cached = self._days.get(day)
        if cached is not None:
            return cached
        result: list[Interval] = []
        if not self.is_holiday(day):
            midnight = datetime.combine(day, time(0), tzinfo=self._zone)
            for offset_start, offset_end in self._weekly[day.weekday()]:
                start = (midnight + offset_start).astimezone(UTC)
                end = (midnight + offset_end).astimezone(UTC)
                if result:  # a DST gap can make mapped periods overlap
                    start = max(start, result[-1][1])
                if end > start:
                    result.append((start, end))
        if len(self._days) > _CACHE_LIMIT:
            self._days.clear()
        intervals = tuple(result)
        self._days[day] = intervals
        return intervals

    def _week(self, monday: date) -> tuple[timedelta, int]:
        """Total working time and number of working days of the week starting ``monday``."""
        cached = self._weeks.get(monday)
        if cached is not None:
            return cached
        total, count = _ZERO, 0
        for offset in range(7):
            intervals = self._intervals(monday + timedelta(days=offset))
            if intervals:
                count += 1
                total += sum((end - start for start, end in intervals), _ZERO)
        if len(self._weeks) > _CACHE_LIMIT:
            self._weeks.clear()
        self._weeks[monday] = (total, count)
        return total, count

    def _midnight(self, day: date) -> datetime:
        """Local midnight starting ``day``, in UTC (cached)."""
        cached = self._midnights.get(day)
        if cached is not None:
            return cached
        value = datetime.combine(day, time(0), tzinfo=self._zone).astimezone(UTC)
        if len(self._midnights) > _CACHE_LIMIT:
            self._midnights.clear()
        self._midnights[day] = value
        return value


def due_date(start: datetime, rule: DueRule, calendar: WorkingCalendar | None) -> datetime:
    """The due date of ``rule`` counted from ``start``, in UTC.

    Without a calendar the rule is wall-clock elapsed time (``d`` = 24 hours), unless the rule
    says "working", which then follows the built-in ``office`` calendar. With a calendar,
    minute and hour rules add working time and day rules add working days ending at close of
    business.
    """
    moment = _utc(start)
    if calendar is None and rule.working:
        calendar = calendar_for(BUILTIN_CALENDARS["office"])
    if calendar is None:
        return moment + timedelta(minutes=rule.total_minutes)
    if rule.unit is DueUnit.DAYS:
        return calendar.add_working_days(moment, rule.amount)
    return calendar.add_working_time(moment, timedelta(minutes=rule.total_minutes))


@lru_cache(maxsize=256)
def calendar_for(definition: CalendarDef) -> WorkingCalendar:
    """A shared :class:`WorkingCalendar` for ``definition`` (cached by value)."""
    return WorkingCalendar(definition)


_TIME = r"([0-9]{1,2}):([0-9]{2})"
_RANGE = re.compile(rf"^{_TIME}\s*[-\u2013]\s*{_TIME}$")


def parse_time_range(text: str) -> tuple[time, time]:
    """Read ``"09:00-17:00"`` into ``(time(9), time(17))``.

    ``24:00`` is allowed as an end and gives ``time(0)`` (midnight at the end of the day).
    Raises :class:`ValueError` for a bad format or an end not after the start.
    """
    if not isinstance(text, str):
        raise ValueError(f"invalid time range {text!r}: expected text like '09:00-17:00'")
    match = _RANGE.match(text.strip())
    if match is None:
        raise ValueError(f"invalid time range {text!r}: expected 'HH:MM-HH:MM', e.g. '09:00-17:00'")
    start_h, start_m, end_h, end_m = (int(part) for part in match.groups())
    if start_h > 23 or start_m > 59:
        raise ValueError(f"invalid time range {text!r}: bad start time")
    if end_m > 59 or end_h > 24 or (end_h == 24 and end_m != 0):
        raise ValueError(f"invalid time range {text!r}: bad end time")
    start = time(start_h, start_m)
    end = time(0) if end_h == 24 else time(end_h, end_m)
    if end_h != 24 and end <= start:
        raise ValueError(f"invalid time range {text!r}: the end must be after the start")
    return start, end


def format_time_range(start: time, end: time) -> str:
    """Inverse of :func:`parse_time_range` (``time(0)`` as an end is written ``24:00``)."""
    end_text = "24:00" if end == time(0) else f"{end:%H:%M}"
    return f"{start:%H:%M}-{end_text}"


# -- construction helpers -------------------------------------------------------------------


def _utc(at: datetime) -> datetime:
    """``at`` in UTC; refuses naive datetimes."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"naive datetime {at.isoformat()} refused: give a timezone-aware one")
    return at.astimezone(UTC)


def _zone(definition: CalendarDef) -> ZoneInfo:
    try:
        return ZoneInfo(definition.timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(
            f"calendar {definition.name!r}: unknown time zone {definition.timezone!r}"
        ) from exc


def _offset(value: time) -> timedelta:
    return timedelta(
        hours=value.hour, minutes=value.minute, seconds=value.second, microseconds=value.microsecond
    )


def _weekly_periods(definition: CalendarDef) -> tuple[tuple[tuple[timedelta, timedelta], ...], ...]:
    """Per weekday (0 = Monday), the merged periods as offsets from local midnight."""
    days: list[list[tuple[timedelta, timedelta]]] = [[] for _ in range(7)]
    for period in definition.periods:
        if not 0 <= period.weekday <= 6:
            raise ValueError(
                f"calendar {definition.name!r}: weekday {period.weekday} is not 0 (Mon) to 6 (Sun)"
            )
        if period.start.tzinfo is not None or period.end.tzinfo is not None:
            raise ValueError(f"calendar {definition.name!r}: period times must be local (no tz)")
        start = _offset(period.start)
        end = _END_OF_DAY if period.end == time(0) else _offset(period.end)
        if end <= start:
            shown = format_time_range(period.start, period.end)
            raise ValueError(
                f"calendar {definition.name!r}: period {shown} on weekday {period.weekday}"
                " ends before it starts"
            )
        days[period.weekday].append((start, end))
    if not any(days):
        raise ValueError(f"calendar {definition.name!r} has no working hours")
    return tuple(tuple(_merge(periods)) for periods in days)


def _merge(periods: list[tuple[timedelta, timedelta]]) -> list[tuple[timedelta, timedelta]]:
    """Sort and merge overlapping or touching periods (09-12 + 12-17 = 09-17)."""
    merged: list[tuple[timedelta, timedelta]] = []
    for start, end in sorted(periods):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _country_holidays(definition: CalendarDef) -> holidays.HolidayBase | None:
    if definition.country is None:
        if definition.subdivision is not None:
            raise ValueError(f"calendar {definition.name!r}: a subdivision needs a country")
        return None
    try:
        return holidays.country_holidays(definition.country.upper(), subdiv=definition.subdivision)
    except NotImplementedError as exc:
        raise ValueError(f"calendar {definition.name!r}: {exc}") from exc
