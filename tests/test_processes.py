"""The example processes in processes/ are valid and do what their names say."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from engine import CaseStatus, Engine, ManualClock
from engine.builder.loader import load_file

PROCESSES = Path(__file__).resolve().parents[1] / "processes"
FILES = sorted(p for p in PROCESSES.iterdir() if p.suffix in {".yaml", ".bpmn"})
IDS = {"claim", "fraud_check", "onboarding", "complaint"}


def test_at_least_one_example_is_written_directly_as_bpmn() -> None:
    assert any(p.suffix == ".bpmn" for p in FILES)
    assert len(FILES) >= 4


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_example_loads_without_errors_or_warnings(path: Path) -> None:
    result = load_file(path, known_processes=IDS)
    assert result.definition.id in IDS
    assert result.warnings == ()


def test_SC1_claim_has_a_fraud_check_subcase_step() -> None:
    model = load_file(PROCESSES / "claim.yaml").definition.model
    assert any(a.subcase == "fraud_check" for a in model.all_actions())
    assert "fraud_check" in model.settings.subcases


def test_onboarding_has_a_parallel_stage_and_robots() -> None:
    model = load_file(PROCESSES / "onboarding.yaml").definition.model
    assert any(s.parallel for s in model.stages)
    assert sum(a.robot for a in model.all_actions()) >= 2


def test_R2_H3_complaint_has_a_feedback_window_and_more_info_reasons() -> None:
    model = load_file(PROCESSES / "complaint.bpmn").definition.model
    assert model.settings.feedback_window is not None
    assert len(model.settings.more_info_reasons) >= 2


def _drive(engine: Engine, ref: str, data: dict[str, object]) -> None:
    """Work a case to the end of its flow: complete every To Do action, working sub-cases."""
    if engine.case(ref).status is CaseStatus.TO_DO:
        engine.start_work(ref, by="ann")
    for _ in range(50):
        todo = [a for a in engine.actions(ref) if a.status is CaseStatus.TO_DO]
        if not todo:
            break
        engine.complete_action(todo[0].ref, by="ann", data=data)
    for sub in engine.case(ref).subcases:
        if engine.case(sub).status.is_open:
            _drive(engine, sub, data)
            engine.resolve(sub, by="ann")
    if any(a.status is CaseStatus.TO_DO for a in engine.actions(ref)):
        _drive(engine, ref, data)


@pytest.mark.parametrize(
    ("process", "data"),
    [
        ("claim", {"amount": 8000, "risk_score": 80}),
        ("claim", {"amount": 500}),
        ("fraud_check", {"risk_score": 90}),
        ("onboarding", {"remote": False}),
        ("complaint", {"severity": 3}),
        ("complaint", {"severity": 1}),
    ],
)
def test_every_example_runs_a_case_to_closed(process: str, data: dict[str, object]) -> None:
    engine = Engine("sqlite:///:memory:", clock=ManualClock(datetime(2026, 3, 2, 9, tzinfo=UTC)))
    for path in FILES:
        engine.deploy(path)
    case = engine.create_case(process, by="ann", data=data, submit=True, calendar=None)
    _drive(engine, case.ref, data)
    actions = engine.actions(case.ref)
    assert actions and all(not a.status.is_open for a in actions)
    assert engine.timeline(case.ref, kinds=["flow_finished"])
    engine.resolve(case.ref, by="ann")
    engine.clock.advance(timedelta(days=10))  # type: ignore[attr-defined]
    engine.tick()
    assert engine.case(case.ref).status is CaseStatus.CLOSED
