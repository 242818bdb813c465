"""``caseloom simulate``: scenario in, KPIs, event logs and a report out; bad input refused."""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from engine.cli import app

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
PROSIMOS = ROOT.parent / "shared" / "simulation" / "prosimos"
runner = CliRunner()


def test_simulate_writes_kpis_event_logs_and_a_report(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = runner.invoke(
        app,
        [
            "simulate",
            str(EXAMPLES / "claims.scenario.yaml"),
            "--out",
            str(out),
            "--cases",
            "60",
            "--replications",
            "2",
            "--no-progress",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "cycle_time_mean_h[claim]" in result.output
    with (out / "eventlog-base.csv").open() as stream:
        rows = list(csv.reader(stream))
    assert rows[0] == ["case_id", "activity", "enable_time", "start_time", "end_time", "resource"]
    assert {r[1] for r in rows[1:]} >= {"Register claim", "Pay claim"}
    assert (out / "eventlog-base.xes").read_text().count("<trace>") >= 60
    kpis = json.loads((out / "kpis.json").read_text())
    assert kpis  # one table per variant
    html = (out / "report.html").read_text()
    assert "data:image/png;base64," in html and "http://" not in html.replace(
        "http://www.w3.org", ""
    )


def test_simulate_compares_chosen_variants_in_one_report(tmp_path: Path) -> None:
    out = tmp_path / "whatif"
    result = runner.invoke(
        app,
        [
            "simulate",
            str(EXAMPLES / "claims-whatif.scenario.yaml"),
            "--out",
            str(out),
            "--horizon",
            "5d",
            "--replications",
            "2",
            "--variant",
            "base",
            "--variant",
            "one more clerk",
            "--no-xes",
        ],
    )
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.glob("eventlog-*")) == [
        "eventlog-base.csv",
        "eventlog-one-more-clerk.csv",
    ]
    html = (out / "report.html").read_text()
    assert "one more clerk" in html and "base" in html


def test_simulate_refuses_a_bad_scenario_with_every_problem_before_running(
    tmp_path: Path,
) -> None:
    bad = tmp_path / "bad.scenario.yaml"
    bad.write_text(
        f"""name: bad
definitions: [{ROOT / "processes" / "claim.yaml"}, {ROOT / "processes" / "fraud_check.yaml"}]
start: 2026-03-02T09:00:00Z
cases: 10
arrivals: {{process: claim, interarrival: {{dist: expon, mean: -5m}}}}
resources:
  clerks: {{count: 1, actions: [register, nosuch]}}
"""
    )
    out = tmp_path / "out"
    result = runner.invoke(app, ["simulate", str(bad), "--out", str(out)])
    assert result.exit_code == 1
    assert f"{bad}:5:" in result.output  # the interarrival line
    assert "nosuch" in result.output
    assert "has no resource" in result.output or "no resource" in result.output
    assert not out.exists()  # nothing ran, nothing written


def test_simulate_unknown_variant_is_refused(tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        [
            "simulate",
            str(EXAMPLES / "claims-whatif.scenario.yaml"),
            "--variant",
            "nope",
            "--out",
            str(tmp_path),
        ],
    )
    assert result.exit_code != 0
    assert "unknown variant" in result.output


@pytest.mark.skipif(not PROSIMOS.is_dir(), reason="../shared/simulation/prosimos not present")
def test_simulate_runs_a_prosimos_scenario_directly(tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        [
            "simulate",
            str(PROSIMOS / "Credit_Application_Simulation.bpmn"),
            "--prosimos",
            str(PROSIMOS / "credit_app_stable.json"),
            "--cases",
            "300",
            "--start",
            "2024-01-01T09:00Z",
            "--out",
            str(tmp_path),
            "--no-xes",
        ],
    )
    assert result.exit_code == 0, result.output
    with (tmp_path / "eventlog-base.csv").open() as stream:
        rows = list(csv.DictReader(stream))
    assert {r["activity"] for r in rows} >= {"Check credit history", "Assess application"}
    assert rows[0]["start_time"] == "2024-01-01 09:00:00.000000+00:00"


@pytest.mark.skipif(not PROSIMOS.is_dir(), reason="../shared/simulation/prosimos not present")
def test_simulate_takes_a_prosimos_model_and_json_in_either_order(tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        [
            "simulate",
            str(PROSIMOS / "AND_join.json"),
            str(PROSIMOS / "AND_join.bpmn"),
            "--cases",
            "50",
            "--out",
            str(tmp_path),
            "--no-xes",
        ],
    )
    assert result.exit_code == 0, result.output
    with (tmp_path / "eventlog-base.csv").open() as stream:
        rows = list(csv.DictReader(stream))
    assert len({r["case_id"] for r in rows}) == 50
    assert rows[0]["start_time"].startswith("2024-01-01 09:00:00")  # the default start


def test_simulate_refuses_files_that_are_not_a_scenario_or_a_prosimos_pair(
    tmp_path: Path,
) -> None:
    result = runner.invoke(
        app, ["simulate", str(EXAMPLES / "claims.scenario.yaml"), "notes.txt", "--out", "x"]
    )
    assert result.exit_code == 2
    text = " ".join(result.output.replace("│", " ").split())
    assert "Prosimos BPMN model and its JSON" in text


def test_simulate_compares_several_scenario_files_in_one_report(tmp_path: Path) -> None:
    text = (EXAMPLES / "claims.scenario.yaml").read_text()
    text = text.replace("../processes/", f"{ROOT / 'processes'}/")
    proposal = tmp_path / "proposal.scenario.yaml"
    proposal.write_text(
        text.replace("name: Claims baseline", "name: Claims proposal").replace(
            "clerks: {count: 5,", "clerks: {count: 7,"
        )
    )
    out = tmp_path / "out"
    result = runner.invoke(
        app,
        [
            "simulate",
            str(EXAMPLES / "claims.scenario.yaml"),
            str(proposal),
            "--cases",
            "40",
            "--replications",
            "2",
            "--out",
            str(out),
            "--no-xes",
        ],
    )
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.glob("eventlog-*")) == [
        "eventlog-claims-baseline.csv",
        "eventlog-claims-proposal.csv",
    ]
    html = (out / "report.html").read_text()
    assert "Claims baseline" in html and "Claims proposal" in html
    assert "utilisation[clerks]" in html


# -- help (issue point 11) ---------------------------------------------------------------------


def test_simulate_help_shows_metavars_and_no_type_placeholders() -> None:
    result = runner.invoke(app, ["simulate", "--help"])
    assert result.exit_code == 0, result.output
    text = result.output
    assert "Usage: caseloom simulate [OPTIONS] FILE...\n" in text
    for placeholder in ("<bool>", "<list[", "<path>", "<str>", "<int", "{scenario}"):
        assert placeholder not in text, text
    for row in (
        r"-o, --out DIR +Folder for the outputs\.  \[default: simulation-out\]",
        r"--horizon DURATION +Simulated time",
        r"--variant NAME +Run only these variants",
        r"--start DATETIME +Start of a Prosimos run",
        r"--xes / --no-xes +Also write the event logs as XES\.  \[default: xes\]",
        r"--progress / --no-progress +Progress bar",
        r"--verify N +Also replay",
    ):
        assert re.search(rf"^  {row}", text, re.M), (row, text)


def test_simulate_help_in_a_pipe_keeps_long_lines_whole() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "TERMINAL_WIDTH")}
    done = subprocess.run(
        [sys.executable, "-c", "from engine.cli import app; app(prog_name='caseloom')"]
        + ["simulate", "--help"],
        capture_output=True,  # stdout is a pipe, not a terminal
        stdin=subprocess.DEVNULL,
        text=True,
        env=env,
        cwd=ROOT,
        check=True,
    )
    line = (
        "  --start DATETIME            Start of a Prosimos run, ISO 8601 with time zone "
        "(default 2024-01-01T09:00Z, a Monday)."
    )
    assert line in done.stdout.splitlines(), done.stdout
    assert "╭" not in done.stdout and "\x1b[" not in done.stdout
