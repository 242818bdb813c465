"""The process definitions a scenario names, loaded once for its base and every variant.

:class:`Definitions` loads each definition file (:func:`engine.builder.loader.load_file`)
with the process ids of all the scenario's files known (for sub-case checks), keeps its
problems, and compiles each definition for the simulator once per case settings
(:func:`engine.simulation.compile.sim_process`). :class:`ScenarioProcess` is one process of a
scenario while the scenario is being checked.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.builder.bpmn_xml import parse_xml
from engine.builder.loader import load_file, read_source
from engine.builder.namespaces import BPMN_NS
from engine.builder.yaml_source import load_yaml
from engine.errors import DefinitionError, Problem
from engine.model import ActionDef, ProcessDefinition, ProcessModel
from engine.simulation.compile import sim_process
from engine.simulation.scenario_model import ProcessParams, SimProcess

__all__ = ["Definitions", "LoadedDefinition", "ScenarioProcess"]


@dataclass
class LoadedDefinition:
    """A definition file, loaded: its definition, or None and the problems it has."""

    definition: ProcessDefinition | None
    problems: tuple[Problem, ...] = ()


class Definitions:
    """Definition files of a scenario, loaded once for the base and every variant."""

    def __init__(self, base_dir: Path) -> None:
        self.base_dir = base_dir
        self._ids: dict[Path, tuple[str, ...]] = {}
        self._loaded: dict[tuple[Path, frozenset[str]], LoadedDefinition] = {}
        self._sims: dict[tuple[int, tuple[tuple[str, Any], ...]], SimProcess] = {}

    def path(self, name: str) -> Path:
        """The file a scenario names ``name`` (relative to the scenario's directory)."""
        return Path(os.path.normpath(self.base_dir / name))

    def ids(self, path: Path) -> tuple[str, ...]:
        """Process ids a definition file declares, read cheaply (for sub-case checks);
        nothing when it cannot be read (loading it reports why)."""
        if path not in self._ids:
            self._ids[path] = _peek_ids(path)
        return self._ids[path]

    def load(self, path: Path, known: frozenset[str]) -> LoadedDefinition:
        """The definition of file ``path``, sub-cases checked against ``known`` ids."""
        key = (path, known)
        if key not in self._loaded:
            try:
                result = load_file(path, known_processes=known)
            except DefinitionError as err:
                self._loaded[key] = LoadedDefinition(None, err.problems)
            else:
                self._loaded[key] = LoadedDefinition(result.definition)
        return self._loaded[key]

    def sim(self, definition: ProcessDefinition, settings: Mapping[str, Any]) -> SimProcess:
        """``definition`` compiled for the simulator with case ``settings`` overridden."""
        key = (id(definition), tuple(sorted(settings.items())))
        if key not in self._sims:
            self._sims[key] = sim_process(definition, settings)
        return self._sims[key]


def _peek_ids(path: Path) -> tuple[str, ...]:
    if not path.is_file():
        return ()
    try:
        data = read_source(path)
        if path.suffix.lower() in (".yaml", ".yml"):
            found = load_yaml(data, str(path)).data
            pid = found.get("id") if isinstance(found, dict) else None
            return (pid,) if isinstance(pid, str) else ()
        root = parse_xml(data, str(path))
    except DefinitionError:
        return ()
    return tuple(el.get("id") or "" for el in root if el.tag == f"{{{BPMN_NS}}}process")


@dataclass
class ScenarioProcess:
    """A process of the scenario while it is being checked: its definition, where the
    scenario names its file (``definitions[index]``), and what is read for it so far."""

    definition: ProcessDefinition
    index: int
    sim: SimProcess | None = None
    params: ProcessParams | None = None

    @property
    def model(self) -> ProcessModel:
        """The definition's model."""
        return self.definition.model

    def flow_actions(self) -> list[ActionDef]:
        """Actions the flow runs with a resource (not out of the flow, not sub-case steps)."""
        return [a for a in self.model.all_actions() if a.flow and a.subcase is None]
