"""Time for the engine comes from an injected clock, never from ``datetime.now()`` elsewhere."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol

from engine.errors import InvalidArgument


class Clock(Protocol):
    """Anything with a ``now()`` giving a timezone-aware datetime."""

    def now(self) -> datetime: ...


def require_aware(value: datetime, what: str = "datetime") -> datetime:
    """Return ``value`` in UTC; InvalidArgument (a ValueError) if it is naive or no datetime."""
    if not isinstance(value, datetime):
        raise InvalidArgument(f"{what} must be a datetime, not {type(value).__name__}")
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise InvalidArgument(f"{what} must be timezone-aware (got naive {value.isoformat()})")
    return value.astimezone(UTC)


class SystemClock:
    """Wall-clock time in UTC: the default clock of an Engine."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    """A clock that moves only when told: for tests, demos and simulation."""

    def __init__(self, start: datetime) -> None:
        self._now = require_aware(start, "ManualClock start")

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> datetime:
        if delta < timedelta(0):
            raise InvalidArgument("a ManualClock does not go backwards")
        self._now = self._now + delta
        return self._now

    def set(self, when: datetime) -> datetime:
        when = require_aware(when, "ManualClock.set")
        if when < self._now:
            earlier = f"{when.isoformat()} < {self._now.isoformat()}"
            raise InvalidArgument(f"a ManualClock does not go backwards ({earlier})")
        self._now = when
        return self._now

    def __repr__(self) -> str:
        return f"ManualClock({self._now.isoformat()})"
