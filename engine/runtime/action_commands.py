"""Action commands of ``engine.Engine``: start, complete, fail, refuse, launch and read."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from engine.errors import InvalidArgument, InvalidTransition, NotFound, PermissionDenied
from engine.runtime import actions as act
from engine.runtime import lifecycle, sla
from engine.runtime.arguments import _actor, _aware, _json_data
from engine.runtime.kernel import EngineCore, _Command, _flow_guard
from engine.runtime.labels import action_type_label
from engine.runtime.lifecycle import Command
from engine.runtime.records import ActionRecord
from engine.runtime.snapshots import Action
from engine.runtime.status import CaseStatus


class ActionCommands(EngineCore):
    """A: commands on a case's actions, and reading them."""

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
        waiting = [
            s.ref
            for s in cmd.tx.subcases_of(cmd.case.ref)
            if s.created_from == action.ref and s.status.is_open
        ]
        if waiting:
            raise InvalidTransition(
                f"case {cmd.case.ref} is {cmd.case.status.value}: cannot {what} {action.ref}: "
                f"the step waits for sub-case {', '.join(waiting)} to finish (SC1)"
            )

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
            model = cmd.definition.model
            label = action_type_label(model, action_type)
            lifecycle.check(case, Command.LAUNCH_ACTION, label)
            if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= 100:
                raise InvalidArgument(
                    f"case {case.ref} is {case.status.value}: launch_action count must be 1 "
                    f"to 100, not {count!r}"
                )
            definition = model.action(action_type)
            if definition is None:
                raise NotFound(
                    f"case {case.ref} is {case.status.value}: launch_action: process "
                    f"{case.process!r} has no action type {action_type!r}"
                )
            if not definition.manual_launch:
                raise PermissionDenied(
                    f"case {case.ref} is {case.status.value}: launch_action refused: action "
                    f"{label} is not flagged manual_launch (A2)"
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

    def actions(self, ref: str) -> list[Action]:
        """The case's actions in A3 order."""
        with self.store.transaction() as tx:
            case = tx.get_case(ref)
            if case is None:
                raise NotFound(f"case {ref!r} not found")
            return self._a3_actions(tx, case)

    def action(self, ref: str) -> Action:
        with self.store.transaction() as tx:
            record = tx.get_action(ref)
            if record is None:
                raise NotFound(f"action {ref!r} not found")
            case = tx.get_case(record.case_ref)
            model = self._definition(tx, case.process, case.version).model if case else None
            return act.snapshot(record, model)
