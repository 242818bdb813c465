"""Prosimos calendars (``resource_calendars`` and time periods) as caseloom calendars.

A Prosimos time period ``{from, to, beginTime, endTime}`` names weekdays ``from``..``to`` (any
case, wrapping past Sunday) and times ``HH:MM[:SS[.fff]]``; an ``endTime`` of ``23:59:59`` or
later means "to midnight". Each becomes one :class:`~engine.model.WorkingPeriod` a weekday;
each calendar a :class:`~engine.model.CalendarDef` in the time zone Prosimos reads the hours
in (that of the simulation start). See ``docs/prosimos.md``.
"""

from __future__ import annotations

import re
from datetime import time
from typing import Any

from engine.errors import ProblemCollector
from engine.model import CalendarDef, WorkingPeriod
from engine.simulation.prosimos_json import JsonReader, join_path

__all__ = [
    "WEEKDAY_NAMES",
    "calendar_periods",
    "free_name",
    "read_calendars",
    "read_periods",
    "renamed",
]

WEEKDAY_NAMES: tuple[str, ...] = (
    "MONDAY",
    "TUESDAY",
    "WEDNESDAY",
    "THURSDAY",
    "FRIDAY",
    "SATURDAY",
    "SUNDAY",
)

_TIME = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?$")
_END_OF_DAY = time(23, 59, 59)


def read_calendars(
    root: dict[str, Any], reader: JsonReader, zone: str
) -> dict[str, CalendarDef | None]:
    """Calendars of ``resource_calendars`` by id; None for one whose problems were reported."""
    calendars: dict[str, CalendarDef | None] = {}
    for path, entry in reader.section(root, "resource_calendars"):
        name = reader.text(entry, "id", path)
        periods = read_periods(entry.get("time_periods"), join_path(path, "time_periods"), reader)
        if name is None:
            continue
        calendar = (
            None if periods is None else CalendarDef(name=name, timezone=zone, periods=periods)
        )
        reader.define_once(calendars, name, calendar, path, "calendar")
    return calendars


def calendar_periods(root: dict[str, Any]) -> dict[str, tuple[WorkingPeriod, ...]]:
    """Calendar periods re-read quietly (their problems were reported by
    :func:`read_calendars`): the first calendar of each id that has working hours."""
    quiet = JsonReader(ProblemCollector())
    found: dict[str, tuple[WorkingPeriod, ...]] = {}
    for path, entry in quiet.objects(root.get("resource_calendars"), "resource_calendars"):
        name = entry.get("id")
        periods = read_periods(entry.get("time_periods"), path, quiet)
        if isinstance(name, str) and periods:
            found.setdefault(name, periods)
    return found


def read_periods(value: object, path: str, reader: JsonReader) -> tuple[WorkingPeriod, ...] | None:
    """Prosimos time periods (``from``/``to`` weekday names, wrapping past Sunday, and
    ``beginTime``/``endTime``) as working periods; None when one of them is bad."""
    periods: list[WorkingPeriod] = []
    ok = True
    for item_path, item in reader.objects(value, path):
        first = _weekday(reader.text(item, "from", item_path), join_path(item_path, "from"), reader)
        last = _weekday(reader.text(item, "to", item_path), join_path(item_path, "to"), reader)
        begin = _clock_time(
            reader.text(item, "beginTime", item_path), join_path(item_path, "beginTime"), reader
        )
        end = _clock_time(
            reader.text(item, "endTime", item_path), join_path(item_path, "endTime"), reader
        )
        if first is None or last is None or begin is None or end is None:
            ok = False
            continue
        if end >= _END_OF_DAY:
            end = time(0)  # through midnight: Prosimos's 24-hour spelling
        elif end <= begin:
            reader.add(item_path, f"endTime {end} is not after beginTime {begin}")
            ok = False
            continue
        day = first
        while True:
            periods.append(WorkingPeriod(day, begin, end))
            if day == last:
                break
            day = (day + 1) % 7
    if not isinstance(value, list):
        return None
    return tuple(periods) if ok else None


def _weekday(name: str | None, path: str, reader: JsonReader) -> int | None:
    if name is None:
        return None
    upper = name.upper()
    if upper not in WEEKDAY_NAMES:
        reader.add(path, f"unknown weekday {name!r} (expected MONDAY ... SUNDAY)")
        return None
    return WEEKDAY_NAMES.index(upper)


def _clock_time(text: str | None, path: str, reader: JsonReader) -> time | None:
    if text is None:
        return None
    match = _TIME.match(text.strip())
    if match is not None:
        hour, minute = int(match[1]), int(match[2])
        second = int(match[3] or 0)
        micro = int((match[4] or "0")[:6].ljust(6, "0"))
        if hour < 24 and minute < 60 and second < 60:
            return time(hour, minute, second, micro)
    reader.add(path, f"expected a time of day such as '09:00:00', found {text!r}")
    return None


def renamed(calendar: CalendarDef, name: str) -> CalendarDef:
    """``calendar`` under another name."""
    return CalendarDef(name=name, timezone=calendar.timezone, periods=calendar.periods)


def free_name(name: str, taken: dict[str, CalendarDef]) -> str:
    """``name``, or ``name_2``, ``name_3``... the first that is not ``taken``."""
    candidate, n = name, 1
    while candidate in taken:
        n += 1
        candidate = f"{name}_{n}"
    return candidate
