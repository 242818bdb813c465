"""The simulation report: PNG plots, one self-contained HTML page, KPIs as JSON and CSV.

:func:`write_report` takes the results of one scenario (one variant) or of several variants
(a what-if comparison: one column per variant, mean ± CI half-width, and the difference to
the first variant) and writes into ``out_dir``:

- ``cycle_time.png`` — cycle-time histogram of finished top-level cases, per variant;
- ``wip.png`` — open top-level cases over time, replication 1 of each variant;
- ``utilisation.png`` — utilisation per resource pool with CI error bars;
- ``time_breakdown.png`` — mean hours per finished case waiting / processing / off-calendar
  / in each hold kind, stacked, per variant;
- ``sla.png`` — SLA hit rate with CI error bars per variant (when some case had a due date);
- ``report.html`` — the KPI table and the plots embedded as ``data:`` URIs, inline CSS, no
  script and no external reference;
- ``kpis.json`` and ``kpis.csv`` (:func:`~engine.simulation.kpis.write_kpis_json`,
  :func:`~engine.simulation.kpis.write_kpis_csv`).

Plots use matplotlib's object API on an Agg canvas: no pyplot, no global backend switch.
"""

from __future__ import annotations

import base64
import html
import io
import math
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from engine.errors import InvalidArgument
from engine.simulation.kpis import (
    DAY,
    KpiRow,
    KpiTable,
    Scope,
    case_cycle_times_h,
    format_value,
    kpi_bases,
    kpi_info,
    scopes,
    summarise,
    wip_series,
    write_kpis_csv,
    write_kpis_json,
)
from engine.simulation.results import HOLD_INDEX, SimulationResult

BREAKDOWN: tuple[tuple[str, str], ...] = (
    ("waiting_mean_h", "waiting"),
    ("processing_mean_h", "processing"),
    ("off_calendar_mean_h", "off-calendar"),
    ("subcase_wait_mean_h", "waiting for sub-cases"),
    *((f"hold_{kind}_mean_h", f"hold: {kind}") for kind in HOLD_INDEX),
)
"""The segments of the time-breakdown bars: KPI base and label."""


@dataclass(frozen=True)
class Plot:
    """One PNG of the report."""

    file: str
    title: str
    caption: str
    png: bytes


def _figure(right: float = 0.97) -> tuple[Figure, Axes]:
    """A 750 x 400 px figure on an Agg canvas (fixed margins: a layout engine would draw
    every figure twice)."""
    figure = Figure(figsize=(7.5, 4.0), dpi=100)
    FigureCanvasAgg(figure)
    figure.subplots_adjust(left=0.09, right=right, bottom=0.13, top=0.91)
    return figure, figure.add_subplot()


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


def _labels(tables: Sequence[KpiTable]) -> list[str]:
    """Variant names, numbered when two are equal."""
    names = [table.variant for table in tables]
    return [f"{n} ({i + 1})" if names.count(n) > 1 else n for i, n in enumerate(names)]


def _top_scopes(results: Sequence[SimulationResult]) -> list[Scope]:
    found: list[Scope] = []
    for result in results:
        for scope in scopes(result.replications):
            if scope.top_level and scope not in found:
                found.append(scope)
    return found


def _mean(table: KpiTable, key: str) -> float:
    return table[key].mean if key in table else math.nan


def _error(table: KpiTable, key: str) -> float:
    if key not in table:
        return 0.0
    half = table[key].half_width
    return 0.0 if half is None or math.isnan(half) else half


def _grouped_bars(
    axes: Axes, groups: list[str], series: list[tuple[str, list[float], list[float]]]
) -> None:
    """Bars of each series side by side within each group, with error bars."""
    width = min(0.5, 0.8 / max(1, len(series)))
    positions = np.arange(len(groups), dtype=np.float64)
    for i, (label, means, errors) in enumerate(series):
        heights = [0.0 if math.isnan(m) else m for m in means]
        axes.bar(
            positions + (i - (len(series) - 1) / 2) * width,
            heights,
            width,
            yerr=errors,
            capsize=4,
            label=label,
        )
    axes.set_xticks(positions, [textwrap.fill(group, 14) for group in groups])
    if sum(len(group) for group in groups) > 60:  # long names: slant them
        axes.tick_params(axis="x", labelrotation=25, labelsize="small")
        axes.figure.subplots_adjust(bottom=0.25)
    if len(series) > 1:
        axes.legend()


def cycle_time_plot(results: Sequence[SimulationResult], labels: Sequence[str]) -> Plot:
    """Histogram of the cycle times of finished top-level cases (all replications)."""
    top = _top_scopes(results)
    samples = [
        np.concatenate(
            [np.zeros(0)]
            + [case_cycle_times_h(log, scope) for log in result.replications for scope in top]
        )
        for result in results
    ]
    figure, axes = _figure()
    every = np.concatenate([np.zeros(0), *samples])
    if every.size:
        bins = np.histogram_bin_edges(every, bins=min(40, max(5, int(math.sqrt(every.size)))))
        for label, values in zip(labels, samples, strict=True):
            if values.size:
                weights = np.full(values.size, 1.0 / values.size)
                axes.hist(
                    values, bins=bins.tolist(), weights=weights, histtype="step", lw=2, label=label
                )
        if len(results) > 1:
            axes.legend()
    else:
        axes.text(0.5, 0.5, "no finished case", ha="center", transform=axes.transAxes)
    axes.set_xlabel("cycle time (h)")
    axes.set_ylabel("share of finished cases")
    axes.set_title("Cycle time of finished top-level cases")
    return Plot(
        "cycle_time.png",
        "Cycle time",
        "Arrival to resolution of finished top-level cases, all replications pooled.",
        _png(figure),
    )


def wip_plot(results: Sequence[SimulationResult], labels: Sequence[str]) -> Plot:
    """Open top-level cases over time, replication 1 of each variant."""
    figure, axes = _figure()
    for label, result in zip(labels, results, strict=True):
        if not result.replications:
            continue
        log = result.replications[0]
        times, values = wip_series(log)
        days = np.append(times, log.end) - log.start
        axes.step(days / DAY, np.append(values, values[-1]), where="post", label=label)
    axes.set_xlabel("days since start")
    axes.set_ylabel("open top-level cases")
    axes.set_ylim(bottom=0)
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_title("Work in progress (replication 1)")
    if len(results) > 1:
        axes.legend()
    return Plot(
        "wip.png",
        "Work in progress",
        "Open top-level cases over the run of the first replication of each variant.",
        _png(figure),
    )


def utilisation_plot(tables: Sequence[KpiTable], labels: Sequence[str]) -> Plot | None:
    """Utilisation per pool with CI error bars (None without pools)."""
    keys: list[str] = []
    for table in tables:
        keys += [k for k in table.keys() if k.startswith("utilisation[") and k not in keys]
    if not keys:
        return None
    figure, axes = _figure()
    pools = [k[len("utilisation[") : -1] for k in keys]
    series = [
        (label, [_mean(t, k) for k in keys], [_error(t, k) for k in keys])
        for label, t in zip(labels, tables, strict=True)
    ]
    _grouped_bars(axes, pools, series)
    axes.set_ylim(0, 1.05)
    axes.set_ylabel("busy / available working time")
    axes.set_title("Resource utilisation per pool")
    return Plot(
        "utilisation.png",
        "Resource utilisation",
        "Busy working time over available working time per pool; bars show the 95 % CI.",
        _png(figure),
    )


def time_breakdown_plot(
    tables: Sequence[KpiTable], labels: Sequence[str], top: Sequence[Scope]
) -> Plot:
    """Stacked mean hours per finished case, per variant (and per top-level process)."""
    figure, axes = _figure(right=0.8)
    bars: list[tuple[str, KpiTable, Scope]] = [
        (label if len(top) == 1 else f"{label}\n{scope.name}", table, scope)
        for label, table in zip(labels, tables, strict=True)
        for scope in top
    ]
    positions = np.arange(len(bars), dtype=np.float64)
    bottom = np.zeros(len(bars))
    for base, name in BREAKDOWN:
        heights = np.array([_mean(t, f"{base}[{s.name}]") for _, t, s in bars])
        heights = np.nan_to_num(heights)
        if heights.any():
            axes.bar(positions, heights, 0.6, bottom=bottom, label=name)
            bottom += heights
    axes.set_xticks(positions, [textwrap.fill(label, 14) for label, _, _ in bars])
    axes.tick_params(axis="x", labelsize="small")
    axes.set_ylabel("hours per finished case")
    axes.set_title("Where the time goes (sum over each case's actions)")
    if bottom.any():
        axes.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return Plot(
        "time_breakdown.png",
        "Time breakdown",
        "Mean hours per finished case: waiting (enabled, not started), processing (working "
        "time), off-calendar (started, outside working hours) and Waiting in each hold kind. "
        "Parallel actions add up, so a bar can exceed the cycle time.",
        _png(figure),
    )


def sla_plot(
    tables: Sequence[KpiTable], labels: Sequence[str], top: Sequence[Scope]
) -> Plot | None:
    """SLA hit rate with CI error bars per variant (None when no case had a due date)."""
    used = [
        s for s in top if any(not math.isnan(_mean(t, f"sla_hit_rate[{s.name}]")) for t in tables)
    ]
    if not used:
        return None
    figure, axes = _figure()
    if len(used) == 1:  # one bar per variant
        key = f"sla_hit_rate[{used[0].name}]"
        series = [(used[0].name, [_mean(t, key) for t in tables], [_error(t, key) for t in tables])]
        _grouped_bars(axes, list(labels), series)
    else:  # per process, one bar per variant
        series = [
            (
                label,
                [_mean(t, f"sla_hit_rate[{s.name}]") for s in used],
                [_error(t, f"sla_hit_rate[{s.name}]") for s in used],
            )
            for label, t in zip(labels, tables, strict=True)
        ]
        _grouped_bars(axes, [s.name for s in used], series)
    axes.set_ylim(0, 1.05)
    axes.set_ylabel("share resolved by the due date")
    axes.set_title("SLA hit rate (95 % CI)")
    return Plot(
        "sla.png",
        "SLA hit rate",
        "Finished cases with a due date that were resolved by it; bars show the 95 % CI.",
        _png(figure),
    )


def make_plots(results: Sequence[SimulationResult], tables: Sequence[KpiTable]) -> list[Plot]:
    """Every plot of the report (the ones without data left out)."""
    labels = _labels(tables)
    top = _top_scopes(results)
    plots = [
        cycle_time_plot(results, labels),
        wip_plot(results, labels),
        utilisation_plot(tables, labels),
        time_breakdown_plot(tables, labels, top),
        sla_plot(tables, labels, top),
    ]
    return [plot for plot in plots if plot is not None]


_CSS = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 72em; color: #222;
       padding: 0 1em; }
h1 { font-size: 1.6em; } h2 { font-size: 1.25em; margin-top: 2em; }
.meta { color: #555; }
table { border-collapse: collapse; font-size: 0.9em; }
th, td { padding: 0.25em 0.7em; border-bottom: 1px solid #ddd; text-align: right; }
th { background: #f3f3f3; position: sticky; top: 0; }
td.kpi, th.kpi, td.unit { text-align: left; }
td.kpi { font-family: ui-monospace, monospace; }
td { white-space: nowrap; }
td.better { color: #1a6b2a; } td.worse { color: #a3261b; }
.scroll { overflow-x: auto; }
figure { margin: 1.5em 0; } figure img { max-width: 100%; }
figcaption { color: #555; font-size: 0.9em; }
dt { font-family: ui-monospace, monospace; margin-top: 0.4em; }
"""


def _cell(row: KpiRow | None) -> str:
    if row is None:
        return "-"
    text = format_value(row.mean)
    if row.half_width is not None and not math.isnan(row.mean):
        text += f" ± {format_value(row.half_width)}"
    return text


def _difference(row: KpiRow | None, base: KpiRow | None) -> tuple[str, str]:
    """Text and css class of ``row.mean - base.mean`` (with the relative change)."""
    if row is None or base is None or math.isnan(row.mean) or math.isnan(base.mean):
        return "-", ""
    delta = row.mean - base.mean
    text = ("+" if delta > 0 else "") + format_value(delta)
    if base.mean != 0 and delta != 0:
        text += f" ({delta / abs(base.mean) * 100:+.1f} %)"
    better = kpi_info(row.key).better
    if delta == 0 or not better:
        return text, ""
    improved = (delta < 0) == (better == "lower")
    return text, "better" if improved else "worse"


def kpi_table_html(tables: Sequence[KpiTable]) -> str:
    """The KPI table: one variant in detail, or a comparison of several (mean ± CI half-width
    per variant and the difference to the first)."""
    if not tables:
        raise InvalidArgument("a KPI table needs at least one variant")
    esc = html.escape
    keys: list[str] = []
    for table in tables:
        keys += [k for k in table.keys() if k not in keys]
    lookup = [{row.key: row for row in table} for table in tables]
    out = ["<table>"]
    if len(tables) == 1:
        ci = f"± {round(tables[0].level * 100)} % CI"
        out.append(
            f'<tr><th class="kpi">KPI</th><th>unit</th><th>mean</th><th>{ci}</th>'
            "<th>min</th><th>max</th><th>n</th></tr>"
        )
        for row in tables[0]:
            out.append(
                f'<tr><td class="kpi" title="{esc(row.description)}">{esc(row.key)}</td>'
                f'<td class="unit">{esc(row.unit)}</td><td>{format_value(row.mean)}</td>'
                f"<td>{format_value(row.half_width)}</td><td>{format_value(row.minimum)}</td>"
                f"<td>{format_value(row.maximum)}</td><td>{row.n}</td></tr>"
            )
    else:
        labels = _labels(tables)
        head = ['<tr><th class="kpi">KPI</th><th>unit</th>', f"<th>{esc(labels[0])}</th>"]
        for label in labels[1:]:
            head.append(f"<th>{esc(label)}</th><th>Δ vs {esc(labels[0])}</th>")
        out.append("".join(head) + "</tr>")
        for key in keys:
            rows = [table.get(key) for table in lookup]
            if all(row is None or row.n == 0 for row in rows):
                continue  # undefined in every variant (e.g. a hold kind nobody took)
            first = next(row for row in rows if row is not None)
            cells = [
                f'<tr><td class="kpi" title="{esc(first.description)}">{esc(key)}</td>',
                f'<td class="unit">{esc(first.unit)}</td><td>{_cell(rows[0])}</td>',
            ]
            for other in rows[1:]:
                text, css = _difference(other, rows[0])
                klass = f' class="{css}"' if css else ""
                cells.append(f"<td>{_cell(other)}</td><td{klass}>{text}</td>")
            out.append("".join(cells) + "</tr>")
    out.append("</table>")
    return "\n".join(out)


def _definitions(tables: Sequence[KpiTable]) -> str:
    used = {key.split("[", 1)[0] for table in tables for key in table.keys()}
    items = [
        f"<dt>{html.escape(base)} ({html.escape(info.unit)})</dt>"
        f"<dd>{html.escape(info.description)}</dd>"
        for base, info in kpi_bases().items()
        if base in used
    ]
    return (
        "<details><summary>KPI definitions</summary><dl>\n" + "\n".join(items) + "</dl></details>"
    )


def report_html(
    results: Sequence[SimulationResult], tables: Sequence[KpiTable], plots: Sequence[Plot]
) -> str:
    """The self-contained HTML page (plots embedded as base64 PNG data URIs)."""
    esc = html.escape
    scenario = ", ".join(dict.fromkeys(result.scenario for result in results))
    labels = _labels(tables)
    title = f"Simulation report: {scenario}"
    if len(results) > 1:
        title += " (what-if: " + " vs ".join(labels) + ")"
    meta = "; ".join(
        f"{esc(label)}: {len(result.replications)} replication(s), {result.wall_seconds:.1f} s"
        for label, result in zip(labels, results, strict=True)
    )
    level = round(tables[0].level * 100)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{esc(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{esc(title)}</h1>",
        f'<p class="meta">{meta}. Means over replications; ± is the half-width of the '
        f"{level} % t confidence interval (none with one replication). In comparisons, green "
        "marks a change for the better and red one for the worse.</p>",
        "<h2>Key figures</h2>",
        '<div class="scroll">' + kpi_table_html(tables) + "</div>",
        _definitions(tables),
        "<h2>Plots</h2>",
    ]
    for plot in plots:
        data = base64.b64encode(plot.png).decode("ascii")
        parts.append(
            f'<figure><img src="data:image/png;base64,{data}" alt="{esc(plot.title)}">'
            f"<figcaption>{esc(plot.caption)}</figcaption></figure>"
        )
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def write_report(
    results: Sequence[SimulationResult],
    out_dir: Path | str,
    *,
    tables: Sequence[KpiTable] | None = None,
) -> Path:
    """Write the plots, ``report.html``, ``kpis.json`` and ``kpis.csv`` into ``out_dir``
    (created when missing); returns the path of ``report.html``. ``tables`` may pass the
    already computed :func:`~engine.simulation.kpis.summarise` of each result."""
    if not results:
        raise InvalidArgument("a report needs at least one simulation result")
    if tables is None:
        tables = [summarise(result) for result in results]
    if len(tables) != len(results):
        raise InvalidArgument(f"{len(tables)} KPI tables for {len(results)} results")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    plots = make_plots(results, tables)
    for plot in plots:
        (out / plot.file).write_bytes(plot.png)
    write_kpis_json(tables, out / "kpis.json")
    write_kpis_csv(tables, out / "kpis.csv")
    page = out / "report.html"
    page.write_text(report_html(results, tables, plots), encoding="utf-8")
    return page
