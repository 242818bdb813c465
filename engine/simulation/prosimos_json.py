"""Reading a Prosimos JSON parameter file, with every mismatch located at its JSON path.

:func:`read_json_file` loads the file (a file that cannot be read or parsed is one
:class:`DefinitionError` at once); :class:`JsonReader` then gives typed access to the loaded
value and turns each mismatch into a problem at its JSON path (e.g.
``task_resource_distribution[2].resources[0].distribution_params[1].value``), so that the
import (:mod:`engine.simulation.prosimos`) reports every problem of the file in one go.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypeVar

from engine.errors import DefinitionError, Problem, ProblemCollector

__all__ = ["JsonReader", "join_path", "kind_of", "read_json_file", "string_values"]

_T = TypeVar("_T")


def read_json_file(file: str) -> object:
    """The parsed content of ``file``; raises :class:`DefinitionError` when it cannot be read
    (missing, not UTF-8) or is not JSON (with the line and column of the fault)."""
    try:
        text = Path(file).read_text(encoding="utf-8")
    except OSError as exc:
        raise DefinitionError(
            Problem(f"cannot read the JSON file: {exc.strerror}", file=file)
        ) from exc
    except UnicodeDecodeError as exc:
        raise DefinitionError(
            Problem(f"the JSON file is not UTF-8: {exc.reason}", file=file)
        ) from exc
    try:
        data: object = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DefinitionError(
            Problem(f"malformed JSON: {exc.msg}", file=file, line=exc.lineno, column=exc.colno)
        ) from exc
    return data


class JsonReader:
    """Typed access to the loaded JSON; every mismatch becomes a problem at its JSON path."""

    def __init__(self, problems: ProblemCollector) -> None:
        self.problems = problems

    def add(self, path: str, message: str, element_id: str = "") -> None:
        """Report ``message`` at JSON ``path`` (about BPMN element ``element_id``, if any)."""
        self.problems.add(message, path=path, element_id=element_id)

    def obj(self, value: object, path: str) -> dict[str, Any] | None:
        """``value`` if it is an object; None (reported) otherwise."""
        if isinstance(value, dict):
            return value
        self.add(path, f"expected an object, found {kind_of(value)}")
        return None

    def items(self, value: object, path: str) -> Iterator[tuple[str, Any]]:
        """The (path, item) pairs of a list; nothing (reported) when ``value`` is no list."""
        if not isinstance(value, list):
            self.add(path, f"expected a list, found {kind_of(value)}")
            return
        for index, item in enumerate(value):
            yield f"{path}[{index}]", item

    def objects(self, value: object, path: str) -> Iterator[tuple[str, dict[str, Any]]]:
        """The (path, object) pairs of a list of objects; other items are reported."""
        for item_path, item in self.items(value, path):
            obj = self.obj(item, item_path)
            if obj is not None:
                yield item_path, obj

    def section(self, root: dict[str, Any], key: str) -> Iterator[tuple[str, dict[str, Any]]]:
        """The (path, object) pairs of the list ``root[key]``, a section the file must have
        (reported when missing)."""
        value = self.required(root, key, "")
        if value is not None:
            yield from self.objects(value, key)

    def required(self, obj: dict[str, Any], key: str, path: str) -> object:
        """``obj[key]``; None (reported at ``path``) when the key is missing."""
        if key not in obj:
            self.add(path, f"missing {key!r}")
            return None
        return obj[key]

    def text(self, obj: dict[str, Any], key: str, path: str) -> str | None:
        """``obj[key]`` as a non-empty string; None (reported) when missing or not one."""
        if key not in obj:
            self.add(path, f"missing {key!r}")
            return None
        value = obj[key]
        if isinstance(value, str) and value:
            return value
        self.add(join_path(path, key), f"expected a non-empty string, found {kind_of(value)}")
        return None

    def number(self, value: object, path: str) -> float | None:
        """A finite number; numeric strings are accepted as Prosimos's ``float()`` does."""
        number: float | None = None
        if isinstance(value, int | float) and not isinstance(value, bool):
            number = float(value)
        elif isinstance(value, str):
            try:
                number = float(value)
            except ValueError:
                number = None
        if number is None or not math.isfinite(number):
            self.add(path, f"expected a finite number, found {kind_of(value)}")
            return None
        return number

    def define_once(self, table: dict[str, _T], name: str, value: _T, path: str, what: str) -> None:
        """Enter ``value`` as ``table[name]``, or report ``what`` ``name`` defined twice (at
        the ``id`` of the object at ``path``) when the name is taken."""
        if name in table:
            self.add(join_path(path, "id"), f"{what} {name!r} is defined twice")
            return
        table[name] = value


def join_path(path: str, key: str) -> str:
    """The JSON path of ``key`` inside the object at ``path`` (``""`` is the root)."""
    return f"{path}.{key}" if path else key


def kind_of(value: object) -> str:
    """``value`` as a problem message shows what was found instead of what was expected."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, str):
        return repr(value) if len(value) <= 40 else "a string"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def string_values(value: object, key: str) -> set[str]:
    """The string ``key`` values of the objects of a list, read quietly (for sections whose
    problems were reported where they are)."""
    if not isinstance(value, list):
        return set()
    return {e[key] for e in value if isinstance(e, dict) and isinstance(e.get(key), str)}
