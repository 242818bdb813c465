"""Key performance indicators of a simulation run, with confidence intervals over replications.

:func:`replication_kpis` turns one :class:`~engine.simulation.results.ReplicationLog` into a
flat ``{key: value}`` dict of scalars; :func:`summarise` does it for every replication of a
:class:`~engine.simulation.results.SimulationResult` and gives, per KPI, the mean over
replications, the half-width of its 95 % t confidence interval, min, max and n (a
:class:`KpiTable`, printable, JSON-able, CSV-able).

Keys are ``base[scope]``: ``cycle_time_mean_h[claim]`` covers the top-level cases of process
``claim``, ``cycle_time_mean_h[claim/all]`` all its cases (top-level and sub-cases; only for
processes that have sub-cases). Pool KPIs are ``utilisation[pool]``; ``wip_mean``,
``wip_max`` and ``simulated_days`` cover the whole run. Every base has a unit and a
definition (:func:`kpi_info`); docs/simulation-outputs.md lists them all.
"""

from __future__ import annotations

import csv
import io
import json
import math
from array import array
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from engine.errors import InvalidArgument
from engine.simulation.results import HOLD_INDEX, ReplicationLog, SimulationResult
from engine.simulation.stats import describe

HOUR = 3600.0
DAY = 86400.0

Floats = NDArray[np.float64]
Ints = NDArray[np.int64]
Bools = NDArray[np.bool_]

#: Outcome codes of ``ActivityLog.outcome``.
OUTCOME_COMPLETED, OUTCOME_FAILED, OUTCOME_REFUSED, OUTCOME_CLOSED = 0, 1, 2, 3


@dataclass(frozen=True)
class KpiInfo:
    """Unit and one-line definition of a KPI base name; ``better`` says which way is an
    improvement (``"lower"``, ``"higher"``, or ``""`` when neither is, e.g. utilisation)."""

    unit: str
    description: str
    better: str = ""


_SCOPE_KPIS: dict[str, KpiInfo] = {
    "arrived": KpiInfo("cases", "cases that arrived (were created) during the run"),
    "finished": KpiInfo("cases", "cases resolved before the end of the run"),
    "in_progress": KpiInfo("cases", "cases still open at the end of the run", "lower"),
    "throughput_per_day": KpiInfo("cases/day", "finished cases per simulated day", "higher"),
    "cycle_time_mean_h": KpiInfo(
        "h", "mean cycle time (arrival to resolution), finished cases", "lower"
    ),
    "cycle_time_median_h": KpiInfo("h", "median cycle time, finished cases", "lower"),
    "cycle_time_p90_h": KpiInfo("h", "90th percentile of cycle time, finished cases", "lower"),
    "waiting_mean_h": KpiInfo(
        "h", "per finished case: sum over its actions of start - enable, mean", "lower"
    ),
    "processing_mean_h": KpiInfo(
        "h", "per finished case: sum of working time spent on its actions, mean"
    ),
    "off_calendar_mean_h": KpiInfo(
        "h", "per finished case: sum over its actions of end - start - processing, mean", "lower"
    ),
    "subcase_wait_mean_h": KpiInfo(
        "h", "per finished case: time its flow waited for sub-cases (steps and SC1), mean", "lower"
    ),
    "sla_cases": KpiInfo("cases", "finished cases with a due date"),
    "sla_hit_rate": KpiInfo("share", "finished cases with a due date resolved by it", "higher"),
    "reworks_per_case": KpiInfo("reworks", "reworks per finished case, mean", "lower"),
    "robot_failures": KpiInfo("actions", "actions failed by a robot (S4)", "lower"),
    "robot_refusals": KpiInfo("actions", "actions refused by a robot (S3)", "lower"),
}
for _kind in HOLD_INDEX:
    _SCOPE_KPIS[f"hold_{_kind}_mean_h"] = KpiInfo(
        "h", f"hours Waiting in {_kind} holds per finished case (0 without one), mean", "lower"
    )
    _SCOPE_KPIS[f"hold_{_kind}_share"] = KpiInfo(
        "share", f"finished cases that were Waiting in a hold of kind {_kind} at least once"
    )
    _SCOPE_KPIS[f"hold_{_kind}_held_mean_h"] = KpiInfo(
        "h", f"hours Waiting in {_kind} holds, mean over finished cases that had one"
    )
    _SCOPE_KPIS[f"hold_{_kind}_sla_hit_rate"] = KpiInfo(
        "share",
        f"SLA hit rate of finished cases with a due date and a hold of kind {_kind}",
        "higher",
    )
_SCOPE_KPIS["hold_more_info_sla_shift_mean_h"] = KpiInfo(
    "h", "how far more_info holds moved the due date out (H4), mean over cases that had one"
)

_RUN_KPIS: dict[str, KpiInfo] = {
    "simulated_days": KpiInfo("days", "length of the run (start to end)"),
    "utilisation": KpiInfo("share", "busy working time / available working time of the pool"),
    "wip_mean": KpiInfo("cases", "open top-level cases, time-weighted mean over the run", "lower"),
    "wip_max": KpiInfo("cases", "open top-level cases, maximum over the run", "lower"),
}


def kpi_info(key: str) -> KpiInfo:
    """Unit and definition of a KPI key (``cycle_time_mean_h[claim]`` or a bare base)."""
    base = key.split("[", 1)[0]
    info = _SCOPE_KPIS.get(base) or _RUN_KPIS.get(base)
    if info is None:
        raise InvalidArgument(f"unknown KPI {key!r}")
    return info


def kpi_bases() -> dict[str, KpiInfo]:
    """Every KPI base name with its unit and definition, in table order."""
    return {**_RUN_KPIS, **_SCOPE_KPIS}


@dataclass(frozen=True)
class Scope:
    """Which cases a group of KPIs covers: the top-level cases of ``process``, or all of its
    cases (``top_level`` False: sub-cases included)."""

    process: str
    top_level: bool = True

    @property
    def name(self) -> str:
        """``claim`` (top-level cases) or ``claim/all``."""
        return self.process if self.top_level else f"{self.process}/all"


def scopes(logs: Iterable[ReplicationLog]) -> list[Scope]:
    """The scopes KPIs are given for, the same for every replication of ``logs``.

    Every process gets its top-level scope unless it only ever ran as a sub-case; processes
    that ran as sub-cases also get an ``/all`` scope.
    """
    order: list[str] = []
    top: set[str] = set()
    sub: set[str] = set()
    for log in logs:
        for name in log.processes:
            if name not in order:
                order.append(name)
        process = _ints(log.cases.process)
        parent = _ints(log.cases.parent)
        for index in np.unique(process[parent == -1]).tolist():
            top.add(log.processes[int(index)])
        for index in np.unique(process[parent != -1]).tolist():
            sub.add(log.processes[int(index)])
    found: list[Scope] = []
    for name in order:
        if name in top or name not in sub:
            found.append(Scope(name, True))
        if name in sub:
            found.append(Scope(name, False))
    return found


def _floats(values: array[float]) -> Floats:
    return np.frombuffer(values, dtype=np.float64)


def _ints(values: array[int]) -> Ints:
    return np.frombuffer(values, dtype=np.int64)


def _mean(values: Floats) -> float:
    return float(values.mean()) if values.size else math.nan


def _quantile(values: Floats, q: float) -> float:
    return float(np.quantile(values, q)) if values.size else math.nan


def _share(flags: Bools) -> float:
    return float(flags.mean()) if flags.size else math.nan


class _Cases:
    """Per-case columns of one replication, with the per-case sums over its actions."""

    def __init__(self, log: ReplicationLog) -> None:
        cases = log.cases
        n = len(cases)
        self.process = _ints(cases.process)
        self.parent = _ints(cases.parent)
        self.arrival = _floats(cases.arrival)
        self.end = _floats(cases.end)
        self.due = _floats(cases.due)
        if len(cases.hold) != 3 * n:
            raise InvalidArgument(
                f"CaseLog.hold has {len(cases.hold)} values for {n} cases (3 per case expected)"
            )
        self.hold = _floats(cases.hold).reshape(n, 3)
        self.sla_paused = _floats(cases.sla_paused)
        self.reworks = _ints(cases.reworks).astype(np.float64)
        if len(cases.subcase_wait) != n:
            raise InvalidArgument(
                f"CaseLog.subcase_wait has {len(cases.subcase_wait)} values for {n} cases"
            )
        self.subcase_wait = _floats(cases.subcase_wait)
        acts = log.acts
        case = _ints(acts.case)
        enable, start, end = _floats(acts.enable), _floats(acts.start), _floats(acts.end)
        processing = _floats(acts.processing)
        outcome = _ints(acts.outcome)

        def per_case(weights: Floats) -> Floats:
            sums = np.bincount(case, weights=np.nan_to_num(weights), minlength=n)
            return np.asarray(sums, dtype=np.float64)

        self.waiting = per_case(start - enable)
        self.processing = per_case(processing)
        self.off_calendar = per_case(end - start - processing)
        self.failures = per_case((outcome == OUTCOME_FAILED).astype(np.float64))
        self.refusals = per_case((outcome == OUTCOME_REFUSED).astype(np.float64))
        self.finished: Bools = ~np.isnan(self.end)

    def mask(self, log: ReplicationLog, scope: Scope) -> Bools:
        """Cases of ``scope``."""
        if scope.process not in log.processes:
            return np.zeros(len(self.process), dtype=np.bool_)
        selected: Bools = self.process == log.processes.index(scope.process)
        if scope.top_level:
            selected &= self.parent == -1
        return selected


def _scope_kpis(cases: _Cases, mask: Bools, days: float) -> dict[str, float]:
    """The KPIs of one scope, by base name."""
    fin = mask & cases.finished
    n_fin = int(fin.sum())
    cycle = (cases.end[fin] - cases.arrival[fin]) / HOUR
    out: dict[str, float] = {
        "arrived": float(mask.sum()),
        "finished": float(n_fin),
        "in_progress": float(mask.sum() - n_fin),
        "throughput_per_day": n_fin / days if days > 0 else math.nan,
        "cycle_time_mean_h": _mean(cycle),
        "cycle_time_median_h": _quantile(cycle, 0.5),
        "cycle_time_p90_h": _quantile(cycle, 0.9),
        "waiting_mean_h": _mean(cases.waiting[fin] / HOUR),
        "processing_mean_h": _mean(cases.processing[fin] / HOUR),
        "off_calendar_mean_h": _mean(cases.off_calendar[fin] / HOUR),
        "subcase_wait_mean_h": _mean(cases.subcase_wait[fin] / HOUR),
    }
    hold = cases.hold[fin]
    for kind, column in HOLD_INDEX.items():
        out[f"hold_{kind}_mean_h"] = _mean(hold[:, column] / HOUR)
    end, due = cases.end[fin], cases.due[fin]
    has_due = ~np.isnan(due)
    hit = end <= due
    out["sla_cases"] = float(has_due.sum())
    out["sla_hit_rate"] = _share(hit[has_due])
    for kind, column in HOLD_INDEX.items():
        held = hold[:, column] > 0
        out[f"hold_{kind}_share"] = _share(held)
        out[f"hold_{kind}_held_mean_h"] = _mean(hold[held, column] / HOUR)
        if kind == "more_info":
            out["hold_more_info_sla_shift_mean_h"] = _mean(cases.sla_paused[fin][held] / HOUR)
        out[f"hold_{kind}_sla_hit_rate"] = _share(hit[held & has_due])
    out["reworks_per_case"] = _mean(cases.reworks[fin])
    out["robot_failures"] = float(cases.failures[mask].sum())
    out["robot_refusals"] = float(cases.refusals[mask].sum())
    return out


def wip_stats(log: ReplicationLog) -> tuple[float, float]:
    """Time-weighted mean and maximum of the open top-level cases over [start, end].

    ``wip_time``/``wip_value`` are change points: a value holds from its time until the next
    change point (0 before the first one).
    """
    times, values = wip_series(log)
    if log.end <= log.start:
        return math.nan, math.nan
    durations = np.diff(np.append(times, log.end))
    mean = float((values * durations).sum() / (log.end - log.start))
    return mean, float(values.max())


def wip_series(log: ReplicationLog) -> tuple[Floats, Floats]:
    """WIP change points clipped to [start, end): times (the first one is ``start``) and the
    value holding from each."""
    times = _floats(log.wip_time)
    values = _ints(log.wip_value).astype(np.float64)
    order = np.argsort(times, kind="stable")
    times, values = times[order], values[order]
    before = int(np.searchsorted(times, log.start, side="right"))
    first = values[before - 1] if before > 0 else 0.0
    inside = (times > log.start) & (times < log.end)
    return (
        np.concatenate(([log.start], times[inside])),
        np.concatenate(([first], values[inside])),
    )


def pool_utilisation(log: ReplicationLog) -> dict[str, float]:
    """Per pool (in order of appearance): sum of busy / sum of available working seconds."""
    busy: dict[str, float] = {}
    available: dict[str, float] = {}
    res = log.resources
    for pool, b, a in zip(res.pool, res.busy, res.available, strict=True):
        busy[pool] = busy.get(pool, 0.0) + b
        available[pool] = available.get(pool, 0.0) + a
    return {p: busy[p] / available[p] if available[p] > 0 else math.nan for p in busy}


def replication_kpis(
    log: ReplicationLog, kpi_scopes: Sequence[Scope] | None = None
) -> dict[str, float]:
    """Every KPI of one replication as ``{key: value}`` (nan: not defined, e.g. no case
    finished). ``kpi_scopes`` defaults to :func:`scopes` of this log alone."""
    chosen = scopes([log]) if kpi_scopes is None else kpi_scopes
    days = (log.end - log.start) / DAY
    out: dict[str, float] = {"simulated_days": days}
    for pool, share in pool_utilisation(log).items():
        out[f"utilisation[{pool}]"] = share
    out["wip_mean"], out["wip_max"] = wip_stats(log)
    cases = _Cases(log)
    for scope in chosen:
        for base, value in _scope_kpis(cases, cases.mask(log, scope), days).items():
            out[f"{base}[{scope.name}]"] = value
    return out


def case_cycle_times_h(log: ReplicationLog, scope: Scope) -> Floats:
    """Cycle times (hours) of the finished cases of ``scope`` in one replication."""
    cases = _Cases(log)
    fin = cases.mask(log, scope) & cases.finished
    result: Floats = (cases.end[fin] - cases.arrival[fin]) / HOUR
    return result


@dataclass(frozen=True)
class KpiRow:
    """One KPI summarised over replications (nan values left out of every statistic)."""

    key: str
    unit: str
    mean: float
    half_width: float | None
    minimum: float
    maximum: float
    n: int
    values: tuple[float, ...]

    @property
    def description(self) -> str:
        """The KPI's definition."""
        return kpi_info(self.key).description


def format_value(value: float | None) -> str:
    """A number for people: ``-`` for nan/None, otherwise 4 significant digits or so."""
    if value is None or math.isnan(value):
        return "-"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    magnitude = abs(value)
    if magnitude >= 1000 or value == int(value):
        return f"{value:,.0f}" if value == int(value) else f"{value:,.1f}"
    if magnitude >= 100:
        return f"{value:.1f}"
    if magnitude >= 1:
        return f"{value:.3f}"
    return f"{value:.4f}"


def _json_number(value: float | None) -> float | None:
    return None if value is None or math.isnan(value) else value


@dataclass(frozen=True)
class KpiTable:
    """Every KPI of one scenario variant over its replications."""

    scenario: str
    variant: str
    replications: int
    rows: tuple[KpiRow, ...]
    level: float = 0.95
    wall_seconds: float = 0.0

    def __iter__(self) -> Iterator[KpiRow]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def __contains__(self, key: object) -> bool:
        return any(row.key == key for row in self.rows)

    def __getitem__(self, key: str) -> KpiRow:
        for row in self.rows:
            if row.key == key:
                return row
        raise KeyError(key)

    def keys(self) -> list[str]:
        """KPI keys in table order."""
        return [row.key for row in self.rows]

    def format_table(self) -> str:
        """A plain-text table: KPI, unit, mean, ± CI half-width, min, max, n."""
        ci = f"±{round(self.level * 100)}% CI"
        header = ("KPI", "unit", "mean", ci, "min", "max", "n")
        lines = [header] + [
            (
                row.key,
                row.unit,
                format_value(row.mean),
                format_value(row.half_width),
                format_value(row.minimum),
                format_value(row.maximum),
                str(row.n),
            )
            for row in self.rows
        ]
        widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
        title = f"{self.scenario} [{self.variant}], {self.replications} replication(s)"
        out = [title]
        for line in lines:
            cells = [line[0].ljust(widths[0]), line[1].ljust(widths[1])]
            cells += [cell.rjust(width) for cell, width in zip(line[2:], widths[2:], strict=True)]
            out.append("  ".join(cells).rstrip())
        return "\n".join(out) + "\n"

    def as_dict(self) -> dict[str, object]:
        """JSON-ready: metadata and ``kpis`` keyed by KPI (nan and missing CI as null)."""
        return {
            "scenario": self.scenario,
            "variant": self.variant,
            "replications": self.replications,
            "level": self.level,
            "wall_seconds": self.wall_seconds,
            "kpis": {
                row.key: {
                    "unit": row.unit,
                    "description": row.description,
                    "mean": _json_number(row.mean),
                    "ci_half_width": _json_number(row.half_width),
                    "min": _json_number(row.minimum),
                    "max": _json_number(row.maximum),
                    "n": row.n,
                    "values": [_json_number(v) for v in row.values],
                }
                for row in self.rows
            },
        }

    def csv_text(self) -> str:
        """The table as CSV text (see :func:`write_kpis_csv`)."""
        return kpis_csv_text([self])

    def to_csv(self, path: Path | str) -> None:
        """Write the table as CSV (see :func:`write_kpis_csv`)."""
        write_kpis_csv([self], path)


CSV_HEADER = ("variant", "kpi", "unit", "mean", "ci_half_width", "min", "max", "n")


def _csv_number(value: float | None) -> str:
    return "" if value is None or math.isnan(value) else repr(value)


def kpis_csv_text(tables: Sequence[KpiTable]) -> str:
    """CSV with header ``variant,kpi,unit,mean,ci_half_width,min,max,n``: one row per KPI and
    variant; empty cells for undefined values."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for table in tables:
        for row in table.rows:
            writer.writerow(
                (
                    table.variant,
                    row.key,
                    row.unit,
                    _csv_number(row.mean),
                    _csv_number(row.half_width),
                    _csv_number(row.minimum),
                    _csv_number(row.maximum),
                    row.n,
                )
            )
    return buffer.getvalue()


def write_kpis_csv(tables: Sequence[KpiTable], path: Path | str) -> None:
    """Write :func:`kpis_csv_text` of ``tables`` to ``path``."""
    Path(path).write_text(kpis_csv_text(tables), encoding="utf-8")


def write_kpis_json(tables: Sequence[KpiTable], path: Path | str) -> None:
    """Write ``{"variants": [table.as_dict(), ...]}`` to ``path``."""
    document = {"variants": [table.as_dict() for table in tables]}
    Path(path).write_text(json.dumps(document, indent=2, allow_nan=False) + "\n", "utf-8")


def summarise(result: SimulationResult, level: float = 0.95) -> KpiTable:
    """Every KPI of every replication of ``result``, summarised: mean, ``level`` t confidence
    half-width (None for fewer than two defined values), min, max and n."""
    chosen = scopes(result.replications)
    per_replication = [replication_kpis(log, chosen) for log in result.replications]
    keys: list[str] = []
    seen: set[str] = set()
    for kpis in per_replication:
        for key in kpis:
            if key not in seen:
                seen.add(key)
                keys.append(key)
    rows = []
    for key in keys:
        values = tuple(kpis.get(key, math.nan) for kpis in per_replication)
        summary = describe(values, level)
        rows.append(
            KpiRow(
                key=key,
                unit=kpi_info(key).unit,
                mean=summary.mean,
                half_width=summary.half_width,
                minimum=summary.minimum,
                maximum=summary.maximum,
                n=summary.n,
                values=values,
            )
        )
    return KpiTable(
        scenario=result.scenario,
        variant=result.variant,
        replications=len(result.replications),
        rows=tuple(rows),
        level=level,
        wall_seconds=result.wall_seconds,
    )
