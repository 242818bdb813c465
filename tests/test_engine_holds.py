"""Engine façade: holds, the paused SLA, inbox and responsibilities, restart (SPEC H1-H9)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from conftest import (
    CLAIM_API,
    START,
    assert_refused,
    at,
    claim_in_progress,
    deploy_yaml,
    open_action,
)

from engine import (
    CaseStatus,
    Engine,
    HoldKind,
    InvalidArgument,
    InvalidTransition,
    ManualClock,
)


def _inbox(engine: Engine, user: str) -> list[str]:
    return [c.ref for c in engine.inbox(user)]


def _resp(engine: Engine, user: str) -> list[str]:
    return [c.ref for c in engine.responsibilities(user)]


# -- H1 -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", [*HoldKind, *(k.value for k in HoldKind)])
def test_H1_each_hold_kind_puts_the_case_waiting(
    shared_engine: Engine, kind: HoldKind | str
) -> None:
    engine = shared_engine
    case = claim_in_progress(engine)
    parsed = HoldKind(kind)
    reason = "Customer documents" if parsed is HoldKind.MORE_INFO else None
    until = at(3, 9) if parsed is HoldKind.UNTIL else None
    held = engine.hold(case.ref, kind, by="bob", reason=reason, until=until)
    assert held.status is CaseStatus.WAITING
    assert held.hold_kind is parsed
    assert held.hold_until == until
    assert held.assignee == "bob"


def test_H1_a_to_do_case_may_be_put_on_hold(engine: Engine) -> None:
    case = engine.create_case("claim", by="ann", submit=True)
    held = engine.hold(case.ref, HoldKind.PAUSED, by="ann")
    assert held.status is CaseStatus.WAITING


# -- H2 -----------------------------------------------------------------------------------------


def _waiting_with_register_started(engine: Engine, kind: HoldKind) -> tuple[str, str]:
    case = claim_in_progress(engine)
    register = open_action(engine, case.ref, "register")
    engine.start_action(register.ref, by="bob")
    reason = "Customer documents" if kind is HoldKind.MORE_INFO else None
    until = at(2, 15) if kind is HoldKind.UNTIL else None
    engine.hold(case.ref, kind, by="bob", reason=reason, until=until)
    return case.ref, register.ref


def test_H2_completing_an_action_while_waiting_creates_no_follow_on_action(
    engine: Engine,
) -> None:
    ref, register = _waiting_with_register_started(engine, HoldKind.PAUSED)
    done = engine.complete_action(register, by="bob")
    assert done.status is CaseStatus.RESOLVED
    assert [(a.action_type, a.status) for a in engine.actions(ref)] == [
        ("register", CaseStatus.RESOLVED)
    ]
    assert engine.case(ref).status is CaseStatus.WAITING
    created = engine.timeline(ref, include_related=True, kinds=["action_created"])
    assert len(created) == 1


def test_H2_pending_action_appears_when_a_person_ends_the_hold(
    engine: Engine, clock: ManualClock
) -> None:
    ref, register = _waiting_with_register_started(engine, HoldKind.PAUSED)
    engine.complete_action(register, by="bob")
    clock.advance(timedelta(hours=1))
    engine.set_status(ref, CaseStatus.IN_PROGRESS, by="bob")
    assess = open_action(engine, ref, "assess")
    assert (assess.status, assess.stage, assess.due) == (CaseStatus.TO_DO, 2, at(4, 17))


def test_H2_pending_action_appears_when_a_reply_ends_the_hold(
    engine: Engine, clock: ManualClock
) -> None:
    ref, register = _waiting_with_register_started(engine, HoldKind.MORE_INFO)
    engine.complete_action(register, by="bob")
    assert [a.action_type for a in engine.actions(ref)] == ["register"]
    clock.advance(timedelta(hours=2))
    engine.reply(ref, body="documents attached", sender="cust@example.com")
    assess = open_action(engine, ref, "assess")
    assert assess.status is CaseStatus.TO_DO
    # The case's due was paused for 2 working hours: Wednesday 17:00 -> Thursday 11:00.
    assert assess.due == at(5, 11) == engine.case(ref).due


def test_H2_pending_action_appears_when_the_case_wakes_up(
    engine: Engine, clock: ManualClock
) -> None:
    ref, register = _waiting_with_register_started(engine, HoldKind.UNTIL)
    engine.complete_action(register, by="bob")
    clock.set(at(2, 15))
    engine.tick()
    assert open_action(engine, ref, "assess").status is CaseStatus.TO_DO


def test_H2_data_given_while_waiting_steers_the_flow_on_return(engine: Engine) -> None:
    ref, register = _waiting_with_register_started(engine, HoldKind.PAUSED)
    engine.complete_action(register, by="bob", data={"amount": 10})
    assert engine.case(ref).data == {"amount": 10}
    assert [a.action_type for a in engine.actions(ref)] == ["register"]
    engine.set_status(ref, CaseStatus.TO_DO, by="bob")
    # amount 10 fails the Assessment condition: the flow goes on to Payment.
    assert [(a.action_type, a.status) for a in engine.actions(ref)] == [
        ("pay", CaseStatus.TO_DO),
        ("register", CaseStatus.RESOLVED),
    ]


def test_H2_an_existing_action_can_be_started_while_waiting(engine: Engine) -> None:
    case = claim_in_progress(engine)
    engine.hold(case.ref, HoldKind.PAUSED, by="bob")
    register = open_action(engine, case.ref, "register")
    started = engine.start_action(register.ref, by="carol")
    assert (started.status, started.assignee) == (CaseStatus.IN_PROGRESS, "carol")
    assert engine.case(case.ref).status is CaseStatus.WAITING


def test_H2_launch_action_is_refused_while_waiting(engine: Engine) -> None:
    case = claim_in_progress(engine)
    engine.hold(case.ref, HoldKind.PAUSED, by="bob")
    assert_refused(
        engine,
        case.ref,
        InvalidTransition,
        "launch_action",
        lambda: engine.launch_action(case.ref, "second_opinion", by="bob"),
    )


# -- H3 -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("reason", ["Customer documents", "Third-party report"])
def test_H3_more_info_takes_a_configured_reason(shared_engine: Engine, reason: str) -> None:
    engine = shared_engine
    case = claim_in_progress(engine)
    held = engine.hold(case.ref, HoldKind.MORE_INFO, by="bob", reason=reason)
    assert (held.hold_kind, held.hold_reason) == (HoldKind.MORE_INFO, reason)


def test_H3_more_info_without_a_reason_is_refused(engine: Engine) -> None:
    case = claim_in_progress(engine)
    assert_refused(
        engine,
        case.ref,
        InvalidArgument,
        "hold",
        lambda: engine.hold(case.ref, HoldKind.MORE_INFO, by="bob"),
    )


def test_H3_more_info_with_a_reason_not_in_the_list_is_refused(engine: Engine) -> None:
    case = claim_in_progress(engine)
    error = assert_refused(
        engine,
        case.ref,
        InvalidArgument,
        "hold",
        lambda: engine.hold(case.ref, "more_info", by="bob", reason="Bored"),
    )
    assert "Bored" in str(error)
    assert "Customer documents" in str(error)


# -- H4 / H5 ------------------------------------------------------------------------------------


def test_H4_more_info_pauses_sla(engine: Engine, clock: ManualClock) -> None:
    case = claim_in_progress(engine)
    assert case.due == at(4, 17)
    clock.set(at(4, 13, 40))  # Wednesday 13:40: 3h 20m of working time left
    held = engine.hold(case.ref, HoldKind.MORE_INFO, by="bob", reason="Customer documents")
    assert held.due is None
    assert held.due_state == "paused"
    assert held.due_text == "Due: paused 3h 20m before due date"
    clock.set(at(5, 10))  # Thursday 10:00: still the same time left
    paused = engine.case(case.ref)
    assert (paused.due, paused.due_state) == (None, "paused")
    assert paused.due_text == "Due: paused 3h 20m before due date"
    resumed = engine.reply(case.ref, body="attached", sender="cust@example.com")
    assert resumed.due == at(5, 13, 20)
    assert resumed.due_state == "due today"
    assert resumed.due_text == "Due: 2026-03-05 13:20 UTC (due today)"


def test_H4_paused_time_is_working_time(engine: Engine, clock: ManualClock) -> None:
    case = claim_in_progress(engine)
    clock.set(at(2, 16))  # Monday 16:00: 1h + 8h + 8h of working time left
    held = engine.hold(case.ref, HoldKind.MORE_INFO, by="bob", reason="Third-party report")
    assert held.due_text == "Due: paused 17h 0m before due date"
    clock.set(at(9, 11, 30))  # next Monday 11:30
    resumed = engine.set_status(case.ref, CaseStatus.IN_PROGRESS, by="bob")
    # 17 working hours from Monday 11:30: 5h30 Monday, 8h Tuesday, 3h30 Wednesday.
    assert resumed.due == at(11, 12, 30)


def test_H4_without_add_wait_time_the_clock_keeps_running(
    engine: Engine, clock: ManualClock, tmp_path: Path
) -> None:
    text = CLAIM_API.read_text(encoding="utf-8").replace(
        "add_wait_time_to_due_date: true", "add_wait_time_to_due_date: false"
    )
    text = text.replace("id: claim", "id: claim_nowait")
    deploy_yaml(engine, tmp_path, text)
    case = engine.create_case("claim_nowait", by="ann", submit=True)
    engine.start_work(case.ref, by="bob")
    clock.set(at(4, 13, 40))
    held = engine.hold(case.ref, HoldKind.MORE_INFO, by="bob", reason="Customer documents")
    assert held.due == at(4, 17)
    assert held.due_state == "due today"
    clock.set(at(5, 10))
    assert engine.case(case.ref).due_state == "overdue"
    resumed = engine.reply(case.ref, body="attached", sender="cust@example.com")
    assert resumed.due == at(4, 17)


def test_H5_paused_overdue_case_shows_time_after_due_date(
    engine: Engine, clock: ManualClock
) -> None:
    case = claim_in_progress(engine)
    clock.set(at(5, 10, 5))  # Thursday 10:05: 1h 5m of working time past Wednesday 17:00
    assert engine.case(case.ref).due_state == "overdue"
    held = engine.hold(case.ref, HoldKind.MORE_INFO, by="bob", reason="Customer documents")
    assert held.due is None
    assert held.due_text == "Due: paused 1h 5m after due date"


_WALL_CLOCK = (
    "id: wall\nname: Wall clock\nversion: 1\ndue: 4h\nadd_wait_time_to_due_date: true\n"
    "more_info_reasons: [Docs]\n"
    "stages:\n  - name: Only\n    actions:\n      - {id: do_it, title: Do it}\n"
)


@pytest.mark.parametrize(
    ("held_at", "text"),
    [
        (at(2, 9, 40), "Due: paused 3h 20m before due date"),
        (at(2, 12, 55), "Due: paused 0h 5m before due date"),
        (at(2, 14, 5), "Due: paused 1h 5m after due date"),
        (at(3, 13), "Due: paused 24h 0m after due date"),
        (at(2, 9, 40) + timedelta(seconds=30), "Due: paused 3h 19m before due date"),
        (at(2, 13) + timedelta(seconds=59), "Due: paused 0h 0m after due date"),
    ],
)
def test_H5_due_text_wording_without_calendar(
    engine: Engine, clock: ManualClock, tmp_path: Path, held_at: datetime, text: str
) -> None:
    deploy_yaml(engine, tmp_path, _WALL_CLOCK)
    case = engine.create_case("wall", by="ann", submit=True)
    assert case.due == at(2, 13)
    engine.start_work(case.ref, by="bob")
    clock.set(held_at)
    held = engine.hold(case.ref, HoldKind.MORE_INFO, by="bob", reason="Docs")
    assert held.due_text == text
    clock.advance(timedelta(hours=30))
    assert engine.case(case.ref).due_text == text


# -- H6 -----------------------------------------------------------------------------------------


def test_H6_until_wakes_the_case_once_when_the_time_is_reached(
    engine: Engine, clock: ManualClock
) -> None:
    case = claim_in_progress(engine)
    clock.set(at(2, 10))
    held = engine.hold(case.ref, HoldKind.UNTIL, by="bob", until=at(2, 15))
    assert held.hold_until == at(2, 15)
    clock.set(at(2, 14, 59))
    assert engine.tick() == []
    assert engine.case(case.ref).status is CaseStatus.WAITING
    clock.set(at(2, 15))
    fired = engine.tick()
    assert [(f.kind, f.case_ref) for f in fired] == [("hold_until", case.ref)]
    woke = engine.case(case.ref)
    assert woke.status is CaseStatus.TO_DO
    assert woke.assignee == "bob"
    assert woke.highlighted is True
    assert woke.hold_kind is None and woke.hold_until is None
    assert engine.tick() == []
    clock.advance(timedelta(days=1))
    assert engine.tick() == []
    assert engine.case(case.ref).status is CaseStatus.TO_DO


def test_H6_a_late_tick_still_wakes_the_case(engine: Engine, clock: ManualClock) -> None:
    case = claim_in_progress(engine)
    engine.hold(case.ref, "until", by="bob", until=at(2, 15))
    clock.set(at(3, 8))
    assert [f.case_ref for f in engine.tick()] == [case.ref]
    assert engine.case(case.ref).status is CaseStatus.TO_DO


def test_H6_sla_keeps_running_while_waiting_until(engine: Engine, clock: ManualClock) -> None:
    case = claim_in_progress(engine)
    held = engine.hold(case.ref, HoldKind.UNTIL, by="bob", until=at(5, 9))
    assert (held.due, held.due_state) == (at(4, 17), "on time")
    clock.set(at(5, 9))
    engine.tick()
    woke = engine.case(case.ref)
    assert (woke.due, woke.due_state) == (at(4, 17), "overdue")


def test_H6_until_requires_a_date(engine: Engine) -> None:
    case = claim_in_progress(engine)
    assert_refused(
        engine,
        case.ref,
        InvalidArgument,
        "hold",
        lambda: engine.hold(case.ref, HoldKind.UNTIL, by="bob"),
    )


def test_H6_only_due_timers_fire(engine: Engine, clock: ManualClock) -> None:
    first = claim_in_progress(engine)
    second = claim_in_progress(engine)
    engine.hold(first.ref, HoldKind.UNTIL, by="bob", until=at(2, 12))
    engine.hold(second.ref, HoldKind.UNTIL, by="bob", until=at(2, 14))
    clock.set(at(2, 13))
    assert [f.case_ref for f in engine.tick()] == [first.ref]
    assert engine.case(second.ref).status is CaseStatus.WAITING
    clock.set(at(2, 14))
    assert [f.case_ref for f in engine.tick()] == [second.ref]


def test_H6_a_new_until_hold_replaces_the_old_wake_up(engine: Engine, clock: ManualClock) -> None:
    case = claim_in_progress(engine)
    engine.hold(case.ref, HoldKind.UNTIL, by="bob", until=at(2, 15))
    clock.set(at(2, 10))
    engine.set_status(case.ref, CaseStatus.IN_PROGRESS, by="bob")
    engine.hold(case.ref, HoldKind.UNTIL, by="bob", until=at(2, 16))
    clock.set(at(2, 15))
    assert engine.tick() == []
    assert engine.case(case.ref).status is CaseStatus.WAITING
    clock.set(at(2, 16))
    assert [f.case_ref for f in engine.tick()] == [case.ref]
    assert engine.tick() == []


def test_H6_a_hold_ended_by_hand_cancels_the_wake_up(engine: Engine, clock: ManualClock) -> None:
    case = claim_in_progress(engine)
    engine.hold(case.ref, HoldKind.UNTIL, by="bob", until=at(2, 15))
    clock.set(at(2, 11))
    engine.set_status(case.ref, CaseStatus.IN_PROGRESS, by="bob")
    clock.set(at(2, 16))
    assert engine.tick() == []
    after = engine.case(case.ref)
    assert after.status is CaseStatus.IN_PROGRESS
    assert after.status_set_at == at(2, 11)


# -- H7 -----------------------------------------------------------------------------------------


def test_H7_paused_has_no_automatic_exit_and_sla_keeps_running(
    engine: Engine, clock: ManualClock
) -> None:
    case = claim_in_progress(engine)
    held = engine.hold(case.ref, HoldKind.PAUSED, by="bob", reason="waiting on legal")
    assert (held.due, held.due_state) == (at(4, 17), "on time")
    clock.advance(timedelta(days=30))
    assert engine.tick() == []
    after = engine.case(case.ref)
    assert after.status is CaseStatus.WAITING
    assert (after.due, after.due_state) == (at(4, 17), "overdue")


def test_H7_reply_does_not_end_a_paused_hold(engine: Engine) -> None:
    case = claim_in_progress(engine)
    engine.hold(case.ref, HoldKind.PAUSED, by="bob")
    after = engine.reply(case.ref, body="any news?", sender="cust@example.com")
    assert after.status is CaseStatus.WAITING
    assert after.hold_kind is HoldKind.PAUSED


@pytest.mark.parametrize("status", [CaseStatus.TO_DO, CaseStatus.IN_PROGRESS])
def test_H7_a_person_ends_the_hold_choosing_the_status(
    engine: Engine, clock: ManualClock, status: CaseStatus
) -> None:
    case = claim_in_progress(engine)
    engine.hold(case.ref, HoldKind.PAUSED, by="bob")
    clock.advance(timedelta(hours=2))
    after = engine.set_status(case.ref, status, by="carol", reason="legal answered")
    assert after.status is status
    assert after.hold_kind is None
    assert after.assignee == "bob"
    assert (after.status_set_by, after.status_reason) == ("carol", "legal answered")
    assert after.status_set_at == START + timedelta(hours=2)


# -- H8 -----------------------------------------------------------------------------------------


def test_H8_hold_moves_case_from_inbox_to_responsibilities_and_back_highlighted(
    engine: Engine,
) -> None:
    case = claim_in_progress(engine)
    assert (_inbox(engine, "bob"), _resp(engine, "bob")) == ([case.ref], [])
    engine.hold(case.ref, HoldKind.MORE_INFO, by="bob", reason="Customer documents")
    assert (_inbox(engine, "bob"), _resp(engine, "bob")) == ([], [case.ref])
    back = engine.reply(case.ref, body="here", sender="cust@example.com")
    assert back.highlighted is True
    assert (_inbox(engine, "bob"), _resp(engine, "bob")) == ([case.ref], [])
    assert engine.inbox("bob")[0].highlighted is True
    assert engine.case(case.ref).highlighted is True  # reading does not clear it
    assert engine.case(case.ref).highlighted is True
    assert engine.open_case(case.ref, by="bob").highlighted is False
    assert engine.case(case.ref).highlighted is False


def test_H8_unassigned_waiting_case_is_the_owners_responsibility(engine: Engine) -> None:
    case = engine.create_case("claim", by="ann", submit=True)
    engine.hold(case.ref, HoldKind.PAUSED, by="ann")
    assert engine.case(case.ref).owner == "ann"
    assert _resp(engine, "ann") == [case.ref]
    assert _inbox(engine, "ann") == []


def test_H8_person_ending_hold_with_to_do_highlights(engine: Engine) -> None:
    case = claim_in_progress(engine)
    engine.hold(case.ref, HoldKind.PAUSED, by="bob")
    back = engine.set_status(case.ref, CaseStatus.TO_DO, by="carol")
    assert back.highlighted is True
    assert _inbox(engine, "bob") == [case.ref]


def test_H8_start_work_and_set_in_progress_clear_the_highlight(
    engine: Engine, clock: ManualClock
) -> None:
    case = claim_in_progress(engine)
    engine.hold(case.ref, HoldKind.UNTIL, by="bob", until=at(2, 10))
    clock.set(at(2, 10))
    engine.tick()
    assert engine.case(case.ref).highlighted is True
    assert engine.start_work(case.ref, by="bob").highlighted is False
    engine.hold(case.ref, HoldKind.PAUSED, by="bob")
    assert engine.set_status(case.ref, CaseStatus.IN_PROGRESS, by="bob").highlighted is False


def test_H8_inbox_and_responsibilities_never_overlap(engine: Engine, clock: ManualClock) -> None:
    def check() -> None:
        for user in ("ann", "bob", "carol"):
            inbox, resp = _inbox(engine, user), _resp(engine, user)
            assert not set(inbox) & set(resp), (user, inbox, resp)

    refs = [claim_in_progress(engine).ref for _ in range(4)]
    check()
    engine.hold(refs[0], HoldKind.PAUSED, by="bob")
    engine.hold(refs[1], HoldKind.UNTIL, by="bob", until=at(2, 12))
    engine.hold(refs[2], HoldKind.MORE_INFO, by="bob", reason="Customer documents")
    engine.unassign(refs[3], by="bob")
    check()
    engine.assign(refs[0], "carol", by="bob")
    engine.unassign(refs[2], by="bob")
    check()
    clock.set(at(2, 12))
    engine.tick()
    engine.reply(refs[2], body="x", sender="cust@example.com")
    check()
    assert set(_inbox(engine, "bob")) == {refs[1]}
    assert set(_resp(engine, "carol")) == {refs[0]}
    assert _resp(engine, "ann") == []
    assert _resp(engine, "bob") == []


# -- H9 -----------------------------------------------------------------------------------------


def test_H9_a_reply_ends_a_more_info_hold(engine: Engine, clock: ManualClock) -> None:
    case = claim_in_progress(engine)
    engine.hold(case.ref, HoldKind.MORE_INFO, by="bob", reason="Customer documents")
    clock.advance(timedelta(minutes=30))
    after = engine.reply(case.ref, body="documents attached", sender="cust@example.com")
    assert after.status is CaseStatus.TO_DO
    assert after.assignee == "bob"
    assert after.highlighted is True
    assert (after.hold_kind, after.hold_reason) == (None, None)
    assert after.due == at(5, 9, 30)  # 30 working minutes later: past Wednesday 17:00
    assert after.status_set_at == START + timedelta(minutes=30)
    last = engine.timeline(case.ref)[-1]
    assert last.details.get("body") == "documents attached"


def test_H8_any_reply_highlights_an_open_case(engine: Engine, clock: ManualClock) -> None:
    case = claim_in_progress(engine)
    clock.advance(timedelta(minutes=5))
    after = engine.reply(case.ref, body="a question", sender="cust@example.com")
    assert after.status is CaseStatus.IN_PROGRESS
    assert after.highlighted is True
    assert (after.status_set_by, after.status_set_at) == ("bob", START)
    assert engine.open_case(case.ref, by="bob").highlighted is False


# -- persistence --------------------------------------------------------------------------------


def test_H6_restart_persists_everything_and_a_pending_timer_fires_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cases.sqlite'}"
    clock = ManualClock(START)
    first = Engine(url, clock=clock)
    first.deploy(CLAIM_API)
    case = claim_in_progress(first)
    engine_ref = case.ref
    first.complete_action(open_action(first, engine_ref, "register").ref, by="bob")
    first.hold(engine_ref, HoldKind.UNTIL, by="bob", until=at(2, 15))
    seen = (first.case(engine_ref), first.actions(engine_ref), first.timeline(engine_ref))
    first.close()

    second = Engine(url, clock=clock)
    assert (second.case(engine_ref), second.actions(engine_ref), second.timeline(engine_ref)) == (
        seen
    )
    clock.set(at(2, 15))
    assert [f.case_ref for f in second.tick()] == [engine_ref]
    assert second.case(engine_ref).status is CaseStatus.TO_DO
    second.start_work(engine_ref, by="bob")
    assess = open_action(second, engine_ref, "assess")
    second.close()

    third = Engine(url, clock=clock)
    assert third.tick() == []
    assert third.case(engine_ref).status is CaseStatus.IN_PROGRESS
    done = third.complete_action(assess.ref, by="bob")
    assert done.status is CaseStatus.RESOLVED
    assert open_action(third, engine_ref, "pay").stage == 3
    another = third.create_case("claim", by="ann", submit=True)  # no redeploy needed
    assert another.ref != engine_ref
    assert [a.action_type for a in third.actions(another.ref)] == ["register"]
    third.close()


def test_H6_two_engines_on_one_database_fire_a_timer_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shared.sqlite'}"
    clock = ManualClock(START)
    with Engine(url, clock=clock) as one, Engine(url, clock=clock) as two:
        one.deploy(CLAIM_API)
        case = claim_in_progress(one)
        one.hold(case.ref, HoldKind.UNTIL, by="bob", until=at(2, 12))
        assert two.case(case.ref).status is CaseStatus.WAITING
        clock.set(at(2, 12))
        fired = two.tick() + one.tick()
        assert [f.case_ref for f in fired] == [case.ref]
        assert one.case(case.ref).status is CaseStatus.TO_DO
