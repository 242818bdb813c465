"""The example processes in processes/ are valid and do what their names say."""

from __future__ import annotations

from pathlib import Path

import pytest

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
