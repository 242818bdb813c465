"""Engine façade: rework (SPEC RW1-RW10; issue 4)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from conftest import assert_refused, at, claim_in_progress, open_action, state_of

from engine import (
    Action,
    Case,
    CaseStatus,
    Engine,
    HoldKind,
    InvalidArgument,
    InvalidTransition,
    ManualClock,
    NotFound,
)

PROCESSES = Path(__file__).parent.parent / "processes"
FINISHED = (CaseStatus.RESOLVED, CaseStatus.CLOSED, CaseStatus.CANCELLED)


@pytest.fixture
def full(clock: ManualClock) -> Iterator[Engine]:
    """The three definitions of processes/ (claim with its fraud-check sub-case step)."""
    engine = Engine("sqlite:///:memory:", clock=clock)
    for name in ("claim", "fraud_check", "onboarding"):
        engine.deploy(PROCESSES / f"{name}.yaml")
    yield engine
    engine.close()


def of_type(engine: Engine, ref: str, action_type: str) -> list[Action]:
    """The case's actions of ``action_type``, oldest first."""
    found = [a for a in engine.actions(ref) if a.action_type == action_type]
    return sorted(found, key=lambda a: int(a.ref.rsplit("-", 1)[1]))


def at_payment(engine: Engine, *, amount: int = 5000) -> tuple[Case, Action, Action | None]:
    """API.md's claim in its Payment stage: register completed by carol, assess (when the
    amount runs it) by dan; the case is assigned to bob. Returns the case, register, assess."""
    case = claim_in_progress(engine, amount=amount)
    register = engine.complete_action(open_action(engine, case.ref, "register").ref, by="carol")
    assess = None
    if amount > 1000:
        assess = engine.complete_action(open_action(engine, case.ref, "assess").ref, by="dan")
    assert open_action(engine, case.ref, "pay").stage == 3
    return engine.case(case.ref), register, assess


def points(engine: Engine, ref: str) -> list[tuple[int, str | None]]:
    return [(p.stage, p.action) for p in engine.rework_points(ref)]


# -- RW1: restart points, from the case or from an action -----------------------------------------


def test_RW1_points_are_earlier_stages_and_their_completed_actions(engine: Engine) -> None:
    case, register, assess = at_payment(engine)
    assert assess is not None
    assert points(engine, case.ref) == [(1, None), (1, register.ref), (2, None), (2, assess.ref)]
    by_point = {(p.stage, p.action): p for p in engine.rework_points(case.ref)}
    assert by_point[(1, None)].stage_name == "Intake"
    assert by_point[(2, assess.ref)].action_type == "assess"


def test_RW1_rework_from_the_start_of_a_stage(engine: Engine, clock: ManualClock) -> None:
    case, register, _ = at_payment(engine)
    pay = open_action(engine, case.ref, "pay")
    clock.advance(timedelta(minutes=15))
    reworked = engine.rework(case.ref, by="bob", stage=1)
    assert reworked.status is CaseStatus.IN_PROGRESS
    fresh = open_action(engine, case.ref, "register")
    assert fresh.ref != register.ref
    assert (fresh.status, fresh.stage, fresh.ad_hoc) == (CaseStatus.TO_DO, 1, False)
    assert fresh.created_at == at(2, 9, 15)
    assert engine.action(pay.ref).status is CaseStatus.CLOSED
    assert engine.action(register.ref).status is CaseStatus.RESOLVED  # history is kept
    assert reworked.stage == 1


def test_RW1_rework_from_a_completed_action(engine: Engine) -> None:
    case, register, assess = at_payment(engine)
    assert assess is not None
    engine.rework(case.ref, by="bob", action=assess.ref)
    fresh = open_action(engine, case.ref, "assess")
    assert fresh.ref != assess.ref
    assert fresh.status is CaseStatus.TO_DO
    assert [a.status for a in of_type(engine, case.ref, "register")] == [CaseStatus.RESOLVED]
    assert [a.status for a in of_type(engine, case.ref, "pay")] == [CaseStatus.CLOSED]
    # The flow goes on from there as usual.
    engine.complete_action(fresh.ref, by="dan")
    assert open_action(engine, case.ref, "pay").status is CaseStatus.TO_DO


def test_RW1_rework_started_from_an_action_of_the_case(engine: Engine) -> None:
    """RW1 "from the case or from any of its actions", like A2's launch from an action: the
    ref given may be one of the case's actions (here the open one the user is in)."""
    case, register, _ = at_payment(engine)
    pay = open_action(engine, case.ref, "pay")
    assert [(p.stage, p.action) for p in engine.rework_points(pay.ref)] == points(engine, case.ref)
    reworked = engine.rework(pay.ref, by="bob", action=register.ref)
    assert reworked.ref == case.ref
    assert open_action(engine, case.ref, "register").ref != register.ref


def test_RW1_rework_from_an_action_restarts_at_that_action_of_its_stage(full: Engine) -> None:
    case = full.create_case("onboarding", by="hr", submit=True)
    full.start_work(case.ref, by="olga")
    contract = full.complete_action(open_action(full, case.ref, "collect_contract").ref, by="ivy")
    payroll = full.complete_action(open_action(full, case.ref, "payroll_record").ref, by="robo")
    assert len([a for a in full.actions(case.ref) if a.stage == 2]) == 3
    full.rework(case.ref, by="olga", action=payroll.ref)
    assert [a.status for a in of_type(full, case.ref, "collect_contract")] == [CaseStatus.RESOLVED]
    assert open_action(full, case.ref, "payroll_record").ref != payroll.ref
    assert all(a.status is CaseStatus.CLOSED for a in full.actions(case.ref) if a.stage == 2)
    assert contract.status is CaseStatus.RESOLVED


def test_RW1_only_completed_actions_are_points(engine: Engine) -> None:
    case = claim_in_progress(engine)
    engine.complete_action(open_action(engine, case.ref, "register").ref, by="carol")
    started = engine.start_action(open_action(engine, case.ref, "assess").ref, by="dan")
    assert_refused(  # open: not a point
        engine,
        case.ref,
        InvalidArgument,
        "rework",
        lambda: engine.rework(case.ref, by="bob", action=started.ref),
    )
    engine.rework(case.ref, by="bob", stage=1)
    assert engine.action(started.ref).status is CaseStatus.CLOSED
    engine.complete_action(open_action(engine, case.ref, "register").ref, by="carol")
    engine.complete_action(open_action(engine, case.ref, "assess").ref, by="dan")
    assert open_action(engine, case.ref, "pay").stage == 3
    assert started.ref not in {p.action for p in engine.rework_points(case.ref)}
    assert_refused(  # closed by the rework: not a point either
        engine,
        case.ref,
        InvalidArgument,
        "rework",
        lambda: engine.rework(case.ref, by="bob", action=started.ref),
    )


# -- RW2: calendar --------------------------------------------------------------------------------


def test_RW2_a_calendar_can_be_chosen(full: Engine) -> None:
    case = full.create_case("onboarding", by="hr", submit=True)
    full.start_work(case.ref, by="olga")
    for action_type in ("collect_contract", "payroll_record"):
        full.complete_action(open_action(full, case.ref, action_type).ref, by="ivy")
    assert full.case(case.ref).calendar == "paris_office"
    reworked = full.rework(case.ref, by="olga", stage=1, calendar="office")
    assert reworked.calendar == "office"
    (event,) = full.timeline(case.ref, kinds=["rework"])
    assert event.details["calendar"] == "office"


def test_RW2_unknown_calendar_is_not_found(engine: Engine) -> None:
    case, _, _ = at_payment(engine)
    error = assert_refused(
        engine,
        case.ref,
        NotFound,
        "rework",
        lambda: engine.rework(case.ref, by="bob", stage=1, calendar="mars"),
    )
    assert "mars" in str(error)


# -- RW3: conditions re-evaluated only from the start of a stage ----------------------------------


def _set_amount(engine: Engine, ref: str, amount: int) -> None:
    """Change the case data without moving the flow: complete an ad hoc action with data."""
    (note,) = engine.launch_action(ref, "second_opinion", by="bob")
    engine.complete_action(note.ref, by="bob", data={"amount": amount})
    assert engine.case(ref).data["amount"] == amount


def test_RW3_stage_rework_runs_a_stage_skipped_before(engine: Engine) -> None:
    case, _, assess = at_payment(engine, amount=500)  # Assessment skipped
    assert assess is None
    assert (2, None) in points(engine, case.ref)
    _set_amount(engine, case.ref, 5000)
    engine.rework(case.ref, by="bob", stage=2)
    assert open_action(engine, case.ref, "assess").status is CaseStatus.TO_DO
    assert [a.status for a in of_type(engine, case.ref, "pay")] == [CaseStatus.CLOSED]


def test_RW3_stage_rework_skips_a_stage_run_before(engine: Engine) -> None:
    case, _, assess = at_payment(engine, amount=5000)
    assert assess is not None
    _set_amount(engine, case.ref, 500)
    engine.rework(case.ref, by="bob", stage=2)
    assert [a.ref for a in of_type(engine, case.ref, "assess")] == [assess.ref]
    old_pay, new_pay = of_type(engine, case.ref, "pay")
    assert (old_pay.status, new_pay.status) == (CaseStatus.CLOSED, CaseStatus.TO_DO)


def test_RW3_action_rework_does_not_re_evaluate_its_stage(engine: Engine) -> None:
    case, _, assess = at_payment(engine, amount=5000)
    assert assess is not None
    _set_amount(engine, case.ref, 500)
    engine.rework(case.ref, by="bob", action=assess.ref)
    fresh = open_action(engine, case.ref, "assess")
    assert fresh.ref != assess.ref


def test_RW3_stage_rework_uses_the_data_as_it_is_now(full: Engine) -> None:
    case = full.create_case("onboarding", by="hr", data={"remote": True}, submit=True)
    full.start_work(case.ref, by="olga")
    for action_type in ("collect_contract", "payroll_record"):
        full.complete_action(open_action(full, case.ref, action_type).ref, by="ivy")
    for action_type in ("order_laptop", "create_accounts", "badge"):
        full.complete_action(open_action(full, case.ref, action_type).ref, by="ivy")
    assert not of_type(full, case.ref, "welcome")  # remote: First day skipped
    check_in = open_action(full, case.ref, "check_in")
    assert check_in.stage == 4
    (extra,) = full.launch_action(case.ref, "replace_equipment", by="olga")
    full.complete_action(extra.ref, by="olga", data={"remote": False})
    full.rework(case.ref, by="olga", stage=3)
    assert open_action(full, case.ref, "welcome").stage == 3
    assert full.action(check_in.ref).status is CaseStatus.CLOSED


# -- RW4: ad hoc actions are no rework points ------------------------------------------------------


def test_RW4_an_ad_hoc_action_is_no_rework_point(engine: Engine) -> None:
    case, _, _ = at_payment(engine)
    (adhoc,) = engine.launch_action(case.ref, "second_opinion", by="bob")  # stage 2
    engine.complete_action(adhoc.ref, by="bob")
    assert adhoc.ref not in {p.action for p in engine.rework_points(case.ref)}
    error = assert_refused(
        engine,
        case.ref,
        InvalidArgument,
        "rework",
        lambda: engine.rework(case.ref, by="bob", action=adhoc.ref),
    )
    assert adhoc.ref in str(error)


# -- RW5: only earlier stages ---------------------------------------------------------------------


def test_RW5_the_current_stage_is_refused(engine: Engine) -> None:
    case, _, _ = at_payment(engine)
    error = assert_refused(
        engine,
        case.ref,
        InvalidArgument,
        "rework",
        lambda: engine.rework(case.ref, by="bob", stage=3),
    )
    assert "stage 3" in str(error)


def test_RW5_a_later_stage_is_refused(engine: Engine) -> None:
    case = claim_in_progress(engine)
    engine.complete_action(open_action(engine, case.ref, "register").ref, by="bob")
    assert points(engine, case.ref) == [
        (1, None),
        (1, of_type(engine, case.ref, "register")[0].ref),
    ]
    assert_refused(
        engine,
        case.ref,
        InvalidArgument,
        "rework",
        lambda: engine.rework(case.ref, by="bob", stage=3),
    )


def test_RW5_nothing_to_rework_in_the_first_stage(engine: Engine) -> None:
    case = claim_in_progress(engine)
    assert engine.rework_points(case.ref) == []
    assert_refused(
        engine,
        case.ref,
        InvalidArgument,
        "rework",
        lambda: engine.rework(case.ref, by="bob", stage=1),
    )


@pytest.mark.parametrize("stage", [0, 4, -1])
def test_RW5_unknown_stage_is_not_found(engine: Engine, stage: int) -> None:
    case, _, _ = at_payment(engine)
    assert_refused(
        engine,
        case.ref,
        NotFound,
        "rework",
        lambda: engine.rework(case.ref, by="bob", stage=stage),
    )


@pytest.mark.parametrize("which", ["unknown", "other case's action", "a case ref"])
def test_RW5_unknown_action_or_action_of_another_case_is_not_found(
    engine: Engine, which: str
) -> None:
    case, _, _ = at_payment(engine)
    other, other_register, _ = at_payment(engine)
    ref = {"unknown": "A-999", "other case's action": other_register.ref, "a case ref": other.ref}
    assert_refused(
        engine,
        case.ref,
        NotFound,
        "rework",
        lambda: engine.rework(case.ref, by="bob", action=ref[which]),
    )


@pytest.mark.parametrize(("stage", "action"), [(None, None), (1, "A-1"), (True, None), ("1", None)])
def test_RW5_exactly_one_point_must_be_given(
    engine: Engine, stage: object, action: str | None
) -> None:
    case, _, _ = at_payment(engine)
    assert_refused(
        engine,
        case.ref,
        InvalidArgument,
        "rework",
        lambda: engine.rework(case.ref, by="bob", stage=stage, action=action),  # type: ignore[arg-type]
    )


def test_RW5_unknown_case_is_not_found(engine: Engine) -> None:
    with pytest.raises(NotFound):
        engine.rework("C-404", by="bob", stage=1)
    with pytest.raises(NotFound):
        engine.rework_points("C-404")


# -- RW6: downstream stages completed earlier are not offered -------------------------------------


def test_RW6_downstream_stages_completed_earlier_are_not_offered(engine: Engine) -> None:
    case, register, assess = at_payment(engine)
    assert assess is not None
    engine.rework(case.ref, by="bob", stage=1)
    assert engine.rework_points(case.ref) == []
    assert_refused(
        engine,
        case.ref,
        InvalidArgument,
        "rework",
        lambda: engine.rework(case.ref, by="bob", action=assess.ref),
    )
    assert_refused(
        engine,
        case.ref,
        InvalidArgument,
        "rework",
        lambda: engine.rework(case.ref, by="bob", stage=2),
    )
    second_register = engine.complete_action(
        open_action(engine, case.ref, "register").ref, by="carol"
    )
    # In stage 2 again: stage 1 and its latest completion only; the old assessment is gone.
    assert points(engine, case.ref) == [(1, None), (1, second_register.ref)]
    assert register.ref not in {p.action for p in engine.rework_points(case.ref)}


def test_RW6_many_reworks_keep_offering_only_earlier_stages(engine: Engine) -> None:
    case, _, _ = at_payment(engine)
    for _ in range(5):
        engine.rework(case.ref, by="bob", stage=2)
        assert [p.stage for p in engine.rework_points(case.ref)] == [1, 1]
        engine.complete_action(open_action(engine, case.ref, "assess").ref, by="dan")
        assert [p.stage for p in engine.rework_points(case.ref)] == [1, 1, 2, 2]
    assert len(of_type(engine, case.ref, "assess")) == 6
    assert len(of_type(engine, case.ref, "pay")) == 6
    assert [a.status for a in of_type(engine, case.ref, "pay")] == [CaseStatus.CLOSED] * 5 + [
        CaseStatus.TO_DO
    ]


# -- RW7: finishing sub-cases and ad hoc actions ---------------------------------------------------


def _claim_in_fraud_stage(engine: Engine) -> tuple[Case, Case, Action]:
    """processes/claim.yaml, amount 8000: the fraud-check step waits for sub-case <ref>-1; an
    ad hoc request for documents is open."""
    case = engine.create_case("claim", by="ann", data={"amount": 8000}, submit=True)
    engine.start_work(case.ref, by="bob")
    engine.complete_action(open_action(engine, case.ref, "register").ref, by="carol")
    (adhoc,) = engine.launch_action(case.ref, "request_documents", by="bob")
    (sub,) = engine.case(case.ref).subcases
    return engine.case(case.ref), engine.case(sub), adhoc


def test_RW7_without_options_sub_cases_and_ad_hoc_actions_stay_open(full: Engine) -> None:
    case, sub, adhoc = _claim_in_fraud_stage(full)
    step = open_action(full, case.ref, "fraud_check")
    full.rework(case.ref, by="bob", stage=1)
    assert full.case(sub.ref).status is CaseStatus.TO_DO
    assert full.action(adhoc.ref).status is CaseStatus.TO_DO
    assert full.action(step.ref).status is CaseStatus.CLOSED  # RW8: the flow step closes
    # The old sub-case still holds the parent (SC1) but no longer drives its flow.
    with pytest.raises(InvalidTransition, match=sub.ref):
        full.resolve(case.ref, by="bob")
    full.cancel(sub.ref, by="bob")
    assert open_action(full, case.ref, "register").status is CaseStatus.TO_DO
    assert not of_type(full, case.ref, "assess")


def test_RW7_finish_subcases_and_ad_hoc_actions(full: Engine) -> None:
    case, sub, adhoc = _claim_in_fraud_stage(full)
    full.rework(case.ref, by="bob", stage=1, finish_subcases=True, finish_adhoc=True)
    assert full.case(sub.ref).status in FINISHED
    assert full.action(adhoc.ref).status is CaseStatus.CLOSED
    (event,) = full.timeline(case.ref, kinds=["rework"])
    assert (event.details["finish_subcases"], event.details["finish_adhoc"]) == (True, True)
    # The flow runs the fraud stage again: a new sub-case.
    full.complete_action(open_action(full, case.ref, "register").ref, by="carol")
    assert full.case(case.ref).subcases == (sub.ref, f"{case.ref}-2")


def test_RW7_rework_from_a_sub_case_step_starts_a_new_sub_case(full: Engine) -> None:
    case, sub, _ = _claim_in_fraud_stage(full)
    full.start_work(sub.ref, by="sam")
    full.resolve(sub.ref, by="sam")
    (step,) = of_type(full, case.ref, "fraud_check")
    assess = open_action(full, case.ref, "assess")
    full.rework(case.ref, by="bob", action=step.ref)
    again = open_action(full, case.ref, "fraud_check")
    assert again.ref != step.ref
    assert again.status is CaseStatus.IN_PROGRESS
    assert full.action(assess.ref).status is CaseStatus.CLOSED
    assert full.case(case.ref).subcases == (sub.ref, f"{case.ref}-2")
    assert full.case(f"{case.ref}-2").status is CaseStatus.TO_DO


@pytest.mark.parametrize(("subs", "adhoc"), [(True, False), (False, True)])
def test_RW7_each_option_alone(full: Engine, subs: bool, adhoc: bool) -> None:
    case, sub, launched = _claim_in_fraud_stage(full)
    full.rework(case.ref, by="bob", stage=1, finish_subcases=subs, finish_adhoc=adhoc)
    assert (full.case(sub.ref).status in FINISHED) is subs
    assert (full.action(launched.ref).status is CaseStatus.CLOSED) is adhoc


# -- RW8: In Progress; open actions closed; fresh To Do copies ------------------------------------


def test_RW8_case_becomes_in_progress_open_actions_close_fresh_copies(
    engine: Engine, clock: ManualClock
) -> None:
    case, register, _ = at_payment(engine)
    pay = open_action(engine, case.ref, "pay")
    engine.start_action(pay.ref, by="robot-1")
    engine.set_status(case.ref, CaseStatus.TO_DO, by="bob")
    clock.advance(timedelta(hours=1))
    reworked = engine.rework(case.ref, by="zoe", stage=1)
    assert reworked.status is CaseStatus.IN_PROGRESS
    assert (reworked.status_set_by, reworked.status_set_at) == ("zoe", at(2, 10))
    closed = engine.action(pay.ref)
    assert closed.status is CaseStatus.CLOSED
    fresh = open_action(engine, case.ref, "register")
    assert (fresh.title, fresh.stage, fresh.status) == (register.title, 1, CaseStatus.TO_DO)
    assert fresh.started_at is None and fresh.completed_by is None
    assert fresh.due == at(2, 14)  # its own rule (4h) from the rework time
    open_now = [a for a in engine.actions(case.ref) if a.status is CaseStatus.TO_DO]
    assert open_now == [fresh]


def test_RW8_unassigned_case_is_assigned_to_who_reworks(engine: Engine) -> None:
    case, _, _ = at_payment(engine)
    engine.unassign(case.ref, by="bob")
    assert engine.rework(case.ref, by="zoe", stage=1).assignee == "zoe"


_ENDINGS: dict[str, Callable[[Engine, str], object]] = {
    "Waiting": lambda e, r: e.hold(r, HoldKind.PAUSED, by="bob"),
    "Resolved": lambda e, r: e.resolve(r, by="bob"),
    "Cancelled": lambda e, r: e.cancel(r, by="bob"),
}


@pytest.mark.parametrize("status", list(_ENDINGS))
def test_RW8_rework_only_from_to_do_or_in_progress(engine: Engine, status: str) -> None:
    case, _, _ = at_payment(engine)
    _ENDINGS[status](engine, case.ref)
    assert engine.case(case.ref).status.value == status
    assert_refused(
        engine,
        case.ref,
        InvalidTransition,
        "rework",
        lambda: engine.rework(case.ref, by="bob", stage=1),
    )


def test_RW8_after_the_flow_finished_the_last_stage_is_a_point(engine: Engine) -> None:
    case, _, _ = at_payment(engine)
    pay = engine.complete_action(open_action(engine, case.ref, "pay").ref, by="robot-1")
    assert (3, pay.ref) in points(engine, case.ref)
    engine.rework(case.ref, by="bob", action=pay.ref)
    assert open_action(engine, case.ref, "pay").ref != pay.ref
    assert engine.case(case.ref).status is CaseStatus.IN_PROGRESS


# -- RW9: the timeline -----------------------------------------------------------------------------


def test_RW9_timeline_records_who_when_stage_and_action(engine: Engine, clock: ManualClock) -> None:
    case, _, assess = at_payment(engine)
    assert assess is not None
    clock.advance(timedelta(minutes=20))
    engine.rework(case.ref, by="zoe", stage=1)
    engine.complete_action(open_action(engine, case.ref, "register").ref, by="carol")
    second_assess = engine.complete_action(open_action(engine, case.ref, "assess").ref, by="dan")
    clock.advance(timedelta(minutes=20))
    engine.rework(case.ref, by="yan", action=second_assess.ref)
    events = engine.timeline(case.ref, kinds=["rework"])
    assert [(e.kind, e.by, e.at) for e in events] == [
        ("rework", "zoe", at(2, 9, 20)),
        ("rework", "yan", at(2, 9, 40)),
    ]
    assert (events[0].details["stage"], events[0].details["action"]) == (1, None)
    assert (events[1].details["stage"], events[1].details["action"]) == (2, second_assess.ref)
    assert [e.kind for e in engine.timeline(case.ref) if e.kind == "rework"] == ["rework"] * 2


def test_RW9_rework_history_shows_in_the_timelines_of_actions_and_subcases(full: Engine) -> None:
    case, sub, adhoc = _claim_in_fraud_stage(full)
    register = of_type(full, case.ref, "register")[0]
    full.rework(case.ref, by="zoe", stage=1)
    fresh = open_action(full, case.ref, "register")
    for ref in (register.ref, fresh.ref, adhoc.ref, sub.ref):
        events = full.timeline(ref, kinds=["rework"])
        assert [(e.kind, e.by, e.details["stage"]) for e in events] == [("rework", "zoe", 1)], ref


# -- RW10: who gets the re-created actions ---------------------------------------------------------


def test_RW10_recreated_action_goes_to_who_completed_it(engine: Engine) -> None:
    case, register, assess = at_payment(engine)
    assert (register.completed_by, case.assignee) == ("carol", "bob")
    engine.rework(case.ref, by="zoe", stage=1)
    assert open_action(engine, case.ref, "register").assignee == "carol"
    engine.complete_action(open_action(engine, case.ref, "register").ref, by="erin")
    assessment = open_action(engine, case.ref, "assess")
    assert assessment.assignee is None  # later stages follow the normal flow
    engine.complete_action(assessment.ref, by="dan")
    engine.rework(case.ref, by="zoe", stage=1)
    assert open_action(engine, case.ref, "register").assignee == "erin"  # the latest doer


def test_RW10_keep_actions_with_me_takes_priority(engine: Engine) -> None:
    case, _, assess = at_payment(engine)
    assert assess is not None
    engine.set_keep_actions_with_me(case.ref, True, by="bob")
    engine.rework(case.ref, by="zoe", action=assess.ref)
    assert open_action(engine, case.ref, "assess").assignee == "bob"


def test_RW10_parallel_stage_restarts_whole_with_each_previous_doer(full: Engine) -> None:
    case = full.create_case("onboarding", by="hr", submit=True)
    full.start_work(case.ref, by="olga")
    full.set_keep_actions_with_me(case.ref, False, by="olga")
    for action_type in ("collect_contract", "payroll_record"):
        full.complete_action(open_action(full, case.ref, action_type).ref, by="ivy")
    doers = {"order_laptop": "ian", "create_accounts": "robot-7", "badge": "fay"}
    done = {
        t: full.complete_action(open_action(full, case.ref, t).ref, by=w) for t, w in doers.items()
    }
    welcome = open_action(full, case.ref, "welcome")
    assert [p for p in points(full, case.ref) if p[0] == 2] == [
        (2, None),
        *[(2, done[t].ref) for t in doers],
    ]
    full.rework(case.ref, by="olga", action=done["create_accounts"].ref)
    for action_type, who in doers.items():
        fresh = open_action(full, case.ref, action_type)
        assert fresh.ref != done[action_type].ref
        assert (fresh.status, fresh.assignee) == (CaseStatus.TO_DO, who)
    assert full.action(welcome.ref).status is CaseStatus.CLOSED
    assert [a.status for a in of_type(full, case.ref, "collect_contract")] == [CaseStatus.RESOLVED]


def test_RW10_parallel_stage_with_keep_actions_with_me_from_the_definition(full: Engine) -> None:
    case = full.create_case("onboarding", by="hr", submit=True)
    assert case.keep_actions_with_me is True
    full.start_work(case.ref, by="olga")
    for action_type in ("collect_contract", "payroll_record"):
        full.complete_action(open_action(full, case.ref, action_type).ref, by="ivy")
    for action_type in ("order_laptop", "create_accounts", "badge"):
        full.complete_action(open_action(full, case.ref, action_type).ref, by="ian")
    full.rework(case.ref, by="olga", stage=2)
    stage_two = [a for a in full.actions(case.ref) if a.stage == 2 and a.status is CaseStatus.TO_DO]
    assert sorted(a.action_type for a in stage_two) == ["badge", "create_accounts", "order_laptop"]
    assert {a.assignee for a in stage_two} == {"olga"}


# -- bad input (issue 4): nothing changes ----------------------------------------------------------


def test_RW_refused_rework_changes_nothing_at_all(engine: Engine) -> None:
    case, _, _ = at_payment(engine)
    before = state_of(engine, case.ref)
    before_points = engine.rework_points(case.ref)
    calls: list[Callable[[], object]] = [
        lambda: engine.rework(case.ref, by="bob", stage=3),
        lambda: engine.rework(case.ref, by="bob", stage=9),
        lambda: engine.rework(case.ref, by="bob", action="A-999"),
        lambda: engine.rework(case.ref, by="", stage=1),
    ]
    for call in calls:
        with pytest.raises((InvalidArgument, NotFound)):
            call()
    assert state_of(engine, case.ref) == before
    assert engine.rework_points(case.ref) == before_points
