"""Micro-benchmark: the simulator's FastCalendar against engine.calendars.WorkingCalendar.

For a few calendars, the same random queries (instants over 2024-2027, working durations from
a minute to a working week) go through ``FastCalendar.add_working`` / ``next_working`` /
``working_between`` on float epoch seconds and through ``WorkingCalendar.add_working_time`` /
``next_working_time`` / ``working_time_between`` on UTC datetimes and timedeltas (inputs built
beforehand, so conversions are not timed; both calendars warmed up on the same queries first,
so both run on their caches). Prints microseconds per call and the speed ratio, and checks
on the way that both give the same answers (to 1 microsecond).

Usage::

    .venv/bin/python bench/fastcal.py [--queries 20000] [--seed 7]
"""

from __future__ import annotations

import argparse
import gc
import random
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from datetime import time as wall_time

from engine.calendars import WorkingCalendar
from engine.model import CalendarDef, WorkingPeriod, office_calendar
from engine.simulation.fastcal import FastCalendar

_START = datetime(2024, 1, 1, tzinfo=UTC).timestamp()
_END = datetime(2028, 1, 1, tzinfo=UTC).timestamp()


def _paris_lunch() -> CalendarDef:
    """Mon-Fri 09:00-12:00 and 13:00-17:00 in Paris, French public holidays off."""
    periods = tuple(
        WorkingPeriod(day, wall_time(start), wall_time(end))
        for day in range(5)
        for start, end in ((9, 12), (13, 17))
    )
    return CalendarDef("paris-lunch-fr", timezone="Europe/Paris", periods=periods, country="FR")


def _per_call(run: Callable[[], object], calls: int) -> float:
    """Microseconds per call of ``run`` (which makes ``calls`` calls); best of five, no GC."""
    best = float("inf")
    gc.collect()
    gc.disable()
    try:
        for _ in range(5):
            began = time.perf_counter()
            run()
            best = min(best, time.perf_counter() - began)
    finally:
        gc.enable()
    return best / calls * 1e6


def bench(definition: CalendarDef, queries: int, rng: random.Random) -> None:
    """Time and compare both calendars on ``queries`` random queries of ``definition``."""
    slow = WorkingCalendar(definition)
    fast = FastCalendar.from_definition(definition)
    instants = [rng.uniform(_START, _END) for _ in range(queries)]
    amounts = [rng.uniform(60.0, 5 * 8 * 3600.0) for _ in range(queries)]
    moments = [datetime.fromtimestamp(t, UTC) for t in instants]
    deltas = [timedelta(seconds=a) for a in amounts]
    ends = [t + a * 3 for t, a in zip(instants, amounts, strict=True)]
    end_moments = [datetime.fromtimestamp(t, UTC) for t in ends]

    def fast_add() -> list[float]:
        add = fast.add_working
        return [add(t, a) for t, a in zip(instants, amounts, strict=True)]

    def slow_add() -> list[datetime]:
        add = slow.add_working_time
        return [add(m, d) for m, d in zip(moments, deltas, strict=True)]

    def slow_add_floats() -> list[float]:
        """What the simulator would pay with WorkingCalendar: float -> datetime -> float."""
        add, moment = slow.add_working_time, datetime.fromtimestamp
        return [
            add(moment(t, UTC), timedelta(seconds=a)).timestamp()
            for t, a in zip(instants, amounts, strict=True)
        ]

    def fast_next() -> list[float]:
        nxt = fast.next_working
        return [nxt(t) for t in instants]

    def slow_next() -> list[datetime]:
        nxt = slow.next_working_time
        return [nxt(m) for m in moments]

    def fast_between() -> list[float]:
        between = fast.working_between
        return [between(a, b) for a, b in zip(instants, ends, strict=True)]

    def slow_between() -> list[timedelta]:
        between = slow.working_time_between
        return [between(a, b) for a, b in zip(moments, end_moments, strict=True)]

    began = time.perf_counter()
    first_fast = fast_add()
    cold_fast = time.perf_counter() - began
    began = time.perf_counter()
    first_slow = slow_add()
    cold_slow = time.perf_counter() - began
    _check(first_fast, [m.timestamp() for m in first_slow], "add")
    _check(fast_next(), [m.timestamp() for m in slow_next()], "next")
    _check(fast_between(), [d.total_seconds() for d in slow_between()], "between")

    print(
        f"{definition.name} ({definition.timezone}): {fast.interval_count} intervals generated;"
        f" first add_working pass (cold, generating) {cold_fast * 1e3:.0f} ms,"
        f" WorkingCalendar's {cold_slow * 1e3:.0f} ms"
    )
    for label, quick, reference in (
        ("add_working", fast_add, slow_add),
        ("  (from floats)", fast_add, slow_add_floats),
        ("next_working", fast_next, slow_next),
        ("working_between", fast_between, slow_between),
    ):
        quick_us = _per_call(quick, queries)
        reference_us = _per_call(reference, queries)
        print(
            f"  {label:16s} fast {quick_us:7.2f} us   WorkingCalendar {reference_us:8.2f} us"
            f"   ratio x{reference_us / quick_us:6.1f}"
        )


def _check(fast: Sequence[float], slow: Sequence[float], label: str) -> None:
    worst = max(abs(a - b) for a, b in zip(fast, slow, strict=True))
    if worst > 1e-6:
        raise SystemExit(f"{label}: FastCalendar differs from WorkingCalendar by {worst} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    for definition in (office_calendar(), _paris_lunch()):
        bench(definition, args.queries, rng)


if __name__ == "__main__":
    main()
