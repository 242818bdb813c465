"""read_model: the case model read back from BPMN (caseloom extensions or plain BPMN)."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnValidator

from engine.builder.bpmn_model import (
    ACTION_ATTRS,
    MODEL_ATTRS,
    SETTINGS_ATTRS,
    SETTINGS_LISTS,
    BpmnReading,
    read_model,
)
from engine.builder.bpmn_xml import parse_xml
from engine.builder.spiff_parser import build_specs
from engine.builder.yaml_definition import model_from_yaml
from engine.errors import DefinitionError, Problem
from engine.model import (
    ActionDef,
    CaseSettings,
    DueRule,
    DueUnit,
    ProcessModel,
    ScheduleDef,
    StageDef,
)

ROOT = Path(__file__).resolve().parents[1]
HANDWRITTEN = ROOT / "tests" / "data" / "bpmn" / "claim_handwritten.bpmn"
API_YAML = ROOT / "tests" / "data" / "loader" / "claim_api.yaml"
MAPPING_DOC = ROOT / "docs" / "bpmn-mapping.md"

HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
    xmlns:caseloom="https://caseloom.dev/schema/bpmn/1" id="d" targetNamespace="urn:t">
"""


def read(text: str, process_id: str | None = None) -> BpmnReading:
    return read_model(parse_xml(text.encode(), "t.bpmn"), "t.bpmn", process_id)


def problems(text: str) -> tuple[Problem, ...]:
    with pytest.raises(DefinitionError) as err:
        read(text)
    return err.value.problems


def line_of(text: str, marker: str) -> int:
    """1-based line of the first line of ``text`` holding ``marker``."""
    return next(i for i, line in enumerate(text.splitlines(), start=1) if marker in line)


def has(found: tuple[Problem, ...], element_id: str, fragment: str) -> Problem:
    for problem in found:
        if problem.element_id == element_id and fragment in problem.message:
            return problem
    raise AssertionError(f"no problem on {element_id!r} saying {fragment!r} in:\n{found}")


def case_doc(case_attrs: str = "", case_body: str = "", tasks: str = "") -> str:
    """A one-stage caseloom process: start -> gate -> T1 (action ``a``) -> end, plus extras."""
    return (
        HEAD
        + f"""  <bpmn:process id="p" name="P" isExecutable="true">
    <bpmn:extensionElements>
      <caseloom:case version="1" {case_attrs}>
        <caseloom:stage name="S" entry="Gate">
          <caseloom:actionRef actionId="a"/>
        </caseloom:stage>
{case_body}
      </caseloom:case>
    </bpmn:extensionElements>
    <bpmn:startEvent id="Start"/>
    <bpmn:exclusiveGateway id="Gate"/>
    <bpmn:userTask id="T1" name="A">
      <bpmn:extensionElements><caseloom:action actionId="a"/></bpmn:extensionElements>
    </bpmn:userTask>
{tasks}
    <bpmn:endEvent id="End"/>
    <bpmn:sequenceFlow id="F1" sourceRef="Start" targetRef="Gate"/>
    <bpmn:sequenceFlow id="F2" sourceRef="Gate" targetRef="T1"/>
    <bpmn:sequenceFlow id="F3" sourceRef="T1" targetRef="End"/>
  </bpmn:process>
</bpmn:definitions>
"""
    )


def expected_claim() -> ProcessModel:
    """API.md's claim example, built by hand."""
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
                "Intake",
                (ActionDef("register", "Register claim", due=DueRule(4, DueUnit.HOURS)),),
            ),
            StageDef(
                "Assessment",
                (
                    ActionDef("assess", "Assess damage"),
                    ActionDef(
                        "second_opinion",
                        "Second opinion",
                        instructions="Ask a senior assessor",
                        manual_launch=True,
                        flow=False,
                    ),
                ),
                condition="amount > 1000",
            ),
            StageDef("Payment", (ActionDef("pay", "Pay claim", robot=True),)),
        ),
    )


# -- hand-written BPMN ----------------------------------------------------------------------


def test_handwritten_claim_bpmn_equals_the_api_yaml_example() -> None:
    reading = read_model(parse_xml(HANDWRITTEN.read_bytes(), str(HANDWRITTEN)), str(HANDWRITTEN))
    assert reading.model == expected_claim()
    from_yaml = model_from_yaml(API_YAML.read_bytes(), str(API_YAML))
    assert reading.model == from_yaml


def test_handwritten_claim_locates_tasks_stages_and_entries() -> None:
    reading = read_model(parse_xml(HANDWRITTEN.read_bytes(), str(HANDWRITTEN)), str(HANDWRITTEN))
    assert reading.task_actions == {
        "Task_register": "register",
        "Task_assess": "assess",
        "Task_second_opinion": "second_opinion",
        "Task_pay": "pay",
    }
    assert reading.stage_entries == {1: "Task_register", 2: "Gateway_amount_check", 3: "Task_pay"}
    assert reading.task_stages == {
        "Task_register": 1,
        "Gateway_amount_check": 2,
        "Task_assess": 2,
        "Gateway_assessed": 2,
        "Task_second_opinion": 2,
        "Task_pay": 3,
    }


def test_handwritten_claim_is_xsd_valid_and_spiffworkflow_parses_it() -> None:
    root = parse_xml(HANDWRITTEN.read_bytes(), str(HANDWRITTEN))
    BpmnValidator().validate(root, str(HANDWRITTEN))
    specs = build_specs(root, str(HANDWRITTEN), "claim")
    assert {"Task_register", "Gateway_amount_check", "Task_pay"} <= set(specs.spec.task_specs)
    assert "Task_second_opinion" not in specs.spec.task_specs  # manual launch only


def test_the_example_of_the_mapping_document_loads() -> None:
    text = MAPPING_DOC.read_text(encoding="utf-8")
    block = re.search(r"```xml\n(.*?)```", text, re.S)
    assert block is not None
    BpmnValidator().validate(parse_xml(block.group(1).encode(), "doc.bpmn"), "doc.bpmn")
    reading = read(block.group(1))
    model = reading.model
    assert (model.id, model.version, model.name) == ("refund", 2, "Refund & credit note")
    assert model.settings.due == DueRule(2, DueUnit.DAYS, working=True)
    assert model.settings.schedules == (
        ScheduleDef(DueRule(1, DueUnit.DAYS), datetime(2026, 3, 2, 8, tzinfo=UTC), "Daily refunds"),
    )
    (stage,) = model.stages
    assert stage.condition == "amount > 100 and not vip"
    assert [(a.id, a.flow, a.robot) for a in stage.actions] == [
        ("check", True, False),
        ("pay", True, True),
        ("call_back", False, False),
    ]
    assert stage.actions[0].instructions == "Compare with the invoice."


def test_vocabulary_covers_every_model_field() -> None:
    case_fields = {a.field for a in MODEL_ATTRS} | {
        "id",
        "name",
        "settings",
        "stages",
        "calendars",
        "data_fields",
    }
    assert case_fields == {f.name for f in dataclasses.fields(ProcessModel)}
    settings = (
        {a.field for a in SETTINGS_ATTRS}
        | set(SETTINGS_LISTS.values())
        | {"subcases", "email_routes", "schedules"}
    )
    assert settings == {f.name for f in dataclasses.fields(CaseSettings)}
    actions = {a.field for a in ACTION_ATTRS} | {"id", "title", "instructions"}
    assert actions == {f.name for f in dataclasses.fields(ActionDef)}


def test_defaults_apply_to_attributes_left_out() -> None:
    reading = read(case_doc())
    assert reading.model.settings == CaseSettings()
    assert reading.model.stages[0].actions == (ActionDef("a", "A"),)
    assert reading.stage_entries == {1: "Gate"}
    assert reading.task_stages == {"Gate": 1, "T1": 1}


# -- problems ------------------------------------------------------------------------------

BAD = (
    HEAD
    + """  <bpmn:process id="bad" isExecutable="true">
    <bpmn:extensionElements>
      <caseloom:case version="x" due="soon" colour="red" calendar="nowhere"
          feedbackWindow="2 working days">
        <caseloom:stage name="One" entry="Gate" condition="amount &gt;">
          <caseloom:actionRef actionId="a"/>
          <caseloom:actionRef actionId="ghost"/>
        </caseloom:stage>
        <caseloom:stage name="One" entry="nowhere"/>
        <caseloom:calendar name="c" timezone="Mars/Base"/>
        <caseloom:mystery/>
      </caseloom:case>
    </bpmn:extensionElements>
    <bpmn:startEvent id="Start"/>
    <bpmn:exclusiveGateway id="Gate"/>
    <bpmn:userTask id="T1" name="A">
      <bpmn:extensionElements>
        <caseloom:action actionId="a" due="3 fortnights" id="x"/>
      </bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:userTask id="T2" name="A again">
      <bpmn:extensionElements><caseloom:action actionId="a"/></bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:userTask id="T3">
      <bpmn:extensionElements>
        <caseloom:action actionId="orphan" flow="false" manualLaunch="true"/>
      </bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:exclusiveGateway id="G2">
      <bpmn:extensionElements><caseloom:action actionId="g"/></bpmn:extensionElements>
    </bpmn:exclusiveGateway>
    <bpmn:endEvent id="End"/>
    <bpmn:sequenceFlow id="F1" sourceRef="Start" targetRef="Gate"/>
    <bpmn:sequenceFlow id="F2" sourceRef="Gate" targetRef="T1">
      <bpmn:conditionExpression>len(x) &gt; 1</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="F3" sourceRef="T1" targetRef="End"/>
    <bpmn:sequenceFlow id="F3" sourceRef="G2" targetRef="End"/>
  </bpmn:process>
</bpmn:definitions>
"""
)


def test_every_problem_is_collected_into_one_error_with_element_and_line() -> None:
    found = problems(BAD)
    assert all(p.file == "t.bpmn" and p.severity == "error" for p in found)
    case_line = line_of(BAD, 'feedbackWindow="2 working days">')  # libxml2: where the tag ends
    expected = [
        ("bad", "invalid version 'x'", case_line),
        ("bad", "invalid due 'soon'", case_line),
        ("bad", "unknown attribute 'colour'", case_line),
        ("bad", "unknown calendar 'nowhere'", case_line),
        ("bad", "invalid feedbackWindow '2 working days'", case_line),
        ("bad", "invalid condition 'amount >' of stage 1", line_of(BAD, 'name="One" entry="Gate"')),
        ("bad", "lists action 'ghost', but no task carries it", line_of(BAD, '"ghost"')),
        ("bad", "caseloom:stage 'One' appears twice", line_of(BAD, 'entry="nowhere"')),
        ("bad", "entry 'nowhere' of stage 2 is not a flow node", line_of(BAD, 'entry="nowhere"')),
        ("bad", "stage 2 has no action in the flow", line_of(BAD, 'entry="nowhere"')),
        ("bad", "unknown time zone 'Mars/Base'", line_of(BAD, "Mars/Base")),
        ("bad", "a calendar needs at least one caseloom:hours", line_of(BAD, "Mars/Base")),
        ("bad", "unexpected element caseloom:mystery", line_of(BAD, "mystery")),
        ("T1", "invalid due '3 fortnights'", line_of(BAD, "fortnights")),
        ("T1", "unknown attribute 'id'", line_of(BAD, "fortnights")),
        ("T2", "duplicate action id 'a'", line_of(BAD, 'name="A again"') + 1),
        ("T3", "action 'orphan' is not listed by any stage", line_of(BAD, '"orphan"')),
        ("G2", "caseloom:action is not allowed on a bpmn:exclusiveGateway", line_of(BAD, '"g"')),
        ("F2", "invalid condition 'len(x) > 1'", line_of(BAD, "len(x)")),
        ("F3", "duplicate element id 'F3'", line_of(BAD, 'sourceRef="G2"')),
    ]
    for element_id, fragment, line in expected:
        assert has(found, element_id, fragment).line == line, fragment
    assert "t.bpmn" in str(DefinitionError(list(found)))


def test_C1_SC1_subcase_steps_must_be_call_activities_in_the_flow_and_permitted() -> None:
    tasks = """
    <bpmn:callActivity id="Call1" calledElement="other">
      <bpmn:extensionElements>
        <caseloom:action actionId="c1" subcase="fraud"/>
      </bpmn:extensionElements>
    </bpmn:callActivity>
    <bpmn:userTask id="U1">
      <bpmn:extensionElements>
        <caseloom:action actionId="u1" subcase="fraud"/>
      </bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:callActivity id="Call2" calledElement="fraud">
      <bpmn:extensionElements><caseloom:action actionId="c2"/></bpmn:extensionElements>
    </bpmn:callActivity>
    <bpmn:callActivity id="Call3" calledElement="unlisted">
      <bpmn:extensionElements>
        <caseloom:action actionId="c3" subcase="unlisted" robot="true"/>
      </bpmn:extensionElements>
    </bpmn:callActivity>
    <bpmn:sequenceFlow id="X1" sourceRef="Call3" targetRef="End"/>"""
    listing = """
        <caseloom:stage name="S2" entry="Call3">
          <caseloom:actionRef actionId="c1"/><caseloom:actionRef actionId="u1"/>
          <caseloom:actionRef actionId="c2"/><caseloom:actionRef actionId="c3"/>
        </caseloom:stage>
        <caseloom:subcase process="fraud"/>"""
    found = problems(case_doc(case_body=listing, tasks=tasks))
    has(found, "Call1", "subcase 'fraud' differs from calledElement 'other'")
    has(found, "Call1", "sub-case step 'c1' must be in the flow")
    has(found, "U1", "sub-case step 'u1' must be a bpmn:callActivity")
    has(found, "Call2", "needs the subcase attribute")
    has(found, "Call3", "cannot be a robot step")
    has(found, "Call3", "'unlisted' is not listed by a caseloom:subcase (SC5)")


def test_A1_flow_attribute_must_agree_with_sequence_flows() -> None:
    tasks = """
    <bpmn:userTask id="Loose">
      <bpmn:extensionElements>
        <caseloom:action actionId="loose" flow="true"/>
      </bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:userTask id="Manual">
      <bpmn:extensionElements><caseloom:action actionId="manual"/></bpmn:extensionElements>
    </bpmn:userTask>"""
    listing = """
        <caseloom:stage name="S2" entry="Gate">
          <caseloom:actionRef actionId="loose"/><caseloom:actionRef actionId="manual"/>
        </caseloom:stage>"""
    doc = case_doc(case_body=listing, tasks=tasks).replace(
        '<caseloom:action actionId="a"/>', '<caseloom:action actionId="a" flow="false"/>'
    )
    found = problems(doc)
    has(found, "Loose", "is in the flow but has no sequence flow")
    has(found, "Manual", 'needs manualLaunch="true"')
    has(found, "T1", 'says flow="false" but has sequence flows')
    has(found, "p", "stages 1 and 2 share the entry 'Gate'")


def test_action_stage_attribute_and_stage_number_must_match_the_listing() -> None:
    doc = case_doc().replace('actionId="a"/></bpmn', 'actionId="a" stage="2"/></bpmn')
    doc = doc.replace('<caseloom:stage name="S"', '<caseloom:stage number="3" name="S"')
    found = problems(doc)
    has(found, "T1", "action 'a' says stage 2 but is listed by stage 1")
    has(found, "p", "number '3' does not match its position (1)")


def test_RW3_stage_condition_must_be_on_a_flow_leaving_its_entry() -> None:
    doc = case_doc().replace('entry="Gate">', 'entry="Gate" condition="amount &gt; 5">')
    has(problems(doc), "p", "no sequence flow leaving its entry 'Gate' carries it")
    good = doc.replace(
        '<bpmn:sequenceFlow id="F2" sourceRef="Gate" targetRef="T1"/>',
        '<bpmn:sequenceFlow id="F2" sourceRef="Gate" targetRef="T1">'
        "<bpmn:conditionExpression>  amount &gt; 5\n</bpmn:conditionExpression>"
        "</bpmn:sequenceFlow>",
    )
    assert read(good).model.stages[0].condition == "amount > 5"


def test_lists_calendars_and_values_are_checked() -> None:
    body = """
        <caseloom:moreInfoReason>Docs</caseloom:moreInfoReason>
        <caseloom:moreInfoReason>Docs</caseloom:moreInfoReason>
        <caseloom:emailRoute mailbox="m@x" enabled="maybe"/>
        <caseloom:calendar name="cal" country="ZZ">
          <caseloom:hours day="funday" start="17:00" end="09:00"/>
          <caseloom:holiday date="2026-02-30"/>
        </caseloom:calendar>
        <caseloom:calendar name="cal2" subdivision="CA">
          <caseloom:hours day="mon" start="09:00" end="24:00"/>
        </caseloom:calendar>"""
    found = problems(case_doc('recordsCount="lots" calendar="cal"', body))
    has(found, "p", "caseloom:moreInfoReason 'Docs' appears twice")
    has(found, "p", "invalid enabled 'maybe'")
    has(found, "p", "invalid day 'funday'")
    has(found, "p", "the end must be after the start")
    has(found, "p", "invalid date '2026-02-30'")
    has(found, "p", "unknown country 'ZZ'")
    has(found, "p", "a subdivision needs a country")
    has(found, "p", "invalid recordsCount 'lots'")
    assert not any("unknown calendar" in p.message for p in found)


def test_not_a_bpmn_document_and_unknown_process_id() -> None:
    with pytest.raises(DefinitionError, match="not a BPMN 2.0 document"):
        read_model(etree.fromstring(b"<root/>"), "t.bpmn")
    with pytest.raises(DefinitionError, match="no bpmn:process with id 'nope'"):
        read(case_doc(), "nope")


# -- plain BPMN and choosing the process ------------------------------------------------------

PLAIN = (
    HEAD
    + """  <bpmn:process id="Process_Plain" name="  " isExecutable="true">
    <bpmn:startEvent id="Start"/>
    <bpmn:userTask id="Review" name="Review the file">
      <bpmn:documentation>Read it all</bpmn:documentation>
    </bpmn:userTask>
    <bpmn:exclusiveGateway id="Ok" default="No"/>
    <bpmn:serviceTask id="Notify"/>
    <bpmn:subProcess id="Sub">
      <bpmn:startEvent id="SubStart"/>
      <bpmn:manualTask id="Sign" name="Sign"/>
      <bpmn:sequenceFlow id="S1" sourceRef="SubStart" targetRef="Sign"/>
    </bpmn:subProcess>
    <bpmn:task id="Archive" name="Archive"/>
    <bpmn:endEvent id="End"/>
    <bpmn:sequenceFlow id="F1" sourceRef="Start" targetRef="Review"/>
    <bpmn:sequenceFlow id="F2" sourceRef="Review" targetRef="Ok"/>
    <bpmn:sequenceFlow id="Yes" sourceRef="Ok" targetRef="Notify">
      <bpmn:conditionExpression>approved == True</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="No" sourceRef="Ok" targetRef="Sub"/>
    <bpmn:sequenceFlow id="F3" sourceRef="Notify" targetRef="Archive"/>
    <bpmn:sequenceFlow id="F4" sourceRef="Sub" targetRef="Archive"/>
    <bpmn:sequenceFlow id="F5" sourceRef="Archive" targetRef="End"/>
  </bpmn:process>
</bpmn:definitions>
"""
)


def test_plain_bpmn_is_one_stage_of_its_tasks_in_document_order() -> None:
    reading = read(PLAIN)
    model = reading.model
    assert (model.id, model.version, model.name) == ("Process_Plain", 1, "Process_Plain")
    assert model.settings == CaseSettings() and model.calendars == ()
    (stage,) = model.stages
    assert stage.name == "Process_Plain" and stage.condition is None and not stage.parallel
    assert stage.actions == (
        ActionDef("Review", "Review the file", instructions="Read it all"),
        ActionDef("Notify", "Notify", robot=True),
        ActionDef("Sign", "Sign"),
        ActionDef("Archive", "Archive"),
    )
    assert reading.task_actions == {t: t for t in ("Review", "Notify", "Sign", "Archive")}
    assert reading.stage_entries == {1: "Start"}
    assert set(reading.task_stages) == {"Start", "Review", "Ok", "Notify", "Sub", "Archive", "Sign"}
    assert set(reading.task_stages.values()) == {1}


def test_plain_bpmn_conditions_are_checked_with_the_safe_evaluator() -> None:
    found = problems(PLAIN.replace("approved == True", "__import__('os')"))
    has(found, "Yes", "invalid condition")


def two_processes(first_marked: bool = False, second_marked: bool = False, calls: str = "") -> str:
    def process(ident: str, marked: bool, call: str) -> str:
        ext = (
            '<bpmn:extensionElements><caseloom:case version="1">'
            f'<caseloom:stage name="S" entry="s_{ident}"/></caseloom:case></bpmn:extensionElements>'
            if marked
            else ""
        )
        return (
            f'<bpmn:process id="{ident}" isExecutable="true">{ext}'
            f'<bpmn:startEvent id="s_{ident}"/>{call}</bpmn:process>\n'
        )

    call = f'<bpmn:callActivity id="c" calledElement="{calls}"/>' if calls else ""
    return (
        HEAD
        + process("one", first_marked, "")
        + process("two", second_marked, call)
        + '<bpmn:process id="idle" isExecutable="false"/>\n</bpmn:definitions>\n'
    )


def chosen(text: str) -> str:
    from engine.builder.bpmn_model import select_process

    return select_process(parse_xml(text.encode(), "t.bpmn"), "t.bpmn").get("id", "")


def test_the_process_marked_caseloom_case_is_chosen_among_several() -> None:
    assert chosen(two_processes(second_marked=True)) == "two"


def test_else_the_first_executable_process_no_other_calls_is_chosen() -> None:
    assert chosen(two_processes(calls="one")) == "two"
    assert chosen(two_processes()) == "one"


def test_ambiguous_choice_asks_for_a_process_id() -> None:
    with pytest.raises(DefinitionError, match="give the process id"):
        chosen(two_processes(first_marked=True, second_marked=True))
    with pytest.raises(DefinitionError, match="no executable bpmn:process"):
        chosen(HEAD + '<bpmn:process id="x" isExecutable="false"/></bpmn:definitions>')
    assert read(two_processes(), "two").model.id == "two"


# -- schedules (C1) ------------------------------------------------------------------------


def test_C1_schedules_are_read_from_caseloom_schedule_in_order() -> None:
    body = """
        <caseloom:schedule every="1d" first="2026-03-02T08:00:00+00:00"
            title="Daily &amp; &lt;reconciliation&gt;"/>
        <caseloom:schedule every=" P7D " first=" 2026-03-06T16:00:00+01:00 "/>
        <caseloom:schedule every="90 minutes" first="2026-03-02T08:00:00.5Z" title=" "/>"""
    settings = read(case_doc(case_body=body)).model.settings
    assert settings.schedules == (
        ScheduleDef(
            DueRule(1, DueUnit.DAYS),
            datetime(2026, 3, 2, 8, tzinfo=UTC),
            "Daily & <reconciliation>",
        ),
        ScheduleDef(DueRule(7, DueUnit.DAYS), datetime(2026, 3, 6, 15, tzinfo=UTC)),
        ScheduleDef(
            DueRule(90, DueUnit.MINUTES), datetime(2026, 3, 2, 8, 0, 0, 500000, tzinfo=UTC), " "
        ),
    )
    assert all(s.first.tzinfo is UTC for s in settings.schedules)


def test_C1_schedule_problems_are_collected_with_element_and_line() -> None:
    body = """
        <caseloom:schedule every="1 working day" first="2026-03-02T08:00:00Z"/>
        <caseloom:schedule every="0h" first="2026-03-02T08:00:00Z"/>
        <caseloom:schedule every="2 weeks" first="2026-03-02T08:00:00"/>
        <caseloom:schedule every="1d" first="2026-03-02"/>
        <caseloom:schedule every="1d" first="tomorrow" title=""/>
        <caseloom:schedule first="0001-01-01T00:00:00+01:00" cron="* * * * *"/>
        <caseloom:schedule every="1d"><caseloom:extra/></caseloom:schedule>"""
    text = case_doc(case_body=body)
    found = problems(text)

    def at(marker: str, fragment: str) -> None:
        problem = has(found, "p", fragment)
        assert problem.line == line_of(text, marker), (marker, problem)
        assert problem.file == "t.bpmn"

    at('every="1 working day"', "invalid every '1 working day': schedules repeat in wall-clock")
    at('every="0h"', "invalid every '0h': the amount must be greater than zero")
    at('every="2 weeks"', "invalid every '2 weeks': weeks are not a unit")
    at('every="2 weeks"', "invalid first '2026-03-02T08:00:00': 2026-03-02T08:00:00 has no UTC")
    at('first="2026-03-02"', "'2026-03-02' is a date alone")
    at('first="tomorrow"', "'tomorrow' is not an ISO 8601 date-time")
    at('first="tomorrow"', "the title of a caseloom:schedule must not be empty")
    at("cron=", "caseloom:schedule needs a 'every' attribute")
    at("cron=", "out of range once in UTC")
    at("cron=", "unknown attribute 'cron' on caseloom:schedule")
    at('every="1d"><caseloom:extra/>', "caseloom:schedule needs a 'first' attribute")
    at('every="1d"><caseloom:extra/>', "unexpected element caseloom:extra here")
    assert len(found) == 12, found


def test_flow_conditions_may_be_left_to_the_caller() -> None:
    """The loader has spiff_parser.check_bpmn check flow conditions (each reported once);
    the model's own checks, stage conditions included, still run."""
    bad_flow = PLAIN.replace("approved == True", "__import__('os')")
    root = parse_xml(bad_flow.encode(), "t.bpmn")
    assert read_model(root, "t.bpmn", check_conditions=False).model == read(PLAIN).model
    bad_stage = case_doc().replace('entry="Gate"', 'entry="Gate" condition="amount &gt;"')
    with pytest.raises(DefinitionError, match="invalid condition 'amount >' of stage 1"):
        read_model(parse_xml(bad_stage.encode(), "t.bpmn"), "t.bpmn", check_conditions=False)
