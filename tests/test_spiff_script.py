"""SafeScriptEngine: SpiffWorkflow runs conditions through engine.expressions, never eval/exec."""

from __future__ import annotations

from typing import Any
from xml.sax.saxutils import escape

import pytest
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.parser import BpmnParser
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.util.task import TaskState

from engine.expressions import ExpressionError
from engine.spiff_script import (
    SafeEnvironment,
    SafeScriptEngine,
    ScriptNotAllowed,
    install_safe_engine,
    safe_script_engine,
)

HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
    id="defs" targetNamespace="http://caseloom.test">
  <bpmn:process id="claim" isExecutable="true">
"""
TAIL = """  </bpmn:process>
</bpmn:definitions>
"""

GATEWAY = """
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="register"/>
    <bpmn:userTask id="register" name="Register claim">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="f2" sourceRef="register" targetRef="gw"/>
    <bpmn:exclusiveGateway id="gw" default="to_pay">
      <bpmn:incoming>f2</bpmn:incoming>
      <bpmn:outgoing>to_assess</bpmn:outgoing><bpmn:outgoing>to_pay</bpmn:outgoing>
    </bpmn:exclusiveGateway>
    <bpmn:sequenceFlow id="to_assess" sourceRef="gw" targetRef="assess">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression"
        >{condition}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="to_pay" sourceRef="gw" targetRef="pay"/>
    <bpmn:userTask id="assess" name="Assess damage">
      <bpmn:incoming>to_assess</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="f3" sourceRef="assess" targetRef="end_assess"/>
    <bpmn:endEvent id="end_assess"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
    <bpmn:userTask id="pay" name="Pay claim">
      <bpmn:incoming>to_pay</bpmn:incoming><bpmn:outgoing>f4</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="f4" sourceRef="pay" targetRef="end_pay"/>
    <bpmn:endEvent id="end_pay"><bpmn:incoming>f4</bpmn:incoming></bpmn:endEvent>
"""

SCRIPT = """
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="script"/>
    <bpmn:scriptTask id="script" scriptFormat="python">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:script>marker = 1</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:sequenceFlow id="f2" sourceRef="script" targetRef="end"/>
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
"""

LOOP = """
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="collect"/>
    <bpmn:userTask id="collect" name="Collect documents">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:standardLoopCharacteristics>
        <bpmn:loopCondition>{condition}</bpmn:loopCondition>
      </bpmn:standardLoopCharacteristics>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="f2" sourceRef="collect" targetRef="done"/>
    <bpmn:userTask id="done" name="Done">
      <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="f3" sourceRef="done" targetRef="end"/>
    <bpmn:endEvent id="end"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
"""

EVIL = "__import__('os') is not None"  # True under Python's eval; refused here


def workflow(body: str, **fmt: str) -> BpmnWorkflow:
    xml = HEAD + body.format(**{k: escape(v) for k, v in fmt.items()}) + TAIL
    parser = BpmnParser()
    parser.add_bpmn_str(xml.encode("utf-8"))
    wf = BpmnWorkflow(parser.get_spec("claim"), script_engine=safe_script_engine())
    wf.do_engine_steps()
    return wf


def ready_ids(wf: BpmnWorkflow) -> list[str]:
    return sorted(t.task_spec.bpmn_id for t in wf.get_tasks(state=TaskState.READY))


def complete(wf: BpmnWorkflow, bpmn_id: str, **data: Any) -> None:
    (task,) = [t for t in wf.get_tasks(state=TaskState.READY) if t.task_spec.bpmn_id == bpmn_id]
    task.set_data(**data)
    task.run()
    wf.do_engine_steps()


def cause(err: BaseException) -> BaseException | None:
    return err.__cause__ or err.__context__


# -- gateway conditions ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "branch"),
    [
        ({"amount": 500}, "pay"),
        ({"amount": 5000}, "assess"),
        ({}, "pay"),
        ({"amount": 1000}, "pay"),
    ],
)
def test_gateway_condition_picks_branch(data: dict[str, Any], branch: str) -> None:
    wf = workflow(GATEWAY, condition="amount > 1000")
    complete(wf, "register", **data)
    assert ready_ids(wf) == [branch]


def test_gateway_condition_with_escaped_xml_operators() -> None:
    wf = workflow(GATEWAY, condition="amount < 10 and status != 'closed'")
    complete(wf, "register", amount=3, status="open")
    assert ready_ids(wf) == ["assess"]


def test_gateway_uses_data_objects_as_external_context() -> None:
    env = SafeEnvironment()
    assert env.evaluate("limit < amount", {"amount": 5}, {"limit": 3}) is True
    # task data wins over data objects, as with SpiffWorkflow's own environment
    assert env.evaluate("amount", {"amount": 5}, {"amount": 99}) == 5


def test_refused_gateway_condition_raises_instead_of_running() -> None:
    wf = workflow(GATEWAY, condition=EVIL)
    task = wf.get_tasks(state=TaskState.READY)[0]
    task.run()
    with pytest.raises(WorkflowTaskException, match="function calls are not allowed") as info:
        wf.do_engine_steps()
    assert isinstance(cause(info.value), ExpressionError)
    assert ready_ids(wf) == []


def test_evaluation_error_in_gateway_is_a_workflow_task_exception() -> None:
    wf = workflow(GATEWAY, condition="amount > 1000")
    task = wf.get_tasks(state=TaskState.READY)[0]
    task.set_data(amount="lots")
    task.run()
    with pytest.raises(WorkflowTaskException, match="cannot compare str and int") as info:
        wf.do_engine_steps()
    assert info.value.task.task_spec.bpmn_id == "gw"


# -- loop conditions go through the same engine -------------------------------------------


def test_loop_condition_is_evaluated_safely() -> None:
    wf = workflow(LOOP, condition="count < 3")
    for n in (1, 2):
        complete(wf, "collect", count=n)
        assert ready_ids(wf) == ["collect"]
    complete(wf, "collect", count=3)
    assert ready_ids(wf) == ["done"]


def test_refused_loop_condition_raises() -> None:
    wf = workflow(LOOP, condition="count.bit_length() < 3")
    with pytest.raises(WorkflowTaskException, match="function calls are not allowed"):
        complete(wf, "collect", count=1)


# -- scripts and services are refused -------------------------------------------------------


def test_script_task_is_refused_and_not_run() -> None:
    xml = HEAD + SCRIPT + TAIL
    parser = BpmnParser()
    parser.add_bpmn_str(xml.encode("utf-8"))
    wf = BpmnWorkflow(parser.get_spec("claim"), script_engine=safe_script_engine())
    with pytest.raises(WorkflowTaskException, match="scripts are not allowed") as info:
        wf.do_engine_steps()
    assert isinstance(cause(info.value), ScriptNotAllowed)
    assert all("marker" not in t.data for t in wf.get_tasks())


def test_environment_refuses_execute_and_call_service() -> None:
    env = SafeEnvironment()
    data: dict[str, Any] = {}
    with pytest.raises(ScriptNotAllowed):
        env.execute("data = 1", data)
    assert data == {}
    with pytest.raises(ScriptNotAllowed):
        env.call_service(data, operation_name="http/GetRequest", operation_params={})


def test_engine_refuses_call_service() -> None:
    wf = workflow(GATEWAY, condition="amount > 1000")
    task = wf.get_tasks(state=TaskState.READY)[0]
    with pytest.raises(ScriptNotAllowed, match="'register'"):
        safe_script_engine().call_service(task, operation_name="x", operation_params={})


def test_environment_refuses_non_mapping_context() -> None:
    with pytest.raises(ExpressionError, match="not a mapping"):
        SafeEnvironment().evaluate("payload", ["not", "a", "mapping"])  # type: ignore[arg-type]


# -- validate ------------------------------------------------------------------------------


def test_validate_accepts_allowed_conditions() -> None:
    safe_script_engine().validate("amount > 1000 and status in ['a', 'b']")


def test_validate_raises_syntax_error_like_base_engine() -> None:
    # DMN tells "> 1000" (an operator-first match) from "1000" by catching SyntaxError
    with pytest.raises(SyntaxError):
        safe_script_engine().validate("> 1000")
    safe_script_engine().validate("v > 1000")


@pytest.mark.parametrize("text", [EVIL, "a.b", "x ** 2", "'a' * 10 ** 9"])
def test_validate_refuses_disallowed_syntax(text: str) -> None:
    with pytest.raises(ExpressionError):
        safe_script_engine().validate(text)


def test_validate_refuses_too_long_text() -> None:
    with pytest.raises(ExpressionError, match="too long"):
        safe_script_engine().validate("a or " * 300 + "b")


# -- the shared engine and restored workflows ------------------------------------------------


def test_safe_script_engine_is_shared_and_uses_safe_environment() -> None:
    engine = safe_script_engine()
    assert engine is safe_script_engine()
    assert isinstance(engine, SafeScriptEngine)
    assert isinstance(engine, PythonScriptEngine)
    assert isinstance(engine.environment, SafeEnvironment)


def test_install_safe_engine_on_restored_workflow() -> None:
    wf = workflow(GATEWAY, condition=EVIL)
    serializer = BpmnWorkflowSerializer()
    restored = serializer.deserialize_json(serializer.serialize_json(wf))
    assert not isinstance(restored.script_engine, SafeScriptEngine)  # Spiff's default engine
    assert install_safe_engine(restored) is restored
    assert restored.script_engine is safe_script_engine()
    restored.get_tasks(state=TaskState.READY)[0].run()
    with pytest.raises(WorkflowTaskException, match="function calls are not allowed"):
        restored.do_engine_steps()
