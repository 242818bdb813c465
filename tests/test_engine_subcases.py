"""Engine façade: sub-cases (SPEC SC1-SC10, R1, C4; issue 4)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import START, assert_refused, at, deploy_yaml, open_action, state_of

from engine import (
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

PROCESSES = Path(__file__).parent.parent / "processes"

#: A parent process permitting three sub-case processes (and one never deployed).
DESK = """\
id: desk
name: Service desk
version: 1
customer: Initech
contract: Support
service: Desk
due: 2d
subcases: [review, fraud_check, audit, ghost]
stages:
  - name: Work
    actions:
      - {id: handle, title: Handle request}
      - {id: note, title: Take a note, manual_launch: true, flow: false}
"""

#: Has a feedback window (resolve gives Resolved), refuses due overrides, two mailbox routes,
#: permits ``audit`` sub-cases of its own.
REVIEW = """\
id: review
name: Review
version: 1
customer: Other Corp
contract: Support
service: Review
due: 1d
feedback_window: 1d
allow_due_date_override: false
subcases: [audit]
email_routes:
  - {mailbox: review@initech.example}
  - {mailbox: shared@initech.example, test_mode: true}
stages:
  - name: Check
    actions:
      - {id: check, title: Check request}
      - {id: remark, title: Remark, manual_launch: true, flow: false}
"""

#: Another context; one enabled route shared with ``review`` and one disabled route.
AUDIT = """\
id: audit
name: Audit
version: 1
contract: Finance
service: Audit
due: 3d
email_routes:
  - {mailbox: audit@initech.example}
  - {mailbox: shared@initech.example}
  - {mailbox: old@initech.example, enabled: false}
stages:
  - name: Audit
    actions:
      - {id: audit_books, title: Audit books}
"""


@pytest.fixture(scope="module")
def eng(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """processes/claim.yaml, processes/fraud_check.yaml and the three definitions above, on a
    clock that stays at START; shared by the module (each test works on its own cases)."""
    engine = Engine("sqlite:///:memory:", clock=ManualClock(START))
    engine.deploy(PROCESSES / "claim.yaml")
    engine.deploy(PROCESSES / "fraud_check.yaml")
    folder = tmp_path_factory.mktemp("subcase_definitions")
    for name, text in (("desk", DESK), ("review", REVIEW), ("audit", AUDIT)):
        deploy_yaml(engine, folder, text, f"{name}.yaml")
    yield engine
    engine.close()


def desk_in_progress(engine: Engine, **kw: object) -> Case:
    case = engine.create_case("desk", by="ann", submit=True, **kw)  # type: ignore[arg-type]
    return engine.start_work(case.ref, by="bob")


def claim_with_fraud_step(engine: Engine) -> tuple[Case, Case]:
    """processes/claim.yaml with amount 8000: registering starts the fraud-check sub-case."""
    case = engine.create_case("claim", by="ann", data={"amount": 8000}, submit=True)
    engine.start_work(case.ref, by="bob")
    engine.complete_action(open_action(engine, case.ref, "register").ref, by="bob")
    parent = engine.case(case.ref)
    (sub_ref,) = parent.subcases
    return parent, engine.case(sub_ref)


def work_fraud_check(engine: Engine, ref: str, risk_score: int) -> None:
    """Start the fraud-check case and complete its flow actions (the second stage runs only
    when ``risk_score >= 70``)."""
    engine.start_work(ref, by="sam")
    while True:
        open_ = [a for a in engine.actions(ref) if a.status is CaseStatus.TO_DO]
        if not open_:
            return
        engine.complete_action(open_[0].ref, by="sam", data={"risk_score": risk_score})


# -- SC1: the parent waits for its sub-cases ---------------------------------------------------


def test_SC1_flow_step_creates_the_subcase_and_waits_for_it(eng: Engine) -> None:
    parent, sub = claim_with_fraud_step(eng)
    step = open_action(eng, parent.ref, "fraud_check")
    assert (step.status, step.stage, step.ad_hoc) == (CaseStatus.IN_PROGRESS, 2, False)
    assert sub.ref == f"{parent.ref}-1"
    assert (sub.process, sub.parent, sub.status) == ("fraud_check", parent.ref, CaseStatus.TO_DO)
    assert sub.original_request_at == parent.original_request_at  # C4
    assert sub.calendar == "office"
    assert [a.action_type for a in eng.actions(parent.ref)] == ["fraud_check", "register"]
    work_fraud_check(eng, sub.ref, risk_score=10)
    # The sub-case's flow is done but it is not finished: the parent still waits.
    assert open_action(eng, parent.ref, "fraud_check").status is CaseStatus.IN_PROGRESS
    assert not any(a.action_type == "assess" for a in eng.actions(parent.ref))
    eng.resolve(sub.ref, by="sam")
    assert eng.case(sub.ref).status is CaseStatus.CLOSED
    done = eng.action(step.ref)
    assert done.status is CaseStatus.RESOLVED
    assess = open_action(eng, parent.ref, "assess")
    assert assess.stage == 3
    assert eng.case(parent.ref).data["risk_score"] == 10  # SC6: shared upwards


def test_SC1_flow_step_moves_on_when_the_subcase_is_cancelled(eng: Engine) -> None:
    parent, sub = claim_with_fraud_step(eng)
    eng.cancel(sub.ref, by="sam")
    assert open_action(eng, parent.ref, "assess").status is CaseStatus.TO_DO
    (step,) = [a for a in eng.actions(parent.ref) if a.action_type == "fraud_check"]
    assert step.status is CaseStatus.RESOLVED


def test_SC1_parent_with_a_flow_subcase_cannot_be_resolved(eng: Engine) -> None:
    parent, sub = claim_with_fraud_step(eng)
    error = assert_refused(
        eng, parent.ref, InvalidTransition, "resolve", lambda: eng.resolve(parent.ref, by="bob")
    )
    assert sub.ref in str(error)
    work_fraud_check(eng, sub.ref, risk_score=10)
    eng.resolve(sub.ref, by="sam")
    assert eng.resolve(parent.ref, by="bob").status is CaseStatus.RESOLVED


def test_SC1_subcase_finishing_while_the_parent_waits(eng: Engine) -> None:
    parent, sub = claim_with_fraud_step(eng)
    eng.hold(parent.ref, HoldKind.PAUSED, by="bob")
    eng.start_work(sub.ref, by="sam")
    eng.resolve(sub.ref, by="sam")
    assert eng.case(parent.ref).status is CaseStatus.WAITING
    (step,) = [a for a in eng.actions(parent.ref) if a.action_type == "fraud_check"]
    assert step.status is CaseStatus.RESOLVED
    assert not any(a.action_type == "assess" for a in eng.actions(parent.ref))  # H2
    eng.set_status(parent.ref, CaseStatus.IN_PROGRESS, by="bob")
    assert open_action(eng, parent.ref, "assess").status is CaseStatus.TO_DO


def _finish(engine: Engine, sub: Case, how: str) -> None:
    if how == "cancelled":
        engine.cancel(sub.ref, by="sam")
        return
    engine.start_work(sub.ref, by="sam")
    engine.resolve(sub.ref, by="sam")


@pytest.mark.parametrize(
    ("process", "how", "status"),
    [
        ("review", "resolved", CaseStatus.RESOLVED),  # feedback window: stays Resolved
        ("fraud_check", "closed", CaseStatus.CLOSED),  # no feedback window: Closed
        ("fraud_check", "cancelled", CaseStatus.CANCELLED),
    ],
)
def test_SC1_parent_resolves_only_once_its_subcases_are_finished(
    eng: Engine, process: str, how: str, status: CaseStatus
) -> None:
    parent = desk_in_progress(eng)
    sub = eng.create_subcase(parent.ref, process, by="bob", calendar="office")
    for unfinished in ("To Do", "In Progress", "Waiting"):
        if unfinished == "In Progress":
            eng.start_work(sub.ref, by="sam")
        if unfinished == "Waiting":
            eng.hold(sub.ref, HoldKind.PAUSED, by="sam")
        assert eng.case(sub.ref).status.value == unfinished
        error = assert_refused(
            eng, parent.ref, InvalidTransition, "resolve", lambda: eng.resolve(parent.ref, by="bob")
        )
        assert sub.ref in str(error)
    eng.set_status(sub.ref, CaseStatus.TO_DO, by="sam")
    _finish(eng, sub, how)
    assert eng.case(sub.ref).status is status
    assert eng.resolve(parent.ref, by="bob").status is CaseStatus.CLOSED


def test_SC1_every_subcase_must_be_finished(eng: Engine) -> None:
    parent = desk_in_progress(eng)
    first = eng.create_subcase(parent.ref, "review", by="bob")
    second = eng.create_subcase(parent.ref, "audit", by="bob")
    eng.cancel(first.ref, by="bob")
    error = assert_refused(
        eng, parent.ref, InvalidTransition, "resolve", lambda: eng.resolve(parent.ref, by="bob")
    )
    assert second.ref in str(error)
    assert first.ref not in str(error)


# -- SC2, SC3: where sub-cases come from and whose they are ----------------------------------------


def test_SC2_subcase_only_from_an_existing_case(eng: Engine) -> None:
    with pytest.raises(NotFound, match="C-77"):
        eng.create_subcase("C-77", "review", by="bob")


def test_SC2_unknown_subcase_process_is_not_found(eng: Engine) -> None:
    parent = desk_in_progress(eng)
    before = state_of(eng, parent.ref)
    with pytest.raises(NotFound, match="ghost"):
        eng.create_subcase(parent.ref, "ghost", by="bob")  # permitted but never deployed
    assert state_of(eng, parent.ref) == before


def test_SC3_customer_is_always_the_parents(eng: Engine) -> None:
    parent = desk_in_progress(eng, customer="Initech West")
    sub = eng.create_subcase(parent.ref, "review", by="bob")
    assert sub.customer == "Initech West"  # not review's own "Other Corp"
    assert (sub.contract, sub.service) == ("Support", "Review")
    nested = eng.create_subcase(parent.ref, "audit", by="bob")
    assert nested.customer == "Initech West"


def test_SC3_flow_subcase_gets_the_parents_customer(eng: Engine) -> None:
    case = eng.create_case(
        "claim", by="ann", customer="Umbrella", data={"amount": 8000}, submit=True
    )
    eng.start_work(case.ref, by="bob")
    eng.complete_action(open_action(eng, case.ref, "register").ref, by="bob")
    (sub_ref,) = eng.case(case.ref).subcases
    assert eng.case(sub_ref).customer == "Umbrella"


# -- SC4: what may be created --------------------------------------------------------------------


def _options(engine: Engine, ref: str, **kw: str) -> dict[str, tuple[object, ...]]:
    return {
        o.process: (o.mailbox, o.test_mode, o.preselected)
        for o in engine.subcase_options(ref, **kw)
    }


def test_SC4_options_without_a_filter_are_the_permitted_deployed_processes(eng: Engine) -> None:
    parent = desk_in_progress(eng)
    options = eng.subcase_options(parent.ref)
    assert {o.process for o in options} == {"review", "fraud_check", "audit"}
    assert not any(o.preselected or o.test_mode for o in options)
    by_process = {o.process: o for o in options}
    assert (by_process["audit"].contract, by_process["audit"].service) == ("Finance", "Audit")
    assert {o.customer for o in options} == {"Initech"}  # SC3: the parent's customer


def test_SC4_mailbox_narrows_to_its_enabled_routes(eng: Engine) -> None:
    parent = desk_in_progress(eng)
    assert _options(eng, parent.ref, mailbox="shared@initech.example") == {
        "review": ("shared@initech.example", True, False),  # a test-mode route
        "audit": ("shared@initech.example", False, False),
    }
    assert _options(eng, parent.ref, mailbox="review@initech.example") == {
        "review": ("review@initech.example", False, True),  # single option: preselected
    }
    assert _options(eng, parent.ref, mailbox="old@initech.example") == {}  # disabled route
    assert _options(eng, parent.ref, mailbox="nobody@initech.example") == {}


def test_SC4_contract_and_service_narrow_the_choice(eng: Engine) -> None:
    parent = desk_in_progress(eng)
    assert _options(eng, parent.ref, contract="Support") == {"review": (None, False, True)}
    assert _options(eng, parent.ref, contract="Motor") == {"fraud_check": (None, False, True)}
    assert _options(eng, parent.ref, contract="Finance", service="Audit") == {
        "audit": (None, False, True)
    }
    assert _options(eng, parent.ref, service="Claims") == {}


def test_SC4_options_of_an_unknown_case_are_not_found(eng: Engine) -> None:
    with pytest.raises(NotFound):
        eng.subcase_options("C-99")


# -- SC5: permissions ----------------------------------------------------------------------------


def test_SC5_process_not_permitted_is_refused(eng: Engine) -> None:
    parent = desk_in_progress(eng)
    error = assert_refused(
        eng,
        parent.ref,
        PermissionDenied,
        "create_subcase",
        lambda: eng.create_subcase(parent.ref, "claim", by="bob"),
    )
    assert "claim" in str(error)
    claim = eng.create_case("claim", by="ann", data={"amount": 10}, submit=True)
    assert_refused(
        eng,
        claim.ref,
        PermissionDenied,
        "create_subcase",
        lambda: eng.create_subcase(claim.ref, "review", by="bob"),
    )
    # No permitted process at all: no option, and creating is refused.
    sub = eng.create_subcase(parent.ref, "audit", by="bob")
    assert eng.subcase_options(sub.ref) == []
    assert_refused(
        eng,
        sub.ref,
        PermissionDenied,
        "create_subcase",
        lambda: eng.create_subcase(sub.ref, "audit", by="bob"),
    )


def test_SC5_refusal_does_not_use_up_a_reference(eng: Engine) -> None:
    parent = desk_in_progress(eng)
    with pytest.raises(PermissionDenied):
        eng.create_subcase(parent.ref, "claim", by="bob")
    assert eng.create_subcase(parent.ref, "review", by="bob").ref == f"{parent.ref}-1"


# -- SC6: sharing ---------------------------------------------------------------------------------


def test_SC6_data_is_copied_and_updated_both_ways(eng: Engine) -> None:
    parent = desk_in_progress(eng)
    eng.launch_action(parent.ref, "note", by="bob")
    (note,) = [a for a in eng.actions(parent.ref) if a.ad_hoc]
    eng.complete_action(note.ref, by="bob", data={"vip": True})
    sub = eng.create_subcase(parent.ref, "review", by="bob")
    assert sub.data == {"vip": True}
    done = eng.create_subcase(parent.ref, "audit", by="bob")
    eng.cancel(done.ref, by="bob")
    # From the sub-case up to the parent.
    eng.complete_action(open_action(eng, sub.ref, "check").ref, by="sam", data={"score": 3})
    assert eng.case(parent.ref).data == {"vip": True, "score": 3}
    # From the parent down to its open sub-cases only.
    eng.complete_action(open_action(eng, parent.ref, "handle").ref, by="bob", data={"vip": False})
    assert eng.case(sub.ref).data == {"vip": False, "score": 3}
    assert eng.case(parent.ref).data == {"vip": False, "score": 3}
    assert eng.case(done.ref).data == {"vip": True}


def test_SC6_data_reaches_the_whole_parent_chain_and_open_descendants(eng: Engine) -> None:
    parent = desk_in_progress(eng)
    review = eng.create_subcase(parent.ref, "review", by="bob")
    audit = eng.create_subcase(review.ref, "audit", by="bob")
    eng.complete_action(open_action(eng, audit.ref, "audit_books").ref, by="sam", data={"x": 1})
    assert eng.case(review.ref).data == {"x": 1}
    assert eng.case(parent.ref).data == {"x": 1}
    eng.complete_action(open_action(eng, parent.ref, "handle").ref, by="bob", data={"y": 2})
    assert eng.case(review.ref).data == {"x": 1, "y": 2}
    assert eng.case(audit.ref).data == {"x": 1, "y": 2}


def test_SC6_flow_subcase_data_goes_up_to_the_parent(eng: Engine) -> None:
    parent, sub = claim_with_fraud_step(eng)
    assert sub.data == {"amount": 8000}
    eng.start_work(sub.ref, by="sam")
    first = [a for a in eng.actions(sub.ref) if a.status is CaseStatus.TO_DO][0]
    eng.complete_action(first.ref, by="sam", data={"flag": "red"})
    assert eng.case(parent.ref).data == {"amount": 8000, "flag": "red"}


def test_SC6_timeline_of_a_subcase_shows_the_parent_only_with_related(eng: Engine) -> None:
    parent = desk_in_progress(eng)
    sub = eng.create_subcase(parent.ref, "review", by="bob")
    eng.reply(parent.ref, body="Any news?", sender="customer@acme.example")
    handle = open_action(eng, parent.ref, "handle")
    eng.start_action(handle.ref, by="bob")
    own = eng.timeline(sub.ref)
    assert own
    assert all(e.case_ref == sub.ref for e in own)
    assert not any(e.kind == "reply" for e in own)
    related = eng.timeline(sub.ref, include_related=True)
    replies = [e for e in related if e.kind == "reply"]
    assert [(e.ref, e.details.get("body")) for e in replies] == [(parent.ref, "Any news?")]
    assert any(e.ref == handle.ref and e.kind == "action_started" for e in related)
    assert {e.id for e in own} <= {e.id for e in related}
    sibling = eng.create_subcase(parent.ref, "audit", by="bob")
    assert any(e.ref == sibling.ref for e in eng.timeline(sub.ref, include_related=True))
    assert not any(e.ref == sibling.ref for e in eng.timeline(sub.ref))
    # And the parent's timeline with related activities shows the sub-case's.
    parent_related = eng.timeline(parent.ref, include_related=True)
    assert any(e.ref == sub.ref and e.kind == "created" for e in parent_related)
    assert not any(e.ref == sub.ref for e in eng.timeline(parent.ref))


# -- SC7, SC8: the sub-cases list ----------------------------------------------------------------


def test_SC8_subcases_list_shows_the_summary_and_actions(eng: Engine) -> None:
    parent = desk_in_progress(eng)
    review = eng.create_subcase(parent.ref, "review", by="bob", title="Second look")
    fraud = eng.create_subcase(parent.ref, "fraud_check", by="carol", calendar="office")
    eng.launch_action(review.ref, "remark", by="bob", due=at(2, 12))
    eng.start_work(fraud.ref, by="sam")
    summaries = eng.subcases(parent.ref)
    assert [s.ref for s in summaries] == [review.ref, fraud.ref]
    first, second = summaries
    assert (first.status, first.title, first.process) == (CaseStatus.TO_DO, "Second look", "review")
    assert first.actions_count == 2
    assert first.owner == eng.case(review.ref).owner
    assert first.queue == eng.case(review.ref).queue
    assert first.due == eng.case(review.ref).due == at(3, 9)
    assert list(first.actions) == eng.actions(review.ref)  # expanded in A3 order
    assert (second.status, second.title) == (CaseStatus.IN_PROGRESS, "Fraud check")
    assert second.actions_count == len(eng.actions(fraud.ref)) == 1
    assert second.assignee == "sam"
    assert list(second.actions) == eng.actions(fraud.ref)
    assert eng.case(parent.ref).subcases == (review.ref, fraud.ref)


def test_SC7_subcases_are_not_links(eng: Engine, tmp_path: Path) -> None:
    parent = desk_in_progress(eng)
    sub = eng.create_subcase(parent.ref, "review", by="bob")
    eng.cancel(sub.ref, by="bob")
    eng.complete_action(open_action(eng, parent.ref, "handle").ref, by="bob")
    closed = eng.resolve(parent.ref, by="bob")
    assert closed.status is CaseStatus.CLOSED
    linked = eng.reply(parent.ref, body="One more thing", sender="x@acme.example")
    assert linked.ref != parent.ref
    assert linked.parent is None
    assert eng.case(parent.ref).subcases == (sub.ref,)
    assert [s.ref for s in eng.subcases(parent.ref)] == [sub.ref]
    assert eng.case(sub.ref).parent == parent.ref


def test_SC8_subcases_of_an_unknown_case_are_not_found(eng: Engine) -> None:
    with pytest.raises(NotFound):
        eng.subcases("C-404")


# -- SC9: choices on creation ---------------------------------------------------------------------


def test_SC9_title_due_calendar_and_contacts(eng: Engine) -> None:
    parent = desk_in_progress(eng)
    sub = eng.create_subcase(
        parent.ref,
        "fraud_check",
        by="bob",
        title="Check the garage",
        due=at(4, 12),
        calendar="office",
        contacts=["Jane Doe", {"name": "John Roe", "tags": ["cc"]}],
    )
    assert sub.title == "Check the garage"
    assert sub.due == at(4, 12)
    assert sub.calendar == "office"
    assert sub.status is CaseStatus.TO_DO
    default = eng.create_subcase(parent.ref, "review", by="bob")
    assert default.title == "Review"
    assert default.due == at(3, 9)  # its own rule (1d) from the creation time


def test_SC9_due_override_only_where_allowed(eng: Engine) -> None:
    parent = desk_in_progress(eng)
    error = assert_refused(
        eng,
        parent.ref,
        PermissionDenied,
        "create_subcase",
        lambda: eng.create_subcase(parent.ref, "review", by="bob", due=at(4, 12)),
    )
    assert "review" in str(error)


def test_SC9_due_in_the_past_is_refused(eng: Engine) -> None:
    parent = desk_in_progress(eng)
    assert_refused(
        eng,
        parent.ref,
        InvalidArgument,
        "create_subcase",
        lambda: eng.create_subcase(
            parent.ref, "fraud_check", by="bob", due=START, calendar="office"
        ),
    )


def test_SC9_calendar_is_required_when_configured(eng: Engine) -> None:
    parent = desk_in_progress(eng)
    error = assert_refused(
        eng,
        parent.ref,
        InvalidArgument,
        "create_subcase",
        lambda: eng.create_subcase(parent.ref, "fraud_check", by="bob"),
    )
    assert "calendar" in str(error)
    assert eng.create_subcase(parent.ref, "review", by="bob").calendar is None


def test_SC9_unknown_calendar_is_not_found(eng: Engine) -> None:
    parent = desk_in_progress(eng)
    assert_refused(
        eng,
        parent.ref,
        NotFound,
        "create_subcase",
        lambda: eng.create_subcase(parent.ref, "fraud_check", by="bob", calendar="mars"),
    )


def test_SC9_contact_that_is_not_a_mapping_is_refused(eng: Engine) -> None:
    parent = desk_in_progress(eng)
    before = state_of(eng, parent.ref)
    with pytest.raises(InvalidArgument):
        eng.create_subcase(parent.ref, "review", by="bob", contacts=[42])  # type: ignore[list-item]
    assert state_of(eng, parent.ref) == before


# -- SC10: references; closed parents -------------------------------------------------------------


def test_SC10_references_derive_from_the_parent(eng: Engine) -> None:
    parent = desk_in_progress(eng)
    first = eng.create_subcase(parent.ref, "review", by="bob")
    second = eng.create_subcase(parent.ref, "audit", by="bob")
    assert (first.ref, second.ref) == (f"{parent.ref}-1", f"{parent.ref}-2")
    other = desk_in_progress(eng)
    assert eng.create_subcase(other.ref, "review", by="bob").ref == f"{other.ref}-1"
    third = eng.create_subcase(parent.ref, "review", by="bob")
    assert third.ref == f"{parent.ref}-3"
    assert eng.case(parent.ref).subcases == (first.ref, second.ref, third.ref)


def test_SC10_subcase_of_a_subcase(eng: Engine) -> None:
    parent = desk_in_progress(eng)
    review = eng.create_subcase(parent.ref, "review", by="bob")
    audit = eng.create_subcase(review.ref, "audit", by="bob")
    assert audit.ref == f"{parent.ref}-1-1"
    assert (audit.parent, eng.case(review.ref).subcases) == (review.ref, (audit.ref,))
    assert eng.case(parent.ref).subcases == (review.ref,)
    assert eng.create_subcase(parent.ref, "audit", by="bob").ref == f"{parent.ref}-2"


def test_SC10_flow_subcase_reference(eng: Engine) -> None:
    parent, sub = claim_with_fraud_step(eng)
    assert sub.ref == f"{parent.ref}-1"
    assert eng.create_subcase(parent.ref, "fraud_check", by="bob", calendar="office").ref == (
        f"{parent.ref}-2"
    )


@pytest.mark.parametrize("ending", ["closed", "cancelled"])
def test_SC10_subcase_of_a_closed_or_cancelled_parent_is_refused(eng: Engine, ending: str) -> None:
    parent = desk_in_progress(eng)
    if ending == "closed":
        ended = eng.resolve(parent.ref, by="bob")
        assert ended.status is CaseStatus.CLOSED
    else:
        ended = eng.cancel(parent.ref, by="bob")
        assert ended.status is CaseStatus.CANCELLED
    assert_refused(
        eng,
        parent.ref,
        InvalidTransition,
        "create_subcase",
        lambda: eng.create_subcase(parent.ref, "review", by="bob"),
    )
    assert eng.subcases(parent.ref) == []
