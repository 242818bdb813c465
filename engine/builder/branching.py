"""Where a process branches, read from its BPMN without relying on how the compiler names ids.

Tools that talk about branches (``caseloom show``, the ``branches`` of simulation scenarios)
need the BPMN ids of a process's decisions, but the compiler's naming scheme is not a
contract. Everything here is derived generically:

* the stage listing (``ProcessDefinition.stage_entries``) gives each stage's entry element;
* for a stage with a condition, the entry is an exclusive gateway; of the sequence flows
  leaving it, the one whose ``conditionExpression`` is the stage's condition *enters* the
  stage, and the gateway's default flow (else its only other flow) *skips* it;
* :func:`exclusive_gateways` lists every exclusive gateway of a BPMN process with its
  outgoing flows, their conditions and the default flag.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from lxml import etree

from engine.builder.bpmn_xml import parse_xml
from engine.builder.namespaces import BPMN_NS, bpmn
from engine.model import ProcessModel

__all__ = [
    "BranchFlow",
    "ExclusiveGateway",
    "FlowLike",
    "StageBranch",
    "exclusive_gateways",
    "normal_condition",
    "stage_branches",
]


class FlowLike(Protocol):
    """A sequence flow leaving a gateway (:class:`BranchFlow`, or the simulator's
    :class:`engine.simulation.graph.Flow`)."""

    @property
    def id(self) -> str: ...

    @property
    def target(self) -> str: ...

    @property
    def condition(self) -> str | None: ...

    @property
    def default(self) -> bool: ...


@dataclass(frozen=True)
class BranchFlow:
    """A sequence flow leaving an exclusive gateway: ``condition`` is the text of its
    ``conditionExpression``; ``default`` marks the gateway's default flow."""

    id: str
    target: str
    condition: str | None = None
    default: bool = False


@dataclass(frozen=True)
class ExclusiveGateway:
    """An exclusive gateway of a BPMN process and its outgoing flows, in document order."""

    id: str
    name: str | None
    flows: tuple[BranchFlow, ...]


@dataclass(frozen=True)
class StageBranch:
    """How a stage with a condition is entered or skipped.

    ``number`` counts stages from 1; ``entry`` is the stage's entry element and ``gateway``
    the same id when that element is an exclusive gateway (None otherwise). ``enter`` is the
    flow leaving the gateway whose condition is the stage's condition; ``skip`` the flow taken
    otherwise: the gateway's default flow, else its only other flow. Either is None when the
    BPMN has no such flow. ``flows`` are all the gateway's outgoing flows.
    """

    number: int
    name: str
    condition: str
    entry: str | None
    gateway: str | None = None
    enter: str | None = None
    skip: str | None = None
    flows: tuple[BranchFlow, ...] = ()


def normal_condition(text: str) -> str:
    """A condition text with its white space normalised (for comparing conditions)."""
    return " ".join(text.split())


def _as_branch_flow(flow: FlowLike) -> BranchFlow:
    return BranchFlow(flow.id, flow.target, flow.condition, flow.default)


def stage_branches(
    model: ProcessModel,
    entries: Mapping[int, str],
    outgoing: Callable[[str], Sequence[FlowLike] | None],
) -> dict[int, StageBranch]:
    """Every stage of ``model`` that has a condition, by stage number.

    ``entries`` maps stage numbers to entry element ids (``stage_entries``); ``outgoing``
    gives the flows leaving an element when it is an exclusive gateway, else None.
    """
    out: dict[int, StageBranch] = {}
    for number, stage in enumerate(model.stages, start=1):
        if stage.condition is None:
            continue
        entry = entries.get(number)
        found = outgoing(entry) if entry is not None else None
        if found is None:
            out[number] = StageBranch(number, stage.name, stage.condition, entry)
            continue
        flows = tuple(_as_branch_flow(f) for f in found)
        wanted = normal_condition(stage.condition)
        enter = next(
            (f.id for f in flows if f.condition and normal_condition(f.condition) == wanted),
            None,
        )
        defaults = [f.id for f in flows if f.default and f.id != enter]
        others = [f.id for f in flows if f.id != enter]
        skip = defaults[0] if defaults else (others[0] if len(others) == 1 else None)
        out[number] = StageBranch(
            number, stage.name, stage.condition, entry, entry, enter, skip, flows
        )
    return out


def _process(root: etree._Element, process_id: str) -> etree._Element | None:
    processes = [el for el in root.iter(bpmn("process"))]
    for process in processes:
        if process.get("id") == process_id:
            return process
    return processes[0] if processes else None


def exclusive_gateways(data: bytes, process_id: str, file: str = "") -> dict[str, ExclusiveGateway]:
    """The exclusive gateways of process ``process_id`` of BPMN document ``data`` (the first
    process when none has that id), in document order, with their outgoing flows.

    Raises :class:`~engine.errors.DefinitionError` when ``data`` is not well-formed XML.
    """
    process = _process(parse_xml(data, file), process_id)
    if process is None:
        return {}
    gateways = {
        el.get("id") or "": (el.get("name"), el.get("default"))
        for el in process.iter(bpmn("exclusiveGateway"))
    }
    flows: dict[str, list[BranchFlow]] = {gid: [] for gid in gateways}
    for el in process.iter(bpmn("sequenceFlow")):
        source = el.get("sourceRef") or ""
        if source not in gateways:
            continue
        expression = el.find(f"{{{BPMN_NS}}}conditionExpression")
        condition = (expression.text or "").strip() if expression is not None else ""
        ident = el.get("id") or ""
        flows[source].append(
            BranchFlow(
                ident, el.get("targetRef") or "", condition or None, gateways[source][1] == ident
            )
        )
    return {
        gid: ExclusiveGateway(gid, name, tuple(flows[gid])) for gid, (name, _) in gateways.items()
    }
