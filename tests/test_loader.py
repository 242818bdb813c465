"""The one load path: YAML -> model -> BPMN -> SpiffWorkflow spec, and BPMN files."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.builder.loader import load_definition, load_file, load_source, source_kind
from engine.errors import DefinitionError
from engine.model import DueRule, DueUnit

DATA = Path(__file__).parent / "data" / "loader"
CLAIM = DATA / "claim_api.yaml"


def test_api_example_deploys_as_written() -> None:
    definition = load_definition(CLAIM)
    assert definition.key == ("claim", 1)
    assert definition.name == "Insurance claim"
    assert [s.name for s in definition.model.stages] == ["Intake", "Assessment", "Payment"]
    assert definition.model.settings.due == DueRule(3, DueUnit.DAYS, working=True)
    assert definition.model.settings.subcases == ("fraud_check",)
    assert definition.spec is not None
    assert definition.source == str(CLAIM)
    assert len(definition.digest) == 64


def test_every_stage_has_an_entry_task_in_the_spec() -> None:
    definition = load_definition(CLAIM)
    assert sorted(definition.stage_entries) == [1, 2, 3]
    for entry in definition.stage_entries.values():
        assert entry in definition.spec.task_specs
    # flow actions map to tasks of the spec; the manual-only action is not in the flow
    flow_tasks = {t: a for t, a in definition.task_actions.items() if a != "second_opinion"}
    assert set(flow_tasks.values()) == {"register", "assess", "pay"}
    for task_id in flow_tasks:
        assert task_id in definition.spec.task_specs
        assert definition.task_stages[task_id] == definition.model.stage_of(flow_tasks[task_id])


def test_compiled_bpmn_loads_back_to_the_same_definition() -> None:
    from_yaml = load_definition(CLAIM)
    from_bpmn = load_source(from_yaml.bpmn, "claim.bpmn").definition
    assert from_bpmn == from_yaml  # equality is the case model
    assert from_bpmn.digest == from_yaml.digest
    assert from_bpmn.stage_entries == from_yaml.stage_entries
    assert from_bpmn.task_actions == from_yaml.task_actions


def test_SC5_unknown_subcase_process_is_refused_when_the_deployed_set_is_known() -> None:
    with pytest.raises(DefinitionError) as err:
        load_file(CLAIM, known_processes={"claim"})
    assert "fraud_check" in str(err.value)
    assert str(CLAIM) in str(err.value)
    load_file(CLAIM, known_processes={"fraud_check"})


def test_SC5_bpmn_source_checks_subcases_against_the_deployed_set() -> None:
    bpmn = load_definition(CLAIM).bpmn
    with pytest.raises(DefinitionError, match="fraud_check"):
        load_source(bpmn, "claim.bpmn", known_processes=set())


def test_unknown_file_type_and_missing_file_are_definition_errors(tmp_path: Path) -> None:
    with pytest.raises(DefinitionError, match="unknown definition file type"):
        source_kind("process.txt")
    with pytest.raises(DefinitionError, match="no such definition file"):
        load_definition(tmp_path / "missing.yaml")


def test_invalid_yaml_definition_deploys_nothing_and_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: bad\nname: Bad\nversion: 1\nstages: []\n")
    with pytest.raises(DefinitionError) as err:
        load_definition(bad)
    assert all(p.file == str(bad) for p in err.value.problems)


def test_lint_warnings_are_returned_beside_the_definition(tmp_path: Path) -> None:
    src = tmp_path / "w.yaml"
    src.write_text(
        "id: w\nname: W\nversion: 1\n"
        "stages:\n"
        "  - name: Never\n    condition: 1 > 2\n    actions:\n      - {id: a, title: A}\n"
        "  - name: Always\n    actions:\n      - {id: b, title: B}\n"
    )
    result = load_file(src)
    assert result.warnings, "a constant-false stage condition must give a warning"
    assert all(w.severity == "warning" for w in result.warnings)


def test_SC5_a_static_check_warns_about_subcase_processes_it_was_not_given() -> None:
    """``check`` cannot know what will be deployed: a sub-case process missing from the files
    checked is a warning (W016), and the definition loads."""
    result = load_file(CLAIM, known_processes={"claim"}, unknown_subcases="warning")
    assert [(w.code, w.path) for w in result.warnings] == [("W016", "subcases[0]")]
    assert "process 'fraud_check' is not among the files checked" in result.warnings[0].message
    assert "must be deployed before a case creates" in result.warnings[0].message
    both = load_file(CLAIM, known_processes={"fraud_check"}, unknown_subcases="warning")
    assert both.warnings == ()
    with pytest.raises(ValueError, match="unknown_subcases"):
        load_file(CLAIM, known_processes=set(), unknown_subcases="ignore")  # type: ignore[arg-type]


def test_SC5_bpmn_unknown_subcases_are_located_at_their_elements() -> None:
    bpmn = load_definition(CLAIM).bpmn
    lines = bpmn.decode().splitlines()
    subcase_line = next(i for i, t in enumerate(lines, 1) if 'caseloom:subcase process="' in t)
    with pytest.raises(DefinitionError) as err:
        load_source(bpmn, "claim.bpmn", known_processes=set())
    [problem] = err.value.problems
    assert (problem.code, problem.line, problem.element_id) == ("E012", subcase_line, "claim")
    warned = load_source(bpmn, "claim.bpmn", known_processes=set(), unknown_subcases="warning")
    [warning] = warned.warnings
    assert (warning.code, warning.line, warning.element_id) == ("W016", subcase_line, "claim")


MANY_PROBLEMS = """\
<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:caseloom="https://caseloom.dev/schema/bpmn/1" id="d" targetNamespace="urn:t">
  <bpmn:process id="many" isExecutable="true">
    <bpmn:extensionElements>
      <caseloom:case version="1" due="soon">
        <caseloom:stage name="Only" entry="Start">
          <caseloom:actionRef actionId="review"/>
        </caseloom:stage>
      </caseloom:case>
    </bpmn:extensionElements>
    <bpmn:startEvent id="Start"/>
    <bpmn:userTask id="Review" name="Review">
      <bpmn:extensionElements><caseloom:action actionId="review"/></bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:exclusiveGateway id="Gate" name="Decide"/>
    <bpmn:userTask id="Approve"/>
    <bpmn:userTask id="Reject"/>
    <bpmn:exclusiveGateway id="Gate2" name="Two ways"/>
    <bpmn:userTask id="Other"/>
    <bpmn:endEvent id="End"/>
    <bpmn:sequenceFlow id="f1" sourceRef="Start" targetRef="Review"/>
    <bpmn:sequenceFlow id="f2" sourceRef="Review" targetRef="Gate"/>
    <bpmn:sequenceFlow id="f3" sourceRef="Gate" targetRef="Approve">
      <bpmn:conditionExpression>__import__('os')</bpmn:conditionExpression></bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f4" sourceRef="Gate" targetRef="Gate2">
      <bpmn:conditionExpression>amount &gt;</bpmn:conditionExpression></bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f5" sourceRef="Gate2" targetRef="Reject"/>
    <bpmn:sequenceFlow id="f6" sourceRef="Gate2" targetRef="Other"/>
    <bpmn:sequenceFlow id="f7" sourceRef="Approve" targetRef="End"/>
    <bpmn:sequenceFlow id="f7" sourceRef="Approve" targetRef="End"/>
    <bpmn:sequenceFlow id="f8" sourceRef="Reject" targetRef="End"/>
    <bpmn:sequenceFlow id="f9" sourceRef="Other" targetRef="Nowhere"/>
  </bpmn:process>
</bpmn:definitions>
"""


def test_every_problem_of_a_bpmn_file_is_reported_at_once() -> None:
    """The case model's checks (bpmn_model) and those of what would run (spiff_parser) are
    reported together; each condition once; each gateway flow and each reserved id."""
    with pytest.raises(DefinitionError) as err:
        load_source(MANY_PROBLEMS.encode(), "many.bpmn")
    lines = MANY_PROBLEMS.splitlines()

    def line(marker: str) -> int:
        return next(i for i, text in enumerate(lines, 1) if marker in text)

    found = [(p.element_id, p.line, p.code, p.message) for p in err.value.problems]
    assert all(p.file == "many.bpmn" and p.severity == "error" for p in err.value.problems)
    expected = [
        ("many", line('due="soon"'), "", "invalid due 'soon'"),  # caseloom extensions
        ("f7", line('id="f7"') + 1, "", "duplicate element id 'f7'"),
        ("Start", line('id="Start"'), "B012", "the id 'Start' is reserved"),
        ("End", line('id="End"'), "B012", "the id 'End' is reserved"),
        ("f3", line("__import__"), "B003", "condition \"__import__('os')\" is refused"),
        ("f4", line("amount &gt;"), "B003", "condition 'amount >' is refused"),
        ("f5", line('id="f5"'), "B013", "leaves bpmn:exclusiveGateway 'Gate2' without a condition"),
        ("f6", line('id="f6"'), "B013", "leaves bpmn:exclusiveGateway 'Gate2' without a condition"),
        ("Approve", line('id="Approve"'), "B015", "has 2 outgoing sequence flows ('f7', 'f7')"),
        ("f9", line('id="f9"'), "B014", "targetRef 'Nowhere' is no element"),
    ]
    for element_id, at, code, fragment in expected:
        matches = [f for f in found if f[0] == element_id and f[2] == code and fragment in f[3]]
        assert len(matches) == 1, (fragment, found)
        assert matches[0][1] == at, (fragment, matches)
    assert len(found) == len(expected), found
    assert [p.line for p in err.value.problems] == sorted(p.line or 0 for p in err.value.problems)
