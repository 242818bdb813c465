"""Runtime state as plain records: what the store loads and saves, what the engine changes.

These are mutable on purpose (a command loads a record, changes it, and the store writes it in
the same transaction); definitions stay immutable in ``engine.model``. The public, read-only
views handed to users are the snapshots in ``engine.runtime.snapshots``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from engine.runtime.status import CaseStatus, HoldKind


@dataclass
class CaseRecord:
    """One case's stored state.

    SLA fields: ``sla_started_at`` is set on submission; ``due`` is the current due date, None
    while the SLA is paused (H4) or before submission; while paused, ``sla_paused_at`` is when
    the pause began and ``sla_remaining`` the time that was left then, in seconds (working
    seconds when the case has a calendar), negative when already overdue (H5).
    ``row_version`` is the optimistic-concurrency counter; the store bumps it on every write.
    """

    ref: str
    process: str
    version: int
    status: CaseStatus
    created_at: datetime
    created_by: str
    created_how: str = "manual"
    title: str | None = None
    customer: str | None = None
    contract: str | None = None
    service: str | None = None
    hold_kind: HoldKind | None = None
    hold_reason: str | None = None
    hold_until: datetime | None = None
    hold_started_at: datetime | None = None
    assignee: str | None = None
    last_assignee: str | None = None
    owner: str | None = None
    queue: str | None = None
    calendar: str | None = None
    sla_started_at: datetime | None = None
    due: datetime | None = None
    due_overridden: bool = False
    sla_paused_at: datetime | None = None
    sla_remaining: float | None = None
    parent: str | None = None
    subcase_count: int = 0
    data: dict[str, Any] = field(default_factory=dict)
    highlighted: bool = False
    original_request_at: datetime | None = None
    created_from: str | None = None
    first_resolved_by: str | None = None
    first_resolved_at: datetime | None = None
    resolved_by: str | None = None
    resolved_at: datetime | None = None
    status_set_by: str | None = None
    status_reason: str | None = None
    status_set_at: datetime | None = None
    updated_by: str | None = None
    updated_at: datetime | None = None
    keep_with_me: bool = False
    keep_actions_with_me: bool = False
    contacts: list[dict[str, Any]] = field(default_factory=list)
    flow_finished: bool = False
    row_version: int = 0


@dataclass
class ActionRecord:
    """One action of a case (a flow task made visible, or an ad hoc action launched by hand).

    ``task_id`` is the SpiffWorkflow task UUID (as text) for flow actions, None for ad hoc ones.
    ``seq`` numbers the case's actions in creation order.
    """

    ref: str
    case_ref: str
    action_type: str
    title: str
    stage: int
    status: CaseStatus
    created_at: datetime
    seq: int
    instructions: str | None = None
    assignee: str | None = None
    queue: str | None = None
    due: datetime | None = None
    started_at: datetime | None = None
    completed_at: datetime | None = None
    completed_by: str | None = None
    ad_hoc: bool = False
    robot: bool = False
    task_id: str | None = None
    error: str | None = None
    last_assignee: str | None = None
    closed_reason: str | None = None
    row_version: int = 0


@dataclass
class TimerRecord:
    """A wake-up the engine owns: fired once by ``tick()`` when ``now >= fire_at``.

    ``kind`` is ``"hold_until"`` (H6) or ``"feedback_window"`` (R2/R4). ``id`` is None until
    the store assigns one.
    """

    case_ref: str
    kind: str
    fire_at: datetime
    id: int | None = None
    fired_at: datetime | None = None
    cancelled: bool = False


@dataclass
class ScheduleRecord:
    """One schedule of a deployed process version (C1 "automatically on a schedule").

    ``position`` is its index in the definition's ``settings.schedules``; ``next_at`` the next
    occurrence not fired yet (UTC); ``every_seconds`` the wall-clock period. Only the schedules
    of the latest deployed version of a process are ``active``. ``id`` is None until stored.
    """

    process: str
    version: int
    position: int
    next_at: datetime
    every_seconds: int
    title: str | None = None
    active: bool = True
    id: int | None = None


@dataclass
class EventRecord:
    """One timeline entry (V18): append-only.

    ``ref`` is the activity the event belongs to (a case or an action ref); ``case_ref`` the
    case it happened in (the case itself for case events).
    """

    ref: str
    case_ref: str
    at: datetime
    kind: str
    by: str | None
    details: dict[str, Any] = field(default_factory=dict)
    id: int | None = None


@dataclass
class DefinitionRecord:
    """A deployed definition version as stored: the source and the BPMN the runtime runs."""

    process: str
    version: int
    digest: str
    source_name: str
    source_kind: str
    source: bytes
    bpmn: bytes
    deployed_at: datetime


#: The parties a defect may be blamed on (V13).
FAULT_PARTIES: tuple[str, ...] = ("agent", "service centre", "customer")


@dataclass
class DefectRecord:
    """A defect of a case family (V13, V14), stored once on the family root (SC6).

    ``root_ref`` is the top-most ancestor the defect is shared by, ``case_ref`` the case (the
    root or one of its sub-cases) where it was added. ``fault_party`` is one of
    :data:`FAULT_PARTIES`. ``created_by`` is who may edit or delete it under
    ``restrict_defect_editing`` (V14). ``id`` is None until the store assigns one.
    """

    id: int | None
    root_ref: str
    case_ref: str
    category: str
    fault_party: str
    description: str | None
    resolved: bool
    created_by: str
    created_at: datetime
    updated_at: datetime


@dataclass
class FileRecord:
    """A file attached to a case family, stored once on the family root (SC6).

    ``uri`` says where the content is (the store keeps no bytes); ``case_ref`` is the case
    where it was added. ``id`` is None until the store assigns one.
    """

    id: int | None
    root_ref: str
    case_ref: str
    name: str
    uri: str
    media_type: str | None
    added_by: str
    added_at: datetime


@dataclass
class LinkRecord:
    """A relationship from a case to another activity (V8 links list), e.g. ``"created from"``
    or ``"related"``.

    ``case_ref`` is the case the link belongs to; ``target_ref`` the other activity (a case or
    an action ref: the store checks it against neither). A sub-case is not a link (SC7).
    ``id`` is None until the store assigns one.
    """

    id: int | None
    case_ref: str
    target_ref: str
    relation: str
    added_by: str
    added_at: datetime
