"""Engine façade: resolving, the feedback window, closing, cancelling (SPEC R1-R5)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from conftest import (
    START,
    assert_refused,
    at,
    claim_in_progress,
    deploy_yaml,
    open_action,
    state_of,
)

from engine import CaseStatus, Engine, HoldKind, InvalidTransition, ManualClock

_NO_WINDOW = (
    "id: quick\nname: Quick\nversion: 1\ndue: 2d\n"
    "stages:\n  - name: Only\n    actions:\n      - {id: do_it, title: Do it}\n"
)


# -- R1 -----------------------------------------------------------------------------------------


def test_R1_resolve_marks_resolved_and_closes_open_actions(
    engine: Engine, clock: ManualClock
) -> None:
    case = claim_in_progress(engine)
    engine.complete_action(open_action(engine, case.ref, "register").ref, by="bob")
    engine.launch_action(case.ref, "second_opinion", by="bob")
    clock.advance(timedelta(hours=1))
    resolved = engine.resolve(case.ref, by="bob")
    assert resolved.status is CaseStatus.RESOLVED
    assert (resolved.first_resolved_by, resolved.first_resolved_at) == ("bob", at(2, 10))
    assert (resolved.status_set_by, resolved.status_set_at) == ("bob", at(2, 10))
    assert resolved.assignee == "bob"
    assert sorted((a.action_type, a.status) for a in engine.actions(case.ref)) == [
        ("assess", CaseStatus.CLOSED),
        ("register", CaseStatus.RESOLVED),
        ("second_opinion", CaseStatus.CLOSED),
    ]


def _draft(e: Engine) -> str:
    return e.create_case("claim", by="ann").ref


def _to_do(e: Engine) -> str:
    return e.create_case("claim", by="ann", submit=True).ref


def _waiting(e: Engine) -> str:
    ref = claim_in_progress(e).ref
    e.hold(ref, HoldKind.MORE_INFO, by="bob", reason="Customer documents")
    return ref


def _resolved(e: Engine) -> str:
    ref = claim_in_progress(e).ref
    e.resolve(ref, by="bob")
    return ref


def _cancelled(e: Engine) -> str:
    ref = claim_in_progress(e).ref
    e.cancel(ref, by="bob")
    return ref


@pytest.mark.parametrize("setup", [_draft, _to_do, _waiting, _resolved, _cancelled])
def test_R1_resolve_only_from_in_progress(
    shared_engine: Engine, setup: Callable[[Engine], str]
) -> None:
    eng = shared_engine
    ref = setup(eng)
    assert_refused(eng, ref, InvalidTransition, "resolve", lambda: eng.resolve(ref, by="bob"))


def test_R1_resolve_is_refused_from_closed(engine: Engine, clock: ManualClock) -> None:
    ref = _resolved(engine)
    clock.advance(timedelta(days=2))
    engine.tick()
    assert engine.case(ref).status is CaseStatus.CLOSED
    assert_refused(engine, ref, InvalidTransition, "resolve", lambda: engine.resolve(ref, by="bob"))


def test_R5_a_closed_case_cannot_be_cancelled(engine: Engine, clock: ManualClock) -> None:
    ref = _resolved(engine)
    clock.advance(timedelta(days=2))
    engine.tick()
    assert_refused(engine, ref, InvalidTransition, "cancel", lambda: engine.cancel(ref, by="bob"))


# -- R2 -----------------------------------------------------------------------------------------


def test_R2_case_stays_resolved_during_the_feedback_window(
    engine: Engine, clock: ManualClock
) -> None:
    ref = _resolved(engine)
    clock.advance(timedelta(days=2) - timedelta(minutes=1))
    assert engine.tick() == []
    assert engine.case(ref).status is CaseStatus.RESOLVED


def test_R2_a_reply_within_the_window_reopens_the_case(engine: Engine, clock: ManualClock) -> None:
    ref = _resolved(engine)
    clock.advance(timedelta(days=1))
    after = engine.reply(ref, body="it broke again", sender="cust@example.com")
    assert after.ref == ref
    assert after.status is CaseStatus.TO_DO
    assert after.assignee == "bob"
    assert after.highlighted is True
    assert after.status_set_at == START + timedelta(days=1)
    assert [c.ref for c in engine.inbox("bob")] == [ref]
    clock.advance(timedelta(days=5))
    assert engine.tick() == []  # the window's timer was cancelled
    assert engine.case(ref).status is CaseStatus.TO_DO


def test_R2_reopen_by_hand_gives_to_do_with_the_previous_assignee(
    engine: Engine, clock: ManualClock
) -> None:
    ref = _resolved(engine)
    clock.advance(timedelta(hours=3))
    after = engine.reopen(ref, by="ann")
    assert after.status is CaseStatus.TO_DO
    assert after.assignee == "bob"
    assert (after.status_set_by, after.status_set_at) == ("ann", at(2, 12))
    clock.advance(timedelta(days=5))
    assert engine.tick() == []
    assert engine.case(ref).status is CaseStatus.TO_DO


def test_R2_without_feedback_window_resolve_closes_at_once(
    engine: Engine, clock: ManualClock, tmp_path: Path
) -> None:
    deploy_yaml(engine, tmp_path, _NO_WINDOW)
    case = engine.create_case("quick", by="ann", submit=True)
    engine.start_work(case.ref, by="bob")
    closed = engine.resolve(case.ref, by="bob")
    assert closed.status is CaseStatus.CLOSED
    assert (closed.first_resolved_by, closed.first_resolved_at) == ("bob", START)
    assert [a.status for a in engine.actions(case.ref)] == [CaseStatus.CLOSED]
    assert_refused(
        engine, case.ref, InvalidTransition, "reopen", lambda: engine.reopen(case.ref, by="bob")
    )
    clock.advance(timedelta(days=3))
    assert engine.tick() == []
    assert engine.case(case.ref).status is CaseStatus.CLOSED


# -- R3 -----------------------------------------------------------------------------------------


def test_R3_first_resolution_is_kept_across_reopen_and_resolve(
    engine: Engine, clock: ManualClock
) -> None:
    ref = _resolved(engine)
    clock.advance(timedelta(hours=1))
    engine.reopen(ref, by="ann")
    engine.start_work(ref, by="carol")
    clock.advance(timedelta(hours=1))
    again = engine.resolve(ref, by="carol")
    assert again.status is CaseStatus.RESOLVED
    assert (again.first_resolved_by, again.first_resolved_at) == ("bob", START)
    assert (again.status_set_by, again.status_set_at) == ("carol", at(2, 11))
    resolutions = engine.timeline(ref, kinds=["resolved"])
    assert [(e.by, e.at) for e in resolutions] == [("bob", START), ("carol", at(2, 11))]


def test_R3_each_resolution_starts_a_new_feedback_window(
    engine: Engine, clock: ManualClock
) -> None:
    ref = _resolved(engine)  # first window would end Wednesday 09:00
    clock.set(at(3, 9))
    engine.reopen(ref, by="ann")
    engine.start_work(ref, by="bob")
    clock.set(at(3, 10))
    engine.resolve(ref, by="bob")
    clock.set(at(4, 9, 30))
    assert engine.tick() == []
    assert engine.case(ref).status is CaseStatus.RESOLVED
    clock.set(at(5, 10))
    assert [(f.kind, f.case_ref) for f in engine.tick()] == [("feedback_window", ref)]
    assert engine.case(ref).status is CaseStatus.CLOSED


# -- R4 -----------------------------------------------------------------------------------------


def test_R4_window_end_without_reply_closes_the_case_once(
    engine: Engine, clock: ManualClock
) -> None:
    clock.set(at(6, 16))  # Friday 16:00: the window is wall-clock time
    ref = _resolved(engine)
    clock.set(at(8, 15, 59))
    assert engine.tick() == []
    clock.set(at(8, 16))
    fired = engine.tick()
    assert [(f.kind, f.case_ref) for f in fired] == [("feedback_window", ref)]
    closed = engine.case(ref)
    assert closed.status is CaseStatus.CLOSED
    assert closed.status_set_at == at(8, 16)
    assert engine.tick() == []
    clock.advance(timedelta(days=1))
    assert engine.tick() == []


def test_R4_a_reply_to_a_closed_case_creates_a_new_case(engine: Engine, clock: ManualClock) -> None:
    old = engine.create_case("claim", by="ann", data={"amount": 5000}, submit=True)
    engine.start_work(old.ref, by="bob")
    engine.resolve(old.ref, by="bob")
    clock.advance(timedelta(days=2))
    engine.tick()
    clock.advance(timedelta(days=1))
    before = state_of(engine, old.ref)
    assert before.case.status is CaseStatus.CLOSED
    new = engine.reply(old.ref, body="still broken", sender="cust@example.com")
    assert new.ref != old.ref
    assert new.process == "claim"
    assert new.created_how == "email"
    assert new.original_request_at == START
    assert new.created_at == START + timedelta(days=3)
    assert new.status is CaseStatus.TO_DO
    assert engine.case(new.ref) == new
    assert [a.action_type for a in engine.actions(new.ref)] == ["register"]
    assert state_of(engine, old.ref) == before


# -- R5 -----------------------------------------------------------------------------------------


def test_R5_cancel_closes_the_case_and_its_open_actions(engine: Engine, clock: ManualClock) -> None:
    case = claim_in_progress(engine)
    clock.advance(timedelta(minutes=15))
    cancelled = engine.cancel(case.ref, by="bob")
    assert cancelled.status is CaseStatus.CANCELLED
    assert (cancelled.status_set_by, cancelled.status_set_at) == ("bob", at(2, 9, 15))
    assert [a.status for a in engine.actions(case.ref)] == [CaseStatus.CLOSED]
    assert engine.inbox("bob") == []
    assert engine.responsibilities("bob") == []
    assert engine.open_case(case.ref, by="bob").status is CaseStatus.CANCELLED


def test_R5_cancel_drops_pending_timers(engine: Engine, clock: ManualClock) -> None:
    case = claim_in_progress(engine)
    engine.hold(case.ref, HoldKind.UNTIL, by="bob", until=at(2, 12))
    cancelled = engine.cancel(case.ref, by="bob")
    assert (cancelled.status, cancelled.hold_kind) == (CaseStatus.CANCELLED, None)
    clock.set(at(2, 12))
    assert engine.tick() == []
    assert engine.case(case.ref).status is CaseStatus.CANCELLED


@pytest.mark.parametrize("setup", [_draft, _to_do, _waiting, _resolved])
def test_R5_cancel_is_allowed_until_closed(
    shared_engine: Engine, setup: Callable[[Engine], str]
) -> None:
    engine = shared_engine
    ref = setup(engine)
    assert engine.cancel(ref, by="bob").status is CaseStatus.CANCELLED


_WORK: list[tuple[str, Callable[[Engine, str], object]]] = [
    ("start_work", lambda e, r: e.start_work(r, by="bob")),
    ("set_status", lambda e, r: e.set_status(r, CaseStatus.IN_PROGRESS, by="bob")),
    ("hold", lambda e, r: e.hold(r, HoldKind.PAUSED, by="bob")),
    ("resolve", lambda e, r: e.resolve(r, by="bob")),
    ("reopen", lambda e, r: e.reopen(r, by="bob")),
    ("cancel", lambda e, r: e.cancel(r, by="bob")),
    ("submit", lambda e, r: e.submit(r, by="bob")),
    ("launch_action", lambda e, r: e.launch_action(r, "second_opinion", by="bob")),
    (
        "complete_action",
        lambda e, r: e.complete_action(e.actions(r)[0].ref, by="bob"),
    ),
]


@pytest.mark.parametrize(("command", "call"), _WORK, ids=[w[0] for w in _WORK])
def test_R5_a_cancelled_case_can_no_longer_be_worked_on(
    shared_engine: Engine, command: str, call: Callable[[Engine, str], object]
) -> None:
    ref = _cancelled(shared_engine)
    assert_refused(shared_engine, ref, InvalidTransition, command, lambda: call(shared_engine, ref))


def test_R5_a_reply_to_a_cancelled_case_creates_a_new_case(engine: Engine) -> None:
    ref = _cancelled(engine)
    before = state_of(engine, ref)
    new = engine.reply(ref, body="hello?", sender="cust@example.com")
    assert new.ref != ref
    assert (new.process, new.created_how) == ("claim", "email")
    assert new.original_request_at == START
    assert state_of(engine, ref) == before
