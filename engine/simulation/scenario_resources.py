"""Arrivals and resource pools of a scenario, and whether every action can run.

``arrivals:`` becomes :class:`~.scenario_model.Arrivals` and ``resources:`` the
:class:`~.scenario_model.ResourcePool` list (a bare action id is qualified as
``process.action`` when exactly one process has it). The coverage check then asks that every
action of the flow has a duration (its own, or one for each pool doing it) and a pool, and a
person pool where robots may fail.
"""

from __future__ import annotations

from typing import Any

from engine.builder.yaml_source import YamlPath
from engine.simulation.distributions import parse_distribution
from engine.simulation.scenario_model import ARRIVAL_GAPS, Arrivals, ResourcePool
from engine.simulation.scenario_scope import (
    ScenarioScope,
    as_mapping,
    as_number,
    did_you_mean,
    quoted,
)

__all__ = ["ResourceChecks"]


class ResourceChecks(ScenarioScope):
    """The checks of ``arrivals:`` and ``resources:``, and of their coverage of the flow."""

    def arrivals(self) -> Arrivals | None:
        """How cases arrive: their process, the time between arrivals, the calendar."""
        body = self.data.get("arrivals")
        if not isinstance(body, dict):
            return None
        proc = self.process(body.get("process"), ("arrivals", "process"))
        interarrival = None
        if "interarrival" in body:
            interarrival = parse_distribution(
                body["interarrival"],
                ("arrivals", "interarrival"),
                self.doc,
                self.problems,
                time=True,
            )
            if interarrival is not None and interarrival.mean() <= 0:
                self.add(
                    "the mean time between arrivals must be longer than 0",
                    ("arrivals", "interarrival"),
                    "D001",
                )
        calendar = body.get("calendar")
        if isinstance(calendar, str):
            self.calendar(calendar, ("arrivals", "calendar"), what="arrivals")
        if proc is None or interarrival is None:
            return None
        gaps = body.get("gaps", "working")
        return Arrivals(
            proc.model.id,
            interarrival,
            calendar if isinstance(calendar, str) else None,
            gaps=gaps if gaps in ARRIVAL_GAPS else "working",
        )

    def resources(self) -> list[ResourcePool]:
        """The resource pools (a pool with a problem is left out)."""
        pools = []
        for name, body in as_mapping(self.data.get("resources")).items():
            if not isinstance(body, dict):
                continue
            path: YamlPath = ("resources", name)
            actions = self.pool_actions(path + ("actions",), body.get("actions"))
            calendar = body.get("calendar")
            if isinstance(calendar, str):
                what = f"resource pool {name!r}"
                self.calendar(calendar, path + ("calendar",), what=what)
            count = body.get("count")
            robot = body.get("robot", False)
            cost = as_number(body.get("cost_per_hour", 0))
            if not isinstance(count, int) or isinstance(count, bool) or count < 1:
                continue
            if actions is None or not isinstance(robot, bool) or cost is None or cost < 0:
                continue
            pools.append(
                ResourcePool(
                    name=name,
                    count=count,
                    actions=actions,
                    calendar=calendar if isinstance(calendar, str) else None,
                    robot=robot,
                    cost_per_hour=cost,
                )
            )
        return pools

    def pool_actions(self, path: YamlPath, value: Any) -> tuple[str, ...] | None:
        """The qualified actions of a pool; None when one of them cannot be read."""
        if not isinstance(value, list):
            return None
        out: list[str] = []
        for i, item in enumerate(value):
            key = self.qualify(item, path + (i,))
            if key is None:
                continue
            if key in out:
                self.add(f"action {key!r} is listed twice", path + (i,), "M006")
                continue
            out.append(key)
        return tuple(out) if len(out) == len(value) else None

    def qualify(self, item: Any, path: YamlPath) -> str | None:
        """``process.action`` for a pool's action (bare ids qualified), or None."""
        if not isinstance(item, str):
            return None
        if "." in item:
            pid, action_id = item.split(".", 1)
            proc = self.process(pid, path)
            if proc is None or self.action(proc, action_id, path) is None:
                return None
            return item
        owners = [pid for pid, proc in self.processes.items() if proc.model.action(item)]
        if len(owners) == 1:
            return f"{owners[0]}.{item}"
        if len(owners) > 1:
            spelled = " or ".join(repr(f"{pid}.{item}") for pid in owners)
            self.add(
                f"action {item!r} is ambiguous: several processes have it; write {spelled}",
                path,
                "M006",
            )
        elif self.complete:
            every = [f"{pid}.{a.id}" for pid, p in self.processes.items() for a in p.flow_actions()]
            self.add(
                f"no process of the scenario has an action {item!r}"
                f"{did_you_mean(item, [k.split('.', 1)[1] for k in every])}",
                path,
                "M005",
            )
        return None

    def coverage(self) -> None:
        """Every action of the flow has a duration and a pool; failing robots a person.

        An action has a duration when ``durations`` gives one, or when every pool doing it
        has one under ``pool_durations``.
        """
        if not self.complete:
            return
        pools = self.declared_pools()
        section = as_mapping(self.data.get("processes"))
        for pid, proc in self.processes.items():
            params = proc.params
            if params is None:
                continue
            body = as_mapping(section.get(pid))
            durations = as_mapping(body.get("durations"))
            by_pool = as_mapping(body.get("pool_durations"))
            for action in proc.flow_actions():
                key = f"{pid}.{action.id}"
                doers = [name for name, pool in pools.items() if key in pool.actions]
                timed = by_pool.get(action.id, {})
                if action.id not in durations and isinstance(timed, dict):  # else: schema
                    self.duration_coverage(pid, action.id, doers, timed)
                if not doers:
                    self.add(
                        f"action {action.id!r} of process {pid!r} has no resource: add "
                        f"{key!r} to the actions of a pool under 'resources'",
                        ("resources",),
                        "M013",
                        at_key=True,
                    )
                elif all(pools[name].robot for name in doers):
                    behaviour = params.robots.get(action.id, params.robot_default)
                    if behaviour.failure > 0 or behaviour.refusal > 0:
                        where = action.id if action.id in params.robots else "default"
                        self.add(
                            f"robots may fail or refuse action {action.id!r} of process {pid!r} "
                            f"but no person pool does it: add {key!r} to a pool without "
                            "'robot: true'",
                            ("processes", pid, "robots", where),
                            "M014",
                        )

    def duration_coverage(
        self, pid: str, action_id: str, doers: list[str], timed: dict[str, Any]
    ) -> None:
        """An action without ``durations`` entry needs a pool duration for every pool doing
        it (``timed``: its ``pool_durations`` by pool); M012 otherwise."""
        missing = [name for name in doers if name not in timed]
        if doers and not missing:
            return
        hint = f"add it under processes.{pid}.durations"
        if timed and missing:
            pools = "pool" if len(missing) == 1 else "pools"
            hint += (
                f", or give {pools} {quoted(missing)} one under "
                f"processes.{pid}.pool_durations.{action_id}"
            )
        self.add(
            f"action {action_id!r} of process {pid!r} has no duration: {hint}",
            ("processes", pid, "durations"),
            "M012",
            at_key=True,
        )
