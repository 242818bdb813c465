"""What the keys of a scenario's ``branches`` name: gateways and their outcomes.

A gateway is named by its BPMN element id, or by the name of the stage whose condition it
decides; an outcome (a sequence flow leaving the gateway) by its flow id, by ``enter`` or
``skip`` (a stage's gateway), by the condition text written on the flow (white space does
not matter), or by ``otherwise`` (the gateway's default flow; for a stage, the flow that skips
it). Names are resolved on the very BPMN the simulator runs
(:mod:`engine.builder.branching`), so a scenario written with names does not depend on the
ids the compiler happens to give.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from engine.builder.branching import StageBranch, normal_condition, stage_branches
from engine.model import ProcessModel
from engine.simulation.graph import Flow, NodeKind
from engine.simulation.scenario_model import SimProcess
from engine.simulation.scenario_scope import did_you_mean, quoted

__all__ = ["ENTER", "OTHERWISE", "SKIP", "BranchChoices", "BranchTarget"]

ENTER = "enter"
"""The outcome of a stage's gateway that enters the stage (its condition holds)."""
SKIP = "skip"
"""The outcome of a stage's gateway that skips the stage."""
OTHERWISE = "otherwise"
"""The default flow of a gateway (for a stage: the flow that skips it)."""


@dataclass(frozen=True)
class BranchTarget:
    """An exclusive gateway named under ``branches``: its id, how messages call it, its
    outgoing flow ids in order, and the other names of its outcomes (name -> flow id)."""

    gateway: str
    label: str
    outgoing: tuple[str, ...]
    aliases: dict[str, str] = field(default_factory=dict)

    @property
    def outcomes(self) -> list[str]:
        """Every name an outcome may be given, for messages: names first, then flow ids."""
        return [*self.aliases, *self.outgoing]

    def flow(self, key: str) -> str | None:
        """The flow id outcome ``key`` names, or None."""
        if key in self.outgoing:
            return key
        found = self.aliases.get(key)
        return found if found is not None else self.aliases.get(normal_condition(key))


class BranchChoices:
    """The gateways of one process a scenario may weigh, by id and by stage name."""

    def __init__(self, model: ProcessModel, sim: SimProcess) -> None:
        self.model = model
        self.graph = sim.graph
        self.gateways = {
            node.id: node.outgoing
            for node in self.graph.nodes.values()
            if node.kind == NodeKind.XOR
        }
        self.stages = stage_branches(model, sim.stage_entries, self.gateways.get)

    def target(self, key: str) -> BranchTarget | str:
        """What ``key`` names, or the message saying why it names nothing."""
        if key in self.gateways:
            stage = next((b for b in self.stages.values() if b.gateway == key), None)
            return self._target(key, f"gateway {key!r}", stage)
        numbers = [n for n, s in enumerate(self.model.stages, start=1) if s.name == key]
        pid = self.model.id
        conditional = [s.name for s in self.stages.values()]
        if len(numbers) > 1:
            return (
                f"process {pid!r} has {len(numbers)} stages named {key!r}: "
                f"name the gateway by its id (deciding gateways: {quoted(self.deciding())})"
            )
        if numbers:
            branch = self.stages.get(numbers[0])
            if branch is None:
                return (
                    f"stage {key!r} of process {pid!r} has no condition: it is always entered, "
                    f"so it has no branches (stages with a condition: {quoted(conditional)})"
                )
            if branch.gateway is None:
                return (
                    f"stage {key!r} of process {pid!r} is not entered through an exclusive "
                    f"gateway (its entry: {branch.entry!r}): name a gateway by its id"
                )
            label = f"stage {key!r} (gateway {branch.gateway!r})"
            return self._target(branch.gateway, label, branch)
        known = [*conditional, *self.deciding()]
        return (
            f"process {pid!r} has no exclusive gateway or stage {key!r}"
            f"{did_you_mean(key, known)} (its stages with a condition: {quoted(conditional)}; "
            f"its deciding gateways: {quoted(self.deciding())})"
        )

    def deciding(self) -> list[str]:
        """Ids of the exclusive gateways with more than one outgoing flow."""
        return [gid for gid, flows in self.gateways.items() if len(flows) > 1]

    def _target(self, gateway: str, label: str, stage: StageBranch | None) -> BranchTarget:
        flows: tuple[Flow, ...] = self.gateways[gateway]
        aliases: dict[str, str] = {}
        if stage is not None:
            if stage.enter is not None:
                aliases[ENTER] = stage.enter
            if stage.skip is not None:
                aliases[SKIP] = stage.skip
        for flow in flows:
            if flow.condition is not None:
                aliases.setdefault(normal_condition(flow.condition), flow.id)
        default = next((f.id for f in flows if f.default), None)
        if default is None and stage is not None:
            default = stage.skip
        if default is not None:
            aliases[OTHERWISE] = default
        return BranchTarget(gateway, label, tuple(f.id for f in flows), aliases)
