"""``engine.Engine``: the façade applications embed to run cases.

Each public command is one store transaction: load the case, check and change it through the
pure lifecycle (``engine.runtime.lifecycle``), carry out the side effects it names (SLA, timers,
actions, the SpiffWorkflow flow), append the timeline event, write. Any refusal raises an
``EngineError`` before the transaction commits, so nothing is changed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import Any

from engine.builder.loader import load_source, read_source
from engine.clock import Clock, SystemClock, require_aware
from engine.errors import (
    DefinitionError,
    FlowError,
    InvalidArgument,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    Problem,
)
from engine.model import ProcessDefinition
from engine.runtime import actions as act
from engine.runtime import lifecycle, sla
from engine.runtime import rework as rw
from engine.runtime.flow import FlowRunner, runner_for
from engine.runtime.lifecycle import Command, Outcome
from engine.runtime.records import (
    ActionRecord,
    CaseRecord,
    DefinitionRecord,
    EventRecord,
    TimerRecord,
)
from engine.runtime.snapshots import Action, Case, ReworkPoint, TimelineEvent, TimerFired
from engine.runtime.sql_store import SqlStore
from engine.runtime.status import CaseStatus, HoldKind
from engine.runtime.store import Store, StoreTransaction
from engine.runtime.subcases import SubcaseOption, SubcaseSummary, subcase_options

DEFAULT_URL = "sqlite:///caseloom.sqlite"


def _actor(by: object, what: str = "by") -> str:
    if not isinstance(by, str) or not by.strip():
        raise InvalidArgument(f"{what} must name who acts (a non-empty string), got {by!r}")
    return by.strip()


def _aware(value: datetime | None, what: str) -> datetime | None:
    if value is None:
        return None
    return require_aware(value, what)


def _json_data(data: object, what: str = "data") -> dict[str, Any]:
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise InvalidArgument(f"{what} must be a mapping, not {type(data).__name__}")
    try:
        text = json.dumps(dict(data), allow_nan=False)
    except (TypeError, ValueError) as err:
        raise InvalidArgument(f"{what} is not JSON-serialisable: {err}") from None
    loaded: dict[str, Any] = json.loads(text)
    return loaded


@contextmanager
def _flow_guard(ref: str, status: CaseStatus, what: str) -> Iterator[None]:
    """Name the case, its status and the command in a FlowError (the command then rolls back)."""
    try:
        yield
    except FlowError as err:
        raise FlowError(f"case {ref} is {status.value}: {what} refused: {err}") from err


class _Command:
    """The state one command works on inside its transaction."""

    def __init__(self, engine: Engine, tx: StoreTransaction, case: CaseRecord) -> None:
        self.engine = engine
        self.tx = tx
        self.case = case
        self.definition = engine._definition(tx, case.process, case.version)
        self.now = engine.clock.now()

    @cached_property
    def calendar(self) -> Any:
        return sla.case_calendar(self.definition.model, self.case.calendar)

    @property
    def runner(self) -> FlowRunner:
        return runner_for(self.definition)


class Engine:
    """Runs cases of deployed process definitions, durably, on an injected clock."""

    def __init__(
        self, url: str = DEFAULT_URL, *, clock: Clock | None = None, store: Store | None = None
    ) -> None:
        self.clock: Clock = clock or SystemClock()
        self.store: Store = store or SqlStore(url)
        self._definitions: dict[tuple[str, int], ProcessDefinition] = {}

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- definitions ---------------------------------------------------------------------

    def deploy(self, source: str | Path) -> ProcessDefinition:
        """Validate and deploy a ``.yaml``/``.bpmn`` definition; returns it.

        The same id and version with the same content is a no-op; with other content it is
        refused (deploy a new version instead). Sub-case processes are checked when a sub-case
        is created, so definitions may be deployed in any order.
        """
        path = Path(source)
        data = read_source(path)
        definition = load_source(data, str(path)).definition
        with self.store.transaction() as tx:
            stored = tx.get_definition(definition.id, definition.version)
            if stored is not None:
                if stored.digest != definition.digest:
                    raise DefinitionError(
                        Problem(
                            f"process {definition.id!r} version {definition.version} is already "
                            f"deployed (from {stored.source_name}) with different content; "
                            "deploy it as a new version",
                            file=str(path),
                            path="version",
                            code="E-VERSION",
                        )
                    )
                return self._definition(tx, definition.id, definition.version)
            tx.add_definition(
                DefinitionRecord(
                    process=definition.id,
                    version=definition.version,
                    digest=definition.digest,
                    source_name=str(path),
                    source_kind="yaml" if str(path).lower().endswith((".yaml", ".yml")) else "bpmn",
                    source=data,
                    bpmn=definition.bpmn,
                    deployed_at=self.clock.now(),
                )
            )
        self._definitions[definition.key] = definition
        return definition

    def definition(self, process: str, version: int | None = None) -> ProcessDefinition:
        """A deployed definition (the latest version when ``version`` is None)."""
        with self.store.transaction() as tx:
            return self._definition(tx, process, version)

    def _definition(
        self, tx: StoreTransaction, process: str, version: int | None
    ) -> ProcessDefinition:
        if version is None:
            versions = tx.definition_versions(process)
            if not versions:
                raise NotFound(f"process {process!r} is not deployed")
            version = versions[-1]
        key = (process, version)
        cached = self._definitions.get(key)
        if cached is not None:
            return cached
        record = tx.get_definition(process, version)
        if record is None:
            raise NotFound(f"process {process!r} version {version} is not deployed")
        definition = load_source(record.bpmn, record.source_name, kind="bpmn").definition
        definition = replace(definition, source=record.source_name)
        self._definitions[key] = definition
        return definition

    # -- plumbing --------------------------------------------------------------------------

    @contextmanager
    def _case_command(self, ref: str, *, via_action: bool = False) -> Iterator[_Command]:
        """One transaction on a case; with ``via_action`` the ref may also be one of the case's
        actions (A2, RW1: launch or rework "from any action of the case")."""
        with self.store.transaction() as tx:
            case = tx.get_case(ref)
            if case is None and via_action:
                action = tx.get_action(ref)
                if action is None:
                    raise NotFound(f"case or action {ref!r} not found")
                case = tx.get_case(action.case_ref)
            if case is None:
                raise NotFound(f"case {ref!r} not found")
            yield _Command(self, tx, case)

    @contextmanager
    def _action_command(self, ref: str) -> Iterator[tuple[_Command, ActionRecord]]:
        with self.store.transaction() as tx:
            action = tx.get_action(ref)
            if action is None:
                raise NotFound(f"action {ref!r} not found")
            case = tx.get_case(action.case_ref)
            if case is None:
                raise NotFound(f"case {action.case_ref!r} of action {ref!r} not found")
            yield _Command(self, tx, case), action

    def _event(
        self,
        cmd: _Command,
        kind: str,
        by: str | None,
        details: dict[str, Any],
        ref: str | None = None,
    ) -> None:
        cmd.tx.append_event(
            EventRecord(
                ref=ref or cmd.case.ref,
                case_ref=cmd.case.ref,
                at=cmd.now,
                kind=kind,
                by=by,
                details=details,
            )
        )

    def _apply(
        self, cmd: _Command, out: Outcome, by: str | None, *, notify_parent: bool = True
    ) -> None:
        """Carry out an Outcome's side effects, record the event, write the case."""
        case, tx, now = cmd.case, cmd.tx, cmd.now
        calendar = cmd.calendar
        if out.sla == "start":
            sla.start_sla(case, cmd.definition.model.settings.due, calendar, now)
        elif out.sla == "pause":
            sla.pause_sla(case, calendar, now)
        elif out.sla == "resume":
            sla.resume_sla(case, calendar, now)
        if out.cancel_all_timers:
            tx.cancel_timers(case.ref)
        for kind in out.cancel_timers:
            tx.cancel_timers(case.ref, kind)
        if out.set_timer is not None:
            kind, at = out.set_timer
            tx.cancel_timers(case.ref, kind)
            tx.add_timer(TimerRecord(case_ref=case.ref, kind=kind, fire_at=at))
        details = dict(out.details)
        if out.status_changed:
            details.setdefault("reason", case.status_reason)
        self._event(cmd, out.event, by, details)
        if out.close_open_actions:
            self._close_open_actions(cmd, out.event, by)
        if out.start_flow:
            runner = cmd.runner
            with _flow_guard(case.ref, out.status_from, out.command.value):
                workflow = runner.start(case.data)
            self._sync_flow(cmd, workflow)
            tx.put_workflow(case.ref, runner.dumps(workflow, release=True))
        elif out.sync_flow:
            self._resume_flow(cmd)
        tx.update_case(case)
        finished = out.status_from.is_open and not out.status_to.is_open
        if finished and case.parent is not None and notify_parent:
            self._subcase_finished(cmd)

    def _close_open_actions(self, cmd: _Command, reason: str, by: str | None) -> None:
        for action in cmd.tx.actions_of(cmd.case.ref):
            if act.is_open(action):
                action.status = CaseStatus.CLOSED
                action.closed_reason = reason
                cmd.tx.update_action(action)
                self._event(cmd, "action_closed", by, {"reason": reason}, ref=action.ref)

    def _resume_flow(self, cmd: _Command) -> None:
        """H2: when the case is back to To Do / In Progress, create the pending actions."""
        state = cmd.tx.get_workflow(cmd.case.ref)
        if state is None:
            return
        self._sync_flow(cmd, cmd.runner.loads(state))

    def _sync_flow(self, cmd: _Command, workflow: Any, *, rework: bool = False) -> None:
        """Create an action for every READY step that has none (never while Waiting, H2).

        A sub-case step's action starts at once and its sub-case is created (C1, SC1); the
        step completes when the sub-case finishes. After a rework, re-created actions go to
        whoever did them before (RW10) unless the case keeps actions with its assignee.
        """
        case = cmd.case
        if case.status not in (CaseStatus.TO_DO, CaseStatus.IN_PROGRESS):
            return
        runner = cmd.runner
        existing = cmd.tx.actions_of(case.ref)
        linked = {a.task_id for a in existing if a.task_id and act.is_open(a)}
        seq = len(existing)
        model = cmd.definition.model
        for step in runner.ready_steps(workflow):
            if step.task_id in linked:
                continue
            seq += 1
            definition = model.action(step.action_id)
            rule = definition.due if definition else None
            due = sla.action_due(rule, case, cmd.calendar, cmd.now)
            record = act.new_action(
                ref=f"A-{cmd.tx.next_number('action')}",
                case=case,
                definition=definition,
                action_type=step.action_id,
                stage=step.stage,
                seq=seq,
                now=cmd.now,
                due=due,
                task_id=step.task_id,
            )
            if rework and not case.keep_actions_with_me:
                record.assignee = rw.previous_doer(existing, record.action_type)
                record.last_assignee = record.assignee
            if step.subcase:
                record.status = CaseStatus.IN_PROGRESS
                record.started_at = cmd.now
            cmd.tx.insert_action(record)
            self._event(
                cmd,
                "action_created",
                None,
                {"action_type": record.action_type, "stage": record.stage},
                ref=record.ref,
            )
            if step.subcase:
                sub = self._create_subcase(
                    cmd, step.subcase, by=case.assignee or case.owner or case.created_by,
                    how="flow", created_from=record.ref, title=record.title,
                )
                self._event(cmd, "subcase_started", None, {"subcase": sub.ref},
                            ref=record.ref)
        if runner.is_finished(workflow) and not case.flow_finished:
            case.flow_finished = True
            self._event(cmd, "flow_finished", None, {})

    def _snapshot(self, tx: StoreTransaction, case: CaseRecord) -> Case:
        definition = self._definition(tx, case.process, case.version)
        model = definition.model
        calendar = sla.case_calendar(model, case.calendar)
        now = self.clock.now()
        open_stages = [a.stage for a in tx.actions_of(case.ref) if act.is_open(a) and not a.ad_hoc]
        if case.status is CaseStatus.CANCELLED:
            due_state = due_text = None  # R5: no more work, no SLA to show
        else:
            # A resolved case's SLA stopped at its resolution: show it as it stood then.
            finished = case.status in (CaseStatus.RESOLVED, CaseStatus.CLOSED)
            sla_now = case.resolved_at if finished and case.resolved_at else now
            due_state = sla.due_state(case, calendar, sla_now)
            due_text = sla.due_text(case, calendar, sla_now)
        context = " - ".join(
            x for x in (case.customer, case.contract, case.service, model.name) if x
        )
        return Case(
            ref=case.ref,
            process=case.process,
            version=case.version,
            title=case.title,
            customer=case.customer,
            contract=case.contract,
            service=case.service,
            status=case.status,
            hold_kind=case.hold_kind,
            hold_reason=case.hold_reason,
            hold_until=case.hold_until,
            assignee=case.assignee,
            owner=case.owner,
            queue=case.queue,
            due=case.due,
            due_state=due_state,
            due_text=due_text,
            parent=case.parent,
            subcases=(
                tuple(s.ref for s in tx.subcases_of(case.ref)) if case.subcase_count else ()
            ),
            data=dict(case.data),
            highlighted=case.highlighted,
            created_at=case.created_at,
            created_by=case.created_by,
            created_how=case.created_how,
            original_request_at=case.original_request_at,
            first_resolved_by=case.first_resolved_by,
            first_resolved_at=case.first_resolved_at,
            status_set_by=case.status_set_by,
            status_reason=case.status_reason,
            status_set_at=case.status_set_at,
            updated_by=case.updated_by,
            updated_at=case.updated_at,
            calendar=case.calendar,
            keep_with_me=case.keep_with_me,
            keep_actions_with_me=case.keep_actions_with_me,
            resolved_by=case.resolved_by,
            resolved_at=case.resolved_at,
            context=context,
            stage=max(open_stages) if open_stages else None,
            sop_url=model.settings.sop_url,
            contacts=tuple(dict(c) for c in case.contacts),
        )

    def _case_result(self, cmd: _Command) -> Case:
        return self._snapshot(cmd.tx, cmd.case)

    def _action_result(self, cmd: _Command, action: ActionRecord) -> Action:
        return act.snapshot(action, cmd.definition.model)

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
    ) -> Case:
        """A new case: Draft, or To Do when ``submit`` (C1-C4)."""
        by = _actor(by)
        payload = _json_data(data)
        original = _aware(original_request_at, "original_request_at")
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
            cmd = _Command(self, tx, case)
            if submit:
                self._apply(cmd, lifecycle.submit(case, by=by, now=cmd.now), by)
            return self._case_result(cmd)

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
            self._apply(cmd, lifecycle.submit(cmd.case, by=by, now=cmd.now), by)
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
                self._event(
                    new_cmd,
                    "reply",
                    sender,
                    {"body": body, "sender": sender, "to_closed_case": case.ref},
                )
                self._apply(
                    new_cmd, lifecycle.submit(new, by=sender or "email", now=cmd.now), sender
                )
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
        transaction (H6 wake-ups, R4 feedback windows)."""
        now = self.clock.now()
        with self.store.transaction() as tx:
            due = tx.due_timers(now)
        fired: list[TimerFired] = []
        for timer in due:
            assert timer.id is not None
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
                    self._apply(cmd, out, None)
                fired.append(TimerFired(timer.kind, case.ref, timer.fire_at, now, case.status))
        return fired

    # -- reading ----------------------------------------------------------------------------

    def case(self, ref: str) -> Case:
        """A snapshot; never changes anything."""
        with self.store.transaction() as tx:
            case = tx.get_case(ref)
            if case is None:
                raise NotFound(f"case {ref!r} not found")
            return self._snapshot(tx, case)

    def open_case(self, ref: str, *, by: str) -> Case:
        """A person opens the case: clears ``highlighted`` (H8, V15)."""
        by = _actor(by)
        with self._case_command(ref) as cmd:
            if cmd.case.highlighted:
                cmd.case.highlighted = False
                cmd.tx.update_case(cmd.case)
            return self._case_result(cmd)

    def actions(self, ref: str) -> list[Action]:
        """The case's actions in A3 order."""
        with self.store.transaction() as tx:
            case = tx.get_case(ref)
            if case is None:
                raise NotFound(f"case {ref!r} not found")
            return self._a3_actions(tx, case)

    def _a3_actions(self, tx: StoreTransaction, case: CaseRecord) -> list[Action]:
        """A3: the case's actions in listing order, as snapshots."""
        model = self._definition(tx, case.process, case.version).model
        records = tx.actions_of(case.ref)
        calendar = sla.case_calendar(model, case.calendar)
        left = sla.time_left(case, calendar, self.clock.now()) if sla.is_paused(case) else None
        paused_left = left.total_seconds() if left is not None else None
        records.sort(
            key=lambda a: act.a3_key(a, paused_left if act.is_open(a) else None)
        )
        return [act.snapshot(a, model) for a in records]

    def action(self, ref: str) -> Action:
        with self.store.transaction() as tx:
            record = tx.get_action(ref)
            if record is None:
                raise NotFound(f"action {ref!r} not found")
            case = tx.get_case(record.case_ref)
            model = self._definition(tx, case.process, case.version).model if case else None
            return act.snapshot(record, model)

    def inbox(self, user: str) -> list[Case]:
        """H8: To Do / In Progress cases assigned to ``user``."""
        user = _actor(user, "user")
        with self.store.transaction() as tx:
            return [self._snapshot(tx, c) for c in tx.inbox(user)]

    def responsibilities(self, user: str) -> list[Case]:
        """H8: Waiting cases whose assignee (or owner, when unassigned) is ``user``."""
        user = _actor(user, "user")
        with self.store.transaction() as tx:
            return [self._snapshot(tx, c) for c in tx.responsibilities(user)]

    def timeline(
        self, ref: str, *, include_related: bool = False, kinds: Sequence[str] | str | None = None
    ) -> list[TimelineEvent]:
        """V18: events of a case or action; with ``include_related`` also those of its actions
        and sub-cases (or, for an action, of its case)."""
        if isinstance(kinds, str):
            kinds = [kinds]
        with self.store.transaction() as tx:
            refs = [ref]
            case = tx.get_case(ref)
            if case is None:
                action = tx.get_action(ref)
                if action is None:
                    raise NotFound(f"case or action {ref!r} not found")
                owner: str | None = action.case_ref
                if include_related:
                    refs.append(action.case_ref)
            else:
                owner = case.parent
                if include_related:
                    refs += [a.ref for a in tx.actions_of(ref)]
                    for sub in tx.subcases_of(ref):
                        refs.append(sub.ref)
                        refs += [a.ref for a in tx.actions_of(sub.ref)]
                    if case.parent is not None:  # SC6: the parent and its related activities
                        refs.append(case.parent)
                        refs += [a.ref for a in tx.actions_of(case.parent)]
                        refs += [s.ref for s in tx.subcases_of(case.parent) if s.ref != ref]
            wanted = list(kinds) if kinds is not None else None
            events = tx.events_for(refs, wanted)
            if wanted is not None and "rework" in wanted and owner and owner not in refs:
                # RW9: with the rework-history filter, an action or a sub-case also shows the
                # reworks of the case it belongs to.
                events += tx.events_for([owner], ["rework"])
                events.sort(key=lambda e: (e.at, e.id or 0))
            return [
                TimelineEvent(
                    kind=e.kind,
                    at=e.at,
                    by=e.by,
                    details=dict(e.details),
                    ref=e.ref,
                    case_ref=e.case_ref,
                    id=e.id,
                )
                for e in events
            ]

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

    # -- A: actions -----------------------------------------------------------------------

    def _check_action_open(self, cmd: _Command, action: ActionRecord, what: str) -> None:
        lifecycle.check(cmd.case, Command.WORK_ACTION, f"{what} {action.ref}")
        if not act.is_open(action):
            raise InvalidTransition(
                f"action {action.ref} of case {cmd.case.ref} is {action.status.value}: "
                f"cannot {what} (case is {cmd.case.status.value})"
            )

    def _check_not_waiting_for_subcase(
        self, cmd: _Command, action: ActionRecord, what: str
    ) -> None:
        """SC1: a sub-case step completes when its sub-case finishes, never by hand."""
        definition = cmd.definition.model.action(action.action_type)
        if action.ad_hoc or definition is None or definition.subcase is None:
            return
        waiting = [s.ref for s in cmd.tx.subcases_of(cmd.case.ref)
                   if s.created_from == action.ref and s.status.is_open]
        if waiting:
            raise InvalidTransition(
                f"case {cmd.case.ref} is {cmd.case.status.value}: cannot {what} {action.ref}: "
                f"the step waits for sub-case {', '.join(waiting)} to finish (SC1)")

    def _start(self, cmd: _Command, action: ActionRecord, by: str) -> None:
        action.status = CaseStatus.IN_PROGRESS
        action.assignee = by
        action.last_assignee = by
        action.started_at = cmd.now
        self._event(cmd, "action_started", by, {"assignee": by}, ref=action.ref)

    def start_action(self, ref: str, *, by: str) -> Action:
        by = _actor(by)
        with self._action_command(ref) as (cmd, action):
            self._check_action_open(cmd, action, "start_action")
            if action.status is CaseStatus.IN_PROGRESS and action.assignee == by:
                raise InvalidTransition(
                    f"action {ref} of case {cmd.case.ref} is In Progress with {by} already "
                    f"(case is {cmd.case.status.value}): cannot start_action again"
                )
            self._start(cmd, action, by)
            cmd.tx.update_action(action)
            cmd.case.updated_by, cmd.case.updated_at = by, cmd.now
            cmd.tx.update_case(cmd.case)
            return self._action_result(cmd, action)

    def complete_action(
        self, ref: str, *, by: str, data: Mapping[str, Any] | None = None
    ) -> Action:
        """Complete an action (starting it first if To Do); ``data`` merges into the case data
        before the flow moves on (H2: no follow-on action while the case waits)."""
        by = _actor(by)
        payload = _json_data(data)
        with self._action_command(ref) as (cmd, action):
            self._check_action_open(cmd, action, "complete_action")
            self._check_not_waiting_for_subcase(cmd, action, "complete_action")
            if action.status is CaseStatus.TO_DO:
                self._start(cmd, action, by)
            case = cmd.case
            case.data.update(payload)
            self._share_data(cmd, payload)
            action.status = CaseStatus.RESOLVED
            action.completed_by = by
            action.completed_at = cmd.now
            action.error = None
            cmd.tx.update_action(action)
            self._event(
                cmd,
                "action_completed",
                by,
                {"action_type": action.action_type, "data": payload},
                ref=action.ref,
            )
            if action.task_id is not None:
                runner = cmd.runner
                state = cmd.tx.get_workflow(case.ref)
                if state is None:
                    raise NotFound(f"case {case.ref} has no workflow state")
                workflow = runner.loads(state)
                with _flow_guard(case.ref, case.status, f"complete_action {action.ref}"):
                    runner.complete(workflow, action.task_id, case.data)
                self._sync_flow(cmd, workflow)
                cmd.tx.put_workflow(case.ref, runner.dumps(workflow, release=True))
            case.updated_by, case.updated_at = by, cmd.now
            cmd.tx.update_case(case)
            return self._action_result(cmd, action)

    def fail_action(self, ref: str, *, error: str) -> Action:
        """S4: an automation problem: the action goes To Do unassigned, keeping the error; the
        case goes To Do with the action as reason."""
        if not isinstance(error, str) or not error.strip():
            raise InvalidArgument(f"action {ref}: fail_action needs an error text")
        with self._action_command(ref) as (cmd, action):
            self._check_action_open(cmd, action, "fail_action")
            action.status = CaseStatus.TO_DO
            action.assignee = None
            action.error = error
            cmd.tx.update_action(action)
            self._event(cmd, "action_failed", None, {"error": error}, ref=action.ref)
            out = lifecycle.fail_action(cmd.case, action.ref, error, now=cmd.now)
            self._apply(cmd, out, None)
            return self._action_result(cmd, action)

    def refuse_action(self, ref: str, *, by: str) -> Action:
        """S3: a robot refuses the action: back to To Do, unassigned, for a person."""
        by = _actor(by)
        with self._action_command(ref) as (cmd, action):
            self._check_action_open(cmd, action, "refuse_action")
            action.status = CaseStatus.TO_DO
            action.assignee = None
            action.started_at = None
            cmd.tx.update_action(action)
            self._event(cmd, "action_refused", by, {}, ref=action.ref)
            cmd.case.updated_by, cmd.case.updated_at = by, cmd.now
            cmd.tx.update_case(cmd.case)
            return self._action_result(cmd, action)

    def launch_action(
        self,
        case_ref: str,
        action_type: str,
        *,
        by: str,
        due: datetime | None = None,
        count: int = 1,
        instructions: str | None = None,
    ) -> list[Action]:
        """A1, A2: launch ad hoc actions of a ``manual_launch`` type; the case is otherwise
        unchanged. ``case_ref`` may also be the ref of one of the case's actions."""
        by = _actor(by)
        due_at = _aware(due, "due")
        with self._case_command(case_ref, via_action=True) as cmd:
            tx, case = cmd.tx, cmd.case
            lifecycle.check(case, Command.LAUNCH_ACTION, action_type)
            if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= 100:
                raise InvalidArgument(
                    f"case {case.ref} is {case.status.value}: launch_action count must be 1 "
                    f"to 100, not {count!r}"
                )
            model = cmd.definition.model
            definition = model.action(action_type)
            if definition is None:
                raise NotFound(
                    f"case {case.ref} is {case.status.value}: launch_action: process "
                    f"{case.process!r} has no action type {action_type!r}"
                )
            if not definition.manual_launch:
                raise PermissionDenied(
                    f"case {case.ref} is {case.status.value}: launch_action refused: action "
                    f"type {action_type!r} is not flagged manual_launch (A2)"
                )
            if due_at is not None and due_at <= cmd.now:
                raise InvalidArgument(
                    f"case {case.ref} is {case.status.value}: launch_action due "
                    f"{due_at.isoformat()} is in the past"
                )
            if due_at is None:
                due_at = sla.action_due(definition.due, case, cmd.calendar, cmd.now)
            existing = len(tx.actions_of(case.ref))
            created: list[Action] = []
            for i in range(count):
                record = act.new_action(
                    ref=f"A-{tx.next_number('action')}",
                    case=case,
                    definition=definition,
                    action_type=action_type,
                    stage=model.stage_of(action_type) or 1,
                    seq=existing + i + 1,
                    now=cmd.now,
                    due=due_at,
                    ad_hoc=True,
                    instructions=instructions,
                )
                tx.insert_action(record)
                self._event(
                    cmd,
                    "action_launched",
                    by,
                    {"action_type": action_type, "ad_hoc": True},
                    ref=record.ref,
                )
                created.append(act.snapshot(record, model))
            return created

    # -- SC: sub-cases ------------------------------------------------------------------------

    def _create_subcase(
        self,
        cmd: _Command,
        process: str,
        *,
        by: str,
        how: str,
        created_from: str | None = None,
        title: str | None = None,
        due: datetime | None = None,
        calendar: str | None = None,
        contacts: list[dict[str, Any]] | None = None,
    ) -> CaseRecord:
        """A submitted sub-case of ``cmd.case`` (SC1-SC3, SC6, SC9, SC10, C4); the caller
        writes the parent (its sub-case counter changed)."""
        parent, tx = cmd.case, cmd.tx
        model = self._definition(tx, process, None).model
        status = f"case {parent.ref} is {parent.status.value}"
        if calendar is None and how == "flow":
            calendar = model.settings.calendar or parent.calendar
        if calendar is None and model.settings.calendar_required:
            raise InvalidArgument(
                f"{status}: create_subcase of {process!r} needs a calendar (SC9)")
        if due is not None and not model.settings.allow_due_date_override:
            raise PermissionDenied(
                f"{status}: create_subcase: process {process!r} does not allow overriding the "
                "due date (SC9)")
        if due is not None and due <= cmd.now:
            raise InvalidArgument(f"{status}: create_subcase due {due.isoformat()} is in the past")
        parent.subcase_count += 1
        sub = self._new_case(
            tx, process, by=by, data=dict(parent.data), how=how, title=title,
            customer=parent.customer, calendar=calendar,
            original_request_at=parent.original_request_at, parent=parent.ref,
            ref=f"{parent.ref}-{parent.subcase_count}", created_from=created_from or parent.ref,
        )
        sub.contacts = list(contacts or [])
        sub_cmd = _Command(self, tx, sub)
        self._apply(sub_cmd, lifecycle.submit(sub, by=by, now=cmd.now), by)
        if due is not None:
            sla.override_due(sub, due, cmd.now, sub_cmd.calendar)
            tx.update_case(sub)
        self._event(cmd, "subcase_created", by, {"subcase": sub.ref, "process": process})
        return sub

    def create_subcase(
        self,
        case_ref: str,
        process: str,
        *,
        by: str,
        title: str | None = None,
        due: datetime | None = None,
        calendar: str | None = None,
        contacts: Sequence[Mapping[str, Any] | str] | None = None,
    ) -> Case:
        """SC1-SC10: start a sub-case of a permitted process; returns the sub-case."""
        by = _actor(by)
        due_at = _aware(due, "due")
        people = [
            {"name": c} if isinstance(c, str) else _json_data(c, "contact")
            for c in (contacts or [])
        ]
        with self._case_command(case_ref) as cmd:
            parent = cmd.case
            lifecycle.check(parent, Command.CREATE_SUBCASE, process)
            if process not in cmd.definition.model.settings.subcases:
                allowed = ", ".join(cmd.definition.model.settings.subcases) or "none"
                raise PermissionDenied(
                    f"case {parent.ref} is {parent.status.value}: create_subcase of {process!r} "
                    f"is not permitted by process {parent.process!r} (allowed: {allowed}; SC5)")
            if calendar is not None:
                sub_model = self._definition(cmd.tx, process, None).model
                if sub_model.calendar(calendar) is None:
                    raise NotFound(
                        f"case {parent.ref} is {parent.status.value}: create_subcase: calendar "
                        f"{calendar!r} is not defined for process {process!r}"
                    )
            sub = self._create_subcase(cmd, process, by=by, how="subcase", title=title,
                                       due=due_at, calendar=calendar, contacts=people)
            parent.updated_by, parent.updated_at = by, cmd.now
            cmd.tx.update_case(parent)
            return self._snapshot(cmd.tx, sub)

    def _subcase_finished(self, cmd: _Command) -> None:
        """SC1: a finished sub-case lets its parent's waiting flow step complete."""
        sub, tx = cmd.case, cmd.tx
        assert sub.parent is not None
        parent = tx.get_case(sub.parent)
        if parent is None:
            return
        parent_cmd = _Command(self, tx, parent)
        self._event(parent_cmd, "subcase_finished", None,
                    {"subcase": sub.ref, "status": sub.status.value})
        step = tx.get_action(sub.created_from) if sub.created_from else None
        if step is not None and step.case_ref == parent.ref and act.is_open(step) and step.task_id:
            step.status = CaseStatus.RESOLVED
            step.completed_by = sub.resolved_by or sub.status_set_by
            step.completed_at = cmd.now
            tx.update_action(step)
            self._event(parent_cmd, "action_completed", step.completed_by,
                        {"action_type": step.action_type, "subcase": sub.ref}, ref=step.ref)
            state = tx.get_workflow(parent.ref)
            if state is not None:
                runner = parent_cmd.runner
                workflow = runner.loads(state)
                with _flow_guard(parent.ref, parent.status, f"finish sub-case {sub.ref}"):
                    runner.complete(workflow, step.task_id, parent.data)
                self._sync_flow(parent_cmd, workflow)
                tx.put_workflow(parent.ref, runner.dumps(workflow, release=True))
        parent.updated_at = cmd.now
        tx.update_case(parent)

    def _share_data(self, cmd: _Command, payload: dict[str, Any]) -> None:
        """SC6: custom data updated in a case is updated in its parent chain and in its open
        sub-cases too."""
        if not payload:
            return
        tx = cmd.tx
        ref = cmd.case.parent
        while ref is not None:
            parent = tx.get_case(ref)
            if parent is None:
                break
            parent.data.update(payload)
            tx.update_case(parent)
            ref = parent.parent
        pending = [cmd.case.ref]
        while pending:
            for sub in tx.subcases_of(pending.pop()):
                if sub.status.is_open:
                    sub.data.update(payload)
                    tx.update_case(sub)
                    pending.append(sub.ref)

    def subcase_options(
        self,
        case_ref: str,
        *,
        mailbox: str | None = None,
        contract: str | None = None,
        service: str | None = None,
    ) -> list[SubcaseOption]:
        """SC4, SC5: what may be created as a sub-case of this case."""
        with self._case_command(case_ref) as cmd:
            permitted = cmd.definition.model.settings.subcases
            models = {}
            for process in permitted:
                if cmd.tx.definition_versions(process):
                    models[process] = self._definition(cmd.tx, process, None).model
            return subcase_options(permitted, models, cmd.case.customer, mailbox=mailbox,
                                   contract=contract, service=service)

    def subcases(self, case_ref: str) -> list[SubcaseSummary]:
        """SC7, SC8: the case's sub-cases with status, reference, title, number of actions,
        owner, queue, due date and their actions (apart from links)."""
        with self.store.transaction() as tx:
            if tx.get_case(case_ref) is None:
                raise NotFound(f"case {case_ref!r} not found")
            out = []
            for sub in tx.subcases_of(case_ref):
                actions = tuple(self._a3_actions(tx, sub))
                out.append(SubcaseSummary(
                    ref=sub.ref, title=sub.title, status=sub.status, process=sub.process,
                    actions_count=len(actions), owner=sub.owner, assignee=sub.assignee,
                    queue=sub.queue, due=sub.due, actions=actions,
                ))
            return out

    # -- RW: rework -------------------------------------------------------------------------

    def _rework_points(
        self, cmd: _Command, actions: list[ActionRecord]
    ) -> tuple[int, list[ReworkPoint], Any]:
        """The current stage, the rework points and the loaded workflow (None before submit)."""
        state = cmd.tx.get_workflow(cmd.case.ref)
        workflow = cmd.runner.loads(state) if state is not None else None
        flow_stage = cmd.runner.current_stage(workflow) if workflow is not None else None
        completed = cmd.runner.completed_task_ids(workflow) if workflow else frozenset()
        model = cmd.definition.model
        stage_now = rw.current_stage(actions, model, cmd.case.flow_finished, flow_stage)
        return stage_now, rw.rework_points(actions, model, stage_now, completed), workflow

    def rework_points(self, case_ref: str) -> list[ReworkPoint]:
        """RW1, RW3-RW6: the stages before the current one and their completed flow actions."""
        with self._case_command(case_ref, via_action=True) as cmd:
            return self._rework_points(cmd, cmd.tx.actions_of(cmd.case.ref))[1]

    def rework(
        self,
        case_ref: str,
        *,
        by: str,
        stage: int | None = None,
        action: str | None = None,
        calendar: str | None = None,
        finish_subcases: bool = False,
        finish_adhoc: bool = False,
    ) -> Case:
        """RW1-RW10: restart the flow from the start of an earlier stage (conditions
        re-evaluated) or from a completed action of one (not re-evaluated)."""
        by = _actor(by)
        with self._case_command(case_ref, via_action=True) as cmd:
            case, tx = cmd.case, cmd.tx
            status = f"case {case.ref} is {case.status.value}"
            lifecycle.check(case, Command.REWORK)
            if (stage is None) == (action is None):
                raise InvalidArgument(f"{status}: rework needs exactly one of stage or action")
            model = cmd.definition.model
            actions = tx.actions_of(case.ref)
            stage_now, points, workflow = self._rework_points(cmd, actions)
            if stage is not None:
                if isinstance(stage, bool) or not isinstance(stage, int):
                    raise InvalidArgument(f"{status}: rework stage must be a stage number")
                if not 1 <= stage <= len(model.stages):
                    raise NotFound(f"{status}: rework: process {case.process!r} has no stage "
                                   f"{stage}")
                if not any(p.stage == stage and p.action is None for p in points):
                    raise InvalidArgument(
                        f"{status}: rework from stage {stage} refused: only stages before the "
                        f"current stage {stage_now} may be chosen (RW5, RW6)")
                element = cmd.definition.stage_entries[stage]
                point_stage, action_type = stage, None
            else:
                target = tx.get_action(str(action))
                if target is None or target.case_ref != case.ref:
                    raise NotFound(f"{status}: rework: action {action!r} is not an action of "
                                   "this case")
                if target.ad_hoc:
                    raise InvalidArgument(
                        f"{status}: rework from action {target.ref} refused: it was launched "
                        "ad hoc (RW4)")
                if not any(p.action == target.ref for p in points):
                    raise InvalidArgument(
                        f"{status}: rework from action {target.ref} refused: only the completed "
                        f"actions of stages before the current stage {stage_now} may be chosen "
                        "(RW1, RW5)")
                element = next(t for t, a in cmd.definition.task_actions.items()
                               if a == target.action_type)
                point_stage, action_type = target.stage, target.action_type
            if calendar is not None:
                if model.calendar(calendar) is None:
                    raise NotFound(
                        f"{status}: rework: calendar {calendar!r} is not defined for process "
                        f"{case.process!r}"
                    )
                case.calendar = calendar  # RW2
            if workflow is None:
                raise NotFound(f"{status}: rework: the case has no flow yet")
            runner = cmd.runner
            if finish_subcases:  # RW7
                for sub in tx.subcases_of(case.ref):
                    if sub.status.is_open:
                        sub_cmd = _Command(self, tx, sub)
                        self._apply(sub_cmd, lifecycle.cancel(sub, by=by, now=cmd.now), by,
                                    notify_parent=False)
            for open_action in actions:  # RW8: open flow actions close (ad hoc ones on RW7)
                if act.is_open(open_action) and (finish_adhoc or not open_action.ad_hoc):
                    open_action.status = CaseStatus.CLOSED
                    open_action.closed_reason = "rework"
                    tx.update_action(open_action)
                    self._event(cmd, "action_closed", by, {"reason": "rework"},
                                ref=open_action.ref)
            with _flow_guard(case.ref, case.status, "rework"):
                runner.reset_to_element(workflow, element, case.data)
            details = {
                "stage": point_stage, "stage_name": model.stages[point_stage - 1].name,
                "action": action, "action_type": action_type, "calendar": calendar,
                "finish_subcases": finish_subcases, "finish_adhoc": finish_adhoc,
            }
            out = lifecycle.rework(case, by=by, now=cmd.now, details=details)
            self._event(cmd, out.event, by, out.details)  # RW9
            self._sync_flow(cmd, workflow, rework=True)
            tx.put_workflow(case.ref, runner.dumps(workflow, release=True))
            tx.update_case(case)
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
