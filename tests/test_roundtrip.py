"""Round trip of the case model through BPMN: ``read_model(compile_model(m)).model == m``
(generated models carry schedules too, C1), and YAML -> BPMN -> model == YAML -> model."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from strategies import process_models
from typer.testing import CliRunner

from engine.builder.bpmn_model import read_model
from engine.builder.bpmn_xml import parse_xml
from engine.builder.compiler import compile_model
from engine.builder.loader import load_definition, load_file
from engine.builder.spiff_parser import build_specs
from engine.builder.yaml_definition import model_from_yaml
from engine.cli import app
from engine.model import ProcessModel

PROCESSES = Path(__file__).resolve().parents[1] / "processes"
IDS = {"claim", "fraud_check", "onboarding", "complaint"}


@settings(max_examples=100, deadline=None)
@given(process_models())
def test_compiled_model_reads_back_equal(model: ProcessModel) -> None:
    data = compile_model(model)
    root = parse_xml(data, "roundtrip.bpmn")
    reading = read_model(root, "roundtrip.bpmn")
    assert reading.model == model
    # every stage's entry is a flow node of the stage; SpiffWorkflow parses the file
    assert set(reading.stage_entries) == set(range(1, len(model.stages) + 1))
    for number, entry in reading.stage_entries.items():
        assert reading.task_stages[entry] == number
    assert build_specs(root, "roundtrip.bpmn", model.id).spec is not None


@settings(max_examples=10, deadline=None)
@given(process_models())
def test_compile_is_deterministic(model: ProcessModel) -> None:
    assert compile_model(model) == compile_model(model)


SCHEDULED_YAML = """id: recon
name: Reconciliation
version: 1
schedules:
  - {every: 1d, first: 2026-03-02T08:00:00Z, title: Daily reconciliation}
  - {every: 7d, first: "2026-03-06T16:00:00+01:00"}
  - {every: PT90M, first: 2026-03-06T16:00:00.125-05:00, title: "<&> \\"quoted\\""}
stages:
  - name: Check
    actions:
      - {id: check}
"""


def test_C1_schedules_yaml_to_bpmn_to_model_equals_yaml_to_model() -> None:
    model = model_from_yaml(SCHEDULED_YAML, "recon.yaml")
    assert len(model.settings.schedules) == 3
    reading = read_model(parse_xml(compile_model(model), "recon.bpmn"), "recon.bpmn")
    assert reading.model == model
    assert reading.model.settings.schedules == model.settings.schedules


@pytest.mark.parametrize("path", sorted(PROCESSES.glob("*.yaml")), ids=lambda p: p.name)
def test_compiled_examples_pass_check_as_bpmn_files(path: Path, tmp_path: Path) -> None:
    """The compiled BPMN (gateways only where needed, stage groups) is itself a valid
    definition: same model, same stage entries and stage membership, no warning."""
    definition = load_definition(path, known_processes=IDS)
    bpmn = tmp_path / f"{path.stem}.bpmn"
    bpmn.write_bytes(definition.bpmn)
    result = load_file(bpmn, known_processes=IDS)
    assert result.warnings == ()
    assert result.definition.model == definition.model
    assert result.definition.stage_entries == definition.stage_entries
    assert result.definition.task_stages == definition.task_stages
    assert result.definition.task_actions == definition.task_actions
    cli = CliRunner().invoke(app, ["check", str(bpmn)])
    assert cli.exit_code == 0, cli.output
