"""Distributions of the simulator: sampling, means, clipping, durations and the scenario form."""

from __future__ import annotations

import math
import random
import statistics

import pytest

from engine.builder.yaml_source import load_yaml
from engine.durations import DurationError
from engine.errors import Problem
from engine.simulation.distributions import (
    KINDS,
    Distribution,
    distribution_problems,
    format_seconds,
    parse_distribution,
    parse_seconds,
)

N = 20_000
SEED = 20260302

SAMPLED: dict[str, tuple[Distribution, float]] = {
    # kind -> (distribution, its mean)
    "fix": (Distribution("fix", (600.0,)), 600.0),
    "expon": (Distribution("expon", (1200.0,)), 1200.0),
    "uniform": (Distribution("uniform", (3600.0, 10800.0)), 7200.0),
    "norm": (Distribution("norm", (1200.0, 300.0)), 1200.0),
    "lognorm": (Distribution("lognorm", (7200.0, 3600.0)), 7200.0),
    "gamma": (Distribution("gamma", (7200.0, 3600.0)), 7200.0),
    "triangular": (Distribution("triangular", (600.0, 1200.0, 3600.0)), 1800.0),
    "empirical": (
        Distribution("empirical", values=(60.0, 120.0, 300.0), weights=(5.0, 3.0, 1.0)),
        (60 * 5 + 120 * 3 + 300) / 9,
    ),
}


def draw(dist: Distribution, n: int = N, seed: int = SEED) -> list[float]:
    sample = dist.sampler(random.Random(seed))
    return [sample() for _ in range(n)]


def test_every_kind_is_covered() -> None:
    assert set(SAMPLED) == set(KINDS)


@pytest.mark.parametrize("kind", KINDS)
def test_sample_mean_is_within_3_percent_of_the_mean(kind: str) -> None:
    dist, mean = SAMPLED[kind]
    assert dist.mean() == pytest.approx(mean)
    assert statistics.fmean(draw(dist)) == pytest.approx(mean, rel=0.03)


@pytest.mark.parametrize("kind", ["norm", "lognorm", "gamma"])
def test_std_is_the_std_of_the_values(kind: str) -> None:
    """lognorm and gamma take the mean and std of the values, not of their logarithm."""
    dist, _ = SAMPLED[kind]
    assert statistics.stdev(draw(dist)) == pytest.approx(dist.params[1], rel=0.05)


def test_uniform_and_triangular_stay_in_their_range() -> None:
    assert all(3600 <= x <= 10800 for x in draw(SAMPLED["uniform"][0], 2000))
    assert all(600 <= x <= 3600 for x in draw(SAMPLED["triangular"][0], 2000))


def test_empirical_draws_values_in_proportion_to_their_weights() -> None:
    dist = Distribution("empirical", values=(1.0, 2.0, 3.0), weights=(0.0, 3.0, 1.0))
    sample = draw(dist)
    assert 1.0 not in sample  # zero weight: never drawn
    assert sample.count(2.0) / N == pytest.approx(0.75, abs=0.02)


def test_empirical_without_weights_draws_each_value_alike() -> None:
    dist = Distribution("empirical", values=(10.0, 20.0))
    sample = draw(dist)
    assert dist.mean() == 15.0
    assert set(sample) == {10.0, 20.0}
    assert sample.count(10.0) / N == pytest.approx(0.5, abs=0.02)


def test_clipping_bounds_every_sample() -> None:
    dist = Distribution("norm", (1200.0, 600.0), minimum=600.0, maximum=1500.0)
    sample = draw(dist, 5000)
    assert min(sample) == 600.0 and max(sample) == 1500.0
    assert 600.0 < statistics.median(sample) < 1500.0
    assert dist.mean() == 1200.0  # the mean before clipping


def test_clipping_with_one_bound() -> None:
    low = draw(Distribution("expon", (100.0,), minimum=50.0), 3000)
    high = draw(Distribution("expon", (100.0,), maximum=50.0), 3000)
    assert min(low) == 50.0 and max(low) > 50.0
    assert max(high) == 50.0 and min(high) < 50.0


def test_fix_is_clipped_too() -> None:
    assert draw(Distribution("fix", (10.0,), minimum=20.0), 3) == [20.0] * 3
    assert draw(Distribution("fix", (10.0,), maximum=5.0), 3) == [5.0] * 3


@pytest.mark.parametrize("kind", KINDS)
def test_same_seed_gives_the_same_samples(kind: str) -> None:
    dist, _ = SAMPLED[kind]
    assert draw(dist, 200, seed=7) == draw(dist, 200, seed=7)
    if kind != "fix":
        assert draw(dist, 200, seed=7) != draw(dist, 200, seed=8)


def test_sampler_draws_from_the_rng_it_is_given() -> None:
    rng = random.Random(1)
    expon = Distribution("expon", (10.0,)).sampler(rng)
    first = [expon() for _ in range(3)]
    rng.seed(1)
    assert [expon() for _ in range(3)] == first


# -- durations -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("20m", 1200),
        ("2h", 7200),
        ("1d", 86400),
        ("90s", 90),
        ("PT4H", 14400),
        ("PT30S", 30),
        ("P1DT2H", 93600),
        ("1h30m", 5400),
        ("1.5h", 5400),
        ("90 minutes", 5400),
        ("0m", 0),
        (45, 45),
        (2.5, 2.5),
    ],
)
def test_parse_seconds(text: str | int | float, seconds: float) -> None:
    assert parse_seconds(text) == seconds


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("3 working days", "working time needs a calendar"),
        ("2 weeks", "weeks are not a unit"),
        ("soon", "expected a duration"),
        ("-5m", "must not be negative"),
        (-1, "must not be negative"),
        (float("inf"), "finite"),
        (True, "expected a duration"),
        (None, "expected a duration"),
    ],
)
def test_parse_seconds_refuses(value: object, reason: str) -> None:
    with pytest.raises(DurationError, match=reason):
        parse_seconds(value)


def test_format_seconds() -> None:
    assert [format_seconds(s) for s in (7200, 90, 600, 86400, 0, 1.5)] == [
        "2h",
        "90s",
        "10m",
        "1d",
        "0s",
        "1.5s",
    ]


# -- the scenario form -----------------------------------------------------------------------


def parse(text: str, *, time: bool = True) -> tuple[Distribution | None, list[Problem]]:
    """Parse the value of key ``d`` of a one-line YAML document."""
    doc = load_yaml(f"d: {text}\n", "t.yaml")
    problems: list[Problem] = []
    dist = parse_distribution(doc.data["d"], ("d",), doc, problems, time=time)
    return dist, problems


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{dist: expon, mean: 20m}", Distribution("expon", (1200.0,))),
        ("{dist: fix, value: 10m}", Distribution("fix", (600.0,))),
        ("{dist: uniform, low: 1h, high: 3h}", Distribution("uniform", (3600.0, 10800.0))),
        (
            "{dist: norm, mean: 20m, std: 5m, min: 1m}",
            Distribution("norm", (1200.0, 300.0), minimum=60.0),
        ),
        ("{dist: lognorm, mean: 2h, std: 1h}", Distribution("lognorm", (7200.0, 3600.0))),
        ("{dist: gamma, mean: 2h, std: 1h}", Distribution("gamma", (7200.0, 3600.0))),
        (
            "{dist: triangular, low: 10m, mode: 20m, high: 1h}",
            Distribution("triangular", (600.0, 1200.0, 3600.0)),
        ),
        (
            "{dist: empirical, values: [1m, 2m, 5m], weights: [5, 3, 1]}",
            Distribution("empirical", values=(60.0, 120.0, 300.0), weights=(5.0, 3.0, 1.0)),
        ),
        ("{dist: expon, mean: 90, max: 1h}", Distribution("expon", (90.0,), maximum=3600.0)),
        ("20m", Distribution("fix", (1200.0,))),
        ("PT4H", Distribution("fix", (14400.0,))),
        ("30", Distribution("fix", (30.0,))),
    ],
)
def test_reads_every_kind_of_duration(text: str, expected: Distribution) -> None:
    assert parse(text) == (expected, [])


def test_without_time_values_are_plain_numbers() -> None:
    dist, problems = parse("{dist: lognorm, mean: 3000, std: 2500}", time=False)
    assert (dist, problems) == (Distribution("lognorm", (3000.0, 2500.0)), [])
    dist, problems = parse("{dist: norm, mean: -5, std: 2}", time=False)
    assert dist == Distribution("norm", (-5.0, 2.0)) and not problems  # negatives are fine
    dist, problems = parse("{dist: norm, mean: 20m, std: 2}", time=False)
    assert dist is None
    assert [(p.path, p.message) for p in problems] == [("d.mean", "expected a number; got '20m'")]


def test_without_time_a_bare_value_is_refused() -> None:
    dist, problems = parse("20", time=False)
    assert dist is None and problems[0].path == "d"


@pytest.mark.parametrize(
    ("text", "path", "message"),
    [
        ("{dist: norm, mean: 20m, std: -5m}", "d.std", "standard deviation must not be negative"),
        ("{dist: norm, mean: 20m, std: -300}", "d.std", "standard deviation must not be negative"),
        ("{dist: expon, mean: 0}", "d.mean", "must be greater than 0"),
        ("{dist: uniform, low: 3h, high: 1h}", "d.low", "low (3h) must not be greater than high"),
        ("{dist: triangular, low: 1h, mode: 2h, high: 1h}", "d.mode", "mode (2h) must lie"),
        ("{dist: triangular, low: 3h, mode: 2h, high: 1h}", "d.low", "must not be greater"),
        ("{dist: empirical, values: []}", "d.values", "at least one value"),
        ("{dist: empirical, values: [1m, 2m], weights: [1]}", "d.weights", "1 weight for 2"),
        ("{dist: empirical, values: [1m, 2m], weights: [1, -1]}", "d.weights", "0 or more"),
        ("{dist: empirical, values: [1m, 2m], weights: [0, 0]}", "d.weights", "not all be 0"),
        ("{dist: lognorm, mean: 0, std: 1h}", "d.mean", "greater than 0"),
        ("{dist: lognorm, mean: 1h, std: 0}", "d.std", "greater than 0"),
        ("{dist: gamma, mean: 0, std: 1h}", "d.mean", "greater than 0"),
        ("{dist: gamma, mean: 1h, std: 0}", "d.std", "greater than 0"),
        ("{dist: fix, value: -10}", "d.value", "must not be negative"),
        ("{dist: uniform, low: -1m, high: 1h}", "d.low", "must not be negative"),
        ("{dist: empirical, values: [1m, -2m]}", "d.values[1]", "must not be negative"),
        ("{dist: expon, mean: 1h, min: -1m}", "d.min", "must not be negative"),
        ("{dist: expon, mean: 1h, min: 2h, max: 1h}", "d.min", "min (2h) must not be greater"),
        ("{dist: weibull, mean: 1h}", "d.dist", "unknown distribution 'weibull'"),
        ("{mean: 1h}", "d", "missing 'dist'"),
        ("{dist: norm, mean: 1h}", "d", "needs 'std'"),
        ("{dist: expon, mean: 1h, std: 1m}", "d.std", "expon takes no 'std'"),
        ("{dist: expon, mean: 3 working days}", "d.mean", "working time needs a calendar"),
        ("{dist: expon, mean: soon}", "d.mean", "expected a duration"),
        ("[1, 2]", "d", "expected a duration or a mapping"),
    ],
)
def test_invalid_parameters_are_located(text: str, path: str, message: str) -> None:
    dist, problems = parse(text)
    assert dist is None
    assert len(problems) == 1, problems
    problem = problems[0]
    assert (problem.file, problem.line, problem.path) == ("t.yaml", 1, path)
    assert message in problem.message
    assert problem.column is not None and problem.column > 1


def test_unknown_key_is_located_at_the_key() -> None:
    doc = load_yaml("d:\n  dist: expon\n  mean: 1h\n  sd: 1m\n", "t.yaml")
    problems: list[Problem] = []
    assert parse_distribution(doc.data["d"], ("d",), doc, problems, time=True) is None
    assert [(p.line, p.column, p.path) for p in problems] == [(4, 3, "d.sd")]


def test_ignored_keys_are_left_to_the_caller() -> None:
    doc = load_yaml("d: {dist: uniform, low: 0, high: 5, integer: true}\n", "t.yaml")
    problems: list[Problem] = []
    dist = parse_distribution(doc.data["d"], ("d",), doc, problems, time=False, ignore=("integer",))
    assert dist == Distribution("uniform", (0.0, 5.0)) and not problems


def test_distribution_problems_checks_distributions_built_in_code() -> None:
    assert distribution_problems(Distribution("norm", (10.0, 2.0)), time=True) == []
    assert distribution_problems(Distribution("expon", (-1.0,)), time=False) == [
        ("mean", "the mean of an exponential distribution must be greater than 0")
    ]
    assert distribution_problems(Distribution("uniform", (-5.0, 1.0)), time=True)[0][0] == "low"
    assert distribution_problems(Distribution("uniform", (-5.0, 1.0)), time=False) == []
    assert distribution_problems(Distribution("norm", (1.0,)), time=False)[0][0] == ""
    assert distribution_problems(Distribution("beta", (1.0,)), time=False)[0][0] == "dist"
    assert distribution_problems(Distribution("fix", (math.nan,)), time=False) == [
        ("value", "value must be a finite number")
    ]


def test_expon_with_location_is_shifted_and_keeps_its_mean() -> None:
    dist = Distribution("expon", (1500.0, 150.0))
    draw = dist.sampler(random.Random(3))
    samples = [draw() for _ in range(20_000)]
    assert min(samples) >= 150.0
    assert statistics.fmean(samples) == pytest.approx(1500.0, rel=0.03)
    assert distribution_problems(dist, time=True) == []
    assert distribution_problems(Distribution("expon", (100.0, 150.0)), time=True) == [
        ("loc", "the location of an exponential distribution must lie in [0, mean)")
    ]


def test_resample_redraws_outside_the_bounds_instead_of_clipping() -> None:
    clipped = Distribution("norm", (0.0, 1.0), -1.0, 1.0).sampler(random.Random(5))
    redrawn = Distribution("norm", (0.0, 1.0), -1.0, 1.0, resample=True).sampler(random.Random(5))
    a = [clipped() for _ in range(10_000)]
    b = [redrawn() for _ in range(10_000)]
    assert sum(1 for x in a if abs(x) == 1.0) > 2_000  # about 32 % sit on the bounds
    assert sum(1 for x in b if abs(x) == 1.0) == 0
    assert all(-1.0 <= x <= 1.0 for x in b)


def test_resample_falls_back_to_the_clipped_mean_when_draws_keep_missing() -> None:
    draw = Distribution("norm", (0.0, 1.0), 50.0, 60.0, resample=True).sampler(random.Random(1))
    assert draw() == 50.0


@pytest.mark.parametrize(
    ("value", "advice"),
    [("1 month", "write days instead (e.g. '30d')"), ("2 weeks", "(e.g. '14d')")],
)
def test_parse_seconds_advice_for_wall_clock_time_offers_no_working_days(
    value: str, advice: str
) -> None:
    """A horizon is wall-clock time: the advice never suggests working days it would refuse."""
    with pytest.raises(DurationError) as caught:
        parse_seconds(value)
    assert advice in str(caught.value) and "working" not in str(caught.value)
