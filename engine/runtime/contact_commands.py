"""Contacts of a case (V10, V11) and time tracking (V12)."""

from __future__ import annotations

from collections.abc import Sequence

from engine.errors import InvalidArgument, InvalidTransition, NotFound
from engine.runtime.arguments import _actor
from engine.runtime.contacts import TimeTracking, contact_key, give_tags, new_contact, track_time
from engine.runtime.kernel import EngineCore
from engine.runtime.snapshots import Case
from engine.runtime.status import CaseStatus


class ContactCommands(EngineCore):
    """V10, V11 contacts with relationship tags; V12 time tracking."""

    def add_contact(
        self, ref: str, who: str, *, by: str, tags: Sequence[str] | None = None
    ) -> Case:
        """V11: add a contact by email address (first and last names decoded) or by name. By
        default it gets *primary contact*, *requester* and *subject*, taken from the other
        contacts; ``tags=["cc"]`` adds a cc-only contact."""
        by = _actor(by)
        if not isinstance(who, str) or not who.strip():
            raise InvalidArgument(f"case {ref}: add_contact needs an email address or a name")
        with self._case_command(ref) as cmd:
            case = cmd.case
            status = f"case {case.ref} is {case.status.value}"
            if case.status in (CaseStatus.CLOSED, CaseStatus.CANCELLED):
                raise InvalidTransition(f"{status}: cannot add_contact")
            try:
                contact = new_contact(who, tags)
            except InvalidArgument as err:
                raise InvalidArgument(f"{status}: add_contact refused: {err}") from None
            if any(contact_key(c) == contact_key(contact) for c in case.contacts):
                raise InvalidArgument(
                    f"{status}: add_contact: {contact_key(contact)} is already a contact"
                )
            wanted = contact["tags"]
            contact["tags"] = []
            case.contacts.append(contact)
            give_tags(case.contacts, contact, wanted)
            case.updated_by, case.updated_at = by, cmd.now
            self._event(
                cmd,
                "contact_added",
                by,
                {"contact": contact_key(contact), "tags": list(contact["tags"])},
            )
            cmd.tx.update_case(case)
            return self._case_result(cmd)

    def tag_contact(self, ref: str, who: str, tag: str, *, by: str) -> Case:
        """V10, V11: give a relationship tag to a contact (moving *primary contact* and
        *requester* away from whoever had them)."""
        by = _actor(by)
        with self._case_command(ref) as cmd:
            case = cmd.case
            status = f"case {case.ref} is {case.status.value}"
            target = next((c for c in case.contacts if contact_key(c) == who), None)
            if target is None:
                raise NotFound(f"{status}: tag_contact: {who!r} is not a contact of the case")
            if not isinstance(tag, str) or not tag.strip():
                raise InvalidArgument(f"{status}: tag_contact needs a tag")
            give_tags(case.contacts, target, [tag])
            case.updated_by, case.updated_at = by, cmd.now
            self._event(cmd, "contact_tagged", by, {"contact": who, "tag": tag})
            cmd.tx.update_case(case)
            return self._case_result(cmd)

    def time_tracking(self, ref: str) -> TimeTracking:
        """V12: the working sessions on a case (while In Progress) or an action (from start
        to completion), in total and per resource."""
        with self.store.transaction() as tx:
            if tx.get_case(ref) is None and tx.get_action(ref) is None:
                raise NotFound(f"case or action {ref!r} not found")
            events = tx.events_for([ref])
            return track_time(((e.kind, e.at, e.details) for e in events), self.clock.now())
