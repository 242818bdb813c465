"""Warnings about valid but doubtful definitions: engine.builder.lint."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from strategies import process_models

from engine.builder.bpmn_model import select_process
from engine.builder.bpmn_xml import parse_xml
from engine.builder.compiler import compile_model
from engine.builder.lint import lint
from engine.builder.loader import load_file, load_source
from engine.builder.yaml_definition import model_from_document
from engine.builder.yaml_source import load_yaml
from engine.errors import Problem
from engine.model import ProcessModel

DATA = Path(__file__).parent / "data" / "yaml"

HEAD = "id: claim\nname: Claim\nversion: 1\n"
STAGES = "stages:\n  - name: Intake\n    actions:\n      - {id: register}\n"


def warnings(text: str, *, located: bool = True) -> list[Problem]:
    doc = load_yaml(text, "l.yaml")
    model = model_from_document(doc)
    return lint(model, doc if located else None, "l.yaml")


def codes(text: str) -> list[str]:
    return [p.code for p in warnings(text)]


def stage_with(condition: str) -> str:
    return (
        HEAD
        + f'stages:\n  - name: Check\n    condition: "{condition}"\n'
        + ("    actions: [{id: a}]\n")
    )


def test_api_example_has_no_warnings() -> None:
    assert warnings((DATA / "claim.yaml").read_text(encoding="utf-8")) == []


def test_warnings_are_warnings_with_codes_lines_and_paths() -> None:
    [found] = warnings(stage_with("1 > 2"))
    assert found.severity == "warning"
    assert (found.file, found.line, found.column) == ("l.yaml", 6, 16)
    assert found.path == "stages[0].condition"
    assert str(found).startswith("l.yaml:6:16: warning: ")


def test_without_a_document_warnings_carry_the_file_only() -> None:
    [found] = warnings(stage_with("1 > 2"), located=False)
    assert (found.file, found.line, found.path, found.code) == ("l.yaml", None, "", "W001")


def test_file_defaults_to_the_document_file() -> None:
    doc = load_yaml(stage_with("False"), "doc.yaml")
    [found] = lint(model_from_document(doc), doc)
    assert found.file == "doc.yaml"


def test_RW3_constant_false_condition_makes_the_stage_unreachable() -> None:
    for condition in ("False", "1 > 2", "false and x", "not True", "'a' in []"):
        found = warnings(stage_with(condition))
        if condition == "false and x":
            assert found == []  # reads a name: not constant
            continue
        assert [p.code for p in found] == ["W001"], condition
        assert "never runs" in found[0].message


def test_RW3_constant_true_condition_has_no_effect() -> None:
    [found] = warnings(stage_with("2 > 1"))
    assert found.code == "W002"
    assert found.message == "the condition of stage 'Check' is always true"


def test_condition_that_always_fails() -> None:
    [found] = warnings(stage_with("1 / 0 > 1"))
    assert found.code == "W003"
    assert "always fails" in found.message


def test_conditions_over_case_data_are_not_flagged() -> None:
    assert warnings(stage_with("amount > 1000")) == []


def test_SC1_subcase_step_to_the_process_itself() -> None:
    text = (
        HEAD
        + "subcases: [claim]\nstages:\n  - name: A\n    actions:\n"
        + ("      - {id: again, subcase: claim}\n")
    )
    [found] = warnings(text)
    assert (found.code, found.line, found.path) == ("W004", 8, "stages[0].actions[0].subcase")


def test_calendar_defined_but_not_used() -> None:
    text = (
        HEAD
        + "calendar: uk\ncalendars:\n  uk: {timezone: Europe/London}\n"
        + ("  fr: {timezone: Europe/Paris}\n")
        + STAGES
    )
    [found] = warnings(text)
    assert (found.code, found.line, found.column) == ("W005", 7, 3)
    assert "calendar 'fr'" in found.message


def test_H3_H4_pausing_sla_needs_more_info_reasons_and_a_due() -> None:
    text = HEAD + "add_wait_time_to_due_date: true\n" + STAGES
    found = warnings(text)
    assert [(p.code, p.line, p.column) for p in found] == [("W006", 4, 1), ("W007", 4, 1)]
    assert (
        codes(HEAD + "add_wait_time_to_due_date: true\ndue: 4h\nmore_info_reasons: [x]\n" + STAGES)
        == []
    )


def test_working_durations_without_a_calendar() -> None:
    text = (
        HEAD
        + "due: 3 working days\nstages:\n  - name: A\n    actions:\n"
        + ("      - {id: a, due: 6 working hours}\n")
    )
    found = warnings(text)
    assert [(p.code, p.path) for p in found] == [
        ("W008", "due"),
        ("W008", "stages[0].actions[0].due"),
    ]
    assert codes(text.replace("version: 1\n", "version: 1\ncalendar: office\n")) == []


def test_parallel_stage_with_one_flow_action() -> None:
    text = (
        HEAD
        + "stages:\n  - name: A\n    parallel: true\n    actions:\n"
        + ("      - {id: a}\n      - {id: b, flow: false, manual_launch: true}\n")
    )
    [found] = warnings(text)
    assert (found.code, found.path, found.line) == ("W009", "stages[0].parallel", 6)


def test_overlapping_calendar_hours() -> None:
    text = (
        HEAD
        + "calendar: uk\ncalendars:\n  uk:\n    hours:\n"
        + (
            "      mon: ['09:00-13:00', '12:00-17:00']\n      tue: ['09:00-12:00', '12:00-24:00']\n"
            "      wed: ['20:00-24:00', '21:00-22:00']\n"
        )
        + STAGES
    )
    found = warnings(text)
    assert [(p.code, p.path) for p in found] == [
        ("W010", "calendars.uk.hours.mon"),
        ("W010", "calendars.uk.hours.wed"),
    ]


def test_action_due_later_than_the_case() -> None:
    text = (
        HEAD
        + "due: 4h\nstages:\n  - name: A\n    actions:\n"
        + ("      - {id: a, due: 8h}\n      - {id: b, due: 2h}\n      - {id: c, due: 2d}\n")
    )
    [found] = warnings(text)
    assert (found.code, found.path) == ("W011", "stages[0].actions[0].due")
    assert found.message == "action 'a' is due in 8h, later than its case (4h)"


def test_warnings_are_sorted_by_position() -> None:
    text = (
        HEAD
        + "add_wait_time_to_due_date: true\ncalendars:\n  spare: {}\n"
        + ("stages:\n  - name: A\n    condition: 'False'\n    actions: [{id: a}]\n")
    )
    found = warnings(text)
    assert [p.code for p in found] == ["W006", "W007", "W005", "W001"]
    assert [p.line for p in found] == sorted(p.line or 0 for p in found)


def test_C1_schedule_more_often_than_hourly() -> None:
    text = HEAD + (
        "schedules:\n"
        "  - {every: 59m, first: 2026-03-02T08:00:00Z}\n"
        "  - {every: 1h, first: 2026-03-02T08:00:00Z}\n"
        "  - {every: 1d, first: 2026-03-02T08:00:00Z}\n"
    )
    [found] = warnings(text + STAGES)
    assert (found.code, found.line, found.column, found.path) == (
        "W012",
        5,
        13,
        "schedules[0].every",
    )
    assert "every 59m: more than 24 cases a day" in found.message


def test_C1_two_schedules_at_the_same_times() -> None:
    text = HEAD + (
        "schedules:\n"
        "  - {every: 1d, first: 2026-03-02T08:00:00Z, title: A}\n"
        "  - {every: 24h, first: '2026-03-02T09:00:00+01:00', title: B}\n"
        "  - {every: 1d, first: 2026-03-02T08:01:00Z}\n"
        "  - {every: 2d, first: 2026-03-02T08:00:00Z}\n"
    )
    [found] = warnings(text + STAGES)
    assert (found.code, found.line, found.path) == ("W013", 6, "schedules[1]")
    assert "same 'every' and 'first' as schedule 0" in found.message


def test_C1_V10_schedules_with_required_contacts_stay_draft() -> None:
    text = HEAD + (
        "required_contacts: [requester]\n"
        "schedules:\n"
        "  - {every: 1d, first: 2026-03-02T08:00:00Z}\n"
    )
    [found] = warnings(text + STAGES)
    assert found.code == "W014" and found.path == "schedules"
    assert "stay Draft" in found.message


# -- W015: BPMN gateways that may find no way out ----------------------------------------------

BPMN_HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"\n'
    '    xmlns:caseloom="https://caseloom.dev/schema/bpmn/1" id="d" targetNamespace="urn:t">\n'
)


def gateway_process(gateway: str, out: str) -> str:
    """start -> review -> ``gateway`` (id Gate) -> ``out`` (flows to a, b) ... -> end."""
    return (
        BPMN_HEAD
        + '  <bpmn:process id="gw" isExecutable="true">\n'
        + '    <bpmn:startEvent id="start"/>\n'
        + '    <bpmn:userTask id="review" name="Review"/>\n'
        + f"    {gateway}\n"
        + '    <bpmn:userTask id="a"/>\n'
        + '    <bpmn:userTask id="b"/>\n'
        + '    <bpmn:endEvent id="end"/>\n'
        + '    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="review"/>\n'
        + '    <bpmn:sequenceFlow id="f2" sourceRef="review" targetRef="Gate"/>\n'
        + out
        + '    <bpmn:sequenceFlow id="fa" sourceRef="a" targetRef="end"/>\n'
        + '    <bpmn:sequenceFlow id="fb" sourceRef="b" targetRef="end"/>\n'
        + "  </bpmn:process>\n</bpmn:definitions>\n"
    )


def out_flow(fid: str, target: str, condition: str | None) -> str:
    if condition is None:
        return f'    <bpmn:sequenceFlow id="{fid}" sourceRef="Gate" targetRef="{target}"/>\n'
    return (
        f'    <bpmn:sequenceFlow id="{fid}" sourceRef="Gate" targetRef="{target}">'
        f"<bpmn:conditionExpression>{condition}</bpmn:conditionExpression></bpmn:sequenceFlow>\n"
    )


def bpmn_warnings(text: str) -> list[Problem]:
    return list(load_source(text.encode(), "gw.bpmn").warnings)


def test_W015_exclusive_gateway_without_default_and_every_flow_conditioned() -> None:
    text = gateway_process(
        '<bpmn:exclusiveGateway id="Gate" name="Decide"/>',
        out_flow("yes", "a", "amount &gt; 10") + out_flow("no", "b", "amount &lt; 5"),
    )
    [found] = bpmn_warnings(text)
    assert (found.code, found.severity, found.file) == ("W015", "warning", "gw.bpmn")
    assert found.element_id == "Gate"
    assert (
        found.line
        == text.splitlines().index('    <bpmn:exclusiveGateway id="Gate" name="Decide"/>') + 1
    )
    assert "exclusive gateway 'Decide' (Gate)" in found.message
    assert "has no default flow" in found.message and "refused" in found.message
    assert str(found).startswith(f"gw.bpmn:{found.line}: warning: ")


def test_W015_a_single_conditioned_flow_and_inclusive_gateways_count_too() -> None:
    lone = (
        gateway_process('<bpmn:exclusiveGateway id="Gate"/>', out_flow("yes", "a", "approved"))
        .replace('<bpmn:userTask id="b"/>', "")
        .replace('<bpmn:sequenceFlow id="fb" sourceRef="b" targetRef="end"/>', "")
    )
    [found] = bpmn_warnings(lone)
    assert found.code == "W015" and "exclusive gateway 'Gate'" in found.message
    inclusive = gateway_process(
        '<bpmn:inclusiveGateway id="Gate" name="Notify"/>',
        out_flow("yes", "a", "x &gt; 1") + out_flow("no", "b", "y &gt; 1"),
    )
    [found] = bpmn_warnings(inclusive)
    assert found.code == "W015" and "inclusive gateway 'Notify' (Gate)" in found.message


def test_W015_not_for_a_gateway_with_a_default_or_an_unconditioned_or_always_true_flow() -> None:
    with_default = gateway_process(
        '<bpmn:exclusiveGateway id="Gate" default="no"/>',
        out_flow("yes", "a", "amount &gt; 10") + out_flow("no", "b", None),
    )
    always = gateway_process(
        '<bpmn:exclusiveGateway id="Gate"/>',
        out_flow("yes", "a", "amount &gt; 10") + out_flow("no", "b", "True"),
    )
    lone_plain = (
        gateway_process('<bpmn:exclusiveGateway id="Gate"/>', out_flow("yes", "a", None))
        .replace('<bpmn:userTask id="b"/>', "")
        .replace('<bpmn:sequenceFlow id="fb" sourceRef="b" targetRef="end"/>', "")
    )
    parallel = gateway_process('<bpmn:parallelGateway id="Gate"/>', out_flow("p", "a", None))
    for text in (with_default, always, lone_plain, parallel):
        assert [w.code for w in bpmn_warnings(text)] == [], text


def test_W015_never_for_the_example_processes_compiled_from_yaml() -> None:
    for source in sorted((Path(__file__).resolve().parents[1] / "processes").glob("*.yaml")):
        assert [w for w in load_file(source).warnings if w.code == "W015"] == []


@settings(max_examples=60, deadline=None)
@given(process_models())
def test_W015_never_for_compiled_yaml(model: ProcessModel) -> None:
    """The compiler gives every conditional stage entry a default flow (the skip)."""
    root = parse_xml(compile_model(model), "c.bpmn")
    process = select_process(root, "c.bpmn", model.id)
    assert [w for w in lint(model, None, "c.bpmn", process=process) if w.code == "W015"] == []


# -- W016: sub-case processes among none of the files checked ---------------------------------

SUBCASES = (
    HEAD
    + "subcases: [fraud_check, claim]\n"
    + "stages:\n  - name: Intake\n    actions:\n      - {id: register}\n"
    + "      - {id: fraud, subcase: fraud_check}\n"
)


def test_W016_subcase_processes_not_among_the_files_checked() -> None:
    doc = load_yaml(SUBCASES, "l.yaml")
    model = model_from_document(doc)
    assert lint(model, doc) == []  # no known processes given: nothing to compare with
    found = lint(model, doc, known_processes={"claim", "onboarding"})
    assert [(w.code, w.line, w.path) for w in found] == [
        ("W016", 4, "subcases[0]"),
        ("W016", 9, "stages[0].actions[1].subcase"),
    ]
    assert found[0].message == (
        "sub-case process 'fraud_check' is not among the files checked: it must be deployed "
        "before a case creates such a sub-case"
    )
    assert "action 'fraud' starts a sub-case of process 'fraud_check'" in found[1].message
    assert all("is deployed" not in w.message for w in found)
    assert lint(model, doc, known_processes={"fraud_check"}) == []


def test_bpmn_warnings_carry_the_line_and_element_id() -> None:
    """A model read from BPMN is linted with its process element: each warning points at the
    caseloom element it is about (W016 here), owned by the process or by the task."""
    bpmn = compile_model(model_from_document(load_yaml(SUBCASES, "l.yaml")))
    text = bpmn.decode()
    found = load_source(bpmn, "l.bpmn", known_processes=set(), unknown_subcases="warning")
    subcase_line = next(
        i
        for i, line in enumerate(text.splitlines(), 1)
        if 'caseloom:subcase process="fraud' in line
    )
    action_line = next(
        i for i, line in enumerate(text.splitlines(), 1) if 'subcase="fraud_check"' in line
    )
    task = {a: t for t, a in found.definition.task_actions.items()}["fraud"]
    assert [(w.code, w.line, w.element_id) for w in found.warnings] == [
        ("W016", subcase_line, "claim"),
        ("W016", action_line, task),
    ]
