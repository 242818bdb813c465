"""Load a process definition from YAML or BPMN into one immutable ProcessDefinition.

There is one execution path: YAML is validated into a :class:`ProcessModel`, compiled to BPMN,
and that BPMN is parsed exactly like a hand-written one. The runtime only ever sees the result.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from engine.builder.bpmn_model import BpmnReading, read_model
from engine.builder.bpmn_xml import MAX_XML_BYTES, parse_xml
from engine.builder.compiler import compile_model
from engine.builder.lint import lint
from engine.builder.spiff_parser import SpiffSpecs, build_specs
from engine.builder.yaml_definition import model_from_document
from engine.builder.yaml_source import load_yaml
from engine.errors import DefinitionError, Problem
from engine.model import ProcessDefinition

YAML_SUFFIXES = (".yaml", ".yml")
BPMN_SUFFIXES = (".bpmn", ".bpmn20.xml", ".xml")
MAX_SOURCE_BYTES = MAX_XML_BYTES

T = TypeVar("T")


def source_kind(file: str) -> str:
    """``"yaml"`` or ``"bpmn"`` from a file name; DefinitionError for anything else."""
    lower = file.lower()
    if lower.endswith(YAML_SUFFIXES):
        return "yaml"
    if lower.endswith(BPMN_SUFFIXES):
        return "bpmn"
    raise DefinitionError(
        Problem(f"unknown definition file type (expected .yaml, .yml or .bpmn): {file}", file=file)
    )


def read_source(path: str | Path) -> bytes:
    """Read a definition file, refusing missing, non-regular or oversized files."""
    p = Path(path)
    file = str(path)
    if not p.is_file():
        raise DefinitionError(Problem("no such definition file", file=file))
    size = p.stat().st_size
    if size > MAX_SOURCE_BYTES:
        raise DefinitionError(
            Problem(f"file is {size} bytes; the limit is {MAX_SOURCE_BYTES} bytes", file=file)
        )
    return p.read_bytes()


def _collect(problems: list[Problem], step: Callable[[], T]) -> T | None:
    """Run one validation step, keeping its DefinitionError's problems for a single raise."""
    try:
        return step()
    except DefinitionError as err:
        problems.extend(err.problems)
        return None


@dataclass(frozen=True)
class LoadResult:
    """A definition with the lint warnings found while loading it."""

    definition: ProcessDefinition
    warnings: tuple[Problem, ...]


def load_source(
    data: bytes,
    file: str,
    *,
    kind: str | None = None,
    known_processes: Collection[str] | None = None,
    extra_bpmn: Sequence[tuple[bytes, str]] = (),
) -> LoadResult:
    """Validate, compile (YAML) and parse a definition given as bytes.

    ``known_processes``: ids of the processes deployed beside this one, used to check sub-case
    references; ``None`` skips that check. ``extra_bpmn``: other BPMN files (bytes, name)
    holding processes that this one calls (``bpmn:callActivity``).
    """
    kind = kind or source_kind(file)
    if kind == "yaml":
        doc = load_yaml(data, file)
        model = model_from_document(doc, known_processes=known_processes)
        warnings = lint(model, doc, file)
        bpmn = compile_model(model)
        root = parse_xml(bpmn, file)
        reading = read_model(root, file, model.id)
        if reading.model != model:
            raise AssertionError(
                f"compiler round trip changed the model of {file}: this is a caseloom bug"
            )
        specs = build_specs(root, file, model.id)
        return LoadResult(_definition(reading, specs, bpmn, file), (*warnings, *specs.warnings))
    if kind != "bpmn":
        raise ValueError(f"kind must be 'yaml' or 'bpmn', not {kind!r}")
    root = parse_xml(data, file)
    extra_roots = [(parse_xml(xml, name), name) for xml, name in extra_bpmn]
    problems: list[Problem] = []
    reading_or_none = _collect(problems, lambda: read_model(root, file))
    process_id = reading_or_none.model.id if reading_or_none else None
    specs_or_none = None
    if process_id is not None:
        specs_or_none = _collect(
            problems, lambda: build_specs(root, file, process_id, extra_roots=extra_roots)
        )
    if reading_or_none is not None:
        problems.extend(_unknown_subcases(reading_or_none, file, known_processes))
    if problems or reading_or_none is None or specs_or_none is None:
        raise DefinitionError(problems)
    return LoadResult(
        _definition(reading_or_none, specs_or_none, data, file),
        (*lint(reading_or_none.model, None, file), *specs_or_none.warnings),
    )


def _unknown_subcases(
    reading: BpmnReading, file: str, known: Collection[str] | None
) -> list[Problem]:
    if known is None:
        return []
    model = reading.model
    allowed = set(known) | {model.id}
    problems = []
    for name in model.settings.subcases:
        if name not in allowed:
            problems.append(Problem(f"sub-case process {name!r} is not deployed", file=file))
    for action in model.all_actions():
        if action.subcase and action.subcase not in allowed:
            problems.append(
                Problem(
                    f"action {action.id!r} starts sub-case process {action.subcase!r}, "
                    "which is not deployed",
                    file=file,
                    element_id=f"Action_{action.id}",
                )
            )
    return problems


def _definition(
    reading: BpmnReading, specs: SpiffSpecs, bpmn: bytes, file: str
) -> ProcessDefinition:
    return ProcessDefinition(
        model=reading.model,
        bpmn=bpmn,
        spec=specs.spec,
        subprocess_specs=dict(specs.subprocess_specs),
        source=file,
        digest=hashlib.sha256(bpmn).hexdigest(),
        task_actions=dict(reading.task_actions),
        task_stages=dict(reading.task_stages),
        stage_entries=dict(reading.stage_entries),
    )


def load_file(
    path: str | Path,
    *,
    known_processes: Collection[str] | None = None,
    extra_files: Sequence[str | Path] = (),
) -> LoadResult:
    """Load a definition file (``.yaml``/``.yml``/``.bpmn``)."""
    file = str(path)
    extra = [(read_source(p), str(p)) for p in extra_files]
    return load_source(read_source(path), file, known_processes=known_processes, extra_bpmn=extra)


def load_definition(
    path: str | Path, *, known_processes: Collection[str] | None = None
) -> ProcessDefinition:
    """Load a definition file and return only the ProcessDefinition."""
    return load_file(path, known_processes=known_processes).definition


def bpmn_text(definition: ProcessDefinition) -> str:
    """The definition's BPMN as text (for display and export)."""
    return definition.bpmn.decode("utf-8")
