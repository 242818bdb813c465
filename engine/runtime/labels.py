"""Human names of stages, action types and BPMN elements, for run-time messages.

Messages name things the way the people reading them know them: a stage by its number and
name (``stage 2 "Fraud screening"``), an action type by its title, a BPMN element by its name
with its stage. Element ids (``Stage_2_entry``, ``Gateway_1``) only follow in parentheses, for
whoever needs to find the element in a modeler; they are never the only name given when a
name exists.

Everything is derived from the definition (its stage listing ``stage_entries``, the element
stages ``task_stages`` and the element actions ``task_actions``), never from how the compiler
happens to name its ids.
"""

from __future__ import annotations

from engine.model import ProcessDefinition, ProcessModel

__all__ = ["action_type_label", "element_label", "stage_label"]


def stage_label(model: ProcessModel, number: int | None) -> str:
    """``stage 2 "Fraud screening"``; ``stage N`` alone when the model has no such stage (past
    the last stage, once the flow finished)."""
    if number is None:
        return "no stage"
    if 1 <= number <= len(model.stages):
        return f'stage {number} "{model.stages[number - 1].name}"'
    return f"stage {number}"


def action_type_label(model: ProcessModel, action_type: str) -> str:
    """``"Second opinion" (type second_opinion)``: the action type's title, then its id (the
    name callers use in ``launch_action``); the id alone, quoted, for an unknown type, and the
    title alone when it is the id itself (plain BPMN tasks without a name)."""
    action = model.action(action_type)
    if action is None:
        return repr(action_type)
    if action.title == action_type:
        return f'"{action.title}"'
    return f'"{action.title}" (type {action_type})'


def element_label(
    definition: ProcessDefinition,
    element_id: str,
    name: str | None,
    kind: str,
    *,
    stage: int | None = None,
) -> str:
    """Where a BPMN element is, for a person: ``kind`` is ``gateway``, ``task``, ``event``...

    * an action's task: ``action "Assess damage" in stage 2 "Assessment" (task Action_assess)``;
    * a stage's entry: ``stage 2 "Fraud screening" (gateway Stage_2_entry)``;
    * another named element: ``gateway "Decide" in stage 1 "Approval" (Gateway_1)``;
    * an element without a name: ``gateway Gateway_1 in stage 1 "Approval"``.

    ``stage`` is the stage to name when the definition maps the element to none (the stage of
    the sub-process it runs in); without either, the stage is left out.
    """
    model = definition.model
    stage = definition.task_stages.get(element_id, stage)
    in_stage = f" in {stage_label(model, stage)}" if stage is not None else ""
    action_id = definition.task_actions.get(element_id)
    action = model.action(action_id) if action_id is not None else None
    if action is not None:
        ref = f" ({kind} {element_id})" if element_id != action.title else ""
        return f'action "{action.title}"{in_stage}{ref}'
    if stage is not None and definition.stage_entries.get(stage) == element_id:
        return f"{stage_label(model, stage)} ({kind} {element_id})"
    label = (name or "").strip()
    if label and label != element_id:
        return f'{kind} "{label}"{in_stage} ({element_id})'
    return f"{kind} {element_id}{in_stage}"
