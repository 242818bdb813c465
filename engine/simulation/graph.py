"""The token graph the simulator executes, read from BPMN XML.

The simulator runs the very BPMN the runtime runs (for YAML definitions: the compiled BPMN),
so stage conditions, parallel stages and sub-case steps behave alike. It reads the process as
a plain graph of nodes and sequence flows; foreign BPMN (Prosimos scenarios) is read the same
way. Elements the simulator cannot give a meaning to are refused with their element id and
line, all at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from lxml import etree

from engine.builder.bpmn_xml import source_line
from engine.builder.namespaces import BPMN_NS
from engine.errors import DefinitionError, Problem


class NodeKind(IntEnum):
    START = 0
    END = 1
    TASK = 2
    XOR = 3
    AND = 4
    EVENT = 5
    """An intermediate event: passed through at once."""


_KINDS: dict[str, NodeKind] = {
    "startEvent": NodeKind.START,
    "endEvent": NodeKind.END,
    "task": NodeKind.TASK,
    "userTask": NodeKind.TASK,
    "serviceTask": NodeKind.TASK,
    "manualTask": NodeKind.TASK,
    "sendTask": NodeKind.TASK,
    "receiveTask": NodeKind.TASK,
    "businessRuleTask": NodeKind.TASK,
    "scriptTask": NodeKind.TASK,
    "callActivity": NodeKind.TASK,
    "exclusiveGateway": NodeKind.XOR,
    "parallelGateway": NodeKind.AND,
    "intermediateCatchEvent": NodeKind.EVENT,
    "intermediateThrowEvent": NodeKind.EVENT,
}

_IGNORED = frozenset(
    {
        "sequenceFlow",
        "extensionElements",
        "documentation",
        "association",
        "textAnnotation",
        "dataObject",
        "dataObjectReference",
        "dataStoreReference",
        "laneSet",
        "property",
        "ioSpecification",
        "group",
        "category",
    }
)


@dataclass(frozen=True)
class Flow:
    """A sequence flow; ``condition`` is its expression text, ``default`` marks the
    gateway's default flow."""

    id: str
    source: str
    target: str
    condition: str | None = None
    default: bool = False


@dataclass(frozen=True)
class Node:
    """A flow node. ``incoming`` counts the flows into it (a parallel join waits for that
    many tokens); ``outgoing`` keeps document order."""

    id: str
    kind: NodeKind
    name: str
    incoming: int
    outgoing: tuple[Flow, ...]
    line: int | None = None


@dataclass(frozen=True)
class FlowGraph:
    """A process as nodes and flows. ``start`` is the id of its (single) start event."""

    process_id: str
    nodes: dict[str, Node]
    start: str
    file: str = ""


def _local(tag: object) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def _processes(root: etree._Element) -> list[etree._Element]:
    return [el for el in root if el.tag == f"{{{BPMN_NS}}}process"]


def read_graph(root: etree._Element, file: str, process_id: str | None = None) -> FlowGraph:
    """Read the process ``process_id`` (the only process when None) into a FlowGraph.

    Raises one DefinitionError listing every element the simulator cannot run (inclusive,
    event-based and complex gateways, boundary events, embedded sub-processes...), flows to
    unknown nodes, and a missing or repeated start event.
    """
    processes = _processes(root)
    if process_id is not None:
        processes = [p for p in processes if p.get("id") == process_id]
    if len(processes) != 1:
        names = ", ".join(repr(p.get("id")) for p in _processes(root)) or "none"
        wanted = f"process {process_id!r}" if process_id else "exactly one bpmn:process"
        raise DefinitionError(
            Problem(f"the simulator needs {wanted}; the file has: {names}", file=file)
        )
    process = processes[0]
    pid = process.get("id") or ""
    problems: list[Problem] = []
    kinds: dict[str, tuple[NodeKind, str, int | None, str | None]] = {}
    flows: list[Flow] = []
    flow_elements: list[etree._Element] = []
    for el in process:
        tag = _local(el.tag)
        if not tag:
            continue
        el_id = el.get("id") or ""
        if tag == "sequenceFlow":
            flow_elements.append(el)
            continue
        if tag in _IGNORED:
            continue
        kind = _KINDS.get(tag)
        if kind is None:
            problems.append(
                Problem(
                    f"the simulator cannot run a bpmn:{tag}",
                    file=file,
                    line=source_line(el),
                    element_id=el_id,
                )
            )
            continue
        kinds[el_id] = (kind, el.get("name") or el_id, source_line(el), el.get("default"))
    for el in flow_elements:
        cond_el = el.find(f"{{{BPMN_NS}}}conditionExpression")
        cond = (cond_el.text or "").strip() if cond_el is not None else ""
        source, target = el.get("sourceRef") or "", el.get("targetRef") or ""
        for end in (source, target):
            if end not in kinds:
                problems.append(
                    Problem(
                        f"sequence flow refers to unknown or unsupported node {end!r}",
                        file=file,
                        line=source_line(el),
                        element_id=el.get("id") or "",
                    )
                )
        default = kinds.get(source, (NodeKind.TASK, "", None, None))[3] == el.get("id")
        flows.append(Flow(el.get("id") or "", source, target, cond or None, default))
    starts = [i for i, k in kinds.items() if k[0] == NodeKind.START]
    if len(starts) != 1:
        problems.append(
            Problem(
                f"the simulator needs exactly one start event; process {pid!r} has {len(starts)}",
                file=file,
                element_id=pid,
            )
        )
    if problems:
        raise DefinitionError(problems)
    outgoing: dict[str, list[Flow]] = {i: [] for i in kinds}
    incoming: dict[str, int] = dict.fromkeys(kinds, 0)
    for flow in flows:
        outgoing[flow.source].append(flow)
        incoming[flow.target] += 1
    nodes = {
        i: Node(i, k[0], k[1], incoming[i], tuple(outgoing[i]), k[2]) for i, k in kinds.items()
    }
    return FlowGraph(pid, nodes, starts[0], file)
