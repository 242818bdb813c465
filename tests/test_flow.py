"""The flow runner: stages, conditions, parallel joins, waiting robot and sub-case steps,
storage without the spec, and rework by reset (engine.runtime.flow)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.util.task import TaskState

from engine.builder.loader import load_definition, load_source
from engine.model import ProcessDefinition
from engine.runtime.flow import FlowRunner, ReadyStep, copy_data, runner_for
from engine.spiff_script import safe_script_engine

CLAIM = """
id: claim
name: Claim
version: 1
subcases: [fraud_check]
stages:
  - name: Intake
    actions:
      - {id: register, title: Register}
      - {id: check, title: Check}
  - name: Assessment
    condition: amount > 1000
    actions:
      - {id: assess, title: Assess}
      - {id: second_opinion, title: Second opinion, manual_launch: true, flow: false}
  - name: Investigation
    parallel: true
    actions:
      - {id: inspect, title: Inspect}
      - {id: scan, title: Scan documents, robot: true}
      - {id: fraud, title: Fraud check, subcase: fraud_check}
  - name: Payment
    actions:
      - {id: pay, title: Pay, robot: true}
"""

REVIEW = """
id: review
name: Review
version: 1
stages:
  - name: Intake
    actions:
      - {id: intake, title: Intake}
  - name: Review
    parallel: true
    condition: amount > 1000
    actions:
      - {id: legal, title: Legal review}
      - {id: finance, title: Finance review}
  - name: Close
    actions:
      - {id: close, title: Close}
"""

JOIN = """
id: join
name: Join
version: 1
stages:
  - name: Both
    parallel: true
    actions:
      - {id: left, title: Left}
      - {id: right, title: Right}
  - name: Flagged
    condition: flag == True
    actions:
      - {id: flagged, title: Flagged}
  - name: Done
    actions:
      - {id: done, title: Done}
"""

PLAIN_PARALLEL = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    id="defs" targetNamespace="http://caseloom.test">
  <bpmn:process id="plain" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="first"/>
    <bpmn:userTask id="first" name="First"/>
    <bpmn:sequenceFlow id="f2" sourceRef="first" targetRef="split"/>
    <bpmn:parallelGateway id="split"/>
    <bpmn:sequenceFlow id="f3" sourceRef="split" targetRef="left"/>
    <bpmn:sequenceFlow id="f4" sourceRef="split" targetRef="right"/>
    <bpmn:userTask id="left" name="Left"/>
    <bpmn:serviceTask id="right" name="Right"/>
    <bpmn:sequenceFlow id="f5" sourceRef="left" targetRef="join"/>
    <bpmn:sequenceFlow id="f6" sourceRef="right" targetRef="join"/>
    <bpmn:parallelGateway id="join"/>
    <bpmn:sequenceFlow id="f7" sourceRef="join" targetRef="last"/>
    <bpmn:userTask id="last" name="Last"/>
    <bpmn:sequenceFlow id="f8" sourceRef="last" targetRef="end"/>
    <bpmn:endEvent id="end"/>
  </bpmn:process>
</bpmn:definitions>
"""

PLAIN_NESTED = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    id="defs" targetNamespace="http://caseloom.test">
  <bpmn:process id="nested" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="inner"/>
    <bpmn:subProcess id="inner">
      <bpmn:startEvent id="inner_start"/>
      <bpmn:sequenceFlow id="g1" sourceRef="inner_start" targetRef="inside"/>
      <bpmn:userTask id="inside" name="Inside"/>
      <bpmn:sequenceFlow id="g2" sourceRef="inside" targetRef="inner_end"/>
      <bpmn:endEvent id="inner_end"/>
    </bpmn:subProcess>
    <bpmn:sequenceFlow id="f2" sourceRef="inner" targetRef="after"/>
    <bpmn:userTask id="after" name="After"/>
    <bpmn:sequenceFlow id="f3" sourceRef="after" targetRef="end"/>
    <bpmn:endEvent id="end"/>
  </bpmn:process>
</bpmn:definitions>
"""

HANDWRITTEN = Path(__file__).parent / "data" / "bpmn" / "claim_handwritten.bpmn"


@cache
def definition(text: str) -> ProcessDefinition:
    return load_source(text.encode(), "x.yaml").definition


@cache
def plain_definition() -> ProcessDefinition:
    return load_source(PLAIN_PARALLEL, "plain.bpmn").definition


def runner(text: str = CLAIM) -> FlowRunner:
    return FlowRunner(definition(text))


def elements(flow: FlowRunner, wf: BpmnWorkflow) -> list[str]:
    return [step.element_id for step in flow.ready_steps(wf)]


def step_for(flow: FlowRunner, wf: BpmnWorkflow, element: str) -> ReadyStep:
    matching = [s for s in flow.ready_steps(wf) if s.element_id == element]
    assert len(matching) == 1, (element, elements(flow, wf))
    return matching[0]


def do(flow: FlowRunner, wf: BpmnWorkflow, element: str, data: Mapping[str, Any]) -> None:
    flow.complete(wf, step_for(flow, wf, element).task_id, data)


def tree(wf: BpmnWorkflow) -> list[tuple[int, str, str, str]]:
    """The task tree without ids: depth, element, state and data of every task."""
    return [
        (task.depth, task.task_spec.name, TaskState.get_name(task.state), repr(task.data))
        for task in wf.get_tasks()
    ]


def advance(flow: FlowRunner, wf: BpmnWorkflow, data: Mapping[str, Any], until: str) -> None:
    """Complete the first READY step until ``until`` is READY."""
    while until not in elements(flow, wf):
        flow.complete(wf, flow.ready_steps(wf)[0].task_id, data)


# -- stages, conditions, steps ---------------------------------------------------------------


def test_sequential_stages_give_one_ready_step_at_a_time_in_order() -> None:
    flow = runner()
    data = {"amount": 5000}
    wf = flow.start(data)
    seen = []
    for element in ("Action_register", "Action_check", "Action_assess"):
        steps = flow.ready_steps(wf)
        seen.append([(s.element_id, s.action_id, s.stage) for s in steps])
        do(flow, wf, element, data)
    assert seen == [
        [("Action_register", "register", 1)],
        [("Action_check", "check", 1)],
        [("Action_assess", "assess", 2)],
    ]


def test_parallel_stage_makes_every_step_ready_and_the_join_waits_for_all() -> None:
    flow = runner()
    data = {"amount": 5000}
    wf = flow.start(data)
    advance(flow, wf, data, "Action_inspect")
    steps = flow.ready_steps(wf)
    assert [(s.action_id, s.stage) for s in steps] == [("inspect", 3), ("scan", 3), ("fraud", 3)]
    do(flow, wf, "Action_scan", data)
    assert elements(flow, wf) == ["Action_inspect", "Action_fraud"]
    do(flow, wf, "Action_fraud", data)
    assert elements(flow, wf) == ["Action_inspect"]
    assert flow.current_stage(wf) == 3
    do(flow, wf, "Action_inspect", data)
    assert elements(flow, wf) == ["Action_pay"]


@pytest.mark.parametrize("data", [{"amount": 500}, {}], ids=["amount 500", "amount missing"])
def test_RW3_false_stage_condition_skips_the_stage(data: dict[str, Any]) -> None:
    flow = runner()
    wf = flow.start(data)
    do(flow, wf, "Action_register", data)
    do(flow, wf, "Action_check", data)
    assert elements(flow, wf) == ["Action_inspect", "Action_scan", "Action_fraud"]
    assert flow.current_stage(wf) == 3


def test_RW3_condition_sees_the_data_given_at_a_later_complete() -> None:
    flow = runner()
    wf = flow.start({"amount": 500})
    do(flow, wf, "Action_register", {"amount": 500})
    do(flow, wf, "Action_check", {"amount": 5000})
    assert elements(flow, wf) == ["Action_assess"]


def test_case_data_is_authoritative_over_data_merged_by_a_join() -> None:
    """A name the case data no longer has is not brought back by SpiffWorkflow's join,
    which merges the data of every branch."""
    flow = runner(JOIN)
    wf = flow.start({})
    do(flow, wf, "Action_left", {"flag": True})
    do(flow, wf, "Action_right", {})
    assert elements(flow, wf) == ["Action_done"]


def test_robot_steps_wait_as_ready_steps() -> None:
    flow = runner()
    data = {"amount": 0}
    wf = flow.start(data)
    advance(flow, wf, data, "Action_scan")
    for element in ("Action_inspect", "Action_scan", "Action_fraud"):
        do(flow, wf, element, data)
    pay = flow.ready_steps(wf)
    assert [(s.element_id, s.action_id, s.stage) for s in pay] == [("Action_pay", "pay", 4)]
    assert not flow.is_finished(wf)
    do(flow, wf, "Action_pay", data)
    assert flow.is_finished(wf)
    assert flow.ready_steps(wf) == []


def test_SC1_subcase_steps_are_ready_steps_naming_the_subcase_process() -> None:
    flow = runner()
    wf = flow.start({"amount": 0})
    advance(flow, wf, {"amount": 0}, "Action_fraud")
    subcases = {s.action_id: s.subcase for s in flow.ready_steps(wf)}
    assert subcases == {"inspect": None, "scan": None, "fraud": "fraud_check"}


def test_is_finished_only_after_the_last_step() -> None:
    flow = runner(REVIEW)
    wf = flow.start({})
    do(flow, wf, "Action_intake", {})
    assert not flow.is_finished(wf)
    do(flow, wf, "Action_close", {})
    assert flow.is_finished(wf)


def test_current_stage_follows_the_flow_and_is_none_at_the_end() -> None:
    flow = runner()
    data = {"amount": 5000}
    wf = flow.start(data)
    stages = [flow.current_stage(wf)]
    while not flow.is_finished(wf):
        flow.complete(wf, flow.ready_steps(wf)[0].task_id, data)
        stages.append(flow.current_stage(wf))
    assert stages == [1, 1, 2, 3, 3, 3, 4, None]


def test_handwritten_bpmn_maps_elements_to_action_ids() -> None:
    flow = FlowRunner(load_definition(HANDWRITTEN))
    wf = flow.start({"amount": 5000})
    assert [(s.element_id, s.action_id, s.stage) for s in flow.ready_steps(wf)] == [
        ("Task_register", "register", 1)
    ]


def test_plain_bpmn_steps_use_the_element_id_as_action_in_stage_1() -> None:
    flow = FlowRunner(plain_definition())
    wf = flow.start({})
    do(flow, wf, "first", {})
    assert [(s.action_id, s.stage, s.subcase) for s in flow.ready_steps(wf)] == [
        ("left", 1, None),
        ("right", 1, None),
    ]


def test_steps_inside_an_embedded_subprocess_run_store_and_reset() -> None:
    flow = FlowRunner(load_source(PLAIN_NESTED, "nested.bpmn").definition)
    wf = flow.loads(flow.dumps(flow.start({})))
    assert elements(flow, wf) == ["inside"]
    assert flow.current_stage(wf) == 1
    do(flow, wf, "inside", {"x": 1})
    wf = flow.loads(flow.dumps(wf))
    assert elements(flow, wf) == ["after"]
    flow.reset_to_element(wf, "inside", {"x": 2})
    wf = flow.loads(flow.dumps(wf))
    assert elements(flow, wf) == ["inside"]
    do(flow, wf, "inside", {"x": 2})
    do(flow, wf, "after", {"x": 2})
    assert flow.is_finished(wf)


def test_complete_refuses_unknown_and_non_ready_tasks() -> None:
    flow = runner()
    wf = flow.start({})
    first = flow.ready_steps(wf)[0]
    flow.complete(wf, first.task_id, {})
    with pytest.raises(ValueError, match="not a READY manual step"):
        flow.complete(wf, first.task_id, {})
    with pytest.raises(ValueError, match="no task"):
        flow.complete(wf, "00000000-0000-0000-0000-000000000000", {})
    with pytest.raises(ValueError, match="not a task id"):
        flow.complete(wf, "register", {})
    gateway = wf.get_tasks(spec_name="Stage_2_entry")[0]
    with pytest.raises(ValueError, match="not a READY manual step"):
        flow.complete(wf, str(gateway.id), {})


def test_cancel_finishes_the_flow_and_refuses_rework() -> None:
    flow = runner()
    wf = flow.start({})
    do(flow, wf, "Action_register", {})
    flow.cancel(wf)
    assert flow.is_finished(wf)
    assert flow.ready_steps(wf) == []
    assert flow.current_stage(wf) is None
    with pytest.raises(ValueError, match="cancelled"):
        flow.reset_to_element(wf, "Action_register", {})


# -- storage ---------------------------------------------------------------------------------


def test_dumps_holds_no_spec_and_is_much_smaller_than_spiffs_own() -> None:
    flow = runner()
    wf = flow.start({"amount": 5000})
    text = flow.dumps(wf)
    stored = json.loads(text)
    assert "spec" not in stored
    assert "subprocess_specs" not in stored
    assert "task_specs" not in text
    assert len(text) * 2 < len(BpmnWorkflowSerializer().serialize_json(wf))


def test_stored_keys_are_spiffs_own_minus_the_specs() -> None:
    """Guards against a SpiffWorkflow upgrade adding workflow attributes we would drop."""
    flow = runner()
    wf = flow.start({"amount": 5000})
    stock = set(BpmnWorkflowSerializer().to_dict(wf))
    ours = set(json.loads(flow.dumps(wf)))
    assert ours - {"caseloom", "serializer_version"} == stock - {"spec", "subprocess_specs"}


def test_loads_installs_the_safe_script_engine_and_reuses_the_parsed_spec() -> None:
    flow = runner()
    restored = flow.loads(flow.dumps(flow.start({})))
    assert restored.script_engine is safe_script_engine()
    assert restored.spec is definition(CLAIM).spec


def test_loads_refuses_state_of_another_definition_version() -> None:
    state = runner().dumps(runner().start({}))
    other = FlowRunner(
        load_source(CLAIM.replace("version: 1", "version: 2").encode(), "x.yaml").definition
    )
    with pytest.raises(ValueError, match="version 2"):
        other.loads(state)
    with pytest.raises(ValueError, match="given to the runner"):
        runner(REVIEW).dumps(runner().start({}))


def test_dates_and_datetimes_in_case_data_survive_storage() -> None:
    flow = runner()
    data = {"when": datetime(2026, 3, 2, 9, 0, tzinfo=UTC), "nested": [{"day": date(2026, 1, 5)}]}
    wf = flow.start(data)
    restored = flow.loads(flow.dumps(wf))
    step = flow.ready_steps(restored)[0]
    assert restored.get_task_from_id(wf.get_tasks(state=TaskState.READY)[0].id).data == data
    assert step.element_id == "Action_register"


def test_dumps_and_loads_at_every_step_match_an_uninterrupted_run() -> None:
    flow = runner()
    steps: list[tuple[str, dict[str, Any]]] = [
        ("Action_register", {"amount": 5000}),
        ("Action_check", {"amount": 5000, "note": "x"}),
        ("Action_assess", {"amount": 5000}),
        ("Action_fraud", {"amount": 5000, "fraud": False}),
        ("Action_inspect", {"amount": 5000}),
        ("Action_scan", {"amount": 5000}),
        ("Action_pay", {"amount": 5000, "paid": True}),
    ]
    plain = flow.start({"amount": 5000})
    stored = flow.dumps(flow.start({"amount": 5000}))
    for element, data in steps:
        wf = flow.loads(stored)
        assert tree(wf) == tree(plain)
        assert elements(flow, wf) == elements(flow, plain)
        assert flow.current_stage(wf) == flow.current_stage(plain)
        do(flow, plain, element, data)
        do(flow, wf, element, data)
        stored = flow.dumps(wf)
    final = flow.loads(stored)
    assert tree(final) == tree(plain)
    assert flow.is_finished(final) and flow.is_finished(plain)


RESET_TARGETS = [
    "Stage_2_exit",
    "Action_register",
    "Action_check",
    "Stage_2_entry",
    "Action_assess",
    "Stage_3_split",
    "Action_scan",
    "Action_pay",
]


@settings(max_examples=30, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["complete", "complete", "complete", "reset"]),
            st.integers(0, 7),
            st.sampled_from([None, 500, 5000]),
        ),
        max_size=14,
    )
)
def test_restored_workflows_behave_like_uninterrupted_ones(
    ops: list[tuple[str, int, int | None]],
) -> None:
    flow = runner()
    plain = flow.start({"amount": 5000})
    stored = flow.dumps(flow.start({"amount": 5000}))
    for kind, choice, amount in ops:
        if flow.is_finished(plain):
            break
        data = {} if amount is None else {"amount": amount}
        wf = flow.loads(stored)
        assert tree(wf) == tree(plain)
        if kind == "complete":
            index = choice % len(flow.ready_steps(plain))
            flow.complete(plain, flow.ready_steps(plain)[index].task_id, data)
            flow.complete(wf, flow.ready_steps(wf)[index].task_id, data)
        else:
            target = RESET_TARGETS[choice]
            outcomes = []
            for each in (plain, wf):
                try:
                    flow.reset_to_element(each, target, data)
                    outcomes.append("reset")
                except ValueError as err:
                    outcomes.append(str(err))
            assert outcomes[0] == outcomes[1]
        assert elements(flow, wf) == elements(flow, plain)
        assert flow.current_stage(wf) == flow.current_stage(plain)
        assert flow.is_finished(wf) == flow.is_finished(plain)
        stored = flow.dumps(wf)
    assert tree(flow.loads(stored)) == tree(plain)


# -- rework ----------------------------------------------------------------------------------


def test_RW3_reset_to_a_stage_entry_re_evaluates_its_condition() -> None:
    flow = runner()
    wf = flow.start({"amount": 5000})
    advance(flow, wf, {"amount": 5000}, "Action_inspect")
    flow.reset_to_element(wf, "Stage_2_entry", {"amount": 500})
    assert elements(flow, wf) == ["Action_inspect", "Action_scan", "Action_fraud"]

    wf = flow.start({"amount": 500})
    advance(flow, wf, {"amount": 500}, "Action_inspect")
    flow.reset_to_element(wf, "Stage_2_entry", {"amount": 5000})
    assert elements(flow, wf) == ["Action_assess"]
    assert flow.current_stage(wf) == 2


def test_RW8_reset_to_an_action_of_a_sequential_stage_recreates_that_step() -> None:
    flow = runner()
    data = {"amount": 5000}
    wf = flow.start(data)
    advance(flow, wf, data, "Action_assess")
    old = {t.id for t in wf.get_tasks(spec_name="Action_register")}
    flow.reset_to_element(wf, "Action_register", data)
    steps = flow.ready_steps(wf)
    assert [(s.element_id, s.stage) for s in steps] == [("Action_register", 1)]
    assert steps[0].task_id in {str(i) for i in old}  # the same task, READY again
    assert wf.get_tasks(spec_name="Action_assess", state=TaskState.READY) == []
    do(flow, wf, "Action_register", data)
    assert elements(flow, wf) == ["Action_check"]


def test_RW3_reset_inside_a_parallel_stage_restarts_the_whole_stage() -> None:
    flow = runner(REVIEW)
    wf = flow.start({"amount": 5000})
    do(flow, wf, "Action_intake", {"amount": 5000})
    do(flow, wf, "Action_legal", {"amount": 5000})
    do(flow, wf, "Action_finance", {"amount": 5000})
    assert elements(flow, wf) == ["Action_close"]
    flow.reset_to_element(wf, "Action_legal", {"amount": 5000})
    assert elements(flow, wf) == ["Action_legal", "Action_finance"]
    # from the stage entry: its condition is evaluated again
    flow.reset_to_element(wf, "Action_finance", {"amount": 10})
    assert elements(flow, wf) == ["Action_close"]


def test_reset_inside_plain_bpmn_parallel_branches_restarts_from_the_fork() -> None:
    flow = FlowRunner(plain_definition())
    wf = flow.start({})
    for element in ("first", "left", "right"):
        do(flow, wf, element, {})
    assert elements(flow, wf) == ["last"]
    flow.reset_to_element(wf, "left", {})
    assert elements(flow, wf) == ["left", "right"]
    do(flow, wf, "left", {})
    assert elements(flow, wf) == ["right"]
    do(flow, wf, "right", {})
    assert elements(flow, wf) == ["last"]


def test_reset_of_a_finished_flow_runs_again() -> None:
    flow = runner(REVIEW)
    wf = flow.start({})
    do(flow, wf, "Action_intake", {})
    do(flow, wf, "Action_close", {})
    assert flow.is_finished(wf)
    flow.reset_to_element(wf, "Stage_2_entry", {"amount": 5000})
    assert not flow.is_finished(wf)
    assert elements(flow, wf) == ["Action_legal", "Action_finance"]


def test_reset_refuses_elements_that_were_never_reached() -> None:
    flow = runner()
    wf = flow.start({"amount": 500})
    advance(flow, wf, {"amount": 500}, "Action_inspect")
    with pytest.raises(ValueError, match="Action_assess"):
        flow.reset_to_element(wf, "Action_assess", {})  # its stage was skipped
    with pytest.raises(ValueError, match="Action_pay"):
        flow.reset_to_element(wf, "Action_pay", {})  # only predicted
    with pytest.raises(ValueError, match="nowhere"):
        flow.reset_to_element(wf, "nowhere", {})


def test_reset_refuses_a_step_of_a_skipped_parallel_stage() -> None:
    flow = runner(REVIEW)
    wf = flow.start({"amount": 10})
    do(flow, wf, "Action_intake", {"amount": 10})
    assert elements(flow, wf) == ["Action_close"]
    with pytest.raises(ValueError, match="Action_legal"):
        flow.reset_to_element(wf, "Action_legal", {"amount": 5000})
    assert elements(flow, wf) == ["Action_close"]


def test_RW6_two_hundred_resets_keep_the_stored_state_bounded() -> None:
    flow = runner(REVIEW)
    data = {"amount": 5000}
    wf = flow.start(data)
    advance(flow, wf, data, "Action_close")
    targets = ["Stage_2_exit", "Action_legal", "Stage_2_entry", "Action_intake"]
    after_reset: dict[str, list[int]] = {target: [] for target in targets}
    after_run = []
    for n in range(200):
        target = targets[n % len(targets)]
        flow.reset_to_element(wf, target, data)
        after_reset[target].append(len(flow.dumps(wf)))
        advance(flow, wf, data, "Action_close")
        after_run.append(len(flow.dumps(wf)))
    for sizes in after_reset.values():
        assert max(sizes) <= 2 * sizes[0]
    assert max(after_run) <= 2 * after_run[0]
    assert len(wf.tasks) < 40


# -- cache -----------------------------------------------------------------------------------


def test_runner_for_caches_per_definition_version() -> None:
    first = runner_for(definition(CLAIM))
    assert runner_for(definition(CLAIM)) is first
    assert runner_for(definition(CLAIM.replace("version: 1", "version: 3"))) is not first
    assert first.definition is definition(CLAIM)


# -- released workflows and data copies ------------------------------------------------------


def test_loads_of_a_released_workflows_text_returns_it_once() -> None:
    flow = runner()
    wf = flow.start({"amount": 5000})
    do(flow, wf, "Action_register", {"amount": 5000})
    text = flow.dumps(wf, release=True)
    assert flow.loads(text) is wf
    again = flow.loads(text)  # handed out once: now deserialized
    assert again is not wf
    assert tree(again) == tree(wf)
    assert again.script_engine is safe_script_engine()


def test_dumps_without_release_keeps_nothing_and_other_text_is_deserialized() -> None:
    flow = runner()
    wf = flow.start({"amount": 5000})
    kept = flow.dumps(wf)
    assert flow.loads(kept) is not wf
    released = flow.dumps(wf, release=True)
    do(flow, flow.loads(released), "Action_register", {"amount": 5000})
    older = flow.dumps(flow.start({"amount": 1}))
    assert flow.loads(older) is not wf


def test_released_workflows_are_bounded_oldest_first(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("engine.runtime.flow.RELEASED_WORKFLOWS", 2)
    flow = runner()
    workflows = [flow.start({"n": n}) for n in range(3)]
    texts = [flow.dumps(wf, release=True) for wf in workflows]
    assert flow.loads(texts[0]) is not workflows[0]
    assert flow.loads(texts[1]) is workflows[1]
    assert flow.loads(texts[2]) is workflows[2]


def test_a_run_on_released_workflows_matches_an_uninterrupted_run() -> None:
    flow = runner()
    plain = flow.start({"amount": 5000})
    stored = flow.dumps(flow.start({"amount": 5000}), release=True)
    for element in ("Action_register", "Action_check", "Action_assess", "Action_fraud"):
        wf = flow.loads(stored)
        do(flow, plain, element, {"amount": 5000})
        do(flow, wf, element, {"amount": 5000})
        assert tree(wf) == tree(plain)
        stored = flow.dumps(wf, release=True)
    final = flow.loads(stored)
    assert final is wf
    assert tree(flow.loads(flow.dumps(final))) == tree(plain)


def test_copy_data_copies_json_values_deeply() -> None:
    when = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    marker = {1, 2}
    data: dict[str, Any] = {"n": 1, "l": [{"a": [1, 2]}, "x"], "d": {"k": None}, "t": when}
    data["s"] = marker
    copied = copy_data(data)
    assert copied == data
    copied["l"][0]["a"].append(3)
    copied["d"]["k"] = "changed"
    assert data["l"][0]["a"] == [1, 2] and data["d"] == {"k": None}
    assert copied["t"] is when  # immutable values are shared
    assert copied["s"] == marker and copied["s"] is not marker  # others go through deepcopy
