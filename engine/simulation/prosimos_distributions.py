"""Prosimos distributions (``distribution_name`` + ``distribution_params``) as
:class:`~engine.simulation.distributions.Distribution`.

The meaning is the one ``pix_framework``'s ``DurationDistribution`` gives them (values in
seconds): ``fix [value]``, ``expon [mean, min, max]``, ``uniform [min, max]``,
``norm [mean, std, min, max]``, ``lognorm [mean, variance, min, max]``,
``gamma [mean, variance, min, max]``; extra parameters are ignored as Prosimos does; negative
samples are never drawn (the lower bound is at least 0). See ``docs/prosimos.md``.
"""

from __future__ import annotations

import math
from typing import Any

from engine.simulation.distributions import Distribution, distribution_problems
from engine.simulation.prosimos_json import JsonReader, join_path

__all__ = ["ACCEPTED_DISTRIBUTIONS", "parse_distribution"]

ACCEPTED_DISTRIBUTIONS: tuple[str, ...] = ("fix", "expon", "uniform", "norm", "lognorm", "gamma")
"""Distribution names Prosimos 2.x accepts (``pix_framework`` ``DistributionType`` values
other than ``triang``, which ``DurationDistribution.from_dict`` cannot build)."""

_PARAM_NAMES: dict[str, tuple[str, ...]] = {
    "fix": ("value",),
    "expon": ("mean", "min", "max"),
    "uniform": ("min", "max"),
    "norm": ("mean", "std", "min", "max"),
    "lognorm": ("mean", "variance", "min", "max"),
    "gamma": ("mean", "variance", "min", "max"),
}
"""Parameter order of each distribution (``DurationDistribution.from_dict``)."""


def parse_distribution(entry: dict[str, Any], path: str, reader: JsonReader) -> Distribution | None:
    """A Prosimos ``{"distribution_name", "distribution_params": [{"value": ...}]}`` as a
    :class:`Distribution`, with the meaning ``pix_framework``'s ``DurationDistribution`` gives it.
    """
    name = reader.text(entry, "distribution_name", path)
    raw = reader.required(entry, "distribution_params", path)
    if name is None or raw is None:
        return None
    if name not in ACCEPTED_DISTRIBUTIONS:
        reader.add(
            join_path(path, "distribution_name"),
            f"distribution {name!r} is not accepted (Prosimos 2.x accepts "
            f"{', '.join(ACCEPTED_DISTRIBUTIONS)})",
        )
        return None
    names = _PARAM_NAMES[name]
    params_path = join_path(path, "distribution_params")
    values: list[float | None] = []
    for item_path, item in reader.items(raw, params_path):
        if len(values) == len(names):
            break  # Prosimos reads the first len(names) parameters and ignores the rest
        obj = reader.obj(item, item_path)
        if obj is None:
            values.append(None)
            continue
        value = reader.required(obj, "value", item_path)
        values.append(
            None if value is None else reader.number(value, join_path(item_path, "value"))
        )
    if not isinstance(raw, list):
        return None
    if len(values) < len(names):
        reader.add(
            params_path,
            f"{name} takes {len(names)} parameters ({', '.join(names)}), found {len(raw)}",
        )
        return None
    numbers = [v for v in values if v is not None]
    if len(numbers) != len(names):
        return None
    return _distribution(name, dict(zip(names, numbers, strict=True)), params_path, reader)


def _distribution(
    name: str, p: dict[str, float], path: str, reader: JsonReader
) -> Distribution | None:
    """Check the numbers and build the distribution (see ``docs/prosimos.md``)."""
    errors: list[str] = []
    if name == "fix":
        if p["value"] < 0:
            errors.append(f"fix value {p['value']:g} is negative")
        return _or_report(errors, path, reader, Distribution("fix", (p["value"],)))
    low, high = p["min"], p["max"]
    if low > high:
        errors.append(f"min {low:g} is greater than max {high:g}")
    if high < 0:
        errors.append(f"max {high:g} is negative: no duration can be drawn")
    lower = max(low, 0.0)  # pix_framework also drops negative samples
    if name == "uniform":
        if lower >= high:
            errors.append(f"uniform needs 0 <= min < max, found {low:g} and {high:g}")
        # Draws below 0 are redrawn: uniform over [max(min, 0), max], no bounds needed.
        return _or_report(errors, path, reader, Distribution("uniform", (lower, high)))
    mean = p["mean"]
    if name == "expon":
        if mean <= 0:
            errors.append(f"expon mean {mean:g} must be positive")
        elif mean == low:
            errors.append(f"expon mean equals min ({mean:g}): its scale mean - min is 0")
        return _or_report(errors, path, reader, _expon(mean, low, lower, high))
    if name == "norm":
        std = p["std"]
        if std <= 0:
            errors.append(f"norm std {std:g} must be positive (use fix for a constant)")
        return _or_report(
            errors, path, reader, Distribution("norm", (mean, std), lower, high, resample=True)
        )
    variance = p["variance"]  # lognorm and gamma: mean and variance of the values
    if mean <= 0:
        errors.append(f"{name} mean {mean:g} must be positive")
    if variance <= 0:
        errors.append(f"{name} variance {variance:g} must be positive")
    std = math.sqrt(variance) if variance > 0 else 0.0
    return _or_report(
        errors, path, reader, Distribution(name, (mean, std), lower, high, resample=True)
    )


def _expon(mean: float, loc: float, lower: float, high: float) -> Distribution:
    """Prosimos's ``expon [mean, min, max]``: ``min + Exp(scale = mean - min)`` (scale ``mean``
    when ``mean < min``), redrawn until within ``[max(min, 0), max]``."""
    scale = mean - loc if mean >= loc else mean
    if loc <= 0:
        return Distribution("expon", (scale,), lower, high, resample=True)
    return Distribution("expon", (loc + scale, loc), lower, high, resample=True)


def _or_report(
    errors: list[str], path: str, reader: JsonReader, dist: Distribution
) -> Distribution | None:
    """Report ``errors``, or the simulator's own objections to ``dist``; None if any."""
    if not errors:
        errors = [message for _, message in distribution_problems(dist, time=True)]
    for message in errors:
        reader.add(path, message)
    return None if errors else dist
