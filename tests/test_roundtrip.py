"""Round trip of the case model through BPMN: ``read_model(compile_model(m)).model == m``
(generated models carry schedules too, C1), and YAML -> BPMN -> model == YAML -> model."""

from __future__ import annotations

from hypothesis import given, settings
from strategies import process_models

from engine.builder.bpmn_model import read_model
from engine.builder.bpmn_xml import parse_xml
from engine.builder.compiler import compile_model
from engine.builder.yaml_definition import model_from_yaml
from engine.model import ProcessModel


@settings(max_examples=100, deadline=None)
@given(process_models())
def test_compiled_model_reads_back_equal(model: ProcessModel) -> None:
    data = compile_model(model)
    reading = read_model(parse_xml(data, "roundtrip.bpmn"), "roundtrip.bpmn")
    assert reading.model == model


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
