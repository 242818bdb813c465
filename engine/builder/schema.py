"""JSON Schema validation of YAML process definitions, with positions and plain messages.

The schema lives in ``schemas/process.schema.json`` (JSON Schema draft 2020-12) so that editors
can use it for completion and help too. :func:`schema_problems` validates a loaded
:class:`~engine.builder.yaml_source.YamlDocument` and turns every schema error into a
:class:`~engine.errors.Problem` that points at the offending key or value.

Problem codes: ``S001`` unknown key, ``S002`` missing key, ``S003`` wrong type, ``S004`` value
not allowed (pattern, choice, minimum), ``S005`` empty value.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, ValidationError

import engine
from engine.builder.yaml_source import YamlDocument, YamlPath
from engine.errors import Problem

__all__ = ["SCHEMA_PATH", "schema", "schema_instance", "schema_problems", "validator"]

SCHEMA_PATH = Path(engine.__file__).resolve().parents[1] / "schemas" / "process.schema.json"
"""Where the process definition schema is read from."""

ID_PATTERN = "^[a-z][a-z0-9_]*$"
DATE_PATTERN = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"

_PATTERN_HINTS = {
    ID_PATTERN: "not a valid id: use lowercase letters, digits and '_', starting with a letter",
    DATE_PATTERN: "not a date: write YYYY-MM-DD, e.g. 2026-12-25",
}
_TYPE_NAMES = {
    "string": "a string",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "array": "a list",
    "object": "a mapping (key: value)",
    "null": "nothing",
}
_LIST_KEYS_UP_TO = 10


@cache
def schema() -> dict[str, Any]:
    """The process definition schema (read once)."""
    with SCHEMA_PATH.open(encoding="utf-8") as handle:
        loaded: dict[str, Any] = json.load(handle)
    return loaded


@cache
def validator() -> Draft202012Validator:
    """A validator for :func:`schema` (built once)."""
    return Draft202012Validator(schema())


def schema_problems(
    doc: YamlDocument, *, against: Draft202012Validator | None = None
) -> list[Problem]:
    """Every way ``doc`` breaks the schema, located and worded for process designers.

    ``against``: the validator of another schema written in the same style (a scenario's,
    say); the process definition schema's by default. Dates read by YAML (``2026-12-25``)
    are validated as their ISO text.
    """
    checker = validator() if against is None else against
    found: list[Problem] = []
    for error in checker.iter_errors(schema_instance(doc.data)):
        found.extend(_problems(doc, error))
    return _unique_sorted(found)


def schema_instance(value: Any) -> Any:
    """``value`` as JSON Schema validates it: dates and datetimes as ISO strings (JSON Schema
    knows no dates), in mappings and lists too."""
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: schema_instance(item) for key, item in value.items()}
    if isinstance(value, list):
        return [schema_instance(item) for item in value]
    return value


# -- helpers ---------------------------------------------------------------------------------


def _unique_sorted(problems: Iterable[Problem]) -> list[Problem]:
    seen: dict[tuple[Any, ...], Problem] = {}
    for problem in problems:
        key = (problem.line, problem.column, problem.path, problem.message)
        seen.setdefault(key, problem)
    return sorted(seen.values(), key=lambda p: (p.line or 0, p.column or 0, p.path, p.message))


def _path(error: ValidationError) -> YamlPath:
    return tuple(error.absolute_path)


def _problems(doc: YamlDocument, error: ValidationError) -> list[Problem]:
    """Problems for one schema error (several for ``additionalProperties``)."""
    path = _path(error)
    keyword = error.validator
    if keyword == "additionalProperties" and isinstance(error.instance, dict):
        return _unknown_keys(doc, error, path)
    if keyword == "required" and isinstance(error.instance, dict):
        required: Any = error.validator_value
        missing = [key for key in required if key not in error.instance]
        return [doc.problem(f"missing required key {key!r}", path, code="S002") for key in missing]
    if keyword == "propertyNames":
        name = str(error.instance)
        return [doc.problem(f"invalid name {name!r}", path + (name,), code="S004", at_key=True)]
    if keyword in ("anyOf", "oneOf"):
        deeper = [e for e in error.context or () if e.relative_path]
        if deeper:
            deepest = max(deeper, key=lambda e: len(e.relative_path))
            return _problems(doc, deepest)
        return [doc.problem(_any_of_message(error), path, code=_code(error))]
    return [doc.problem(_message(error), path, code=_code(error))]


def _unknown_keys(doc: YamlDocument, error: ValidationError, path: YamlPath) -> list[Problem]:
    subschema: Any = error.schema
    known = list(subschema.get("properties", {}))
    instance: Any = error.instance
    problems = []
    for key in instance:
        if key in known:
            continue
        message = f"unknown key {key!r}"
        close = difflib.get_close_matches(str(key), known, n=1, cutoff=0.6)
        if close:
            message += f": did you mean {close[0]!r}?"
        elif len(known) <= _LIST_KEYS_UP_TO:
            message += f" (allowed here: {', '.join(known)})"
        problems.append(doc.problem(message, path + (key,), code="S001", at_key=True))
    return problems


def _code(error: ValidationError) -> str:
    keyword = error.validator
    if keyword in ("type", "anyOf", "oneOf"):
        return "S003"
    if keyword in ("minItems", "minLength", "minProperties"):
        return "S005"
    return "S004"


def _got(value: Any) -> str:
    """How a YAML value reads in a message."""
    if value is None:
        return "nothing (an empty value)"
    if isinstance(value, bool):
        return f"{str(value).lower()} (true/false)"
    if isinstance(value, (int, float)):
        return f"the number {value!r}"
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def _expected_types(types: str | Sequence[str]) -> str:
    names = [types] if isinstance(types, str) else list(types)
    return " or ".join(_TYPE_NAMES.get(name, name) for name in names)


def _examples(subschema: Any) -> str:
    if not isinstance(subschema, dict) or not subschema.get("examples"):
        return ""
    shown = ", ".join(repr(example) for example in subschema["examples"])
    return f", e.g. {shown}"


def _message(error: ValidationError) -> str:
    """A plain message for a schema error on a single value."""
    keyword = error.validator
    value = error.instance
    limit: Any = error.validator_value
    if keyword == "type":
        if not error.absolute_path and value is None:
            return "the file is empty: expected a process definition (id, name, version, stages)"
        return f"expected {_expected_types(limit)}{_examples(error.schema)}; got {_got(value)}"
    if keyword == "enum":
        choices = ", ".join(repr(choice) for choice in limit)
        return f"expected one of {choices}; got {_got(value)}"
    if keyword == "pattern":
        hint = _PATTERN_HINTS.get(str(limit), f"does not match the pattern {limit}")
        return f"{value!r} is {hint}" if str(limit) in _PATTERN_HINTS else f"{value!r} {hint}"
    if keyword == "minimum":
        return f"must be at least {limit}; got {value!r}"
    if keyword in ("minItems", "minLength", "minProperties"):
        return "must not be empty"
    return error.message


def _branch(error: ValidationError) -> str:
    """What one ``anyOf`` branch expected, from its error."""
    limit: Any = error.validator_value
    if error.validator == "type":
        return _expected_types(limit)
    if error.validator == "enum":
        return "one of " + ", ".join(repr(choice) for choice in limit)
    return error.message


def _any_of_message(error: ValidationError) -> str:
    branches: list[str] = []
    for sub in error.context or ():
        text = _branch(sub)
        if text not in branches:
            branches.append(text)
    expected = " or ".join(branches) if branches else "another kind of value"
    return f"expected {expected}{_examples(error.schema)}; got {_got(error.instance)}"
