"""The simulator's token graph, read from BPMN: the runtime's BPMN and foreign BPMN."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.builder.bpmn_xml import parse_xml
from engine.builder.loader import load_definition
from engine.errors import DefinitionError
from engine.simulation.graph import NodeKind, read_graph

ROOT = Path(__file__).resolve().parents[1]
PROSIMOS = ROOT.parent / "shared" / "simulation" / "prosimos"

BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="t">
  <process id="p" isExecutable="true">
    <startEvent id="start"/>
    <exclusiveGateway id="x" default="f_b"/>
    <task id="a" name="Do A"/>
    <task id="b"/>
    {extra}
    <endEvent id="end"/>
    <sequenceFlow id="f0" sourceRef="start" targetRef="x"/>
    <sequenceFlow id="f_a" sourceRef="x" targetRef="a">
      <conditionExpression>amount &gt; 10</conditionExpression>
    </sequenceFlow>
    <sequenceFlow id="f_b" sourceRef="x" targetRef="b"/>
    <sequenceFlow id="f1" sourceRef="a" targetRef="end"/>
    <sequenceFlow id="f2" sourceRef="b" targetRef="{target}"/>
  </process>
</definitions>
"""


def _graph(extra: str = "", target: str = "end"):  # type: ignore[no-untyped-def]
    text = BPMN.format(extra=extra, target=target)
    return read_graph(parse_xml(text.encode(), "g.bpmn"), "g.bpmn")


def test_nodes_flows_conditions_and_default_are_read() -> None:
    graph = _graph()
    assert graph.process_id == "p" and graph.start == "start"
    gateway = graph.nodes["x"]
    assert gateway.kind == NodeKind.XOR and gateway.incoming == 1
    assert [(f.id, f.condition, f.default) for f in gateway.outgoing] == [
        ("f_a", "amount > 10", False),
        ("f_b", None, True),
    ]
    assert graph.nodes["a"].name == "Do A" and graph.nodes["b"].name == "b"
    assert graph.nodes["end"].kind == NodeKind.END and graph.nodes["end"].incoming == 2


def test_unsupported_elements_and_bad_flows_are_refused_together_with_ids_and_lines() -> None:
    extra = '<inclusiveGateway id="or"/>\n    <boundaryEvent id="late" attachedToRef="a"/>'
    with pytest.raises(DefinitionError) as err:
        _graph(extra=extra, target="nowhere")
    problems = err.value.problems
    assert {p.element_id for p in problems} == {"or", "late", "f2"}
    assert all(p.file == "g.bpmn" and p.line for p in problems)
    assert "cannot run a bpmn:inclusiveGateway" in str(err.value)
    assert "unknown or unsupported node 'nowhere'" in str(err.value)


def test_the_runtime_bpmn_of_a_yaml_definition_is_the_graph() -> None:
    definition = load_definition(ROOT / "processes" / "onboarding.yaml")
    root = parse_xml(definition.bpmn, "onboarding")
    graph = read_graph(root, "onboarding", "onboarding")
    assert set(definition.task_actions) <= set(graph.nodes)
    split = graph.nodes["Stage_2_split"]
    join = graph.nodes["Stage_2_join"]
    assert split.kind == NodeKind.AND and len(split.outgoing) == 3
    assert join.kind == NodeKind.AND and join.incoming == 3


def test_a_process_id_that_is_not_in_the_file_is_refused() -> None:
    root = parse_xml(BPMN.format(extra="", target="end").encode(), "g.bpmn")
    with pytest.raises(DefinitionError, match="process 'q'; the file has: 'p'"):
        read_graph(root, "g.bpmn", "q")


@pytest.mark.skipif(not PROSIMOS.is_dir(), reason="../shared/simulation/prosimos not present")
def test_foreign_non_executable_bpmn_with_a_loop_back_is_read() -> None:
    file = PROSIMOS / "Credit_Application_Simulation.bpmn"
    graph = read_graph(parse_xml(file.read_bytes(), str(file)), str(file))
    tasks = [n for n in graph.nodes.values() if n.kind == NodeKind.TASK]
    assert len(tasks) == 6
    merge = next(n for n in graph.nodes.values() if n.kind == NodeKind.XOR and n.incoming == 2)
    assert len(merge.outgoing) == 1  # the rework loop comes back through this merge
