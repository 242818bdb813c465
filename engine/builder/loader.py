"""Load a process definition from YAML or BPMN into one immutable ProcessDefinition.

There is one execution path: YAML is validated into a :class:`ProcessModel`, compiled to BPMN,
and that BPMN is parsed exactly like a hand-written one. The runtime only ever sees the result.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Literal, TypeVar

from lxml import etree

from engine.builder.bpmn_model import BpmnReading, read_model, select_process
from engine.builder.bpmn_xml import MAX_XML_BYTES, parse_xml
from engine.builder.compiler import compile_model
from engine.builder.lint import BpmnPlaces, lint
from engine.builder.spiff_parser import SpiffSpecs, build_specs, check_bpmn
from engine.builder.yaml_definition import model_from_document
from engine.builder.yaml_source import load_yaml
from engine.errors import DefinitionError, Problem
from engine.model import ProcessDefinition

YAML_SUFFIXES = (".yaml", ".yml")
BPMN_SUFFIXES = (".bpmn", ".bpmn20.xml", ".xml")
MAX_SOURCE_BYTES = MAX_XML_BYTES

T = TypeVar("T")

UnknownSubcases = Literal["error", "warning"]
"""What a sub-case process missing from ``known_processes`` is (see :func:`load_source`)."""


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
    unknown_subcases: UnknownSubcases = "error",
    extra_bpmn: Sequence[tuple[bytes, str]] = (),
) -> LoadResult:
    """Validate, compile (YAML) and parse a definition given as bytes.

    ``known_processes``: ids of the processes beside this one, used to check sub-case
    references; ``None`` skips that check. ``unknown_subcases`` says what a sub-case process
    missing from them is: ``"error"`` (E012, the definition is refused: for the set of processes
    deployed) or ``"warning"`` (W016: for a static check of some files, which cannot know what
    will be deployed). ``extra_bpmn``: other BPMN files (bytes, name) holding processes that
    this one calls (``bpmn:callActivity``).

    Every problem of a BPMN file is reported at once: the case model's checks
    (:func:`~engine.builder.bpmn_model.read_model`) beside caseloom's checks of what would run
    (:func:`~engine.builder.spiff_parser.check_bpmn`); SpiffWorkflow's own parser, which stops
    at its first error, runs only when they found nothing.
    """
    if unknown_subcases not in ("error", "warning"):
        raise ValueError(f"unknown_subcases must be 'error' or 'warning', not {unknown_subcases!r}")
    refused = known_processes if unknown_subcases == "error" else None
    warned = known_processes if unknown_subcases == "warning" else None
    kind = kind or source_kind(file)
    if kind == "yaml":
        doc = load_yaml(data, file)
        model = model_from_document(doc, known_processes=refused)
        warnings = lint(model, doc, file, known_processes=warned)
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
    return _load_bpmn(data, file, extra_bpmn, refused, warned)


def _load_bpmn(
    data: bytes,
    file: str,
    extra_bpmn: Sequence[tuple[bytes, str]],
    refused: Collection[str] | None,
    warned: Collection[str] | None,
) -> LoadResult:
    """A BPMN definition: every independent check runs, their problems are raised together."""
    root = parse_xml(data, file)
    problems: list[Problem] = []
    extra_roots: list[tuple[etree._Element, str]] = []
    for xml, name in extra_bpmn:
        extra_root = _collect(problems, partial(parse_xml, xml, name))
        if extra_root is not None:
            extra_roots.append((extra_root, name))
    process = _collect(problems, partial(select_process, root, file))
    if process is None:
        raise DefinitionError(problems)
    process_id = process.get("id", "")
    reading = _collect(
        problems, partial(read_model, root, file, process_id, check_conditions=False)
    )
    if len(extra_roots) == len(extra_bpmn):  # else calls into a broken file look unresolved
        problems.extend(check_bpmn(root, file, process_id, extra_roots=extra_roots))
    if reading is not None:
        problems.extend(_unknown_subcases(reading, process, file, refused))
    if problems or reading is None:
        raise DefinitionError(sorted(problems, key=lambda p: (p.file != file, p.line or 0)))
    specs = build_specs(root, file, process_id, extra_roots=extra_roots)
    warnings = lint(reading.model, None, file, process=process, known_processes=warned)
    return LoadResult(_definition(reading, specs, data, file), (*warnings, *specs.warnings))


def _unknown_subcases(
    reading: BpmnReading, process: etree._Element, file: str, known: Collection[str] | None
) -> list[Problem]:
    """E012 for each sub-case process (permission or step) that is not among ``known``."""
    if known is None:
        return []
    model = reading.model
    allowed = set(known) | {model.id}
    places = BpmnPlaces(process, model)
    problems = []

    def problem(message: str, path: tuple[str | int, ...]) -> Problem:
        line, element_id = places.locate(path)
        return Problem(message, file=file, line=line, element_id=element_id, code="E012")

    for i, name in enumerate(model.settings.subcases):
        if name not in allowed:
            problems.append(problem(f"sub-case process {name!r} is not deployed", ("subcases", i)))
    for s, stage in enumerate(model.stages):
        for a, action in enumerate(stage.actions):
            if action.subcase and action.subcase not in allowed:
                problems.append(
                    problem(
                        f"action {action.id!r} starts sub-case process {action.subcase!r}, "
                        "which is not deployed",
                        ("stages", s, "actions", a, "subcase"),
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
    unknown_subcases: UnknownSubcases = "error",
    extra_files: Sequence[str | Path] = (),
) -> LoadResult:
    """Load a definition file (``.yaml``/``.yml``/``.bpmn``); see :func:`load_source`."""
    file = str(path)
    extra = [(read_source(p), str(p)) for p in extra_files]
    return load_source(
        read_source(path),
        file,
        known_processes=known_processes,
        unknown_subcases=unknown_subcases,
        extra_bpmn=extra,
    )


def load_definition(
    path: str | Path, *, known_processes: Collection[str] | None = None
) -> ProcessDefinition:
    """Load a definition file and return only the ProcessDefinition."""
    return load_file(path, known_processes=known_processes).definition


def bpmn_text(definition: ProcessDefinition) -> str:
    """The definition's BPMN as text (for display and export)."""
    return definition.bpmn.decode("utf-8")
