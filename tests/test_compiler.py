"""compile_model: the BPMN 2.0 written for a ProcessModel (structure, conditions, DI, XSD)."""

from __future__ import annotations

import dataclasses
import re
from collections import deque
from datetime import UTC, datetime, time, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from lxml import etree
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnValidator
from SpiffWorkflow.util.task import TaskState
from strategies import process_models

from engine.builder.bpmn_model import read_model
from engine.builder.bpmn_xml import parse_xml
from engine.builder.compiler import compile_model, task_id
from engine.builder.diagram_check import render_problems
from engine.builder.loader import load_source
from engine.builder.namespaces import BPMN_NS, BPMNDI_NS, CASELOOM_NS, DC_NS, DI_NS, bpmn
from engine.builder.spiff_parser import build_specs
from engine.model import (
    ActionDef,
    CalendarDef,
    CaseSettings,
    DueRule,
    DueUnit,
    ProcessModel,
    ScheduleDef,
    StageDef,
    WorkingPeriod,
)
from engine.runtime.flow import FlowRunner
from engine.spiff_script import safe_script_engine

NS = {"bpmn": BPMN_NS, "bpmndi": BPMNDI_NS, "dc": DC_NS, "di": DI_NS, "caseloom": CASELOOM_NS}
FLOW_NODES = (
    "startEvent",
    "endEvent",
    "exclusiveGateway",
    "parallelGateway",
    "userTask",
    "serviceTask",
    "callActivity",
)
VALIDATOR = BpmnValidator()


def claim_model() -> ProcessModel:
    """API.md's YAML claim example, as a model."""
    return ProcessModel(
        id="claim",
        version=1,
        name="Insurance claim",
        customer="Acme Insurance",
        contract="Motor",
        service="Claims",
        settings=CaseSettings(
            due=DueRule(3, DueUnit.DAYS, working=True),
            calendar="office",
            add_wait_time_to_due_date=True,
            feedback_window=DueRule(2, DueUnit.DAYS),
            allow_title_edit=True,
            allow_due_date_override=False,
            more_info_reasons=("Customer documents", "Third-party report"),
            subcases=("fraud_check",),
        ),
        stages=(
            StageDef(
                "Intake", (ActionDef("register", "Register claim", due=DueRule(4, DueUnit.HOURS)),)
            ),
            StageDef(
                "Assessment",
                (
                    ActionDef("assess", "Assess damage"),
                    ActionDef(
                        "second_opinion",
                        "Second opinion",
                        manual_launch=True,
                        flow=False,
                        instructions="Ask a senior assessor",
                    ),
                ),
                condition="amount > 1000",
            ),
            StageDef("Payment", (ActionDef("pay", "Pay claim", robot=True),)),
        ),
    )


def parallel_model() -> ProcessModel:
    """A model with a parallel stage, a sub-case step and XML-special text."""
    return ProcessModel(
        id="mixed",
        version=3,
        name="Mixed <&> \"quotes\" 'é'",
        settings=CaseSettings(subcases=("fraud_check",)),
        stages=(
            StageDef(
                "Checks & <balances>",
                (
                    ActionDef("a", "A & B", instructions="<b>not html</b> & 'so on'"),
                    ActionDef("b", "B", robot=True),
                    ActionDef("c", "C", subcase="fraud_check"),
                    ActionDef("d", "D", flow=False, manual_launch=True),
                ),
                condition="kind in ['x', 'y'] and amount >= 10 and note != \"<&>\"",
                parallel=True,
            ),
            StageDef("Close", (ActionDef("close", "Close"),)),
        ),
    )


def compiled(model: ProcessModel) -> etree._Element:
    return parse_xml(compile_model(model), f"{model.id}.bpmn")


def process_of(root: etree._Element) -> etree._Element:
    found = root.find("bpmn:process", NS)
    assert found is not None
    return found


def flow_nodes(process: etree._Element) -> dict[str, etree._Element]:
    return {e.get("id", ""): e for tag in FLOW_NODES for e in process.iter(bpmn(tag))}


def flows(process: etree._Element) -> list[etree._Element]:
    return list(process.iter(bpmn("sequenceFlow")))


def reachable(process: etree._Element) -> set[str]:
    start = process.find("bpmn:startEvent", NS)
    assert start is not None
    out: dict[str, list[str]] = {}
    for flow in flows(process):
        out.setdefault(flow.get("sourceRef", ""), []).append(flow.get("targetRef", ""))
    seen = {start.get("id", "")}
    todo = deque(seen)
    while todo:
        for target in out.get(todo.popleft(), []):
            if target not in seen:
                seen.add(target)
                todo.append(target)
    return seen


def manual_only_tasks(model: ProcessModel) -> set[str]:
    return {task_id(a.id) for a in model.all_actions() if not a.flow}


def stage_listing(root: etree._Element) -> list[etree._Element]:
    return root.findall("bpmn:process/bpmn:extensionElements/caseloom:case/caseloom:stage", NS)


def shown_as(shown: str, full: str) -> bool:
    """``shown`` is ``full``, or its beginning cut with an ellipsis (white space aside)."""
    if shown == full:
        return True
    squeeze = re.compile(r"\s+")
    return shown.endswith("\u2026") and squeeze.sub("", full).startswith(
        squeeze.sub("", shown[:-1])
    )


def check_structure(model: ProcessModel, root: etree._Element) -> None:
    """The structural promises of the mapping, for any model: every stage has only the
    gateways it needs, its listed entry is where the flow enters it, and its group."""
    process = process_of(root)
    nodes = flow_nodes(process)
    manual = manual_only_tasks(model)
    assert reachable(process) == set(nodes) - manual
    connected = {f.get("sourceRef") for f in flows(process)} | {
        f.get("targetRef") for f in flows(process)
    }
    assert not manual & connected
    gateways = [n for n in nodes.values() if n.tag.endswith("Gateway")]
    listing = stage_listing(root)
    assert len(listing) == len(model.stages)
    for number, stage in enumerate(model.stages, start=1):
        entry_id = listing[number - 1].get("entry", "")
        steps = [task_id(a.id) for a in stage.actions if a.flow]
        parallel = stage.parallel and bool(steps)
        first = f"Stage_{number}_split" if parallel else (steps[0] if steps else None)
        entering = [f for f in flows(process) if f.get("targetRef") == entry_id]
        assert len(entering) == 1  # the flow comes into the stage at its entry
        if stage.condition is None:
            assert f"Stage_{number}_entry" not in nodes and f"Stage_{number}_exit" not in nodes
            assert entry_id == first
        else:
            assert entry_id == f"Stage_{number}_entry"
            entry, exit_id = nodes[entry_id], f"Stage_{number}_exit"
            assert entry.tag == nodes[exit_id].tag == bpmn("exclusiveGateway")
            leaving = [f for f in flows(process) if f.get("sourceRef") == entry_id]
            conditions = [f.findtext("bpmn:conditionExpression", namespaces=NS) for f in leaving]
            assert conditions.count(stage.condition) == 1 and len(leaving) == 2
            [enter] = [f for f in leaving if f.find("bpmn:conditionExpression", NS) is not None]
            [skip] = [f for f in leaving if f.get("id") == entry.get("default")]
            assert enter.get("targetRef") == (first or exit_id)
            assert skip.get("targetRef") == exit_id and skip.get("name") == "otherwise"
            assert shown_as(enter.get("name", ""), stage.condition)
        if parallel:
            split, join = nodes[f"Stage_{number}_split"], nodes[f"Stage_{number}_join"]
            assert split.tag == join.tag == bpmn("parallelGateway")
            assert {
                f.get("targetRef") for f in flows(process) if f.get("sourceRef") == split.get("id")
            } == set(steps)
            assert {
                f.get("sourceRef") for f in flows(process) if f.get("targetRef") == join.get("id")
            } == set(steps)
    needed = sum(
        2 * (s.condition is not None) + 2 * (s.parallel and any(a.flow for a in s.actions))
        for s in model.stages
    )
    assert len(gateways) == needed
    check_groups(model, root)


def check_groups(model: ProcessModel, root: etree._Element) -> None:
    """One bpmn:group per stage, its category value named after the stage."""
    process = process_of(root)
    values = {
        v.get("id"): v.get("value") for v in root.iterfind("bpmn:category/bpmn:categoryValue", NS)
    }
    groups = process.findall("bpmn:group", NS)
    assert [g.get("id") for g in groups] == [
        f"Stage_{n}_group" for n in range(1, len(model.stages) + 1)
    ]
    for group, stage in zip(groups, model.stages, strict=True):
        assert shown_as(values[group.get("categoryValueRef")] or "", stage.name)


def check_diagram(root: etree._Element) -> None:
    process = process_of(root)
    ids = {e.get("id") for e in process.iter() if isinstance(e.tag, str) and e.get("id")}
    plane = root.find("bpmndi:BPMNDiagram/bpmndi:BPMNPlane", NS)
    assert plane is not None and plane.get("bpmnElement") == process.get("id")
    shapes = {s.get("bpmnElement"): s for s in plane.iterfind("bpmndi:BPMNShape", NS)}
    edges = {e.get("bpmnElement"): e for e in plane.iterfind("bpmndi:BPMNEdge", NS)}
    groups = {g.get("id") for g in process.iterfind("bpmn:group", NS)}
    assert set(shapes) == set(flow_nodes(process)) | groups
    assert set(edges) == {f.get("id") for f in flows(process)}
    assert set(shapes) | set(edges) <= ids
    for shape in shapes.values():
        bounds = shape.find("dc:Bounds", NS)
        assert bounds is not None
        assert int(bounds.get("width", "0")) > 0 and int(bounds.get("height", "0")) > 0
    for edge in edges.values():
        assert len(edge.findall("di:waypoint", NS)) >= 2
    for flow in flows(process):  # a named flow has its label box
        has_label = edges[flow.get("id")].find("bpmndi:BPMNLabel/dc:Bounds", NS) is not None
        assert has_label == bool(flow.get("name"))
    assert render_problems(root) == []


# -- the claim example ---------------------------------------------------------------------


def test_output_is_utf8_xml_with_declaration_and_exporter() -> None:
    data = compile_model(claim_model())
    assert data.startswith(b"<?xml version='1.0' encoding='UTF-8'?>\n")
    root = parse_xml(data, "claim.bpmn")
    assert root.tag == bpmn("definitions")
    assert root.get("exporter") == "caseloom" and root.get("exporterVersion")
    assert root.get("targetNamespace")
    process = process_of(root)
    assert (process.get("id"), process.get("name"), process.get("isExecutable")) == (
        "claim",
        "Insurance claim",
        "true",
    )
    assert b"\n    <bpmn:extensionElements>" in data  # indented


def test_every_node_but_manual_only_tasks_is_reachable_from_the_start() -> None:
    model = claim_model()
    root = compiled(model)
    check_structure(model, root)
    process = process_of(root)
    assert "Action_second_opinion" in flow_nodes(process)
    assert "Action_second_opinion" not in reachable(process)


def test_RW3_only_a_stage_with_a_condition_has_gateways_and_the_condition_enters_it() -> None:
    root = compiled(claim_model())
    process = process_of(root)
    by_id = {f.get("id"): f for f in flows(process)}
    nodes = flow_nodes(process)
    assert sorted(i for i, n in nodes.items() if n.tag == bpmn("exclusiveGateway")) == [
        "Stage_2_entry",
        "Stage_2_exit",
    ]
    entry = nodes["Stage_2_entry"]
    assert entry.get("name") is None  # the stage's group carries its name
    conditional = [f for f in by_id.values() if f.find("bpmn:conditionExpression", NS) is not None]
    assert len(conditional) == 1
    assert conditional[0].get("sourceRef") == "Stage_2_entry"
    assert conditional[0].get("targetRef") == "Action_assess"
    assert conditional[0].findtext("bpmn:conditionExpression", namespaces=NS) == "amount > 1000"
    assert conditional[0].get("name") == "amount > 1000"  # the label is on the entering flow
    skip = by_id[entry.get("default")]
    assert skip.get("targetRef") == "Stage_2_exit" and skip.get("name") == "otherwise"
    # the stage listing's entries: where each stage starts (and rework restarts it)
    assert [s.get("entry") for s in stage_listing(root)] == [
        "Action_register",
        "Stage_2_entry",
        "Action_pay",
    ]


def test_stage_entries_of_every_kind_of_stage() -> None:
    model = ProcessModel(
        "kinds",
        1,
        "Kinds",
        stages=(
            StageDef("Plain", (ActionDef("a", "A"), ActionDef("b", "B"))),
            StageDef("Parallel", (ActionDef("c", "C"), ActionDef("d", "D")), parallel=True),
            StageDef("Both", (ActionDef("e", "E"), ActionDef("f", "F")), "x > 1", True),
            StageDef("Conditional", (ActionDef("g", "G"),), "y"),
        ),
    )
    root = compiled(model)
    check_structure(model, root)
    assert [s.get("entry") for s in stage_listing(root)] == [
        "Action_a",
        "Stage_2_split",
        "Stage_3_entry",
        "Stage_4_entry",
    ]
    out: dict[str, list[str]] = {}
    for flow in flows(process_of(root)):
        out.setdefault(flow.get("sourceRef", ""), []).append(flow.get("targetRef", ""))
    assert out["StartEvent"] == ["Action_a"]
    assert out["Action_b"] == ["Stage_2_split"]
    assert out["Stage_2_join"] == ["Stage_3_entry"]
    assert out["Stage_3_entry"] == ["Stage_3_split", "Stage_3_exit"]
    assert out["Stage_3_join"] == ["Stage_3_exit"]
    assert out["Stage_4_exit"] == ["EndEvent"]


def test_actions_become_user_service_and_call_tasks_with_their_extension() -> None:
    process = process_of(compiled(parallel_model()))
    nodes = flow_nodes(process)
    assert nodes["Action_a"].tag == bpmn("userTask")
    assert nodes["Action_b"].tag == bpmn("serviceTask")
    assert nodes["Action_c"].tag == bpmn("callActivity")
    assert nodes["Action_c"].get("calledElement") == "fraud_check"
    assert nodes["Action_a"].get("name") == "A & B"
    assert nodes["Action_a"].findtext("bpmn:documentation", namespaces=NS) == (
        "<b>not html</b> & 'so on'"
    )
    ext = nodes["Action_d"].find("bpmn:extensionElements/caseloom:action", NS)
    assert ext is not None
    assert (ext.get("actionId"), ext.get("stage"), ext.get("flow"), ext.get("manualLaunch")) == (
        "d",
        "1",
        "false",
        "true",
    )


def test_sequential_stage_chains_actions_in_listed_order() -> None:
    model = ProcessModel(
        "seq",
        1,
        "Seq",
        stages=(StageDef("S", (ActionDef("z", "Z"), ActionDef("m", "M"), ActionDef("a", "A"))),),
    )
    process = process_of(compiled(model))
    out = {f.get("sourceRef"): f.get("targetRef") for f in flows(process)}
    chain = ["StartEvent"]
    while chain[-1] in out:
        chain.append(out[chain[-1]] or "")
    assert chain == ["StartEvent", "Action_z", "Action_m", "Action_a", "EndEvent"]


def test_parallel_stage_has_split_and_join_and_xml_special_text_survives() -> None:
    model = parallel_model()
    root = compiled(model)
    check_structure(model, root)
    stage = root.find(".//caseloom:stage", NS)
    assert stage is not None
    assert stage.get("condition") == model.stages[0].condition
    assert stage.get("name") == "Checks & <balances>"


def test_stage_with_only_a_condition_and_no_flow_step_still_enters_and_skips() -> None:
    model = ProcessModel(
        "odd",
        1,
        "Odd",
        stages=(
            StageDef(
                "Only manual", (ActionDef("m", "M", flow=False, manual_launch=True),), "a > 1"
            ),
        ),
    )
    process = process_of(compiled(model))
    leaving = [f for f in flows(process) if f.get("sourceRef") == "Stage_1_entry"]
    assert sorted(f.get("targetRef") or "" for f in leaving) == ["Stage_1_exit", "Stage_1_exit"]
    assert reachable(process) == set(flow_nodes(process)) - {"Action_m"}


def test_diagram_has_bounds_for_every_node_and_waypoints_for_every_flow() -> None:
    for model in (claim_model(), parallel_model()):
        check_diagram(compiled(model))


def test_compiled_output_is_valid_against_spiffworkflow_bpmn_xsd() -> None:
    for model in (claim_model(), parallel_model()):
        VALIDATOR.validate(compiled(model), f"{model.id}.bpmn")


def test_xsd_validator_does_reject_broken_output() -> None:
    """Guards the test above: the validator really validates."""
    root = compiled(claim_model())
    process = process_of(root)
    etree.SubElement(process, bpmn("sequenceFlow"), id="broken")  # no sourceRef/targetRef
    from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException

    with pytest.raises(ValidationException):
        VALIDATOR.validate(root, "broken.bpmn")


def test_compile_refuses_what_the_xml_cannot_carry() -> None:
    with pytest.raises(ValueError, match="not a valid"):
        compile_model(ProcessModel("2 words", 1, "Bad"))
    with pytest.raises(ValueError, match="clashes"):
        compile_model(ProcessModel("StartEvent", 1, "Clash"))
    twice = StageDef("S", (ActionDef("a", "A"), ActionDef("a", "Again")))
    with pytest.raises(ValueError, match="not unique"):
        compile_model(ProcessModel("dup", 1, "Dup", stages=(twice,)))
    seconds = CalendarDef("c", periods=(WorkingPeriod(0, time(9, 0, 30), time(17)),))
    with pytest.raises(ValueError, match="whole minutes"):
        compile_model(ProcessModel("cal", 1, "Cal", calendars=(seconds,)))


def test_task_ids_escape_characters_xml_ids_do_not_allow() -> None:
    assert task_id("register") == "Action_register"
    assert task_id("a b") != task_id("a_b")
    assert task_id("a:b") == "Action_a.3a.b"


@settings(max_examples=10, deadline=None)
@given(process_models())
def test_generated_models_compile_to_valid_complete_bpmn(model: ProcessModel) -> None:
    root = compiled(model)
    check_structure(model, root)
    check_diagram(root)
    VALIDATOR.validate(root, f"{model.id}.bpmn")


# -- SpiffWorkflow runs the compiled flow ----------------------------------------------------


def run_claim(data: dict[str, Any]) -> list[str]:
    """Drive the compiled claim example; returns the human tasks completed, in order."""
    root = compiled(claim_model())
    specs = build_specs(root, "claim.bpmn", "claim")
    workflow = BpmnWorkflow(specs.spec, specs.subprocess_specs, script_engine=safe_script_engine())
    for task in workflow.get_tasks(state=TaskState.READY):
        task.data.update(data)
    workflow.do_engine_steps()
    done = []
    for _ in range(50):
        ready = list(workflow.get_tasks(state=TaskState.READY, manual=True))
        if not ready:
            break
        task = ready[0]
        task.run()
        done.append(task.task_spec.name)
        workflow.do_engine_steps()
    assert workflow.is_completed()
    return done


def test_RW3_spiffworkflow_visits_assessment_only_when_amount_is_over_1000() -> None:
    assert run_claim({"amount": 5000}) == ["Action_register", "Action_assess", "Action_pay"]
    assert run_claim({"amount": 1000}) == ["Action_register", "Action_pay"]
    assert run_claim({}) == ["Action_register", "Action_pay"]  # a missing name is None


# -- schedules (C1) ------------------------------------------------------------------------


def scheduled_model() -> ProcessModel:
    """The claim example with two schedules (C1), one of them titled with XML-special text."""
    paris = timezone(timedelta(hours=1))
    return dataclasses.replace(
        claim_model(),
        settings=dataclasses.replace(
            claim_model().settings,
            schedules=(
                ScheduleDef(
                    DueRule(1, DueUnit.DAYS),
                    datetime(2026, 3, 2, 8, tzinfo=UTC),
                    'Daily <reconciliation> & "co"',
                ),
                ScheduleDef(DueRule(90, DueUnit.MINUTES), datetime(2026, 3, 6, 16, tzinfo=paris)),
            ),
        ),
    )


def test_C1_schedules_compile_to_caseloom_schedule_elements_in_utc() -> None:
    root = compiled(scheduled_model())
    elements = root.findall(
        "bpmn:process/bpmn:extensionElements/caseloom:case/caseloom:schedule", NS
    )
    assert [dict(e.attrib) for e in elements] == [
        {
            "every": "1d",
            "first": "2026-03-02T08:00:00+00:00",
            "title": 'Daily <reconciliation> & "co"',
        },
        {"every": "90m", "first": "2026-03-06T15:00:00+00:00"},
    ]
    VALIDATOR.validate(root, "scheduled.bpmn")
    specs = build_specs(root, "scheduled.bpmn", "claim")
    assert specs.spec is not None


def test_C1_compiled_schedules_read_back_as_the_same_instants() -> None:
    model = scheduled_model()
    reading = read_model(compiled(model), "scheduled.bpmn")
    assert reading.model == model
    assert all(s.first.tzinfo is UTC for s in reading.model.settings.schedules)


def test_C1_compile_refuses_a_schedule_without_a_utc_offset() -> None:
    naive = ScheduleDef(DueRule(1, DueUnit.DAYS), datetime(2026, 3, 2, 8))
    model = dataclasses.replace(claim_model(), settings=CaseSettings(schedules=(naive,)))
    with pytest.raises(ValueError, match="needs a UTC offset"):
        compile_model(model)


# -- rework restarts a stage at its entry, whatever kind of stage it is (RW3) --------------

KINDS_YAML = """
id: kinds
name: Kinds
version: 1
stages:
  - name: Plain
    actions:
      - {id: a, title: A}
      - {id: b, title: B}
  - name: Parallel
    parallel: true
    actions:
      - {id: c, title: C}
      - {id: d, title: D}
  - name: Conditional
    condition: amount > 1000
    actions:
      - {id: e, title: E}
  - name: Last
    actions:
      - {id: f, title: F}
"""


def test_RW3_reset_to_each_kind_of_stage_entry_restarts_that_stage() -> None:
    definition = load_source(KINDS_YAML.encode(), "kinds.yaml").definition
    assert definition.stage_entries == {
        1: "Action_a",
        2: "Stage_2_split",
        3: "Stage_3_entry",
        4: "Action_f",
    }
    flow = FlowRunner(definition)
    data = {"amount": 5000}

    def ready(wf: BpmnWorkflow) -> list[str]:
        return [step.element_id for step in flow.ready_steps(wf)]

    def run_until_last(wf: BpmnWorkflow, values: dict[str, Any]) -> None:
        while ready(wf) != ["Action_f"]:
            flow.complete(wf, flow.ready_steps(wf)[0].task_id, values)

    wf = flow.start(data)
    run_until_last(wf, data)
    flow.reset_to_element(wf, definition.stage_entries[1], data)  # no gateway: its 1st task
    assert ready(wf) == ["Action_a"] and flow.current_stage(wf) == 1
    run_until_last(wf, data)
    flow.reset_to_element(wf, definition.stage_entries[2], data)  # the split: both branches
    assert ready(wf) == ["Action_c", "Action_d"] and flow.current_stage(wf) == 2
    run_until_last(wf, data)
    flow.reset_to_element(wf, definition.stage_entries[3], {"amount": 10})  # re-evaluated
    assert ready(wf) == ["Action_f"]
    flow.reset_to_element(wf, definition.stage_entries[3], data)
    assert ready(wf) == ["Action_e"] and flow.current_stage(wf) == 3
