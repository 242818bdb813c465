"""Simulator benchmark: caseloom against Prosimos 2.x on the same scenario, in one run.

The Credit application scenario (``Credit_Application_Simulation.bpmn`` +
``credit_app_stable.json`` from ``../shared/simulation/prosimos``, read in place, never copied)
runs ``--cases`` cases from Monday 2024-01-01 09:00 UTC, ``--replications`` times in each
engine, the two alternating so that machine load hits both alike. Replication ``r`` seeds
Prosimos with ``seed + r`` (Python's ``random`` and NumPy's global generator, which is all
Prosimos draws from) and caseloom with the same number (``simulate(..., seed=seed + r)``).

For each engine it prints:

- **cases/s**: total cases / wall seconds of the simulation calls. Prosimos: its
  ``run_simulation`` (which parses the files and writes its CSV event log). caseloom:
  ``import_prosimos`` + ``simulate`` + writing its CSV event log.
- **mean cycle time** of each replication, computed from the two CSV event logs by the same
  function, :func:`engine.simulation.eventlog.mean_cycle_time_hours` (first start to last end
  of each case, averaged), and their mean with the 95 % confidence interval over
  replications (Student t, :func:`engine.simulation.stats.describe`).

then the ratio of cases/s (target >= 10x), whether caseloom's mean lies inside Prosimos's
95 % interval, and the peak memory (peak RSS of a fresh subprocess) of one caseloom run of
``--memory-cases`` cases (target < 1 GB).

Usage::

    .venv/bin/python bench/simulate_vs_prosimos.py [--replications 8] [--cases 10000]
    .venv/bin/python bench/simulate_vs_prosimos.py --quick
"""

from __future__ import annotations

import argparse
import importlib
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from engine.simulation.eventlog import mean_cycle_time_hours, read_csv, write_csv
from engine.simulation.kernel import run_replication
from engine.simulation.prosimos import import_prosimos
from engine.simulation.results import ReplicationLog, SimulationResult
from engine.simulation.scenario_model import Scenario
from engine.simulation.stats import describe

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "simulation" / "prosimos"
BPMN = SHARED / "Credit_Application_Simulation.bpmn"
PARAMS = SHARED / "credit_app_stable.json"
START = datetime(2024, 1, 1, 9, 0, tzinfo=UTC)  # a Monday
PROSIMOS_START = "2024-01-01T09:00:00.000000+00:00"  # the only format run_simulation takes


def load_simulate() -> tuple[Callable[[Scenario, int], ReplicationLog], str | None]:
    """One replication through ``engine.simulation.simulate``; until that exists, through
    the kernel directly (the second item then says so)."""
    simulate = getattr(importlib.import_module("engine.simulation"), "simulate", None)

    def simulate_one(scenario: Scenario, seed: int) -> ReplicationLog:
        if simulate is None:
            return run_replication(scenario, 0, seed)
        result: SimulationResult = simulate(scenario, replications=1, seed=seed)
        return result.replications[0]

    note = None if simulate else "engine.simulation.simulate missing: kernel called directly"
    return simulate_one, note


# -- one replication of each engine ---------------------------------------------------------------


@dataclass
class Runs:
    """Wall seconds and mean cycle time (hours) of each replication of one engine."""

    name: str
    seconds: list[float] = field(default_factory=list)
    cycle_hours: list[float] = field(default_factory=list)


def run_prosimos(cases: int, seed: int, directory: Path) -> tuple[float, Path]:
    """One Prosimos run; returns its wall seconds and the path of its event log."""
    import numpy
    from prosimos.simulation_engine import run_simulation  # type: ignore[import-untyped]

    random.seed(seed)
    numpy.random.seed(seed)
    log = directory / f"prosimos_{seed}.csv"
    began = time.perf_counter()
    run_simulation(
        str(BPMN), str(PARAMS), cases, str(directory / "stats.csv"), str(log), PROSIMOS_START
    )
    return time.perf_counter() - began, log


def run_caseloom(
    cases: int, seed: int, directory: Path, simulate_one: Callable[[Scenario, int], ReplicationLog]
) -> tuple[float, Path]:
    """One caseloom run (import, simulate, write the CSV log); its wall seconds and log path."""
    log = directory / f"caseloom_{seed}.csv"
    began = time.perf_counter()
    scenario = import_prosimos(BPMN, PARAMS, start=START, cases=cases, seed=seed)
    write_csv(simulate_one(scenario, seed), log)
    return time.perf_counter() - began, log


def measure_memory(cases: int) -> dict[str, float]:
    """Peak RSS of a fresh process running one caseloom replication of ``cases`` cases."""
    out = subprocess.run(
        [sys.executable, __file__, "--memory-child", str(cases)],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def peak_rss_mb() -> float:
    """Peak resident set size of this process in MB: ``VmHWM`` of ``/proc/self/status``
    (reset by ``exec``, unlike ``ru_maxrss``, which keeps the parent's peak on Linux), else
    ``ru_maxrss``."""
    status = Path("/proc/self/status")
    if status.is_file():
        for line in status.read_text(encoding="ascii").splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def memory_child(cases: int) -> None:
    """Body of the ``--memory-child`` subprocess: run, then print peak RSS as JSON."""
    simulate_one, _ = load_simulate()
    before = peak_rss_mb()
    with tempfile.TemporaryDirectory() as tmp:
        seconds, _ = run_caseloom(cases, 1, Path(tmp), simulate_one)
    result = {"cases": cases, "seconds": seconds, "peak_mb": peak_rss_mb(), "imports_mb": before}
    print(json.dumps(result))


# -- report ---------------------------------------------------------------------------------------


def _interval(values: list[float]) -> tuple[float, float | None]:
    summary = describe(values)
    return summary.mean, summary.half_width


def report(runs: list[Runs], cases: int, memory: dict[str, float] | None) -> None:
    print(
        f"{'engine':<10} {'cases/s':>10}  {'mean cycle time (h) per replication':<50} mean ± 95% CI"
    )
    intervals: dict[str, tuple[float, float | None]] = {}
    rates: dict[str, float] = {}
    for run in runs:
        rates[run.name] = cases * len(run.seconds) / sum(run.seconds)
        mean, half = intervals[run.name] = _interval(run.cycle_hours)
        each = " ".join(f"{h:.2f}" for h in run.cycle_hours)
        ci = f"{mean:.2f} ± {half:.2f}" if half is not None else f"{mean:.2f}"
        print(f"{run.name:<10} {rates[run.name]:>10,.0f}  {each:<50} {ci}")
    if len(runs) == 2:
        ratio = rates["caseloom"] / rates["Prosimos"]
        print(f"\ncases/s ratio caseloom / Prosimos: {ratio:.1f}x (target >= 10x)")
        p_mean, p_half = intervals["Prosimos"]
        c_mean, _ = intervals["caseloom"]
        if p_half is None:
            print("caseloom mean inside Prosimos's 95 % interval: n/a (one replication)")
        else:
            inside = p_mean - p_half <= c_mean <= p_mean + p_half
            print(
                f"caseloom mean {c_mean:.2f} h inside Prosimos's 95 % interval "
                f"[{p_mean - p_half:.2f}, {p_mean + p_half:.2f}] h: {'yes' if inside else 'NO'}"
            )
    if memory is not None:
        print(
            f"peak memory, caseloom, {memory['cases']:,.0f} cases (fresh process): "
            f"{memory['peak_mb']:,.0f} MB ({memory['imports_mb']:,.0f} MB of it before the run) "
            f"in {memory['seconds']:.1f} s (target < 1 GB)"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--replications", type=int, default=8)
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1, help="seed of replication 0")
    parser.add_argument("--memory-cases", type=int, default=100_000)
    parser.add_argument("--no-memory", action="store_true", help="skip the memory run")
    parser.add_argument(
        "--quick", action="store_true", help="2 replications of 1,000 cases, 10,000 for memory"
    )
    parser.add_argument("--memory-child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if not PARAMS.is_file() or not BPMN.is_file():
        print(f"skipped: the Prosimos reference scenarios are not in {SHARED}")
        return 0
    if args.memory_child:
        memory_child(args.memory_child)
        return 0
    if args.quick:
        args.replications, args.cases, args.memory_cases = 2, 1_000, 10_000
    try:
        import prosimos  # type: ignore[import-untyped]  # noqa: F401
    except ImportError:
        print("skipped: Prosimos is not installed (pip install -e '.[dev]')")
        return 0
    simulate_one, note = load_simulate()
    if note:
        print(f"note: {note}")
    print(
        f"Credit scenario ({PARAMS.name}): {args.cases:,} cases from {START:%a %Y-%m-%d %H:%M} "
        f"UTC, {args.replications} replications, seeds {args.seed}..."
        f"{args.seed + args.replications - 1}\n"
    )
    prosimos_runs, caseloom_runs = Runs("Prosimos"), Runs("caseloom")
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        for r in range(args.replications):
            seed = args.seed + r
            for runs in (prosimos_runs, caseloom_runs):
                if runs is prosimos_runs:
                    seconds, log = run_prosimos(args.cases, seed, directory)
                else:
                    seconds, log = run_caseloom(args.cases, seed, directory, simulate_one)
                runs.seconds.append(seconds)
                runs.cycle_hours.append(mean_cycle_time_hours(read_csv(log)))
                log.unlink()
                print(f"  {runs.name:<9} seed {seed}: {seconds:6.2f} s", file=sys.stderr)
    memory = None if args.no_memory else measure_memory(args.memory_cases)
    report([prosimos_runs, caseloom_runs], args.cases, memory)
    return 0


if __name__ == "__main__":
    sys.exit(main())
