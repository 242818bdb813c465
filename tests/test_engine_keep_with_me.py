"""Engine façade: the *keep with me* and *keep actions with me* settings (SPEC V9, RW10)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from conftest import assert_refused, claim_in_progress, open_action

from engine import CaseStatus, Engine, InvalidTransition, ManualClock, NotFound

PROCESSES = Path(__file__).parent.parent / "processes"


# -- keep with me ---------------------------------------------------------------------------------


def test_V9_keep_with_me_assigns_the_case_to_who_sets_it(engine: Engine) -> None:
    case = engine.create_case("claim", by="ann", data={"amount": 5000}, submit=True)
    assert (case.keep_with_me, case.assignee) == (False, None)
    kept = engine.set_keep_with_me(case.ref, True, by="carol")
    assert (kept.keep_with_me, kept.assignee, kept.status) == (True, "carol", CaseStatus.TO_DO)
    assert (kept.updated_by, kept.updated_at) == ("carol", engine.clock.now())
    assert engine.case(case.ref) == kept


def test_V9_keep_with_me_takes_the_case_from_another_assignee(engine: Engine) -> None:
    case = claim_in_progress(engine, by="bob")
    kept = engine.set_keep_with_me(case.ref, True, by="carol")
    assert (kept.assignee, kept.status) == ("carol", CaseStatus.IN_PROGRESS)


def test_V9_clearing_keep_with_me_keeps_the_assignment(engine: Engine) -> None:
    case = claim_in_progress(engine, by="bob")
    engine.set_keep_with_me(case.ref, True, by="bob")
    cleared = engine.set_keep_with_me(case.ref, False, by="dan")
    assert (cleared.keep_with_me, cleared.assignee) == (False, "bob")


def test_V9_keep_with_me_is_recorded_in_the_timeline(engine: Engine) -> None:
    case = claim_in_progress(engine)
    engine.set_keep_with_me(case.ref, True, by="bob")
    engine.set_keep_with_me(case.ref, False, by="bob")
    changes = [e for e in engine.timeline(case.ref) if e.kind == "setting_changed"]
    assert [(e.by, e.details) for e in changes] == [
        ("bob", {"keep_with_me": True}),
        ("bob", {"keep_with_me": False}),
    ]


# -- keep actions with me -------------------------------------------------------------------------


def test_V9_keep_actions_with_me_gives_new_flow_actions_to_the_case_assignee(
    engine: Engine,
) -> None:
    case = claim_in_progress(engine, by="bob")
    register = open_action(engine, case.ref, "register")
    assert register.assignee is None
    kept = engine.set_keep_actions_with_me(case.ref, True, by="bob")
    assert kept.keep_actions_with_me is True
    assert engine.action(register.ref).assignee is None  # existing actions are not moved
    engine.complete_action(register.ref, by="carol")
    assert open_action(engine, case.ref, "assess").assignee == "bob"


def test_V9_keep_actions_with_me_gives_launched_actions_to_the_case_assignee(
    engine: Engine,
) -> None:
    case = claim_in_progress(engine, by="bob")
    engine.set_keep_actions_with_me(case.ref, True, by="bob")
    launched = engine.launch_action(case.ref, "second_opinion", by="zoe", count=2)
    assert [a.assignee for a in launched] == ["bob", "bob"]


def test_V9_keep_actions_with_me_on_an_unassigned_case_assigns_it(engine: Engine) -> None:
    case = engine.create_case("claim", by="ann", data={"amount": 5000}, submit=True)
    kept = engine.set_keep_actions_with_me(case.ref, True, by="carol")
    assert (kept.assignee, kept.keep_actions_with_me, kept.status) == (
        "carol",
        True,
        CaseStatus.TO_DO,
    )
    (launched,) = engine.launch_action(case.ref, "second_opinion", by="zoe")
    assert launched.assignee == "carol"


def test_V9_keep_actions_with_me_follows_the_current_assignee(engine: Engine) -> None:
    case = claim_in_progress(engine, by="bob")
    engine.set_keep_actions_with_me(case.ref, True, by="bob")
    engine.assign(case.ref, "dan", by="bob")
    engine.complete_action(open_action(engine, case.ref, "register").ref, by="bob")
    assert open_action(engine, case.ref, "assess").assignee == "dan"


def test_V9_clearing_keep_actions_with_me_leaves_new_actions_in_the_queue(
    engine: Engine,
) -> None:
    case = claim_in_progress(engine, by="bob")
    engine.set_keep_actions_with_me(case.ref, True, by="bob")
    cleared = engine.set_keep_actions_with_me(case.ref, False, by="bob")
    assert (cleared.keep_actions_with_me, cleared.assignee) == (False, "bob")
    engine.complete_action(open_action(engine, case.ref, "register").ref, by="bob")
    assert open_action(engine, case.ref, "assess").assignee is None
    (launched,) = engine.launch_action(case.ref, "second_opinion", by="bob")
    assert launched.assignee is None


def test_V9_keep_actions_with_me_comes_from_the_definition(clock: ManualClock) -> None:
    with Engine("sqlite:///:memory:", clock=clock) as engine:
        engine.deploy(PROCESSES / "onboarding.yaml")
        case = engine.create_case("onboarding", by="hr", submit=True)
        assert (case.keep_actions_with_me, case.keep_with_me) == (True, False)
        engine.start_work(case.ref, by="olga")
        engine.complete_action(open_action(engine, case.ref, "collect_contract").ref, by="ivy")
        assert open_action(engine, case.ref, "payroll_record").assignee == "olga"


def test_V9_keep_actions_with_me_overrides_rework_assignment(engine: Engine) -> None:
    """RW10: the previous doer gets a re-created action, unless the case keeps its actions."""
    case = claim_in_progress(engine, by="bob")
    engine.complete_action(open_action(engine, case.ref, "register").ref, by="carol")
    engine.rework(case.ref, by="bob", stage=1)
    assert open_action(engine, case.ref, "register").assignee == "carol"
    engine.complete_action(open_action(engine, case.ref, "register").ref, by="carol")
    engine.set_keep_actions_with_me(case.ref, True, by="bob")
    engine.rework(case.ref, by="bob", stage=1)
    assert open_action(engine, case.ref, "register").assignee == "bob"


# -- persistence and refusals ---------------------------------------------------------------------


def test_V9_settings_persist(tmp_path: Path, clock: ManualClock) -> None:
    url = f"sqlite:///{tmp_path / 'cases.sqlite'}"
    with Engine(url, clock=clock) as first:
        first.deploy(PROCESSES / "claim.yaml")
        first.deploy(PROCESSES / "fraud_check.yaml")
        case = claim_in_progress(first, by="bob")
        first.set_keep_with_me(case.ref, True, by="bob")
        first.set_keep_actions_with_me(case.ref, True, by="bob")
    with Engine(url, clock=clock) as second:
        again = second.case(case.ref)
        assert (again.keep_with_me, again.keep_actions_with_me) == (True, True)
        second.complete_action(open_action(second, case.ref, "register").ref, by="bob")
        assert open_action(second, case.ref, "assess").assignee == "bob"


@pytest.mark.parametrize("ending", ["closed", "cancelled"])
def test_V9_settings_cannot_change_once_the_case_is_over(
    engine: Engine, clock: ManualClock, ending: str
) -> None:
    case = claim_in_progress(engine)
    if ending == "cancelled":
        engine.cancel(case.ref, by="bob")
    else:
        engine.resolve(case.ref, by="bob")
        clock.advance(timedelta(days=2))  # the claim's feedback window ends: Closed
        engine.tick()
    assert engine.case(case.ref).status.value == ending.capitalize()
    for command, call in (
        ("keep_with_me", lambda: engine.set_keep_with_me(case.ref, True, by="bob")),
        (
            "keep_actions_with_me",
            lambda: engine.set_keep_actions_with_me(case.ref, True, by="bob"),
        ),
    ):
        assert_refused(engine, case.ref, InvalidTransition, command, call)


def test_V9_unknown_case_is_not_found(engine: Engine) -> None:
    with pytest.raises(NotFound):
        engine.set_keep_with_me("C-404", True, by="bob")
    with pytest.raises(NotFound):
        engine.set_keep_actions_with_me("C-404", True, by="bob")
