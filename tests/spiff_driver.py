"""A small test driver: run SpiffWorkflow specs to the end, completing every manual task.

Usable from any test (``from spiff_driver import drive_to_completion``). The workflow runs on
caseloom's safe script engine, so conditions go through the whitelisting evaluator and scripts
are refused. Manual tasks (user, manual, none tasks, and the waiting ``UserTask`` specs that
caseloom makes of service tasks and sub-case call activities) are completed one at a time with
the data given, so that gateway conditions can be steered.

Message, signal and timer events are refused when specs are built
(:mod:`engine.builder.spiff_parser`), so the driver never has to deliver one: a workflow that
waits with no manual task READY is reported as stuck.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

from engine.builder.spiff_parser import SpiffSpecs
from engine.spiff_script import safe_script_engine

__all__ = [
    "completed_spec_names",
    "drive_to_completion",
    "new_workflow",
    "ready_manual_tasks",
    "run_to_completion",
]


def new_workflow(specs: SpiffSpecs, data: Mapping[str, Any] | None = None) -> BpmnWorkflow:
    """A fresh workflow on the safe script engine, seeded with ``data``, engine steps run."""
    workflow = BpmnWorkflow(specs.spec, specs.subprocess_specs, script_engine=safe_script_engine())
    if data:
        for task in workflow.get_tasks(state=TaskState.READY):
            task.data.update(data)
    workflow.do_engine_steps()
    return workflow


def ready_manual_tasks(workflow: BpmnWorkflow) -> list[Any]:
    """READY manual tasks, sub-processes included (SpiffWorkflow 3.x iterator)."""
    return list(workflow.get_tasks(state=TaskState.READY, manual=True))


def completed_spec_names(workflow: BpmnWorkflow) -> set[str]:
    """Names (BPMN ids) of the task specs that completed, in every (sub-)workflow."""
    names = {task.task_spec.name for task in workflow.get_tasks(state=TaskState.COMPLETED)}
    for subprocess in workflow.subprocesses.values():
        names |= {task.task_spec.name for task in subprocess.get_tasks(state=TaskState.COMPLETED)}
    return names


def drive_to_completion(
    specs: SpiffSpecs,
    data: Mapping[str, Any] | None = None,
    max_steps: int = 1000,
    *,
    task_data: Mapping[str, Mapping[str, Any]] | None = None,
) -> BpmnWorkflow:
    """Start ``specs`` on the safe engine and run it until it completes; returns the workflow.

    ``data`` seeds the workflow and is merged into every manual task before it is completed;
    ``task_data`` maps a task spec name (BPMN id) to data merged into that task only (after
    ``data``), for processes whose gateways need different answers at different steps.
    """
    workflow = new_workflow(specs, data)
    return run_to_completion(workflow, data, max_steps, task_data=task_data)


def run_to_completion(
    workflow: BpmnWorkflow,
    data: Mapping[str, Any] | None = None,
    max_steps: int = 1000,
    *,
    task_data: Mapping[str, Mapping[str, Any]] | None = None,
) -> BpmnWorkflow:
    """Complete READY manual tasks one at a time (first in SpiffWorkflow's order) until the
    workflow completes; usable on a workflow restored by the serializer.

    Raises ``AssertionError`` when more than ``max_steps`` manual tasks had to be completed
    (a loop the data does not leave) or when the workflow waits with no manual task READY.
    """
    common = dict(data or {})
    per_task = task_data or {}
    steps = 0
    workflow.do_engine_steps()
    while not workflow.is_completed():
        ready = ready_manual_tasks(workflow)
        if not ready:
            waiting = sorted(t.task_spec.name for t in workflow.get_tasks(state=TaskState.WAITING))
            raise AssertionError(f"workflow is stuck: no manual task is READY; waiting: {waiting}")
        steps += 1
        if steps > max_steps:
            raise AssertionError(f"workflow did not complete within {max_steps} manual steps")
        task = ready[0]
        task.data.update(common)
        task.data.update(per_task.get(task.task_spec.name, {}))
        task.run()
        workflow.do_engine_steps()
    return workflow
