"""Conformance over a real BPMN corpus (SpiffWorkflow's own test files).

Every file of ``../shared/bpmn-corpus`` (beside the checkout) has an expected outcome in
:data:`EXPECTED`: it either *runs* (specs build and the driver takes the flow to an end event,
completing the listed tasks) or is *refused* with a DefinitionError whose problems name exactly
the listed elements (tag and id). A change in behaviour, or a corpus file without an entry,
fails. docs/conformance.md explains each outcome and must state the same counts.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pytest
from spiff_driver import completed_spec_names, drive_to_completion

from engine.builder.bpmn_xml import CODE_ROOT, parse_xml
from engine.builder.namespaces import bpmn
from engine.builder.spiff_parser import SpiffSpecs, build_specs
from engine.errors import DefinitionError

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "bpmn-corpus"
DOCS = Path(__file__).resolve().parents[1] / "docs" / "conformance.md"

if not CORPUS.is_dir():
    pytest.skip(
        f"BPMN corpus not found at {CORPUS} (CI keeps shared/bpmn-corpus beside the checkout)",
        allow_module_level=True,
    )

B = "tests/SpiffWorkflow/bpmn/data/"
T = B + "Test-Workflows/"
N = B + "call_activity_nested/"
C = "tests/SpiffWorkflow/camunda/data/"
S = "tests/SpiffWorkflow/spiff/data/"

Outcome = tuple[Literal["runs", "refused"], frozenset[Any]]


def runs(*completed: str) -> Outcome:
    """The flow completes; these BPMN ids are among the completed tasks."""
    return ("runs", frozenset(completed))


def refused(*elements: tuple[str, str]) -> Outcome:
    """Refused; the problems name exactly these (tag, element id) pairs."""
    return ("refused", frozenset(elements))


def script(element_id: str) -> tuple[str, str]:
    return ("bpmn:scriptTask", element_id)


def timer(event_id: str) -> tuple[str, str]:
    return ("bpmn:timerEventDefinition", event_id)


def call(element_id: str) -> tuple[str, str]:
    return ("bpmn:callActivity", element_id)


EXPECTED: dict[str, Outcome] = {
    B + "Approvals.bpmn": runs(
        "Approvals.First_Approval_Wins",
        "Approvals.First_Approval_Wins_Done",
        "Approvals.Parallel_Approvals_Done",
        "Approvals.Parallel_SP",
        "Approvals.Parallel_SP_Done",
        "Parallel_Approvals_SP.End2",
        "Approvals.End1",
    ),
    B + "boundary.bpmn": refused(timer("Event_0iiih8g")),
    B + "boundary_timer_on_task.bpmn": refused(
        timer("Event_0y4hbl0"), script("set_variable"), script("Activity_0dzjjk3")
    ),
    B + "inclusive_gateway.bpmn": refused(
        script("increment_v"), script("u_plus_v"), script("w_plus_v")
    ),
    B + "lanes.bpmn": runs(
        "Activity_A1",
        "Activity_B1",
        "Activity_A2",
        "Implement_Feature",
        "Activity_1uksrqx",
        "SubProcessTask",
        "Event_07pakcl",
    ),
    B + "reset_with_boundary_event.bpmn": refused(timer("Event_My_Timer")),
    B + "resetworkflowA-sublevel.bpmn": runs("SubTask2", "Event_06n7z6a"),
    B + "resetworkflowA-toplevel.bpmn": refused(script("Activity_08owj6n")),
    B + "timer-cycle.bpmn": refused(
        script("Refill_Coffee"), script("Activity_1swqq74"), timer("CatchMessage")
    ),
    B + "timer-non-interrupt-boundary.bpmn": refused(timer("Event_0jyy8ao")),
    B + "transaction.bpmn": refused(
        script("Activity_Print_Data"),
        script("Error_1_Action"),
        script("Error_None_Action"),
        script("Cancel_Action"),
    ),
    T + "Action-Management.bpmn20.xml": refused(
        script("sid-2D13DB20-B41B-44C7-BC3B-ECE223C8B793"),
        script("sid-2ABC7FB8-98FF-4BE6-8A7F-941CBDEE3232"),
        script("sid-3D825928-1108-4E19-907F-E6B9ADA5BB3B"),
        ("bpmn:intermediateCatchEvent", "sid-EC95E155-147C-4FD1-AFE5-5B803F655E3B"),
        timer("sid-07366683-F441-49D4-8A06-7C3D78CCEDE4"),
        # flows out of exclusive gateways with neither a condition nor the default (B013)
        ("bpmn:sequenceFlow", "sid-4B3460BF-1433-4961-BEA6-CD4766A5F509"),
        ("bpmn:sequenceFlow", "sid-880EE112-139E-4533-BB98-8A1E6D943A18"),
        ("bpmn:sequenceFlow", "sid-5AE8BBED-8AD1-41A8-95DB-4897F73E7492"),
        ("bpmn:sequenceFlow", "sid-4023B856-5C8C-4F4B-89CF-00D224EADEDC"),
    ),
    T + "Nested-Subprocesses.bpmn20.xml": runs(
        "sid-FECD237F-6ABD-4A51-BB9C-B0C7D991202B",
        "sid-C014B4B9-889F-4EE9-9949-C89502C35CF0",
        "sid-1B59DCD2-83A0-4687-B7BE-83625395572E",
        "sid-17C53A94-546D-4099-8A52-AAEE6AC3F6E7",
        "sid-EF0FA50B-FE9B-4C86-9981-4F6B62387D38",
    ),
    T + "Nested-Sub-level1.bpmn20.xml": runs(
        "sid-1B59DCD2-83A0-4687-B7BE-83625395572E",
        "sid-BC014079-199F-4720-95CD-244B0ACB6DE1",
        "sid-17C53A94-546D-4099-8A52-AAEE6AC3F6E7",
        "sid-64E2EF25-F986-4834-8C3B-C3533746113E",
    ),
    T + "Nested-Sub-level2.bpmn20.xml": runs(
        "sid-17C53A94-546D-4099-8A52-AAEE6AC3F6E7",
        "sid-2EDAD784-7F15-486C-B805-D26EE25F8087",
    ),
    N + "call_activity_nested.bpmn": refused(
        ("bpmn:businessRuleTask", "Activity_0gg4414"),
        call("Activity_0rkbhbz"),  # Level2b: defined nowhere
        call("Activity_1cmkdc8"),  # in Level2: Level2b again
        call("Activity_12zat0d"),  # in Level3: calls Level3 (recursion)
    ),
    N + "call_activity_level_2.bpmn": refused(call("Activity_1cmkdc8"), call("Activity_12zat0d")),
    N + "call_activity_level_2b.bpmn": runs("Activity_16ayqi8", "Event_18dla68"),
    N + "call_activity_level_3.bpmn": refused(call("Activity_12zat0d")),
    # Not a BPMN process: a DMN decision table. Refused by design (no DMN support).
    N + "level2c.dmn": refused(("definitions", "")),
    C + "MessageBoundary.bpmn": refused(("bpmn:messageEventDefinition", "Event_0g8w85g")),
    C + "noninterrupting-MessageBoundary.bpmn": refused(
        ("bpmn:messageEventDefinition", "Event_0g8w85g")
    ),
    C + "subWorkflowComplex.bpmn": runs(
        "Activity_A", "Activity_A1", "Activity_A2", "Activity_B", "End_Event_1"
    ),
    C + "token_trial_nested_parallel.bpmn": runs(
        "First",
        *(f"Form{group}{n}" for group in "ABC" for n in (1, 2, 3)),
        "FormD",
        "Event_0xfwzm8",
    ),
    C + "token_trial_parallel_simple.bpmn": runs(
        "Activity_1ghr6kd", "UserTask_0fd3nql", "UserTask_1k9gxsc", "EndEvent_09wp7av"
    ),
    S + "error_event_payload.bpmn": runs("set_data", "throw", "catch", "Event_1nd3odq"),
    S + "spiff_properties.bpmn": runs("Activity_04b30i8", "Event_0c80924"),
}

#: Corpus files that are not BPMN at all.
NOT_BPMN = {N + "level2c.dmn"}


@dataclass(frozen=True)
class Setup:
    """How a file is loaded and driven: the files defining its called processes, and the
    data its gateways need. The process is the file's first ``bpmn:process``."""

    extra: tuple[str, ...] = ()
    data: dict[str, Any] = field(default_factory=dict)


SETUP: dict[str, Setup] = {
    T + "Nested-Subprocesses.bpmn20.xml": Setup(
        extra=(T + "Nested-Sub-level1.bpmn20.xml", T + "Nested-Sub-level2.bpmn20.xml")
    ),
    T + "Nested-Sub-level1.bpmn20.xml": Setup(extra=(T + "Nested-Sub-level2.bpmn20.xml",)),
    # call_activity_level_2b.bpmn defines process "Level2" too (not "Level2b"), so giving it
    # as well would only add a duplicate-process problem; "Level2b" is defined nowhere.
    N + "call_activity_nested.bpmn": Setup(
        extra=(N + "call_activity_level_2.bpmn", N + "call_activity_level_3.bpmn")
    ),
    N + "call_activity_level_2.bpmn": Setup(extra=(N + "call_activity_level_3.bpmn",)),
    B + "resetworkflowA-toplevel.bpmn": Setup(extra=(B + "resetworkflowA-sublevel.bpmn",)),
    B + "lanes.bpmn": Setup(data={"NeedClarification": "Yes"}),
    C + "token_trial_parallel_simple.bpmn": Setup(data={"skipParallel": False}),
    S + "error_event_payload.bpmn": Setup(data={"error": True}),
}


def load(path: str) -> tuple[SpiffSpecs, str]:
    """Build the specs of the file's first process; returns them and the process id."""
    setup = SETUP.get(path, Setup())
    root = parse_xml((CORPUS / path).read_bytes(), path)
    extra = [(parse_xml((CORPUS / name).read_bytes(), name), name) for name in setup.extra]
    process = root.find(bpmn("process"))
    assert process is not None, f"{path} has no bpmn:process"
    process_id = process.get("id", "")
    return build_specs(root, path, process_id, extra_roots=extra), process_id


def end_events(path: str, process_id: str) -> set[str]:
    root = parse_xml((CORPUS / path).read_bytes(), path)
    process = root.find(f"{bpmn('process')}[@id='{process_id}']")
    assert process is not None
    return {node.get("id", "") for node in process.iterfind(bpmn("endEvent"))}


@pytest.mark.parametrize("path", sorted(EXPECTED))
def test_corpus_file(path: str) -> None:
    outcome, detail = EXPECTED[path]
    if outcome == "runs":
        specs, process_id = load(path)
        workflow = drive_to_completion(specs, SETUP.get(path, Setup()).data)
        assert workflow.is_completed()
        completed = completed_spec_names(workflow)
        assert detail <= completed, sorted(detail - completed)
        assert completed & end_events(path, process_id), "no end event of the process completed"
        return
    with pytest.raises(DefinitionError) as err:
        load(path)
    problems = err.value.problems
    assert Counter(p.element_id for p in problems) == Counter(eid for _tag, eid in detail), [
        str(p) for p in problems
    ]
    for tag, element_id in detail:
        assert any(p.element_id == element_id and tag in p.message for p in problems), (
            tag,
            element_id,
        )
    for problem in problems:
        assert problem.file and problem.line is not None, str(problem)
    if path in NOT_BPMN:
        assert [p.code for p in problems] == [CODE_ROOT]


def test_the_table_covers_every_corpus_file() -> None:
    on_disk = {
        p.relative_to(CORPUS).as_posix()
        for p in CORPUS.rglob("*")
        if p.is_file() and p.name != "SOURCES.txt"
    }
    assert set(EXPECTED) == on_disk
    bpmn_files = {p for p in on_disk if p.endswith((".bpmn", ".bpmn20.xml"))}
    assert bpmn_files == on_disk - NOT_BPMN
    assert set(SETUP) <= set(EXPECTED)


def test_the_counts_and_outcomes_are_documented(capsys: pytest.CaptureFixture[str]) -> None:
    ran = sorted(p for p, (outcome, _) in EXPECTED.items() if outcome == "runs")
    refused_files = sorted(p for p, (outcome, _) in EXPECTED.items() if outcome == "refused")
    with capsys.disabled():
        print(f"\nBPMN corpus conformance: {len(ran)} run, {len(refused_files)} refused")
    text = DOCS.read_text(encoding="utf-8")
    assert f"**{len(ran)} run, {len(refused_files)} refused**" in text
    for path in ran:
        assert f"| `{path}` | runs |" in text, path
    for path in refused_files:
        assert f"| `{path}` | refused |" in text, path
