"""BPMNDI geometry for compiled processes.

The compiler describes the flow it built as a :class:`FlowPlan` (which node is where in which
stage, and every sequence flow); :func:`build_diagram` places it left to right and returns the
``bpmndi:BPMNDiagram`` element with a ``dc:Bounds`` for every flow node and ``di:waypoint`` s for
every sequence flow, so bpmn.io / Camunda Modeler can open the file.

Placement: one main row; the start event, then each stage side by side (entry gateway, its
actions in a row or, for a parallel stage, a split gateway, the actions stacked in one column
and a join gateway, then the exit gateway), then the end event. The flow that skips a stage
runs above the stage. Manual-only actions (not in the flow) sit in a row below their stage.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from lxml import etree

from engine.builder.namespaces import BPMNDI_NS, DC_NS, DI_NS, NSMAP

__all__ = [
    "Bounds",
    "EdgeSpec",
    "FlowPlan",
    "NodeKind",
    "StagePlan",
    "build_diagram",
    "place",
    "route",
]


class NodeKind(StrEnum):
    """The drawing size class of a flow node."""

    EVENT = "event"
    GATEWAY = "gateway"
    TASK = "task"


SIZES: dict[NodeKind, tuple[int, int]] = {
    NodeKind.EVENT: (36, 36),
    NodeKind.GATEWAY: (50, 50),
    NodeKind.TASK: (100, 80),
}
MARGIN_X = 150
MAIN_Y = 200
"""Centre line of the main row."""
GAP = 50
"""Horizontal space between two consecutive nodes of the flow."""
ROW = 120
"""Vertical distance between stacked rows (parallel branches, manual-only tasks)."""
MANUAL_GAP = 20
SKIP_Y = MAIN_Y - 80
"""Height of the flow that skips a stage (above the tasks of the main row)."""
LABEL_WIDTH = 100
LABEL_HEIGHT = 14
FLOW_LABEL_Y = MAIN_Y - 58
"""Top of a condition label: between the skip flow and the tasks of the main row."""
XML_NAMESPACES: dict[str, str] = {k: v for k, v in NSMAP.items() if k is not None}
"""The prefixes of :data:`~engine.builder.namespaces.NSMAP` (typed for lxml)."""


@dataclass(frozen=True)
class StagePlan:
    """The nodes of one stage, by role. ``steps`` are the flow tasks in order."""

    entry: str
    exit: str
    steps: tuple[str, ...]
    manual: tuple[str, ...] = ()
    split: str | None = None
    join: str | None = None


@dataclass(frozen=True)
class EdgeSpec:
    """A sequence flow to draw; ``skip`` routes it above the stage."""

    id: str
    source: str
    target: str
    skip: bool = False
    label: str | None = None


@dataclass(frozen=True)
class FlowPlan:
    """Everything the layout needs: node kinds and names, stage structure, edges."""

    process_id: str
    start: str
    end: str
    stages: tuple[StagePlan, ...]
    kinds: dict[str, NodeKind]
    edges: tuple[EdgeSpec, ...]
    labels: dict[str, str]
    """Names of gateways and events worth a label under the shape."""
    markers: frozenset[str] = frozenset()
    """Exclusive gateways (drawn with their X marker)."""


@dataclass(frozen=True)
class Bounds:
    """A shape's rectangle (top-left corner, size)."""

    x: int
    y: int
    width: int
    height: int

    @property
    def cx(self) -> int:
        return self.x + self.width // 2

    @property
    def cy(self) -> int:
        return self.y + self.height // 2

    @property
    def right(self) -> int:
        return self.x + self.width

    @property
    def bottom(self) -> int:
        return self.y + self.height


Point = tuple[int, int]


def _box(kind: NodeKind, left: int, centre_y: int) -> Bounds:
    width, height = SIZES[kind]
    return Bounds(left, centre_y - height // 2, width, height)


class _Put(Protocol):
    """Places a node with its left side at ``left``; returns where the next node goes."""

    def __call__(self, node: str, left: int, centre_y: int = MAIN_Y) -> int: ...


def place(plan: FlowPlan) -> dict[str, Bounds]:
    """Bounds of every flow node of ``plan``."""
    shapes: dict[str, Bounds] = {}

    def put(node: str, left: int, centre_y: int = MAIN_Y) -> int:
        kind = plan.kinds[node]
        shapes[node] = _box(kind, left, centre_y)
        return left + SIZES[kind][0] + GAP

    cursor = put(plan.start, MARGIN_X)
    for stage in plan.stages:
        cursor = _place_stage(stage, cursor, put)
    put(plan.end, cursor)
    return shapes


def _place_stage(stage: StagePlan, left: int, put: _Put) -> int:
    """Place one stage from ``left``; returns the x where the next node goes."""
    cursor = put(stage.entry, left)
    rows = 1
    if stage.split is not None and stage.join is not None:
        cursor = put(stage.split, cursor)
        column_end = cursor
        for row, step in enumerate(stage.steps):
            column_end = put(step, cursor, MAIN_Y + row * ROW)
        rows = max(1, len(stage.steps))
        cursor = put(stage.join, column_end)
    else:
        for step in stage.steps:
            cursor = put(step, cursor)
    manual_left = left
    manual_y = MAIN_Y + rows * ROW
    for task in stage.manual:
        manual_left = put(task, manual_left, manual_y) - GAP + MANUAL_GAP
    cursor = max(cursor, manual_left - MANUAL_GAP + GAP)
    return put(stage.exit, cursor)


def route(edge: EdgeSpec, source: Bounds, target: Bounds) -> tuple[Point, ...]:
    """Waypoints of a sequence flow between two placed shapes."""
    if edge.skip:
        return (
            (source.cx, source.y),
            (source.cx, SKIP_Y),
            (target.cx, SKIP_Y),
            (target.cx, target.y),
        )
    if source.cy == target.cy:
        return ((source.right, source.cy), (target.x, target.cy))
    if target.cy > source.cy:
        return ((source.cx, source.bottom), (source.cx, target.cy), (target.x, target.cy))
    return ((source.right, source.cy), (target.cx, source.cy), (target.cx, target.bottom))


def _di(tag: str) -> str:
    return f"{{{BPMNDI_NS}}}{tag}"


def _bounds(parent: etree._Element, box: Bounds) -> None:
    etree.SubElement(
        parent,
        f"{{{DC_NS}}}Bounds",
        x=str(box.x),
        y=str(box.y),
        width=str(box.width),
        height=str(box.height),
    )


CHAR_WIDTH = 7
"""Approximate width of one character of a label in bpmn-js's default 11 px font."""
MAX_FLOW_LABEL_WIDTH = 220


def flow_label_bounds(x: int, text: str) -> Bounds:
    """A condition label's box: wide enough for its text, as many lines as it needs (at most
    two fit), bottom just above the tasks of the main row and below the skip flow."""
    width = min(max(LABEL_WIDTH, len(text) * CHAR_WIDTH), MAX_FLOW_LABEL_WIDTH)
    lines = min(2, -(-len(text) * CHAR_WIDTH // width))
    bottom = FLOW_LABEL_Y + LABEL_HEIGHT
    return Bounds(x + 5, bottom - lines * LABEL_HEIGHT, width, lines * LABEL_HEIGHT)


def _label(parent: etree._Element, box: Bounds) -> None:
    _bounds(etree.SubElement(parent, _di("BPMNLabel")), box)


def build_diagram(plan: FlowPlan) -> etree._Element:
    """The ``bpmndi:BPMNDiagram`` of ``plan``: one shape per node, one edge per flow."""
    shapes = place(plan)
    diagram = etree.Element(
        _di("BPMNDiagram"), nsmap=XML_NAMESPACES, id=f"BPMNDiagram_{plan.process_id}"
    )
    plane = etree.SubElement(
        diagram, _di("BPMNPlane"), id=f"BPMNPlane_{plan.process_id}", bpmnElement=plan.process_id
    )
    for node, box in shapes.items():
        shape = etree.SubElement(plane, _di("BPMNShape"), id=f"DI_{node}", bpmnElement=node)
        if node in plan.markers:
            shape.set("isMarkerVisible", "true")
        _bounds(shape, box)
        if node in plan.labels:
            _label(
                shape, Bounds(box.cx - LABEL_WIDTH // 2, box.bottom + 5, LABEL_WIDTH, LABEL_HEIGHT)
            )
    for edge in plan.edges:
        points = route(edge, shapes[edge.source], shapes[edge.target])
        element = etree.SubElement(plane, _di("BPMNEdge"), id=f"DI_{edge.id}", bpmnElement=edge.id)
        for x, y in points:
            etree.SubElement(element, f"{{{DI_NS}}}waypoint", x=str(x), y=str(y))
        if edge.label:
            x, _ = points[0]
            _label(element, flow_label_bounds(x, edge.label))
    return diagram
