"""Rework commands of ``engine.Engine``: the rework points and restarting the flow."""

from __future__ import annotations

from typing import Any

from engine.errors import InvalidArgument, NotFound
from engine.runtime import actions as act
from engine.runtime import lifecycle
from engine.runtime import rework as rw
from engine.runtime.arguments import _actor
from engine.runtime.kernel import EngineCore, _Command, _flow_guard
from engine.runtime.labels import stage_label
from engine.runtime.lifecycle import Command
from engine.runtime.records import ActionRecord
from engine.runtime.snapshots import Case, ReworkPoint
from engine.runtime.status import CaseStatus


class ReworkCommands(EngineCore):
    """RW: rework from an earlier stage or a completed action."""

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
            current = (
                f"the current {stage_label(model, stage_now)}"
                if stage_now <= len(model.stages)
                else "the end of the flow"
            )
            if stage is not None:
                if isinstance(stage, bool) or not isinstance(stage, int):
                    raise InvalidArgument(f"{status}: rework stage must be a stage number")
                if not 1 <= stage <= len(model.stages):
                    raise NotFound(
                        f"{status}: rework: process {case.process!r} has no stage {stage}"
                    )
                if not any(p.stage == stage and p.action is None for p in points):
                    raise InvalidArgument(
                        f"{status}: rework from {stage_label(model, stage)} refused: only stages "
                        f"before {current} may be chosen (RW5, RW6)"
                    )
                element = cmd.definition.stage_entries[stage]
                point_stage, action_type = stage, None
            else:
                target = tx.get_action(str(action))
                if target is None or target.case_ref != case.ref:
                    raise NotFound(
                        f"{status}: rework: action {action!r} is not an action of this case"
                    )
                if target.ad_hoc:
                    raise InvalidArgument(
                        f'{status}: rework from action {target.ref} "{target.title}" refused: '
                        "it was launched ad hoc (RW4)"
                    )
                if not any(p.action == target.ref for p in points):
                    raise InvalidArgument(
                        f'{status}: rework from action {target.ref} "{target.title}" refused: '
                        f"only the completed actions of stages before {current} may be chosen "
                        "(RW1, RW5)"
                    )
                element = next(
                    t for t, a in cmd.definition.task_actions.items() if a == target.action_type
                )
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
                        self._apply(
                            sub_cmd,
                            lifecycle.cancel(sub, by=by, now=cmd.now),
                            by,
                            notify_parent=False,
                        )
            for open_action in actions:  # RW8: open flow actions close (ad hoc ones on RW7)
                if act.is_open(open_action) and (finish_adhoc or not open_action.ad_hoc):
                    open_action.status = CaseStatus.CLOSED
                    open_action.closed_reason = "rework"
                    tx.update_action(open_action)
                    self._event(cmd, "action_closed", by, {"reason": "rework"}, ref=open_action.ref)
            status_before = case.status
            with _flow_guard(case.ref, status_before, "rework"):
                runner.reset_to_element(workflow, element, case.data)
            details = {
                "stage": point_stage,
                "stage_name": model.stages[point_stage - 1].name,
                "action": action,
                "action_type": action_type,
                "calendar": calendar,
                "finish_subcases": finish_subcases,
                "finish_adhoc": finish_adhoc,
            }
            out = lifecycle.rework(case, by=by, now=cmd.now, details=details)
            self._event(cmd, out.event, by, out.details)  # RW9
            with _flow_guard(case.ref, status_before, "rework"):
                self._sync_flow(cmd, workflow, rework=True)
            tx.put_workflow(case.ref, runner.dumps(workflow, release=True))
            tx.update_case(case)
            return self._case_result(cmd)
