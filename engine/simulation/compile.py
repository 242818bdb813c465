"""Turn a deployed caseloom definition into the simulator's :class:`SimProcess`.

The graph is read from ``definition.bpmn``: the very BPMN the runtime executes (compiled from
YAML, or hand-written), so stage conditions, parallel stages and sub-case steps mean the same
in both. ``settings`` overrides case settings of the definition for a what-if variant (e.g.
``add_wait_time_to_due_date: false``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from engine.builder.bpmn_xml import parse_xml
from engine.errors import DefinitionError, Problem
from engine.model import CaseSettings, ProcessDefinition, ProcessModel
from engine.simulation.graph import read_graph
from engine.simulation.scenario_model import SimProcess

SETTING_NAMES: frozenset[str] = frozenset(f.name for f in dataclasses.fields(CaseSettings))
"""Case settings a scenario may override."""


def with_settings(model: ProcessModel, settings: Mapping[str, Any] | None) -> ProcessModel:
    """``model`` with some case settings replaced (a what-if variant)."""
    if not settings:
        return model
    unknown = sorted(set(settings) - SETTING_NAMES)
    if unknown:
        raise DefinitionError(
            Problem(
                f"process {model.id!r} has no case setting {', '.join(map(repr, unknown))} "
                f"(settings: {', '.join(sorted(SETTING_NAMES))})"
            )
        )
    return dataclasses.replace(model, settings=dataclasses.replace(model.settings, **settings))


def sim_process(
    definition: ProcessDefinition, settings: Mapping[str, Any] | None = None
) -> SimProcess:
    """The simulator's view of ``definition`` (case settings optionally overridden)."""
    root = parse_xml(definition.bpmn, definition.source or f"{definition.id}.bpmn")
    graph = read_graph(root, definition.source, definition.id)
    model = with_settings(definition.model, settings)
    labels = {a.id: a.title for a in model.all_actions()}
    return SimProcess(
        id=definition.id,
        graph=graph,
        model=model,
        task_actions=dict(definition.task_actions),
        labels=labels,
        task_stages=dict(definition.task_stages),
        stage_entries=dict(definition.stage_entries),
        source=definition.source,
    )
