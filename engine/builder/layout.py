"""BPMNDI geometry for compiled processes.

The compiler describes the flow it built as a :class:`FlowPlan` (which node plays which part
in which stage, the task titles, every sequence flow); :func:`layout` places it left to right
as a :class:`Diagram`, and :func:`diagram_element` writes that as the ``bpmndi:BPMNDiagram``
element: a ``dc:Bounds`` for every flow node and stage group, ``di:waypoint`` s for every
sequence flow, and ``bpmndi:BPMNLabel`` bounds for every label, so bpmn.io / Camunda Modeler
draw it as laid out here.

Placement: one main row, centred on one line. The start event, then each stage inside its
group (a dashed box named after the stage, ``bpmn:group``), side by side, then the end event.
Inside a stage: the entry gateway when the stage has a condition, its actions in a row or,
for a parallel stage, a split gateway, the actions stacked in one column and a join gateway,
then the merge gateway of a conditional stage. The flow that skips a stage runs above its
actions; manual-only actions (not in the flow) sit in a row below.

Text is sized with :mod:`engine.builder.text_metrics` (bpmn-js's fonts, wrapping rule and a
Helvetica/Arial width table): a task is widened (then heightened) until its title fits; a
condition gets a label just above its own flow, at most two lines, the gap before the stage's
first step widened to hold it; a text longer than two lines is cut with an ellipsis (the full
condition stays in the flow's ``conditionExpression``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache

from lxml import etree

from engine.builder.namespaces import BPMNDI_NS, DC_NS, DI_NS, NSMAP
from engine.builder.text_metrics import (
    EXTERNAL_FONT,
    TASK_FONT,
    Font,
    ellipsize,
    line_width,
    wrap,
)

__all__ = [
    "MAX_LABEL_LINES",
    "SKIP_LABEL",
    "TASK_PADDING",
    "Bounds",
    "Diagram",
    "EdgeRole",
    "EdgeSpec",
    "FlowPlan",
    "Label",
    "NodeKind",
    "StagePlan",
    "diagram_element",
    "label_size",
    "layout",
    "route",
    "task_size",
]


class NodeKind(StrEnum):
    """The drawing size class of a flow node."""

    EVENT = "event"
    GATEWAY = "gateway"
    TASK = "task"


class EdgeRole(StrEnum):
    """What a sequence flow does in its stage (decides its route and label)."""

    PLAIN = "plain"
    CONDITION = "condition"
    """Enters a conditional stage: labelled with the condition, just above the flow."""
    SKIP = "skip"
    """The default flow of a conditional stage's entry: runs above the stage to its merge."""


SIZES: dict[NodeKind, tuple[int, int]] = {
    NodeKind.EVENT: (36, 36),
    NodeKind.GATEWAY: (50, 50),
    NodeKind.TASK: (100, 80),
}
TASK_MAX_WIDTH = 240
"""Tasks widen in steps of 10 px up to this, then grow taller."""
TASK_COMPACT_WIDTH = 150
"""A title that fits in two lines up to this width gets two lines; else up to three."""
TASK_PADDING = 7
"""bpmn-js's padding around the title inside a task."""
ICON_CLEARANCE = 26
"""Room kept above (and below) a title of three lines or more: bpmn-js draws a task's type
icon in its top-left corner down to 23.5 px (measured in bpmn-js), and a title's lines are
centred, so the first line of a wide title would run under the icon."""
MAX_LABEL_LINES = 2
"""External labels (conditions, stage names) never take more lines than this."""
SKIP_LABEL = "otherwise"
"""The name of a conditional stage's default flow (the one that skips it)."""

START_X = 100
GAP = 50
"""Horizontal space between two consecutive flow nodes of a stage."""
ROW_GAP = 40
"""Vertical space between stacked rows (parallel branches, manual-only tasks)."""
MANUAL_GAP = 20
"""Horizontal space between two manual-only tasks."""
GROUP_PAD = 20
"""Space between a stage's elements and its group's border."""
STAGE_SPACE = 40
"""Space between two groups, and between a group and the start or end event."""
GROUP_TOP = 40
LABEL_INSET = 8
"""A group label's distance from its group's top-left corner."""
LABEL_CLEARANCE = 4
"""Space between a label and the flow line it sits on."""
SKIP_CLEARANCE = 20
"""Space between the skip flow and the top of the stage's main row."""
ONE_LINE_WIDTH = 160
"""A condition up to this wide stays on one line; a longer one is wrapped in two."""
MAX_LABEL_WIDTH = 200
"""The widest condition label; beyond two lines of this, the text is cut."""
MAX_GROUP_LABEL_WIDTH = 240
SLACK = 1.05
"""Text is sized to still fit when drawn in a font this much wider than the metric table."""
XML_NAMESPACES: dict[str, str] = {k: v for k, v in NSMAP.items() if k is not None}
"""The prefixes of :data:`~engine.builder.namespaces.NSMAP` (typed for lxml)."""


@dataclass(frozen=True)
class StagePlan:
    """The nodes of one stage, by role. ``steps`` are the flow tasks in order; ``gateway``
    and ``merge`` are the exclusive gateways of a stage with a condition; ``split`` and
    ``join`` the parallel gateways of a parallel stage; ``group`` the id of its
    ``bpmn:group``, labelled ``name``."""

    name: str
    group: str
    steps: tuple[str, ...]
    manual: tuple[str, ...] = ()
    gateway: str | None = None
    merge: str | None = None
    split: str | None = None
    join: str | None = None

    def nodes(self) -> tuple[str, ...]:
        """Every flow node of the stage."""
        roles = (self.gateway, self.split, *self.steps, self.join, self.merge, *self.manual)
        return tuple(n for n in roles if n is not None)


@dataclass(frozen=True)
class EdgeSpec:
    """A sequence flow to draw; ``label`` is its text (a condition, or :data:`SKIP_LABEL`)."""

    id: str
    source: str
    target: str
    role: EdgeRole = EdgeRole.PLAIN
    label: str | None = None


@dataclass(frozen=True)
class FlowPlan:
    """Everything the layout needs: node kinds, task titles, stage structure, edges."""

    process_id: str
    start: str
    end: str
    stages: tuple[StagePlan, ...]
    kinds: dict[str, NodeKind]
    edges: tuple[EdgeSpec, ...]
    titles: dict[str, str] = field(default_factory=dict)
    """Task id -> title (what bpmn-js writes inside the task)."""
    markers: frozenset[str] = frozenset()
    """Exclusive gateways (drawn with their X marker)."""


@dataclass(frozen=True)
class Bounds:
    """A rectangle (top-left corner, size)."""

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


@dataclass(frozen=True)
class Label:
    """A label's box and the text drawn in it (``text`` may be cut with an ellipsis)."""

    bounds: Bounds
    text: str


@dataclass(frozen=True)
class Diagram:
    """The laid-out diagram: node, group and label bounds, flow waypoints."""

    shapes: dict[str, Bounds]
    groups: dict[str, Bounds]
    edges: dict[str, tuple[Point, ...]]
    labels: dict[str, Label]
    """Element id (sequence flow or group) -> its label."""


# -- text ------------------------------------------------------------------------------------


def _lines_height(lines: int, font: Font) -> int:
    return math.ceil(lines * font.line_height)


def _fits(text: str, width: float, font: Font, lines: int) -> bool:
    """``text`` wraps into at most ``lines`` lines at ``width`` px, and still does in a font
    :data:`SLACK` times wider (a browser's Arial may differ slightly from the table)."""
    return len(wrap(text, width, font)) <= lines and len(wrap(text, width / SLACK, font)) <= lines


@lru_cache(maxsize=4096)
def task_size(title: str) -> tuple[int, int]:
    """A task's width and height: 100 x 80 unless its title needs more. The title (12 px,
    wrapped by bpmn-js inside a padding of :data:`TASK_PADDING`) gets at most two lines up to
    :data:`TASK_COMPACT_WIDTH` px, else at most three up to :data:`TASK_MAX_WIDTH`; a longer
    title makes the task wider still, then taller (the narrowest width that keeps its number
    of lines). A title of three lines or more gets :data:`ICON_CLEARANCE` above (and below)
    it, so that it does not run under the task's type icon."""
    base_w, base_h = SIZES[NodeKind.TASK]
    inner = 2 * TASK_PADDING
    count = max(
        len(wrap(title, (TASK_MAX_WIDTH - inner) / SLACK, TASK_FONT)),
        len(wrap(title, TASK_MAX_WIDTH - inner, TASK_FONT)),
    )
    for widest, lines in ((TASK_COMPACT_WIDTH, 2), (TASK_MAX_WIDTH, 3), (TASK_MAX_WIDTH, count)):
        for width in range(base_w, widest + 1, 10):
            if _fits(title, width - inner, TASK_FONT, lines):
                drawn = max(
                    len(wrap(title, width - inner, TASK_FONT)),
                    len(wrap(title, (width - inner) / SLACK, TASK_FONT)),
                )
                return width, base_h if drawn <= 2 else _tall(drawn)
    return TASK_MAX_WIDTH, _tall(count)


def _tall(lines: int) -> int:
    """The height of a task holding ``lines`` lines of title below its type icon."""
    needed = _lines_height(lines, TASK_FONT) + 2 * ICON_CLEARANCE
    return max(SIZES[NodeKind.TASK][1], 10 * math.ceil(needed / 10))


@lru_cache(maxsize=4096)
def label_size(
    text: str, *, one_line: int = ONE_LINE_WIDTH, widest: int = MAX_LABEL_WIDTH
) -> tuple[str, int, int]:
    """An external label (11 px) for ``text``: the text drawn, the box's width and height.

    One line when the text is at most ``one_line`` px wide; else the narrowest box (up to
    ``widest``) that holds it in :data:`MAX_LABEL_LINES` lines; else the text is cut with an
    ellipsis to fit two lines of ``widest``. bpmn-js wraps the text at the box's width.
    """
    font = EXTERNAL_FONT
    single = line_width(text, font)
    width = math.ceil(single * SLACK) + 4
    if "\n" in text or single > one_line or not _fits(text, width, font, 1):
        low = max(20, math.ceil(single / MAX_LABEL_LINES))
        width = next(
            (w for w in range(low, widest + 1, 2) if _fits(text, w, font, MAX_LABEL_LINES)),
            widest,
        )
    shown = text
    cut = width
    while cut > 10 and not _fits(shown, width, font, MAX_LABEL_LINES):
        cut -= 4
        shown = ellipsize(text, cut, font, MAX_LABEL_LINES)
    lines = max(1, len(wrap(shown, width, font)))
    return shown, width, _lines_height(lines, font)


# -- placement -------------------------------------------------------------------------------


@dataclass
class _Placer:
    """Places the plan's nodes: ``main_y`` is the centre line of the main row."""

    plan: FlowPlan
    main_y: int
    gaps: dict[str, int]
    """Entry gateway -> width of the condition label on the flow leaving it."""
    shapes: dict[str, Bounds] = field(default_factory=dict)
    groups: dict[str, Bounds] = field(default_factory=dict)
    labels: dict[str, Label] = field(default_factory=dict)

    def size(self, node: str) -> tuple[int, int]:
        kind = self.plan.kinds[node]
        if kind is NodeKind.TASK:
            return task_size(self.plan.titles.get(node, ""))
        return SIZES[kind]

    def put(
        self, node: str, left: int, *, centre_y: int | None = None, top: int | None = None
    ) -> Bounds:
        """Place ``node`` at ``left``, centred on ``centre_y`` (the main row's centre line
        by default) or with its top at ``top``."""
        width, height = self.size(node)
        if top is None:
            top = (self.main_y if centre_y is None else centre_y) - height // 2
        box = Bounds(left, top, width, height)
        self.shapes[node] = box
        return box

    def stage(self, stage: StagePlan, left: int) -> int:
        """Place one stage with its group's left border at ``left``; returns the group's
        right border."""
        x = left + GROUP_PAD  # where the next node of the main row goes
        lowest = self.main_y
        if stage.gateway is not None:
            gateway = self.put(stage.gateway, x)
            x = gateway.right + GAP
            gap = self.gaps.get(stage.gateway)
            if gap is not None:  # the condition sits above the flow leaving the gateway
                x = max(x, gateway.right + gap + 3 * LABEL_CLEARANCE)
            lowest = gateway.bottom
        if stage.split is not None and stage.join is not None:
            split = self.put(stage.split, x)
            column = split.right + GAP
            centre, previous_half, column_right = self.main_y, 0, column
            for row, step in enumerate(stage.steps):
                half = self.size(step)[1] // 2
                if row:
                    centre += previous_half + ROW_GAP + half
                box = self.put(step, column, centre_y=centre)
                column_right = max(column_right, box.right)
                lowest = max(lowest, box.bottom)
                previous_half = half
            x = self.put(stage.join, column_right + GAP).right + GAP
            lowest = max(lowest, split.bottom)
        else:
            for step in stage.steps:
                box = self.put(step, x)
                x = box.right + GAP
                lowest = max(lowest, box.bottom)
        manual_x = left + GROUP_PAD
        for task in stage.manual:
            box = self.put(task, manual_x, top=lowest + ROW_GAP)
            manual_x = box.right + MANUAL_GAP
        manual_right = manual_x - MANUAL_GAP if stage.manual else left
        name, label_width, label_height = label_size(
            stage.name, one_line=MAX_GROUP_LABEL_WIDTH, widest=MAX_GROUP_LABEL_WIDTH
        )
        needed = left + label_width + 2 * LABEL_INSET
        if stage.merge is not None:
            merge_width = SIZES[NodeKind.GATEWAY][0]
            merge_x = max(x, manual_right + GAP, needed - GROUP_PAD - merge_width)
            self.put(stage.merge, merge_x)
        nodes = [self.shapes[n] for n in stage.nodes()]
        right = max([left + GROUP_PAD, *(b.right for b in nodes)]) + GROUP_PAD
        right = max(right, needed)
        bottom = max([self.main_y, *(b.bottom for b in nodes)]) + GROUP_PAD
        self.groups[stage.group] = Bounds(left, GROUP_TOP, right - left, bottom - GROUP_TOP)
        if name.strip():
            self.labels[stage.group] = Label(
                Bounds(left + LABEL_INSET, GROUP_TOP + LABEL_INSET, label_width, label_height),
                name,
            )
        return right


def layout(plan: FlowPlan) -> Diagram:
    """Place every node, group, flow and label of ``plan``."""
    texts: dict[str, tuple[str, int, int]] = {}
    for edge in plan.edges:
        if edge.label:
            texts[edge.id] = label_size(edge.label)
    above = 0  # how far the main row reaches above its centre line
    for node, kind in plan.kinds.items():
        if kind is NodeKind.TASK:
            above = max(above, task_size(plan.titles.get(node, ""))[1] // 2)
        else:
            above = max(above, SIZES[kind][1] // 2)
    for edge in plan.edges:
        if edge.role is EdgeRole.CONDITION and edge.id in texts:
            above = max(above, texts[edge.id][2] + LABEL_CLEARANCE)
    group_label = _lines_height(MAX_LABEL_LINES, EXTERNAL_FONT)
    skip_label = _lines_height(1, EXTERNAL_FONT)
    skip_y = GROUP_TOP + LABEL_INSET + group_label + 6 + skip_label + LABEL_CLEARANCE
    main_y = skip_y + SKIP_CLEARANCE + above
    gaps = {
        edge.source: texts[edge.id][1]
        for edge in plan.edges
        if edge.role is EdgeRole.CONDITION and edge.id in texts
    }
    placer = _Placer(plan, main_y, gaps)
    start = placer.put(plan.start, START_X)
    cursor = start.right + STAGE_SPACE
    for stage in plan.stages:
        cursor = placer.stage(stage, cursor) + STAGE_SPACE
    placer.put(plan.end, cursor)
    shapes = placer.shapes
    edges: dict[str, tuple[Point, ...]] = {}
    labels = dict(placer.labels)
    for edge in plan.edges:
        source, target = shapes[edge.source], shapes[edge.target]
        points = route(edge, source, target, skip_y)
        edges[edge.id] = points
        if edge.id not in texts:
            continue
        text, width, height = texts[edge.id]
        if edge.role is EdgeRole.SKIP:
            x, y = source.cx + 6, skip_y - LABEL_CLEARANCE - height
        else:
            x, y = source.right + LABEL_CLEARANCE + 2, source.cy - LABEL_CLEARANCE - height
        labels[edge.id] = Label(Bounds(x, y, width, height), text)
    return Diagram(shapes, placer.groups, edges, labels)


def route(edge: EdgeSpec, source: Bounds, target: Bounds, skip_y: int = 0) -> tuple[Point, ...]:
    """Waypoints of a sequence flow between two placed shapes (orthogonal segments); a skip
    flow runs up from its gateway to ``skip_y``, across, and down into the merge."""
    if edge.role is EdgeRole.SKIP:
        return (
            (source.cx, source.y),
            (source.cx, skip_y),
            (target.cx, skip_y),
            (target.cx, target.y),
        )
    if source.cy == target.cy:
        return ((source.right, source.cy), (target.x, target.cy))
    if target.cy > source.cy:
        return ((source.cx, source.bottom), (source.cx, target.cy), (target.x, target.cy))
    return ((source.right, source.cy), (target.cx, source.cy), (target.cx, target.bottom))


# -- XML ---------------------------------------------------------------------------------------


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


def _label(parent: etree._Element, label: Label | None) -> None:
    if label is not None:
        _bounds(etree.SubElement(parent, _di("BPMNLabel")), label.bounds)


def diagram_element(plan: FlowPlan, diagram: Diagram) -> etree._Element:
    """The ``bpmndi:BPMNDiagram`` of a laid-out plan: one shape per node and group (with its
    label), one edge per flow (with its label)."""
    pid = plan.process_id
    element = etree.Element(_di("BPMNDiagram"), nsmap=XML_NAMESPACES, id=f"BPMNDiagram_{pid}")
    plane = etree.SubElement(element, _di("BPMNPlane"), id=f"BPMNPlane_{pid}", bpmnElement=pid)
    for node, box in diagram.shapes.items():
        shape = etree.SubElement(plane, _di("BPMNShape"), id=f"DI_{node}", bpmnElement=node)
        if node in plan.markers:
            shape.set("isMarkerVisible", "true")
        _bounds(shape, box)
    for edge_id, points in diagram.edges.items():
        edge = etree.SubElement(plane, _di("BPMNEdge"), id=f"DI_{edge_id}", bpmnElement=edge_id)
        for x, y in points:
            etree.SubElement(edge, f"{{{DI_NS}}}waypoint", x=str(x), y=str(y))
        _label(edge, diagram.labels.get(edge_id))
    for group, box in diagram.groups.items():
        shape = etree.SubElement(plane, _di("BPMNShape"), id=f"DI_{group}", bpmnElement=group)
        _bounds(shape, box)
        _label(shape, diagram.labels.get(group))
    return element
