"""The engine's error tree.

Every refused command raises a subclass of :class:`EngineError`. A bad definition raises one
:class:`DefinitionError` that lists *every* problem found, each with its location (file, line,
column and YAML path, or BPMN element id), collected first and raised once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass


class EngineError(Exception):
    """Base class of every error the engine raises on purpose.

    ``str(err)`` is the whole message: for a refused command it names the case, its status and
    the command (``case C-1 is In Progress: complete_action A-3 refused: ...``). ``detail`` is
    the reason alone, without that context (by default the whole message).
    """

    def __init__(self, *args: object, detail: str | None = None) -> None:
        super().__init__(*args)
        self.detail: str = detail if detail is not None else (str(args[0]) if args else "")


class NotFound(EngineError):
    """An unknown case, action, process, version or action type."""


class InvalidTransition(EngineError):
    """A command that the case's current status does not allow (S7)."""


class PermissionDenied(EngineError):
    """A command the definition does not permit (SC5, V3, V5, A2...)."""


class ConcurrencyConflict(EngineError):
    """Another writer changed the case between read and write."""


class FlowError(EngineError):
    """The flow cannot move on with the case's data and its definition: a condition that
    cannot be evaluated (``amount > 1000`` with ``amount = "abc"``), an exclusive or inclusive
    gateway none of whose conditions holds and that has no default flow, a task's data input
    or output missing from the case data... The message names the case, its status, the
    command refused and where the flow stopped (the stage and element by their names); the
    command changes nothing."""


class InvalidArgument(EngineError, ValueError):
    """A command given a bad value: empty actor, naive datetime, unknown status or hold kind,
    a date in the past, data that is not JSON, a count out of range..."""


@dataclass(frozen=True)
class Problem:
    """One problem found in a definition, with where it is.

    ``path`` is the YAML path (``stages[1].actions[0].due``) or, for BPMN, empty;
    ``element_id`` is the BPMN element id when the source is BPMN.
    ``severity`` is ``"error"`` or ``"warning"`` (lint).
    """

    message: str
    file: str = ""
    line: int | None = None
    column: int | None = None
    path: str = ""
    element_id: str = ""
    severity: str = "error"
    code: str = ""

    def location(self) -> str:
        parts = [self.file or "<definition>"]
        if self.line is not None:
            parts.append(str(self.line))
            if self.column is not None:
                parts.append(str(self.column))
        return ":".join(parts)

    def __str__(self) -> str:
        where = []
        if self.path:
            where.append(self.path)
        if self.element_id:
            where.append(f"element {self.element_id!r}")
        suffix = f" ({', '.join(where)})" if where else ""
        return f"{self.location()}: {self.severity}: {self.message}{suffix}"

    def as_dict(self) -> dict[str, object]:
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "path": self.path,
            "element_id": self.element_id,
            "severity": self.severity,
            "code": self.code,
            "message": self.message,
        }


class DefinitionError(EngineError):
    """A definition that cannot be deployed; lists every problem at once."""

    def __init__(self, problems: Sequence[Problem] | Problem | str, *, file: str = "") -> None:
        if isinstance(problems, str):
            problems = [Problem(problems, file=file)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems: tuple[Problem, ...] = tuple(problems)
        if not self.problems:
            raise ValueError("DefinitionError needs at least one problem")
        super().__init__(self._render())

    subject = "definition"
    """What the problems are in, as the message says it (subclasses: "scenario")."""

    def _render(self) -> str:
        n = len(self.problems)
        head = f"{n} problem{'s' if n != 1 else ''} in {self.subject}"
        files = sorted({p.file for p in self.problems if p.file})
        if files:
            head += " " + ", ".join(files)
        return head + ":\n" + "\n".join(f"  {p}" for p in self.problems)


class ProblemCollector:
    """Collects problems while a definition is read; raises them once."""

    def __init__(self, file: str = "") -> None:
        self.file = file
        self.problems: list[Problem] = []

    def add(
        self,
        message: str,
        *,
        line: int | None = None,
        column: int | None = None,
        path: str = "",
        element_id: str = "",
        code: str = "",
        severity: str = "error",
    ) -> None:
        self.problems.append(
            Problem(
                message,
                file=self.file,
                line=line,
                column=column,
                path=path,
                element_id=element_id,
                severity=severity,
                code=code,
            )
        )

    def extend(self, problems: Iterable[Problem]) -> None:
        self.problems.extend(problems)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    def raise_if_any(self) -> None:
        errors = self.errors
        if errors:
            raise DefinitionError(errors)
