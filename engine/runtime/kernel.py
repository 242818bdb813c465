"""The engine's kernel: the per-command transaction state and the shared plumbing.

``EngineCore`` holds what every command of ``engine.Engine`` builds on: the store and clock,
deployed definitions, the one-transaction-per-command context managers, applying a lifecycle
``Outcome`` (SLA, timers, events, the SpiffWorkflow flow), case snapshots. The commands
themselves live in the mixins (``case_commands``, ``case_queries``, ``action_commands``,
``subcase_commands``, ``rework_commands``) that ``engine.facade.Engine`` combines.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Any

from engine.builder.loader import load_source, read_source
from engine.clock import Clock, SystemClock
from engine.errors import (
    DefinitionError,
    EngineError,
    FlowError,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    Problem,
)
from engine.model import ProcessDefinition, ProcessModel
from engine.runtime import actions as act
from engine.runtime import rework as rw
from engine.runtime import sla
from engine.runtime.flow import FlowRunner, runner_for
from engine.runtime.labels import stage_label
from engine.runtime.lifecycle import Outcome
from engine.runtime.records import (
    ActionRecord,
    CaseRecord,
    DefinitionRecord,
    EventRecord,
    TimerRecord,
)
from engine.runtime.snapshots import Action, Case
from engine.runtime.sql_store import SqlStore
from engine.runtime.status import CaseStatus
from engine.runtime.store import Store, StoreTransaction

DEFAULT_URL = "sqlite:///caseloom.sqlite"


#: Errors the flow's work raises without the case and command context (the flow stops, a
#: sub-case process or calendar is missing...): :func:`_flow_guard` adds it.
_FLOW_REFUSALS: tuple[type[EngineError], ...] = (
    FlowError,
    NotFound,
    InvalidArgument,
    PermissionDenied,
)


def _refusal(err: EngineError, message: str, detail: str) -> EngineError:
    """An error of ``err``'s kind (one of :data:`_FLOW_REFUSALS`) with another message."""
    kind = type(err)
    if kind not in _FLOW_REFUSALS:
        kind = next(base for base in _FLOW_REFUSALS if isinstance(err, base))
    return kind(message, detail=detail)


@contextmanager
def _flow_guard(ref: str, status: CaseStatus, what: str) -> Iterator[None]:
    """Around the flow's work for a command (running the workflow, creating the actions and
    sub-cases of its steps): name the case, its status before the command and the command in
    the error the work raises (S7: ``case C-1 is In Progress: complete_action A-3 refused:
    <detail>``); the command then rolls back. The innermost guard's ``detail`` is kept, so a
    guard inside another only changes the context."""
    try:
        yield
    except _FLOW_REFUSALS as err:
        message = f"case {ref} is {status.value}: {what} refused: {err.detail}"
        raise _refusal(err, message, err.detail) from err


@contextmanager
def _within(where: str) -> Iterator[None]:
    """Refusals of the flow's work inside get ``where`` in front of their detail (``sub-case
    C-1-1 of process 'fraud_check' cannot start: <detail>``); a :func:`_flow_guard` outside
    adds the case context."""
    try:
        yield
    except _FLOW_REFUSALS as err:
        detail = f"{where}: {err.detail}"
        raise _refusal(err, detail, detail) from err


def _smart_cards(model: ProcessModel, data: dict[str, Any]) -> tuple[dict[str, Any], ...]:
    """V16: the definition's data fields as cards, with their values from the case data."""
    return tuple(
        {
            "name": data_field.name,
            "label": data_field.label if data_field.label is not None else data_field.name,
            "type": data_field.type,
            "required": data_field.required,
            "value": data.get(data_field.name),
        }
        for data_field in model.data_fields
    )


class _Command:
    """The state one command works on inside its transaction."""

    def __init__(self, engine: EngineCore, tx: StoreTransaction, case: CaseRecord) -> None:
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


class EngineCore:
    """State and plumbing shared by the command mixins of ``engine.Engine``."""

    def __init__(
        self,
        url: str = DEFAULT_URL,
        *,
        clock: Clock | None = None,
        store: Store | None = None,
        restrict_defect_editing: bool = False,
    ) -> None:
        """``url``: any SQLAlchemy URL of SQLite or PostgreSQL; ``clock``: where time comes from
        (system time by default); ``restrict_defect_editing``: the V14 system setting."""
        self.clock: Clock = clock or SystemClock()
        self.store: Store = store or SqlStore(url)
        self.restrict_defect_editing = restrict_defect_editing
        self._definitions: dict[tuple[str, int], ProcessDefinition] = {}

    def close(self) -> None:
        self.store.close()

    # -- definitions ---------------------------------------------------------------------

    def deploy(self, source: str | Path | ProcessDefinition) -> ProcessDefinition:
        """Validate and deploy a ``.yaml``/``.bpmn`` definition; returns it.

        ``source`` may also be a ``ProcessDefinition`` already loaded (e.g. by
        ``engine.builder.loader.load_definition``): its BPMN is what is stored.

        The same id and version with the same content is a no-op; with other content it is
        refused (deploy a new version instead). Sub-case processes are checked when a sub-case
        is created, so definitions may be deployed in any order. The definition's schedules
        (C1) are registered in the same transaction, once per process version (see
        ``StoreTransaction.register_schedules``): deploying the latest version of a process
        stops the schedules of its older versions.
        """
        if isinstance(source, ProcessDefinition):
            definition = source
            name = definition.source or f"{definition.id}-v{definition.version}.bpmn"
            data, kind = definition.bpmn, "bpmn"
        else:
            name = str(Path(source))
            data = read_source(Path(source))
            definition = load_source(data, name).definition
            kind = "yaml" if name.lower().endswith((".yaml", ".yml")) else "bpmn"
        with self.store.transaction() as tx:
            stored = tx.get_definition(definition.id, definition.version)
            if stored is not None:
                if stored.digest != definition.digest:
                    raise DefinitionError(
                        Problem(
                            f"process {definition.id!r} version {definition.version} is already "
                            f"deployed (from {stored.source_name}) with different content; "
                            "deploy it as a new version",
                            file=name,
                            path="version",
                            code="E-VERSION",
                        )
                    )
                tx.register_schedules(
                    definition.id, definition.version, definition.model.settings.schedules
                )
                return self._definition(tx, definition.id, definition.version)
            tx.add_definition(
                DefinitionRecord(
                    process=definition.id,
                    version=definition.version,
                    digest=definition.digest,
                    source_name=name,
                    source_kind=kind,
                    source=data,
                    bpmn=definition.bpmn,
                    deployed_at=self.clock.now(),
                )
            )
            tx.register_schedules(
                definition.id, definition.version, definition.model.settings.schedules
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
        self,
        cmd: _Command,
        out: Outcome,
        by: str | None,
        *,
        notify_parent: bool = True,
        what: str | None = None,
    ) -> None:
        """Carry out an Outcome's side effects, record the event, write the case.

        ``what`` names the command a refusal of the flow's work names (default: the outcome's
        command): the flow may not start or move on, a sub-case of a step may not start, the
        parent of a finished sub-case may not move on (``FlowError``, ``NotFound``...).
        """
        case, tx, now = cmd.case, cmd.tx, cmd.now
        what = what or out.command.value
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
            details.setdefault("assignee", case.assignee)  # V12: who works from now on
        self._event(cmd, out.event, by, details)
        if out.close_open_actions:
            self._close_open_actions(cmd, out.event, by)
        if out.start_flow:
            runner = cmd.runner
            with _flow_guard(case.ref, out.status_from, what):
                workflow = runner.start(case.data)
                self._sync_flow(cmd, workflow)
            tx.put_workflow(case.ref, runner.dumps(workflow, release=True))
        elif out.sync_flow:
            with _flow_guard(case.ref, out.status_from, what):
                self._resume_flow(cmd)
        tx.update_case(case)
        finished = out.status_from.is_open and not out.status_to.is_open
        if finished and case.parent is not None and notify_parent:
            with _flow_guard(case.ref, out.status_from, what):
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

        A sub-case that cannot be created or started raises its error with the step named in
        its ``detail``: call this inside a :func:`_flow_guard`, which adds the context.
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
                with _within(f'sub-case step "{record.title}" of {stage_label(model, step.stage)}'):
                    sub = self._create_subcase(
                        cmd,
                        step.subcase,
                        by=case.assignee or case.owner or case.created_by,
                        how="flow",
                        created_from=record.ref,
                        title=record.title,
                    )
                self._event(cmd, "subcase_started", None, {"subcase": sub.ref}, ref=record.ref)
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
            subcases=(tuple(s.ref for s in tx.subcases_of(case.ref)) if case.subcase_count else ()),
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
            smart_cards=_smart_cards(model, case.data),
        )

    def _case_result(self, cmd: _Command) -> Case:
        return self._snapshot(cmd.tx, cmd.case)

    def _action_result(self, cmd: _Command, action: ActionRecord) -> Action:
        return act.snapshot(action, cmd.definition.model)

    def _a3_actions(self, tx: StoreTransaction, case: CaseRecord) -> list[Action]:
        """A3: the case's actions in listing order, as snapshots."""
        model = self._definition(tx, case.process, case.version).model
        records = tx.actions_of(case.ref)
        calendar = sla.case_calendar(model, case.calendar)
        left = sla.time_left(case, calendar, self.clock.now()) if sla.is_paused(case) else None
        paused_left = left.total_seconds() if left is not None else None
        records.sort(key=lambda a: act.a3_key(a, paused_left if act.is_open(a) else None))
        return [act.snapshot(a, model) for a in records]

    # -- provided by the command mixins -----------------------------------------------------
    # Declared here so the plumbing above and the sibling mixins type-check; ``Engine`` gets
    # the real methods from the mixins, which come before ``EngineCore`` in its MRO.

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
        """A new Draft case record (``CaseCommands``)."""
        raise NotImplementedError

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
        """A submitted sub-case of ``cmd.case`` (``SubcaseCommands``); its refusals carry no
        case context: call it inside a :func:`_flow_guard`."""
        raise NotImplementedError

    def _subcase_finished(self, cmd: _Command) -> None:
        """Let the parent's waiting flow step complete (``SubcaseCommands``)."""
        raise NotImplementedError

    def _share_data(self, cmd: _Command, payload: dict[str, Any]) -> None:
        """Share updated custom data along the case tree (``SubcaseCommands``)."""
        raise NotImplementedError
