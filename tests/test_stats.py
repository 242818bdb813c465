"""Student-t quantiles and confidence intervals (engine.simulation.stats)."""

from __future__ import annotations

import math
import statistics

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.errors import InvalidArgument
from engine.simulation.stats import (
    ci_half_width,
    describe,
    normal_quantile,
    regularized_beta,
    t_cdf,
    t_quantile,
)

# Reference values (scipy.stats.t.ppf / norm.ppf, and printed t tables).
KNOWN = [
    (0.975, 1, 12.706204736174707),
    (0.975, 2, 4.302652729749464),
    (0.975, 3, 3.182446305284263),
    (0.975, 7, 2.364624251592785),
    (0.975, 10, 2.228138851986274),
    (0.975, 30, 2.042272456301238),
    (0.975, 120, 1.979930405082423),
    (0.95, 10, 1.812461122811676),
    (0.995, 5, 4.032142983557536),
    (0.9995, 1, 636.6192487687196),
    (0.9, 4, 1.533206274058707),
]


@pytest.mark.parametrize(("p", "df", "expected"), KNOWN)
def test_t_quantile_matches_tables(p: float, df: int, expected: float) -> None:
    assert t_quantile(p, df) == pytest.approx(expected, rel=1e-9)


def test_t_quantile_lower_tail_is_symmetric_and_median_is_zero() -> None:
    assert t_quantile(0.025, 7) == pytest.approx(-2.364624251592785, rel=1e-9)
    assert t_quantile(0.5, 7) == 0.0


def test_t_quantile_df2_closed_form() -> None:
    # For df = 2 the quantile is (2p - 1) / sqrt(2 p (1 - p)).
    for p in (0.6, 0.9, 0.99, 0.999):
        assert t_quantile(p, 2) == pytest.approx((2 * p - 1) / math.sqrt(2 * p * (1 - p)))


def test_t_quantile_tends_to_the_normal() -> None:
    assert normal_quantile(0.975) == pytest.approx(1.959963984540054, rel=1e-9)
    assert t_quantile(0.975, math.inf) == normal_quantile(0.975)
    assert t_quantile(0.975, 1e8) == normal_quantile(0.975)
    big = t_quantile(0.975, 1e6)
    assert normal_quantile(0.975) < big < normal_quantile(0.975) + 1e-5


def test_t_cdf_known_points() -> None:
    assert t_cdf(0.0, 5) == 0.5
    assert t_cdf(1.0, 1) == pytest.approx(0.75)  # Cauchy: 1/2 + atan(1)/pi
    assert t_cdf(-1.0, 1) == pytest.approx(0.25)


def test_regularized_beta_closed_forms() -> None:
    # I_x(1, 1) = x; I_x(a, 1) = x^a; I_x(1, b) = 1 - (1 - x)^b
    assert regularized_beta(0.3, 1, 1) == pytest.approx(0.3)
    assert regularized_beta(0.3, 3, 1) == pytest.approx(0.027)
    assert regularized_beta(0.3, 1, 4) == pytest.approx(1 - 0.7**4)
    assert regularized_beta(0.0, 2, 3) == 0.0
    assert regularized_beta(1.0, 2, 3) == 1.0


@settings(max_examples=60, deadline=None)
@given(
    p=st.floats(min_value=0.001, max_value=0.999),
    df=st.floats(min_value=0.5, max_value=500),
)
def test_t_quantile_inverts_the_cdf(p: float, df: float) -> None:
    assert t_cdf(t_quantile(p, df), df) == pytest.approx(p, abs=1e-10)


@pytest.mark.parametrize(("p", "df"), [(0.0, 3), (1.0, 3), (0.5, 0), (0.9, -1), (math.nan, 3)])
def test_bad_arguments_are_refused(p: float, df: float) -> None:
    with pytest.raises(InvalidArgument):
        t_quantile(p, df)


def test_describe_mean_ci_min_max_n() -> None:
    values = [10.0, 12.0, 11.0, 15.0, 9.0, 13.0, 12.0, 14.0]
    summary = describe(values)
    s = statistics.stdev(values)
    assert summary.mean == pytest.approx(12.0)
    assert summary.half_width == pytest.approx(2.364624251592785 * s / math.sqrt(8))
    assert (summary.minimum, summary.maximum, summary.n) == (9.0, 15.0, 8)
    assert summary.half_width is not None
    assert summary.low == pytest.approx(12.0 - summary.half_width)
    assert summary.high == pytest.approx(12.0 + summary.half_width)
    assert ci_half_width(values) == summary.half_width


def test_describe_other_level() -> None:
    summary = describe([1.0, 2.0, 3.0], level=0.9)
    assert summary.half_width == pytest.approx(2.919985580355516 * 1.0 / math.sqrt(3))


def test_describe_leaves_out_nan_and_needs_two_values_for_an_interval() -> None:
    one = describe([math.nan, 4.0, math.nan])
    assert (one.mean, one.half_width, one.n) == (4.0, None, 1)
    assert one.low is None and one.high is None
    none = describe([math.nan])
    assert none.n == 0 and math.isnan(none.mean) and none.half_width is None
    assert describe([3.0, 3.0]).half_width == 0.0


def test_describe_refuses_a_bad_level() -> None:
    with pytest.raises(InvalidArgument):
        describe([1.0, 2.0], level=1.0)
