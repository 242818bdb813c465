"""The scenario compiled for one replication: what the kernel executes.

:class:`Program` turns a :class:`~engine.simulation.scenario_model.Scenario` into integer-indexed
structures the event loop can walk fast: per process the BPMN graph as node arrays
(:class:`ProcessProgram`), per action type its duration sampler, pools and after-effects
(:class:`ActionType`), and the resource pools with their calendars (:class:`Pool`,
:class:`Resource`). Samplers are bound to the replication's random generator.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from engine.calendars import WorkingCalendar, calendar_for
from engine.errors import DefinitionError, Problem
from engine.model import CalendarDef, ProcessModel
from engine.simulation.fastcal import FastCalendar
from engine.simulation.graph import NodeKind
from engine.simulation.results import ReplicationLog
from engine.simulation.scenario_model import (
    DataGenerator,
    HoldSpec,
    ProcessParams,
    ReworkSpec,
    Scenario,
    SimProcess,
)

if TYPE_CHECKING:
    from engine.simulation.kernel import Work


class SimulationError(DefinitionError):
    """A scenario the kernel cannot run (raised before any event is processed), or a flow
    that cannot move on (a condition that cannot be evaluated, no branch taken)."""

    subject = "scenario"


class ActionType:
    """An action type of one process, compiled: its sampler, pools and after-effects."""

    __slots__ = (
        "index",
        "key",
        "process",
        "label",
        "sample",
        "pool_samples",
        "pools",
        "human_pools",
        "robot",
        "failure",
        "refusal",
        "reworks",
        "holds",
        "spawns",
        "stage",
        "order",
        "parallel_stage",
        "node",
    )

    def __init__(self, index: int, key: str, process: str, label: str) -> None:
        self.index = index
        self.key = key
        self.process = process
        self.label = label
        self.sample: Callable[[], float] = _zero
        self.pool_samples: dict[Pool, Callable[[], float]] = {}
        self.pools: list[Pool] = []
        self.human_pools: list[Pool] = []
        self.robot = False
        self.failure = 0.0
        self.refusal = 0.0
        self.reworks: list[tuple[float, ReworkSpec, int, ActionType | None]] = []
        self.holds: list[tuple[float, HoldSpec, Callable[[], float]]] = []
        self.spawns: list[tuple[float, str]] = []
        self.stage = 0
        self.order = 0
        self.parallel_stage = False
        self.node = -1


def _zero() -> float:
    return 0.0


class ProcessProgram:
    """A process compiled to integer-indexed node arrays."""

    __slots__ = (
        "id",
        "index",
        "kind",
        "outs",
        "join_need",
        "xor_probs",
        "xor_conds",
        "task_act",
        "task_subcase",
        "start",
        "model",
        "generators",
        "due_rule",
        "calendar",
        "add_wait",
        "stage_entry",
        "names",
    )

    def __init__(self, index: int, sim: SimProcess) -> None:
        self.id = sim.id
        self.index = index
        graph = sim.graph
        ids = list(graph.nodes)
        pos = {node_id: i for i, node_id in enumerate(ids)}
        self.names = ids
        self.kind = [int(graph.nodes[i].kind) for i in ids]
        self.outs = [tuple(pos[f.target] for f in graph.nodes[i].outgoing) for i in ids]
        self.join_need = [graph.nodes[i].incoming for i in ids]
        self.xor_probs: list[tuple[list[float], list[int]] | None] = [None] * len(ids)
        self.xor_conds: list[tuple[list[tuple[str, int]], int] | None] = [None] * len(ids)
        for i, node_id in enumerate(ids):
            node = graph.nodes[node_id]
            if node.kind == NodeKind.XOR and len(node.outgoing) > 1:
                conds = [(f.condition, pos[f.target]) for f in node.outgoing if f.condition]
                default = next((pos[f.target] for f in node.outgoing if f.default), -1)
                if default < 0:
                    plain = [pos[f.target] for f in node.outgoing if not f.condition]
                    default = plain[0] if plain else -1
                self.xor_conds[i] = ([(c, t) for c, t in conds if c is not None], default)
        self.task_act: list[ActionType | None] = [None] * len(ids)
        self.task_subcase: list[str | None] = [None] * len(ids)
        self.start = pos[graph.start]
        self.model: ProcessModel | None = sim.model
        self.generators: list[tuple[str, Callable[[dict[str, Any]], None]]] = []
        self.due_rule = sim.model.settings.due if sim.model else None
        cal_name = sim.model.settings.calendar if sim.model else None
        cal_def = sim.model.calendar(cal_name) if sim.model and cal_name else None
        self.calendar: WorkingCalendar | None = calendar_for(cal_def) if cal_def else None
        self.add_wait = bool(sim.model and sim.model.settings.add_wait_time_to_due_date)
        self.stage_entry = {n: pos[e] for n, e in sim.stage_entries.items() if e in pos}

    def set_branches(
        self, branches: dict[str, tuple[tuple[str, float], ...]], sim: SimProcess
    ) -> None:
        pos = {node_id: i for i, node_id in enumerate(self.names)}
        for gateway, probs in branches.items():
            node = sim.graph.nodes[gateway]
            targets = {f.id: pos[f.target] for f in node.outgoing}
            cum: list[float] = []
            outs: list[int] = []
            total = 0.0
            for flow_id, p in probs:
                total += p
                cum.append(total)
                outs.append(targets[flow_id])
            self.xor_probs[pos[gateway]] = (cum, outs)


class Pool:
    """Interchangeable resources on one calendar: the idle ones and the FIFO queue of work
    waiting for them."""

    __slots__ = ("name", "cal", "idle", "queue", "robot")

    def __init__(self, name: str, cal: FastCalendar, robot: bool) -> None:
        self.name = name
        self.cal = cal
        self.idle: list[Resource] = []
        self.queue: deque[Work] = deque()
        self.robot = robot


class Resource:
    """One person or robot of a pool; ``busy`` sums its working seconds."""

    __slots__ = ("index", "pool", "busy")

    def __init__(self, index: int, pool: Pool) -> None:
        self.index = index
        self.pool = pool
        self.busy = 0.0


def nonnegative(sample: Callable[[], float]) -> Callable[[], float]:
    """``sample`` with negative draws taken as 0 (durations and gaps)."""

    def draw() -> float:
        value = sample()
        return value if value > 0.0 else 0.0

    return draw


def data_generator(gen: DataGenerator, rng: random.Random) -> Callable[[dict[str, Any]], None]:
    """A function that sets the generated value of ``gen`` in a case's data."""
    name = gen.name
    if gen.distribution is not None:
        sample = gen.distribution.sampler(rng)
        if gen.integer:
            return lambda data: data.__setitem__(name, int(round(sample())))
        return lambda data: data.__setitem__(name, sample())
    if gen.choices:
        values = [v for v, _ in gen.choices]
        cum: list[float] = []
        total = 0.0
        for _, w in gen.choices:
            total += w
            cum.append(total)

        def choose(data: dict[str, Any]) -> None:
            x = rng.random() * total
            for value, edge in zip(values, cum, strict=True):
                if x < edge:
                    data[name] = value
                    return
            data[name] = values[-1]

        return choose
    if gen.probability is not None:
        p = gen.probability
        return lambda data: data.__setitem__(name, rng.random() < p)
    value = gen.value
    return lambda data: data.__setitem__(name, value)


class Program:
    """The scenario compiled for one replication: processes, action types, pools, resources,
    calendars and the arrival stream, their samplers bound to the replication's ``rng``.

    Raises :class:`SimulationError` listing every problem (an action with no duration or no
    resource, a task mapped to no action...) before any event runs.
    """

    def __init__(self, scenario: Scenario, rng: random.Random, log: ReplicationLog) -> None:
        self.scenario = scenario
        self.rng = rng
        self.log = log
        self.cals: dict[str | None, FastCalendar] = {None: FastCalendar.from_definition(None)}
        problems: list[Problem] = []
        self.procs: dict[str, ProcessProgram] = {}
        self.acts: dict[str, ActionType] = {}
        for index, (pid, sim) in enumerate(scenario.processes.items()):
            self.procs[pid] = ProcessProgram(index, sim)
            log.processes.append(pid)
        self.pools: list[Pool] = []
        self.resources: list[Resource] = []
        for pool_def in scenario.resources:
            pool = Pool(pool_def.name, self._calendar(pool_def.calendar), pool_def.robot)
            self.pools.append(pool)
            for i in range(pool_def.count):
                res = Resource(len(log.resources.name), pool)
                name = pool_def.name if pool_def.count == 1 else f"{pool_def.name}_{i + 1}"
                log.resources.name.append(name)
                log.resources.pool.append(pool_def.name)
                log.resources.busy.append(0.0)
                log.resources.available.append(0.0)
                pool.idle.append(res)
                self.resources.append(res)
            pool.idle.reverse()  # pop() takes the first-numbered resource
        for pid, sim in scenario.processes.items():
            self._compile_process(self.procs[pid], sim, scenario.params.get(pid), problems)
        if problems:
            raise SimulationError(problems)
        arrivals = scenario.arrivals
        self.arrival_proc = self.procs[arrivals.process]
        self.interarrival = nonnegative(arrivals.interarrival.sampler(rng))
        self.arrival_cal = self._calendar(arrivals.calendar)
        self.arrival_always = arrivals.calendar is None
        self.arrival_wall = arrivals.gaps == "wall"

    # -- compilation ---------------------------------------------------------------------

    def _calendar(self, name: str | None) -> FastCalendar:
        cal = self.cals.get(name)
        if cal is None:
            definition: CalendarDef | None = self.scenario.calendars.get(name) if name else None
            if definition is None:
                raise SimulationError(
                    Problem(f"unknown calendar {name!r}", file=self.scenario.file)
                )
            cal = FastCalendar.from_definition(definition)
            self.cals[name] = cal
        return cal

    def _compile_process(
        self,
        proc: ProcessProgram,
        sim: SimProcess,
        params: ProcessParams | None,
        problems: list[Problem],
    ) -> None:
        params = params or ProcessParams(process=sim.id)
        rng = self.rng
        file = self.scenario.file
        model = sim.model
        pos = {node_id: i for i, node_id in enumerate(proc.names)}
        proc.set_branches(params.branches, sim)
        proc.generators = [(g.name, data_generator(g, rng)) for g in params.data]
        for node_id, key in sim.task_actions.items():
            if node_id not in pos:
                continue
            action_def = model.action(key) if model else None
            if action_def is not None and not action_def.flow:
                proc.task_subcase[pos[node_id]] = ""  # manual launch only: never reached
                continue
            if action_def is not None and action_def.subcase:
                proc.task_subcase[pos[node_id]] = action_def.subcase
                continue
            act = self._act(proc, sim, key)
            act.node = pos[node_id]
            proc.task_act[pos[node_id]] = act
            dist = params.durations.get(key)
            if dist is not None:
                act.sample = nonnegative(dist.sampler(rng))
            qualified = f"{sim.id}.{key}"
            by_pool = params.pool_durations.get(key, {})
            for pool, pool_def in zip(self.pools, self.scenario.resources, strict=True):
                if pool_def.name in by_pool and qualified in pool_def.actions:
                    act.pool_samples[pool] = nonnegative(by_pool[pool_def.name].sampler(rng))
            robot = bool(action_def.robot) if action_def else False
            robot_pools = [
                p
                for p, d in zip(self.pools, self.scenario.resources, strict=True)
                if qualified in d.actions and d.robot
            ]
            human_pools = [
                p
                for p, d in zip(self.pools, self.scenario.resources, strict=True)
                if qualified in d.actions and not d.robot
            ]
            act.robot = robot and bool(robot_pools)
            act.pools = robot_pools if act.robot else human_pools + robot_pools
            act.human_pools = human_pools
            if not act.pools:
                problems.append(
                    Problem(f"action {key!r} of process {sim.id!r} has no resource", file=file)
                )
            elif dist is None and not all(
                p in act.pool_samples for p in (*act.pools, *act.human_pools)
            ):
                problems.append(
                    Problem(f"action {key!r} of process {sim.id!r} has no duration", file=file)
                )
            behaviour = params.robots.get(key, params.robot_default)
            act.failure = behaviour.failure if act.robot else 0.0
            act.refusal = behaviour.refusal if act.robot else 0.0
            if (act.failure or act.refusal) and not human_pools:
                problems.append(
                    Problem(
                        f"robot action {key!r} of process {sim.id!r} may fail or be refused "
                        "but no person pool does it",
                        file=file,
                    )
                )
        for node_index, kind in enumerate(proc.kind):
            if (
                kind == NodeKind.TASK
                and proc.task_act[node_index] is None
                and proc.task_subcase[node_index] is None
            ):
                problems.append(
                    Problem(
                        f"task {proc.names[node_index]!r} of process {sim.id!r} maps to no action",
                        file=file,
                        element_id=proc.names[node_index],
                    )
                )
        if model is not None:
            for number, stage in enumerate(model.stages, start=1):
                for order, action_def in enumerate(stage.actions):
                    act_or_none = self.acts.get(f"{sim.id}.{action_def.id}")
                    if act_or_none is not None:
                        act_or_none.stage = number
                        act_or_none.order = order
                        act_or_none.parallel_stage = stage.parallel
        for spec in params.holds:
            keys = spec.after or tuple(a.key for a in self.acts.values() if a.process == sim.id)
            sample = nonnegative(spec.duration.sampler(rng))
            for key in keys:
                act_or_none = self.acts.get(f"{sim.id}.{key}")
                if act_or_none is not None:
                    act_or_none.holds.append((spec.probability, spec, sample))
        for rw in params.rework:
            act_or_none = self.acts.get(f"{sim.id}.{rw.after}")
            if act_or_none is None:
                continue
            target_act = self.acts.get(f"{sim.id}.{rw.action}") if rw.action else None
            if rw.stage is not None:
                node = proc.stage_entry.get(rw.stage, -1)
            elif target_act is not None:
                node = target_act.node
                if target_act.parallel_stage:
                    node = proc.stage_entry.get(target_act.stage, node)
            else:
                node = -1
            if node < 0:
                problems.append(
                    Problem(
                        f"rework after {rw.after!r} of process {sim.id!r} has no target", file=file
                    )
                )
                continue
            act_or_none.reworks.append((rw.probability, rw, node, target_act))
        for spawn in params.subcases:
            act_or_none = self.acts.get(f"{sim.id}.{spawn.after}")
            if act_or_none is not None:
                act_or_none.spawns.append((spawn.probability, spawn.process))

    def _act(self, proc: ProcessProgram, sim: SimProcess, key: str) -> ActionType:
        qualified = f"{sim.id}.{key}"
        act = self.acts.get(qualified)
        if act is None:
            act = ActionType(len(self.log.activities), key, sim.id, sim.labels.get(key, key))
            self.log.activities.append(act.label)
            self.acts[qualified] = act
        return act
