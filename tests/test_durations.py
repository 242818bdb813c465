"""Due-rule and wall-duration parsing (engine.durations)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.durations import (
    MAX_DAYS,
    DurationError,
    normalise_due,
    parse_due,
    parse_wall_duration,
)
from engine.model import DueRule, DueUnit

M, H, D = DueUnit.MINUTES, DueUnit.HOURS, DueUnit.DAYS


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("4h", DueRule(4, H)),
        ("2d", DueRule(2, D)),
        ("30m", DueRule(30, M)),
        ("90 minutes", DueRule(90, M)),
        ("4 hours", DueRule(4, H)),
        ("1 hour", DueRule(1, H)),
        ("2 days", DueRule(2, D)),
        ("3 working days", DueRule(3, D, working=True)),
        ("6 working hours", DueRule(6, H, working=True)),
        ("1 working day", DueRule(1, D, working=True)),
        ("45 working minutes", DueRule(45, M, working=True)),
        ("2 business days", DueRule(2, D, working=True)),
        ("PT4H", DueRule(4, H)),
        ("P2D", DueRule(2, D)),
        ("PT30M", DueRule(30, M)),
        ("P1DT2H", DueRule(26, H)),
        ("PT1H30M", DueRule(90, M)),
        ("P1DT30M", DueRule(1470, M)),
        ("P1DT0H", DueRule(1, D)),
        ("  4H  ", DueRule(4, H)),
        ("3  Working   DAYS", DueRule(3, D, working=True)),
        ("pt4h", DueRule(4, H)),
        ("4 h", DueRule(4, H)),
        ("24h", DueRule(24, H)),
        (f"{MAX_DAYS}d", DueRule(MAX_DAYS, D)),
    ],
)
def test_accepted_spellings(text: str, expected: DueRule) -> None:
    assert parse_due(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90m", "90m"),
        ("120m", "2h"),
        ("PT4H", "4h"),
        ("PT120M", "2h"),
        ("120 working minutes", "2 working hours"),
        ("48h", "48h"),  # hours never become days: with a calendar 2d is not 48h
        ("1 working hour", "1 working hour"),
    ],
)
def test_normalisation_gives_canonical_text(text: str, expected: str) -> None:
    assert parse_due(text).text == expected


def test_equal_meanings_give_equal_rules() -> None:
    assert parse_due("PT4H") == parse_due("4h") == parse_due("4 hours") == parse_due("240m")
    assert parse_due("P2D") == parse_due("2 days") == parse_due("2d")
    assert parse_due("24h") != parse_due("1d")
    assert parse_due("3 working days") != parse_due("3d")


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        (4, "a unit is required, e.g. '4h'"),
        ("4", "a unit is required"),
        (1.5, "a unit and a whole number"),
        (True, "expected a text"),
        ("1.5h", "write '90m'"),
        ("1,5 hours", "write '90m'"),
        ("2.5 working hours", "write '150 working minutes'"),
        ("1.5 working days", "whole working days"),
        ("1.5d", "write '36h'"),
        ("PT1.5H", "write '90m'"),
        ("0.5m", "smallest unit is minutes"),
        ("0h", "greater than zero"),
        ("PT0M", "greater than zero"),
        ("-4h", "positive"),
        ("", "empty"),
        ("   ", "empty"),
        ("soon", "expected e.g."),
        ("4x", "unknown unit 'x'"),
        ("2w", "weeks are not a unit"),
        ("P2W", "weeks are not a unit"),
        ("P1M", "years and months"),
        ("P1Y", "years and months"),
        ("PT30S", "seconds are not supported"),
        ("P", "not a valid ISO-8601"),
        ("PT", "not a valid ISO-8601"),
        ("P1DT", "not a valid ISO-8601"),
        ("PT4H30", "not a valid ISO-8601"),
        (f"{MAX_DAYS + 1}d", f"at most {MAX_DAYS} days"),
        (f"{MAX_DAYS * 24 + 1}h", "too long"),
        ("3 working d", "'3 working days'"),
        ("4 hours later", "expected e.g."),
    ],
)
def test_refused_spellings_say_what_to_write(value: str | int, fragment: str) -> None:
    with pytest.raises(DurationError) as info:
        parse_due(value)
    assert fragment in str(info.value)
    assert repr(value) in str(info.value)


@pytest.mark.parametrize(
    ("value", "advice"),
    [
        ("2 weeks", "weeks are not a unit; write days instead (e.g. '14d' or '10 working days')"),
        ("3w", "(e.g. '21d' or '15 working days')"),
        ("2 working weeks", "(e.g. '10 working days')"),
        ("1 month", "a month is not a fixed duration"),
        ("1 month", "write days instead (e.g. '30d' or '22 working days')"),
        ("2 months", "(e.g. '60d' or '44 working days')"),
        ("1mo", "(e.g. '30d' or '22 working days')"),
        ("1 working month", "(e.g. '22 working days')"),
        ("1 year", "a year is not a fixed duration"),
        ("1y", "(e.g. '365d' or '250 working days')"),
    ],
)
def test_weeks_months_and_years_say_which_days_to_write(value: str, advice: str) -> None:
    with pytest.raises(DurationError) as info:
        parse_due(value)
    assert advice in str(info.value)
    assert "unknown unit" not in str(info.value)


def test_wall_clock_advice_for_months_leaves_working_days_out() -> None:
    with pytest.raises(DurationError) as info:
        parse_wall_duration("1 month")
    assert "(e.g. '30d')" in str(info.value)
    assert "working" not in str(info.value)


def test_duration_error_is_a_value_error_and_keeps_the_value() -> None:
    with pytest.raises(ValueError) as info:
        parse_due("1.5h")
    assert isinstance(info.value, DurationError)
    assert info.value.value == "1.5h"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2d", timedelta(days=2)),
        ("90m", timedelta(minutes=90)),
        ("PT1H30M", timedelta(minutes=90)),
        ("P1DT2H", timedelta(hours=26)),
        ("4 hours", timedelta(hours=4)),
    ],
)
def test_wall_duration(text: str, expected: timedelta) -> None:
    assert parse_wall_duration(text) == expected


def test_wall_duration_refuses_working_time() -> None:
    with pytest.raises(DurationError, match="wall-clock time; drop 'working'"):
        parse_wall_duration("2 working days")


def test_wall_duration_refuses_bare_numbers() -> None:
    with pytest.raises(DurationError, match="a unit is required"):
        parse_wall_duration(48)


def test_normalise_due() -> None:
    assert normalise_due(DueRule(180, M, True)) == DueRule(3, H, True)
    assert normalise_due(DueRule(2, D)) == DueRule(2, D)
    with pytest.raises(DurationError, match="greater than zero"):
        normalise_due(DueRule(0, H))


# -- properties --------------------------------------------------------------------------

_normal_rules = st.one_of(
    st.builds(
        DueRule,
        st.integers(1, MAX_DAYS * 1440).filter(lambda n: n % 60 != 0),
        st.just(M),
        st.booleans(),
    ),
    st.builds(DueRule, st.integers(1, MAX_DAYS * 24), st.just(H), st.booleans()),
    st.builds(DueRule, st.integers(1, MAX_DAYS), st.just(D), st.booleans()),
)


@settings(max_examples=200, deadline=None)
@given(_normal_rules)
def test_text_round_trips(rule: DueRule) -> None:
    assert parse_due(rule.text) == rule


_spellings = st.one_of(
    st.tuples(st.integers(1, 50_000), st.sampled_from(["m", " minutes", " working minutes"])),
    st.tuples(st.integers(1, 2_000), st.sampled_from(["h", " hours", " hour", " working hours"])),
    st.tuples(st.integers(1, 500), st.sampled_from(["d", " days", " working days"])),
).map(lambda pair: f"{pair[0]}{pair[1]}")


@settings(max_examples=200, deadline=None)
@given(_spellings)
def test_parsing_is_normalised_and_stable(text: str) -> None:
    rule = parse_due(text)
    assert parse_due(rule.text) == rule
    assert normalise_due(rule) == rule
    assert not (rule.unit is M and rule.amount % 60 == 0)


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 30), st.integers(0, 23), st.integers(0, 59))
def test_iso_means_the_same_wall_time_as_its_normal_form(days: int, hours: int, mins: int) -> None:
    text = f"P{days}DT{hours}H{mins}M"
    total = days * 1440 + hours * 60 + mins
    if total == 0:
        with pytest.raises(DurationError):
            parse_due(text)
        return
    rule = parse_due(text)
    assert rule.total_minutes == total
    assert parse_wall_duration(text) == timedelta(minutes=total)
    assert rule.unit is (D if hours == mins == 0 else (H if total % 60 == 0 else M))
