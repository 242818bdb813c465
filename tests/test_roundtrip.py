"""Round trip of the case model through BPMN: ``read_model(compile_model(m)).model == m``."""

from __future__ import annotations

from hypothesis import given, settings
from strategies import process_models

from engine.builder.bpmn_model import read_model
from engine.builder.bpmn_xml import parse_xml
from engine.builder.compiler import compile_model
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
