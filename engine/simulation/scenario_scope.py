"""What the checks of one scenario document share: the document, its processes and
calendars, the problems found so far, and the look-ups that report unknown names.

:class:`ScenarioScope` is the base of the checks (:mod:`.scenario_params`,
:mod:`.scenario_resources`) that :class:`~.scenario_reader.ScenarioReader` puts together.
The small readers of values here look only at well-typed values: the schema reports the rest.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any

from engine.builder.yaml_source import YamlDocument, YamlPath
from engine.errors import Problem
from engine.model import ActionDef, CalendarDef
from engine.simulation.scenario_definitions import Definitions, ScenarioProcess

__all__ = [
    "DeclaredPool",
    "ScenarioScope",
    "as_mapping",
    "as_number",
    "as_probability",
    "did_you_mean",
    "list_items",
    "quoted",
]


@dataclass(frozen=True)
class DeclaredPool:
    """A resource pool as the document writes it, read loosely: the qualified actions it
    names (a bare id meaning that action of every process), whether it is a robot pool, and
    whether its ``actions`` is a list at all (else the schema reports it)."""

    actions: frozenset[str]
    robot: bool
    listed: bool


class ScenarioScope:
    """One scenario document (the base or a merged variant) while it is being checked."""

    def __init__(self, doc: YamlDocument, definitions: Definitions) -> None:
        self.doc = doc
        self.data = as_mapping(doc.data)
        self.definitions = definitions
        self.problems: list[Problem] = []
        self.processes: dict[str, ScenarioProcess] = {}
        self.complete = True  # every definition loaded: "unknown ..." checks are reliable
        self.calendars: dict[str, CalendarDef | None] = {}  # scenario's; None = invalid
        self.used_calendars: dict[str, CalendarDef] = {}

    def add(self, message: str, path: YamlPath, code: str, *, at_key: bool = False) -> None:
        """Record a problem at ``path`` of the document."""
        self.problems.append(self.doc.problem(message, path, code=code, at_key=at_key))

    def process(self, pid: Any, path: YamlPath, *, at_key: bool = False) -> ScenarioProcess | None:
        """The scenario process ``pid``; a problem when it is not one (and all loaded)."""
        if not isinstance(pid, str):
            return None
        found = self.processes.get(pid)
        if found is None and self.complete:
            self.add(
                f"unknown process {pid!r}{did_you_mean(pid, self.processes)} "
                f"(processes of the scenario: {quoted(self.processes)})",
                path,
                "M004",
                at_key=at_key,
            )
        return found

    def action(
        self, proc: ScenarioProcess, action_id: Any, path: YamlPath, *, at_key: bool = False
    ) -> ActionDef | None:
        """Action ``action_id`` of ``proc``; a problem when it has none."""
        if not isinstance(action_id, str):
            return None
        found = proc.model.action(action_id)
        if found is None:
            ids = [a.id for a in proc.model.all_actions()]
            self.add(
                f"unknown action {action_id!r} of process {proc.model.id!r}"
                f"{did_you_mean(action_id, ids)} (its actions: {quoted(ids)})",
                path,
                "M005",
                at_key=at_key,
            )
        return found

    def calendar(self, name: Any, path: YamlPath, *, what: str = "") -> CalendarDef | None:
        """Calendar ``name`` (scenario's, else the processes'), recorded as used; problems
        for an unknown, ambiguous or (with ``what``) non-working calendar."""
        if not isinstance(name, str):
            return None
        if name in self.calendars:
            found = self.calendars[name]
        else:
            candidates = {
                cal
                for proc in self.processes.values()
                if (cal := proc.model.calendar(name)) is not None
            }
            if len(candidates) > 1:
                self.add(
                    f"calendar {name!r} is defined differently by several processes: "
                    "define it under 'calendars' of the scenario",
                    path,
                    "M007",
                )
                return None
            found = next(iter(candidates), None)
            if found is None:
                if self.complete:
                    known = sorted({*self.calendars, *self._process_calendar_names()})
                    self.add(
                        f"unknown calendar {name!r}{did_you_mean(name, known)} "
                        f"(calendars: {quoted(known)})",
                        path,
                        "M007",
                    )
                return None
        if found is None:
            return None  # invalid scenario calendar: reported where it is defined
        if what and not found.periods:
            self.add(f"{what} has no working hours in calendar {name!r}", path, "M008")
        self.used_calendars[name] = found
        return found

    def declared_pools(self) -> dict[str, DeclaredPool]:
        """Every pool of ``resources`` by name, read from the document: a pool with a
        problem (reported) still counts, so that its actions are not also said to have no
        resource or no duration."""
        out: dict[str, DeclaredPool] = {}
        for name, body in as_mapping(self.data.get("resources")).items():
            actions = as_mapping(body).get("actions")
            keys: set[str] = set()
            for _, item in list_items(actions):
                if isinstance(item, str) and "." in item:
                    keys.add(item)
                elif isinstance(item, str):
                    keys.update(f"{pid}.{item}" for pid in self.processes)
            robot = as_mapping(body).get("robot") is True
            out[name] = DeclaredPool(frozenset(keys), robot, isinstance(actions, list))
        return out

    def _process_calendar_names(self) -> set[str]:
        known = {"office"}
        for proc in self.processes.values():
            known.update(cal.name for cal in proc.model.calendars)
        return known


def as_mapping(value: Any) -> dict[str, Any]:
    """``value`` when it is a mapping, else an empty one."""
    return value if isinstance(value, dict) else {}


def list_items(value: Any) -> list[tuple[int, Any]]:
    """The indexed items of ``value`` when it is a list, else none."""
    return list(enumerate(value)) if isinstance(value, list) else []


def as_number(value: Any) -> float | None:
    """``value`` when it is a finite number (not a boolean), else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def as_probability(value: Any) -> float | None:
    """``value`` when it is a number from 0 to 1, else None."""
    found = as_number(value)
    return found if found is not None and 0 <= found <= 1 else None


def quoted(values: Iterable[str]) -> str:
    """``values`` quoted and listed for a message (``none`` when there are none)."""
    return ", ".join(repr(v) for v in values) or "none"


def did_you_mean(name: str, choices: Collection[str]) -> str:
    """``: did you mean 'x'?`` for the choice closest to a mistyped ``name``, or nothing."""
    close = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.6)
    return f": did you mean {close[0]!r}?" if close else ""
