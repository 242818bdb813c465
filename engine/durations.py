"""Parsing of due rules and other durations written in process definitions.

A due rule is written ``4h``, ``30m``, ``2d``, ``90 minutes``, ``3 working days``,
``6 working hours`` or as an ISO-8601 duration (``PT4H``, ``P2D``, ``P1DT2H``, ``PT1H30M``).
:func:`parse_due` turns any of these into a normalised :class:`~engine.model.DueRule`, so that
spellings with the same meaning give equal rules (``PT4H`` == ``4h`` == ``4 hours``,
``120m`` == ``2h``), and ``parse_due(rule.text) == rule`` for every rule it returns.

Normalisation rules:

* minutes that make whole hours become hours (``120m`` -> ``2h``; ``90m`` stays ``90m``);
* hours never become days, and days never become hours: with a calendar ``d`` means working
  days (ending at close of business) while ``h`` means working hours, so ``24h`` and ``1d``
  are different rules;
* an ISO duration mixing days and a non-zero time part (``P1DT2H``) becomes hours or minutes
  (``26h``), as there is no "day and a bit" rule;
* years, months and weeks (``1 month``, ``2 weeks``, ``P1M``), seconds and fractions are
  refused with a message saying what to write instead (days or working days: a month is not a
  fixed duration).
"""

from __future__ import annotations

import re
from datetime import timedelta
from fractions import Fraction

from engine.model import DueRule, DueUnit

__all__ = [
    "MAX_DAYS",
    "DurationError",
    "normalise_due",
    "parse_due",
    "parse_wall_duration",
]

MAX_DAYS = 3650
"""Longest duration accepted, in (wall-clock) days; a working rule counts its units the same."""

_MAX_MINUTES = MAX_DAYS * 24 * 60
_UNIT_MINUTES = {DueUnit.MINUTES: 1, DueUnit.HOURS: 60, DueUnit.DAYS: 24 * 60}
_EXAMPLES = "e.g. '4h', '30m', '2d', '90 minutes', '3 working days' or ISO-8601 'PT4H'"

_UNIT_WORDS: dict[str, DueUnit] = {
    "m": DueUnit.MINUTES,
    "min": DueUnit.MINUTES,
    "mins": DueUnit.MINUTES,
    "minute": DueUnit.MINUTES,
    "minutes": DueUnit.MINUTES,
    "h": DueUnit.HOURS,
    "hr": DueUnit.HOURS,
    "hrs": DueUnit.HOURS,
    "hour": DueUnit.HOURS,
    "hours": DueUnit.HOURS,
    "d": DueUnit.DAYS,
    "day": DueUnit.DAYS,
    "days": DueUnit.DAYS,
}
_WEEK_WORDS = frozenset({"w", "wk", "wks", "week", "weeks"})
_MONTH_WORDS = frozenset({"mo", "mos", "mth", "mths", "month", "months"})
_YEAR_WORDS = frozenset({"y", "yr", "yrs", "year", "years"})
# Units that are not accepted, with the days and working days one of them usually means, so
# that the refusal can say what to write instead: (what it is, days, working days).
_CALENDAR_UNITS: dict[frozenset[str], tuple[str, int, int]] = {
    _WEEK_WORDS: ("weeks are not a unit", 7, 5),
    _MONTH_WORDS: ("a month is not a fixed duration (28 to 31 days)", 30, 22),
    _YEAR_WORDS: ("a year is not a fixed duration (365 or 366 days)", 365, 250),
}

# "4h", "4 h", "90 minutes", "3 working days", "2 business days", "1.5h" (refused later).
_SIMPLE = re.compile(
    r"^(?P<amount>[0-9]+(?:[.,][0-9]+)?)\s*"
    r"(?:(?P<working>working|business)\s+)?"
    r"(?P<unit>[a-z]+)$"
)
# ISO-8601 durations, upper-cased first; every number may carry a fraction (refused later).
_NUM = r"[0-9]+(?:[.,][0-9]+)?"
_ISO = re.compile(
    rf"^P(?:(?P<years>{_NUM})Y)?(?:(?P<months>{_NUM})M)?(?:(?P<weeks>{_NUM})W)?"
    rf"(?:(?P<days>{_NUM})D)?"
    rf"(?:T(?:(?P<hours>{_NUM})H)?(?:(?P<minutes>{_NUM})M)?(?:(?P<seconds>{_NUM})S)?)?$"
)


class DurationError(ValueError):
    """A duration that cannot be read; the message says what to write instead."""

    def __init__(self, value: object, reason: str) -> None:
        self.value = value
        self.reason = reason
        super().__init__(f"invalid duration {value!r}: {reason}")


def parse_due(value: str | int, *, wall_clock: bool = False) -> DueRule:
    """Read a due rule (``4h``, ``3 working days``, ``PT4H`` ...) into a normalised rule.

    Raises :class:`DurationError` (a :class:`ValueError`) for anything else, including bare
    numbers (a unit is required), fractions, zero or negative amounts and durations longer
    than :data:`MAX_DAYS` days. ``wall_clock``: the value is wall-clock time, so the advice
    for weeks, months and years offers days only, never working days.
    """
    return _parse_due(value, wall_clock=wall_clock)


def _parse_due(value: str | int, *, wall_clock: bool) -> DueRule:
    """:func:`parse_due`; ``wall_clock`` leaves working days out of the advice for weeks,
    months and years (a wall-clock duration cannot be in working days)."""
    if not isinstance(value, str):
        if isinstance(value, int) and not isinstance(value, bool):
            raise DurationError(value, f"a unit is required, e.g. '{value}h' or '{value}d'")
        if isinstance(value, float):
            raise DurationError(value, "a unit and a whole number are required, e.g. '90m'")
        raise DurationError(value, f"expected a text, {_EXAMPLES}")
    text = " ".join(value.strip().lower().split())
    if not text:
        raise DurationError(value, f"empty; expected {_EXAMPLES}")
    if text.startswith(("-", "+")):
        raise DurationError(value, "the amount must be a positive whole number")
    if text.startswith("p"):
        return _parse_iso(value, text.upper())
    match = _SIMPLE.match(text)
    if match is None:
        if re.fullmatch(r"[0-9]+(?:[.,][0-9]+)?", text):
            raise DurationError(value, f"a unit is required, e.g. '{text}h' or '{text}d'")
        raise DurationError(value, f"expected {_EXAMPLES}")
    word = match["unit"]
    working = match["working"] is not None
    for words, (what, days, working_days) in _CALENDAR_UNITS.items():
        if word in words:
            raise DurationError(
                value,
                _days_advice(
                    what,
                    match["amount"],
                    days=days,
                    working_days=None if wall_clock else working_days,
                    working=working,
                ),
            )
    unit = _UNIT_WORDS.get(word)
    if unit is None:
        raise DurationError(value, f"unknown unit {word!r}; expected {_EXAMPLES}")
    if working and len(word) == 1:
        plural = {DueUnit.MINUTES: "minutes", DueUnit.HOURS: "hours", DueUnit.DAYS: "days"}
        raise DurationError(
            value,
            f"spell the unit out with 'working', e.g. '{match['amount']} working {plural[unit]}'",
        )
    amount = _fraction(match["amount"])
    if amount.denominator != 1:
        raise DurationError(value, _fraction_advice(amount, unit, working))
    return _build(value, int(amount), unit, working)


def parse_wall_duration(value: str | int) -> timedelta:
    """Read a wall-clock duration such as a ``feedback_window`` (``2d`` = 48 hours).

    Accepts the spellings of :func:`parse_due` except "working" ones, since wall-clock time
    does not follow a calendar.
    """
    rule = parse_due(value, wall_clock=True)
    if rule.working:
        raise DurationError(
            value,
            f"this duration is wall-clock time; drop 'working' (e.g. '{rule.amount}"
            f"{rule.unit.value[0]}')",
        )
    return timedelta(minutes=rule.total_minutes)


def normalise_due(rule: DueRule) -> DueRule:
    """Return the normal form of ``rule``: whole hours of minutes become hours.

    Useful when a rule is built in code rather than parsed; :func:`parse_due` already returns
    normal forms. Raises :class:`DurationError` for a non-positive or too long rule.
    """
    return _build(rule.text, rule.amount, rule.unit, rule.working)


# -- helpers -----------------------------------------------------------------------------


def _build(value: object, amount: int, unit: DueUnit, working: bool) -> DueRule:
    """Check bounds and return the normalised rule for ``amount`` ``unit``."""
    if amount <= 0:
        raise DurationError(value, "the amount must be greater than zero")
    if amount * _UNIT_MINUTES[unit] > _MAX_MINUTES:
        raise DurationError(value, f"too long (at most {MAX_DAYS} days)")
    if unit is DueUnit.MINUTES and amount % 60 == 0:
        return DueRule(amount // 60, DueUnit.HOURS, working)
    return DueRule(amount, unit, working)


def _parse_iso(value: object, text: str) -> DueRule:
    """Read an upper-cased ISO-8601 duration (``PT4H``, ``P2D``, ``P1DT2H``)."""
    match = _ISO.match(text)
    if match is None or text in ("P", "PT") or text.endswith("T"):
        raise DurationError(value, "not a valid ISO-8601 duration (e.g. 'PT4H', 'P2D', 'PT1H30M')")
    if match["years"] is not None or match["months"] is not None:
        raise DurationError(value, "years and months vary in length; write days, e.g. 'P30D'")
    if match["weeks"] is not None:
        raise DurationError(
            value, "weeks are not a unit; write days instead (e.g. 'P14D' or '10 working days')"
        )
    parts = {name: _fraction(match[name] or "0") for name in ("days", "hours", "minutes")}
    seconds = _fraction(match["seconds"] or "0")
    total = parts["days"] * 1440 + parts["hours"] * 60 + parts["minutes"] + seconds / 60
    if seconds != 0:
        raise DurationError(value, "seconds are not supported; the smallest unit is minutes")
    if any(part.denominator != 1 for part in parts.values()):
        raise DurationError(value, _fraction_advice(total, DueUnit.MINUTES, False))
    if parts["hours"] == 0 and parts["minutes"] == 0:
        return _build(value, int(parts["days"]), DueUnit.DAYS, False)
    return _build(value, int(total), DueUnit.MINUTES, False)


def _days_advice(
    what: str, amount: str, *, days: int, working_days: int | None, working: bool
) -> str:
    """Message for weeks, months or years: write days or working days instead (``2 weeks`` ->
    ``'14d' or '10 working days'``; ``1 month`` -> ``'30d' or '22 working days'``); only
    days when ``working_days`` is None, only working days for ``2 working weeks``."""
    count = _fraction(amount)
    if count <= 0:
        count = Fraction(1)
    wall = f"'{max(1, round(count * days))}d'"
    if working_days is None:
        examples = wall
    else:
        work = f"'{max(1, round(count * working_days))} working days'"
        examples = work if working else f"{wall} or {work}"
    return f"{what}; write days instead (e.g. {examples})"


def _fraction(number: str) -> Fraction:
    return Fraction(number.replace(",", "."))


def _fraction_advice(amount: Fraction, unit: DueUnit, working: bool) -> str:
    """Message for a fractional amount, suggesting a whole-number spelling when one exists."""
    head = "use whole numbers"
    if unit is DueUnit.DAYS and working:
        return f"{head}, e.g. whole working days or a number of working hours"
    minutes = amount * _UNIT_MINUTES[unit]
    if minutes.denominator != 1:
        return f"{head}; the smallest unit is minutes"
    suggestion = DueRule(int(minutes), DueUnit.MINUTES, working)
    if minutes % 60 == 0:
        suggestion = DueRule(int(minutes) // 60, DueUnit.HOURS, working)
    return f"{head} — write '{suggestion.text}'"
