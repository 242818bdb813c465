"""Engine façade: statuses, assignment and the status card (SPEC S1-S7, V6, V7)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from conftest import START, assert_refused, at, claim_in_progress, open_action

from engine import CaseStatus, Engine, HoldKind, InvalidTransition, ManualClock

# -- S1 ---------------------------------------------------------------------------------------


def test_S1_start_work_assigns_and_sets_in_progress(engine: Engine, clock: ManualClock) -> None:
    case = engine.create_case("claim", by="ann", submit=True)
    clock.advance(timedelta(minutes=3))
    started = engine.start_work(case.ref, by="bob")
    assert started.status is CaseStatus.IN_PROGRESS
    assert started.assignee == "bob"
    assert started.status_set_by == "bob"
    assert started.status_set_at == at(2, 9, 3)
    assert engine.case(case.ref) == started
    assert [c.ref for c in engine.inbox("bob")] == [case.ref]


@pytest.mark.parametrize("status", [CaseStatus.IN_PROGRESS, "In Progress"])
def test_S1_user_may_set_in_progress_explicitly(engine: Engine, status: CaseStatus | str) -> None:
    case = engine.create_case("claim", by="ann", submit=True)
    engine.assign(case.ref, "bob", by="ann")
    result = engine.set_status(case.ref, status, by="bob")
    assert result.status is CaseStatus.IN_PROGRESS
    assert result.assignee == "bob"
    assert result.status_set_by == "bob"


def test_S1_start_work_on_a_case_in_progress_is_refused(engine: Engine) -> None:
    case = claim_in_progress(engine)
    assert_refused(
        engine,
        case.ref,
        InvalidTransition,
        "start_work",
        lambda: engine.start_work(case.ref, by="carol"),
    )


# -- S2 ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("worked", [timedelta(seconds=10), timedelta(minutes=30)])
def test_S2_unassigning_puts_the_case_back_to_to_do(
    engine: Engine, clock: ManualClock, worked: timedelta
) -> None:
    case = claim_in_progress(engine)
    clock.advance(worked)
    result = engine.unassign(case.ref, by="bob")
    assert result.status is CaseStatus.TO_DO
    assert result.assignee is None
    assert result.status_set_by == "bob"
    assert result.status_set_at == START + worked
    assert engine.inbox("bob") == []


@pytest.mark.parametrize("worked", [timedelta(seconds=10), timedelta(minutes=30)])
def test_S2_transfer_to_another_resource_is_to_do_until_they_start(
    engine: Engine, clock: ManualClock, worked: timedelta
) -> None:
    case = claim_in_progress(engine)
    clock.advance(worked)
    transferred = engine.assign(case.ref, "carol", by="bob")
    assert transferred.status is CaseStatus.TO_DO
    assert transferred.assignee == "carol"
    assert [c.ref for c in engine.inbox("carol")] == [case.ref]
    assert engine.inbox("bob") == []
    started = engine.start_work(case.ref, by="carol")
    assert (started.status, started.assignee) == (CaseStatus.IN_PROGRESS, "carol")


@pytest.mark.parametrize("worked", [timedelta(seconds=10), timedelta(minutes=30)])
def test_S2_return_to_queue_puts_the_case_back_to_to_do(
    engine: Engine, clock: ManualClock, worked: timedelta
) -> None:
    case = claim_in_progress(engine)
    clock.advance(worked)
    result = engine.return_to_queue(case.ref, by="bob")
    assert result.status is CaseStatus.TO_DO
    assert result.assignee is None
    assert engine.inbox("bob") == []


@pytest.mark.parametrize("status", [CaseStatus.TO_DO, "To Do"])
def test_S2_user_may_set_to_do_by_hand(engine: Engine, status: CaseStatus | str) -> None:
    case = claim_in_progress(engine)
    result = engine.set_status(case.ref, status, by="bob", reason="lunch")
    assert result.status is CaseStatus.TO_DO
    assert result.status_reason == "lunch"
    assert result.status_set_by == "bob"


def test_S2_assigning_a_to_do_case_keeps_it_to_do(engine: Engine) -> None:
    case = engine.create_case("claim", by="ann", submit=True)
    result = engine.assign(case.ref, "bob", by="ann")
    assert (result.status, result.assignee) == (CaseStatus.TO_DO, "bob")


# -- S3 / S4 / S5 -------------------------------------------------------------------------------


def _claim_at_payment(engine: Engine) -> str:
    """A claim (amount 500: no assessment) whose robot payment action is open."""
    case = claim_in_progress(engine, amount=500)
    engine.complete_action(open_action(engine, case.ref, "register").ref, by="bob")
    return case.ref


def test_S3_a_robot_refusing_an_action_puts_it_back_to_to_do(engine: Engine) -> None:
    ref = _claim_at_payment(engine)
    pay = open_action(engine, ref, "pay")
    started = engine.start_action(pay.ref, by="robot-7")
    assert (started.status, started.assignee) == (CaseStatus.IN_PROGRESS, "robot-7")
    refused = engine.refuse_action(pay.ref, by="robot-7")
    assert refused.status is CaseStatus.TO_DO
    assert refused.assignee is None
    taken = engine.start_action(pay.ref, by="dora")
    assert (taken.status, taken.assignee) == (CaseStatus.IN_PROGRESS, "dora")


def test_S4_a_failing_action_puts_the_case_back_to_to_do_with_the_reason(
    engine: Engine, clock: ManualClock
) -> None:
    ref = _claim_at_payment(engine)
    pay = open_action(engine, ref, "pay")
    engine.start_action(pay.ref, by="robot-7")
    clock.advance(timedelta(minutes=2))
    failed = engine.fail_action(pay.ref, error="bank API timeout")
    assert failed.status is CaseStatus.TO_DO
    assert failed.assignee is None
    case = engine.case(ref)
    assert case.status is CaseStatus.TO_DO
    assert case.status_reason is not None
    assert pay.ref in case.status_reason
    assert case.status_set_at == at(2, 9, 2)


def test_S4_a_failure_while_to_do_still_records_the_reason(engine: Engine) -> None:
    case = engine.create_case("claim", by="ann", submit=True)
    register = open_action(engine, case.ref, "register")
    engine.fail_action(register.ref, error="OCR failed")
    after = engine.case(case.ref)
    assert after.status is CaseStatus.TO_DO
    assert after.status_reason is not None and register.ref in after.status_reason


@pytest.mark.parametrize(
    "remedy",
    [
        lambda e, ref: e.set_status(ref, CaseStatus.IN_PROGRESS, by="owner"),
        lambda e, ref: e.hold(ref, HoldKind.PAUSED, by="owner"),
        lambda e, ref: e.launch_action(ref, "second_opinion", by="owner"),
        lambda e, ref: e.start_action(open_action(e, ref, "pay").ref, by="owner"),
    ],
    ids=["in_progress", "hold", "launch_action", "restart_action"],
)
def test_S5_after_a_problem_the_owner_may_act(
    engine: Engine, remedy: Callable[[Engine, str], object]
) -> None:
    ref = _claim_at_payment(engine)
    engine.fail_action(open_action(engine, ref, "pay").ref, error="bank API timeout")
    before = engine.timeline(ref, include_related=True)
    remedy(engine, ref)
    assert len(engine.timeline(ref, include_related=True)) > len(before)


def test_S5_set_in_progress_after_a_problem_records_the_owner(engine: Engine) -> None:
    ref = _claim_at_payment(engine)
    engine.fail_action(open_action(engine, ref, "pay").ref, error="bank API timeout")
    result = engine.set_status(ref, CaseStatus.IN_PROGRESS, by="bob")
    assert result.status is CaseStatus.IN_PROGRESS
    assert (result.status_set_by, result.status_reason) == ("bob", "manual")


# -- S6 / V7 ------------------------------------------------------------------------------------


def test_S6_status_change_records_by_reason_and_date(engine: Engine, clock: ManualClock) -> None:
    case = engine.create_case("claim", by="ann", submit=True)
    clock.advance(timedelta(minutes=10))
    result = engine.set_status(case.ref, CaseStatus.IN_PROGRESS, by="bob", reason="urgent")
    assert (result.status_set_by, result.status_reason, result.status_set_at) == (
        "bob",
        "urgent",
        at(2, 9, 10),
    )
    assert (result.updated_by, result.updated_at) == ("bob", at(2, 9, 10))


def test_S6_manual_status_change_without_reason_says_manual(engine: Engine) -> None:
    case = claim_in_progress(engine)
    assert engine.set_status(case.ref, CaseStatus.TO_DO, by="bob").status_reason == "manual"


def test_S6_assignment_updates_last_updated_but_not_the_status_card(
    engine: Engine, clock: ManualClock
) -> None:
    case = engine.create_case("claim", by="ann", submit=True)
    clock.advance(timedelta(minutes=20))
    result = engine.assign(case.ref, "bob", by="carol")
    assert result.status is CaseStatus.TO_DO
    assert (result.status_set_by, result.status_set_at) == ("ann", START)
    assert (result.updated_by, result.updated_at) == ("carol", at(2, 9, 20))


def test_S6_every_status_change_is_in_the_timeline(engine: Engine, clock: ManualClock) -> None:
    case = claim_in_progress(engine)
    clock.advance(timedelta(minutes=5))
    engine.set_status(case.ref, CaseStatus.TO_DO, by="bob", reason="lunch")
    last = engine.timeline(case.ref)[-1]
    assert (last.by, last.at) == ("bob", at(2, 9, 5))
    assert last.details["from"] == "In Progress"
    assert last.details["to"] == "To Do"
    assert last.details["reason"] == "lunch"


def test_V7_status_card_shows_hold_and_clears_it_when_the_hold_ends(
    engine: Engine, clock: ManualClock
) -> None:
    case = claim_in_progress(engine)
    clock.advance(timedelta(hours=1))
    held = engine.hold(case.ref, "more_info", by="bob", reason="Customer documents")
    assert held.status is CaseStatus.WAITING
    assert held.hold_kind is HoldKind.MORE_INFO
    assert held.hold_reason == "Customer documents"
    assert held.hold_until is None
    assert (held.status_set_by, held.status_set_at) == ("bob", at(2, 10))
    assert held.status_reason
    clock.advance(timedelta(hours=1))
    back = engine.set_status(case.ref, CaseStatus.IN_PROGRESS, by="carol")
    assert back.hold_kind is None
    assert back.hold_reason is None
    assert (back.status_set_by, back.status_set_at) == ("carol", at(2, 11))
    assert (back.updated_by, back.updated_at) == ("carol", at(2, 11))


# -- S7 -----------------------------------------------------------------------------------------


def _draft(e: Engine) -> str:
    return e.create_case("claim", by="ann").ref


def _to_do(e: Engine) -> str:
    return e.create_case("claim", by="ann", submit=True).ref


def _in_progress(e: Engine) -> str:
    return claim_in_progress(e).ref


def _waiting(e: Engine) -> str:
    ref = claim_in_progress(e).ref
    e.hold(ref, HoldKind.PAUSED, by="bob")
    return ref


def _resolved(e: Engine) -> str:
    ref = claim_in_progress(e).ref
    e.resolve(ref, by="bob")
    return ref


def _cancelled(e: Engine) -> str:
    ref = claim_in_progress(e).ref
    e.cancel(ref, by="bob")
    return ref


Setup = Callable[[Engine], str]
Command = Callable[[Engine, str], object]

_REFUSED: list[tuple[Setup, str, Command]] = [
    (_draft, "start_work", lambda e, r: e.start_work(r, by="bob")),
    (_draft, "hold", lambda e, r: e.hold(r, HoldKind.PAUSED, by="bob")),
    (_draft, "resolve", lambda e, r: e.resolve(r, by="bob")),
    (_draft, "set_status", lambda e, r: e.set_status(r, CaseStatus.IN_PROGRESS, by="bob")),
    (_to_do, "resolve", lambda e, r: e.resolve(r, by="bob")),
    (_to_do, "reopen", lambda e, r: e.reopen(r, by="bob")),
    (_to_do, "set_status", lambda e, r: e.set_status(r, CaseStatus.RESOLVED, by="bob")),
    (_to_do, "set_status", lambda e, r: e.set_status(r, CaseStatus.WAITING, by="bob")),
    (_in_progress, "submit", lambda e, r: e.submit(r, by="bob")),
    (_in_progress, "reopen", lambda e, r: e.reopen(r, by="bob")),
    (_in_progress, "set_status", lambda e, r: e.set_status(r, CaseStatus.CLOSED, by="bob")),
    (_in_progress, "set_status", lambda e, r: e.set_status(r, CaseStatus.DRAFT, by="bob")),
    (_waiting, "hold", lambda e, r: e.hold(r, HoldKind.PAUSED, by="bob")),
    (_waiting, "start_work", lambda e, r: e.start_work(r, by="bob")),
    (_waiting, "resolve", lambda e, r: e.resolve(r, by="bob")),
    (_resolved, "start_work", lambda e, r: e.start_work(r, by="bob")),
    (_resolved, "hold", lambda e, r: e.hold(r, HoldKind.PAUSED, by="bob")),
    (_resolved, "set_status", lambda e, r: e.set_status(r, CaseStatus.IN_PROGRESS, by="bob")),
    (_resolved, "resolve", lambda e, r: e.resolve(r, by="bob")),
    (_cancelled, "start_work", lambda e, r: e.start_work(r, by="bob")),
    (_cancelled, "reopen", lambda e, r: e.reopen(r, by="bob")),
    (_cancelled, "cancel", lambda e, r: e.cancel(r, by="bob")),
    (_cancelled, "assign", lambda e, r: e.assign(r, "carol", by="bob")),
    (_cancelled, "set_status", lambda e, r: e.set_status(r, CaseStatus.TO_DO, by="bob")),
]


@pytest.mark.parametrize(
    ("setup", "command", "call"),
    _REFUSED,
    ids=[f"{s.__name__.strip('_')}-{c}-{i}" for i, (s, c, _) in enumerate(_REFUSED)],
)
def test_S7_undescribed_transitions_are_refused_and_change_nothing(
    shared_engine: Engine, setup: Setup, command: str, call: Command
) -> None:
    ref = setup(shared_engine)
    assert_refused(shared_engine, ref, InvalidTransition, command, lambda: call(shared_engine, ref))


# -- V6 -----------------------------------------------------------------------------------------


def test_V6_assign_reassign_unassign_and_assign_to_me(engine: Engine) -> None:
    case = engine.create_case("claim", by="ann", submit=True)
    assert engine.case(case.ref).assignee is None
    assert engine.assign(case.ref, "bob", by="ann").assignee == "bob"
    assert [c.ref for c in engine.inbox("bob")] == [case.ref]
    assert engine.assign(case.ref, "carol", by="ann").assignee == "carol"
    assert engine.inbox("bob") == []
    assert [c.ref for c in engine.inbox("carol")] == [case.ref]
    assert engine.assign(case.ref, "dave", by="dave").assignee == "dave"  # assign to me
    assert engine.unassign(case.ref, by="dave").assignee is None
    assert engine.inbox("dave") == []


def test_V6_assigning_a_waiting_case_keeps_it_waiting(engine: Engine) -> None:
    case = claim_in_progress(engine)
    engine.hold(case.ref, HoldKind.PAUSED, by="bob")
    result = engine.assign(case.ref, "carol", by="bob")
    assert (result.status, result.assignee) == (CaseStatus.WAITING, "carol")
    assert [c.ref for c in engine.responsibilities("carol")] == [case.ref]
    assert engine.responsibilities("bob") == []
