"""Case commands of ``engine.Engine``: creation, statuses and assignment, holds, replies,
resolution, timers, edits and keep-with-me.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from engine.errors import (
    EngineError,
    InvalidArgument,
    InvalidTransition,
    NotFound,
    PermissionDenied,
)
from engine.runtime import lifecycle, sla
from engine.runtime.arguments import _actor, _aware, _json_data
from engine.runtime.contacts import (
    SUBJECT,
    contact_from_mailbox,
    missing_required,
    new_contact,
    parse_address,
)
from engine.runtime.kernel import EngineCore, _Command, _flow_guard, _within
from engine.runtime.lifecycle import Command, Outcome
from engine.runtime.records import CaseRecord, EventRecord, LinkRecord, ScheduleRecord
from engine.runtime.snapshots import Case, TimerFired
from engine.runtime.status import CaseStatus, HoldKind
from engine.runtime.store import StoreTransaction

#: Who creates the cases of a schedule (C1): their ``created_by``, owner and submitter.
SCHEDULER = "scheduler"
#: Most occurrences of one schedule a single ``tick()`` fires; the later missed ones wait for
#: the next tick (nothing is skipped), so one tick after a long outage stays bounded.
MAX_CATCH_UP = 1000


class CaseCommands(EngineCore):
    """C, S, H, R, V: commands that change a case."""

    # -- C: creation -------------------------------------------------------------------------

    def create_case(
        self,
        process: str,
        *,
        by: str,
        title: str | None = None,
        customer: str | None = None,
        contract: str | None = None,
        service: str | None = None,
        data: Mapping[str, Any] | None = None,
        submit: bool = False,
        how: str = "manual",
        owner: str | None = None,
        queue: str | None = None,
        calendar: str | None = None,
        version: int | None = None,
        original_request_at: datetime | None = None,
        contacts: Sequence[str] | None = None,
    ) -> Case:
        """A new case: Draft, or To Do when ``submit`` (C1-C4). ``contacts``: email addresses
        or names; the first gets the default tags (V11), the others *subject*."""
        by = _actor(by)
        payload = _json_data(data)
        original = _aware(original_request_at, "original_request_at")
        try:
            people = [
                new_contact(who, None if i == 0 else [SUBJECT])
                for i, who in enumerate(contacts or [])
            ]
        except InvalidArgument as err:
            raise InvalidArgument(f"create_case of {process!r} refused: contacts: {err}") from None
        with self.store.transaction() as tx:
            case = self._new_case(
                tx,
                process,
                by=by,
                title=title,
                customer=customer,
                contract=contract,
                service=service,
                data=payload,
                how=how,
                owner=owner,
                queue=queue,
                calendar=calendar,
                version=version,
                original_request_at=original,
            )
            case.contacts = people
            cmd = _Command(self, tx, case)
            if submit:
                self._submit(cmd, by, what=f"create_case of {process!r}")
            return self._case_result(cmd)

    def _submit(self, cmd: _Command, by: str, *, what: str = "submit") -> None:
        """C2, C3, V10: submit, refused while a mandatory contact tag is missing. ``what``
        names the command in a refusal of the flow (its first stage cannot start...)."""
        lifecycle.check(cmd.case, Command.SUBMIT)
        missing = missing_required(
            cmd.case.contacts, cmd.definition.model.settings.required_contacts
        )
        if missing:
            raise InvalidTransition(
                f"case {cmd.case.ref} is {cmd.case.status.value}: cannot submit without a "
                + " and a ".join(missing)
                + " (V10)"
            )
        self._apply(cmd, lifecycle.submit(cmd.case, by=by, now=cmd.now), by, what=what)

    def _new_case(
        self,
        tx: StoreTransaction,
        process: str,
        *,
        by: str,
        data: dict[str, Any],
        how: str,
        title: str | None = None,
        customer: str | None = None,
        contract: str | None = None,
        service: str | None = None,
        owner: str | None = None,
        queue: str | None = None,
        calendar: str | None = None,
        version: int | None = None,
        original_request_at: datetime | None = None,
        parent: str | None = None,
        ref: str | None = None,
        created_from: str | None = None,
    ) -> CaseRecord:
        definition = self._definition(tx, process, version)
        model = definition.model
        settings = model.settings
        if calendar is not None and model.calendar(calendar) is None:
            raise NotFound(f"calendar {calendar!r} is not defined for process {process!r}")
        now = self.clock.now()
        case = CaseRecord(
            ref=ref or f"C-{tx.next_number('case')}",
            process=model.id,
            version=model.version,
            status=CaseStatus.DRAFT,
            created_at=now,
            created_by=by,
            created_how=how,
            title=title if title is not None else model.name,
            customer=customer if customer is not None else model.customer,
            contract=contract if contract is not None else model.contract,
            service=service if service is not None else model.service,
            owner=owner or by,
            queue=queue or settings.queue,
            calendar=calendar or settings.calendar,
            data=data,
            original_request_at=original_request_at or now,
            keep_with_me=settings.keep_with_me,
            keep_actions_with_me=settings.keep_actions_with_me,
            status_set_by=by,
            status_reason=f"created ({how})",
            status_set_at=now,
            updated_by=by,
            updated_at=now,
            parent=parent,
            created_from=created_from,
        )
        tx.insert_case(case)
        tx.append_event(
            EventRecord(
                ref=case.ref,
                case_ref=case.ref,
                at=now,
                kind="created",
                by=by,
                details={
                    "how": how,
                    "process": model.id,
                    "version": model.version,
                    "from": created_from,
                    "to": CaseStatus.DRAFT.value,
                },
            )
        )
        return case

    def submit(self, ref: str, *, by: str) -> Case:
        by = _actor(by)
        with self._case_command(ref) as cmd:
            self._submit(cmd, by)
            return self._case_result(cmd)

    # -- S: statuses and assignment -------------------------------------------------------

    def start_work(self, ref: str, *, by: str) -> Case:
        by = _actor(by)
        with self._case_command(ref) as cmd:
            self._apply(cmd, lifecycle.start_work(cmd.case, by=by, now=cmd.now), by)
            return self._case_result(cmd)

    def set_status(
        self, ref: str, status: CaseStatus | str, *, by: str, reason: str | None = None
    ) -> Case:
        by = _actor(by)
        try:
            target = CaseStatus.parse(status)
        except ValueError as err:
            raise InvalidArgument(f"case {ref}: {err}") from None
        with self._case_command(ref) as cmd:
            out = lifecycle.set_status(cmd.case, target, by=by, reason=reason, now=cmd.now)
            self._apply(cmd, out, by)
            return self._case_result(cmd)

    def assign(self, ref: str, to: str, *, by: str) -> Case:
        by = _actor(by)
        to = _actor(to, "to")
        with self._case_command(ref) as cmd:
            self._apply(cmd, lifecycle.assign(cmd.case, to, by=by, now=cmd.now), by)
            return self._case_result(cmd)

    def unassign(self, ref: str, *, by: str) -> Case:
        by = _actor(by)
        with self._case_command(ref) as cmd:
            self._apply(cmd, lifecycle.unassign(cmd.case, by=by, now=cmd.now), by)
            return self._case_result(cmd)

    def return_to_queue(self, ref: str, *, by: str) -> Case:
        by = _actor(by)
        with self._case_command(ref) as cmd:
            out = lifecycle.unassign(cmd.case, by=by, now=cmd.now, to_queue=True)
            self._apply(cmd, out, by)
            return self._case_result(cmd)

    # -- H: holds ------------------------------------------------------------------------------

    def hold(
        self,
        ref: str,
        kind: HoldKind | str,
        *,
        by: str,
        reason: str | None = None,
        until: datetime | None = None,
    ) -> Case:
        by = _actor(by)
        try:
            hold_kind = HoldKind.parse(kind)
        except ValueError as err:
            raise InvalidArgument(f"case {ref}: {err}") from None
        until = _aware(until, "until")
        with self._case_command(ref) as cmd:
            out = lifecycle.hold(
                cmd.case,
                hold_kind,
                by=by,
                now=cmd.now,
                settings=cmd.definition.model.settings,
                reason=reason,
                until=until,
            )
            self._apply(cmd, out, by)
            return self._case_result(cmd)

    def receive_email(
        self, mailbox: str, *, sender: str, subject: str | None = None, body: str = ""
    ) -> Case:
        """C1: an inbound email to a mailbox route starts a case of the process the route
        belongs to (enabled routes only; the latest deployed version). The case is submitted,
        its title is the subject and the sender its contact; a route in test mode marks the
        case ``data["test_mode"] = True``."""
        sender = _actor(sender, "sender")
        if not isinstance(mailbox, str) or not mailbox.strip():
            raise InvalidArgument("receive_email needs the mailbox the email was sent to")
        try:
            contact = contact_from_mailbox(parse_address(sender), None)
        except InvalidArgument as err:
            raise InvalidArgument(f"receive_email to {mailbox!r} refused: sender {err}") from None
        with self.store.transaction() as tx:
            latest: dict[str, int] = {}
            for process, version in tx.definition_keys():
                latest[process] = max(version, latest.get(process, 0))
            matches = []
            for process, version in sorted(latest.items()):
                model = self._definition(tx, process, version).model
                for route in model.settings.email_routes:
                    if route.enabled and route.mailbox.lower() == mailbox.strip().lower():
                        matches.append((process, version, route.test_mode))
            if not matches:
                raise NotFound(f"no enabled mailbox route {mailbox!r} in the deployed processes")
            if len(matches) > 1:
                names = ", ".join(m[0] for m in matches)
                raise InvalidArgument(f"mailbox {mailbox!r} routes to several processes: {names}")
            process, version, test_mode = matches[0]
            case = self._new_case(
                tx,
                process,
                by=contact["email"],
                data={"test_mode": True} if test_mode else {},
                how="email",
                title=subject or None,
                version=version,
            )
            case.contacts = [contact]
            cmd = _Command(self, tx, case)
            self._event(
                cmd,
                "email_received",
                contact["email"],
                {
                    "mailbox": mailbox,
                    "sender": sender,
                    "subject": subject,
                    "body": body,
                    "test_mode": test_mode,
                },
            )
            self._submit(cmd, contact["email"], what=f"receive_email to {mailbox!r}")
            return self._case_result(cmd)

    def reply(self, ref: str, *, body: str, sender: str | None = None) -> Case:
        """A comment or email reply arrives (H9, R2, R4, V15)."""
        if not isinstance(body, str):
            raise InvalidArgument(f"case {ref}: reply body must be text")
        with self._case_command(ref) as cmd:
            case = cmd.case
            if case.status in (CaseStatus.CLOSED, CaseStatus.CANCELLED):
                new = self._new_case(
                    cmd.tx,
                    case.process,
                    by=sender or "email",
                    data=dict(case.data),
                    how="email",
                    title=case.title,
                    customer=case.customer,
                    contract=case.contract,
                    service=case.service,
                    queue=case.queue,
                    calendar=case.calendar,
                    original_request_at=case.original_request_at,
                    created_from=case.ref,
                )
                new_cmd = _Command(self, cmd.tx, new)
                # V8: the new activity is linked from the closed case (the case itself is
                # unchanged); it records where it came from (C4).
                cmd.tx.add_link(
                    LinkRecord(
                        id=None,
                        case_ref=case.ref,
                        target_ref=new.ref,
                        relation="created from",
                        added_by=sender or "email",
                        added_at=cmd.now,
                    )
                )
                self._event(
                    new_cmd,
                    "reply",
                    sender,
                    {"body": body, "sender": sender, "to_closed_case": case.ref},
                )
                submit = lifecycle.submit(new, by=sender or "email", now=cmd.now)
                with (
                    _flow_guard(case.ref, case.status, "reply"),
                    _within(f"the new case {new.ref} of process {case.process!r} cannot start"),
                ):
                    self._apply(new_cmd, submit, sender)
                return self._case_result(new_cmd)
            out = lifecycle.reply(case, sender=sender, now=cmd.now)
            out.details["body"] = body
            self._apply(cmd, out, sender)
            return self._case_result(cmd)

    # -- R: resolution ----------------------------------------------------------------------

    def resolve(self, ref: str, *, by: str) -> Case:
        by = _actor(by)
        with self._case_command(ref) as cmd:
            settings = cmd.definition.model.settings
            window = settings.feedback_window
            feedback_until = cmd.now + timedelta(minutes=window.total_minutes) if window else None
            unfinished = [s.ref for s in cmd.tx.subcases_of(ref) if s.status.is_open]
            out = lifecycle.resolve(
                cmd.case,
                by=by,
                now=cmd.now,
                settings=settings,
                feedback_until=feedback_until,
                unfinished_subcases=unfinished,
            )
            self._apply(cmd, out, by)
            return self._case_result(cmd)

    def reopen(self, ref: str, *, by: str) -> Case:
        by = _actor(by)
        with self._case_command(ref) as cmd:
            self._apply(cmd, lifecycle.reopen(cmd.case, by=by, now=cmd.now), by)
            return self._case_result(cmd)

    def cancel(self, ref: str, *, by: str) -> Case:
        by = _actor(by)
        with self._case_command(ref) as cmd:
            self._apply(cmd, lifecycle.cancel(cmd.case, by=by, now=cmd.now), by)
            return self._case_result(cmd)

    # -- timers ---------------------------------------------------------------------------------

    def tick(self) -> list[TimerFired]:
        """Fire every timer due at ``clock.now()``, each exactly once, each in its own
        transaction (H6 wake-ups, R4 feedback windows), then every due schedule occurrence
        (C1: a new submitted case each, see :meth:`_fire_schedule`).

        A timer or occurrence whose work is refused (an ``EngineError``: the flow cannot move
        on, a sub-case process is not deployed...) does not fire: its transaction rolls back,
        it stays due (the next tick tries it again) and the others still fire. The first
        refusal is then raised (``case C-1 is Waiting: tick (hold_until timer) refused: ...``),
        the others added to it as notes; what did fire is committed.
        """
        now = self.clock.now()
        with self.store.transaction() as tx:
            due = tx.due_timers(now)
        fired: list[TimerFired] = []
        refused: list[EngineError] = []
        for timer in due:
            assert timer.id is not None
            try:
                with self.store.transaction() as tx:
                    if not tx.mark_fired(timer.id, now):
                        continue  # another engine fired or cancelled it meanwhile
                    case = tx.get_case(timer.case_ref)
                    if case is None:
                        continue
                    cmd = _Command(self, tx, case)
                    out: Outcome | None
                    if timer.kind == "hold_until":
                        out = lifecycle.wake_up(case, now=now)
                    elif timer.kind == "feedback_window":
                        out = lifecycle.close(case, now=now)
                    else:
                        raise ValueError(f"unknown timer kind {timer.kind!r} on case {case.ref}")
                    if out is not None:
                        out.details["timer"] = timer.kind
                        self._apply(cmd, out, None, what=f"tick ({timer.kind} timer)")
                    fired.append(TimerFired(timer.kind, case.ref, timer.fire_at, now, case.status))
            except EngineError as err:
                refused.append(err)
        with self.store.transaction() as tx:
            schedules = tx.due_schedules(now)
        for schedule in schedules:
            fired.extend(self._fire_schedule(schedule, now, refused))
        if refused:
            first, *others = refused
            for other in others:
                first.add_note(f"also refused: {other}")
            raise first
        return fired

    def _fire_schedule(
        self, schedule: ScheduleRecord, now: datetime, refused: list[EngineError]
    ) -> list[TimerFired]:
        """C1: each occurrence of ``schedule`` due at ``now`` not fired yet, oldest first, at
        most :data:`MAX_CATCH_UP`: one transaction each, which moves ``next_at`` on by the
        period (compare-and-set: an occurrence another engine fired is skipped) and creates
        the case. Missed occurrences (the engine was down, or ``first`` was in the past) each
        still fire once, their case's ``original_request_at`` being the occurrence.

        An occurrence whose case is refused (its flow cannot start) is added to ``refused``
        and ends the catch-up: its transaction rolls back, so it and the later occurrences stay
        due; the cases created before it are kept.
        """
        assert schedule.id is not None
        period = timedelta(seconds=schedule.every_seconds)
        occurrence: datetime | None = schedule.next_at
        fired: list[TimerFired] = []
        while occurrence is not None and occurrence <= now and len(fired) < MAX_CATCH_UP:
            try:
                with self.store.transaction() as tx:
                    if tx.advance_schedule(schedule.id, occurrence, occurrence + period):
                        fired.append(self._scheduled_case(tx, schedule, occurrence, now))
                        occurrence += period
                    else:  # another engine fired it, or a new version stopped the schedule
                        current = tx.get_schedule(schedule.id)
                        occurrence = current.next_at if current and current.active else None
            except EngineError as err:
                refused.append(err)
                break
        return fired

    def _scheduled_case(
        self, tx: StoreTransaction, schedule: ScheduleRecord, occurrence: datetime, now: datetime
    ) -> TimerFired:
        """The case of one schedule occurrence: submitted (To Do, SLA started; C2, C3) unless
        the process requires contacts (V10), which a scheduled case has none of: it then stays
        Draft for a person to complete and submit."""
        case = self._new_case(
            tx,
            schedule.process,
            by=SCHEDULER,
            data={},
            how="schedule",
            title=schedule.title,
            version=schedule.version,
            original_request_at=occurrence,
        )
        cmd = _Command(self, tx, case)
        required = cmd.definition.model.settings.required_contacts
        if not missing_required(case.contacts, required):
            self._submit(cmd, SCHEDULER, what=f"tick (schedule of process {schedule.process!r})")
        return TimerFired("schedule", case.ref, occurrence, now, case.status)

    def open_case(self, ref: str, *, by: str) -> Case:
        """A person opens the case: clears ``highlighted`` (H8, V15)."""
        by = _actor(by)
        with self._case_command(ref) as cmd:
            if cmd.case.highlighted:
                cmd.case.highlighted = False
                cmd.tx.update_case(cmd.case)
            return self._case_result(cmd)

    def mark_read(self, ref: str, *, by: str) -> Case:
        """V15: the new information was read: the case is no longer highlighted."""
        return self._set_highlight(ref, False, by)

    def mark_unread(self, ref: str, *, by: str) -> Case:
        """V15: mark the case's information as new again: highlighted until opened."""
        return self._set_highlight(ref, True, by)

    def _set_highlight(self, ref: str, value: bool, by: str) -> Case:
        by = _actor(by)
        with self._case_command(ref) as cmd:
            if cmd.case.highlighted != value:
                cmd.case.highlighted = value
                self._event(cmd, "marked_unread" if value else "marked_read", by, {})
                cmd.tx.update_case(cmd.case)
            return self._case_result(cmd)

    # -- V: edits ---------------------------------------------------------------------------

    def set_title(self, ref: str, title: str, *, by: str) -> Case:
        by = _actor(by)
        if not isinstance(title, str) or not title.strip():
            raise InvalidArgument(f"case {ref}: title must be a non-empty string")
        with self._case_command(ref) as cmd:
            lifecycle.check(cmd.case, Command.EDIT, "set_title")
            if not cmd.definition.model.settings.allow_title_edit:
                raise PermissionDenied(
                    f"case {ref} is {cmd.case.status.value}: set_title refused: process "
                    f"{cmd.case.process!r} does not allow title edits (V3)"
                )
            previous = cmd.case.title
            cmd.case.title = title
            cmd.case.updated_by, cmd.case.updated_at = by, cmd.now
            self._event(cmd, "title_set", by, {"title": title, "previous": previous})
            cmd.tx.update_case(cmd.case)
            return self._case_result(cmd)

    def override_due(self, ref: str, due: datetime, *, by: str) -> Case:
        by = _actor(by)
        new_due = _aware(due, "due")
        if new_due is None:
            raise InvalidArgument(f"case {ref}: override_due needs a date/time")
        with self._case_command(ref) as cmd:
            lifecycle.check(cmd.case, Command.EDIT, "override_due")
            if not cmd.definition.model.settings.allow_due_date_override:
                raise PermissionDenied(
                    f"case {ref} is {cmd.case.status.value}: override_due refused: process "
                    f"{cmd.case.process!r} does not allow due date overrides (V5)"
                )
            sla.override_due(cmd.case, new_due, cmd.now, cmd.calendar)
            cmd.case.updated_by, cmd.case.updated_at = by, cmd.now
            self._event(cmd, "due_overridden", by, {"due": new_due.isoformat()})
            cmd.tx.update_case(cmd.case)
            return self._case_result(cmd)

    # -- V9: keep with me -------------------------------------------------------------------

    def set_keep_with_me(self, ref: str, value: bool, *, by: str) -> Case:
        """V9: keep the case with the current user: it is assigned to ``by``."""
        by = _actor(by)
        with self._case_command(ref) as cmd:
            lifecycle.check(cmd.case, Command.EDIT, "keep_with_me")
            cmd.case.keep_with_me = bool(value)
            if value and cmd.case.assignee != by:
                cmd.case.assignee = by
                cmd.case.last_assignee = by
            cmd.case.updated_by, cmd.case.updated_at = by, cmd.now
            self._event(cmd, "setting_changed", by, {"keep_with_me": bool(value)})
            cmd.tx.update_case(cmd.case)
            return self._case_result(cmd)

    def set_keep_actions_with_me(self, ref: str, value: bool, *, by: str) -> Case:
        """V9, RW10: new actions of the case go to its assignee (taking priority over the
        rework rule of assigning them to whoever did them before)."""
        by = _actor(by)
        with self._case_command(ref) as cmd:
            lifecycle.check(cmd.case, Command.EDIT, "keep_actions_with_me")
            cmd.case.keep_actions_with_me = bool(value)
            if value and cmd.case.assignee is None:
                cmd.case.assignee = by
                cmd.case.last_assignee = by
            cmd.case.updated_by, cmd.case.updated_at = by, cmd.now
            self._event(cmd, "setting_changed", by, {"keep_actions_with_me": bool(value)})
            cmd.tx.update_case(cmd.case)
            return self._case_result(cmd)
