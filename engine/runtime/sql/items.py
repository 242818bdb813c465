"""The transaction's case items: the timeline, and the defects, files and links a case
family shares (SC6)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from engine.errors import ConcurrencyConflict
from engine.runtime.records import DefectRecord, EventRecord, FileRecord, LinkRecord
from engine.runtime.sql.base import SqlTransactionBase
from engine.runtime.sql.rows import (
    DEFECT_SELECT,
    EVENT_SELECT,
    FILE_SELECT,
    LINK_SELECT,
    defect_from,
    event_from,
    file_from,
    link_from,
    new_row,
)
from engine.runtime.store import iter_chunks
from engine.runtime.tables import defects, events, files, links

# the timeline (appending an event is on every command's path: SqlDialect.p_append_event)
_SEL_EVENTS = (
    sa.select(*EVENT_SELECT)
    .where(events.c.ref.in_(sa.bindparam("refs", expanding=True)))
    .order_by(events.c.at, events.c.id)
)
_SEL_EVENTS_OF_KINDS = _SEL_EVENTS.where(events.c.kind.in_(sa.bindparam("kinds", expanding=True)))

# shared items (SC6): not on every command's path, so run through SQLAlchemy's execute
#: Defect columns ``update_defect`` writes; the others say where and by whom it was created.
_DEFECT_EDITABLE = ("category", "fault_party", "description", "resolved", "updated_at")
_INS_DEFECT = sa.insert(defects).returning(defects.c.id)
_UPD_DEFECT = (
    sa.update(defects)
    .where(defects.c.id == sa.bindparam("w_id"))
    .values({name: sa.bindparam(f"v_{name}") for name in _DEFECT_EDITABLE})
)
_DEL_DEFECT = sa.delete(defects).where(defects.c.id == sa.bindparam("w_id"))
_SEL_DEFECT = sa.select(*DEFECT_SELECT).where(defects.c.id == sa.bindparam("id"))
_SEL_DEFECTS_OF = (
    sa.select(*DEFECT_SELECT)
    .where(defects.c.root_ref == sa.bindparam("root_ref"))
    .order_by(defects.c.id)
)
_INS_FILE = sa.insert(files).returning(files.c.id)
_SEL_FILES_OF = (
    sa.select(*FILE_SELECT).where(files.c.root_ref == sa.bindparam("root_ref")).order_by(files.c.id)
)
_INS_LINK = sa.insert(links).returning(links.c.id)
_SEL_LINKS_OF = (
    sa.select(*LINK_SELECT).where(links.c.case_ref == sa.bindparam("ref")).order_by(links.c.id)
)
_SEL_LINKED_TO = (
    sa.select(*LINK_SELECT).where(links.c.target_ref == sa.bindparam("ref")).order_by(links.c.id)
)


class SqlItems(SqlTransactionBase):
    """Timeline events; defects, files and links."""

    __slots__ = ()

    # -- timeline ------------------------------------------------------------------
    def append_event(self, event: EventRecord) -> int:
        if event.id is not None:
            raise ValueError(f"event {event.id} is already stored")
        params = {
            "ref": event.ref,
            "case_ref": event.case_ref,
            "at": event.at,
            "kind": event.kind,
            "by": event.by,
            "details": event.details,
        }
        event.id = int(self._returned(self._dialect.p_append_event, params))
        return event.id

    def events_for(
        self, refs: Sequence[str], kinds: Sequence[str] | None = None
    ) -> list[EventRecord]:
        if not refs or (kinds is not None and not kinds):
            return []
        statement = _SEL_EVENTS if kinds is None else _SEL_EVENTS_OF_KINDS
        found: list[EventRecord] = []
        chunks = 0
        for chunk in iter_chunks(sorted(set(refs))):
            params: dict[str, Any] = {"refs": list(chunk)}
            if kinds is not None:
                params["kinds"] = list(kinds)
            found.extend(event_from(*row) for row in self._run(statement, params))
            chunks += 1
        if chunks > 1:
            found.sort(key=lambda event: (event.at, event.id))
        return found

    # -- items a case family shares (SC6): defects, files, links ---------------------
    def add_defect(self, record: DefectRecord) -> int:
        record.id = int(self._run(_INS_DEFECT, new_row(record)).scalar_one())
        return record.id

    def update_defect(self, record: DefectRecord) -> None:
        if record.id is None:
            raise ValueError("a defect not stored yet (id None) cannot be updated")
        params: dict[str, Any] = {f"v_{name}": getattr(record, name) for name in _DEFECT_EDITABLE}
        params["w_id"] = record.id
        if self._run(_UPD_DEFECT, params).rowcount != 1:
            raise ConcurrencyConflict(
                f"defect {record.id} of case {record.root_ref} no longer exists "
                "(deleted by someone else); reload the case and try again"
            )

    def delete_defect(self, defect_id: int) -> bool:
        return self._run(_DEL_DEFECT, {"w_id": defect_id}).rowcount == 1

    def get_defect(self, defect_id: int) -> DefectRecord | None:
        row = self._run(_SEL_DEFECT, {"id": defect_id}).first()
        return None if row is None else defect_from(*row)

    def defects_of(self, root_ref: str) -> list[DefectRecord]:
        return [defect_from(*row) for row in self._run(_SEL_DEFECTS_OF, {"root_ref": root_ref})]

    def add_file(self, record: FileRecord) -> int:
        record.id = int(self._run(_INS_FILE, new_row(record)).scalar_one())
        return record.id

    def files_of(self, root_ref: str) -> list[FileRecord]:
        return [file_from(*row) for row in self._run(_SEL_FILES_OF, {"root_ref": root_ref})]

    def add_link(self, record: LinkRecord) -> int:
        record.id = int(self._run(_INS_LINK, new_row(record)).scalar_one())
        return record.id

    def links_of(self, case_ref: str) -> list[LinkRecord]:
        return [link_from(*row) for row in self._run(_SEL_LINKS_OF, {"ref": case_ref})]

    def linked_to(self, target_ref: str) -> list[LinkRecord]:
        return [link_from(*row) for row in self._run(_SEL_LINKED_TO, {"ref": target_ref})]
