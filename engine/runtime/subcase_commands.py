"""Sub-case commands of ``engine.Engine``: creation, finishing, data sharing, choices."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from engine.errors import InvalidArgument, NotFound, PermissionDenied
from engine.runtime import actions as act
from engine.runtime import lifecycle, sla
from engine.runtime.arguments import _actor, _aware, _json_data
from engine.runtime.kernel import EngineCore, _Command, _flow_guard, _within
from engine.runtime.lifecycle import Command
from engine.runtime.records import CaseRecord
from engine.runtime.snapshots import Case
from engine.runtime.status import CaseStatus
from engine.runtime.subcases import SubcaseOption, SubcaseSummary, subcase_options


class SubcaseCommands(EngineCore):
    """SC: sub-cases of a case."""

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
        writes the parent (its sub-case counter changed).

        Its refusals (the process is not deployed, a calendar is missing, the sub-case's flow
        cannot start...) carry no case context: the caller runs it inside a ``_flow_guard``
        naming the parent, its status and the command.
        """
        parent, tx = cmd.case, cmd.tx
        model = self._definition(tx, process, None).model
        if calendar is None and how == "flow":
            calendar = model.settings.calendar or parent.calendar
        if calendar is None and model.settings.calendar_required:
            raise InvalidArgument(f"process {process!r} needs a calendar (SC9)")
        if due is not None and not model.settings.allow_due_date_override:
            raise PermissionDenied(
                f"process {process!r} does not allow overriding the due date (SC9)"
            )
        if due is not None and due <= cmd.now:
            raise InvalidArgument(f"due {due.isoformat()} is in the past")
        parent.subcase_count += 1
        sub = self._new_case(
            tx,
            process,
            by=by,
            data=dict(parent.data),
            how=how,
            title=title,
            customer=parent.customer,
            calendar=calendar,
            original_request_at=parent.original_request_at,
            parent=parent.ref,
            ref=f"{parent.ref}-{parent.subcase_count}",
            created_from=created_from or parent.ref,
        )
        sub.contacts = list(contacts or [])
        sub_cmd = _Command(self, tx, sub)
        with _within(f"sub-case {sub.ref} of process {process!r} cannot start"):
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
                    f"is not permitted by process {parent.process!r} (allowed: {allowed}; SC5)"
                )
            with _flow_guard(parent.ref, parent.status, "create_subcase"):
                sub_model = self._definition(cmd.tx, process, None).model
                if calendar is not None and sub_model.calendar(calendar) is None:
                    raise NotFound(f"calendar {calendar!r} is not defined for process {process!r}")
                sub = self._create_subcase(
                    cmd,
                    process,
                    by=by,
                    how="subcase",
                    title=title,
                    due=due_at,
                    calendar=calendar,
                    contacts=people,
                )
            parent.updated_by, parent.updated_at = by, cmd.now
            cmd.tx.update_case(parent)
            return self._snapshot(cmd.tx, sub)

    def _subcase_finished(self, cmd: _Command) -> None:
        """SC1: a finished sub-case lets its parent's waiting flow step complete. When the
        parent's flow cannot move on, the error (no case context: ``_apply``'s guard names
        the sub-case and its command) names the parent and why."""
        sub, tx = cmd.case, cmd.tx
        assert sub.parent is not None
        parent = tx.get_case(sub.parent)
        if parent is None:
            return
        parent_cmd = _Command(self, tx, parent)
        self._event(
            parent_cmd, "subcase_finished", None, {"subcase": sub.ref, "status": sub.status.value}
        )
        step = tx.get_action(sub.created_from) if sub.created_from else None
        if step is not None and step.case_ref == parent.ref and act.is_open(step) and step.task_id:
            step.status = CaseStatus.RESOLVED
            step.completed_by = sub.resolved_by or sub.status_set_by
            step.completed_at = cmd.now
            tx.update_action(step)
            self._event(
                parent_cmd,
                "action_completed",
                step.completed_by,
                {"action_type": step.action_type, "subcase": sub.ref},
                ref=step.ref,
            )
            state = tx.get_workflow(parent.ref)
            if state is not None:
                runner = parent_cmd.runner
                workflow = runner.loads(state)
                # The sub-case's own command is refused: the guard in ``_apply`` names it.
                with _within(f"parent case {parent.ref} is {parent.status.value}"):
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
            return subcase_options(
                permitted,
                models,
                cmd.case.customer,
                mailbox=mailbox,
                contract=contract,
                service=service,
            )

    def subcases(self, case_ref: str) -> list[SubcaseSummary]:
        """SC7, SC8: the case's sub-cases with status, reference, title, number of actions,
        owner, queue, due date and their actions (apart from links)."""
        with self.store.transaction() as tx:
            if tx.get_case(case_ref) is None:
                raise NotFound(f"case {case_ref!r} not found")
            out = []
            for sub in tx.subcases_of(case_ref):
                actions = tuple(self._a3_actions(tx, sub))
                out.append(
                    SubcaseSummary(
                        ref=sub.ref,
                        title=sub.title,
                        status=sub.status,
                        process=sub.process,
                        actions_count=len(actions),
                        owner=sub.owner,
                        assignee=sub.assignee,
                        queue=sub.queue,
                        due=sub.due,
                        actions=actions,
                    )
                )
            return out
