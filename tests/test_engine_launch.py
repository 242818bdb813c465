"""Engine façade: manually launched actions and the actions list (SPEC A1-A4, issue 4)."""

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
    PermissionDenied,
)

#: Two stages, each with a flow action and a ``manual_launch`` type (no calendar: wall-clock).
ORDERS = """\
id: orders
name: Ordering
version: 1
due: 5d
add_wait_time_to_due_date: true
stages:
  - name: One
    actions:
      - {id: first, title: First step}
      - {id: alpha, title: Alpha, manual_launch: true, flow: false, due: 2h,
         instructions: Do alpha, queue: backoffice}
  - name: Two
    actions:
      - {id: second, title: Second step}
      - {id: beta, title: Beta, manual_launch: true, flow: false}
"""

#: The ``orders`` case due date: submitted Monday 09:00 + 5 days (wall-clock).
ORDERS_DUE = at(7, 9)


def orders_in_progress(engine: Engine, tmp_path: Path) -> Case:
    """An ``orders`` case submitted by ann and started by bob at the current time."""
    deploy_yaml(engine, tmp_path, ORDERS, "orders.yaml")
    case = engine.create_case("orders", by="ann", submit=True)
    return engine.start_work(case.ref, by="bob")


def others(engine: Engine, ref: str, launched: list[Action]) -> list[Action]:
    new = {a.ref for a in launched}
    return [a for a in engine.actions(ref) if a.ref not in new]


# -- A1: what a launch creates ---------------------------------------------------------------------


def test_A1_launch_with_due_count_and_instructions(engine: Engine, clock: ManualClock) -> None:
    case = claim_in_progress(engine)
    clock.advance(timedelta(minutes=7))
    launched = engine.launch_action(
        case.ref, "second_opinion", by="bob", due=at(4, 12), count=3, instructions="Call Joe"
    )
    assert len(launched) == 3
    assert len({a.ref for a in launched}) == 3
    for action in launched:
        assert (action.case_ref, action.action_type, action.title) == (
            case.ref,
            "second_opinion",
            "Second opinion",
        )
        assert action.instructions == "Call Joe"
        assert action.due == at(4, 12)
        assert action.status is CaseStatus.TO_DO
        assert action.ad_hoc is True
        assert action.started_at is None
        assert action.completed_by is None
        assert action.created_at == at(2, 9, 7)
    listed = {a.ref: a for a in engine.actions(case.ref)}
    assert [listed[a.ref] for a in launched] == launched
    for action in launched:
        (event,) = engine.timeline(action.ref)
        assert (event.kind, event.by, event.at) == ("action_launched", "bob", at(2, 9, 7))


def test_A1_defaults_come_from_the_definition(
    engine: Engine, tmp_path: Path, clock: ManualClock
) -> None:
    case = orders_in_progress(engine, tmp_path)
    clock.advance(timedelta(minutes=30))
    (alpha,) = engine.launch_action(case.ref, "alpha", by="bob")
    assert alpha.instructions == "Do alpha"
    assert alpha.due == at(2, 11, 30)  # its own rule (2h) from the launch time
    assert alpha.queue == "backoffice"
    assert alpha.stage == 1
    (beta,) = engine.launch_action(case.ref, "beta", by="bob")
    assert beta.instructions is None
    assert beta.due == ORDERS_DUE  # no rule of its own: the case's due date
    assert beta.stage == 2
    (replaced,) = engine.launch_action(case.ref, "alpha", by="bob", instructions="Other")
    assert replaced.instructions == "Other"


def test_A1_count_bounds_1_and_100_are_accepted(engine: Engine) -> None:
    case = claim_in_progress(engine)
    assert len(engine.launch_action(case.ref, "second_opinion", by="bob", count=1)) == 1
    hundred = engine.launch_action(case.ref, "second_opinion", by="bob", count=100)
    assert len(hundred) == 100
    assert len({a.ref for a in hundred}) == 100
    assert len(engine.actions(case.ref)) == 102


def test_A1_launched_actions_stay_out_of_the_flow(engine: Engine) -> None:
    case = claim_in_progress(engine)
    (extra,) = engine.launch_action(case.ref, "second_opinion", by="bob")
    engine.complete_action(extra.ref, by="bob")
    register = open_action(engine, case.ref, "register")
    assert register.status is CaseStatus.TO_DO
    engine.complete_action(register.ref, by="bob")
    assess = open_action(engine, case.ref, "assess")
    assert assess.ad_hoc is False
    assert engine.action(extra.ref).status is CaseStatus.RESOLVED


# -- A2: who may launch, from where, and what it changes ----------------------------------------


@pytest.mark.parametrize("action_type", ["register", "assess", "pay"])
def test_A2_types_not_flagged_manual_launch_are_refused(engine: Engine, action_type: str) -> None:
    case = claim_in_progress(engine)
    error = assert_refused(
        engine,
        case.ref,
        PermissionDenied,
        "launch_action",
        lambda: engine.launch_action(case.ref, action_type, by="bob"),
    )
    assert action_type in str(error)


def test_A2_launch_needs_no_assignment(engine: Engine) -> None:
    waiting_in_queue = engine.create_case("claim", by="ann", data={"amount": 5000}, submit=True)
    assert waiting_in_queue.assignee is None
    (one,) = engine.launch_action(waiting_in_queue.ref, "second_opinion", by="zoe")
    assert one.case_ref == waiting_in_queue.ref
    assigned_to_bob = claim_in_progress(engine)
    (two,) = engine.launch_action(assigned_to_bob.ref, "second_opinion", by="zoe")
    assert two.case_ref == assigned_to_bob.ref
    assert one.assignee is None and two.assignee is None
    assert engine.case(assigned_to_bob.ref).assignee == "bob"


@pytest.mark.parametrize("which", ["open", "completed"])
def test_A2_launch_from_an_action_of_the_case(engine: Engine, which: str) -> None:
    case = claim_in_progress(engine)
    register = open_action(engine, case.ref, "register")
    source = register.ref
    if which == "completed":
        engine.complete_action(register.ref, by="bob")
    before_case = engine.case(case.ref)
    before_source = engine.action(source)
    launched = engine.launch_action(source, "second_opinion", by="carol", count=2)
    assert all(a.case_ref == case.ref and a.ad_hoc for a in launched)
    refs = [a.ref for a in engine.actions(case.ref)]
    assert all(a.ref in refs for a in launched)
    assert engine.case(case.ref) == before_case
    assert engine.action(source) == before_source


def test_A2_launch_changes_nothing_else(engine: Engine, clock: ManualClock) -> None:
    case = claim_in_progress(engine)
    engine.complete_action(open_action(engine, case.ref, "register").ref, by="bob")
    clock.advance(timedelta(hours=1))
    before_case = engine.case(case.ref)
    before_actions = engine.actions(case.ref)
    before_timeline = engine.timeline(case.ref)
    launched = engine.launch_action(case.ref, "second_opinion", by="zoe", count=2)
    assert engine.case(case.ref) == before_case
    assert others(engine, case.ref, launched) == before_actions
    assert engine.timeline(case.ref) == before_timeline


def test_A2_launch_is_refused_while_waiting(engine: Engine) -> None:
    case = claim_in_progress(engine)
    register = open_action(engine, case.ref, "register")
    engine.hold(case.ref, HoldKind.PAUSED, by="bob")
    assert_refused(
        engine,
        case.ref,
        InvalidTransition,
        "launch_action",
        lambda: engine.launch_action(case.ref, "second_opinion", by="bob"),
    )
    assert_refused(
        engine,
        case.ref,
        InvalidTransition,
        "launch_action",
        lambda: engine.launch_action(register.ref, "second_opinion", by="bob"),
    )


def _draft(engine: Engine) -> Case:
    return engine.create_case("claim", by="ann", data={"amount": 5000})


def _resolved(engine: Engine, tmp_path: Path) -> Case:
    case = claim_in_progress(engine)
    return engine.resolve(case.ref, by="bob")  # claim has a feedback window: Resolved


def _closed(engine: Engine, tmp_path: Path) -> Case:
    deploy_yaml(engine, tmp_path, ORDERS, "orders.yaml")
    case = engine.create_case("orders", by="ann", submit=True)
    engine.start_work(case.ref, by="bob")
    return engine.resolve(case.ref, by="bob")  # no feedback window: straight to Closed


def _cancelled(engine: Engine, tmp_path: Path) -> Case:
    return engine.cancel(claim_in_progress(engine).ref, by="bob")


_NOT_LAUNCHABLE: dict[str, Callable[[Engine, Path], Case]] = {
    "Draft": lambda e, p: _draft(e),
    "Resolved": _resolved,
    "Closed": _closed,
    "Cancelled": _cancelled,
}


@pytest.mark.parametrize("status", list(_NOT_LAUNCHABLE))
def test_A2_launch_is_refused_outside_to_do_and_in_progress(
    engine: Engine, tmp_path: Path, status: str
) -> None:
    case = _NOT_LAUNCHABLE[status](engine, tmp_path)
    assert case.status.value == status
    action_type = "alpha" if case.process == "orders" else "second_opinion"
    assert_refused(
        engine,
        case.ref,
        InvalidTransition,
        "launch_action",
        lambda: engine.launch_action(case.ref, action_type, by="bob"),
    )


# -- bad input (issue 4) ------------------------------------------------------------------------


@pytest.mark.parametrize("count", [0, 101, -1, True, False, 2.0, "2"])
def test_A1_bad_count_is_refused_and_changes_nothing(engine: Engine, count: object) -> None:
    case = claim_in_progress(engine)
    before = state_of(engine, case.ref)
    with pytest.raises(InvalidArgument, match="count"):
        engine.launch_action(
            case.ref,
            "second_opinion",
            by="bob",
            count=count,  # type: ignore[arg-type]
        )
    assert state_of(engine, case.ref) == before


def test_A1_bad_count_message_names_the_case_its_status_and_the_command(engine: Engine) -> None:
    """API.md: every refused command names the case, its status and what was asked."""
    case = claim_in_progress(engine)
    assert_refused(
        engine,
        case.ref,
        InvalidArgument,
        "launch_action",
        lambda: engine.launch_action(case.ref, "second_opinion", by="bob", count=0),
    )


@pytest.mark.parametrize("due", [START, START - timedelta(days=1)])
def test_A1_due_not_in_the_future_is_refused(engine: Engine, due: object) -> None:
    case = claim_in_progress(engine)
    assert_refused(
        engine,
        case.ref,
        InvalidArgument,
        "launch_action",
        lambda: engine.launch_action(case.ref, "second_opinion", by="bob", due=due),  # type: ignore[arg-type]
    )


def test_A1_unknown_action_type_is_not_found(engine: Engine) -> None:
    case = claim_in_progress(engine)
    error = assert_refused(
        engine,
        case.ref,
        NotFound,
        "launch_action",
        lambda: engine.launch_action(case.ref, "no_such_type", by="bob"),
    )
    assert "no_such_type" in str(error)


def test_A1_unknown_case_or_action_is_not_found(engine: Engine) -> None:
    with pytest.raises(NotFound, match="C-404"):
        engine.launch_action("C-404", "second_opinion", by="bob")


# -- A3: the order of the actions list ----------------------------------------------------------


def test_A3_order_with_a_tie_at_every_level(
    engine: Engine, tmp_path: Path, clock: ManualClock
) -> None:
    case = orders_in_progress(engine, tmp_path)
    (first,) = engine.actions(case.ref)
    engine.complete_action(first.ref, by="bob")  # Resolved, due ORDERS_DUE
    second = open_action(engine, case.ref, "second")
    engine.rework(case.ref, by="bob", stage=1)  # second: Closed
    first_again = open_action(engine, case.ref, "first")  # To Do, stage 1, due ORDERS_DUE

    def launch(action_type: str, due_day: int, count: int = 1) -> list[str]:
        due = at(due_day, 12)
        done = engine.launch_action(case.ref, action_type, by="bob", due=due, count=count)
        return [a.ref for a in done]

    # To Do: due, then stage (same due), then reference (same due and stage, never started).
    (beta_late,) = [a.ref for a in engine.launch_action(case.ref, "beta", by="bob")]
    alpha_wed_a, alpha_wed_b = launch("alpha", 4, count=2)
    (beta_wed,) = launch("beta", 4)
    (alpha_tue,) = launch("alpha", 3)
    # In Progress: started at different times; a tie on the start time goes by reference,
    # numbers compared as numbers (A-9 before A-10, whatever the refs are here).
    started = launch("alpha", 5, count=4)
    (beta_tue_started,) = launch("beta", 3)
    (beta_thu_started,) = launch("beta", 5)
    (done_alpha,) = launch("alpha", 6)
    engine.complete_action(done_alpha, by="carol")  # Resolved, due Friday: before `first`
    engine.start_action(beta_tue_started, by="carol")
    same_a, same_b, early, not_started = started  # same_a and same_b
    engine.start_action(early, by="carol")
    clock.advance(timedelta(minutes=10))
    engine.start_action(same_b, by="dan")
    engine.start_action(same_a, by="dan")
    clock.advance(timedelta(minutes=10))
    engine.start_action(beta_thu_started, by="eve")  # most recent, but stage 2
    expected = [
        # To Do
        alpha_tue,
        alpha_wed_a,
        alpha_wed_b,
        beta_wed,
        not_started,
        first_again.ref,
        beta_late,
        # In Progress
        beta_tue_started,
        same_a,
        same_b,
        early,
        beta_thu_started,
        # Resolved
        done_alpha,
        first.ref,
        # Closed
        second.ref,
    ]
    assert [a.ref for a in engine.actions(case.ref)] == expected
    statuses = [a.status for a in engine.actions(case.ref)]
    assert statuses == [CaseStatus.TO_DO] * 7 + [CaseStatus.IN_PROGRESS] * 5 + [
        CaseStatus.RESOLVED
    ] * 2 + [CaseStatus.CLOSED]
    # Paused: every open action of the case has the same time left, so that level ties and the
    # order below it still holds.
    engine.hold(case.ref, HoldKind.MORE_INFO, by="bob", reason="Customer documents")
    assert engine.case(case.ref).due_state == "paused"
    assert [a.ref for a in engine.actions(case.ref)] == expected


def test_A3_reference_tie_compares_numbers_as_numbers(engine: Engine) -> None:
    case = claim_in_progress(engine)
    batch = engine.launch_action(case.ref, "second_opinion", by="bob", due=at(3, 12), count=12)
    listed = [a.ref for a in engine.actions(case.ref) if a.ad_hoc]
    numbers = [int(ref.rsplit("-", 1)[1]) for ref in listed]
    assert numbers == sorted(numbers)
    assert set(listed) == {a.ref for a in batch}


# -- A4: what each listed action shows ----------------------------------------------------------


def test_A4_each_action_shows_status_refs_title_instructions_due_assignee_queue_text(
    engine: Engine, tmp_path: Path
) -> None:
    case = orders_in_progress(engine, tmp_path)
    (alpha,) = engine.launch_action(case.ref, "alpha", by="bob")
    assert alpha.status is CaseStatus.TO_DO
    assert alpha.case_ref == case.ref
    assert alpha.ref.startswith("A-") and alpha.ref != case.ref
    assert (alpha.title, alpha.instructions) == ("Alpha", "Do alpha")
    assert alpha.due == at(2, 11)
    assert alpha.assignee is None
    assert alpha.queue == "backoffice"
    to_do_text = alpha.status_text
    assert to_do_text
    started = engine.start_action(alpha.ref, by="carol")
    assert started.assignee == "carol"
    assert "carol" in started.status_text
    done = engine.complete_action(alpha.ref, by="carol")
    assert done.status is CaseStatus.RESOLVED
    assert done.completed_by == "carol"
    assert len({to_do_text, started.status_text, done.status_text}) == 3
    (listed,) = [a for a in engine.actions(case.ref) if a.ref == alpha.ref]
    assert listed == done
