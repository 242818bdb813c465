"""Checking definition files together, as ``caseloom check`` does.

Each file is loaded like a deployment would load it (:func:`~engine.builder.loader.load_file`),
and the files are also checked against each other:

* a sub-case process that none of the files defines is a warning (W016), not an error: a
  static check cannot know what will be deployed, only that the process must be deployed
  before a case creates such a sub-case (deployment itself accepts any order);
* two files defining the same process id and version are an error (``E-VERSION``) in each of
  them, naming both files and the line of the id in each: a deployment keeps one definition
  per id and version and refuses a second with other content. Two files whose definitions
  are identical (a YAML file and the BPMN compiled from it) are not reported: deploying the
  second changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from engine.builder.bpmn_model import case_element, select_process
from engine.builder.bpmn_xml import parse_xml, source_line
from engine.builder.loader import load_source, read_source, source_kind
from engine.builder.yaml_source import load_yaml
from engine.errors import DefinitionError, Problem

__all__ = ["CODE_SAME_VERSION", "FileCheck", "check_files"]

CODE_SAME_VERSION = "E-VERSION"
"""Two definitions with the same id and version (the code deployment gives the conflict)."""


@dataclass(frozen=True)
class FileCheck:
    """What checking one file found: errors and warnings, in file order."""

    file: str
    problems: tuple[Problem, ...]

    @property
    def ok(self) -> bool:
        """True when the file has no error (warnings allowed)."""
        return all(p.severity != "error" for p in self.problems)


@dataclass(frozen=True)
class _Identity:
    """Which process and version a file defines, and where its id is written."""

    process: str
    version: int
    line: int | None
    column: int | None
    path: str
    element_id: str


def check_files(files: Iterable[str | Path]) -> list[FileCheck]:
    """Check ``files`` as one set (a file named twice is checked once)."""
    unique: dict[Path, str] = {}
    for file in files:
        unique.setdefault(Path(file).resolve(), str(file))
    names = list(unique.values())
    found: dict[str, list[Problem]] = {}
    sources: dict[str, bytes] = {}
    for name in names:
        try:
            sources[name] = read_source(name)
        except DefinitionError as err:
            found[name] = list(err.problems)
    identities = {name: _identify(name, sources.get(name)) for name in names}
    known = {identity.process for identity in identities.values() if identity is not None}
    digests: dict[str, str] = {}
    for name, data in sources.items():
        try:
            result = load_source(data, name, known_processes=known, unknown_subcases="warning")
        except DefinitionError as err:
            found[name] = list(err.problems)
            continue
        found[name] = list(result.warnings)
        digests[name] = result.definition.digest
    for name, problem in _same_versions(identities, digests):
        found[name].append(problem)
    return [
        FileCheck(name, tuple(sorted(found[name], key=lambda p: (p.line or 0, p.column or 0))))
        for name in names
    ]


def _same_versions(
    identities: dict[str, _Identity | None], digests: dict[str, str]
) -> list[tuple[str, Problem]]:
    """An error in each file of a group defining the same id and version."""
    groups: dict[tuple[str, int], list[str]] = {}
    for name, identity in identities.items():
        if identity is not None:
            groups.setdefault((identity.process, identity.version), []).append(name)
    found = []
    for (process, version), group in groups.items():
        if len(group) < 2:
            continue
        if all(name in digests for name in group) and len({digests[n] for n in group}) == 1:
            continue  # the same definition twice: deploying the second is a no-op
        places = _enumerate([_where(name, identities[name]) for name in group])
        message = (
            f"process {process!r} version {version} is defined in {places}: deploying these "
            "files together fails, since a deployment keeps one definition per id and version; "
            "give each its own version (or id)"
        )
        for name in group:
            identity = identities[name]
            assert identity is not None
            found.append(
                (
                    name,
                    Problem(
                        message,
                        file=name,
                        line=identity.line,
                        column=identity.column,
                        path=identity.path,
                        element_id=identity.element_id,
                        code=CODE_SAME_VERSION,
                    ),
                )
            )
    return found


def _where(name: str, identity: _Identity | None) -> str:
    line = identity.line if identity is not None else None
    return f"{name}:{line}" if line is not None else name


def _enumerate(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _identify(file: str, data: bytes | None) -> _Identity | None:
    """The process id and version a file declares, read without validating the rest; None when
    the file cannot say (loading it reports why)."""
    if data is None:
        return None
    try:
        if source_kind(file) == "yaml":
            return _identify_yaml(data, file)
        return _identify_bpmn(data, file)
    except DefinitionError:
        return None


def _identify_yaml(data: bytes, file: str) -> _Identity | None:
    doc = load_yaml(data, file)
    if not isinstance(doc.data, dict):
        return None
    process, version = doc.data.get("id"), doc.data.get("version")
    if not isinstance(process, str) or not isinstance(version, int) or isinstance(version, bool):
        return None
    line, column = doc.position(("id",))
    return _Identity(process, version, line, column, "id", "")


def _identify_bpmn(data: bytes, file: str) -> _Identity | None:
    process = select_process(parse_xml(data, file), file)
    ident = process.get("id")
    if not ident:
        return None
    version = 1  # a plain BPMN process (no caseloom:case) is version 1
    case = case_element(process)
    if case is not None:
        raw = (case.get("version") or "1").strip()
        if not raw.isdigit():
            return None
        version = int(raw)
    return _Identity(ident, version, source_line(process), None, "", ident)
