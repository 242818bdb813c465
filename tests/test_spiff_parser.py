"""Building SpiffWorkflow specs: refusals, waiting robot / sub-case steps, serialisation."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from spiff_driver import (
    completed_spec_names,
    drive_to_completion,
    new_workflow,
    ready_manual_tasks,
    run_to_completion,
)
from SpiffWorkflow.bpmn.serializer import DEFAULT_CONFIG, BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.specs.defaults import CallActivity, UserTask

from engine.builder import spiff_parser
from engine.builder.bpmn_xml import parse_xml
from engine.builder.namespaces import BPMN_NS, CASELOOM_NS
from engine.builder.spiff_parser import SUPPORTED_ELEMENTS, SpiffSpecs, build_specs
from engine.errors import DefinitionError, Problem
from engine.spiff_script import install_safe_engine

DOCS = Path(__file__).resolve().parents[1] / "docs" / "conformance.md"


# -- inline BPMN ------------------------------------------------------------------------


def definitions(*processes: str) -> bytes:
    """A BPMN document; each element of ``processes`` starts on a new line."""
    body = "\n".join(processes)
    return (
        f'<bpmn:definitions xmlns:bpmn="{BPMN_NS}" xmlns:caseloom="{CASELOOM_NS}"\n'
        '    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"\n'
        '    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="defs">\n'
        f"{body}\n"
        "</bpmn:definitions>\n"
    ).encode()


def process(pid: str, *lines: str) -> str:
    return "\n".join([f'<bpmn:process id="{pid}" isExecutable="true">', *lines, "</bpmn:process>"])


def flow(fid: str, source: str, target: str, condition: str | None = None) -> str:
    if condition is None:
        return f'<bpmn:sequenceFlow id="{fid}" sourceRef="{source}" targetRef="{target}"/>'
    return (
        f'<bpmn:sequenceFlow id="{fid}" sourceRef="{source}" targetRef="{target}">'
        f"<bpmn:conditionExpression>{condition}</bpmn:conditionExpression></bpmn:sequenceFlow>"
    )


def chain(*ids: str) -> list[str]:
    """Sequence flows linking ``ids`` in order."""
    return [flow(f"f_{a}_{b}", a, b) for a, b in zip(ids, ids[1:], strict=False)]


def linear(pid: str, *tasks: str) -> str:
    """start -> tasks (full XML elements with ids t0, t1...) -> end."""
    ids = [f"t{i}" for i in range(len(tasks))]
    return process(
        pid,
        '<bpmn:startEvent id="start"/>',
        *tasks,
        '<bpmn:endEvent id="end"/>',
        *chain("start", *ids, "end"),
    )


def build(data: bytes, pid: str = "p", *extra: tuple[bytes, str]) -> SpiffSpecs:
    roots = [(parse_xml(xml, name), name) for xml, name in extra]
    return build_specs(parse_xml(data, "main.bpmn"), "main.bpmn", pid, extra_roots=roots)


def refused(data: bytes, pid: str = "p", *extra: tuple[bytes, str]) -> tuple[Problem, ...]:
    with pytest.raises(DefinitionError) as err:
        build(data, pid, *extra)
    return err.value.problems


def line_of(data: bytes, needle: str) -> int:
    """1-based line of the first occurrence of ``needle``."""
    text = data.decode()
    return text[: text.index(needle)].count("\n") + 1


SUBCASE_CALL = (
    '<bpmn:callActivity id="t{n}" name="Fraud check">'
    '<bpmn:extensionElements><caseloom:action id="check" subcase="fraud_check"/>'
    "</bpmn:extensionElements></bpmn:callActivity>"
)


# -- what runs --------------------------------------------------------------------------


def test_a_plain_process_builds_and_runs() -> None:
    specs = build(definitions(linear("p", '<bpmn:userTask id="t0" name="Register"/>')))
    assert specs.spec.name == "p"
    assert type(specs.spec.task_specs["t0"]) is UserTask
    assert specs.subprocess_specs == {}
    assert specs.warnings == ()
    workflow = drive_to_completion(specs)
    assert workflow.is_completed()
    assert {"start", "t0", "end"} <= completed_spec_names(workflow)


def test_performers_and_annotations_are_inert() -> None:
    task = (
        '<bpmn:userTask id="t0"><bpmn:documentation>Check it</bpmn:documentation>'
        "<bpmn:potentialOwner><bpmn:resourceAssignmentExpression>"
        "<bpmn:formalExpression>assessors</bpmn:formalExpression>"
        "</bpmn:resourceAssignmentExpression></bpmn:potentialOwner></bpmn:userTask>"
    )
    data = definitions(
        linear("p", task).replace(
            "</bpmn:process>",
            '<bpmn:textAnnotation id="note"><bpmn:text>hi</bpmn:text></bpmn:textAnnotation>'
            '<bpmn:association id="a" sourceRef="t0" targetRef="note"/></bpmn:process>',
        )
    )
    assert drive_to_completion(build(data)).is_completed()


def test_a_service_task_waits_for_the_engine() -> None:
    """Robots are driven by the engine: the step is READY and stays so until completed."""
    specs = build(
        definitions(
            linear("p", '<bpmn:userTask id="t0"/>', '<bpmn:serviceTask id="t1" name="Pay"/>')
        )
    )
    assert type(specs.spec.task_specs["t1"]) is UserTask
    workflow = new_workflow(specs)
    ready_manual_tasks(workflow)[0].run()
    workflow.do_engine_steps()
    workflow.do_engine_steps()
    ready = ready_manual_tasks(workflow)
    assert [t.task_spec.name for t in ready] == ["t1"]
    assert "t1" not in completed_spec_names(workflow)
    ready[0].run()
    workflow.do_engine_steps()
    assert workflow.is_completed()


def test_SC1_a_subcase_call_activity_waits_for_the_engine() -> None:
    """The engine starts the sub-case and completes the step when it finishes; no called
    process is needed in the BPMN."""
    specs = build(definitions(linear("p", SUBCASE_CALL.format(n=0))))
    assert type(specs.spec.task_specs["t0"]) is UserTask
    assert specs.subprocess_specs == {}
    workflow = new_workflow(specs)
    assert [t.task_spec.name for t in ready_manual_tasks(workflow)] == ["t0"]
    workflow.do_engine_steps()
    assert not workflow.is_completed()
    assert spiff_parser.subcase_of(parse_xml(definitions(SUBCASE_CALL.format(n=0)), "x")[0]) == (
        "fraud_check"
    )


def test_a_plain_call_activity_runs_the_called_process_from_another_file() -> None:
    main = definitions(linear("p", '<bpmn:callActivity id="t0" calledElement="lib"/>'))
    library = definitions(linear("lib", '<bpmn:userTask id="t0"/>'))
    specs = build(main, "p", (library, "lib.bpmn"))
    assert type(specs.spec.task_specs["t0"]) is CallActivity
    assert set(specs.subprocess_specs) == {"lib"}
    workflow = drive_to_completion(specs)
    assert workflow.is_completed()
    assert "lib.EndJoin" in completed_spec_names(workflow)


def test_conditions_run_on_the_safe_evaluator() -> None:
    data = definitions(
        process(
            "p",
            '<bpmn:startEvent id="start"/>',
            '<bpmn:exclusiveGateway id="g" default="small"/>',
            flow("f0", "start", "g"),
            flow("big", "g", "review", "amount &gt; 1000 and not urgent"),
            flow("small", "g", "end"),
            '<bpmn:userTask id="review"/>',
            flow("f1", "review", "end"),
            '<bpmn:endEvent id="end"/>',
        )
    )
    assert "review" in completed_spec_names(drive_to_completion(build(data), {"amount": 5000}))
    assert "review" not in completed_spec_names(drive_to_completion(build(data), {"amount": 5}))


def test_multi_instance_cardinality_is_evaluated_safely() -> None:
    task = (
        '<bpmn:userTask id="t0"><bpmn:multiInstanceLoopCharacteristics isSequential="true">'
        "<bpmn:loopCardinality>count + 1</bpmn:loopCardinality>"
        "</bpmn:multiInstanceLoopCharacteristics></bpmn:userTask>"
    )
    workflow = drive_to_completion(build(definitions(linear("p", task))), {"count": 2})
    children = [t for t in workflow.get_tasks() if t.task_spec.name == "t0 [child]"]
    assert len(children) == 3


def test_vendor_extensions_are_ignored_and_warned_about() -> None:
    task = (
        '<bpmn:userTask id="t0" camunda:expression="${leak}"><bpmn:extensionElements>'
        "<spiffworkflow:preScript>leaked = 1</spiffworkflow:preScript>"
        '<camunda:executionListener event="start" expression="${leak}"/>'
        '<camunda:formData><camunda:formField id="answer" type="string"/></camunda:formData>'
        "</bpmn:extensionElements></bpmn:userTask>"
    )
    specs = build(definitions(linear("p", task)))
    assert [(w.element_id, w.severity, w.code) for w in specs.warnings] == [
        ("t0", "warning", spiff_parser.CODE_VENDOR_EXTENSION)
    ] * 3
    messages = " | ".join(w.message for w in specs.warnings)
    for name in ("'expression'", "'preScript'", "'executionListener'"):
        assert messages.count(name) == 1, messages
    assert "formField" not in messages and "formData" not in messages
    workflow = drive_to_completion(specs)
    assert workflow.is_completed()
    assert all("leaked" not in task.data for task in workflow.get_tasks())


# -- refusals ---------------------------------------------------------------------------


def test_a_script_task_is_refused_with_its_id_and_line() -> None:
    data = definitions(
        linear("p", '<bpmn:scriptTask id="t0"><bpmn:script>x = 1</bpmn:script></bpmn:scriptTask>')
    )
    (problem,) = refused(data)
    assert problem.element_id == "t0"
    assert problem.line == line_of(data, "<bpmn:scriptTask")
    assert problem.file == "main.bpmn"
    assert problem.code == spiff_parser.CODE_SCRIPT
    assert "bpmn:scriptTask" in problem.message
    assert "eval" in problem.message


def test_every_problem_is_reported_at_once() -> None:
    data = definitions(
        process(
            "p",
            '<bpmn:startEvent id="start"/>',
            '<bpmn:scriptTask id="script"><bpmn:script>x = 1</bpmn:script></bpmn:scriptTask>',
            '<bpmn:businessRuleTask id="dmn"/>',
            '<bpmn:sendTask id="send"/>',
            '<bpmn:intermediateCatchEvent id="wait">'
            "<bpmn:messageEventDefinition/></bpmn:intermediateCatchEvent>",
            '<bpmn:exclusiveGateway id="g" default="f_ok"/>',
            flow("f_evil", "g", "end", "__import__('os')"),
            flow("f_ok", "g", "end"),
            '<bpmn:userTask id="u"/>',
            '<bpmn:boundaryEvent id="late" attachedToRef="u">'
            "<bpmn:timerEventDefinition><bpmn:timeDuration>PT1H</bpmn:timeDuration>"
            "</bpmn:timerEventDefinition></bpmn:boundaryEvent>",
            '<bpmn:complexGateway id="cx"/>',
            '<bpmn:frobnicate id="fx"/>',
            '<bpmn:callActivity id="call" calledElement="nowhere"/>',
            '<bpmn:endEvent id="end"/>',
        )
    )
    problems = refused(data)
    assert [(p.element_id, p.code) for p in problems] == [
        ("script", spiff_parser.CODE_SCRIPT),
        ("dmn", spiff_parser.CODE_UNSUPPORTED),
        ("send", spiff_parser.CODE_UNSUPPORTED),
        ("wait", spiff_parser.CODE_UNSUPPORTED),
        ("f_evil", spiff_parser.CODE_EXPRESSION),
        ("late", spiff_parser.CODE_TIMER),
        ("cx", spiff_parser.CODE_UNSUPPORTED),
        ("fx", spiff_parser.CODE_UNSUPPORTED),
        ("call", spiff_parser.CODE_CALLED_PROCESS),
    ]
    tags = [
        "bpmn:scriptTask",
        "bpmn:businessRuleTask",
        "bpmn:sendTask",
        "bpmn:intermediateCatchEvent",
        "bpmn:sequenceFlow",
        "bpmn:timerEventDefinition",
        "bpmn:complexGateway",
        "bpmn:frobnicate",
        "bpmn:callActivity",
    ]
    for problem, tag in zip(problems, tags, strict=True):
        assert tag in problem.message
        assert problem.line is not None and problem.line > 1
    assert "system clock" in problems[5].message
    assert "'nowhere'" in problems[8].message


def test_an_unsafe_gateway_condition_is_refused_at_load() -> None:
    data = definitions(
        process(
            "p",
            '<bpmn:startEvent id="start"/>',
            '<bpmn:exclusiveGateway id="g" default="f_ok"/>',
            flow("f0", "start", "g"),
            flow("f_evil", "g", "end", "__import__('os')"),
            flow("f_ok", "g", "end"),
            '<bpmn:endEvent id="end"/>',
        )
    )
    (problem,) = refused(data)
    assert problem.element_id == "f_evil"
    assert problem.line == line_of(data, "__import__")
    assert problem.code == spiff_parser.CODE_EXPRESSION
    assert "__import__" in problem.message
    assert "not allowed" in problem.message


@pytest.mark.parametrize(
    ("loop", "reason"),
    [
        (
            "<bpmn:multiInstanceLoopCharacteristics><bpmn:loopCardinality>"
            "__import__('os').cpu_count()</bpmn:loopCardinality>"
            "</bpmn:multiInstanceLoopCharacteristics>",
            "loop cardinality",
        ),
        (
            "<bpmn:multiInstanceLoopCharacteristics><bpmn:loopCardinality>2</bpmn:loopCardinality>"
            "<bpmn:completionCondition>done.pop()</bpmn:completionCondition>"
            "</bpmn:multiInstanceLoopCharacteristics>",
            "completion condition",
        ),
        (
            '<bpmn:standardLoopCharacteristics loopMaximum="3">'
            "<bpmn:loopCondition>lambda: 1</bpmn:loopCondition>"
            "</bpmn:standardLoopCharacteristics>",
            "loop condition",
        ),
        (
            "<bpmn:multiInstanceLoopCharacteristics><bpmn:loopCardinality> </bpmn:loopCardinality>"
            "</bpmn:multiInstanceLoopCharacteristics>",
            "empty loop cardinality",
        ),
    ],
)
def test_refused_loop_expressions_name_the_task(loop: str, reason: str) -> None:
    (problem,) = refused(definitions(linear("p", f'<bpmn:userTask id="t0">{loop}</bpmn:userTask>')))
    assert problem.element_id == "t0"
    assert problem.code == spiff_parser.CODE_EXPRESSION
    assert reason in problem.message


def test_a_condition_spiffworkflow_would_ignore_is_refused() -> None:
    data = definitions(
        process(
            "p",
            '<bpmn:startEvent id="start"/>',
            '<bpmn:userTask id="u"/>',
            flow("f0", "start", "u"),
            flow("f1", "u", "end", "amount &gt; 1"),
            '<bpmn:endEvent id="end"/>',
        )
    )
    (problem,) = refused(data)
    assert (problem.element_id, problem.code) == ("f1", spiff_parser.CODE_IGNORED_CONDITION)
    assert "bpmn:userTask 'u'" in problem.message


def test_a_condition_on_a_default_flow_is_refused() -> None:
    data = definitions(
        process(
            "p",
            '<bpmn:startEvent id="start"/>',
            '<bpmn:exclusiveGateway id="g" default="f_default"/>',
            flow("f0", "start", "g"),
            flow("f_default", "g", "end", "amount &gt; 1"),
            flow("f_other", "g", "end", "amount &lt;= 1"),
            '<bpmn:endEvent id="end"/>',
        )
    )
    (problem,) = refused(data)
    assert (problem.element_id, problem.code) == ("f_default", spiff_parser.CODE_IGNORED_CONDITION)
    assert "default flow" in problem.message


def test_a_boundary_event_without_event_definition_is_refused() -> None:
    data = definitions(
        process(
            "p",
            '<bpmn:startEvent id="start"/>',
            '<bpmn:userTask id="u"/>',
            '<bpmn:boundaryEvent id="b" attachedToRef="u"/>',
            *chain("start", "u", "end"),
            flow("f_b", "b", "end"),
            '<bpmn:endEvent id="end"/>',
        )
    )
    (problem,) = refused(data)
    assert (problem.element_id, problem.code) == ("b", spiff_parser.CODE_UNSUPPORTED)
    assert problem.line == line_of(data, "<bpmn:boundaryEvent")


def test_a_missing_called_process_names_the_call_activity_and_called_element() -> None:
    data = definitions(linear("p", '<bpmn:callActivity id="t0" calledElement="lib"/>'))
    (problem,) = refused(data)
    assert problem.element_id == "t0"
    assert "'lib'" in problem.message and "calledElement" in problem.message
    assert problem.line == line_of(data, "<bpmn:callActivity")


def test_recursive_call_activities_are_refused() -> None:
    main = definitions(linear("p", '<bpmn:callActivity id="t0" calledElement="a"/>'))
    library = definitions(
        linear("a", '<bpmn:callActivity id="t0" calledElement="b"/>'),
        linear("b", '<bpmn:callActivity id="t0" calledElement="a"/>'),
    )
    (problem,) = refused(main, "p", (library, "lib.bpmn"))
    assert problem.code == spiff_parser.CODE_RECURSION
    assert problem.file == "lib.bpmn"
    assert "a -> b -> a" in problem.message


def test_duplicate_process_ids_and_unknown_processes_are_refused() -> None:
    main = definitions(linear("p", '<bpmn:userTask id="t0"/>'))
    (duplicate,) = refused(main, "p", (main, "copy.bpmn"))
    assert duplicate.code == spiff_parser.CODE_DUPLICATE_PROCESS
    assert "main.bpmn" in duplicate.message and "copy.bpmn" in duplicate.message
    (unknown,) = refused(main, "q")
    assert unknown.code == spiff_parser.CODE_PROCESS
    assert "'q'" in unknown.message and "p" in unknown.message


def sub_without_start(pid: str) -> str:
    """A process whose embedded sub-process ``sub`` has no start event (SpiffWorkflow's
    refusal, which caseloom's own pass leaves to it)."""
    return process(
        pid,
        '<bpmn:startEvent id="start"/>',
        '<bpmn:subProcess id="sub">',
        '<bpmn:userTask id="inner"/>',
        '<bpmn:endEvent id="inner_end"/>',
        flow("f_inner", "inner", "inner_end"),
        "</bpmn:subProcess>",
        '<bpmn:endEvent id="end"/>',
        *chain("start", "sub", "end"),
    )


def test_spiffworkflow_validation_errors_become_problems_with_tag_id_and_line() -> None:
    data = definitions(sub_without_start("p"))
    (problem,) = refused(data)
    assert problem.code == spiff_parser.CODE_SPIFF
    assert problem.element_id == "sub"
    assert "bpmn:subProcess" in problem.message
    assert "start event" in problem.message
    assert problem.line == line_of(data, 'id="sub"')
    assert problem.file == "main.bpmn"


def test_a_process_without_start_event_is_refused_by_spiffworkflow() -> None:
    (problem,) = refused(definitions(process("p", '<bpmn:userTask id="u"/>')))
    assert (problem.element_id, problem.code) == ("p", spiff_parser.CODE_SPIFF)
    assert "start event" in problem.message.lower()


def test_a_spiffworkflow_error_in_a_called_file_has_that_files_line() -> None:
    main = definitions(
        process(
            "p",
            '<bpmn:startEvent id="start"/>',
            '<bpmn:callActivity id="t0" calledElement="lib"/>',
            '<bpmn:endEvent id="end"/>',
            flow("f_a", "start", "t0"),
            flow("sub", "t0", "end"),
        )
    )
    library = definitions(
        "<!-- the ids repeat those of the main file,",
        "     on other lines -->",
        sub_without_start("lib"),
    )
    assert line_of(library, 'id="sub"') != line_of(main, 'id="sub"')
    (problem,) = refused(main, "p", (library, "lib.bpmn"))
    assert problem.code == spiff_parser.CODE_SPIFF
    assert (problem.file, problem.element_id) == ("lib.bpmn", "sub")
    assert problem.line == line_of(library, 'id="sub"')


# -- serialisation ----------------------------------------------------------------------


def test_a_workflow_round_trips_through_the_default_serializer_mid_flight() -> None:
    data = definitions(
        process(
            "p",
            '<bpmn:startEvent id="start"/>',
            '<bpmn:userTask id="first"/>',
            '<bpmn:exclusiveGateway id="g" default="small"/>',
            '<bpmn:serviceTask id="robot"/>',
            SUBCASE_CALL.format(n="sub"),
            '<bpmn:callActivity id="call" calledElement="lib"/>',
            '<bpmn:userTask id="tiny"/>',
            '<bpmn:endEvent id="end"/>',
            flow("f0", "start", "first"),
            flow("f1", "first", "g"),
            flow("big", "g", "robot", "amount &gt; 1000"),
            flow("small", "g", "tiny"),
            *chain("robot", "tsub", "call", "end"),
            flow("f2", "tiny", "end"),
        ),
        linear("lib", '<bpmn:userTask id="t0"/>'),
    )
    serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(DEFAULT_CONFIG))
    workflow = new_workflow(build(data), {"amount": 5000})
    ready_manual_tasks(workflow)[0].run()
    workflow.do_engine_steps()
    assert [t.task_spec.name for t in ready_manual_tasks(workflow)] == ["robot"]

    restored = install_safe_engine(serializer.deserialize_json(serializer.serialize_json(workflow)))
    ready = ready_manual_tasks(restored)
    assert [t.task_spec.name for t in ready] == ["robot"]
    assert type(ready[0].task_spec) is UserTask
    ready[0].run()
    restored.do_engine_steps()
    assert [t.task_spec.name for t in ready_manual_tasks(restored)] == ["tsub"]

    again = install_safe_engine(serializer.deserialize_json(serializer.serialize_json(restored)))
    run_to_completion(again)
    names = completed_spec_names(again)
    assert {"first", "robot", "tsub", "call", "t0", "end"} <= names
    assert "tiny" not in names


# -- documentation ----------------------------------------------------------------------


def test_supported_elements_are_the_ones_documented() -> None:
    text = DOCS.read_text(encoding="utf-8")
    section = text.split("## Supported BPMN elements", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"^- `(bpmn:\w+)`", section, flags=re.MULTILINE))
    assert documented == set(SUPPORTED_ELEMENTS)


@pytest.mark.parametrize("reserved", ["Start", "End", "p.EndJoin"])
def test_ids_reserved_by_spiffworkflow_are_refused(reserved: str) -> None:
    data = definitions(
        process(
            "p",
            f'<bpmn:startEvent id="{reserved}"/>',
            '<bpmn:userTask id="t0"/>',
            '<bpmn:endEvent id="finish"/>',
            *chain(reserved, "t0", "finish"),
        )
    )
    problems = refused(data)
    assert [p.element_id for p in problems if p.code == "B012"] == [reserved]
    assert "reserved by SpiffWorkflow" in str(problems[0])


# -- what SpiffWorkflow refuses one at a time, reported together ---------------------------


def test_every_gateway_flow_without_condition_or_default_is_refused() -> None:
    """SpiffWorkflow stops at the first such flow; caseloom names each of them."""
    data = definitions(
        process(
            "p",
            '<bpmn:startEvent id="start"/>',
            '<bpmn:exclusiveGateway id="g"/>',
            '<bpmn:inclusiveGateway id="h" default="h_default"/>',
            '<bpmn:endEvent id="end"/>',
            flow("f0", "start", "g"),
            flow("g_a", "g", "h"),
            flow("g_b", "g", "end"),
            flow("g_c", "g", "end", "a &gt; 1"),
            flow("h_plain", "h", "end"),
            flow("h_default", "h", "end"),
        )
    )
    found = refused(data)
    assert [(p.element_id, p.code) for p in found] == [
        ("g_a", spiff_parser.CODE_UNCONDITIONED_FLOW),
        ("g_b", spiff_parser.CODE_UNCONDITIONED_FLOW),
        ("h_plain", spiff_parser.CODE_UNCONDITIONED_FLOW),
    ]
    assert [p.line for p in found] == [
        line_of(data, f'id="{fid}"') for fid in ("g_a", "g_b", "h_plain")
    ]
    assert "leaves bpmn:exclusiveGateway 'g' without a condition" in found[0].message
    assert "is not its default flow" in found[0].message


def test_a_lone_unconditioned_gateway_flow_is_its_default() -> None:
    data = definitions(
        process(
            "p",
            '<bpmn:startEvent id="start"/>',
            '<bpmn:exclusiveGateway id="g"/>',
            '<bpmn:endEvent id="end"/>',
            *chain("start", "g", "end"),
        )
    )
    assert drive_to_completion(build(data)).is_completed()


def test_dangling_flows_and_splitting_tasks_are_refused_with_the_rest() -> None:
    data = definitions(
        process(
            "p",
            '<bpmn:startEvent id="start"/>',
            '<bpmn:userTask id="split"/>',
            '<bpmn:scriptTask id="script"><bpmn:script>x = 1</bpmn:script></bpmn:scriptTask>',
            '<bpmn:endEvent id="end"/>',
            flow("f0", "start", "split"),
            flow("f1", "split", "end"),
            flow("f2", "split", "script"),
            flow("f3", "script", "gone"),
            '<bpmn:sequenceFlow id="f4" targetRef="end"/>',
        )
    )
    found = {(p.element_id, p.code): p for p in refused(data)}
    assert set(found) == {
        ("split", spiff_parser.CODE_SPLITTING_NODE),
        ("script", spiff_parser.CODE_SCRIPT),
        ("f3", spiff_parser.CODE_DANGLING_FLOW),
        ("f4", spiff_parser.CODE_DANGLING_FLOW),
    }
    assert "has 2 outgoing sequence flows ('f1', 'f2')" in found["split", "B015"].message
    assert "targetRef 'gone' is no element of bpmn:process 'p'" in found["f3", "B014"].message
    assert "sourceRef None" in found["f4", "B014"].message
    assert found["split", "B015"].line == line_of(data, 'id="split"')


def test_check_bpmn_returns_the_problems_of_caseloom_s_pass_without_spiffworkflow() -> None:
    spiffworkflow_only = parse_xml(definitions(sub_without_start("p")), "m.bpmn")
    assert spiff_parser.check_bpmn(spiffworkflow_only, "m.bpmn", "p") == ()
    data = definitions(linear("p", '<bpmn:scriptTask id="t0"/>'))
    (problem,) = spiff_parser.check_bpmn(parse_xml(data, "m.bpmn"), "m.bpmn", "p")
    assert (problem.element_id, problem.code) == ("t0", spiff_parser.CODE_SCRIPT)


@pytest.mark.parametrize("cardinality", ["2.5", "-1", "'3'", "True", "None"])
def test_a_constant_loop_cardinality_must_be_a_whole_number_of_instances(
    cardinality: str,
) -> None:
    loop = (
        f"<bpmn:multiInstanceLoopCharacteristics><bpmn:loopCardinality>{cardinality}"
        "</bpmn:loopCardinality></bpmn:multiInstanceLoopCharacteristics>"
    )
    (problem,) = refused(definitions(linear("p", f'<bpmn:userTask id="t0">{loop}</bpmn:userTask>')))
    assert problem.element_id == "t0" and problem.code == spiff_parser.CODE_EXPRESSION
    assert f"loop cardinality {cardinality!r} is not a number of instances" in problem.message


@pytest.mark.parametrize("cardinality", ["0", "3", "reviewers", "count + 1"])
def test_a_whole_or_data_dependent_loop_cardinality_is_accepted(cardinality: str) -> None:
    loop = (
        f"<bpmn:multiInstanceLoopCharacteristics><bpmn:loopCardinality>{cardinality}"
        "</bpmn:loopCardinality></bpmn:multiInstanceLoopCharacteristics>"
    )
    build(definitions(linear("p", f'<bpmn:userTask id="t0">{loop}</bpmn:userTask>')), "p")
