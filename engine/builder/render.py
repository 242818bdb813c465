"""Render a process model as a readable stage/action tree (``caseloom show``)."""

from __future__ import annotations

from engine.model import ActionDef, ProcessModel


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


def render_tree(model: ProcessModel) -> str:
    """The process as an indented text tree."""
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
        out.append(f"  Stage {number}: {stage.name}{suffix}")
        for action in stage.actions:
            flags = _action_flags(action)
            tail = f"  ({'; '.join(flags)})" if flags else ""
            out.append(f"    - {action.id}: {action.title}{tail}")
    return "\n".join(out)
