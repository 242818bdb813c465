"""Render a process as a readable stage/action tree (``caseloom show``).

Given a :class:`~engine.model.ProcessDefinition`, the tree also shows, after the names, the
BPMN ids that scenarios and tools need: each stage's entry element, and for a stage with a
condition its gateway with the flow that enters the stage and the flow that skips it
(``[gateway G: enter F1, skip F2]``); each action's task element; and every other exclusive
gateway that decides between flows, with its outgoing flows and their conditions. The ids
are read from the BPMN (:mod:`engine.builder.branching`), never guessed from the compiler's
naming scheme.
"""

from __future__ import annotations

from engine.builder.branching import (
    BranchFlow,
    ExclusiveGateway,
    StageBranch,
    exclusive_gateways,
    stage_branches,
)
from engine.model import ActionDef, ProcessDefinition, ProcessModel


def _action_flags(action: ActionDef) -> list[str]:
    flags = []
    if action.due is not None:
        flags.append(f"due {action.due.text}")
    if not action.flow:
        flags.append("manual launch only")
    elif action.manual_launch:
        flags.append("also manual launch")
    if action.robot:
        flags.append("robot")
    if action.subcase:
        flags.append(f"starts sub-case {action.subcase} and waits")
    if action.queue:
        flags.append(f"queue {action.queue}")
    return flags


def _settings_lines(model: ProcessModel) -> list[str]:
    s = model.settings
    lines = []
    if s.due is not None:
        on = f" on calendar {s.calendar}" if s.calendar else " (wall clock)"
        lines.append(f"due {s.due.text}{on}")
    elif s.calendar:
        lines.append(f"calendar {s.calendar}")
    if s.add_wait_time_to_due_date:
        lines.append("more-info holds pause the SLA")
    if s.feedback_window is not None:
        lines.append(f"feedback window {s.feedback_window.text}")
    if s.more_info_reasons:
        lines.append("more-info reasons: " + ", ".join(s.more_info_reasons))
    if s.subcases:
        lines.append("sub-cases allowed: " + ", ".join(s.subcases))
    for route in s.email_routes:
        state = "enabled" if route.enabled else "disabled"
        test = ", test mode" if route.test_mode else ""
        lines.append(f"mailbox {route.mailbox} ({state}{test})")
    for schedule in s.schedules:
        title = f": {schedule.title}" if schedule.title else ""
        lines.append(
            f"new case every {schedule.every.text} from {schedule.first.isoformat()}{title}"
        )
    return lines


def _flow_text(flow: BranchFlow) -> str:
    if flow.condition is not None:
        how = f" if {flow.condition}"
    elif flow.default:
        how = " otherwise"
    else:
        how = ""
    return f"{flow.id}{how} -> {flow.target}"


def _stage_ids(entry: str | None, branch: StageBranch | None) -> str:
    """The ``[...]`` ids of a stage: its gateway and flows, or its entry element."""
    if branch is not None and branch.gateway is not None:
        simple = {f.id for f in branch.flows} == {branch.enter, branch.skip}
        if simple and branch.enter is not None and branch.skip is not None:
            return f"  [gateway {branch.gateway}: enter {branch.enter}, skip {branch.skip}]"
        flows = "; ".join(_flow_text(f) for f in branch.flows)
        return f"  [gateway {branch.gateway}: {flows}]"
    return f"  [entry {entry}]" if entry else ""


class _Ids:
    """The BPMN ids of a definition, for the tree."""

    def __init__(self, definition: ProcessDefinition) -> None:
        self.entries = dict(definition.stage_entries)
        self.tasks: dict[str, str] = {}
        for task, action in definition.task_actions.items():
            self.tasks.setdefault(action, task)
        self.gateways: dict[str, ExclusiveGateway] = exclusive_gateways(
            definition.bpmn, definition.id, definition.source
        )

        def outgoing(ident: str) -> tuple[BranchFlow, ...] | None:
            found = self.gateways.get(ident)
            return found.flows if found is not None else None

        self.branches = stage_branches(definition.model, self.entries, outgoing)

    def stage(self, number: int) -> str:
        return _stage_ids(self.entries.get(number), self.branches.get(number))

    def action(self, action: ActionDef) -> str:
        task = self.tasks.get(action.id)
        return f"  [task {task}]" if task is not None and task != action.id else ""

    def other_gateways(self) -> list[str]:
        """Lines for the deciding gateways that are not a stage's entry."""
        shown = {b.gateway for b in self.branches.values()}
        lines = []
        for gateway in self.gateways.values():
            if gateway.id in shown or len(gateway.flows) < 2:
                continue
            name = f" ({gateway.name})" if gateway.name else ""
            flows = "; ".join(_flow_text(f) for f in gateway.flows)
            lines.append(f"    {gateway.id}{name}: {flows}")
        return ["  exclusive gateways:", *lines] if lines else []


def render_tree(source: ProcessModel | ProcessDefinition) -> str:
    """The process as an indented text tree; with the BPMN ids (stage gateways and their
    flows, action tasks, other deciding gateways) when given a whole definition."""
    if isinstance(source, ProcessDefinition):
        model, ids = source.model, _Ids(source)
    else:
        model, ids = source, None
    context = " - ".join(x for x in (model.customer, model.contract, model.service) if x)
    head = f"{model.id} v{model.version}: {model.name}"
    if context:
        head += f"  [{context}]"
    out = [head]
    out.extend(f"  {line}" for line in _settings_lines(model))
    for number, stage in enumerate(model.stages, start=1):
        extra = []
        if stage.condition:
            extra.append(f"if {stage.condition}")
        if stage.parallel:
            extra.append("parallel")
        suffix = f"  ({'; '.join(extra)})" if extra else ""
        stage_ids = ids.stage(number) if ids is not None else ""
        out.append(f"  Stage {number}: {stage.name}{suffix}{stage_ids}")
        for action in stage.actions:
            flags = _action_flags(action)
            tail = f"  ({'; '.join(flags)})" if flags else ""
            task = ids.action(action) if ids is not None else ""
            out.append(f"    - {action.id}: {action.title}{tail}{task}")
    if ids is not None:
        out.extend(ids.other_gateways())
    return "\n".join(out)
