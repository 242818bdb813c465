"""Small statistics for simulation outputs: Student-t quantiles and confidence intervals.

No scipy: the Student-t distribution function is computed exactly through the regularized
incomplete beta function (continued fraction, Lentz's method) and inverted by bisection,
which is plenty fast for the few quantiles a report needs (results are cached).

A confidence interval over replications is ``mean ± t(1 - (1 - level) / 2, n - 1) · s / √n``
with ``s`` the sample standard deviation (n - 1 in the denominator).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache

from engine.errors import InvalidArgument

_NORMAL_DF = 1e7
"""Above this many degrees of freedom the normal quantile is used (relative error < 3e-7)."""

_EPS = 1e-15
_TINY = 1e-300


def _beta_continued_fraction(a: float, b: float, x: float) -> float:
    """The continued fraction of the incomplete beta function (modified Lentz)."""
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c = 1.0
    d = 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > _TINY else _TINY)
    h = d
    max_iterations = 1000 + int(20 * math.sqrt(max(a, b)))
    for m in range(1, max_iterations + 1):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > _TINY else _TINY)
        c = 1.0 + aa / c
        c = c if abs(c) > _TINY else _TINY
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > _TINY else _TINY)
        c = 1.0 + aa / c
        c = c if abs(c) > _TINY else _TINY
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < _EPS:
            return h
    raise ArithmeticError(f"incomplete beta did not converge for a={a}, b={b}, x={x}")


def regularized_beta(x: float, a: float, b: float, *, complement: float | None = None) -> float:
    """The regularized incomplete beta function I_x(a, b) for 0 <= x <= 1, a, b > 0.

    ``complement`` may give ``1 - x`` computed without cancellation.
    """
    if not (0.0 <= x <= 1.0) or a <= 0.0 or b <= 0.0:
        raise InvalidArgument(
            f"regularized_beta needs 0 <= x <= 1 and a, b > 0 (x={x}, a={a}, b={b})"
        )
    y = 1.0 - x if complement is None else complement
    if x == 0.0 or y == 0.0:
        return 0.0 if x == 0.0 else 1.0
    log_front = (
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log(y)
    )
    front = math.exp(log_front)
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _beta_continued_fraction(a, b, x) / a
    return 1.0 - front * _beta_continued_fraction(b, a, y) / b


def _check_df(df: float) -> None:
    if not df > 0.0:
        raise InvalidArgument(f"degrees of freedom must be > 0, not {df}")


def t_cdf(t: float, df: float) -> float:
    """P(T <= t) for Student's t distribution with ``df`` degrees of freedom (inf: normal)."""
    _check_df(df)
    if math.isinf(df):
        return 0.5 * math.erfc(-t / math.sqrt(2.0))
    if t == 0.0:
        return 0.5
    t2 = t * t
    # P(|T| > |t|) = I_{df/(df+t²)}(df/2, 1/2)
    two_tail = regularized_beta(df / (df + t2), df / 2.0, 0.5, complement=t2 / (df + t2))
    return 1.0 - 0.5 * two_tail if t > 0 else 0.5 * two_tail


def _invert_upper(cdf: Callable[[float], float], p: float) -> float:
    """The x >= 0 with cdf(x) = p, for p >= 0.5 and an increasing cdf with cdf(0) = 0.5."""
    lo, hi = 0.0, 1.0
    while cdf(hi) < p:
        lo, hi = hi, hi * 2.0
        if hi > 1e300:
            raise ArithmeticError(f"quantile {p} out of floating point range")
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if mid in (lo, hi):
            break
        if cdf(mid) < p:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def _check_p(p: float) -> None:
    if not 0.0 < p < 1.0:
        raise InvalidArgument(f"a quantile needs 0 < p < 1, not {p}")


@lru_cache(maxsize=256)
def normal_quantile(p: float) -> float:
    """The standard normal quantile: ``normal_quantile(0.975) == 1.959964...``."""
    _check_p(p)
    if p == 0.5:
        return 0.0
    if p < 0.5:
        return -normal_quantile(1.0 - p)
    return _invert_upper(lambda z: 0.5 * math.erfc(-z / math.sqrt(2.0)), p)


@lru_cache(maxsize=256)
def t_quantile(p: float, df: float) -> float:
    """The ``p`` quantile of Student's t distribution with ``df`` degrees of freedom.

    ``t_quantile(0.975, 7) == 2.364624...``; ``df = math.inf`` (or above 1e7) gives the normal
    quantile. Exact to about 1e-12 (bisection on the exact distribution function).
    """
    _check_p(p)
    _check_df(df)
    if df > _NORMAL_DF:
        return normal_quantile(p)
    if p == 0.5:
        return 0.0
    if p < 0.5:
        return -t_quantile(1.0 - p, df)
    return _invert_upper(lambda t: t_cdf(t, df), p)


@dataclass(frozen=True)
class Summary:
    """Summary of one measure over replications (nan values left out).

    ``half_width`` is the half-width of the ``level`` confidence interval of the mean (None
    with fewer than two values); ``mean``/``minimum``/``maximum`` are nan when ``n`` is 0.
    """

    mean: float
    half_width: float | None
    minimum: float
    maximum: float
    n: int
    level: float = 0.95

    @property
    def low(self) -> float | None:
        """Lower end of the confidence interval (None without one)."""
        return None if self.half_width is None else self.mean - self.half_width

    @property
    def high(self) -> float | None:
        """Upper end of the confidence interval (None without one)."""
        return None if self.half_width is None else self.mean + self.half_width


def ci_half_width(values: Iterable[float], level: float = 0.95) -> float | None:
    """Half-width of the t confidence interval of the mean of ``values`` (nan left out);
    None with fewer than two values."""
    return describe(values, level).half_width


def describe(values: Iterable[float], level: float = 0.95) -> Summary:
    """Mean, confidence half-width, min, max and count of ``values``, leaving out nan."""
    if not 0.0 < level < 1.0:
        raise InvalidArgument(f"a confidence level is between 0 and 1, not {level}")
    kept = [float(v) for v in values if not math.isnan(v)]
    n = len(kept)
    if n == 0:
        return Summary(math.nan, None, math.nan, math.nan, 0, level)
    mean = math.fsum(kept) / n
    half: float | None = None
    if n >= 2:
        variance = math.fsum((v - mean) ** 2 for v in kept) / (n - 1)
        half = t_quantile(1.0 - (1.0 - level) / 2.0, n - 1) * math.sqrt(variance / n)
    return Summary(mean, half, min(kept), max(kept), n, level)
