"""The caseloom command line: check, compile, show."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from engine.builder.loader import load_definition
from engine.cli import app

ROOT = Path(__file__).resolve().parents[1]
PROCESSES = ROOT / "processes"
runner = CliRunner()

BAD = """\
id: bad
name: Bad
version: 1
calendar: nowhere
stages:
  - name: One
    actions:
      - {id: a, title: A, due: 4 parsecs}
"""


def test_check_accepts_the_example_processes() -> None:
    result = runner.invoke(app, ["check", str(PROCESSES)])
    assert result.exit_code == 0, result.output
    assert "with errors" in result.output and ", 0 with errors" in result.output


def test_check_reports_every_problem_as_file_line_and_exits_1(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(BAD)
    result = runner.invoke(app, ["check", str(bad)])
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.startswith(str(bad))]
    assert any(line.startswith(f"{bad}:4:") and "nowhere" in line for line in lines), lines
    assert any(line.startswith(f"{bad}:8:") and "parsecs" in line for line in lines), lines


def test_check_json_format_lists_problems_with_locations(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(BAD)
    result = runner.invoke(app, ["check", "--format", "json", str(bad)])
    assert result.exit_code == 1
    report = json.loads(result.output)
    assert report["ok"] is False
    problems = report["files"][0]["problems"]
    assert {p["line"] for p in problems} >= {4, 8}
    assert all(p["file"] == str(bad) for p in problems)


def test_compile_writes_bpmn_that_loads_to_the_same_model(tmp_path: Path) -> None:
    out = tmp_path / "claim.bpmn"
    result = runner.invoke(app, ["compile", str(PROCESSES / "claim.yaml"), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert load_definition(out) == load_definition(PROCESSES / "claim.yaml")


def test_show_prints_the_stage_and_action_tree() -> None:
    result = runner.invoke(app, ["show", str(PROCESSES / "claim.yaml")])
    assert result.exit_code == 0, result.output
    assert "Stage 2: Fraud screening" in result.output
    assert "second_opinion: Second opinion" in result.output
    assert "manual launch only" in result.output


def test_show_on_a_bad_file_prints_problems_and_exits_1(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(BAD)
    result = runner.invoke(app, ["show", str(bad)])
    assert result.exit_code == 1


def test_C1_show_lists_the_schedules(tmp_path: Path) -> None:
    source = tmp_path / "daily.yaml"
    source.write_text(
        "id: daily\nname: Daily check\nversion: 1\n"
        "schedules:\n  - {every: 1d, first: 2026-03-02T08:00:00Z, title: Morning check}\n"
        "stages:\n  - name: One\n    actions:\n      - {id: a, title: A}\n"
    )
    result = runner.invoke(app, ["show", str(source)])
    assert result.exit_code == 0, result.output
    assert "new case every 1d from 2026-03-02T08:00:00+00:00: Morning check" in result.output
