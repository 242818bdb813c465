"""BPMN ids of a definition's stage gateways, looked up generically for tests.

Tests must not hard-code the compiler's naming scheme (``Stage_3_entry``, ``Flow_9``): the
ids are read here straight from the definition, on their own (not with the code under
test): the stage listing gives the stage's entry element; of the sequence flows leaving it,
the one whose conditionExpression is the stage's condition enters the stage and the
gateway's default flow skips it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from engine.builder.loader import load_definition
from engine.builder.namespaces import BPMN_NS
from engine.model import ProcessDefinition

PROCESSES = Path(__file__).resolve().parents[1] / "processes"


@dataclass(frozen=True)
class StageIds:
    """The gateway at a stage's entry and its ``enter`` and ``skip`` flows."""

    gateway: str
    enter: str
    skip: str


def stage_ids(definition: ProcessDefinition, stage_name: str) -> StageIds:
    """The ids of the stage named ``stage_name`` (it must have a condition)."""
    [number] = [n for n, s in enumerate(definition.model.stages, start=1) if s.name == stage_name]
    condition = definition.model.stages[number - 1].condition
    assert condition is not None, f"stage {stage_name!r} has no condition"
    entry = definition.stage_entries[number]
    root = etree.fromstring(definition.bpmn)
    [gateway] = [el for el in root.iter(f"{{{BPMN_NS}}}exclusiveGateway") if el.get("id") == entry]
    enter = skip = None
    for flow in root.iter(f"{{{BPMN_NS}}}sequenceFlow"):
        if flow.get("sourceRef") != entry:
            continue
        expression = flow.find(f"{{{BPMN_NS}}}conditionExpression")
        if expression is not None and (expression.text or "").strip() == condition.strip():
            enter = flow.get("id")
        elif flow.get("id") == gateway.get("default"):
            skip = flow.get("id")
    assert enter is not None and skip is not None, (entry, enter, skip)
    return StageIds(entry, enter, skip)


def claim_stage(stage_name: str) -> StageIds:
    """:func:`stage_ids` of a stage of ``processes/claim.yaml``."""
    return stage_ids(load_definition(PROCESSES / "claim.yaml"), stage_name)


def task_of(definition: ProcessDefinition, action_id: str) -> str:
    """The BPMN task element id of action ``action_id``."""
    [task] = [t for t, a in definition.task_actions.items() if a == action_id]
    return task
