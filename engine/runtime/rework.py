"""Rework points (RW1, RW3-RW6) and the RW10 assignment rule, as pure functions."""

from __future__ import annotations

from engine.model import ProcessModel
from engine.runtime.records import ActionRecord
from engine.runtime.snapshots import ReworkPoint
from engine.runtime.status import CaseStatus


def current_stage(
    actions: list[ActionRecord], model: ProcessModel, flow_finished: bool, flow_stage: int | None
) -> int:
    """The stage the case is in: that of its open flow actions; past the last stage once the
    flow finished; else the stage of the flow's waiting steps; else 1."""
    open_stages = [
        a.stage
        for a in actions
        if not a.ad_hoc and a.status in (CaseStatus.TO_DO, CaseStatus.IN_PROGRESS)
    ]
    if open_stages:
        return max(open_stages)
    if flow_finished:
        return len(model.stages) + 1
    return flow_stage or 1


def rework_points(
    actions: list[ActionRecord],
    model: ProcessModel,
    stage_now: int,
    completed_tasks: frozenset[str],
) -> list[ReworkPoint]:
    """RW5: only stages before the current one (RW6: so never downstream stages completed by
    earlier reworks); for each, its start (RW3: conditions re-evaluated) and its completed flow
    actions, the latest completion of each type (RW1), never ad hoc ones (RW4). An action
    counts only while its step is still completed in the flow (``completed_tasks``): a later
    rework that restarted before it undid it."""
    latest: dict[str, ActionRecord] = {}
    for action in actions:
        if action.ad_hoc or action.status is not CaseStatus.RESOLVED:
            continue
        if action.stage >= stage_now or action.task_id not in completed_tasks:
            continue
        seen = latest.get(action.action_type)
        if seen is None or action.seq > seen.seq:
            latest[action.action_type] = action
    points: list[ReworkPoint] = []
    for number, stage in enumerate(model.stages, start=1):
        if number >= stage_now:
            break
        points.append(ReworkPoint(stage=number, action=None, stage_name=stage.name))
        for definition in stage.actions:
            done = latest.get(definition.id)
            if done is not None:
                points.append(
                    ReworkPoint(
                        stage=number,
                        action=done.ref,
                        stage_name=stage.name,
                        action_type=done.action_type,
                        title=done.title,
                    )
                )
    return points


def previous_doer(actions: list[ActionRecord], action_type: str) -> str | None:
    """RW10: who did this action type before: who completed it, else its last assignee."""
    for action in sorted(actions, key=lambda a: a.seq, reverse=True):
        if action.action_type != action_type or action.ad_hoc:
            continue
        if action.completed_by:
            return action.completed_by
        if action.last_assignee:
            return action.last_assignee
    return None
