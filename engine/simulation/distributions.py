"""Probability distributions for durations, inter-arrival times and data generators.

Kinds and ``params`` (all times in seconds):

- ``fix``: (value,)
- ``expon``: (mean,) or (mean, loc): ``loc + Exp(mean - loc)`` (Prosimos's shifted form)
- ``uniform``: (low, high)
- ``norm``: (mean, std)
- ``lognorm``: (mean, std) of the *values* (not of their logarithm)
- ``gamma``: (mean, std)
- ``triangular``: (low, mode, high)
- ``empirical``: ``values`` with optional ``weights`` (params empty)

``minimum``/``maximum`` clip a sample; with ``resample`` a draw outside them is drawn again (up
to 100 times, then the mean, clipped), as Prosimos does with its min/max. Negative samples of
durations are clipped to 0 by the simulator.

In a scenario a distribution is written as a mapping (``{dist: expon, mean: 20m}``, see
``docs/scenario-format.md``); :func:`parse_distribution` reads that form and reports every
invalid parameter as a located :class:`~engine.errors.Problem`. For durations a bare duration
(``20m`` or a number of seconds) means ``fix``. :func:`distribution_problems` checks a
distribution built in code (e.g. imported from Prosimos) with the same rules.
"""

from __future__ import annotations

import math
import random
import re
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass
from itertools import accumulate
from typing import Any

from engine.builder.yaml_source import YamlDocument, YamlPath
from engine.durations import DurationError, parse_due
from engine.errors import Problem

__all__ = [
    "KINDS",
    "OPTIONAL_KEYS",
    "PARAMETERS",
    "Distribution",
    "distribution_problems",
    "format_seconds",
    "parse_distribution",
    "parse_seconds",
]

KINDS: tuple[str, ...] = (
    "fix",
    "expon",
    "uniform",
    "norm",
    "lognorm",
    "gamma",
    "triangular",
    "empirical",
)

PARAMETERS: dict[str, tuple[str, ...]] = {
    "fix": ("value",),
    "expon": ("mean",),
    "uniform": ("low", "high"),
    "norm": ("mean", "std"),
    "lognorm": ("mean", "std"),
    "gamma": ("mean", "std"),
    "triangular": ("low", "mode", "high"),
    "empirical": ("values",),
}
"""Required keys of each kind in the scenario form, in ``params`` order (``values`` for
``empirical`` goes to :attr:`Distribution.values`)."""

OPTIONAL_KEYS: dict[str, tuple[str, ...]] = {
    kind: (("weights", "min", "max") if kind == "empirical" else ("min", "max")) for kind in KINDS
}
"""Optional keys of each kind in the scenario form."""

_NAMES = {
    "fix": "a fixed value",
    "expon": "an exponential distribution",
    "uniform": "a uniform distribution",
    "norm": "a normal distribution",
    "lognorm": "a log-normal distribution",
    "gamma": "a gamma distribution",
    "triangular": "a triangular distribution",
    "empirical": "an empirical distribution",
}


@dataclass(frozen=True)
class Distribution:
    """A distribution of one kind of :data:`KINDS` (see the module docstring for ``params``).

    Build it valid (:func:`parse_distribution` or :func:`distribution_problems` check it):
    methods here assume valid parameters.
    """

    kind: str
    params: tuple[float, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    values: tuple[float, ...] = ()
    weights: tuple[float, ...] = ()
    resample: bool = False

    def mean(self) -> float:
        """The mean before clipping."""
        kind, p = self.kind, self.params
        if kind in ("fix", "expon", "norm", "lognorm", "gamma"):
            return p[0]
        if kind == "uniform":
            return (p[0] + p[1]) / 2
        if kind == "triangular":
            return (p[0] + p[1] + p[2]) / 3
        if kind == "empirical":
            if not self.weights:
                return math.fsum(self.values) / len(self.values)
            total = math.fsum(self.weights)
            return math.fsum(v * w for v, w in zip(self.values, self.weights, strict=True)) / total
        raise ValueError(f"unknown distribution kind {kind!r}")

    def sampler(self, rng: random.Random) -> Callable[[], float]:
        """A fast zero-argument function drawing one (clipped) sample from ``rng``."""
        draw = self._raw_sampler(rng)
        low, high = self.minimum, self.maximum
        if self.kind == "fix":
            value = _clip(self.params[0], low, high)
            return lambda: value
        if self.resample and (low is not None or high is not None):
            floor = -math.inf if low is None else low
            ceiling = math.inf if high is None else high
            fallback = _clip(self.mean(), low, high)

            def redrawn() -> float:
                for _ in range(_RESAMPLE_TRIES):
                    x = draw()
                    if floor <= x <= ceiling:
                        return x
                return fallback

            return redrawn
        if low is not None and high is not None:
            floor, ceiling = low, high

            def clipped() -> float:
                x = draw()
                return floor if x < floor else ceiling if x > ceiling else x

            return clipped
        if low is not None:
            at_least = low
            return lambda: max(draw(), at_least)
        if high is not None:
            at_most = high
            return lambda: min(draw(), at_most)
        return draw

    def _raw_sampler(self, rng: random.Random) -> Callable[[], float]:
        """The unclipped sampler: a closure over one bound method of ``rng``."""
        kind, p = self.kind, self.params
        if kind == "fix":
            value = p[0]
            return lambda: value
        if kind == "expon":
            loc = p[1] if len(p) > 1 else 0.0
            expovariate, rate = rng.expovariate, 1.0 / (p[0] - loc)
            if loc:
                return lambda: loc + expovariate(rate)
            return lambda: expovariate(rate)
        if kind == "uniform":
            rand, low, span = rng.random, p[0], p[1] - p[0]
            return lambda: low + span * rand()
        if kind == "norm":
            gauss, mu, sigma = rng.gauss, p[0], p[1]
            return lambda: gauss(mu, sigma)
        if kind == "lognorm":
            lognormvariate = rng.lognormvariate
            sigma2 = math.log1p((p[1] / p[0]) ** 2)
            mu, sigma = math.log(p[0]) - sigma2 / 2, math.sqrt(sigma2)
            return lambda: lognormvariate(mu, sigma)
        if kind == "gamma":
            gammavariate = rng.gammavariate
            shape, scale = (p[0] / p[1]) ** 2, p[1] ** 2 / p[0]
            return lambda: gammavariate(shape, scale)
        if kind == "triangular":
            triangular, low, mode, high = rng.triangular, p[0], p[1], p[2]
            return lambda: triangular(low, high, mode)
        if kind == "empirical":
            return _empirical(rng, self.values, self.weights)
        raise ValueError(f"unknown distribution kind {kind!r}")


_RESAMPLE_TRIES = 100


def _clip(value: float, low: float | None, high: float | None) -> float:
    if low is not None and value < low:
        return low
    if high is not None and value > high:
        return high
    return value


def _empirical(
    rng: random.Random, values: tuple[float, ...], weights: tuple[float, ...]
) -> Callable[[], float]:
    rand, n = rng.random, len(values)
    if n == 1:
        only = values[0]
        return lambda: only
    if not weights:
        return lambda: values[int(rand() * n)]
    cumulative = list(accumulate(weights))
    total, last = cumulative[-1], n - 1
    # bisect_right skips zero-weight values; ``hi=last`` guards against rand() * total
    # rounding up to total.
    return lambda: values[bisect_right(cumulative, rand() * total, 0, last)]


# -- durations -------------------------------------------------------------------------------

_SECOND_WORDS = {"s": 1, "sec": 1, "secs": 1, "second": 1, "seconds": 1}
_OTHER_WORDS = {
    **dict.fromkeys(("m", "min", "mins", "minute", "minutes"), 60),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), 3600),
    **dict.fromkeys(("d", "day", "days"), 86400),
}
_UNIT_SECONDS = {**_SECOND_WORDS, **_OTHER_WORDS}
_AMOUNT = r"[0-9]+(?:\.[0-9]+)?"
_SIMPLE = re.compile(rf"^(?P<amount>{_AMOUNT})\s*(?P<unit>[a-z]+)$")
_COMPOUND = re.compile(
    rf"^(?:(?P<d>{_AMOUNT})d)?(?:(?P<h>{_AMOUNT})h)?(?:(?P<m>{_AMOUNT})m)?"
    rf"(?:(?P<s>{_AMOUNT})s)?$"
)
_ISO = re.compile(
    rf"^P(?:(?P<d>{_AMOUNT})D)?(?:T(?:(?P<h>{_AMOUNT})H)?(?:(?P<m>{_AMOUNT})M)?"
    rf"(?:(?P<s>{_AMOUNT})S)?)?$"
)
_PARTS = (("d", 86400), ("h", 3600), ("m", 60), ("s", 1))
_EXAMPLES = "e.g. '20m', '2h', '1d', '90s', '1h30m', 'PT4H' or a number of seconds"


def parse_seconds(value: object) -> float:
    """Read a duration into seconds (wall-clock: ``1d`` = 86,400 s).

    A number is seconds; text is ``90s``, ``20m``, ``1.5h``, ``2d``, ``1h30m``, ``90 minutes``
    or ISO-8601 (``PT4H``, ``P1DT2H``, ``PT30S``). Zero is allowed. Raises
    :class:`~engine.durations.DurationError` (a :class:`ValueError`) for negative or
    non-finite numbers, "working" durations (they need a calendar) and anything else.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise DurationError(value, f"expected a duration, {_EXAMPLES}")
    if not isinstance(value, str):
        seconds = float(value)
        if not math.isfinite(seconds):
            raise DurationError(value, "must be a finite number of seconds")
        if seconds < 0:
            raise DurationError(value, "a duration must not be negative")
        return seconds
    text = " ".join(value.strip().lower().split())
    if text.startswith("-"):
        raise DurationError(value, "a duration must not be negative")
    found = _read_text(text)
    if found is not None:
        return found
    # Not ours: engine.durations' parser explains some mistakes better (weeks, months ...).
    try:
        rule = parse_due(value, wall_clock=True)
    except DurationError as err:
        if err.reason.startswith(("expected", "unknown unit", "empty", "a unit")):
            raise DurationError(value, f"expected a duration, {_EXAMPLES}") from None
        raise
    if rule.working:
        raise DurationError(
            value, "working time needs a calendar; write wall-clock time such as '8h' or '2d'"
        )
    return float(rule.total_minutes * 60)


def _read_text(text: str) -> float | None:
    """Seconds for the spellings handled here, None for anything else."""
    simple = _SIMPLE.match(text)
    if simple is not None and simple["unit"] in _UNIT_SECONDS:
        return float(simple["amount"]) * _UNIT_SECONDS[simple["unit"]]
    for pattern, source in ((_COMPOUND, text), (_ISO, text.upper())):
        match = pattern.match(source)
        if match is None or source in ("", "P", "PT") or source.endswith("T"):
            continue
        return math.fsum(float(match[name] or 0) * factor for name, factor in _PARTS)
    return None


def format_seconds(seconds: float) -> str:
    """A short reading of a duration: ``7200`` -> ``2h``, ``90`` -> ``90s``."""
    for unit, factor in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds and seconds % factor == 0:
            return f"{seconds / factor:g}{unit}"
    return f"{seconds:g}s"


# -- validation ------------------------------------------------------------------------------


def distribution_problems(dist: Distribution, *, time: bool) -> list[tuple[str, str]]:
    """What is wrong with ``dist`` as ``(key, message)`` pairs; empty when it is valid.

    ``key`` names the offending parameter in the scenario form (``mean``, ``std``, ``low``,
    ``values``, ``weights``, ``min`` ... or ``""`` for the whole distribution). With ``time``
    the values are durations and must not be negative.
    """
    kind = dist.kind
    if kind not in KINDS:
        return [("dist", f"unknown distribution {kind!r} (kinds: {', '.join(KINDS)})")]
    names = PARAMETERS[kind] if kind != "empirical" else ()
    if kind == "expon" and len(dist.params) == 2:
        names = ("mean", "loc")
    if len(dist.params) != len(names):
        return [("", f"{kind} takes {len(names)} parameter(s), got {len(dist.params)}")]
    show = format_seconds if time else _number
    found: list[tuple[str, str]] = []
    values = dict(zip(names, dist.params, strict=True))
    for key, number in (*values.items(), ("min", dist.minimum), ("max", dist.maximum)):
        if number is None:
            continue
        if not math.isfinite(number):
            found.append((key, f"{key} must be a finite number"))
        elif time and number < 0 and key != "std":
            found.append((key, f"a duration must not be negative; got {number:g}"))
    if found:
        return found
    found.extend(_kind_problems(dist, values, time, show))
    low, high = dist.minimum, dist.maximum
    if low is not None and high is not None and low > high:
        found.append(("min", f"min ({show(low)}) must not be greater than max ({show(high)})"))
    return found


def _number(value: float) -> str:
    return f"{value:g}"


def _kind_problems(
    dist: Distribution, p: dict[str, float], time: bool, show: Callable[[float], str]
) -> list[tuple[str, str]]:
    """The checks particular to each kind."""
    kind, found = dist.kind, []
    name = _NAMES[kind]
    if kind == "expon" and p["mean"] <= 0:
        found.append(("mean", f"the mean of {name} must be greater than 0"))
    if kind == "expon" and "loc" in p and not 0 <= p["loc"] < p["mean"]:
        found.append(("loc", f"the location of {name} must lie in [0, mean)"))
    if kind in ("norm", "lognorm", "gamma") and p["std"] < 0:
        found.append(("std", f"the standard deviation must not be negative; got {show(p['std'])}"))
    if kind in ("lognorm", "gamma"):
        if p["mean"] <= 0:
            found.append(("mean", f"the mean of {name} must be greater than 0"))
        if p["std"] == 0:
            found.append(("std", f"the standard deviation of {name} must be greater than 0"))
    if kind in ("uniform", "triangular") and p["low"] > p["high"]:
        found.append(
            ("low", f"low ({show(p['low'])}) must not be greater than high ({show(p['high'])})")
        )
    elif kind == "triangular" and not p["low"] <= p["mode"] <= p["high"]:
        found.append(
            (
                "mode",
                f"mode ({show(p['mode'])}) must lie between low ({show(p['low'])}) "
                f"and high ({show(p['high'])})",
            )
        )
    if kind == "empirical":
        found.extend(_empirical_problems(dist, time))
    return found


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'s' if n != 1 else ''}"


def _empirical_problems(dist: Distribution, time: bool) -> list[tuple[str, str]]:
    if not dist.values:
        return [("values", "an empirical distribution needs at least one value")]
    found: list[tuple[str, str]] = []
    if any(not math.isfinite(v) for v in dist.values):
        found.append(("values", "every value must be a finite number"))
    elif time and any(v < 0 for v in dist.values):
        found.append(("values", "a duration must not be negative"))
    if not dist.weights:
        return found
    if len(dist.weights) != len(dist.values):
        found.append(
            (
                "weights",
                f"{_count(len(dist.weights), 'weight')} for {_count(len(dist.values), 'value')}: "
                "give one weight per value",
            )
        )
    elif any(not math.isfinite(w) or w < 0 for w in dist.weights):
        found.append(("weights", "weights must be finite numbers, 0 or more"))
    elif math.fsum(dist.weights) <= 0:
        found.append(("weights", "the weights must not all be 0"))
    return found


# -- the scenario form -----------------------------------------------------------------------


def parse_distribution(
    value: Any,
    path: YamlPath,
    doc: YamlDocument,
    problems: list[Problem],
    *,
    time: bool,
    ignore: tuple[str, ...] = (),
) -> Distribution | None:
    """Read the scenario form of a distribution at ``path`` of ``doc``.

    ``value`` is the mapping (``{dist: norm, mean: 20m, std: 5m, min: 1m}``) or, when
    ``time``, a bare duration meaning ``fix``. Durations are read by :func:`parse_seconds`;
    without ``time`` values are plain numbers. Keys in ``ignore`` are left to the caller
    (``integer`` of data generators). Every problem found is appended to ``problems``,
    located at the offending key or value; returns None when there was any.
    """
    reader = _Reader(doc, path, problems, time)
    if not isinstance(value, dict):
        if time and not isinstance(value, (list, dict)) and value is not None:
            seconds = reader.scalar(value, path, time=True)
            return None if seconds is None else Distribution("fix", (seconds,))
        what = (
            "a duration or a mapping such as {dist: expon, mean: 20m}"
            if time
            else ("a mapping such as {dist: norm, mean: 100, std: 10}")
        )
        reader.add(f"expected {what}", path)
        return None
    return reader.mapping(value, ignore)


class _Reader:
    """Reads one distribution mapping, collecting located problems."""

    def __init__(
        self, doc: YamlDocument, path: YamlPath, problems: list[Problem], time: bool
    ) -> None:
        self.doc, self.path, self.problems, self.time = doc, path, problems, time
        self.count = len(problems)

    def add(self, message: str, path: YamlPath, *, at_key: bool = False) -> None:
        self.problems.append(self.doc.problem(message, path, code="D001", at_key=at_key))

    def scalar(self, value: Any, path: YamlPath, *, time: bool) -> float | None:
        if time:
            try:
                return parse_seconds(value)
            except DurationError as err:
                self.add(str(err), path)
                return None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.add(f"expected a number; got {value!r}", path)
            return None
        if not math.isfinite(value):
            self.add("must be a finite number", path)
            return None
        return float(value)

    def numbers(self, value: Any, path: YamlPath, *, time: bool) -> tuple[float, ...] | None:
        if not isinstance(value, list):
            self.add("expected a list", path)
            return None
        read = [self.scalar(item, path + (i,), time=time) for i, item in enumerate(value)]
        if any(item is None for item in read):
            return None
        return tuple(item for item in read if item is not None)

    def mapping(self, value: dict[str, Any], ignore: tuple[str, ...]) -> Distribution | None:
        kind = value.get("dist")
        if kind not in KINDS:
            if "dist" not in value:
                self.add(
                    "missing 'dist': the kind of distribution (" + ", ".join(KINDS) + ")", self.path
                )
            else:
                self.add(
                    f"unknown distribution {kind!r} (kinds: {', '.join(KINDS)})",
                    self.path + ("dist",),
                )
            return None
        required, optional = PARAMETERS[kind], OPTIONAL_KEYS[kind]
        for key in value:
            if key != "dist" and key not in required and key not in optional and key not in ignore:
                takes = ", ".join(required) + "; optional: " + ", ".join(optional)
                self.add(
                    f"{kind} takes no {key!r} (it takes {takes})", self.path + (key,), at_key=True
                )
        for key in required:
            if key not in value:
                self.add(f"{_NAMES[kind]} needs {key!r}", self.path)
        if len(self.problems) > self.count:
            return None
        return self.build(kind, value)

    def build(self, kind: str, value: dict[str, Any]) -> Distribution | None:
        def read(key: str, *, time: bool = self.time) -> float | None:
            if key not in value:
                return None
            return self.scalar(value[key], self.path + (key,), time=time)

        params: tuple[float, ...] = ()
        values: tuple[float, ...] | None = ()
        weights: tuple[float, ...] | None = ()
        if kind == "empirical":
            values = self.numbers(value["values"], self.path + ("values",), time=self.time)
            if "weights" in value:
                weights = self.numbers(value["weights"], self.path + ("weights",), time=False)
        else:
            read_params = [
                self._std(value[key]) if key == "std" and self.time else read(key)
                for key in PARAMETERS[kind]
            ]
            params = tuple(p for p in read_params if p is not None)
        minimum, maximum = read("min"), read("max")
        if len(self.problems) > self.count or values is None or weights is None:
            return None
        dist = Distribution(kind, params, minimum, maximum, values, weights)
        for key, message in distribution_problems(dist, time=self.time):
            self.add(message, self.path + (key,) if key and key in value else self.path)
        return None if len(self.problems) > self.count else dist

    def _std(self, raw: Any) -> float | None:
        """A standard deviation of durations: a duration, but negative numbers get the
        standard deviation's own message."""
        if isinstance(raw, (int, float)) and not isinstance(raw, bool) and raw < 0:
            return float(raw)
        if isinstance(raw, str) and raw.strip().startswith("-"):
            magnitude = self.scalar(raw.strip()[1:], self.path + ("std",), time=True)
            return None if magnitude is None else -magnitude
        return self.scalar(raw, self.path + ("std",), time=True)
