"""The scenario schema (``schemas/scenario.schema.json``) and the problems it finds.

Schema problems of a scenario are located and worded like a process definition's
(:func:`engine.builder.schema.schema_problems`, codes ``S0xx``).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

import engine
from engine.builder import schema as builder_schema
from engine.builder.yaml_source import YamlDocument
from engine.errors import Problem

__all__ = ["SCHEMA_PATH", "is_calendar", "scenario_schema", "schema_problems"]

SCHEMA_PATH = Path(engine.__file__).resolve().parents[1] / "schemas" / "scenario.schema.json"
"""Where the scenario schema is read from."""


@cache
def scenario_schema() -> dict[str, Any]:
    """The scenario schema (read once)."""
    with SCHEMA_PATH.open(encoding="utf-8") as handle:
        loaded: dict[str, Any] = json.load(handle)
    return loaded


def schema_problems(doc: YamlDocument) -> list[Problem]:
    """Every way the scenario document ``doc`` breaks the schema."""
    return builder_schema.schema_problems(doc, against=_validator())


def is_calendar(body: Any) -> bool:
    """Whether ``body`` is a calendar as the schema's ``calendars`` entries must be."""
    return _calendar_validator().is_valid(builder_schema.schema_instance(body))


@cache
def _validator() -> Draft202012Validator:
    return Draft202012Validator(scenario_schema())


@cache
def _calendar_validator() -> Draft202012Validator:
    return Draft202012Validator({"$ref": "#/$defs/calendar", "$defs": scenario_schema()["$defs"]})
