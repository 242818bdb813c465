"""Read-only snapshots handed to users: Case, Action, TimelineEvent, ReworkPoint."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from engine.runtime.status import CaseStatus, HoldKind


@dataclass(frozen=True)
class Case:
    """A case as it stands (every field of API.md's ``Case``)."""

    ref: str
    process: str
    version: int
    title: str | None
    customer: str | None
    contract: str | None
    service: str | None
    status: CaseStatus
    hold_kind: HoldKind | None
    hold_reason: str | None
    hold_until: datetime | None
    assignee: str | None
    owner: str | None
    queue: str | None
    due: datetime | None
    due_state: str | None
    due_text: str | None
    parent: str | None
    subcases: tuple[str, ...]
    data: dict[str, Any]
    highlighted: bool
    created_at: datetime
    created_by: str
    created_how: str
    original_request_at: datetime | None
    first_resolved_by: str | None
    first_resolved_at: datetime | None
    status_set_by: str | None
    status_reason: str | None
    status_set_at: datetime | None
    updated_by: str | None
    updated_at: datetime | None
    calendar: str | None = None
    keep_with_me: bool = False
    keep_actions_with_me: bool = False
    resolved_by: str | None = None
    resolved_at: datetime | None = None
    context: str = ""
    stage: int | None = None
    sop_url: str | None = None
    contacts: tuple[dict[str, Any], ...] = ()
    smart_cards: tuple[dict[str, Any], ...] = ()
    """V16: one card per data field of the definition, in declared order: ``name``,
    ``label`` (the name when the definition gives none), ``type``, ``required`` and
    ``value`` (the case data entry of that name, None when absent)."""

    @property
    def sla_paused(self) -> bool:
        return self.due_state == "paused"


@dataclass(frozen=True)
class Action:
    """An action of a case (every field of API.md's ``Action``; A4)."""

    ref: str
    case_ref: str
    action_type: str
    title: str
    instructions: str | None
    stage: int
    status: CaseStatus
    assignee: str | None
    queue: str | None
    due: datetime | None
    started_at: datetime | None
    completed_by: str | None
    ad_hoc: bool
    created_at: datetime | None = None
    completed_at: datetime | None = None
    robot: bool = False
    error: str | None = None
    status_text: str = ""
    sop_url: str | None = None


@dataclass(frozen=True)
class TimelineEvent:
    """One timeline entry (V18): ``kind``, ``at``, ``by``, ``details``."""

    kind: str
    at: datetime
    by: str | None
    details: dict[str, Any] = field(default_factory=dict)
    ref: str = ""
    case_ref: str = ""
    id: int | None = None


@dataclass(frozen=True)
class ReworkPoint:
    """A place a case may restart from: the start of ``stage``, or ``action`` in it."""

    stage: int
    action: str | None
    stage_name: str = ""
    action_type: str | None = None
    title: str = ""


@dataclass(frozen=True)
class TimerFired:
    """What ``tick()`` fired: a hold wake-up (H6), a feedback window end (R4), or a schedule
    occurrence (C1, ``kind="schedule"``): then ``case_ref`` is the case it created, ``fire_at``
    the occurrence and ``status`` the new case's (To Do; Draft when it needs contacts)."""

    kind: str
    case_ref: str
    fire_at: datetime
    fired_at: datetime
    status: CaseStatus | None = None


@dataclass(frozen=True)
class Defect:
    """A defect recorded on a case family (V13): shared by a case and its sub-cases (SC6)."""

    id: int
    case_ref: str
    category: str
    fault_party: str
    description: str | None
    resolved: bool
    created_by: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class FileItem:
    """A file attached to a case family (SC6): its name and where it is stored."""

    id: int
    case_ref: str
    name: str
    uri: str
    media_type: str | None
    added_by: str
    added_at: datetime


@dataclass(frozen=True)
class Link:
    """A link from a case (family) to another activity (V8); sub-cases are not links (SC7)."""

    id: int
    case_ref: str
    target_ref: str
    relation: str
    added_by: str
    added_at: datetime
