"""The flow runner: each case runs a SpiffWorkflow workflow of its definition version.

The engine façade never touches SpiffWorkflow itself; it goes through :class:`FlowRunner`
(one per definition version, see :func:`runner_for`):

* **Case data is authoritative outside the workflow.** :meth:`FlowRunner.start`,
  :meth:`FlowRunner.complete` and :meth:`FlowRunner.reset_to_element` set the data of the task
  they run to a copy of the full case data, and so does every engine step they trigger (a
  hook given to ``do_engine_steps`` replaces the data of each gateway and event just before
  it runs). A stage condition, evaluated by the stage's entry gateway, therefore always sees
  the current case data, never data merged by SpiffWorkflow from an older parallel branch.
  A name missing from the data is ``None`` (the safe evaluator's rule).
* **Manual steps wait.** User tasks, robot steps (``bpmn:serviceTask``) and sub-case steps
  (a ``bpmn:callActivity`` with the caseloom marker) are all parsed as waiting ``UserTask``
  specs (:mod:`engine.builder.spiff_parser`): they are the :class:`ReadyStep` items the engine
  turns into actions, and the workflow moves on only when the engine completes them.
* **State is stored without the spec.** :meth:`FlowRunner.dumps` writes SpiffWorkflow's own
  serialization minus ``spec`` and ``subprocess_specs`` (stored once per definition version);
  :meth:`FlowRunner.loads` builds the workflow around the definition's already parsed spec
  objects (no spec is re-created from a dict) and installs the safe script engine.
* **A released workflow is reused.** ``dumps(wf, release=True)`` hands ``wf`` over to the
  runner: the caller promises not to touch it again. A later ``loads`` of exactly that text
  returns ``wf`` itself (once: it leaves the runner) instead of deserializing it again; any
  other text is deserialized as usual, so state written by another process is never shadowed.
* **Flow problems are FlowErrors.** Whatever SpiffWorkflow raises while it runs the flow
  (a condition that cannot be evaluated, an exclusive or inclusive gateway none of whose
  conditions holds and that has no default flow, a data input or output missing from the case
  data...) becomes a :class:`~engine.errors.FlowError` naming where the flow stopped the way
  people know it: the element by its name, with its stage (``engine.runtime.labels``). The
  workflow object is then unusable: the caller drops it (its command rolls back). A
  multi-instance task checks its collection and cardinality in the data before SpiffWorkflow
  reads them (:class:`LoopDataError`): other exceptions are bugs and propagate as they are.
* **A loop's instances are its element's steps.** The instances of a multi-instance or
  standard-loop task run SpiffWorkflow's ``<id> [child]`` spec; they are ready steps of the
  task's element (its BPMN id), so each is an action of the element's action type.
* **Rework resets, it never loops.** :meth:`FlowRunner.reset_to_element` resets the workflow
  to the latest task of an element; inside a parallel stage it resets the whole stage from
  its entry (resetting one parallel branch corrupts SpiffWorkflow's joins).
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from copy import deepcopy
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from keyword import iskeyword
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.exceptions import WorkflowDataException
from SpiffWorkflow.bpmn.serializer.config import DEFAULT_CONFIG
from SpiffWorkflow.bpmn.serializer.default.workflow import (
    BpmnWorkflowConverter,
    WorkflowConverter,
)
from SpiffWorkflow.bpmn.serializer.helpers.encoder import create_encoder
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent, ThrowingEvent
from SpiffWorkflow.bpmn.specs.mixins.exclusive_gateway import ExclusiveGateway
from SpiffWorkflow.bpmn.specs.mixins.inclusive_gateway import InclusiveGateway
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import (
    LoopTask,
    MultiInstanceTask,
    SequentialMultiInstanceTask,
)
from SpiffWorkflow.bpmn.specs.mixins.parallel_gateway import ParallelGateway
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import SubWorkflowTask
from SpiffWorkflow.bpmn.specs.mixins.unstructured_join import UnstructuredJoin
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.specs.MultiChoice import MultiChoice
from SpiffWorkflow.util.deep_merge import DeepMerge
from SpiffWorkflow.util.task import TaskState

from engine.errors import FlowError
from engine.expressions import ExpressionError
from engine.model import ProcessDefinition
from engine.runtime.labels import element_label
from engine.spiff_script import install_safe_engine, safe_script_engine

__all__ = [
    "RELEASED_WORKFLOWS",
    "FlowRunner",
    "LoopDataError",
    "ReadyStep",
    "copy_data",
    "runner_for",
]

#: Tasks whose stage :meth:`FlowRunner.current_stage` reports: reached and not finished.
ACTIVE_STATES = TaskState.READY | TaskState.WAITING | TaskState.STARTED
#: Tasks that were reached (a reset target must be one of these, not a predicted task).
REACHED_STATES = ACTIVE_STATES | TaskState.FINISHED_MASK

#: Key of the caseloom header in the stored JSON (which definition version it belongs to).
HEADER_KEY = "caseloom"

_RUNNER_CACHE_SIZE = 256
#: Released workflows each runner keeps for reuse by :meth:`FlowRunner.loads` (the oldest go).
RELEASED_WORKFLOWS = 256


@dataclass(frozen=True)
class ReadyStep:
    """A READY manual task the engine must turn into an Action.

    ``task_id`` is SpiffWorkflow's task id (``str(task.id)``); ``element_id`` the BPMN element
    id (the task spec's ``bpmn_id``: a loop's instance gives its loop task's); ``action_id``
    the action type (``definition.task_actions``, else the element id for plain BPMN);
    ``stage`` its stage number (from 1); ``subcase`` the process of the sub-case it starts,
    when it is a sub-case step.
    """

    task_id: str
    element_id: str
    action_id: str
    stage: int
    subcase: str | None


# -- serialization ---------------------------------------------------------------------------


class _SpeclessWorkflowConverter(BpmnWorkflowConverter):  # type: ignore[misc]
    """SpiffWorkflow's top-level workflow converter, without the specs.

    ``to_dict`` is the stock one minus ``spec`` and ``subprocess_specs``; ``from_dict`` takes
    the (already parsed) spec objects as arguments and hands them to the stock ``from_dict``:
    the registry returns objects it does not know unchanged, so the stock code re-attaches
    them as they are instead of rebuilding specs from a dict.
    """

    def to_dict(self, workflow: Any) -> dict[str, Any]:
        dct: dict[str, Any] = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(
        self,
        dct: dict[str, Any],
        spec: Any = None,
        subprocess_specs: Mapping[str, Any] | None = None,
    ) -> Any:
        if spec is None:
            raise ValueError("a workflow stored without its spec needs the spec to be restored")
        dct["spec"] = spec
        dct["subprocess_specs"] = dict(subprocess_specs or {})
        return super().from_dict(dct)


def _date_to_dict(value: date) -> dict[str, str]:
    return {"value": value.isoformat()}


def _date_from_dict(dct: Mapping[str, str]) -> date:
    return date.fromisoformat(dct["value"])


def _serializer() -> BpmnWorkflowSerializer:
    """A serializer whose registry knows SpiffWorkflow's default classes and stores the
    top-level workflow without its specs.

    Its registry stays in SpiffWorkflow's *encoder mode* (what ``serialize_json`` switches on
    while it writes): ``to_dict`` leaves data values as they are and the JSON encoder made by
    :func:`create_encoder` converts the ones JSON cannot hold (UUIDs, datetimes). The mode is
    set once and never toggled, so the serializer can be shared between threads; restoring
    does not depend on it.
    """
    config = {**DEFAULT_CONFIG, BpmnWorkflow: _SpeclessWorkflowConverter}
    registry = BpmnWorkflowSerializer.configure(config)
    # SpiffWorkflow knows datetimes, timedeltas and UUIDs; case data may also hold dates.
    registry.register(date, _date_to_dict, _date_from_dict)
    registry._encoder_mode = True
    return BpmnWorkflowSerializer(registry)


_SERIALIZER = _serializer()
_ENCODER = create_encoder(_SERIALIZER.registry)


# -- the runner ------------------------------------------------------------------------------


class FlowRunner:
    """Runs the workflows of one definition version (stateless; one serves every case)."""

    def __init__(self, definition: ProcessDefinition) -> None:
        if definition.spec is None:
            raise ValueError(
                f"definition {definition.id!r} version {definition.version} has no "
                "SpiffWorkflow spec"
            )
        self.definition = definition
        self._spec = definition.spec
        self._subprocess_specs = dict(definition.subprocess_specs)
        self._order = {element: n for n, element in enumerate(definition.task_actions)}
        self._header = {"process": definition.id, "version": definition.version}
        self._parallel_stages = frozenset(
            number
            for number, stage in enumerate(definition.model.stages, start=1)
            if stage.parallel
        )
        self._released: OrderedDict[str, BpmnWorkflow] = OrderedDict()
        self._released_lock = threading.Lock()
        _prepare_loops([self._spec, *self._subprocess_specs.values()])

    # -- running -----------------------------------------------------------------------------

    def start(self, data: Mapping[str, Any]) -> BpmnWorkflow:
        """A new workflow on the safe script engine, the case data injected, engine steps run
        (so the first stage's condition is evaluated and its first steps are READY)."""
        wf = BpmnWorkflow(self._spec, self._subprocess_specs, script_engine=safe_script_engine())
        for task in wf.get_tasks(state=TaskState.READY):
            task.data = copy_data(data)
        self._engine_steps(wf, data)
        return wf

    def ready_steps(self, wf: BpmnWorkflow) -> list[ReadyStep]:
        """The READY manual tasks (user, robot and sub-case steps), sub-processes included,
        ordered by stage, then by the definition's order of actions, then by element id."""
        keyed: list[tuple[tuple[int, int, str, int], ReadyStep]] = []
        for index, task in enumerate(wf.get_tasks(state=TaskState.READY, manual=True)):
            element = _element(task.task_spec)
            action_id = self.definition.task_actions.get(element, element)
            action = self.definition.model.action(action_id)
            step = ReadyStep(
                task_id=str(task.id),
                element_id=element,
                action_id=action_id,
                stage=self.definition.task_stages.get(element, 1),
                subcase=action.subcase if action is not None else None,
            )
            position = self._order.get(element, len(self._order))
            keyed.append(((step.stage, position, element, index), step))
        keyed.sort(key=lambda entry: entry[0])
        return [step for _key, step in keyed]

    def complete(self, wf: BpmnWorkflow, task_id: str, data: Mapping[str, Any]) -> None:
        """Set the READY manual task's data to the full case data, run it, run engine steps.

        ``ValueError`` when there is no such task or it is not a READY manual task;
        :class:`FlowError` when the flow cannot move on (``wf`` must then be dropped).
        """
        task = self._task(wf, task_id)
        if task is None:
            raise ValueError(f"workflow has no task {task_id!r}")
        if not task.task_spec.manual or task.state != TaskState.READY:
            raise ValueError(
                f"task {task_id!r} ({task.task_spec.name}) is "
                f"{TaskState.get_name(task.state)}, not a READY manual step"
            )
        task.data = copy_data(data)
        with self._flow_problems(wf):
            task.run()
        self._engine_steps(wf, data)

    def is_finished(self, wf: BpmnWorkflow) -> bool:
        """True when the workflow reached its end (or was cancelled)."""
        return bool(wf.is_completed())

    def completed_task_ids(self, wf: BpmnWorkflow) -> frozenset[str]:
        """Ids of the tasks the workflow has completed (its own and its sub-processes'): the
        steps a rework can restart from; a rework drops those after its restart point."""
        return frozenset(
            str(task.id)
            for flow in (wf, *wf.subprocesses.values())
            for task in flow.get_tasks(state=TaskState.COMPLETED)
        )

    def current_stage(self, wf: BpmnWorkflow) -> int | None:
        """The highest stage number among READY, WAITING and STARTED tasks, or None."""
        stages = [
            self.definition.task_stages[element]
            for task in wf.get_tasks(state=ACTIVE_STATES)
            if (element := _element(task.task_spec)) in self.definition.task_stages
        ]
        return max(stages, default=None)

    def cancel(self, wf: BpmnWorkflow) -> None:
        """Cancel every unfinished task; the workflow is finished (unsuccessfully)."""
        wf.cancel()

    # -- rework ------------------------------------------------------------------------------

    def reset_to_element(self, wf: BpmnWorkflow, element_id: str, data: Mapping[str, Any]) -> None:
        """Rework: restart the flow at ``element_id`` with the case data, run engine steps.

        The target is the latest reached task of that element (a COMPLETED one when there is
        one). An element inside a parallel stage resets the whole stage from its entry
        (``definition.stage_entries``), which also re-evaluates the stage condition (RW3);
        in a plain BPMN process, an element inside parallel branches resets from the
        outermost gateway that forked them. ``ValueError`` when the element was never reached
        (or its task is no longer in the tree) or the workflow was cancelled; :class:`FlowError`
        when the flow cannot move on from there (``wf`` must then be dropped).
        """
        if wf.is_completed() and not wf.success:
            raise ValueError("a cancelled workflow cannot be reset")
        task = _latest_task(wf, element_id)
        if task is None:
            raise ValueError(f"element {element_id!r} has no task to reset to in the workflow")
        stage = self.definition.task_stages.get(element_id)
        entry = self.definition.stage_entries.get(stage) if stage is not None else None
        if stage in self._parallel_stages and entry is not None and entry != element_id:
            task = _latest_task(wf, entry)
            if task is None:
                raise ValueError(f"stage {stage} entry {entry!r} has no task to reset to")
        target = _outermost_fork(task) or task
        with self._flow_problems(wf):
            wf.reset_from_task_id(target.id, data=copy_data(data))
        # SpiffWorkflow keeps a finished workflow's ``completed`` flag through a reset.
        wf.completed = False
        self._engine_steps(wf, data)

    # -- storage -----------------------------------------------------------------------------

    def dumps(self, wf: BpmnWorkflow, *, release: bool = False) -> str:
        """The workflow's state as JSON text, without the spec (stored per definition).

        With ``release`` the caller hands ``wf`` over and must not use or change it again:
        the runner keeps it (the :data:`RELEASED_WORKFLOWS` latest) and :meth:`loads` of this
        very text returns it instead of deserializing.
        """
        if wf.spec.name != self._spec.name:
            raise ValueError(
                f"workflow of process {wf.spec.name!r} given to the runner of "
                f"{self.definition.id!r}"
            )
        dct = _SERIALIZER.to_dict(wf)
        dct[_SERIALIZER.VERSION_KEY] = _SERIALIZER.VERSION
        dct[HEADER_KEY] = self._header
        text = json.dumps(dct, cls=_ENCODER, separators=(",", ":"))
        if release:
            with self._released_lock:
                self._released[text] = wf
                self._released.move_to_end(text)
                if len(self._released) > RELEASED_WORKFLOWS:
                    self._released.popitem(last=False)
        return text

    def loads(self, state: str) -> BpmnWorkflow:
        """A workflow restored from :meth:`dumps`, on this definition's spec objects and the
        safe script engine. ``ValueError`` for state of another definition version.

        When ``state`` is the text of a workflow released by ``dumps(wf, release=True)``,
        that workflow itself is returned, and forgotten by the runner (it is handed out once,
        so two callers never share it).
        """
        with self._released_lock:
            released = self._released.pop(state, None)
        if released is not None:
            return released
        dct = json.loads(state)
        if not isinstance(dct, dict):
            raise ValueError("workflow state is not a JSON object")
        header = dct.pop(HEADER_KEY, None)
        if header != self._header:
            raise ValueError(
                f"workflow state belongs to {header!r}, not to process "
                f"{self.definition.id!r} version {self.definition.version}"
            )
        _SERIALIZER.migrate(dct)
        wf = _SERIALIZER.from_dict(dct, spec=self._spec, subprocess_specs=self._subprocess_specs)
        install_safe_engine(wf)
        return wf

    # -- helpers -----------------------------------------------------------------------------

    def _engine_steps(self, wf: BpmnWorkflow, data: Mapping[str, Any]) -> None:
        """``do_engine_steps`` with the case data injected into each task before it runs;
        :class:`FlowError` when the flow cannot move on."""

        def inject(task: Any) -> None:
            task.data = copy_data(data)

        with self._flow_problems(wf):
            wf.do_engine_steps(will_complete_task=inject)

    @contextmanager
    def _flow_problems(self, wf: BpmnWorkflow) -> Iterator[None]:
        """SpiffWorkflow's exceptions (and a condition the safe evaluator cannot evaluate)
        raised while the flow runs become a :class:`FlowError` saying where and why.

        Only those: any other exception is a bug and propagates as it is.
        """
        try:
            yield
        except (SpiffWorkflowException, ExpressionError) as err:
            raise FlowError(self._flow_problem(wf, err)) from err

    def _flow_problem(self, wf: BpmnWorkflow, err: SpiffWorkflowException | ExpressionError) -> str:
        """``the flow cannot move on at <where>: <why>`` for an exception of the flow."""
        task = _failing_task(wf, err)
        spec = task.task_spec if task is not None else _failing_spec(err)
        if spec is None:
            return f"the flow cannot move on: {_reason(err, None)}"
        element = _element(spec)
        name = getattr(spec, "bpmn_name", None)
        stage = self._enclosing_stage(task)
        where = element_label(self.definition, element, name, _kind(spec), stage=stage)
        return f"the flow cannot move on at {where}: {_reason(err, spec)}"

    def _enclosing_stage(self, task: Any) -> int | None:
        """The stage of the outermost task (an embedded sub-process, a called process) that
        ``task`` runs inside of, when ``task`` runs in a sub-workflow; else None."""
        stage = None
        try:
            while task is not None and task.workflow is not task.workflow.top_workflow:
                parent = task.workflow.parent_workflow
                task = parent.get_task_from_id(task.workflow.parent_task_id)
                stage = self.definition.task_stages.get(_element(task.task_spec), stage)
        except SpiffWorkflowException:  # no such task any more: name no stage
            return None
        return stage

    @staticmethod
    def _task(wf: BpmnWorkflow, task_id: str) -> Any:
        """The task with this id in the workflow or its sub-processes, else None."""
        try:
            uuid = UUID(task_id)
        except ValueError as err:
            raise ValueError(f"{task_id!r} is not a task id") from err
        for workflow in _workflows(wf):
            task = workflow.tasks.get(uuid)
            if task is not None:
                return task
        return None


def _failing_task(wf: BpmnWorkflow, err: Exception) -> Any:
    """The task an exception of the flow is about: the exception's own, else the task that
    SpiffWorkflow put in the ERROR state while running it (the one of the exception's spec
    when it names one); None when there is none."""
    task = getattr(err, "task", None)
    if task is not None:
        return task
    spec = _failing_spec(err)
    failed = [
        task
        for flow in _workflows(wf)
        for task in flow.get_tasks(state=TaskState.ERROR)
        if spec is None or task.task_spec is spec
    ]
    return failed[-1] if failed else None


def _failing_spec(err: Exception) -> Any:
    """The task spec an exception of the flow is about, else None."""
    task = getattr(err, "task", None)
    spec = getattr(task, "task_spec", None) or getattr(err, "task_spec", None)
    # SpiffWorkflow sometimes passes its arguments the other way round (message, spec).
    return spec if hasattr(spec, "name") else None


def _kind(spec: Any) -> str:
    """What kind of BPMN element a task spec runs, as a person calls it."""
    if isinstance(spec, ExclusiveGateway | InclusiveGateway | ParallelGateway):
        return "gateway"
    if isinstance(spec, CatchingEvent | ThrowingEvent):
        return "event"
    if isinstance(spec, SubWorkflowTask):
        return "sub-process"
    return "task"


def _reason(err: SpiffWorkflowException | ExpressionError, spec: Any) -> str:
    """Why the flow stopped, in words: the condition that cannot be evaluated, the gateway
    without a way out, the missing data input or output; else SpiffWorkflow's own message."""
    if isinstance(err, LoopDataError):
        return err.reason
    cause = err if isinstance(err, ExpressionError) else err.__cause__
    if isinstance(cause, ExpressionError):
        what = "condition" if isinstance(spec, MultiChoice) or spec is None else "expression"
        text = cause.text.strip()
        return f"{what} {text!r} cannot be evaluated: {cause}" if text else str(cause)
    message = str(err.args[0]).strip().rstrip(".") if err.args else type(err).__name__
    if message.startswith("No conditions satisfied") and isinstance(spec, MultiChoice):
        conditions = "; ".join(
            str(getattr(condition, "args", ("?",))[0]) for condition, _name in spec.cond_task_specs
        )
        return f"none of its conditions holds ({conditions}) and it has no default flow"
    if isinstance(err, WorkflowDataException):
        if err.data_input is not None and "missing" in message.lower():
            return f"its data input {err.data_input.bpmn_id!r} is not in the case data"
        if err.data_output is not None and message.startswith("Missing data ou"):
            return f"its data output {err.data_output.bpmn_id!r} is not in the case data"
        names = [
            f"{kind} {var.bpmn_id!r}"
            for kind, var in (("data input", err.data_input), ("data output", err.data_output))
            if var is not None
        ]
        if names:
            message += f" ({', '.join(names)})"
    notes = [str(note) for note in getattr(err, "notes", ()) if note]
    return ". ".join([message, *notes])


# -- loop tasks ------------------------------------------------------------------------------


class LoopDataError(WorkflowDataException):  # type: ignore[misc]
    """A multi-instance task cannot start (or start its next instance) with the data it is
    given; ``reason`` says what is wrong with which data name. Raised before SpiffWorkflow
    reads that data, where it would fail with a ``TypeError``, an ``IndexError``... (or start
    a wrong number of instances, or none and wait forever).
    """

    def __init__(self, reason: str, task: Any, *, data_input: Any = None) -> None:
        super().__init__(reason, task, data_input=data_input)
        self.reason = reason


_LOOPS_LOCK = threading.Lock()


def _prepare_loops(processes: Iterable[Any]) -> None:
    """Hook the loop tasks of a definition's process specs (once per spec object):

    * each multi-instance task checks its data (:func:`_check_loop_data`) when SpiffWorkflow
      updates it: after it took its data, before it reads its collection or cardinality;
    * each loop task's instance spec reports its completion to the loop task. SpiffWorkflow
      connects that only as it creates an instance, so in a process that restored the workflow
      and never created one itself, completing an instance would never finish the loop.
    """
    with _LOOPS_LOCK:
        for process in processes:
            for spec in list(process.task_specs.values()):
                if isinstance(spec, MultiInstanceTask) and not spec.update_event.is_connected(
                    _check_loop_data
                ):
                    spec.update_event.connect(_check_loop_data)
                child = (
                    process.task_specs.get(spec.task_spec) if isinstance(spec, LoopTask) else None
                )
                if child is None:
                    continue
                event = child.completed_event
                if isinstance(spec, SequentialMultiInstanceTask) and not event.is_connected(
                    _check_next_item
                ):
                    if event.is_connected(spec.merge_child):  # the check must come first
                        event.disconnect(spec.merge_child)
                    event.connect(_check_next_item)
                if not event.is_connected(spec.merge_child):
                    event.connect(spec.merge_child)


def _check_loop_data(workflow: Any, task: Any) -> None:
    """:class:`LoopDataError` unless the multi-instance ``task`` can start with its data: its
    collection (``loopDataInputRef``) must be there and be a list or a dict; its cardinality
    (``loopCardinality``) must give a whole number, 0 or more; the names of its instances'
    items (``inputDataItem``, ``outputDataItem``) must not be taken yet."""
    spec = task.task_spec
    data = _loop_data(spec, task)
    for item, tag in ((spec.input_item, "inputDataItem"), (spec.output_item, "outputDataItem")):
        if item is not None and item.bpmn_id in data:
            raise LoopDataError(
                f"its instances' {tag} {item.bpmn_id!r} is already in the case data", task
            )
    if spec.data_input is not None:
        name = spec.data_input.bpmn_id
        what = f"its collection {name!r} (loopDataInputRef)"
        if name not in data:
            raise LoopDataError(f"{what} is not in the case data", task, data_input=spec.data_input)
        if not isinstance(data[name], list | tuple | Mapping):
            raise LoopDataError(
                f"{what} is {_shown(data[name])}, not a list or a dict",
                task,
                data_input=spec.data_input,
            )
    elif spec.cardinality is not None:
        expression = str(spec.cardinality).strip()
        what = f"its loop cardinality {expression!r}"
        if expression.isidentifier() and not iskeyword(expression) and expression not in data:
            raise LoopDataError(f"{what} is not in the case data", task)
        count = _evaluated(task, data, expression)
        if not isinstance(count, int) or isinstance(count, bool) or count < 0:
            raise LoopDataError(
                f"{what} is {_shown(count)}, not a number of instances (a whole number, 0 or more)",
                task,
            )
        output = spec.data_output
        if output is not None and spec.io_specification is None and output.exists(task):
            # SpiffWorkflow 3.2 fails with a NameError on an output collection that is already
            # there (a typo in MultiInstanceTask.init_data_output_with_cardinality). Without it
            # SpiffWorkflow starts an empty one; the case data never takes it back (the task's
            # data is the case data again when it runs), so nothing else changes.
            del task.data[output.bpmn_id]


def _check_next_item(workflow: Any, instance: Any) -> None:
    """:class:`LoopDataError` unless the collection of a sequential multi-instance task still
    has the item of its next instance once the ``instance`` completing now is merged into it
    (the instance's data, the case data, may hold another collection by now)."""
    loop = instance.parent
    spec = loop.task_spec
    remaining = loop.internal_data.get("remaining") or []
    if spec.data_input is None or not remaining:
        return
    name = spec.data_input.bpmn_id
    merges = spec.data_output is None or spec.output_item is None
    if not merges or name not in instance.data:
        return  # SpiffWorkflow reads the collection it started with
    if spec.condition is not None and loop.workflow.script_engine.evaluate(
        instance, spec.condition
    ):
        return  # the loop ends with this instance
    merged = DeepMerge.merge({name: deepcopy(loop.data.get(name))}, {name: instance.data[name]})
    collection, key = merged[name], remaining[0]
    if isinstance(collection, Mapping):
        found = key in collection
    else:
        found = (
            isinstance(collection, list | tuple)
            and isinstance(key, int)
            and 0 <= key < len(collection)
        )
    if not found:
        raise LoopDataError(
            f"its collection {name!r} (loopDataInputRef) is now {_shown(collection)}, with no "
            f"item {key!r} for its next instance",
            loop,
            data_input=spec.data_input,
        )


def _loop_data(spec: Any, task: Any) -> Mapping[str, Any]:
    """The data a loop task reads: its data inputs when it has an IO specification with
    some (SpiffWorkflow then keeps only those), else all its data."""
    io = spec.io_specification
    if io is None or not io.data_inputs:
        return task.data  # type: ignore[no-any-return]
    return {var.bpmn_id: var.get(task) for var in io.data_inputs if var.exists(task)}


def _evaluated(task: Any, data: Mapping[str, Any], expression: str) -> Any:
    """``expression`` evaluated by the workflow's script engine over ``data`` as the task's."""
    saved = task.data
    task.data = data
    try:
        return task.workflow.script_engine.evaluate(task, expression)
    finally:
        task.data = saved


def _shown(value: Any) -> str:
    """A value for a message: its repr, cut short."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _element(spec: Any) -> str:
    """The BPMN element a task spec runs: its BPMN id (a loop task's instances run the loop
    task's element: their spec is named ``<id> [child]``), else its name."""
    return str(getattr(spec, "bpmn_id", None) or spec.name)


#: Types whose values never change: shared, not copied, by :func:`copy_data`.
_IMMUTABLE: frozenset[type] = frozenset(
    {str, int, float, bool, type(None), date, datetime, time, timedelta, UUID}
)


def copy_data(data: Mapping[str, Any]) -> dict[str, Any]:
    """A deep copy of case data as a new dict.

    JSON values (dicts, lists, strings, numbers, booleans, None) and dates are copied directly,
    several times faster than :func:`copy.deepcopy`; any other value goes through
    ``deepcopy``. Unlike ``deepcopy`` a list or dict held twice is copied twice (case data
    comes from JSON, where nothing is shared).
    """
    return {key: _copy_value(value) for key, value in data.items()}


def _copy_value(value: Any) -> Any:
    kind = type(value)
    if kind in _IMMUTABLE:
        return value
    if kind is dict:
        return {key: _copy_value(item) for key, item in value.items()}
    if kind is list:
        return [_copy_value(item) for item in value]
    return deepcopy(value)


def _workflows(wf: BpmnWorkflow) -> Iterator[Any]:
    """The top workflow and its sub-workflows."""
    yield wf
    yield from wf.subprocesses.values()


def _latest_task(wf: BpmnWorkflow, element_id: str) -> Any:
    """The latest reached task of an element (sub-processes included): COMPLETED first, else
    any reached state; None when the element has no reached task.

    "Latest" is the deepest in the task tree (a later pass through the element lies below
    an earlier one), then the last in SpiffWorkflow's depth-first order.
    """
    candidates = [
        (task.state == TaskState.COMPLETED, task.depth, order, task)
        for order, task in enumerate(wf.get_tasks(spec_name=element_id, state=REACHED_STATES))
    ]
    if not candidates:
        return None
    return max(candidates, key=lambda entry: entry[:3])[3]


def _is_split(task: Any) -> bool:
    spec = task.task_spec
    return isinstance(spec, ParallelGateway | InclusiveGateway) and len(spec.outputs) > 1


def _is_join(task: Any) -> bool:
    spec = task.task_spec
    return isinstance(spec, UnstructuredJoin) and len(spec.inputs) > 1


def _outermost_fork(task: Any) -> Any:
    """The outermost forking gateway task whose branches hold ``task``, or None.

    Walking up the tree, a join closes the branches of the next split above it; a split met
    with no join left open forked the branch ``task`` is on.
    """
    found = None
    open_joins = 0
    current = task.parent
    while current is not None:
        if _is_split(current):
            if open_joins == 0:
                found = current
            else:
                open_joins -= 1
        if _is_join(current):
            open_joins += 1
        current = current.parent
    return found


# -- per-definition cache --------------------------------------------------------------------

_RUNNERS: OrderedDict[tuple[str, int, str], FlowRunner] = OrderedDict()
_RUNNERS_LOCK = threading.Lock()


def runner_for(definition: ProcessDefinition) -> FlowRunner:
    """The :class:`FlowRunner` of a definition, cached per (id, version, digest)."""
    key = (definition.id, definition.version, definition.digest)
    with _RUNNERS_LOCK:
        runner = _RUNNERS.get(key)
        if runner is None:
            runner = FlowRunner(definition)
            _RUNNERS[key] = runner
            if len(_RUNNERS) > _RUNNER_CACHE_SIZE:
                _RUNNERS.popitem(last=False)
        else:
            _RUNNERS.move_to_end(key)
        return runner
