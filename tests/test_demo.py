"""``caseloom demo``: the claim of processes/claim.yaml end to end, on a SQLite file."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from engine import CaseStatus, Engine, ManualClock
from engine.cli import app
from engine.demo import DemoResult, run_demo, statuses_text

ROOT = Path(__file__).resolve().parents[1]
PROCESSES = ROOT / "processes"
runner = CliRunner()

STORY = [
    CaseStatus.TO_DO,
    CaseStatus.IN_PROGRESS,
    CaseStatus.WAITING,
    CaseStatus.TO_DO,
    CaseStatus.IN_PROGRESS,
    CaseStatus.RESOLVED,
    CaseStatus.CLOSED,
]
CASE_LINE = re.compile(r"^ {4}case {5}(C-\d+) {2}(\S+(?: \S+)?)", re.MULTILINE)


@dataclass(frozen=True)
class Run:
    db: Path
    output: str


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """One full demo through the command line, shared by the tests that read its output."""
    db = tmp_path_factory.mktemp("demo") / "nested" / "demo.sqlite"
    result = runner.invoke(app, ["demo", "--db", str(db), "--processes", str(PROCESSES)])
    assert result.exit_code == 0, result.output
    return Run(db, result.output)


def _lines_after(output: str, marker: str, count: int) -> list[str]:
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if marker in line)
    return lines[start + 1 : start + 1 + count]


def test_demo_deploys_every_example_definition(demo_run: Run) -> None:
    deployed = re.findall(r"^deployed {2}(\w+)", demo_run.output, re.MULTILINE)
    assert sorted(deployed) == ["claim", "complaint", "fraud_check", "onboarding"]


def test_demo_case_goes_through_the_statuses_in_order(demo_run: Run) -> None:
    shown = [CaseStatus(status) for _, status in CASE_LINE.findall(demo_run.output)]
    in_order = [s for i, s in enumerate(shown) if i == 0 or shown[i - 1] is not s]
    assert in_order == STORY
    assert {ref for ref, _ in CASE_LINE.findall(demo_run.output)} == {"C-1"}


def test_H4_H5_demo_shows_the_paused_due_text_then_the_moved_due(demo_run: Run) -> None:
    # held Mon 10:30 with Wed 17:00 due: 6h30 + 8h + 8h of working time left
    after_hold = _lines_after(demo_run.output, 'hold("C-1"', 2)
    assert "Waiting" in after_hold[0] and "more_info (Customer documents)" in after_hold[0]
    assert "[paused]  Due: paused 22h 30m before due date" in after_hold[1]
    # a day later the text has not moved: the SLA clock is stopped
    reread = _lines_after(demo_run.output, 'case("C-1")', 2)
    assert "Due: paused 22h 30m before due date" in reread[1]
    # the reply on Tue 14:00 resumes it: 22h30 of working time later is Fri 12:30
    after_reply = _lines_after(demo_run.output, 'reply("C-1"', 2)
    assert "To Do" in after_reply[0] and "assignee: bob" in after_reply[0]
    assert "highlighted" in after_reply[0]
    assert "Due: 2026-03-06 12:30 UTC (on time)" in after_reply[1]


def test_H8_demo_moves_the_case_between_inbox_and_responsibilities(demo_run: Run) -> None:
    lists = [line for line in demo_run.output.splitlines() if "lists " in line]
    assert "inbox('bob') = []  responsibilities('bob') = ['C-1']" in lists[0]
    assert "inbox('bob') = ['C-1']  responsibilities('bob') = []" in lists[1]


def test_A2_H2_demo_shows_launch_refused_while_waiting_then_an_ad_hoc_action(
    demo_run: Run,
) -> None:
    assert "refused  InvalidTransition: case C-1 is Waiting: cannot launch_action" in (
        demo_run.output
    )
    assert re.search(r"A-3 +To Do +stage 3 +Second opinion .*\[ad hoc\]", demo_run.output)


def test_A3_demo_lists_actions_in_a3_order(demo_run: Run) -> None:
    final = _lines_after(demo_run.output, 'complete_action("A-5"', 7)[2:]
    refs = [line.split()[1 if "actions" in line else 0] for line in final]
    # all Resolved: by due date, then stage, then most recently started first
    assert refs == ["A-1", "A-2", "A-3", "A-5", "A-4"]


def test_R4_demo_tick_closes_the_case_after_the_feedback_window_once(demo_run: Run) -> None:
    assert "fired    feedback_window C-1" in demo_run.output
    assert "fired    0 timers" in demo_run.output
    timeline = demo_run.output.split("timeline(")[1]
    kinds = re.findall(r"^ {4}\w{3} \d\d-\d\d \d\d:\d\d  \S+ +(\w+)", timeline, re.MULTILINE)
    assert kinds[0] == "created" and kinds[-1] == "closed"
    assert {"submitted", "hold", "reply", "action_launched", "flow_finished", "resolved"} <= set(
        kinds
    )


def test_demo_output_stays_short(demo_run: Run) -> None:
    assert len(demo_run.output.splitlines()) <= 120
    assert demo_run.output.rstrip().splitlines()[-2].endswith(statuses_text(STORY))


def test_demo_database_is_durable_for_a_new_engine(demo_run: Run) -> None:
    assert demo_run.db.is_file()
    clock = ManualClock(datetime(2026, 3, 6, 9, 0, tzinfo=UTC))
    with Engine(f"sqlite:///{demo_run.db}", clock=clock) as engine:
        case = engine.case("C-1")
        assert case.status is CaseStatus.CLOSED
        assert case.first_resolved_by == "bob"
        assert case.data == {"amount": 3000, "prior_claims": 0, "approved": 2800}
        assert [a.action_type for a in engine.actions("C-1")] == [
            "register",
            "assess",
            "second_opinion",
            "notify",
            "pay",
        ]
        assert engine.definition("onboarding").version == 1


def test_demo_recreates_its_database_and_quiet_prints_the_summary(tmp_path: Path) -> None:
    db = tmp_path / "demo.sqlite"
    first = run_demo(db, processes=PROCESSES, echo=lambda _: None)
    lines: list[str] = []
    second = run_demo(db, processes=PROCESSES, echo=lines.append, quiet=True)
    assert isinstance(second, DemoResult)
    assert first.case_ref == second.case_ref == "C-1"  # a fresh database, not a second case
    assert list(second.statuses) == STORY
    assert second.reread.status is CaseStatus.CLOSED
    assert second.events == first.events > 0
    assert lines == [
        f"demo: case C-1: {statuses_text(STORY)}",
        f"      {second.events} timeline events in {db}",
    ]


def test_demo_reports_an_invalid_definition_and_exits_1(tmp_path: Path) -> None:
    folder = tmp_path / "processes"
    folder.mkdir()
    (folder / "bad.yaml").write_text("id: bad\nname: Bad\nversion: 1\nstages: []\n")
    result = runner.invoke(
        app, ["demo", "--db", str(tmp_path / "x.sqlite"), "--processes", str(folder)]
    )
    assert result.exit_code == 1
    assert "bad.yaml" in result.output
