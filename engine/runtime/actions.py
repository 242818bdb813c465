"""Actions: creating them from flow steps, their A3 order, their snapshots (A3, A4, H2)."""

from __future__ import annotations

import re
from datetime import datetime

from engine.model import ActionDef, ProcessModel
from engine.runtime.records import ActionRecord, CaseRecord
from engine.runtime.snapshots import Action
from engine.runtime.status import STATUS_ORDER, CaseStatus

_NUMBER = re.compile(r"(\d+)")

OPEN_ACTION_STATUSES = (CaseStatus.TO_DO, CaseStatus.IN_PROGRESS, CaseStatus.WAITING)


def is_open(action: ActionRecord) -> bool:
    return action.status in OPEN_ACTION_STATUSES


def natural_key(ref: str) -> tuple[object, ...]:
    """``A-9`` before ``A-10``: numbers inside references compare as numbers."""
    return tuple(int(part) if part.isdigit() else part for part in _NUMBER.split(ref))


def a3_key(action: ActionRecord, paused_left: float | None = None) -> tuple[object, ...]:
    """A3: status; due (earliest first); time left when paused (least first); stage (lowest
    first); start time (most recent first); reference. Missing values sort last."""
    due = action.due
    started = action.started_at
    return (
        STATUS_ORDER[action.status],
        due is None,
        due.timestamp() if due is not None else 0.0,
        paused_left is None,
        paused_left if paused_left is not None else 0.0,
        action.stage,
        started is None,
        -started.timestamp() if started is not None else 0.0,
        natural_key(action.ref),
    )


def status_text(action: ActionRecord) -> str:
    """A4: a short text for the action's state."""
    if action.status is CaseStatus.RESOLVED:
        return f"completed by {action.completed_by}" if action.completed_by else "completed"
    if action.status is CaseStatus.CLOSED:
        return f"closed ({action.closed_reason})" if action.closed_reason else "closed"
    if action.error:
        return f"failed: {action.error}"
    if action.status is CaseStatus.IN_PROGRESS:
        return f"in progress with {action.assignee}" if action.assignee else "in progress"
    if action.assignee:
        return f"to do, assigned to {action.assignee}"
    return f"to do in queue {action.queue}" if action.queue else "to do"


def new_action(
    *,
    ref: str,
    case: CaseRecord,
    definition: ActionDef | None,
    action_type: str,
    stage: int,
    seq: int,
    now: datetime,
    due: datetime | None,
    task_id: str | None = None,
    ad_hoc: bool = False,
    instructions: str | None = None,
    title: str | None = None,
) -> ActionRecord:
    """A fresh To Do action; assigned to the case assignee when *keep actions with me* (V9)."""
    assignee = case.assignee if case.keep_actions_with_me else None
    return ActionRecord(
        ref=ref,
        case_ref=case.ref,
        action_type=action_type,
        title=title or (definition.title if definition else action_type),
        stage=stage,
        status=CaseStatus.TO_DO,
        created_at=now,
        seq=seq,
        instructions=instructions
        if instructions is not None
        else (definition.instructions if definition else None),
        assignee=assignee,
        last_assignee=assignee,
        queue=(definition.queue if definition and definition.queue else case.queue),
        due=due,
        ad_hoc=ad_hoc,
        robot=bool(definition and definition.robot),
        task_id=task_id,
    )


def snapshot(action: ActionRecord, model: ProcessModel | None = None) -> Action:
    definition = model.action(action.action_type) if model else None
    return Action(
        ref=action.ref,
        case_ref=action.case_ref,
        action_type=action.action_type,
        title=action.title,
        instructions=action.instructions,
        stage=action.stage,
        status=action.status,
        assignee=action.assignee,
        queue=action.queue,
        due=action.due,
        started_at=action.started_at,
        completed_by=action.completed_by,
        ad_hoc=action.ad_hoc,
        created_at=action.created_at,
        completed_at=action.completed_at,
        robot=action.robot,
        error=action.error,
        status_text=status_text(action),
        sop_url=definition.sop_url if definition else None,
    )
