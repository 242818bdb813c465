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
