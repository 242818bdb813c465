"""What a case shows (V1, V2, V8, V17) through the public snapshots."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from engine import CaseStatus, Engine, ManualClock

PROCESSES = Path(__file__).resolve().parents[1] / "processes"


@pytest.fixture()
def eng() -> Engine:
    engine = Engine("sqlite:///:memory:", clock=ManualClock(datetime(2026, 3, 2, 9, tzinfo=UTC)))
    for name in ("fraud_check.yaml", "claim.yaml", "complaint.bpmn"):
        engine.deploy(PROCESSES / name)
    return engine


def test_V1_context_line_is_customer_contract_service_process(eng: Engine) -> None:
    case = eng.create_case("claim", by="ann")
    assert case.context == "Acme Insurance - Motor - Claims - Insurance claim"
    other = eng.create_case("claim", by="ann", customer="Globex", contract="Fleet")
    assert other.context == "Globex - Fleet - Claims - Insurance claim"


def test_V2_title_defaults_to_the_process_name_and_sits_beside_the_reference(eng: Engine) -> None:
    case = eng.create_case("claim", by="ann")
    assert (case.ref, case.title) == ("C-1", "Insurance claim")
    titled = eng.create_case("claim", by="ann", title="Windscreen, AB-123-CD")
    assert titled.title == "Windscreen, AB-123-CD" and titled.ref == "C-2"


def test_V8_case_lists_its_actions_and_its_subcases_apart(eng: Engine) -> None:
    case = eng.create_case("claim", by="ann", data={"amount": 8000}, submit=True)
    eng.start_work(case.ref, by="bob")
    eng.complete_action(eng.actions(case.ref)[0].ref, by="bob")
    case = eng.case(case.ref)
    assert [(a.action_type, a.status) for a in eng.actions(case.ref)] == [
        ("fraud_check", CaseStatus.IN_PROGRESS),
        ("register", CaseStatus.RESOLVED),
    ]
    [summary] = eng.subcases(case.ref)
    assert case.subcases == (summary.ref,) == ("C-1-1",)
    assert summary.status is CaseStatus.TO_DO
    assert summary.actions_count == len(summary.actions) == 1
    assert summary.actions[0].action_type == "screen_history"


def test_V17_sop_url_of_the_case_and_of_an_action(eng: Engine) -> None:
    case = eng.create_case("complaint", by="ann", data={"severity": 3}, submit=True)
    assert case.sop_url == "https://intranet.example/sop/complaints"
    eng.start_work(case.ref, by="bob")
    for _ in range(2):
        todo = [a for a in eng.actions(case.ref) if a.status is CaseStatus.TO_DO]
        eng.complete_action(todo[0].ref, by="bob")
    [investigate] = [a for a in eng.actions(case.ref) if a.action_type == "investigate"]
    assert investigate.sop_url == "https://intranet.example/sop/complaints#investigate"
