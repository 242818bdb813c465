"""The parameters of each process of a scenario (``processes:``), checked and read.

Durations (distributions), also per pool (``pool_durations``), case data generators, branch
probabilities of exclusive gateways, holds, rework, sub-case spawns, robot behaviour and case
setting overrides become one :class:`~.scenario_model.ProcessParams` per process, and the
process is compiled for the simulator with its settings
(:class:`~.scenario_definitions.Definitions`).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from engine.builder.yaml_source import YamlPath
from engine.durations import DurationError, parse_due, parse_wall_duration
from engine.errors import DefinitionError
from engine.simulation.distributions import Distribution, parse_distribution
from engine.simulation.scenario_branches import BranchChoices, BranchTarget
from engine.simulation.scenario_definitions import ScenarioProcess
from engine.simulation.scenario_model import (
    HOLD_KINDS,
    DataGenerator,
    HoldSpec,
    ProcessParams,
    ReworkSpec,
    RobotBehaviour,
    SimProcess,
    SubcaseSpawn,
)
from engine.simulation.scenario_scope import (
    DeclaredPool,
    ScenarioScope,
    as_mapping,
    as_number,
    as_probability,
    did_you_mean,
    list_items,
    quoted,
)

__all__ = ["BRANCH_TOLERANCE", "GENERATOR_KEYS", "ParamsChecks"]

BRANCH_TOLERANCE = 1e-9
"""How far from 1 the branch probabilities of a gateway may add up."""

GENERATOR_KEYS = ("dist", "choice", "probability", "value")
"""The kinds of data generator: a field has exactly one."""


class ParamsChecks(ScenarioScope):
    """The checks of ``processes:`` (one entry per process of the scenario)."""

    def process_params(self) -> None:
        """Read the parameters of every process into ``ScenarioProcess.params`` (and its
        simulator form into ``.sim``)."""
        section = as_mapping(self.data.get("processes"))
        for pid in section:
            self.process(pid, ("processes", pid), at_key=True)
        for pid, proc in self.processes.items():
            body = as_mapping(section.get(pid))
            path: YamlPath = ("processes", pid)
            settings = self.settings(proc, path + ("settings",), body.get("settings"))
            if settings is not None:
                try:
                    proc.sim = self.with_calendars(self.definitions.sim(proc.definition, settings))
                except DefinitionError as err:
                    n = len(err.problems)
                    self.add(
                        f"the simulator cannot run process {pid!r} "
                        f"({n} problem{'s' if n != 1 else ''}, listed with its file)",
                        ("definitions", proc.index),
                        "M003",
                    )
                    self.problems.extend(err.problems)
            robots = self.robots(proc, path + ("robots",), body.get("robots"))
            proc.params = ProcessParams(
                process=pid,
                durations=self.durations(proc, path + ("durations",), body.get("durations")),
                pool_durations=self.pool_durations(
                    proc, path + ("pool_durations",), body.get("pool_durations")
                ),
                data=self.data_generators(path + ("data",), body.get("data")),
                branches=self.branches(proc, path + ("branches",), body.get("branches")),
                holds=self.holds(proc, path + ("holds",), body.get("holds")),
                rework=self.rework(proc, path + ("rework",), body.get("rework")),
                subcases=self.subcases(proc, path + ("subcases",), body.get("subcases")),
                robots={k: v for k, v in robots.items() if k != "default"},
                robot_default=robots.get("default", RobotBehaviour()),
                settings=dict(settings or {}),
            )

    def with_calendars(self, sim: SimProcess) -> SimProcess:
        """``sim`` whose model also holds the scenario's calendars, replacing its own of the
        same name, so that case calendars and due dates resolve them like pools do."""
        own = [cal for cal in self.calendars.values() if cal is not None]
        if sim.model is None or not own:
            return sim
        names = {cal.name for cal in own}
        kept = tuple(cal for cal in sim.model.calendars if cal.name not in names)
        model = dataclasses.replace(sim.model, calendars=kept + tuple(own))
        return dataclasses.replace(sim, model=model)

    def settings(self, proc: ScenarioProcess, path: YamlPath, value: Any) -> dict[str, Any] | None:
        """The case setting overrides (None when one cannot be read)."""
        out: dict[str, Any] = {}
        ok = True
        for key, item in as_mapping(value).items():
            where = path + (key,)
            if key == "add_wait_time_to_due_date" and isinstance(item, bool):
                out[key] = item
            elif key in ("due", "feedback_window") and isinstance(item, str):
                try:
                    if key == "feedback_window":
                        parse_wall_duration(item)
                    out[key] = parse_due(item)
                except DurationError as err:
                    self.add(str(err), where, "M017")
                    ok = False
            elif key == "calendar" and isinstance(item, str):
                if self.calendar(item, where) is None:
                    ok = False
                out[key] = item
            else:
                ok = False  # wrong type or unknown key: reported by the schema
        return out if ok else None

    def durations(
        self, proc: ScenarioProcess, path: YamlPath, value: Any
    ) -> dict[str, Distribution]:
        """The duration distribution of each action named under ``durations``."""
        out: dict[str, Distribution] = {}
        for key, item in as_mapping(value).items():
            self.action(proc, key, path + (key,), at_key=True)
            dist = parse_distribution(item, path + (key,), self.doc, self.problems, time=True)
            if dist is not None:
                out[key] = dist
        return out

    def pool_durations(
        self, proc: ScenarioProcess, path: YamlPath, value: Any
    ) -> dict[str, dict[str, Distribution]]:
        """The duration distributions under ``pool_durations``: action id -> pool name ->
        processing time when a resource of that pool does the action."""
        out: dict[str, dict[str, Distribution]] = {}
        pools = self.declared_pools()
        for key, by_pool in as_mapping(value).items():
            where = path + (key,)
            known = self.action(proc, key, where, at_key=True) is not None
            read: dict[str, Distribution] = {}
            for pool, item in as_mapping(by_pool).items():
                at = where + (pool,)
                does = self.pool_does(proc, key, pool, at, pools) if known else False
                dist = parse_distribution(item, at, self.doc, self.problems, time=True)
                if does and dist is not None:
                    read[pool] = dist
            if read:
                out[key] = read
        return out

    def pool_does(
        self,
        proc: ScenarioProcess,
        action_id: str,
        pool: str,
        path: YamlPath,
        pools: dict[str, DeclaredPool],
    ) -> bool:
        """Whether resource pool ``pool`` exists and does action ``action_id`` of
        ``proc``; a problem (M019) at the pool's key when not."""
        declared = pools.get(pool)
        if declared is None:
            self.add(
                f"unknown resource pool {pool!r}{did_you_mean(pool, pools)} "
                f"(pools: {quoted(pools)})",
                path,
                "M019",
                at_key=True,
            )
            return False
        key = f"{proc.model.id}.{action_id}"
        if not declared.listed or key in declared.actions:
            return declared.listed  # actions that are not a list: reported by the schema
        doers = [name for name, other in pools.items() if key in other.actions]
        self.add(
            f"resource pool {pool!r} does not do action {action_id!r} of process "
            f"{proc.model.id!r}: add {key!r} to its actions (pools doing it: {quoted(doers)})",
            path,
            "M019",
            at_key=True,
        )
        return False

    def data_generators(self, path: YamlPath, value: Any) -> tuple[DataGenerator, ...]:
        """The case data generators, one per field."""
        out = []
        for name, item in as_mapping(value).items():
            generator = self.data_generator(name, path + (name,), item)
            if generator is not None:
                out.append(generator)
        return tuple(out)

    def data_generator(self, name: str, path: YamlPath, value: Any) -> DataGenerator | None:
        """The generator of field ``name``: a value, dist, choice or probability."""
        if not isinstance(value, dict):
            if isinstance(value, list):
                return None  # reported by the schema
            return DataGenerator(name, value=value)
        given = [key for key in GENERATOR_KEYS if key in value]
        if len(given) != 1:
            self.add(
                f"data field {name!r} needs exactly one of dist, choice, probability, value"
                + (f"; got {', '.join(given)}" if given else ""),
                path,
                "M015",
            )
            return None
        kind = given[0]
        if kind == "dist":
            dist = parse_distribution(
                value, path, self.doc, self.problems, time=False, ignore=("integer",)
            )
            integer = value.get("integer", False)
            if dist is None or not isinstance(integer, bool):
                return None
            return DataGenerator(name, distribution=dist, integer=integer)
        extra = [key for key in value if key != kind]
        for key in extra:
            self.add(f"{key!r} does not go with {kind!r}", path + (key,), "M015", at_key=True)
        if extra:
            return None
        if kind == "choice":
            return self.choice(name, path + ("choice",), value["choice"])
        if kind == "probability":
            probability = as_probability(value["probability"])
            return None if probability is None else DataGenerator(name, probability=probability)
        return DataGenerator(name, value=value["value"])

    def choice(self, name: str, path: YamlPath, value: Any) -> DataGenerator | None:
        """A generator choosing one of the keys of ``value`` by weight."""
        if not isinstance(value, dict):
            return None
        weights = [(key, as_number(weight)) for key, weight in value.items()]
        if any(w is None or w < 0 for _, w in weights):
            return None  # reported by the schema
        choices = tuple((key, float(w or 0)) for key, w in weights)
        if choices and math.fsum(w for _, w in choices) <= 0:
            self.add("the weights of a choice must not all be 0", path, "M015")
            return None
        return DataGenerator(name, choices=choices)

    def branches(
        self, proc: ScenarioProcess, path: YamlPath, value: Any
    ) -> dict[str, tuple[tuple[str, float], ...]]:
        """The outgoing-flow probabilities of each exclusive gateway named (sum 1).

        A gateway is named by its element id or by the name of the stage it enters; an
        outcome by its flow id, ``enter``/``skip`` (a stage's gateway), the condition text of
        a flow, or ``otherwise`` (the default flow). The flows are kept in the gateway's
        order, whatever the order written.
        """
        out: dict[str, tuple[tuple[str, float], ...]] = {}
        if proc.sim is None:
            return out
        choices = BranchChoices(proc.model, proc.sim)
        named: dict[str, str] = {}
        for key, flows in as_mapping(value).items():
            where = path + (key,)
            target = choices.target(key)
            if isinstance(target, str):
                self.add(target, where, "M009", at_key=True)
                continue
            if target.gateway in named:
                self.add(
                    f"{target.label} is given twice: as {named[target.gateway]!r} and {key!r}",
                    where,
                    "M009",
                    at_key=True,
                )
                continue
            named[target.gateway] = key
            if not isinstance(flows, dict):
                continue
            read = self.branch_outcomes(target, where, flows)
            if read is None:
                continue
            total = math.fsum(read.values())
            if abs(total - 1) > BRANCH_TOLERANCE:
                self.add(
                    f"the probabilities of {target.label} add up to {total:g}, not 1",
                    where,
                    "M009",
                )
                continue
            out[target.gateway] = tuple(
                (flow, read[flow]) for flow in target.outgoing if flow in read
            )
        return out

    def branch_outcomes(
        self, target: BranchTarget, path: YamlPath, flows: dict[str, Any]
    ) -> dict[str, float] | None:
        """Flow id -> probability of the outcomes written for ``target`` (None when one
        cannot be read: reported)."""
        read: dict[str, float] = {}
        keys: dict[str, str] = {}
        ok = True
        for key, probability in flows.items():
            where = path + (key,)
            flow = target.flow(key)
            if flow is None:
                self.add(
                    f"{target.label} has no outcome {key!r}{did_you_mean(key, target.outcomes)} "
                    f"(its outcomes: {quoted(target.outcomes)})",
                    where,
                    "M009",
                    at_key=True,
                )
                ok = False
                continue
            if flow in keys:
                self.add(
                    f"{key!r} and {keys[flow]!r} are the same outcome of {target.label} "
                    f"(flow {flow!r})",
                    where,
                    "M009",
                    at_key=True,
                )
                ok = False
                continue
            keys[flow] = key
            number = as_probability(probability)
            if number is None:
                ok = False  # reported by the schema
                continue
            read[flow] = number
        return read if ok else None

    def holds(self, proc: ScenarioProcess, path: YamlPath, value: Any) -> tuple[HoldSpec, ...]:
        """The holds drawn after actions (kind, probability, duration)."""
        out = []
        for i, item in list_items(value):
            hold = as_mapping(item)
            where = path + (i,)
            kind = hold.get("kind")
            if isinstance(kind, str) and kind not in HOLD_KINDS:
                self.add(
                    f"unknown hold kind {kind!r} (kinds: {', '.join(HOLD_KINDS)})",
                    where + ("kind",),
                    "M018",
                )
            after_value = hold.get("after", [])
            after_items = (
                [((), after_value)]
                if isinstance(after_value, str)
                else [((j,), a) for j, a in list_items(after_value)]
            )
            after = []
            for suffix, action_id in after_items:
                if self.action(proc, action_id, where + ("after",) + suffix) is not None:
                    after.append(action_id)
            duration = None
            if "duration" in hold:
                duration = parse_distribution(
                    hold["duration"], where + ("duration",), self.doc, self.problems, time=True
                )
            probability = as_probability(hold.get("probability"))
            if duration is None or probability is None or kind not in HOLD_KINDS:
                continue
            out.append(HoldSpec(str(kind), probability, duration, tuple(after)))
        return tuple(out)

    def rework(self, proc: ScenarioProcess, path: YamlPath, value: Any) -> tuple[ReworkSpec, ...]:
        """The rework drawn after actions, back to an earlier stage or action (RW4, RW5)."""
        out = []
        model = proc.model
        for i, item in list_items(value):
            spec = as_mapping(item)
            where = path + (i,)
            after = self.action(proc, spec.get("after"), where + ("after",))
            has_stage, has_action = "stage" in spec, "action" in spec
            if has_stage == has_action:
                self.add(
                    "give exactly one of 'stage' and 'action': where the rework goes back to",
                    where,
                    "M010",
                )
                continue
            after_stage = model.stage_of(after.id) if after is not None else None
            target_stage: int | None = None
            stage = spec.get("stage")
            action_id = spec.get("action")
            if has_stage and isinstance(stage, int) and not isinstance(stage, bool):
                if not 1 <= stage <= len(model.stages):
                    self.add(
                        f"process {model.id!r} has stages 1 to {len(model.stages)}; "
                        f"there is no stage {stage}",
                        where + ("stage",),
                        "M010",
                    )
                    continue
                target_stage = stage
            elif has_action:
                target = self.action(proc, action_id, where + ("action",))
                if target is None:
                    continue
                if not target.flow:
                    self.add(
                        f"action {target.id!r} is out of the flow (launched by hand only): "
                        "it cannot be a rework point (RW4)",
                        where + ("action",),
                        "M010",
                    )
                    continue
                target_stage = model.stage_of(target.id)
            if target_stage is None or after is None or after_stage is None:
                continue
            if target_stage >= after_stage:
                point = (
                    f"stage {target_stage}"
                    if has_stage
                    else f"action {action_id!r} (stage {target_stage})"
                )
                self.add(
                    f"rework after {after.id!r} (stage {after_stage}) can only go back to an "
                    f"earlier stage; {point} is not (RW5)",
                    where + (("stage",) if has_stage else ("action",)),
                    "M010",
                )
                continue
            probability = as_probability(spec.get("probability"))
            if probability is None:
                continue
            out.append(
                ReworkSpec(
                    after.id,
                    probability,
                    stage=target_stage if has_stage else None,
                    action=str(action_id) if has_action else None,
                )
            )
        return tuple(out)

    def subcases(
        self, proc: ScenarioProcess, path: YamlPath, value: Any
    ) -> tuple[SubcaseSpawn, ...]:
        """The sub-cases spawned after actions, of processes the parent may start (SC5)."""
        out = []
        for i, item in list_items(value):
            spec = as_mapping(item)
            where = path + (i,)
            after = self.action(proc, spec.get("after"), where + ("after",))
            child = self.process(spec.get("process"), where + ("process",))
            process = spec.get("process")
            if isinstance(process, str) and process not in proc.model.settings.subcases:
                self.add(
                    f"process {proc.model.id!r} may not start sub-cases of {process!r}: "
                    f"add it to 'subcases' of its definition (SC5)",
                    where + ("process",),
                    "M011",
                )
                continue
            probability = as_probability(spec.get("probability"))
            if after is None or child is None or probability is None:
                continue
            out.append(SubcaseSpawn(after.id, child.model.id, probability))
        return tuple(out)

    def robots(
        self, proc: ScenarioProcess, path: YamlPath, value: Any
    ) -> dict[str, RobotBehaviour]:
        """Failure and refusal rates of robots, per action and ``default``."""
        out: dict[str, RobotBehaviour] = {}
        for key, item in as_mapping(value).items():
            if key != "default" and self.action(proc, key, path + (key,), at_key=True) is None:
                continue
            body = as_mapping(item)
            failure = as_probability(body.get("failure", 0))
            refusal = as_probability(body.get("refusal", 0))
            if isinstance(item, dict) and failure is not None and refusal is not None:
                out[key] = RobotBehaviour(failure=failure, refusal=refusal)
        return out
