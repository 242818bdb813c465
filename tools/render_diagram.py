#!/usr/bin/env python3
"""Draw the BPMNDI diagram of BPMN files to PNG with matplotlib, close to how bpmn.io draws it.

An offline stand-in for ``tools/bpmn_js_check`` and ``tools/bpmn-render`` (bpmn-js in
headless Chromium, which need Node, bpmn-js and Chromium): it draws what
:func:`engine.builder.diagram_check.read_drawing` reads from the file: shapes at their
``dc:Bounds`` (tasks as rounded boxes with a type mark, gateways as diamonds with their marker,
events as circles, stage groups as dashed boxes), sequence flows along their waypoints (a
default flow with bpmn-js's slash), and every label in its ``BPMNLabel`` box with its text
wrapped the way bpmn-js wraps it (the Arial metrics of :mod:`engine.builder.text_metrics`;
drawn in DejaVu Sans, shrunk to about the same width). Label boxes are outlined in light blue
(``--no-boxes`` to hide them), so overlaps show.

Usage (from the repository root)::

    .venv/bin/python tools/render_diagram.py out/bpmn/claim.bpmn -o out/png
    .venv/bin/python tools/render_diagram.py processes/claim.yaml -o out/png   # YAML compiled

Prints each PNG written and the problems :func:`~engine.builder.diagram_check.render_problems`
finds (exit status 1 when there is one).
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from lxml import etree  # noqa: E402
from matplotlib.patches import Circle, FancyBboxPatch, Polygon, Rectangle  # noqa: E402

from engine.builder.bpmn_xml import parse_xml  # noqa: E402
from engine.builder.diagram_check import Drawing, read_drawing, render_problems  # noqa: E402
from engine.builder.layout import TASK_PADDING, Bounds  # noqa: E402
from engine.builder.loader import load_definition  # noqa: E402
from engine.builder.text_metrics import EXTERNAL_FONT, TASK_FONT, Font, wrap  # noqa: E402

SCALE = 1.5
"""Image pixels per diagram pixel."""
MARGIN = 30
DEJAVU_SHRINK = 0.9
"""DejaVu Sans runs about 10 % wider than Arial: draw it this much smaller."""
LABEL_BOX = "#9cc3e6"
GROUP_COLOUR = "#6b6b6b"


def _points(px: float) -> float:
    """Font size in points for ``px`` diagram pixels (the figure has 100 dpi)."""
    return px * SCALE * 72 / 100 * DEJAVU_SHRINK


def _text_block(
    ax: plt.Axes, box: Bounds, text: str, font: Font, *, middle: bool, padding: float = 0
) -> None:
    """Lines of ``text`` wrapped as bpmn-js wraps them, centred in ``box``."""
    lines = wrap(text, box.width - 2 * padding, font)
    height = len(lines) * font.line_height
    top = box.y + ((box.height - height) / 2 if middle else 0)
    for n, line in enumerate(lines):
        ax.text(
            box.x + box.width / 2,
            top + (n + 0.5) * font.line_height,
            line,
            ha="center",
            va="center",
            fontsize=_points(font.size),
            family="DejaVu Sans",
        )


def _task(ax: plt.Axes, ident: str, box: Bounds, kind: str, title: str) -> None:
    thick = kind == "callActivity"
    ax.add_patch(
        FancyBboxPatch(
            (box.x, box.y),
            box.width,
            box.height,
            boxstyle="round,pad=0,rounding_size=10",
            fill=True,
            facecolor="white",
            edgecolor="black",
            linewidth=(3.5 if thick else 1.5) * SCALE / 1.5,
        )
    )
    if kind == "userTask":  # head and shoulders
        ax.add_patch(Circle((box.x + 15, box.y + 13), 4, fill=False, linewidth=0.8))
        ax.add_patch(
            Rectangle((box.x + 8, box.y + 18), 14, 8, fill=False, linewidth=0.8, joinstyle="round")
        )
    elif kind == "serviceTask":  # a cog
        ax.add_patch(Circle((box.x + 16, box.y + 16), 7, fill=False, linewidth=0.8, linestyle=":"))
        ax.add_patch(Circle((box.x + 16, box.y + 16), 3, fill=False, linewidth=0.8))
    if thick:  # collapsed sub-process marker
        cx = box.x + box.width / 2
        ax.add_patch(Rectangle((cx - 7, box.bottom - 18), 14, 14, fill=False, linewidth=0.8))
        ax.plot([cx - 4, cx + 4], [box.bottom - 11] * 2, color="black", linewidth=0.8)
        ax.plot([cx, cx], [box.bottom - 15, box.bottom - 7], color="black", linewidth=0.8)
    _text_block(ax, box, title, TASK_FONT, middle=True, padding=TASK_PADDING)


def _gateway(ax: plt.Axes, box: Bounds, kind: str, marker: bool) -> None:
    cx, cy = box.x + box.width / 2, box.y + box.height / 2
    ax.add_patch(
        Polygon(
            [(cx, box.y), (box.right, cy), (cx, box.bottom), (box.x, cy)],
            closed=True,
            facecolor="white",
            edgecolor="black",
            linewidth=1.5,
        )
    )
    r = box.width * 0.18
    if kind == "parallelGateway":
        ax.plot([cx - r, cx + r], [cy, cy], color="black", linewidth=3)
        ax.plot([cx, cx], [cy - r, cy + r], color="black", linewidth=3)
    elif kind == "exclusiveGateway" and marker:
        ax.plot([cx - r, cx + r], [cy - r, cy + r], color="black", linewidth=3)
        ax.plot([cx - r, cx + r], [cy + r, cy - r], color="black", linewidth=3)


def _event(ax: plt.Axes, box: Bounds, kind: str) -> None:
    end = kind == "endEvent"
    ax.add_patch(
        Circle(
            (box.x + box.width / 2, box.y + box.height / 2),
            box.width / 2,
            facecolor="white",
            edgecolor="black",
            linewidth=3.5 if end else 1.5,
        )
    )


def _edge(ax: plt.Axes, points: list[tuple[float, float]], default: bool) -> None:
    xs, ys = zip(*points, strict=True)
    ax.plot(xs, ys, color="black", linewidth=1.2, solid_joinstyle="round", zorder=1)
    (x0, y0), (x1, y1) = points[-2], points[-1]
    ax.annotate(
        "",
        xy=(x1, y1),
        xytext=(x0, y0),
        arrowprops={"arrowstyle": "-|>", "color": "black", "lw": 1.2, "mutation_scale": 12},
        zorder=1,
    )
    if default:  # bpmn-js's slash across the start of a default flow
        (sx, sy), (nx, ny) = points[0], points[1]
        length = max(abs(nx - sx) + abs(ny - sy), 1)
        ux, uy = (nx - sx) / length, (ny - sy) / length
        mx, my = sx + 10 * ux, sy + 10 * uy
        px, py = -uy, ux
        ax.plot(
            [mx - 6 * px - 4 * ux, mx + 6 * px + 4 * ux],
            [my - 6 * py - 4 * uy, my + 6 * py + 4 * uy],
            color="black",
            linewidth=1.2,
        )


def draw(root: etree._Element, out: Path, *, boxes: bool = True) -> None:
    """Write the PNG of the first diagram of ``root`` to ``out``."""
    drawing: Drawing = read_drawing(root)
    every = list(drawing.shapes.values()) + list(drawing.groups.values())
    every += [label.bounds for label in drawing.labels]
    every += [Bounds(round(x), round(y), 0, 0) for ps in drawing.edges.values() for x, y in ps]
    left = min(b.x for b in every) - MARGIN
    top = min(b.y for b in every) - MARGIN
    right = max(b.right for b in every) + MARGIN
    bottom = max(b.bottom for b in every) + MARGIN
    figure = plt.figure(figsize=((right - left) * SCALE / 100, (bottom - top) * SCALE / 100))
    ax = figure.add_axes((0, 0, 1, 1))
    ax.set_xlim(left, right)
    ax.set_ylim(bottom, top)
    ax.set_axis_off()
    defaults = {
        element.get("default")
        for element in root.iter()
        if isinstance(element.tag, str) and element.get("default")
    }
    markers = {
        shape.get("bpmnElement")
        for shape in root.iter("{*}BPMNShape")
        if shape.get("isMarkerVisible") == "true"
    }
    for box in drawing.groups.values():
        ax.add_patch(
            FancyBboxPatch(
                (box.x, box.y),
                box.width,
                box.height,
                boxstyle="round,pad=0,rounding_size=10",
                fill=False,
                edgecolor=GROUP_COLOUR,
                linewidth=1.2,
                linestyle=(0, (8, 3, 1, 3)),
            )
        )
    for ident, points in drawing.edges.items():
        if len(points) >= 2:
            _edge(ax, points, ident in defaults)
    for ident, box in drawing.shapes.items():
        kind = drawing.kinds.get(ident, "")
        if ident in drawing.titles:
            _task(ax, ident, box, kind, drawing.titles[ident])
        elif kind.endswith("Gateway"):
            _gateway(ax, box, kind, ident in markers)
        elif kind.endswith("Event"):
            _event(ax, box, kind)
        else:
            ax.add_patch(Rectangle((box.x, box.y), box.width, box.height, fill=False))
    for label in drawing.labels:
        box = label.bounds
        if boxes:
            ax.add_patch(
                Rectangle(
                    (box.x, box.y),
                    box.width,
                    box.height,
                    fill=False,
                    edgecolor=LABEL_BOX,
                    linewidth=0.6,
                )
            )
        _text_block(ax, box, label.text, EXTERNAL_FONT, middle=False)
    out.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():  # DejaVu Sans has no CJK glyphs: boxes are drawn
        warnings.filterwarnings("ignore", message="Glyph .* missing from font")
        figure.savefig(out, dpi=100, facecolor="white")
    plt.close(figure)


def _root(path: Path) -> etree._Element:
    if path.suffix in (".yaml", ".yml"):
        definition = load_definition(path, known_processes=["fraud_check"])
        return parse_xml(definition.bpmn, str(path))
    return parse_xml(path.read_bytes(), str(path))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="+", type=Path, help="BPMN files, or YAML to compile")
    parser.add_argument("-o", "--out", type=Path, default=Path("out/png"), help="PNG folder")
    parser.add_argument("--no-boxes", action="store_true", help="do not outline label boxes")
    args = parser.parse_args(argv)
    status = 0
    for path in args.files:
        root = _root(path)
        target = args.out / f"{path.stem}.png"
        draw(root, target, boxes=not args.no_boxes)
        print(f"wrote {target}")
        for problem in render_problems(root):
            print(f"  {path}: {problem}")
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
