"""Engine façade: case creation and submission (SPEC C1-C4; API.md "SLA start")."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from conftest import START, assert_refused, at, claim_in_progress, deploy_yaml

from engine import CaseStatus, Engine, InvalidTransition, ManualClock


def test_C1_manual_creation_records_context_who_when_how(
    engine: Engine, clock: ManualClock
) -> None:
    clock.advance(timedelta(minutes=7))
    case = engine.create_case("claim", by="ann", title="Dented bumper")
    assert case.process == "claim"
    assert case.version == 1
    assert case.title == "Dented bumper"
    assert (case.customer, case.contract, case.service) == ("Acme Insurance", "Motor", "Claims")
    assert case.created_by == "ann"
    assert case.created_at == at(2, 9, 7)
    assert case.created_how == "manual"
    assert case.parent is None
    assert case.subcases == ()


def test_C1_context_given_at_creation_wins_over_the_definition(engine: Engine) -> None:
    case = engine.create_case(
        "claim", by="ann", customer="Zenith", contract="Home", service="Glass"
    )
    assert (case.customer, case.contract, case.service) == ("Zenith", "Home", "Glass")
    assert engine.case(case.ref).customer == "Zenith"


@pytest.mark.parametrize("how", ["email", "api", "schedule", "flow"])
def test_C1_how_the_case_was_created_is_recorded(shared_engine: Engine, how: str) -> None:
    engine = shared_engine
    case = engine.create_case("claim", by="ann", how=how, submit=True)
    assert case.created_how == how
    assert engine.case(case.ref).created_how == how


def test_C1_each_case_gets_its_own_reference(engine: Engine) -> None:
    refs = {engine.create_case("claim", by="ann").ref for _ in range(3)}
    assert len(refs) == 3


def test_C2_a_case_created_by_hand_is_draft_without_sla_or_actions(engine: Engine) -> None:
    case = engine.create_case("claim", by="ann", data={"amount": 5000})
    assert case.status is CaseStatus.DRAFT
    assert case.due is None
    assert case.assignee is None
    assert case.hold_kind is None
    assert case.data == {"amount": 5000}
    assert engine.actions(case.ref) == []
    assert engine.inbox("ann") == []
    assert engine.responsibilities("ann") == []


def test_C2_draft_stays_draft_as_time_passes(engine: Engine, clock: ManualClock) -> None:
    case = engine.create_case("claim", by="ann")
    clock.advance(timedelta(days=10))
    assert engine.tick() == []
    assert engine.case(case.ref).status is CaseStatus.DRAFT
    assert engine.case(case.ref).due is None


def test_C3_submission_sets_to_do_and_starts_the_sla(engine: Engine) -> None:
    draft = engine.create_case("claim", by="ann", data={"amount": 5000})
    case = engine.submit(draft.ref, by="carl")
    assert case.status is CaseStatus.TO_DO
    assert case.assignee is None
    # 3 working days from Monday 09:00 end at Wednesday's close of business.
    assert case.due == at(4, 17)
    assert case.due_state == "on time"
    assert case.due_text == "Due: 2026-03-04 17:00 UTC (on time)"
    assert case.status_set_by == "carl"
    assert case.status_set_at == START
    actions = engine.actions(case.ref)
    assert [(a.action_type, a.stage, a.status) for a in actions] == [
        ("register", 1, CaseStatus.TO_DO)
    ]
    # register's own rule: 4 working hours from Monday 09:00.
    assert actions[0].due == at(2, 13)


def test_C3_submit_true_at_creation_gives_the_same_as_create_then_submit(
    engine: Engine,
) -> None:
    case = engine.create_case("claim", by="ann", data={"amount": 5000}, submit=True)
    assert case.status is CaseStatus.TO_DO
    assert case.due == at(4, 17)
    actions = engine.actions(case.ref)
    assert [(a.action_type, a.due) for a in actions] == [("register", at(2, 13))]


def test_C3_sla_counts_from_submission_not_creation(engine: Engine, clock: ManualClock) -> None:
    draft = engine.create_case("claim", by="ann")
    clock.set(at(3, 9))  # Tuesday 09:00
    case = engine.submit(draft.ref, by="ann")
    assert case.due == at(5, 17)  # Thursday close of business
    assert engine.actions(case.ref)[0].due == at(3, 13)


def test_C3_sla_without_calendar_is_wall_clock(
    engine: Engine, clock: ManualClock, tmp_path: Path
) -> None:
    deploy_yaml(
        engine,
        tmp_path,
        "id: quick\nname: Quick\nversion: 1\ndue: 2d\n"
        "stages:\n  - name: Only\n    actions:\n      - {id: do_it, title: Do it, due: 4h}\n",
    )
    clock.set(at(6, 15))  # Friday 15:00
    case = engine.create_case("quick", by="ann", submit=True)
    assert case.due == at(8, 15)  # Sunday 15:00: weekends count without a calendar
    assert engine.actions(case.ref)[0].due == at(6, 19)


def test_C3_submitting_twice_is_refused(engine: Engine) -> None:
    case = engine.create_case("claim", by="ann", submit=True)
    assert_refused(
        engine, case.ref, InvalidTransition, "submit", lambda: engine.submit(case.ref, by="ann")
    )


def test_C3_submitting_a_case_in_progress_is_refused(engine: Engine) -> None:
    case = claim_in_progress(engine)
    assert_refused(
        engine, case.ref, InvalidTransition, "submit", lambda: engine.submit(case.ref, by="ann")
    )


def test_C4_a_manual_case_is_its_own_original_request(engine: Engine, clock: ManualClock) -> None:
    clock.advance(timedelta(hours=1))
    case = engine.create_case("claim", by="ann")
    assert case.original_request_at == at(2, 10)
    clock.advance(timedelta(hours=1))
    assert engine.submit(case.ref, by="ann").original_request_at == at(2, 10)


def test_C4_case_created_from_a_closed_case_keeps_its_original_request_date(
    engine: Engine, clock: ManualClock
) -> None:
    first = claim_in_progress(engine)
    engine.resolve(first.ref, by="bob")
    clock.advance(timedelta(days=3))
    engine.tick()
    assert engine.case(first.ref).status is CaseStatus.CLOSED
    clock.advance(timedelta(hours=2))
    new = engine.reply(first.ref, body="one more thing", sender="cust@example.com")
    assert new.ref != first.ref
    assert new.original_request_at == START
    assert new.created_how == "email"
    assert new.created_at == START + timedelta(days=3, hours=2)
    assert new.created_by == "cust@example.com"
