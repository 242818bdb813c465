"""The caseloom command line: check, compile, show."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest
from typer.testing import CliRunner

from engine import cli
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


def test_SC5_check_warns_about_a_subcase_process_not_among_the_files_checked() -> None:
    """A static check cannot know what will be deployed: claim.yaml alone is ok with a
    warning naming fraud_check, which must be deployed before such sub-cases are created."""
    result = runner.invoke(app, ["check", str(PROCESSES / "claim.yaml")])
    assert result.exit_code == 0, result.output
    assert "no such process is deployed" not in result.output
    warnings = [line for line in result.output.splitlines() if ": warning: " in line]
    assert len(warnings) == 2
    assert warnings[0].startswith(f"{PROCESSES / 'claim.yaml'}:15:12: warning: sub-case process ")
    assert "'fraud_check' is not among the files checked: it must be deployed before" in (
        warnings[0]
    )
    assert "claim.yaml: ok (2 warnings)" in result.output


def test_SC5_the_readme_tour_definition_checks_ok_on_its_own(tmp_path: Path) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    tour = readme.split("```yaml\n", 1)[1].split("```", 1)[0]
    assert "subcases: [fraud_check]" in tour
    source = tmp_path / "tour.yaml"
    source.write_text(tour.replace("../schemas/", str(ROOT / "schemas") + "/"))
    result = runner.invoke(app, ["check", "--format", "json", str(source)])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["ok"] is True
    codes = [(p["code"], p["severity"], p["path"]) for p in report["files"][0]["problems"]]
    assert codes == [("W016", "warning", "subcases[0]")]


def _claim_variant(title: str) -> str:
    return (PROCESSES / "claim.yaml").read_text(encoding="utf-8").replace("Register claim", title)


def test_check_refuses_two_files_with_the_same_id_and_version(tmp_path: Path) -> None:
    first, second = tmp_path / "a_claim.yaml", tmp_path / "b_claim.yaml"
    first.write_text(_claim_variant("Register the claim"))
    second.write_text("# a copy\n\n" + _claim_variant("Record the claim"))
    (tmp_path / "fraud_check.yaml").write_bytes((PROCESSES / "fraud_check.yaml").read_bytes())
    result = runner.invoke(app, ["check", "--format", "json", str(tmp_path)])
    assert result.exit_code == 1, result.output
    report = json.loads(result.output)
    assert report["ok"] is False
    by_file = {entry["file"]: entry for entry in report["files"]}
    assert by_file[str(tmp_path / "fraud_check.yaml")]["ok"] is True
    where = f"{first}:2 and {second}:4"
    for file, line in ((first, 2), (second, 4)):
        entry = by_file[str(file)]
        assert entry["ok"] is False
        [problem] = entry["problems"]
        assert (problem["code"], problem["severity"]) == ("E-VERSION", "error")
        assert (problem["file"], problem["line"], problem["path"]) == (str(file), line, "id")
        assert f"process 'claim' version 1 is defined in {where}" in problem["message"]
    text = runner.invoke(app, ["check", str(tmp_path)])
    assert text.exit_code == 1
    assert f"{second}:4:5: error: process 'claim' version 1 is defined in {where}" in text.output
    assert "3 file(s) checked, 2 with errors" in text.output


def test_check_accepts_a_definition_beside_the_bpmn_compiled_from_it(tmp_path: Path) -> None:
    """Deploying the same definition twice is a no-op, so it is no conflict; a file named
    twice on the command line is checked once."""
    for name in ("claim.yaml", "fraud_check.yaml"):
        (tmp_path / name).write_bytes((PROCESSES / name).read_bytes())
    compiled = runner.invoke(
        app, ["compile", str(tmp_path / "claim.yaml"), "-o", str(tmp_path / "claim.bpmn")]
    )
    assert compiled.exit_code == 0, compiled.output
    result = runner.invoke(app, ["check", str(tmp_path), str(tmp_path / "claim.yaml")])
    assert result.exit_code == 0, result.output
    assert "3 file(s) checked, 0 with errors" in result.output
    bpmn = tmp_path / "claim.bpmn"
    bpmn.write_text(bpmn.read_text().replace('name="Register claim"', 'name="Register"'))
    result = runner.invoke(app, ["check", str(tmp_path)])
    assert result.exit_code == 1
    assert f"{bpmn}:3: error: process 'claim' version 1 is defined in {bpmn}:3 and " in (
        result.output
    )


def test_check_reports_every_problem_of_a_bpmn_file_at_once(tmp_path: Path) -> None:
    bad = tmp_path / "bad.bpmn"
    bad.write_text(
        '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d">\n'
        '<bpmn:process id="p" isExecutable="true">\n'
        '<bpmn:startEvent id="Start"/>\n'
        '<bpmn:exclusiveGateway id="g"/>\n'
        '<bpmn:endEvent id="End"/>\n'
        '<bpmn:sequenceFlow id="f0" sourceRef="Start" targetRef="g"/>\n'
        '<bpmn:sequenceFlow id="f1" sourceRef="g" targetRef="End"/>\n'
        '<bpmn:sequenceFlow id="f2" sourceRef="g" targetRef="End"/>\n'
        '<bpmn:sequenceFlow id="f3" sourceRef="g" targetRef="End">\n'
        "<bpmn:conditionExpression>open(x)</bpmn:conditionExpression></bpmn:sequenceFlow>\n"
        "</bpmn:process>\n</bpmn:definitions>\n"
    )
    result = runner.invoke(app, ["check", "--format", "json", str(bad)])
    assert result.exit_code == 1
    [entry] = json.loads(result.output)["files"]
    found = [(p["line"], p["element_id"], p["code"]) for p in entry["problems"]]
    assert found == [
        (3, "Start", "B012"),
        (5, "End", "B012"),
        (7, "f1", "B013"),
        (8, "f2", "B013"),
        (10, "f3", "B003"),
    ]


# -- help, --version and the README's check example (issue points 11 and 12) ---------------------

COMMANDS = ["check", "compile", "show", "demo", "lifecycle", "simulate"]


def _help(*args: str) -> str:
    result = runner.invoke(app, [*args, "--help"])
    assert result.exit_code == 0, result.output
    return result.output


def test_help_has_no_type_placeholders_and_flags_take_no_value() -> None:
    for command in ["", *COMMANDS]:
        text = _help(*([command] if command else []))
        for placeholder in ("<bool>", "<list[", "<text|json>", "<path>", "<str>", "<int", "{"):
            assert placeholder not in text, (command, text)
        assert re.search(r"^  --help +Show this message and exit\.$", text, re.M), text


def test_help_shows_metavars_that_say_what_to_type() -> None:
    text = _help("check")
    assert "Usage: caseloom check [OPTIONS] PATHS...\n" in text
    assert re.search(r"^  PATHS\.\.\. +Definition files or folders\.  \[required\]$", text, re.M)
    assert re.search(r"^  --format \[text\|json\] +Output format\.  \[default: text\]$", text, re.M)
    assert re.search(r"^  -o, --output FILE +BPMN file to write\.$", _help("compile"), re.M)
    demo = _help("demo")
    assert re.search(r"^  --db FILE +SQLite file", demo, re.M)
    assert re.search(r"^  --quiet +Print only the summary\.$", demo, re.M)


def test_help_on_a_terminal_uses_panels_without_type_placeholders(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(cli, "_stdout_is_terminal", lambda: True)
    monkeypatch.setenv("COLUMNS", "100")
    text = _help("check")
    assert "╭─ Arguments" in text and "╭─ Options" in text
    assert "<bool>" not in text and "<list[" not in text
    assert re.search(r"--format +\[text\|json\] +Output format\. \[default: text\]", text)
    assert re.search(r"│ +--help +Show this message and exit\. +│", text)
    assert all(len(line) <= 100 for line in text.splitlines())


def test_top_level_help_describes_every_command() -> None:
    description = str(app.info.help)
    assert " ".join(description.split()) in " ".join(_help().split())
    registered = [
        info.name or getattr(info.callback, "__name__", "") for info in app.registered_commands
    ]
    assert sorted(registered) == sorted(COMMANDS)
    for command in COMMANDS:
        assert command in description.lower(), (command, description)


def test_version_prints_the_package_version_and_exits_0() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0, result.output
    assert result.output == f"caseloom {metadata.version('caseloom')}\n"
    assert "--version" in _help()


def _piped_help(*args: str, columns: str | None = None) -> str:
    """``caseloom ARGS --help`` in a subprocess whose stdout is a pipe, not a terminal."""
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "TERMINAL_WIDTH")}
    if columns is not None:
        env["COLUMNS"] = columns
    done = subprocess.run(
        [sys.executable, "-c", "from engine.cli import app; app(prog_name='caseloom')", *args],
        capture_output=True,  # stdout is a pipe, not a terminal
        stdin=subprocess.DEVNULL,
        text=True,
        env=env,
        cwd=ROOT,
        check=True,
    )
    return done.stdout


def test_help_in_a_pipe_is_not_squeezed_into_80_columns() -> None:
    text = _piped_help("--help")
    long_line = (
        "compile    Compile a YAML definition to BPMN 2.0 (with diagram) for bpmn.io / Camunda "
        "Modeler."
    )
    assert len(long_line) > 80
    assert f"  {long_line}" in text.splitlines()
    assert "╭" not in text and "\x1b[" not in text  # plain text in pipes and logs
    # COLUMNS, when set, still decides
    narrow = _piped_help("--help", columns="60")
    assert all(len(line) <= 60 for line in narrow.splitlines())


def _fenced_blocks(markdown: str) -> list[str]:
    blocks: list[str] = []
    current: list[str] | None = None
    for line in markdown.splitlines(keepends=True):
        if line.startswith("```"):
            if current is None:
                current = []
            else:
                blocks.append("".join(current))
                current = None
        elif current is not None:
            current.append(line)
    return blocks


def test_readme_shows_what_check_prints_for_examples_bad_yaml(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    readme = (ROOT / "README.md").read_text()
    assert "caseloom check examples/bad.yaml --format json" in readme
    [shown] = [block for block in _fenced_blocks(readme) if "examples/bad.yaml:" in block]
    monkeypatch.chdir(ROOT)
    result = runner.invoke(app, ["check", "examples/bad.yaml"])
    assert result.exit_code == 1
    assert result.output == shown


def test_examples_bad_yaml_shows_several_kinds_of_mistakes_at_once() -> None:
    result = runner.invoke(app, ["check", "--format", "json", str(ROOT / "examples" / "bad.yaml")])
    assert result.exit_code == 1
    problems = json.loads(result.output)["files"][0]["problems"]
    assert len(problems) >= 5
    assert len({p["code"] for p in problems}) >= 4  # schema, durations, calendar, condition ...
    assert all(p["line"] and p["column"] and p["path"] for p in problems)
