"""Errors carry their locations, in attributes and in str()."""

from __future__ import annotations

import pytest

from engine.errors import DefinitionError, Problem, ProblemCollector


def test_problem_str_has_file_line_column_and_path() -> None:
    p = Problem("bad duration", file="a.yaml", line=3, column=7, path="stages[0].due")
    assert str(p) == "a.yaml:3:7: error: bad duration (stages[0].due)"


def test_bpmn_problem_names_the_element() -> None:
    p = Problem("script tasks are refused", file="x.bpmn", line=12, element_id="Task_1")
    assert "x.bpmn:12" in str(p) and "'Task_1'" in str(p)


def test_definition_error_lists_every_problem_in_str() -> None:
    collector = ProblemCollector("a.yaml")
    collector.add("first", line=1, path="id")
    collector.add("second", line=9, path="stages")
    collector.add("just a warning", line=2, severity="warning")
    with pytest.raises(DefinitionError) as err:
        collector.raise_if_any()
    text = str(err.value)
    assert text.startswith("2 problems in definition a.yaml")
    assert "a.yaml:1: error: first (id)" in text and "a.yaml:9: error: second" in text
    assert "warning" not in text
    assert len(err.value.problems) == 2


def test_collector_without_errors_does_not_raise() -> None:
    collector = ProblemCollector("a.yaml")
    collector.add("only a warning", severity="warning")
    collector.raise_if_any()


def test_definition_error_needs_a_problem() -> None:
    with pytest.raises(ValueError):
        DefinitionError([])
