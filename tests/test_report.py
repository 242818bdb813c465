"""The HTML report, its plots and KPI files (engine.simulation.report)."""

from __future__ import annotations

import base64
import csv
import io
import json
import sys
from pathlib import Path
from typing import Any

import matplotlib
import pytest
from lxml import html as lxml_html
from sim_logs import LogBuilder, sample_log

from engine.errors import InvalidArgument
from engine.simulation.kpis import summarise
from engine.simulation.report import kpi_table_html, write_report
from engine.simulation.results import SimulationResult

PNG = b"\x89PNG\r\n\x1a\n"
PLOTS = ["cycle_time.png", "wip.png", "utilisation.png", "time_breakdown.png", "sla.png"]


def base() -> SimulationResult:
    return SimulationResult("demo", "base", [sample_log(1), sample_log(2)], wall_seconds=1.25)


def faster() -> SimulationResult:
    """One claim of 6 h, met its SLA; one clerk."""
    b = LogBuilder(replication=1)
    c = b.case(arrival=0, end=6, due=8)
    b.act(c, "Register", enable=0, start=0, end=6)
    b.resource("clerk_1", "clerks", busy=6, available=16)
    b.wip((0, 1), (6, 0))
    return SimulationResult("demo", "more staff", [b.log])


@pytest.fixture(scope="module")
def single(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The report of the base variant alone (written once for the module)."""
    return write_report([base()], tmp_path_factory.mktemp("single") / "out")


@pytest.fixture(scope="module")
def comparison(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The what-if report of base vs more staff (written once for the module)."""
    return write_report([base(), faster()], tmp_path_factory.mktemp("comparison"))


def page_of(text: str) -> lxml_html.HtmlElement:
    return lxml_html.fromstring(text)


def page(path: Path) -> lxml_html.HtmlElement:
    return page_of(path.read_text(encoding="utf-8"))


def cells(root: lxml_html.HtmlElement, kpi: str) -> list[str]:
    [row] = [r for r in root.iter("tr") if r[0].text_content() == kpi]
    return [cell.text_content() for cell in row]


def test_writes_plots_html_json_and_csv(single: Path) -> None:
    out = single.parent
    assert single.name == "report.html" and out.name == "out"
    for name in PLOTS:
        assert (out / name).read_bytes().startswith(PNG), name
    document = json.loads((out / "kpis.json").read_text(encoding="utf-8"))
    assert [v["variant"] for v in document["variants"]] == ["base"]
    rows = list(csv.DictReader(io.StringIO((out / "kpis.csv").read_text(encoding="utf-8"))))
    assert {r["variant"] for r in rows} == {"base"}
    assert len(rows) == len(summarise(base()))


def test_html_is_self_contained(comparison: Path) -> None:
    report = comparison
    text = report.read_text(encoding="utf-8")
    for forbidden in ("http://", "https://", "<script", "<link", "@import", "url("):
        assert forbidden not in text, forbidden
    root = page(report)
    images = root.findall(".//img")
    assert len(images) == len(PLOTS)
    for image, name in zip(images, PLOTS, strict=True):
        prefix = "data:image/png;base64,"
        source = image.get("src", "")
        assert source.startswith(prefix)
        assert base64.b64decode(source[len(prefix) :]) == (report.parent / name).read_bytes()


def test_single_variant_table_shows_mean_ci_min_max_n(single: Path) -> None:
    root = page(single)
    header = [th.text_content() for th in root.iter("th")]
    assert header == ["KPI", "unit", "mean", "± 95 % CI", "min", "max", "n"]
    assert cells(root, "cycle_time_mean_h[claim]") == [
        "cycle_time_mean_h[claim]",
        "h",
        "11.333",
        "0",
        "11.333",
        "11.333",
        "2",
    ]
    assert cells(root, "hold_paused_held_mean_h[claim]")[2:] == ["-", "-", "-", "-", "0"]
    assert "Simulation report: demo" in root.findtext(".//h1", "")


def test_what_if_comparison_has_one_column_per_variant_and_differences(comparison: Path) -> None:
    root = page(comparison)
    json_variants = json.loads((comparison.parent / "kpis.json").read_text(encoding="utf-8"))
    assert [v["variant"] for v in json_variants["variants"]] == ["base", "more staff"]
    header = [th.text_content() for th in root.iter("th")]
    assert header == ["KPI", "unit", "base", "more staff", "Δ vs base"]
    cycle = cells(root, "cycle_time_mean_h[claim]")
    assert cycle[2:] == ["11.333 ± 0", "6", "-5.333 (-47.1 %)"]
    sla = cells(root, "sla_hit_rate[claim]")
    assert sla[2:] == ["0.5000 ± 0", "1", "+0.5000 (+100.0 %)"]
    # a KPI only the first variant has
    assert cells(root, "utilisation[robots]")[2:] == ["0.0208 ± 0", "-", "-"]
    title = root.findtext(".//h1", "")
    assert title == "Simulation report: demo (what-if: base vs more staff)"
    # colour says better or worse, by the KPI's direction: a shorter cycle and a higher SLA
    # hit rate are both better; utilisation is neither
    css = {
        key: cells_class(root, key)
        for key in ("cycle_time_mean_h[claim]", "sla_hit_rate[claim]", "utilisation[clerks]")
    }
    assert css["cycle_time_mean_h[claim]"] == "better"
    assert css["sla_hit_rate[claim]"] == "better"
    assert css["utilisation[clerks]"] is None


def cells_class(root: Any, key: str) -> str | None:
    """The css class of the first difference cell of the row of ``key``."""
    for tr in root.iter("tr"):
        tds = list(tr.iter("td"))
        if tds and tds[0].text_content() == key:
            value = tds[4].get("class")
            return str(value) if value is not None else None
    raise AssertionError(f"no row {key!r}")


def test_three_variants_and_equal_names() -> None:
    tables = [summarise(r) for r in (base(), faster(), faster())]
    root = page_of(kpi_table_html(tables))
    header = [th.text_content() for th in root.iter("th")]
    assert header == [
        "KPI",
        "unit",
        "base",
        "more staff (2)",
        "Δ vs base",
        "more staff (3)",
        "Δ vs base",
    ]


def test_plots_without_data_are_left_out(tmp_path: Path) -> None:
    b = LogBuilder()
    b.case(arrival=0, end=2)  # no SLA, no resources, no actions
    write_report([SimulationResult("bare", "base", [b.log])], tmp_path)
    written = sorted(p.name for p in tmp_path.glob("*.png"))
    assert written == ["cycle_time.png", "time_breakdown.png", "wip.png"]


def test_report_without_any_finished_case(tmp_path: Path) -> None:
    b = LogBuilder()
    b.case(arrival=0)
    report = write_report([SimulationResult("bare", "base", [b.log])], tmp_path)
    assert cells(page(report), "finished[claim]")[2] == "0"


def test_report_leaves_matplotlib_global_state_alone(tmp_path: Path) -> None:
    backend = matplotlib.get_backend()
    params = dict(matplotlib.rcParams)
    had_pyplot = "matplotlib.pyplot" in sys.modules
    write_report([base()], tmp_path)
    assert matplotlib.get_backend() == backend
    assert dict(matplotlib.rcParams) == params
    assert ("matplotlib.pyplot" in sys.modules) == had_pyplot


def test_report_reuses_given_tables_and_checks_them(tmp_path: Path) -> None:
    table = summarise(base())
    write_report([base()], tmp_path, tables=[table])
    document = json.loads((tmp_path / "kpis.json").read_text(encoding="utf-8"))
    assert document["variants"][0] == json.loads(json.dumps(table.as_dict()))
    with pytest.raises(InvalidArgument):
        write_report([base(), faster()], tmp_path, tables=[table])
    with pytest.raises(InvalidArgument):
        write_report([], tmp_path)
