"""Defects, files and links of a case (V8, V13, V14), shared with its sub-cases (SC6).

These items are stored once, on the family root (the top-most ancestor), so a parent and every
sub-case see and update the same defects, files and links.
"""

from __future__ import annotations

from dataclasses import fields
from typing import TypeVar

from engine.errors import InvalidArgument, InvalidTransition, NotFound, PermissionDenied
from engine.runtime.arguments import _actor
from engine.runtime.kernel import EngineCore, _Command
from engine.runtime.records import FAULT_PARTIES, DefectRecord, FileRecord, LinkRecord
from engine.runtime.snapshots import Defect, FileItem, Link
from engine.runtime.status import CaseStatus
from engine.runtime.store import StoreTransaction

_FINISHED = (CaseStatus.RESOLVED, CaseStatus.CLOSED, CaseStatus.CANCELLED)


def _root_ref(tx: StoreTransaction, ref: str) -> str:
    """The family root of a case: its top-most ancestor (itself when it has no parent)."""
    case = tx.get_case(ref)
    while case is not None and case.parent is not None:
        parent = tx.get_case(case.parent)
        if parent is None:
            break
        case = parent
    return case.ref if case is not None else ref


T = TypeVar("T")


def _view(cls: type[T], record: object) -> T:
    """The snapshot ``cls`` of a stored record: the snapshot's fields, read off the record."""
    return cls(**{f.name: getattr(record, f.name) for f in fields(cls)})  # type: ignore[arg-type]


class ItemCommands(EngineCore):
    """Defects (V13, V14), files and links (V8), shared across a case family (SC6)."""

    # -- defects --------------------------------------------------------------------------

    def _defect_command_checks(self, cmd: _Command, what: str) -> str:
        status = f"case {cmd.case.ref} is {cmd.case.status.value}"
        if cmd.case.status in _FINISHED:
            raise InvalidTransition(
                f"{status}: cannot {what}: defects change only while the case is being "
                "processed (V13)"
            )
        return status

    def add_defect(
        self,
        ref: str,
        category: str,
        *,
        by: str,
        fault_party: str,
        description: str | None = None,
    ) -> Defect:
        """V13: record a defect of a category defined for the service line."""
        by = _actor(by)
        with self._case_command(ref) as cmd:
            status = self._defect_command_checks(cmd, "add_defect")
            categories = cmd.definition.model.settings.defect_categories
            if not categories:
                raise PermissionDenied(
                    f"{status}: add_defect refused: process {cmd.case.process!r} defines no "
                    "defect categories (V13)"
                )
            if category not in categories:
                raise InvalidArgument(
                    f"{status}: add_defect: category {category!r} is not one of "
                    + ", ".join(repr(c) for c in categories)
                )
            if fault_party not in FAULT_PARTIES:
                raise InvalidArgument(
                    f"{status}: add_defect: fault party {fault_party!r} is not one of "
                    + ", ".join(repr(p) for p in FAULT_PARTIES)
                )
            record = DefectRecord(
                id=None,
                root_ref=_root_ref(cmd.tx, cmd.case.ref),
                case_ref=cmd.case.ref,
                category=category,
                fault_party=fault_party,
                description=description,
                resolved=False,
                created_by=by,
                created_at=cmd.now,
                updated_at=cmd.now,
            )
            cmd.tx.add_defect(record)
            self._event(
                cmd,
                "defect_added",
                by,
                {"defect": record.id, "category": category, "fault_party": fault_party},
            )
            return _view(Defect, record)

    def _family_defect(self, cmd: _Command, defect_id: int, what: str) -> DefectRecord:
        status = self._defect_command_checks(cmd, what)
        record = cmd.tx.get_defect(defect_id)
        if record is None or record.root_ref != _root_ref(cmd.tx, cmd.case.ref):
            raise NotFound(f"{status}: {what}: no defect {defect_id} on this case")
        return record

    def _check_creator(self, cmd: _Command, record: DefectRecord, by: str, what: str) -> None:
        if self.restrict_defect_editing and record.created_by != by:
            raise PermissionDenied(
                f"case {cmd.case.ref} is {cmd.case.status.value}: {what} refused: only "
                f"{record.created_by} may edit or delete defect {record.id} (V14)"
            )

    def resolve_defect(self, ref: str, defect_id: int, *, by: str) -> Defect:
        """V13, V14: mark a defect resolved (anyone may)."""
        by = _actor(by)
        with self._case_command(ref) as cmd:
            record = self._family_defect(cmd, defect_id, "resolve_defect")
            record.resolved = True
            record.updated_at = cmd.now
            cmd.tx.update_defect(record)
            self._event(cmd, "defect_resolved", by, {"defect": defect_id})
            return _view(Defect, record)

    def update_defect(
        self,
        ref: str,
        defect_id: int,
        *,
        by: str,
        category: str | None = None,
        fault_party: str | None = None,
        description: str | None = None,
    ) -> Defect:
        """V13, V14: edit a defect (only its creator under ``restrict_defect_editing``)."""
        by = _actor(by)
        with self._case_command(ref) as cmd:
            record = self._family_defect(cmd, defect_id, "update_defect")
            self._check_creator(cmd, record, by, "update_defect")
            status = f"case {cmd.case.ref} is {cmd.case.status.value}"
            if category is not None:
                if category not in cmd.definition.model.settings.defect_categories:
                    raise InvalidArgument(f"{status}: update_defect: unknown category {category!r}")
                record.category = category
            if fault_party is not None:
                if fault_party not in FAULT_PARTIES:
                    raise InvalidArgument(
                        f"{status}: update_defect: unknown fault party {fault_party!r}"
                    )
                record.fault_party = fault_party
            if description is not None:
                record.description = description
            record.updated_at = cmd.now
            cmd.tx.update_defect(record)
            self._event(cmd, "defect_updated", by, {"defect": defect_id})
            return _view(Defect, record)

    def delete_defect(self, ref: str, defect_id: int, *, by: str) -> None:
        """V13, V14: delete a defect (only its creator under ``restrict_defect_editing``)."""
        by = _actor(by)
        with self._case_command(ref) as cmd:
            record = self._family_defect(cmd, defect_id, "delete_defect")
            self._check_creator(cmd, record, by, "delete_defect")
            cmd.tx.delete_defect(defect_id)
            self._event(cmd, "defect_deleted", by, {"defect": defect_id})

    def defects(self, ref: str) -> list[Defect]:
        """The defects of the case's family (SC6), oldest first."""
        with self._case_command(ref) as cmd:
            return [_view(Defect, r) for r in cmd.tx.defects_of(_root_ref(cmd.tx, cmd.case.ref))]

    # -- files ----------------------------------------------------------------------------

    def attach_file(
        self, ref: str, name: str, uri: str, *, by: str, media_type: str | None = None
    ) -> FileItem:
        """SC6: attach a file (by reference) to the case family."""
        by = _actor(by)
        with self._case_command(ref) as cmd:
            status = f"case {cmd.case.ref} is {cmd.case.status.value}"
            if cmd.case.status in (CaseStatus.CLOSED, CaseStatus.CANCELLED):
                raise InvalidTransition(f"{status}: cannot attach_file")
            if not name.strip() or not uri.strip():
                raise InvalidArgument(f"{status}: attach_file needs a name and a uri")
            record = FileRecord(
                id=None,
                root_ref=_root_ref(cmd.tx, cmd.case.ref),
                case_ref=cmd.case.ref,
                name=name,
                uri=uri,
                media_type=media_type,
                added_by=by,
                added_at=cmd.now,
            )
            cmd.tx.add_file(record)
            self._event(cmd, "file_attached", by, {"file": record.id, "name": name})
            return _view(FileItem, record)

    def files(self, ref: str) -> list[FileItem]:
        """The files of the case's family (SC6)."""
        with self._case_command(ref) as cmd:
            return [_view(FileItem, r) for r in cmd.tx.files_of(_root_ref(cmd.tx, cmd.case.ref))]

    # -- links ----------------------------------------------------------------------------

    def add_link(self, ref: str, target_ref: str, *, by: str, relation: str = "related") -> Link:
        """V8: link the case (family) to another activity; sub-cases are listed apart (SC7)."""
        by = _actor(by)
        with self._case_command(ref) as cmd:
            status = f"case {cmd.case.ref} is {cmd.case.status.value}"
            tx = cmd.tx
            if tx.get_case(target_ref) is None and tx.get_action(target_ref) is None:
                raise NotFound(f"{status}: add_link: no case or action {target_ref!r}")
            root = _root_ref(tx, cmd.case.ref)
            if target_ref in (cmd.case.ref, root):
                raise InvalidArgument(f"{status}: add_link: a case cannot link to itself")
            if any(
                link.target_ref == target_ref and link.relation == relation
                for link in tx.links_of(root)
            ):
                raise InvalidArgument(f"{status}: add_link: already linked to {target_ref}")
            record = LinkRecord(
                id=None,
                case_ref=root,
                target_ref=target_ref,
                relation=relation,
                added_by=by,
                added_at=cmd.now,
            )
            tx.add_link(record)
            self._event(cmd, "link_added", by, {"target": target_ref, "relation": relation})
            return _view(Link, record)

    def links(self, ref: str) -> list[Link]:
        """V8: the links of the case's family (never its sub-cases, SC7)."""
        with self._case_command(ref) as cmd:
            return [_view(Link, r) for r in cmd.tx.links_of(_root_ref(cmd.tx, cmd.case.ref))]
