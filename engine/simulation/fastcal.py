"""Fast working-time arithmetic over float epoch seconds (UTC) for the simulator.

:class:`FastCalendar` answers the questions of :class:`engine.calendars.WorkingCalendar`
(is this instant working time, the next working instant, adding working time, working time
between two instants) with the same semantics, but on floats and in a few microseconds: the
working intervals are generated lazily, a chunk of days at a time, forward and backward as
queries need them, into sorted arrays of starts and ends (epoch seconds) with the cumulative
working time at both ends of each interval; every query is then one or two ``bisect`` calls.

The intervals of each local day come from ``WorkingCalendar``'s own day logic (the shared
instance of :func:`engine.calendars.calendar_for`), so time zones, daylight-saving changes,
explicit and country holidays, periods ending at ``time(0)`` (midnight at the end of the day)
and merged periods agree with the runtime by construction. Intervals of consecutive days are
kept apart even when they touch (Monday 18:00-24:00 then Tuesday 00:00-02:00), exactly like
``WorkingCalendar``; that changes no answer (a period's end is working time of the next one
when they touch) and makes every array entry independent of the order in which chunks were
generated, so answers never depend on query history.

Precision: instants near today are floats with a resolution of about 0.25 microsecond. A sum
of working time that ends within half a microsecond of the end of a working period counts as
ending at that end (``WorkingCalendar`` works in whole microseconds and returns the end of the
period, not the next opening, when the sum ends there exactly).
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from datetime import UTC, date, datetime, time, timedelta

from engine.calendars import MAX_IDLE_DAYS, WorkingCalendar, calendar_for
from engine.model import CalendarDef

__all__ = ["CHUNK_DAYS", "AroundTheClock", "FastCalendar", "calendar_24_7"]

CHUNK_DAYS = 56
"""Days of working intervals generated at a time (8 weeks)."""

_SNAP = 5e-7
"""A sum ending this close (seconds) after the end of a period ends at that end."""

_DAY_SECONDS = 86_400.0
_IDLE_LIMIT = (MAX_IDLE_DAYS + 1) * _DAY_SECONDS
_ONE_DAY = timedelta(days=1)


class FastCalendar:
    """Working-time arithmetic of one calendar over float epoch seconds (UTC).

    Build it with :meth:`from_definition` (``None`` gives :class:`AroundTheClock`). An
    unusable definition (unknown time zone, bad period, unknown country, no periods) raises
    :class:`ValueError` at construction, as ``WorkingCalendar`` does. Queries that need working
    time after an instant (:meth:`next_working`, :meth:`add_working`) raise
    :class:`ValueError` naming the calendar when there is none within ``MAX_IDLE_DAYS`` days.
    """

    def __init__(self, definition: CalendarDef) -> None:
        self.definition: CalendarDef | None = definition
        self._calendar: WorkingCalendar = calendar_for(definition)
        self._zone = self._calendar.zone
        # working intervals of the local days [_first_day, _end_day), sorted and disjoint
        self._starts: list[float] = []
        self._ends: list[float] = []
        self._cum_starts: list[float] = []  # working seconds before each start (any origin)
        self._cum_ends: list[float] = []  # working seconds before each end
        self._first_day: date | None = None
        self._end_day: date | None = None
        self._low = math.inf  # local midnight starting _first_day, epoch seconds
        self._high = -math.inf  # local midnight starting _end_day, epoch seconds

    @classmethod
    def from_definition(cls, definition: CalendarDef | None) -> FastCalendar:
        """The fast calendar of ``definition``; ``None`` means working around the clock."""
        if definition is None:
            return AroundTheClock()
        return cls(definition)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"

    @property
    def name(self) -> str:
        """The calendar's name (``"24/7"`` around the clock)."""
        return self.definition.name if self.definition is not None else "24/7"

    @property
    def interval_count(self) -> int:
        """How many working intervals have been generated so far (memory diagnostics)."""
        return len(self._starts)

    # -- queries -------------------------------------------------------------------------
    def is_working(self, t: float) -> bool:
        """True when ``t`` falls inside a working period (start included, end excluded)."""
        if not self._low <= t < self._high:
            self._cover(t)
        index = bisect_right(self._starts, t) - 1
        return index >= 0 and t < self._ends[index]

    def next_working(self, t: float) -> float:
        """The first working instant at or after ``t`` (``t`` itself when working)."""
        if not self._low <= t < self._high:
            self._cover(t)
        ends = self._ends
        index = bisect_right(ends, t)
        while index == len(ends):
            self._grow_after(t)
        start = self._starts[index]
        return start if start > t else t

    def add_working(self, t: float, seconds: float) -> float:
        """The instant at which ``seconds`` of working time have elapsed since ``t``.

        Zero returns ``t`` unchanged (even outside working time); a sum ending exactly at the
        end of a period returns that end, not the next opening. Negative amounts are refused.
        """
        if not 0.0 < seconds < math.inf:
            if seconds == 0.0:
                return t
            raise ValueError(f"cannot add {seconds} s of working time (negative or not finite)")
        if not self._low <= t < self._high:
            self._cover(t)
        ends = self._ends
        index = bisect_right(ends, t)
        while index == len(ends):
            self._grow_after(t)
        begin = self._starts[index]
        if begin < t:
            begin = t
        room = ends[index] - begin
        if seconds <= room:
            return begin + seconds
        target = self._cum_ends[index] + (seconds - room)
        cum_ends = self._cum_ends
        found = bisect_left(cum_ends, target - _SNAP, index)
        while found == len(cum_ends):
            self._grow_after(t)
            found = bisect_left(cum_ends, target - _SNAP, found)
        reached = self._starts[found] + (target - self._cum_starts[found])
        end = ends[found]
        return end if reached > end else reached

    def working_between(self, a: float, b: float) -> float:
        """Working seconds from ``a`` to ``b``; zero when ``b <= a``."""
        if not b > a:
            if math.isnan(a) or math.isnan(b):
                raise ValueError(f"cannot measure working time between {a} and {b}")
            return 0.0
        if not self._low <= a < self._high:
            self._cover(a)
        if not self._low <= b < self._high:
            self._cover(b)
        return self._cumulative(b) - self._cumulative(a)

    def periods_between(self, a: float, b: float) -> list[tuple[float, float]]:
        """The maximal working intervals inside ``[a, b]``, clipped to it (touching ones joined).

        Meant for tests and plots, not for the simulator's hot path.
        """
        if not b > a:
            return []
        self._cover(a)
        self._cover(b)
        starts, ends = self._starts, self._ends
        result: list[tuple[float, float]] = []
        index = bisect_right(ends, a)
        while index < len(starts) and starts[index] < b:
            low, high = max(starts[index], a), min(ends[index], b)
            if result and result[-1][1] == low:
                result[-1] = (result[-1][0], high)
            else:
                result.append((low, high))
            index += 1
        return result

    # -- internals -----------------------------------------------------------------------
    def _cumulative(self, t: float) -> float:
        """Working seconds before ``t`` from the arrays' origin (``t`` must be covered)."""
        index = bisect_right(self._starts, t) - 1
        if index < 0:
            return self._cum_starts[0] if self._cum_starts else 0.0
        if t >= self._ends[index]:
            return self._cum_ends[index]
        return self._cum_starts[index] + (t - self._starts[index])

    def _cover(self, t: float) -> None:
        """Generate intervals until the local day of ``t`` is inside the generated range."""
        if not math.isfinite(t):
            raise ValueError(f"calendar {self.name!r}: instant {t} is not a finite number")
        day = datetime.fromtimestamp(t, self._zone).date()
        if self._first_day is None or self._end_day is None:
            self._first_day = self._end_day = day
            self._low = self._high = self._midnight(day)
        while t < self._low:
            self._grow_backward(max(CHUNK_DAYS, (self._first_day - day).days + 1))
        while t >= self._high:
            self._grow_forward(max(CHUNK_DAYS, (day - self._end_day).days + 1))

    def _grow_after(self, since: float) -> None:
        """One more chunk forward for a query at ``since`` that needs more working time.

        Raises when no working time has been seen for ``MAX_IDLE_DAYS`` days after ``since``.
        """
        self._grow_forward(CHUNK_DAYS)
        last_work = self._ends[-1] if self._ends else -math.inf
        if self._high - max(last_work, since) > _IDLE_LIMIT:
            moment = datetime.fromtimestamp(since, UTC).isoformat()
            raise ValueError(
                f"calendar {self.name!r} has no working time within {MAX_IDLE_DAYS} days "
                f"after {moment}"
            )

    def _grow_forward(self, days: int) -> None:
        """Append the intervals of the ``days`` local days after the generated range."""
        assert self._end_day is not None
        starts, ends = self._starts, self._ends
        cum_starts, cum_ends = self._cum_starts, self._cum_ends
        last_end = ends[-1] if ends else -math.inf
        total = cum_ends[-1] if cum_ends else 0.0
        for start, end in self._day_intervals(self._end_day, days):
            start = max(start, last_end)  # never overlap (cannot happen with real zones)
            if end <= start:
                continue
            starts.append(start)
            ends.append(end)
            cum_starts.append(total)
            total += end - start
            cum_ends.append(total)
            last_end = end
        self._end_day += timedelta(days=days)
        self._high = self._midnight(self._end_day)

    def _grow_backward(self, days: int) -> None:
        """Prepend the intervals of the ``days`` local days before the generated range."""
        assert self._first_day is not None
        first_day = self._first_day - timedelta(days=days)
        first_start = self._starts[0] if self._starts else math.inf
        added: list[tuple[float, float]] = []
        last_end = -math.inf
        for start, end in self._day_intervals(first_day, days):
            start, end = max(start, last_end), min(end, first_start)
            if end > start:
                added.append((start, end))
                last_end = end
        total = self._cum_starts[0] if self._cum_starts else 0.0
        cum_starts: list[float] = []
        cum_ends: list[float] = []
        for start, end in reversed(added):  # cumulate backwards from the existing origin
            cum_ends.append(total)
            total -= end - start
            cum_starts.append(total)
        cum_starts.reverse()
        cum_ends.reverse()
        self._starts = [start for start, _ in added] + self._starts
        self._ends = [end for _, end in added] + self._ends
        self._cum_starts = cum_starts + self._cum_starts
        self._cum_ends = cum_ends + self._cum_ends
        self._first_day = first_day
        self._low = self._midnight(first_day)

    def _day_intervals(self, first: date, days: int) -> list[tuple[float, float]]:
        """Working intervals (epoch seconds) of ``days`` local days from ``first``, in order."""
        result: list[tuple[float, float]] = []
        day = first
        for _ in range(days):
            # the day logic of WorkingCalendar itself (cached there), so both always agree
            for start, end in self._calendar._intervals(day):
                result.append((start.timestamp(), end.timestamp()))
            day += _ONE_DAY
        return result

    def _midnight(self, day: date) -> float:
        """Local midnight starting ``day``, epoch seconds."""
        return datetime.combine(day, time(0), tzinfo=self._zone).timestamp()


class AroundTheClock(FastCalendar):
    """A calendar with no off time: every instant works, working time is elapsed time."""

    def __init__(self) -> None:  # no intervals to generate: every query is trivial
        self.definition = None

    @property
    def interval_count(self) -> int:
        return 0

    def is_working(self, t: float) -> bool:
        return True

    def next_working(self, t: float) -> float:
        return t

    def add_working(self, t: float, seconds: float) -> float:
        if not 0.0 <= seconds < math.inf:
            raise ValueError(f"cannot add {seconds} s of working time (negative or not finite)")
        return t + seconds

    def working_between(self, a: float, b: float) -> float:
        return b - a if b > a else 0.0

    def periods_between(self, a: float, b: float) -> list[tuple[float, float]]:
        return [(a, b)] if b > a else []


def calendar_24_7() -> FastCalendar:
    """A calendar working around the clock (what ``from_definition(None)`` gives)."""
    return AroundTheClock()
