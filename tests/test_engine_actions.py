"""Engine façade: actions — flow actions, manual launch, order, work on them (SPEC A1-A4)."""

from __future__ import annotations

from datetime import timedelta

from conftest import START, assert_refused, at, claim_in_progress, open_action

from engine import CaseStatus, Engine, InvalidTransition, ManualClock, PermissionDenied

# -- A1 / A2 -------------------------------------------------------------------------------------


def test_A1_launch_action_creates_ad_hoc_actions_as_asked(
    engine: Engine, clock: ManualClock
) -> None:
    case = claim_in_progress(engine)
    clock.advance(timedelta(minutes=5))
    launched = engine.launch_action(
        case.ref, "second_opinion", by="bob", due=at(3, 12), count=2, instructions="Call Joe"
    )
    assert len(launched) == 2
    assert len({a.ref for a in launched}) == 2
    for action in launched:
        assert action.case_ref == case.ref
        assert action.action_type == "second_opinion"
        assert action.title == "Second opinion"
        assert action.instructions == "Call Joe"
        assert action.due == at(3, 12)
        assert action.status is CaseStatus.TO_DO
        assert action.stage == 2
        assert action.ad_hoc is True
    listed = {a.ref: a for a in engine.actions(case.ref)}
    assert all(listed[a.ref] == a for a in launched)


def test_A1_defaults_instructions_and_due_of_a_launched_action(engine: Engine) -> None:
    case = claim_in_progress(engine)
    (action,) = engine.launch_action(case.ref, "second_opinion", by="bob")
    assert action.instructions == "Ask a senior assessor"
    assert action.due == at(4, 17)  # no rule of its own: the case's due


def test_A1_flow_actions_start_automatically_and_are_not_ad_hoc(engine: Engine) -> None:
    case = claim_in_progress(engine)
    (register,) = engine.actions(case.ref)
    assert (register.action_type, register.ad_hoc) == ("register", False)
    engine.complete_action(register.ref, by="bob")
    assess = open_action(engine, case.ref, "assess")
    assert assess.ad_hoc is False
    assert all(a.action_type != "second_opinion" for a in engine.actions(case.ref))


def test_A2_launching_needs_no_assignment_and_changes_nothing_else(engine: Engine) -> None:
    case = claim_in_progress(engine)
    before = engine.case(case.ref)
    launched = engine.launch_action(case.ref, "second_opinion", by="zoe")
    assert engine.case(case.ref) == before
    assert launched[0].assignee is None


def test_A2_launching_from_an_action_of_the_case(engine: Engine) -> None:
    case = claim_in_progress(engine)
    register = open_action(engine, case.ref, "register")
    (action,) = engine.launch_action(register.ref, "second_opinion", by="bob")
    assert action.case_ref == case.ref
    assert action.ref in {a.ref for a in engine.actions(case.ref)}


def test_A2_completing_an_ad_hoc_action_does_not_move_the_flow(engine: Engine) -> None:
    case = claim_in_progress(engine)
    (action,) = engine.launch_action(case.ref, "second_opinion", by="bob")
    assert engine.complete_action(action.ref, by="bob").status is CaseStatus.RESOLVED
    assert open_action(engine, case.ref, "register").status is CaseStatus.TO_DO
    assert {a.action_type for a in engine.actions(case.ref)} == {"register", "second_opinion"}


def test_A2_types_not_flagged_manual_launch_are_refused(engine: Engine) -> None:
    case = claim_in_progress(engine)
    assert_refused(
        engine,
        case.ref,
        PermissionDenied,
        "launch_action",
        lambda: engine.launch_action(case.ref, "assess", by="bob"),
    )


# -- A3 / A4 -------------------------------------------------------------------------------------


def test_A3_order_status_then_due_then_start_then_reference(
    engine: Engine, clock: ManualClock
) -> None:
    case = claim_in_progress(engine)
    register = open_action(engine, case.ref, "register")
    engine.complete_action(register.ref, by="bob")
    assess = open_action(engine, case.ref, "assess")  # due Wednesday 17:00, stage 2
    (tuesday,) = engine.launch_action(case.ref, "second_opinion", by="bob", due=at(3, 12))
    (thursday,) = engine.launch_action(case.ref, "second_opinion", by="bob", due=at(5, 12))
    batch = engine.launch_action(case.ref, "second_opinion", by="bob", due=at(4, 17), count=9)
    first_started, later_started, *rest = batch
    engine.start_action(first_started.ref, by="bob")
    clock.advance(timedelta(minutes=10))
    engine.start_action(later_started.ref, by="carol")
    expected = [
        tuesday.ref,
        assess.ref,
        *sorted((a.ref for a in rest), key=lambda r: int(r.rsplit("-", 1)[-1])),
        thursday.ref,
        later_started.ref,
        first_started.ref,
        register.ref,
    ]
    assert [a.ref for a in engine.actions(case.ref)] == expected


def test_A3_same_due_lower_stage_first_and_resolved_before_closed(engine: Engine) -> None:
    case = claim_in_progress(engine)
    register = open_action(engine, case.ref, "register")  # stage 1, due Monday 13:00
    (other,) = engine.launch_action(case.ref, "second_opinion", by="bob", due=at(2, 13))
    assert [a.ref for a in engine.actions(case.ref)] == [register.ref, other.ref]
    engine.complete_action(other.ref, by="bob")
    engine.resolve(case.ref, by="bob")
    listed = engine.actions(case.ref)
    assert [(a.ref, a.status) for a in listed] == [
        (other.ref, CaseStatus.RESOLVED),
        (register.ref, CaseStatus.CLOSED),
    ]


def test_A4_each_action_shows_what_the_list_needs(engine: Engine) -> None:
    case = claim_in_progress(engine)
    (register,) = engine.actions(case.ref)
    assert register.case_ref == case.ref
    assert register.ref and register.ref != case.ref
    assert register.title == "Register claim"
    assert register.instructions is None
    assert register.stage == 1
    assert register.status is CaseStatus.TO_DO
    assert register.assignee is None
    assert register.queue is None
    assert register.due == at(2, 13)
    assert register.started_at is None
    assert register.completed_by is None
    (launched,) = engine.launch_action(case.ref, "second_opinion", by="bob")
    assert launched.instructions == "Ask a senior assessor"


# -- working on actions ----------------------------------------------------------------------------


def test_A_start_action_assigns_the_worker(engine: Engine, clock: ManualClock) -> None:
    case = claim_in_progress(engine)
    register = open_action(engine, case.ref, "register")
    clock.advance(timedelta(minutes=4))
    started = engine.start_action(register.ref, by="carol")
    assert started.status is CaseStatus.IN_PROGRESS
    assert started.assignee == "carol"
    assert started.started_at == at(2, 9, 4)
    assert engine.actions(case.ref) == [started]


def test_A_complete_on_a_to_do_action_starts_it_first(engine: Engine, clock: ManualClock) -> None:
    case = claim_in_progress(engine)
    register = open_action(engine, case.ref, "register")
    clock.advance(timedelta(minutes=7))
    done = engine.complete_action(register.ref, by="carol")
    assert done.status is CaseStatus.RESOLVED
    assert done.assignee == "carol"
    assert done.started_at == at(2, 9, 7)
    assert done.completed_by == "carol"
    kinds = [e.kind for e in engine.timeline(register.ref)]
    assert "action_started" in kinds and "action_completed" in kinds


def test_A_complete_with_data_merges_into_the_case_before_the_flow_moves_on(
    engine: Engine,
) -> None:
    case = engine.create_case(
        "claim", by="ann", data={"amount": 5000, "car": {"make": "VW"}}, submit=True
    )
    register = open_action(engine, case.ref, "register")
    engine.complete_action(register.ref, by="bob", data={"amount": 300, "car": {"km": 9}})
    after = engine.case(case.ref)
    assert after.data == {"amount": 300, "car": {"km": 9}}  # shallow merge
    # amount 300 no longer meets the Assessment condition (amount > 1000): stage skipped.
    assert [(a.action_type, a.stage) for a in engine.actions(case.ref)] == [
        ("pay", 3),
        ("register", 1),
    ]


def test_A_complete_with_data_can_enable_a_stage(engine: Engine) -> None:
    case = engine.create_case("claim", by="ann", data={"amount": 10}, submit=True)
    register = open_action(engine, case.ref, "register")
    engine.complete_action(register.ref, by="bob", data={"amount": 2000, "note": "big"})
    assert engine.case(case.ref).data == {"amount": 2000, "note": "big"}
    assert open_action(engine, case.ref, "assess").stage == 2


def test_A_missing_condition_data_skips_the_stage(engine: Engine) -> None:
    case = engine.create_case("claim", by="ann", submit=True)
    engine.complete_action(open_action(engine, case.ref, "register").ref, by="bob")
    assert open_action(engine, case.ref, "pay").stage == 3


def test_A_case_stays_in_progress_when_the_last_stage_finishes(engine: Engine) -> None:
    case = claim_in_progress(engine)
    for action_type in ("register", "assess", "pay"):
        engine.complete_action(open_action(engine, case.ref, action_type).ref, by="bob")
    after = engine.case(case.ref)
    assert after.status is CaseStatus.IN_PROGRESS
    assert [a.status for a in engine.actions(case.ref)] == [CaseStatus.RESOLVED] * 3
    assert engine.resolve(case.ref, by="bob").status is CaseStatus.RESOLVED


def test_A_a_completed_action_cannot_be_completed_again(engine: Engine) -> None:
    case = claim_in_progress(engine)
    register = open_action(engine, case.ref, "register")
    engine.complete_action(register.ref, by="bob")
    assert_refused(
        engine,
        case.ref,
        InvalidTransition,
        "complete_action",
        lambda: engine.complete_action(register.ref, by="bob"),
    )


def test_S4_fail_action_keeps_the_error_and_unassigns(engine: Engine) -> None:
    case = claim_in_progress(engine)
    register = open_action(engine, case.ref, "register")
    engine.start_action(register.ref, by="robot-1")
    failed = engine.fail_action(register.ref, error="scanner offline")
    assert failed.status is CaseStatus.TO_DO
    assert failed.assignee is None
    assert failed.error == "scanner offline"
    assert "scanner offline" in failed.status_text
    assert engine.actions(case.ref) == [failed]
    redone = engine.complete_action(register.ref, by="bob")
    assert (redone.status, redone.completed_by) == (CaseStatus.RESOLVED, "bob")


def test_S3_refuse_action_clears_the_start(engine: Engine) -> None:
    case = claim_in_progress(engine)
    register = open_action(engine, case.ref, "register")
    engine.start_action(register.ref, by="robot-1")
    refused = engine.refuse_action(register.ref, by="robot-1")
    assert (refused.status, refused.assignee, refused.started_at) == (
        CaseStatus.TO_DO,
        None,
        None,
    )
    assert engine.case(case.ref).status is CaseStatus.IN_PROGRESS


def test_A_action_timeline_records_launch_and_completion(
    engine: Engine, clock: ManualClock
) -> None:
    case = claim_in_progress(engine)
    (action,) = engine.launch_action(case.ref, "second_opinion", by="zoe")
    clock.advance(timedelta(hours=1))
    engine.complete_action(action.ref, by="zoe", data={"opinion": "ok"})
    events = engine.timeline(action.ref)
    assert [(e.by, e.at) for e in events][0] == ("zoe", START)
    assert events[-1].kind == "action_completed"
    assert (events[-1].by, events[-1].at) == ("zoe", at(2, 10))
    assert engine.case(case.ref).data["opinion"] == "ok"
