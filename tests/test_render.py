"""``caseloom show``'s tree (``render_tree``): names first, then the BPMN ids tools need.

Compiled ids are looked up generically (:mod:`stage_ids`), never written literally.
"""

from __future__ import annotations

import re
from pathlib import Path

from stage_ids import stage_ids, task_of

from engine.builder.loader import load_definition, load_source
from engine.builder.render import render_tree
from engine.model import ProcessDefinition

ROOT = Path(__file__).resolve().parents[1]
PROCESSES = ROOT / "processes"

PLAIN = """\
<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"
             xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
             id="Defs" targetNamespace="https://example.com">
  <process id="refund" name="Refund" isExecutable="true">
    <startEvent id="Begin"/>
    <userTask id="Check" name="Check request"/>
    <exclusiveGateway id="Decide" name="Approved?" default="No"/>
    <userTask id="Pay" name="Pay refund"/>
    <userTask id="Reject" name="Send rejection"/>
    <exclusiveGateway id="Merge"/>
    <endEvent id="Finish"/>
    <sequenceFlow id="F1" sourceRef="Begin" targetRef="Check"/>
    <sequenceFlow id="F2" sourceRef="Check" targetRef="Decide"/>
    <sequenceFlow id="Yes" sourceRef="Decide" targetRef="Pay">
      <conditionExpression xsi:type="tFormalExpression">amount &lt; 100</conditionExpression>
    </sequenceFlow>
    <sequenceFlow id="No" sourceRef="Decide" targetRef="Reject"/>
    <sequenceFlow id="F3" sourceRef="Pay" targetRef="Merge"/>
    <sequenceFlow id="F4" sourceRef="Reject" targetRef="Merge"/>
    <sequenceFlow id="F5" sourceRef="Merge" targetRef="Finish"/>
  </process>
</definitions>
"""


def load_text(text: str, name: str) -> ProcessDefinition:
    return load_source(text.encode(), name).definition


def line_of(text: str, start: str) -> str:
    [line] = [line for line in text.splitlines() if line.lstrip().startswith(start)]
    return line


def test_stages_with_a_condition_show_their_gateway_and_flows() -> None:
    definition = load_definition(PROCESSES / "claim.yaml")
    tree = render_tree(definition)
    for number, stage in enumerate(definition.model.stages, start=1):
        line = line_of(tree, f"Stage {number}: {stage.name}")
        if stage.condition is None:
            assert line.endswith(f"  [entry {definition.stage_entries[number]}]"), line
            continue
        ids = stage_ids(definition, stage.name)
        assert line == (
            f"  Stage {number}: {stage.name}  (if {stage.condition})"
            f"  [gateway {ids.gateway}: enter {ids.enter}, skip {ids.skip}]"
        )


def test_actions_show_their_task_ids_after_the_names() -> None:
    definition = load_definition(PROCESSES / "claim.yaml")
    tree = render_tree(definition)
    assess = line_of(tree, "- assess:")
    assert assess == (
        "    - assess: Assess damage  (due 1 working day; queue assessors)"
        f"  [task {task_of(definition, 'assess')}]"
    )
    manual = line_of(tree, "- second_opinion:")
    assert manual.endswith(f"(manual launch only)  [task {task_of(definition, 'second_opinion')}]")


def test_without_the_definition_the_tree_has_names_only() -> None:
    definition = load_definition(PROCESSES / "claim.yaml")
    with_ids = render_tree(definition)
    names_only = render_tree(definition.model)
    assert "gateway" not in names_only and "[task" not in names_only
    assert re.sub(r"  \[(gateway|entry|task) [^\]]*\]", "", with_ids) == names_only


def test_a_hand_written_bpmn_shows_its_gateway_and_flows() -> None:
    definition = load_definition(PROCESSES / "complaint.bpmn")
    tree = render_tree(definition)
    assert line_of(tree, "Stage 2:") == (
        "  Stage 2: Investigation  (if severity >= 2)"
        "  [gateway Gateway_investigate: enter Flow_investigate, skip Flow_skip]"
    )
    assert line_of(tree, "Stage 1:") == "  Stage 1: Triage  [entry Task_acknowledge]"
    assert line_of(tree, "- classify:").endswith("  [task Task_classify]")
    assert "exclusive gateways:" not in tree  # the only other one merges, it decides nothing


def test_a_stage_gateway_with_more_flows_lists_them_all() -> None:
    source = (PROCESSES / "complaint.bpmn").read_text()
    source = source.replace(
        '<sequenceFlow id="Flow_skip"',
        '<sequenceFlow id="Flow_urgent" sourceRef="Gateway_investigate" targetRef="Task_remedy">'
        '<conditionExpression xsi:type="tFormalExpression">severity &gt;= 3</conditionExpression>'
        '</sequenceFlow>\n    <sequenceFlow id="Flow_skip"',
        1,
    )
    definition = load_text(source, "complaint3.bpmn")
    assert line_of(render_tree(definition), "Stage 2:").endswith(
        "  [gateway Gateway_investigate: Flow_investigate if severity >= 2 -> Task_investigate; "
        "Flow_urgent if severity >= 3 -> Task_remedy; "
        "Flow_skip otherwise -> Gateway_investigated]"
    )


def test_other_deciding_gateways_are_listed_with_their_flows() -> None:
    definition = load_text(PLAIN, "refund.bpmn")
    tree = render_tree(definition)
    assert tree.splitlines()[-2:] == [
        "  exclusive gateways:",
        "    Decide (Approved?): Yes if amount < 100 -> Pay; No otherwise -> Reject",
    ]
    assert line_of(tree, "Stage 1:") == "  Stage 1: Refund  [entry Begin]"
    assert line_of(tree, "- Pay:") == "    - Pay: Pay refund"  # task id = action id: once
