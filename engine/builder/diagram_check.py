"""A render check of a BPMN diagram (BPMNDI): what bpmn.io would draw, without a browser.

:func:`read_drawing` reads what a viewer draws from the XML: the bounds of every shape (flow
nodes, groups, annotations...), the waypoints of every edge, every ``bpmndi:BPMNLabel`` with
the text drawn in it (the element's ``name``; a group's ``categoryValue``), and the titles
inside tasks. :func:`render_problems` then lists, with element ids:

* two shapes that overlap (groups aside: a group may hold shapes, but no shape or label may
  straddle its border, and groups do not overlap each other);
* a label over a shape, over another label, or crossed by a sequence flow; a flow's label
  nearer to another flow than to its own;
* a sequence flow through a shape other than its source and target;
* a label whose text (wrapped the way bpmn-js wraps it, measured with
  :mod:`engine.builder.text_metrics`) does not fit its box or takes more than two lines; a
  task whose title does not fit inside it or runs under its type icon; a named element drawn
  with no label box.

Used by the tests on every compiled example and on generated models; ``caseloom`` itself
does not call it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from itertools import combinations

from lxml import etree

from engine.builder.bpmn_model import ACTIVITIES
from engine.builder.layout import MAX_LABEL_LINES, TASK_PADDING, Bounds
from engine.builder.namespaces import BPMN_NS, BPMNDI_NS, DC_NS, DI_NS
from engine.builder.text_metrics import EXTERNAL_FONT, TASK_FONT, line_width, wrap

__all__ = ["Drawing", "DrawnLabel", "read_drawing", "render_problems"]

_NS = {"bpmn": BPMN_NS, "bpmndi": BPMNDI_NS, "dc": DC_NS, "di": DI_NS}
_ICONS = frozenset(
    (
        "userTask",
        "manualTask",
        "serviceTask",
        "scriptTask",
        "sendTask",
        "receiveTask",
        "businessRuleTask",
    )
)
"""Tasks that bpmn-js draws with a type icon in their top-left corner."""
_ICON_SIZE = (23.0, 23.5)
"""How far a task's type icon reaches right and down from its corner (bpmn-js 18, measured:
the user icon to 21 x 23.5 px, the service gear to 23 x 22)."""
_EXTERNAL = frozenset(
    f"{{{BPMN_NS}}}{tag}"
    for tag in (
        "startEvent",
        "endEvent",
        "intermediateCatchEvent",
        "intermediateThrowEvent",
        "boundaryEvent",
        "exclusiveGateway",
        "parallelGateway",
        "inclusiveGateway",
        "eventBasedGateway",
        "complexGateway",
        "sequenceFlow",
        "group",
        "dataObjectReference",
        "dataStoreReference",
    )
)
Point = tuple[float, float]


@dataclass(frozen=True)
class DrawnLabel:
    """A label box and the text bpmn-js draws in it."""

    owner: str
    bounds: Bounds
    text: str


@dataclass
class Drawing:
    """What a BPMN viewer draws from one diagram."""

    shapes: dict[str, Bounds] = field(default_factory=dict)
    """Flow nodes and other non-group shapes, by element id."""
    groups: dict[str, Bounds] = field(default_factory=dict)
    edges: dict[str, list[Point]] = field(default_factory=dict)
    """Sequence flows (and other edges), by element id."""
    ends: dict[str, tuple[str, str]] = field(default_factory=dict)
    """Sequence flow id -> (source id, target id)."""
    labels: list[DrawnLabel] = field(default_factory=list)
    titles: dict[str, str] = field(default_factory=dict)
    """Task id -> the name drawn inside it."""
    unlabelled: list[str] = field(default_factory=list)
    """Named elements with an external label but no label bounds."""
    kinds: dict[str, str] = field(default_factory=dict)
    """Element id -> BPMN local tag name."""


def _bounds(element: etree._Element | None) -> Bounds | None:
    if element is None:
        return None
    values = [float(element.get(k, "0")) for k in ("x", "y", "width", "height")]
    return Bounds(*(round(v) for v in values))


def _texts(root: etree._Element) -> tuple[dict[str, etree._Element], dict[str, str]]:
    """BPMN elements by id, and each element's drawn text (name; a group's category value)."""
    elements: dict[str, etree._Element] = {}
    for element in root.iter():
        if isinstance(element.tag, str) and element.tag.startswith(f"{{{BPMN_NS}}}"):
            ident = element.get("id")
            if ident is not None:
                elements.setdefault(ident, element)
    texts: dict[str, str] = {}
    for ident, element in elements.items():
        if element.tag == f"{{{BPMN_NS}}}group":
            value = elements.get(element.get("categoryValueRef", ""))
            if value is not None and value.get("value"):
                texts[ident] = value.get("value", "")
        elif element.get("name"):
            texts[ident] = element.get("name", "")
    return elements, texts


def read_drawing(root: etree._Element) -> Drawing:
    """The shapes, edges, labels and task titles of the first diagram of ``root``."""
    drawing = Drawing()
    elements, texts = _texts(root)
    plane = root.find("bpmndi:BPMNDiagram/bpmndi:BPMNPlane", _NS)
    if plane is None:
        return drawing
    for shape in plane.iterfind("bpmndi:BPMNShape", _NS):
        ident = shape.get("bpmnElement", "")
        element = elements.get(ident)
        box = _bounds(shape.find("dc:Bounds", _NS))
        if element is None or box is None:
            continue
        tag = element.tag if isinstance(element.tag, str) else ""
        drawing.kinds[ident] = etree.QName(tag).localname
        if tag == f"{{{BPMN_NS}}}group":
            drawing.groups[ident] = box
        else:
            drawing.shapes[ident] = box
        if tag in ACTIVITIES:
            drawing.titles[ident] = element.get("name", "")
        _add_label(drawing, shape, ident, tag, texts)
    for edge in plane.iterfind("bpmndi:BPMNEdge", _NS):
        ident = edge.get("bpmnElement", "")
        element = elements.get(ident)
        if element is None:
            continue
        drawing.edges[ident] = [
            (float(p.get("x", "0")), float(p.get("y", "0")))
            for p in edge.iterfind("di:waypoint", _NS)
        ]
        drawing.ends[ident] = (element.get("sourceRef", ""), element.get("targetRef", ""))
        tag = element.tag if isinstance(element.tag, str) else ""
        _add_label(drawing, edge, ident, tag, texts)
    return drawing


def _add_label(
    drawing: Drawing, di: etree._Element, ident: str, tag: str, texts: dict[str, str]
) -> None:
    if tag not in _EXTERNAL or not texts.get(ident, "").strip():
        return
    box = _bounds(di.find("bpmndi:BPMNLabel/dc:Bounds", _NS))
    if box is None:
        drawing.unlabelled.append(ident)
    else:
        drawing.labels.append(DrawnLabel(ident, box, texts[ident]))


# -- geometry ----------------------------------------------------------------------------------


def _overlap(a: Bounds, b: Bounds) -> bool:
    """The interiors intersect (touching borders do not count)."""
    return a.x < b.right and b.x < a.right and a.y < b.bottom and b.y < a.bottom


def _inside(inner: Bounds, outer: Bounds) -> bool:
    return (
        outer.x <= inner.x
        and outer.y <= inner.y
        and inner.right <= outer.right
        and inner.bottom <= outer.bottom
    )


def _straddles(box: Bounds, group: Bounds) -> bool:
    """Partly in and partly out of the group."""
    return _overlap(box, group) and not _inside(box, group)


def _crosses(a: Point, b: Point, box: Bounds, margin: float = 0.5) -> bool:
    """The segment a-b passes through the interior of ``box`` (shrunk by ``margin``)
    (Liang-Barsky clipping)."""
    left, right = box.x + margin, box.right - margin
    top, bottom = box.y + margin, box.bottom - margin
    if left >= right or top >= bottom:
        return False
    (x0, y0), (x1, y1) = a, b
    dx, dy = x1 - x0, y1 - y0
    low, high = 0.0, 1.0
    for p, q in ((-dx, x0 - left), (dx, right - x0), (-dy, y0 - top), (dy, bottom - y0)):
        if p == 0:
            if q <= 0:
                return False
            continue
        t = q / p
        if p < 0:
            low = max(low, t)
        else:
            high = min(high, t)
        if low >= high:
            return False
    return True


def _segments(points: list[Point]) -> list[tuple[Point, Point]]:
    return list(zip(points, points[1:], strict=False))


def _point_segment(p: Point, a: Point, b: Point) -> float:
    (px, py), (ax, ay), (bx, by) = p, a, b
    dx, dy = bx - ax, by - ay
    length = dx * dx + dy * dy
    t = 0.0 if length == 0 else max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / length))
    return math.hypot(px - (ax + t * dx), py - (ay + t * dy))


def _distance(points: list[Point], box: Bounds) -> float:
    """How far the polyline ``points`` passes from ``box`` (0 when it touches it)."""
    corners = [(box.x, box.y), (box.right, box.y), (box.x, box.bottom), (box.right, box.bottom)]
    best = math.inf
    for a, b in _segments(points):
        if _crosses(a, b, box, margin=0):
            return 0.0
        for x, y in (a, b):
            dx = max(box.x - x, 0.0, x - box.right)
            dy = max(box.y - y, 0.0, y - box.bottom)
            best = min(best, math.hypot(dx, dy))
        best = min(best, *(_point_segment((float(x), float(y)), a, b) for x, y in corners))
    return best


# -- the check -----------------------------------------------------------------------------------


def render_problems(root: etree._Element) -> list[str]:
    """Every overlap and overflow of the diagram of ``root`` (empty: it draws cleanly)."""
    drawing = read_drawing(root)
    problems: list[str] = []
    shapes, groups = drawing.shapes, drawing.groups
    for (a_id, a), (b_id, b) in combinations(shapes.items(), 2):
        if _overlap(a, b):
            problems.append(f"shapes {a_id} and {b_id} overlap")
    for (a_id, a), (b_id, b) in combinations(groups.items(), 2):
        if _overlap(a, b):
            problems.append(f"groups {a_id} and {b_id} overlap")
    for group_id, group in groups.items():
        for shape_id, shape in shapes.items():
            if _straddles(shape, group):
                problems.append(f"shape {shape_id} straddles the border of group {group_id}")
    labels = drawing.labels
    for label in labels:
        box = label.bounds
        for shape_id, shape in shapes.items():
            if _overlap(box, shape):
                problems.append(f"label of {label.owner} overlaps shape {shape_id}")
        for group_id, group in groups.items():
            if _straddles(box, group):
                problems.append(f"label of {label.owner} straddles the border of group {group_id}")
        for edge_id, points in drawing.edges.items():
            if any(_crosses(a, b, box) for a, b in _segments(points)):
                problems.append(f"sequence flow {edge_id} crosses the label of {label.owner}")
        problems.extend(_label_fit(label))
        problems.extend(_label_owner(label, drawing))
    for first, second in combinations(labels, 2):
        if _overlap(first.bounds, second.bounds):
            problems.append(f"labels of {first.owner} and {second.owner} overlap")
    for edge_id, points in drawing.edges.items():
        ends = drawing.ends.get(edge_id, ("", ""))
        for shape_id, shape in shapes.items():
            if shape_id in ends:
                continue
            if any(_crosses(a, b, shape) for a, b in _segments(points)):
                problems.append(f"sequence flow {edge_id} runs through shape {shape_id}")
    for task_id, title in drawing.titles.items():
        problems.extend(_title_fit(task_id, title, shapes[task_id], drawing.kinds[task_id]))
    problems.extend(f"{ident} has a name but no label bounds" for ident in drawing.unlabelled)
    return problems


def _label_owner(label: DrawnLabel, drawing: Drawing) -> list[str]:
    """A flow's label must sit nearer to that flow than to any other: it reads as its own."""
    own = drawing.edges.get(label.owner)
    if own is None or len(own) < 2:
        return []
    mine = _distance(own, label.bounds)
    return [
        f"label of {label.owner} is nearer to sequence flow {edge_id}"
        for edge_id, points in drawing.edges.items()
        if edge_id != label.owner and len(points) >= 2 and _distance(points, label.bounds) <= mine
    ]


def _label_fit(label: DrawnLabel) -> list[str]:
    box = label.bounds
    lines = wrap(label.text, box.width, EXTERNAL_FONT)
    problems = []
    if len(lines) > MAX_LABEL_LINES:
        problems.append(
            f"label of {label.owner} takes {len(lines)} lines (at most {MAX_LABEL_LINES}): "
            f"{label.text!r}"
        )
    height = len(lines) * EXTERNAL_FONT.line_height
    widest = max((line_width(line, EXTERNAL_FONT) for line in lines), default=0.0)
    if height > box.height + 0.5 or widest > box.width:
        problems.append(
            f"label of {label.owner} ({widest:.0f} x {height:.0f} px) does not fit its box "
            f"({box.width} x {box.height}): {label.text!r}"
        )
    return problems


def _title_fit(task_id: str, title: str, box: Bounds, kind: str = "") -> list[str]:
    inner = 2 * TASK_PADDING
    lines = wrap(title, box.width - inner, TASK_FONT)
    height = len(lines) * TASK_FONT.line_height
    widest = max((line_width(line, TASK_FONT) for line in lines), default=0.0)
    if height > box.height - inner or widest > box.width - inner:
        return [
            f"title of {task_id} ({len(lines)} lines, {widest:.0f} x {height:.0f} px) does not "
            f"fit inside it ({box.width} x {box.height}): {title!r}"
        ]
    if kind in _ICONS:  # bpmn-js centres the lines, in the middle of the task
        top = (box.height - height) / 2
        for number, line in enumerate(lines):
            line_top = top + number * TASK_FONT.line_height
            left = (box.width - line_width(line, TASK_FONT)) / 2
            if line_top < _ICON_SIZE[1] and left < _ICON_SIZE[0]:
                return [f"title of {task_id} runs under its type icon: {title!r}"]
    return []
