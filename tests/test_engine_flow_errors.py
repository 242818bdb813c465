"""Engine façade: the flow cannot move on (S7, issue points 1 and 9).

Whatever stops the SpiffWorkflow flow because of the case's data and its definition — an
exclusive or inclusive gateway none of whose conditions holds and without a default flow, a
condition that cannot be evaluated, a data input or output missing — is refused with a
``FlowError`` naming the case, its status, the command and where the flow stopped, by the
names people know (the gateway's BPMN name, the stage's name, the action's title); nothing
changes. Each way into the flow is tried: submission (by hand, ``create_case``, an email, a
schedule, a reply to a closed case), ``complete_action``, ``rework``, a sub-case finishing
(its parent's flow moves on), a sub-case being created (its own flow starts) and a flow step
that starts a sub-case, also when a timer (``tick``) lets the flow catch up.

The processes are written here (BPMN by hand, or YAML); nothing relies on the compiler's ids.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import assert_refused, at, claim_in_progress, deploy_yaml, state_of
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import ParallelMultiInstanceTask

from engine import (
    CaseStatus,
    Engine,
    EngineError,
    FlowError,
    HoldKind,
    InvalidArgument,
    InvalidTransition,
    ManualClock,
    NotFound,
    PermissionDenied,
    ProcessDefinition,
)
from engine.runtime import flow as flow_module

# -- processes --------------------------------------------------------------------------------

BPMN_HEAD = """\
<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
    xmlns:caseloom="https://caseloom.dev/schema/bpmn/1"
    id="Definitions_1" targetNamespace="https://example.com/processes">
"""


def flow(flow_id: str, source: str, target: str, condition: str | None = None) -> str:
    """A ``bpmn:sequenceFlow``, with a condition when given."""
    if condition is None:
        return f'<bpmn:sequenceFlow id="{flow_id}" sourceRef="{source}" targetRef="{target}"/>\n'
    return (
        f'<bpmn:sequenceFlow id="{flow_id}" sourceRef="{source}" targetRef="{target}">'
        f'<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">{condition}'
        "</bpmn:conditionExpression></bpmn:sequenceFlow>\n"
    )


def plain_bpmn(body: str, *, process: str = "approval", name: str = "Approval") -> str:
    """A plain BPMN process (no caseloom extensions: one stage named like the process)."""
    return (
        f'{BPMN_HEAD}  <bpmn:process id="{process}" name="{name}" isExecutable="true">\n'
        f"{body}  </bpmn:process>\n</bpmn:definitions>\n"
    )


def decide_body(gateway_name: str | None = "Decide", *, review_first: bool = True) -> str:
    """Issue point 1: an exclusive gateway both of whose flows have a condition, no default.

    With ``review_first`` a task "Review the request" comes before the gateway; else the
    gateway follows the start event (the flow stops as the case is submitted).
    """
    named = f' name="{gateway_name}"' if gateway_name is not None else ""
    before = (
        '<bpmn:userTask id="Review" name="Review the request"/>\n'
        + flow("Flow_1", "StartEvent", "Review")
        + flow("Flow_2", "Review", "Gateway_1")
        if review_first
        else flow("Flow_1", "StartEvent", "Gateway_1")
    )
    return (
        '<bpmn:startEvent id="StartEvent"/>\n'
        f'<bpmn:exclusiveGateway id="Gateway_1"{named}/>\n'
        '<bpmn:userTask id="Approve" name="Approve the request"/>\n'
        '<bpmn:userTask id="Reject" name="Reject the request"/>\n'
        '<bpmn:endEvent id="EndEvent"/>\n'
        + before
        + flow("Flow_yes", "Gateway_1", "Approve", "approved == true")
        + flow("Flow_no", "Gateway_1", "Reject", "approved == false")
        + flow("Flow_3", "Approve", "EndEvent")
        + flow("Flow_4", "Reject", "EndEvent")
    )


#: The gateway of issue point 1 right after the start, in a caseloom process with a mailbox
#: route and a daily schedule: every way a case is submitted reaches it at once.
APPROVAL_CASELOOM = f"""\
{BPMN_HEAD}  <bpmn:process id="approval" name="Approval" isExecutable="true">
    <bpmn:extensionElements>
      <caseloom:case version="1">
        <caseloom:emailRoute mailbox="approvals@example.com"/>
        <caseloom:schedule every="1d" first="2026-03-02T08:00:00+00:00" title="Daily approval"/>
        <caseloom:stage number="1" name="Decision" entry="StartEvent">
          <caseloom:actionRef actionId="approve"/>
          <caseloom:actionRef actionId="reject"/>
        </caseloom:stage>
      </caseloom:case>
    </bpmn:extensionElements>
    <bpmn:startEvent id="StartEvent"/>
    <bpmn:exclusiveGateway id="Gateway_1" name="Decide"/>
    <bpmn:userTask id="Approve" name="Approve the request">
      <bpmn:extensionElements><caseloom:action actionId="approve"/></bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:userTask id="Reject" name="Reject the request">
      <bpmn:extensionElements><caseloom:action actionId="reject"/></bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:endEvent id="EndEvent"/>
    {flow("Flow_1", "StartEvent", "Gateway_1")}
    {flow("Flow_yes", "Gateway_1", "Approve", "approved == true")}
    {flow("Flow_no", "Gateway_1", "Reject", "approved == false")}
    {flow("Flow_2", "Approve", "EndEvent")}
    {flow("Flow_3", "Reject", "EndEvent")}
  </bpmn:process>
</bpmn:definitions>
"""

#: What the FlowError says about the gateway of :data:`APPROVAL_CASELOOM`.
DECIDE_IN_DECISION = (
    'the flow cannot move on at gateway "Decide" in stage 1 "Decision" (Gateway_1): none of its '
    "conditions holds (approved == true; approved == false) and it has no default flow"
)

#: Issue point 9: a conditional stage with a name, between two others.
SCREENING = """\
id: screening
name: Screening
version: 1
stages:
  - name: Intake
    actions:
      - {id: register, title: Register claim}
  - name: Fraud screening
    condition: amount > 1000
    actions:
      - {id: screen, title: Screen for fraud}
  - name: Payment
    actions:
      - {id: pay, title: Pay claim}
"""

#: A flow step starting a sub-case, then a conditional stage.
PARENT = """\
id: parent
name: Claim with checks
version: 1
subcases: [fraud_check, deep_check]
stages:
  - name: Intake
    actions:
      - {id: register, title: Register claim}
  - name: Investigation
    actions:
      - {id: fraud, title: Fraud check, subcase: fraud_check}
  - name: Payment
    condition: amount > 1000
    actions:
      - {id: pay, title: Pay claim}
"""

FRAUD_CHECK = """\
id: fraud_check
name: Fraud check
version: 1
stages:
  - name: Check
    actions:
      - {id: check, title: Check for fraud}
"""

#: A sub-case process whose first stage has a condition.
DEEP_CHECK = """\
id: deep_check
name: Deep check
version: 1
stages:
  - name: Deep screening
    condition: score > 5
    actions:
      - {id: dig, title: Dig deeper}
"""

#: One conditional stage: the flow ends after its action.
ONE_OFF = """\
id: one_off
name: One-off request
version: 1
stages:
  - name: Triage
    condition: amount > 10
    actions:
      - {id: triage, title: Triage the request}
"""


@pytest.fixture
def eng(clock: ManualClock) -> Iterator[Engine]:
    """An engine with nothing deployed."""
    engine = Engine("sqlite:///:memory:", clock=clock)
    yield engine
    engine.close()


def deploy_bpmn(engine: Engine, tmp_path: Path, text: str, name: str) -> ProcessDefinition:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return engine.deploy(path)


def refused(engine: Engine, ref: str, error: type[EngineError], call: Callable[[], object]) -> str:
    """``call`` raises ``error``; ``ref``'s case, actions and timeline (its sub-cases' too)
    are unchanged; returns the message."""
    before = state_of(engine, ref)
    with pytest.raises(error) as info:
        call()
    assert state_of(engine, ref) == before
    return str(info.value)


def in_progress(engine: Engine, process: str, data: dict[str, object] | None = None) -> str:
    case = engine.create_case(process, by="ann", data=data or {}, submit=True)
    return engine.start_work(case.ref, by="bob").ref


def open_of(engine: Engine, ref: str, action_type: str) -> str:
    (action,) = [
        a
        for a in engine.actions(ref)
        if a.action_type == action_type and a.status in (CaseStatus.TO_DO, CaseStatus.IN_PROGRESS)
    ]
    return action.ref


# -- issue point 1: an exclusive gateway with no way out -------------------------------------------


def test_S7_exclusive_gateway_without_a_true_condition_refuses_complete_action(
    eng: Engine, tmp_path: Path
) -> None:
    deploy_bpmn(eng, tmp_path, plain_bpmn(decide_body()), "approval.bpmn")
    ref = in_progress(eng, "approval")
    review = open_of(eng, ref, "Review")
    error = assert_refused(
        eng, ref, FlowError, "complete_action", lambda: eng.complete_action(review, by="bob")
    )
    assert str(error) == (
        f"case {ref} is In Progress: complete_action {review} refused: the flow cannot move on "
        'at gateway "Decide" in stage 1 "Approval" (Gateway_1): none of its conditions holds '
        "(approved == true; approved == false) and it has no default flow"
    )
    assert error.detail == str(error).split(" refused: ", 1)[1]
    # The refused run left nothing behind: completed with the data it needs, the flow goes on.
    eng.complete_action(review, by="bob", data={"approved": False})
    assert eng.action(open_of(eng, ref, "Reject")).title == "Reject the request"


def test_S7_a_gateway_without_a_name_is_named_by_its_id(eng: Engine, tmp_path: Path) -> None:
    deploy_bpmn(eng, tmp_path, plain_bpmn(decide_body(None)), "approval.bpmn")
    ref = in_progress(eng, "approval")
    message = refused(
        eng, ref, FlowError, lambda: eng.complete_action(open_of(eng, ref, "Review"), by="bob")
    )
    assert 'the flow cannot move on at gateway Gateway_1 in stage 1 "Approval": none' in message


def test_C2_C3_submit_refused_when_the_first_gateway_has_no_way_out(
    eng: Engine, tmp_path: Path
) -> None:
    deploy_bpmn(eng, tmp_path, APPROVAL_CASELOOM, "approval.bpmn")
    draft = eng.create_case("approval", by="ann")
    error = assert_refused(
        eng, draft.ref, FlowError, "submit", lambda: eng.submit(draft.ref, by="ann")
    )
    assert str(error) == f"case {draft.ref} is Draft: submit refused: {DECIDE_IN_DECISION}"
    approved = eng.create_case("approval", by="ann", data={"approved": True}, submit=True)
    assert [a.action_type for a in eng.actions(approved.ref)] == ["approve"]


def test_C2_C3_create_case_with_submit_refused_creates_nothing(eng: Engine, tmp_path: Path) -> None:
    deploy_bpmn(eng, tmp_path, APPROVAL_CASELOOM, "approval.bpmn")
    with pytest.raises(FlowError) as info:
        eng.create_case("approval", by="ann", submit=True)
    assert str(info.value) == (
        f"case C-1 is Draft: create_case of 'approval' refused: {DECIDE_IN_DECISION}"
    )
    with pytest.raises(NotFound):
        eng.case("C-1")


def test_C1_email_to_a_process_whose_flow_cannot_start_is_refused(
    eng: Engine, tmp_path: Path
) -> None:
    deploy_bpmn(eng, tmp_path, APPROVAL_CASELOOM, "approval.bpmn")
    with pytest.raises(FlowError) as info:
        eng.receive_email("approvals@example.com", sender="dana@example.com", subject="Hi")
    assert str(info.value) == (
        "case C-1 is Draft: receive_email to 'approvals@example.com' refused: " + DECIDE_IN_DECISION
    )
    with pytest.raises(NotFound):
        eng.case("C-1")


def test_C1_a_schedule_whose_flow_cannot_start_stays_due_and_others_still_fire(
    eng: Engine, tmp_path: Path
) -> None:
    deploy_bpmn(eng, tmp_path, APPROVAL_CASELOOM, "approval.bpmn")
    deploy_yaml(
        eng,
        tmp_path,
        ONE_OFF.replace("id: one_off", "id: report")
        + 'schedules:\n  - {every: 1d, first: "2026-03-02T08:30:00Z", title: Daily report}\n',
        "report.yaml",
    )
    for _ in range(2):  # the refused occurrence stays due: the next tick tries it again
        with pytest.raises(FlowError) as info:
            eng.tick()
        # The case the occurrence would have created (its reference is not kept).
        assert re.fullmatch(
            r"case C-\d+ is Draft: tick \(schedule of process 'approval'\) ",
            (str(info.value).split("refused: ")[0]),
        )
        assert str(info.value).endswith(f"refused: {DECIDE_IN_DECISION}")
        report = eng.case("C-1")  # the other schedule fired (once)
        assert (report.process, report.title) == ("report", "Daily report")
        with pytest.raises(NotFound):
            eng.case("C-2")  # no approval case was created


def test_S7_inclusive_gateway_without_a_true_condition(eng: Engine, tmp_path: Path) -> None:
    body = (
        '<bpmn:startEvent id="StartEvent"/>\n'
        '<bpmn:userTask id="Review" name="Review the request"/>\n'
        '<bpmn:inclusiveGateway id="Fork" name="Who checks"/>\n'
        '<bpmn:userTask id="Legal" name="Legal check"/>\n'
        '<bpmn:userTask id="Finance" name="Finance check"/>\n'
        '<bpmn:inclusiveGateway id="Join"/>\n<bpmn:endEvent id="EndEvent"/>\n'
        + flow("Flow_1", "StartEvent", "Review")
        + flow("Flow_2", "Review", "Fork")
        + flow("Flow_3", "Fork", "Legal", "legal == true")
        + flow("Flow_4", "Fork", "Finance", "amount &gt; 1000")
        + flow("Flow_5", "Legal", "Join")
        + flow("Flow_6", "Finance", "Join")
        + flow("Flow_7", "Join", "EndEvent")
    )
    deploy_bpmn(eng, tmp_path, plain_bpmn(body), "approval.bpmn")
    ref = in_progress(eng, "approval", {"amount": 10})
    review = open_of(eng, ref, "Review")
    message = refused(eng, ref, FlowError, lambda: eng.complete_action(review, by="bob"))
    assert message == (
        f"case {ref} is In Progress: complete_action {review} refused: the flow cannot move on "
        'at gateway "Who checks" in stage 1 "Approval" (Fork): none of its conditions holds '
        "(legal == true; amount > 1000) and it has no default flow"
    )


@pytest.mark.parametrize(
    ("io", "reaches", "expected"),
    [
        (
            '<bpmn:dataInput id="iban"/><bpmn:inputSet><bpmn:dataInputRefs>iban'
            "</bpmn:dataInputRefs></bpmn:inputSet><bpmn:outputSet/>",
            "Review",
            'at action "Pay the refund" in stage 1 "Approval" (task Pay): its data input '
            "'iban' is not in the case data",
        ),
        (
            '<bpmn:dataOutput id="receipt"/><bpmn:inputSet/><bpmn:outputSet>'
            "<bpmn:dataOutputRefs>receipt</bpmn:dataOutputRefs></bpmn:outputSet>",
            "Pay",
            'at action "Pay the refund" in stage 1 "Approval" (task Pay): its data output '
            "'receipt' is not in the case data",
        ),
    ],
    ids=["data_input", "data_output"],
)
def test_S7_task_data_missing_from_the_case_data(
    eng: Engine, tmp_path: Path, io: str, reaches: str, expected: str
) -> None:
    body = (
        '<bpmn:startEvent id="StartEvent"/>\n'
        '<bpmn:userTask id="Review" name="Review the request"/>\n'
        f'<bpmn:userTask id="Pay" name="Pay the refund"><bpmn:ioSpecification>{io}'
        "</bpmn:ioSpecification></bpmn:userTask>\n"
        '<bpmn:endEvent id="EndEvent"/>\n'
        + flow("Flow_1", "StartEvent", "Review")
        + flow("Flow_2", "Review", "Pay")
        + flow("Flow_3", "Pay", "EndEvent")
    )
    deploy_bpmn(eng, tmp_path, plain_bpmn(body), "refund.bpmn")
    ref = in_progress(eng, "approval")
    if reaches == "Pay":
        eng.complete_action(open_of(eng, ref, "Review"), by="bob", data={"iban": "FR76"})
    action = open_of(eng, ref, reaches)
    message = refused(eng, ref, FlowError, lambda: eng.complete_action(action, by="bob"))
    assert message == (
        f"case {ref} is In Progress: complete_action {action} refused: the flow cannot move on "
        + expected
    )


def test_S7_gateway_inside_an_embedded_subprocess_is_named_with_its_stage(
    eng: Engine, tmp_path: Path
) -> None:
    inner = (
        '<bpmn:startEvent id="InnerStart"/>\n'
        '<bpmn:exclusiveGateway id="Gateway_9" name="Decide"/>\n'
        '<bpmn:userTask id="Approve" name="Approve"/><bpmn:userTask id="Reject" name="Reject"/>\n'
        '<bpmn:endEvent id="InnerEnd"/>\n'
        + flow("Flow_i1", "InnerStart", "Gateway_9")
        + flow("Flow_i2", "Gateway_9", "Approve", "approved == true")
        + flow("Flow_i3", "Gateway_9", "Reject", "approved == false")
        + flow("Flow_i4", "Approve", "InnerEnd")
        + flow("Flow_i5", "Reject", "InnerEnd")
    )
    body = (
        '<bpmn:startEvent id="StartEvent"/>\n'
        '<bpmn:userTask id="Review" name="Review the request"/>\n'
        f'<bpmn:subProcess id="Decision" name="Decision">{inner}</bpmn:subProcess>\n'
        '<bpmn:endEvent id="EndEvent"/>\n'
        + flow("Flow_1", "StartEvent", "Review")
        + flow("Flow_2", "Review", "Decision")
        + flow("Flow_3", "Decision", "EndEvent")
    )
    deploy_bpmn(eng, tmp_path, plain_bpmn(body), "approval.bpmn")
    ref = in_progress(eng, "approval")
    message = refused(
        eng, ref, FlowError, lambda: eng.complete_action(open_of(eng, ref, "Review"), by="bob")
    )
    assert 'at gateway "Decide" in stage 1 "Approval" (Gateway_9): none of its' in message


#: A called process (``bpmn:callActivity``, not a sub-case) with a data input and a gateway.
CALLED = """\
<bpmn:process id="limits" name="Limits" isExecutable="true">
  <bpmn:ioSpecification><bpmn:dataInput id="limit"/><bpmn:inputSet>
    <bpmn:dataInputRefs>limit</bpmn:dataInputRefs></bpmn:inputSet><bpmn:outputSet/>
  </bpmn:ioSpecification>
  <bpmn:startEvent id="LimitStart"/>
  <bpmn:exclusiveGateway id="Gateway_7" name="Over the limit?"/>
  <bpmn:userTask id="Escalate" name="Escalate"/><bpmn:endEvent id="LimitEnd"/>
""" + (
    flow("Flow_l1", "LimitStart", "Gateway_7")
    + flow("Flow_l2", "Gateway_7", "Escalate", "limit &gt; 10")
    + flow("Flow_l3", "Gateway_7", "LimitEnd", "limit &lt;= 10")
    + flow("Flow_l4", "Escalate", "LimitEnd")
    + "</bpmn:process>\n"
)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (
            {},
            'at sub-process "Check the limits" in stage 1 "Approval" (Limits): its data input '
            "'limit' is not in the case data",
        ),
        (
            {"limit": None},
            'at gateway "Over the limit?" in stage 1 "Approval" (Gateway_7): none of its '
            "conditions holds (limit > 10; limit <= 10) and it has no default flow",
        ),
    ],
    ids=["data_input", "gateway"],
)
def test_S7_a_called_process_that_cannot_move_on(
    eng: Engine, tmp_path: Path, data: dict[str, object], expected: str
) -> None:
    body = (
        '<bpmn:startEvent id="StartEvent"/>\n'
        '<bpmn:userTask id="Review" name="Review the request"/>\n'
        '<bpmn:callActivity id="Limits" name="Check the limits" calledElement="limits"/>\n'
        '<bpmn:endEvent id="EndEvent"/>\n'
        + flow("Flow_1", "StartEvent", "Review")
        + flow("Flow_2", "Review", "Limits")
        + flow("Flow_3", "Limits", "EndEvent")
    )
    text = plain_bpmn(body).replace("</bpmn:definitions>", CALLED + "</bpmn:definitions>")
    deploy_bpmn(eng, tmp_path, text, "approval.bpmn")
    ref = in_progress(eng, "approval", data)
    review = open_of(eng, ref, "Review")
    message = refused(eng, ref, FlowError, lambda: eng.complete_action(review, by="bob"))
    assert message == (
        f"case {ref} is In Progress: complete_action {review} refused: the flow cannot move on "
        + expected
    )


def test_S7_a_bug_is_not_made_a_user_error(
    eng: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only SpiffWorkflow's flow exceptions become FlowErrors: anything else propagates as it
    is (and the command still rolls back)."""
    deploy_bpmn(eng, tmp_path, plain_bpmn(decide_body()), "approval.bpmn")
    ref = in_progress(eng, "approval")

    def broken(self: BpmnWorkflow, *args: object, **kwargs: object) -> None:
        raise KeyError("a bug")

    monkeypatch.setattr(BpmnWorkflow, "do_engine_steps", broken)
    message = refused(
        eng, ref, KeyError, lambda: eng.complete_action(open_of(eng, ref, "Review"), by="bob")
    )
    assert "a bug" in message


# -- loop tasks: multi-instance and standard loops -------------------------------------------------


def looping_body(loop: str) -> str:
    """ "Review the request", then "Check an item" looping by ``loop`` (its
    ``*LoopCharacteristics``), then "Close the request"."""
    return (
        '<bpmn:startEvent id="StartEvent"/>\n'
        '<bpmn:userTask id="Review" name="Review the request"/>\n'
        f'<bpmn:userTask id="Check" name="Check an item">{loop}</bpmn:userTask>\n'
        '<bpmn:userTask id="Close" name="Close the request"/>\n'
        '<bpmn:endEvent id="EndEvent"/>\n'
        + flow("Flow_1", "StartEvent", "Review")
        + flow("Flow_2", "Review", "Check")
        + flow("Flow_3", "Check", "Close")
        + flow("Flow_4", "Close", "EndEvent")
    )


def multi_instance(inner: str, *, sequential: bool = False) -> str:
    seq = ' isSequential="true"' if sequential else ""
    return (
        f"<bpmn:multiInstanceLoopCharacteristics{seq}>{inner}"
        "</bpmn:multiInstanceLoopCharacteristics>"
    )


CARDINALITY = "<bpmn:loopCardinality>reviewers</bpmn:loopCardinality>"
COLLECTION = '<bpmn:loopDataInputRef>items</bpmn:loopDataInputRef><bpmn:inputDataItem id="item"/>'
AT_CHECK = 'at action "Check an item" in stage 1 "Approval" (task Check): '
NOT_A_COUNT = "not a number of instances (a whole number, 0 or more)"


@pytest.mark.parametrize("sequential", [False, True], ids=["parallel", "sequential"])
@pytest.mark.parametrize(
    ("inner", "data", "expected"),
    [
        (COLLECTION, {}, "its collection 'items' (loopDataInputRef) is not in the case data"),
        (
            COLLECTION,
            {"items": 3},
            "its collection 'items' (loopDataInputRef) is 3, not a list or a dict",
        ),
        (
            COLLECTION,
            {"items": "abc"},
            "its collection 'items' (loopDataInputRef) is 'abc', not a list or a dict",
        ),
        (CARDINALITY, {}, "its loop cardinality 'reviewers' is not in the case data"),
        (
            CARDINALITY,
            {"reviewers": "2"},
            f"its loop cardinality 'reviewers' is '2', {NOT_A_COUNT}",
        ),
        (
            CARDINALITY,
            {"reviewers": 2.5},
            f"its loop cardinality 'reviewers' is 2.5, {NOT_A_COUNT}",
        ),
        (CARDINALITY, {"reviewers": -1}, f"its loop cardinality 'reviewers' is -1, {NOT_A_COUNT}"),
        (
            "<bpmn:loopCardinality>reviewers * 2</bpmn:loopCardinality>",
            {"reviewers": 0.75},
            f"its loop cardinality 'reviewers * 2' is 1.5, {NOT_A_COUNT}",
        ),
    ],
    ids=[
        "collection_missing",
        "collection_a_number",
        "collection_a_text",
        "cardinality_missing",
        "cardinality_a_text",
        "cardinality_a_fraction",
        "cardinality_negative",
        "cardinality_expression",
    ],
)
def test_S7_multi_instance_data_that_cannot_start_it(
    eng: Engine,
    tmp_path: Path,
    inner: str,
    data: dict[str, object],
    expected: str,
    sequential: bool,
) -> None:
    """A multi-instance task's collection or cardinality unusable in the case data is refused
    by name (SpiffWorkflow would raise a TypeError, or start a wrong number of instances, or
    none and wait for ever); nothing changes, and the data fixed, the flow goes on."""
    looping = looping_body(multi_instance(inner, sequential=sequential))
    deploy_bpmn(eng, tmp_path, plain_bpmn(looping), "checks.bpmn")
    ref = in_progress(eng, "approval", data)
    review = open_of(eng, ref, "Review")
    message = refused(eng, ref, FlowError, lambda: eng.complete_action(review, by="bob"))
    assert message == (
        f"case {ref} is In Progress: complete_action {review} refused: the flow cannot move on "
        + AT_CHECK
        + expected
    )
    eng.complete_action(review, by="bob", data={"items": ["a", "b"], "reviewers": 2})
    assert {a.action_type for a in eng.actions(ref) if a.status == CaseStatus.TO_DO} == {"Check"}


@pytest.mark.parametrize(
    ("items", "shown"),
    [([], "[]"), ("abc", "'abc'"), ({"a": 1}, "{'a': 1}")],
    ids=["emptied", "a_text", "a_dict"],
)
def test_S7_sequential_multi_instance_whose_collection_loses_its_next_item(
    eng: Engine, tmp_path: Path, items: object, shown: str
) -> None:
    """A sequential multi-instance task takes its next item from the collection once an
    instance completes (with the case data): one without that item any more is refused
    (SpiffWorkflow would raise an IndexError or a KeyError)."""
    looping = looping_body(multi_instance(COLLECTION, sequential=True))
    deploy_bpmn(eng, tmp_path, plain_bpmn(looping), "checks.bpmn")
    ref = in_progress(eng, "approval", {"items": ["a", "b", "c"]})
    eng.complete_action(open_of(eng, ref, "Review"), by="bob")
    check = open_of(eng, ref, "Check")
    message = refused(
        eng, ref, FlowError, lambda: eng.complete_action(check, by="bob", data={"items": items})
    )
    assert message == (
        f"case {ref} is In Progress: complete_action {check} refused: the flow cannot move on "
        f"{AT_CHECK}its collection 'items' (loopDataInputRef) is now {shown}, with no item 1 "
        "for its next instance"
    )
    complete_checks(eng, ref, 3)
    open_of(eng, ref, "Close")


def test_S7_multi_instance_item_name_already_in_the_case_data(eng: Engine, tmp_path: Path) -> None:
    looping = looping_body(multi_instance(COLLECTION))
    deploy_bpmn(eng, tmp_path, plain_bpmn(looping), "checks.bpmn")
    ref = in_progress(eng, "approval", {"items": [1, 2], "item": 0})
    review = open_of(eng, ref, "Review")
    message = refused(eng, ref, FlowError, lambda: eng.complete_action(review, by="bob"))
    assert message.endswith(
        AT_CHECK + "its instances' inputDataItem 'item' is already in the case data"
    )


def test_S7_multi_instance_checks_the_data_it_reads_not_every_type_error(
    eng: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only wrong data is refused: a TypeError inside a multi-instance task with good data (a
    bug) propagates as it is."""
    looping = looping_body(multi_instance(CARDINALITY))
    deploy_bpmn(eng, tmp_path, plain_bpmn(looping), "checks.bpmn")
    ref = in_progress(eng, "approval", {"reviewers": 2})

    def broken(self: ParallelMultiInstanceTask, my_task: object) -> None:
        raise TypeError("a bug")

    monkeypatch.setattr(ParallelMultiInstanceTask, "create_children", broken)
    message = refused(
        eng, ref, TypeError, lambda: eng.complete_action(open_of(eng, ref, "Review"), by="bob")
    )
    assert message == "a bug"


def complete_checks(engine: Engine, ref: str, count: int) -> None:
    """Complete ``count`` "Check an item" actions, one open at a time or all at once."""
    for _ in range(count):
        checks = [a for a in engine.actions(ref) if a.action_type == "Check" and a.status.is_open]
        assert checks, engine.actions(ref)
        assert {a.title for a in checks} == {"Check an item"}
        engine.complete_action(checks[0].ref, by="bob")


@pytest.mark.parametrize(
    ("loop", "data", "at_once"),
    [
        (multi_instance(CARDINALITY), {"reviewers": 3}, 3),
        (multi_instance(CARDINALITY, sequential=True), {"reviewers": 3}, 1),
        (multi_instance(COLLECTION), {"items": ["a", "b", "c"]}, 3),
        (multi_instance(COLLECTION, sequential=True), {"items": {"a": 1, "b": 2, "c": 3}}, 1),
        ('<bpmn:standardLoopCharacteristics loopMaximum="3"/>', {}, 1),
    ],
    ids=["parallel", "sequential", "collection", "sequential_dict", "standard_loop"],
)
def test_A1_loop_task_instances_are_actions_of_the_task(
    eng: Engine, tmp_path: Path, loop: str, data: dict[str, object], at_once: int
) -> None:
    """Each instance of a multi-instance or standard-loop task is an action of the task's
    type, with its title (not SpiffWorkflow's ``Check [child]``); once all are done, the flow
    moves on."""
    deploy_bpmn(eng, tmp_path, plain_bpmn(looping_body(loop)), "checks.bpmn")
    ref = in_progress(eng, "approval", data)
    eng.complete_action(open_of(eng, ref, "Review"), by="bob")
    checks = [a for a in eng.actions(ref) if a.action_type == "Check"]
    assert len(checks) == at_once
    assert {(a.title, a.stage) for a in checks} == {("Check an item", 1)}
    complete_checks(eng, ref, 3)
    types = sorted(a.action_type for a in eng.actions(ref))
    assert types == ["Check", "Check", "Check", "Close", "Review"]
    assert eng.action(open_of(eng, ref, "Close")).title == "Close the request"


def test_A1_a_restored_loop_moves_on_in_a_process_that_never_started_an_instance(
    tmp_path: Path, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SpiffWorkflow ties an instance's completion to its loop only as it creates the
    instance: the engine ties them up front, so an engine that restored the case (a fresh
    process, with its own parsed definition) finishes the loop too."""
    url = f"sqlite:///{tmp_path / 'cases.db'}"
    first = Engine(url, clock=clock)
    deploy_bpmn(first, tmp_path, plain_bpmn(looping_body(multi_instance(CARDINALITY))), "c.bpmn")
    ref = in_progress(first, "approval", {"reviewers": 2})
    first.complete_action(open_of(first, ref, "Review"), by="bob")
    first.close()
    monkeypatch.setattr(flow_module, "_RUNNERS", OrderedDict())  # as in a fresh process
    second = Engine(url, clock=clock)
    try:
        complete_checks(second, ref, 2)
        assert second.action(open_of(second, ref, "Close")).title == "Close the request"
    finally:
        second.close()


def test_A1_a_cardinality_loop_whose_output_collection_is_in_the_case_data(
    eng: Engine, tmp_path: Path
) -> None:
    """SpiffWorkflow 3.2 fails with a NameError when a cardinality loop's output collection is
    already in the data; the case data never takes that collection back, so the loop runs."""
    inner = CARDINALITY + "<bpmn:loopDataOutputRef>results</bpmn:loopDataOutputRef>"
    deploy_bpmn(eng, tmp_path, plain_bpmn(looping_body(multi_instance(inner))), "checks.bpmn")
    ref = in_progress(eng, "approval", {"reviewers": 2, "results": []})
    eng.complete_action(open_of(eng, ref, "Review"), by="bob")
    complete_checks(eng, ref, 2)
    open_of(eng, ref, "Close")
    assert eng.case(ref).data["results"] == []


# -- issue point 9: stages by their names ----------------------------------------------------------


def test_S7_a_stage_condition_that_cannot_be_evaluated_names_the_stage(
    eng: Engine, tmp_path: Path
) -> None:
    definition = deploy_yaml(eng, tmp_path, SCREENING)
    ref = in_progress(eng, "screening", {"amount": 5000})
    register = open_of(eng, ref, "register")
    message = refused(
        eng,
        ref,
        FlowError,
        lambda: eng.complete_action(register, by="bob", data={"amount": "a lot"}),
    )
    assert message.startswith(
        f"case {ref} is In Progress: complete_action {register} refused: the flow cannot move on "
        'at stage 2 "Fraud screening"'
    )
    assert message.endswith(
        "condition 'amount > 1000' cannot be evaluated: cannot compare str and int with '>' "
        "(at column 1)"
    )
    entry = definition.stage_entries[2]
    if entry in message:  # an element id only follows the name, for tooling
        assert message.index('"Fraud screening"') < message.index(entry)


def test_RW3_rework_refused_when_the_stage_condition_cannot_be_evaluated(
    eng: Engine, tmp_path: Path
) -> None:
    deploy_yaml(eng, tmp_path, SCREENING)
    ref = in_progress(eng, "screening", {"amount": 5000})
    eng.complete_action(open_of(eng, ref, "register"), by="bob")
    eng.complete_action(open_of(eng, ref, "screen"), by="bob", data={"amount": "a lot"})
    open_of(eng, ref, "pay")  # no condition on Payment: the flow went on
    error = assert_refused(
        eng, ref, FlowError, "rework", lambda: eng.rework(ref, by="bob", stage=2)
    )
    assert str(error).startswith(
        f'case {ref} is In Progress: rework refused: the flow cannot move on at stage 2 "Fraud '
        'screening"'
    )
    assert "condition 'amount > 1000' cannot be evaluated" in str(error)


def test_A2_launch_refusals_name_the_action_type_by_its_title(engine: Engine) -> None:
    case = claim_in_progress(engine)
    engine.hold(case.ref, HoldKind.PAUSED, by="bob")
    error = assert_refused(
        engine,
        case.ref,
        InvalidTransition,
        "launch_action",
        lambda: engine.launch_action(case.ref, "second_opinion", by="bob"),
    )
    assert 'cannot launch_action ("Second opinion" (type second_opinion))' in str(error)
    engine.set_status(case.ref, CaseStatus.IN_PROGRESS, by="bob")
    error = assert_refused(
        engine,
        case.ref,
        PermissionDenied,
        "launch_action",
        lambda: engine.launch_action(case.ref, "assess", by="bob"),
    )
    assert 'action "Assess damage" (type assess) is not flagged manual_launch (A2)' in str(error)


def test_RW5_rework_refusals_name_the_stages_and_actions(engine: Engine) -> None:
    case = claim_in_progress(engine)
    error = assert_refused(
        engine,
        case.ref,
        InvalidArgument,
        "rework",
        lambda: engine.rework(case.ref, by="bob", stage=2),
    )
    assert str(error) == (
        f'case {case.ref} is In Progress: rework from stage 2 "Assessment" refused: only stages '
        'before the current stage 1 "Intake" may be chosen (RW5, RW6)'
    )
    register = engine.actions(case.ref)[0].ref
    engine.complete_action(register, by="bob")
    (launched,) = engine.launch_action(case.ref, "second_opinion", by="bob")
    engine.complete_action(launched.ref, by="bob")
    error = assert_refused(
        engine,
        case.ref,
        InvalidArgument,
        "rework",
        lambda: engine.rework(case.ref, by="bob", action=launched.ref),
    )
    assert f'rework from action {launched.ref} "Second opinion" refused: it was launched' in str(
        error
    )


# -- sub-cases -------------------------------------------------------------------------------------


def test_SC2_create_subcase_of_a_process_not_deployed_names_the_case(
    eng: Engine, tmp_path: Path
) -> None:
    deploy_yaml(eng, tmp_path, PARENT)
    ref = in_progress(eng, "parent")
    error = assert_refused(
        eng,
        ref,
        NotFound,
        "create_subcase",
        lambda: eng.create_subcase(ref, "fraud_check", by="bob"),
    )
    assert str(error) == (
        f"case {ref} is In Progress: create_subcase refused: process 'fraud_check' is not deployed"
    )


def test_SC2_create_subcase_whose_flow_cannot_start(eng: Engine, tmp_path: Path) -> None:
    deploy_yaml(eng, tmp_path, PARENT)
    deploy_yaml(eng, tmp_path, DEEP_CHECK, "deep.yaml")
    ref = in_progress(eng, "parent", {"score": "high"})
    error = assert_refused(
        eng,
        ref,
        FlowError,
        "create_subcase",
        lambda: eng.create_subcase(ref, "deep_check", by="bob"),
    )
    assert str(error).startswith(
        f"case {ref} is In Progress: create_subcase refused: sub-case {ref}-1 of process "
        "'deep_check' cannot start: the flow cannot move on at stage 1 \"Deep screening\""
    )
    assert "condition 'score > 5' cannot be evaluated" in str(error)
    with pytest.raises(NotFound):
        eng.case(f"{ref}-1")


def test_SC1_flow_step_of_a_subcase_process_not_deployed_names_the_case(
    eng: Engine, tmp_path: Path
) -> None:
    deploy_yaml(eng, tmp_path, PARENT)
    ref = in_progress(eng, "parent")
    register = open_of(eng, ref, "register")
    error = assert_refused(
        eng, ref, NotFound, "complete_action", lambda: eng.complete_action(register, by="bob")
    )
    assert str(error) == (
        f"case {ref} is In Progress: complete_action {register} refused: sub-case step "
        '"Fraud check" of stage 2 "Investigation": process \'fraud_check\' is not deployed'
    )
    deploy_yaml(eng, tmp_path, FRAUD_CHECK, "fraud.yaml")  # deployed late: now it starts
    eng.complete_action(register, by="bob")
    assert eng.case(ref).subcases == (f"{ref}-1",)


def test_SC1_flow_step_whose_subcase_flow_cannot_start(eng: Engine, tmp_path: Path) -> None:
    deploy_yaml(eng, tmp_path, PARENT.replace("subcase: fraud_check", "subcase: deep_check"))
    deploy_yaml(eng, tmp_path, DEEP_CHECK, "deep.yaml")
    ref = in_progress(eng, "parent", {"score": "high"})
    register = open_of(eng, ref, "register")
    message = refused(eng, ref, FlowError, lambda: eng.complete_action(register, by="bob"))
    assert message.startswith(
        f"case {ref} is In Progress: complete_action {register} refused: sub-case step "
        f'"Fraud check" of stage 2 "Investigation": sub-case {ref}-1 of process \'deep_check\' '
        'cannot start: the flow cannot move on at stage 1 "Deep screening"'
    )


@pytest.mark.parametrize("command", ["resolve", "cancel"])
def test_SC1_subcase_finishing_refused_when_the_parent_flow_cannot_move_on(
    eng: Engine, tmp_path: Path, command: str
) -> None:
    deploy_yaml(eng, tmp_path, PARENT)
    deploy_yaml(eng, tmp_path, FRAUD_CHECK, "fraud.yaml")
    ref = in_progress(eng, "parent", {"amount": 5000})
    eng.complete_action(open_of(eng, ref, "register"), by="bob")
    sub = f"{ref}-1"
    eng.start_work(sub, by="sam")
    # SC6: the data completed in the sub-case is the parent's too.
    eng.complete_action(open_of(eng, sub, "check"), by="sam", data={"amount": "a lot"})
    assert eng.case(ref).data["amount"] == "a lot"
    parent_before = state_of(eng, ref)
    error = assert_refused(
        eng, sub, FlowError, command, lambda: getattr(eng, command)(sub, by="sam")
    )
    assert state_of(eng, ref) == parent_before
    assert str(error).startswith(
        f"case {sub} is In Progress: {command} refused: parent case {ref} is In Progress: the "
        'flow cannot move on at stage 3 "Payment"'
    )


# -- timers and replies ----------------------------------------------------------------------------


def test_H6_a_wake_up_whose_flow_step_cannot_start_is_refused_and_stays_due(
    eng: Engine, tmp_path: Path, clock: ManualClock
) -> None:
    deploy_yaml(eng, tmp_path, PARENT)
    stuck = in_progress(eng, "parent")
    eng.hold(stuck, HoldKind.UNTIL, by="bob", until=at(2, 12))
    # H2: completed while Waiting, the flow reaches the sub-case step but creates nothing yet.
    eng.complete_action(open_of(eng, stuck, "register"), by="bob")
    other = in_progress(eng, "parent")
    eng.hold(other, HoldKind.UNTIL, by="bob", until=at(2, 13))
    clock.set(at(2, 14))
    before = state_of(eng, stuck)
    with pytest.raises(NotFound) as info:
        eng.tick()
    assert str(info.value) == (
        f'case {stuck} is Waiting: tick (hold_until timer) refused: sub-case step "Fraud '
        'check" of stage 2 "Investigation": process \'fraud_check\' is not deployed'
    )
    assert state_of(eng, stuck) == before
    assert eng.case(other).status is CaseStatus.TO_DO  # the other timer still fired
    deploy_yaml(eng, tmp_path, FRAUD_CHECK, "fraud.yaml")
    [fired] = eng.tick()
    assert (fired.case_ref, fired.kind, fired.status) == (stuck, "hold_until", CaseStatus.TO_DO)
    assert eng.case(stuck).subcases == (f"{stuck}-1",)
    assert eng.tick() == []


def test_R4_reply_to_a_closed_case_whose_new_case_cannot_start(eng: Engine, tmp_path: Path) -> None:
    deploy_yaml(eng, tmp_path, ONE_OFF)
    ref = in_progress(eng, "one_off", {"amount": 50})
    eng.complete_action(open_of(eng, ref, "triage"), by="bob", data={"amount": "a lot"})
    assert eng.resolve(ref, by="bob").status is CaseStatus.CLOSED
    error = assert_refused(
        eng, ref, FlowError, "reply", lambda: eng.reply(ref, body="One more thing")
    )
    assert str(error).startswith(
        f"case {ref} is Closed: reply refused: the new case C-2 of process 'one_off' cannot "
        'start: the flow cannot move on at stage 1 "Triage"'
    )
    with pytest.raises(NotFound):
        eng.case("C-2")


def test_S7_detail_is_the_reason_without_the_case_context() -> None:
    assert EngineError("case C-1 is Draft: cannot resolve").detail == (
        "case C-1 is Draft: cannot resolve"
    )
    error = FlowError("case C-1 is Draft: submit refused: the flow...", detail="the flow...")
    assert (str(error), error.detail) == (
        "case C-1 is Draft: submit refused: the flow...",
        "the flow...",
    )
