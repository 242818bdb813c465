"""The persistence port: one abstract unit of work, implemented by the SQLAlchemy store.

Every engine command runs inside one ``Store.transaction()``: all reads and writes of the
command go through the :class:`StoreTransaction` it yields; it commits when the block ends
normally and rolls back on any exception, so a refused or crashed command leaves the previous
state. Case updates are checked against ``row_version`` (optimistic concurrency): a case
changed by another writer since it was read raises :class:`engine.errors.ConcurrencyConflict`.

The contract suite in ``tests/test_store_contract*.py`` (backends in ``tests/store_backends.py``)
runs against every backend.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from datetime import datetime

from engine.model import ScheduleDef
from engine.runtime.records import (
    ActionRecord,
    CaseRecord,
    DefectRecord,
    DefinitionRecord,
    EventRecord,
    FileRecord,
    LinkRecord,
    ScheduleRecord,
    TimerRecord,
)


class StoreTransaction(ABC):
    """Reads and writes of one command, all in one database transaction."""

    # -- definitions ---------------------------------------------------------------
    @abstractmethod
    def add_definition(self, record: DefinitionRecord) -> None: ...

    @abstractmethod
    def get_definition(self, process: str, version: int) -> DefinitionRecord | None: ...

    @abstractmethod
    def definition_versions(self, process: str) -> list[int]:
        """Deployed versions of a process, ascending."""

    @abstractmethod
    def definition_keys(self) -> list[tuple[str, int]]:
        """Every deployed (process, version), sorted."""

    # -- counters ------------------------------------------------------------------
    @abstractmethod
    def next_number(self, counter: str) -> int:
        """The next value (from 1) of a named counter, e.g. ``"case"``, ``"action"``."""

    # -- cases ---------------------------------------------------------------------
    @abstractmethod
    def insert_case(self, case: CaseRecord) -> None:
        """Insert a new case; sets ``case.row_version`` to 1."""

    @abstractmethod
    def get_case(self, ref: str) -> CaseRecord | None: ...

    @abstractmethod
    def update_case(self, case: CaseRecord) -> None:
        """Write the case if its stored ``row_version`` is still ``case.row_version``, then
        bump both; else raise ConcurrencyConflict."""

    @abstractmethod
    def subcases_of(self, ref: str) -> list[CaseRecord]:
        """Sub-cases of a case, in creation order."""

    @abstractmethod
    def inbox(self, user: str) -> list[CaseRecord]:
        """To Do / In Progress cases assigned to ``user`` (H8), ordered by ref."""

    @abstractmethod
    def responsibilities(self, user: str) -> list[CaseRecord]:
        """Waiting cases whose assignee is ``user``, or whose owner is ``user`` when
        unassigned (H8), ordered by ref."""

    # -- actions -------------------------------------------------------------------
    @abstractmethod
    def insert_action(self, action: ActionRecord) -> None: ...

    @abstractmethod
    def update_action(self, action: ActionRecord) -> None:
        """Write an action (``row_version`` checked and bumped like cases)."""

    @abstractmethod
    def get_action(self, ref: str) -> ActionRecord | None: ...

    @abstractmethod
    def actions_of(self, case_ref: str) -> list[ActionRecord]:
        """All actions of a case in creation order (``seq``)."""

    # -- workflow state --------------------------------------------------------------
    @abstractmethod
    def get_workflow(self, case_ref: str) -> str | None:
        """The serialized SpiffWorkflow state (JSON text without the spec)."""

    @abstractmethod
    def put_workflow(self, case_ref: str, state: str) -> None: ...

    # -- timers --------------------------------------------------------------------
    @abstractmethod
    def add_timer(self, timer: TimerRecord) -> int:
        """Insert a timer; returns and sets its id."""

    @abstractmethod
    def cancel_timers(self, case_ref: str, kind: str | None = None) -> int:
        """Cancel the case's pending timers (of one kind, or all); returns how many."""

    @abstractmethod
    def pending_timers(self, case_ref: str) -> list[TimerRecord]:
        """The case's timers neither fired nor cancelled, by fire time."""

    @abstractmethod
    def due_timers(self, now: datetime, limit: int = 1000) -> list[TimerRecord]:
        """Pending timers with ``fire_at <= now``, oldest first."""

    @abstractmethod
    def mark_fired(self, timer_id: int, at: datetime) -> bool:
        """Mark a pending timer fired; False if it was already fired or cancelled (so a timer
        fires exactly once even with two engines ticking)."""

    # -- schedules (C1) ------------------------------------------------------------
    @abstractmethod
    def register_schedules(
        self, process: str, version: int, schedules: Sequence[ScheduleDef]
    ) -> list[ScheduleRecord]:
        """Store the schedules of a deployed definition version; returns its schedules.

        Idempotent per ``(process, version)``: when that version already has schedules, they
        are returned unchanged (their ``next_at`` keeps its progress). Otherwise one row per
        schedule is added, in list order (``position``), first occurrence ``first``, period
        ``every`` as wall-clock seconds. They are active when ``version`` is the latest
        deployed version of the process (its definition must be added first); then the
        schedules of the process's older versions are deactivated, also when ``schedules``
        is empty (a new version without schedules stops the old ones)."""

    @abstractmethod
    def schedules_of(self, process: str) -> list[ScheduleRecord]:
        """Every schedule of a process, active or not, by version then position."""

    @abstractmethod
    def get_schedule(self, schedule_id: int) -> ScheduleRecord | None: ...

    @abstractmethod
    def due_schedules(self, now: datetime, limit: int = 1000) -> list[ScheduleRecord]:
        """Active schedules with ``next_at <= now``, by ``next_at`` then id."""

    @abstractmethod
    def advance_schedule(
        self, schedule_id: int, expected_next_at: datetime, new_next_at: datetime
    ) -> bool:
        """Compare-and-set: move an active schedule's ``next_at`` from ``expected_next_at`` to
        ``new_next_at``; False when it is no longer active or no longer at
        ``expected_next_at`` (another engine fired that occurrence), so an occurrence fires
        exactly once even with two engines ticking."""

    # -- timeline ------------------------------------------------------------------
    @abstractmethod
    def append_event(self, event: EventRecord) -> int:
        """Append a timeline event; returns and sets its id."""

    @abstractmethod
    def events_for(
        self, refs: Sequence[str], kinds: Sequence[str] | None = None
    ) -> list[EventRecord]:
        """Events whose ``ref`` is one of ``refs`` (optionally of these kinds), in order of
        time then id."""

    # -- items a case family shares (SC6): defects, files, links ---------------------
    @abstractmethod
    def add_defect(self, record: DefectRecord) -> int:
        """Insert a defect (``record.id`` must be None: ValueError otherwise); returns and sets
        its id. ``root_ref`` and ``case_ref`` must be cases (checked at commit)."""

    @abstractmethod
    def update_defect(self, record: DefectRecord) -> None:
        """Write the editable fields of the stored defect ``record.id``: ``category``,
        ``fault_party``, ``description``, ``resolved``, ``updated_at``. Where and by whom it was
        created (``root_ref``, ``case_ref``, ``created_by``, ``created_at``) never change.
        ValueError when ``record.id`` is None; ConcurrencyConflict when no defect has that id
        (deleted by someone else). Last writer wins: defects carry no row version."""

    @abstractmethod
    def delete_defect(self, defect_id: int) -> bool:
        """Delete a defect; False when there was none with that id."""

    @abstractmethod
    def get_defect(self, defect_id: int) -> DefectRecord | None: ...

    @abstractmethod
    def defects_of(self, root_ref: str) -> list[DefectRecord]:
        """The defects of a case family (stored on its root), by id (the order added)."""

    @abstractmethod
    def add_file(self, record: FileRecord) -> int:
        """Insert a file (``record.id`` must be None: ValueError otherwise); returns and sets
        its id. ``root_ref`` and ``case_ref`` must be cases (checked at commit)."""

    @abstractmethod
    def files_of(self, root_ref: str) -> list[FileRecord]:
        """The files of a case family (stored on its root), by id (the order added)."""

    @abstractmethod
    def add_link(self, record: LinkRecord) -> int:
        """Insert a link (``record.id`` must be None: ValueError otherwise); returns and sets
        its id. ``case_ref`` must be a case (checked at commit), ``target_ref`` is not
        checked; the same (case, target, relation) twice is refused (IntegrityError)."""

    @abstractmethod
    def links_of(self, case_ref: str) -> list[LinkRecord]:
        """The links a case holds, by id (the order added)."""

    @abstractmethod
    def linked_to(self, target_ref: str) -> list[LinkRecord]:
        """The links pointing at an activity, from any case, by id (the order added)."""


class Store(ABC):
    """A database holding definitions, their schedules, cases, actions, timers, timeline,
    workflow state and the items case families share (defects, files, links)."""

    @abstractmethod
    def transaction(self) -> AbstractContextManager[StoreTransaction]:
        """One unit of work: commit on normal exit, roll back on exception."""

    @abstractmethod
    def close(self) -> None:
        """Release connections."""

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def iter_chunks(items: Sequence[str], size: int = 500) -> Iterator[Sequence[str]]:
    """Split a long ``IN (...)`` list into chunks a database accepts."""
    for start in range(0, len(items), size):
        yield items[start : start + size]
