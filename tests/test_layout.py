"""BPMNDI geometry of compiled processes: left to right, stages in their groups, labels on
their own flows, text sized to fit, and the render check that finds overlaps."""

from __future__ import annotations

import importlib.util
from itertools import combinations
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import given, settings
from lxml import etree
from strategies import process_models

from engine.builder.bpmn_xml import parse_xml
from engine.builder.compiler import compile_model, task_id
from engine.builder.diagram_check import read_drawing, render_problems
from engine.builder.layout import (
    MAX_LABEL_LINES,
    SKIP_LABEL,
    Bounds,
    EdgeSpec,
    label_size,
    route,
    task_size,
)
from engine.builder.loader import load_definition
from engine.builder.namespaces import BPMN_NS, BPMNDI_NS, DC_NS, DI_NS
from engine.builder.text_metrics import (
    ELLIPSIS,
    EXTERNAL_FONT,
    TASK_FONT,
    Font,
    ellipsize,
    line_width,
    wrap,
)
from engine.model import ActionDef, ProcessModel, StageDef

NS = {"bpmn": BPMN_NS, "bpmndi": BPMNDI_NS, "dc": DC_NS, "di": DI_NS}
ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "processes").glob("*.yaml"))


def compiled(model: ProcessModel) -> etree._Element:
    return parse_xml(compile_model(model), "layout.bpmn")


def shapes(model: ProcessModel) -> dict[str, Bounds]:
    drawing = read_drawing(compiled(model))
    return {**drawing.shapes, **drawing.groups}


def waypoints(model: ProcessModel) -> dict[str, list[tuple[int, int]]]:
    return {
        edge: [(round(x), round(y)) for x, y in points]
        for edge, points in read_drawing(compiled(model)).edges.items()
    }


def overlap(a: Bounds, b: Bounds) -> bool:
    return a.x < b.right and b.x < a.right and a.y < b.bottom and b.y < a.bottom


def inside(inner: Bounds, outer: Bounds) -> bool:
    return (
        outer.x <= inner.x
        and outer.y <= inner.y
        and inner.right <= outer.right
        and inner.bottom <= outer.bottom
    )


def stage_ids(model: ProcessModel, number: int) -> list[str]:
    """The flow nodes the compiler makes for a stage (only the gateways it needs)."""
    stage = model.stages[number - 1]
    ids = []
    if stage.condition is not None:
        ids += [f"Stage_{number}_entry", f"Stage_{number}_exit"]
    if stage.parallel:
        ids += [f"Stage_{number}_split", f"Stage_{number}_join"]
    return ids + [task_id(a.id) for a in stage.actions]


MODEL = ProcessModel(
    "layout",
    1,
    "Layout",
    stages=(
        StageDef(
            "Parallel",
            (
                ActionDef("p1", "P1"),
                ActionDef("p2", "P2"),
                ActionDef("p3", "P3"),
                ActionDef("m1", "M1", flow=False, manual_launch=True),
                ActionDef("m2", "M2", flow=False, manual_launch=True),
                ActionDef("m3", "M3", flow=False, manual_launch=True),
                ActionDef("m4", "M4", flow=False, manual_launch=True),
            ),
            condition="a > 1",
            parallel=True,
        ),
        StageDef("Sequence", (ActionDef("s1", "S1"), ActionDef("s2", "S2"))),
    ),
)


def test_parallel_branches_are_stacked_in_one_column() -> None:
    boxes = shapes(MODEL)
    branch = [boxes[task_id(i)] for i in ("p1", "p2", "p3")]
    assert len({b.x for b in branch}) == 1
    assert [b.y for b in branch] == sorted({b.y for b in branch})
    assert boxes["Stage_1_split"].right < branch[0].x < boxes["Stage_1_join"].x


def test_sequential_actions_go_left_to_right_on_the_main_row() -> None:
    boxes = shapes(MODEL)
    s1, s2 = boxes[task_id("s1")], boxes[task_id("s2")]
    assert s1.cy == s2.cy == boxes["StartEvent"].cy == boxes["EndEvent"].cy
    assert boxes["Stage_1_exit"].right < s1.x < s1.right < s2.x < boxes["EndEvent"].x


def test_manual_only_tasks_sit_in_a_row_below_their_stage() -> None:
    boxes = shapes(MODEL)
    manual = [boxes[task_id(f"m{i}")] for i in range(1, 5)]
    lowest_branch = max(boxes[task_id(i)].bottom for i in ("p1", "p2", "p3"))
    assert len({b.y for b in manual}) == 1 and manual[0].y > lowest_branch
    assert all(a.right < b.x for a, b in zip(manual, manual[1:], strict=False))
    # the stage widens so that its manual row ends before the next stage starts
    assert boxes["Stage_1_entry"].x <= manual[0].x
    assert manual[-1].right < boxes["Stage_1_exit"].x < boxes[task_id("s1")].x


def test_stages_are_side_by_side_in_their_groups_and_shapes_never_overlap() -> None:
    boxes = shapes(MODEL)
    first = [boxes[i] for i in stage_ids(MODEL, 1)]
    second = [boxes[i] for i in stage_ids(MODEL, 2)]
    assert max(b.right for b in first) < min(b.x for b in second)
    groups = [boxes["Stage_1_group"], boxes["Stage_2_group"]]
    assert all(inside(b, groups[0]) and not overlap(b, groups[1]) for b in first)
    assert all(inside(b, groups[1]) and not overlap(b, groups[0]) for b in second)
    assert groups[0].right < groups[1].x
    for event in ("StartEvent", "EndEvent"):
        assert not any(overlap(boxes[event], group) for group in groups)
    nodes = {k: v for k, v in boxes.items() if not k.endswith("_group")}
    for (a_id, a), (b_id, b) in combinations(nodes.items(), 2):
        assert not overlap(a, b), (a_id, b_id)


def test_skip_flow_runs_above_the_stage_from_entry_to_exit() -> None:
    boxes = shapes(MODEL)
    root = compiled(MODEL)
    entry = root.find(".//{*}exclusiveGateway[@id='Stage_1_entry']")
    assert entry is not None
    points = waypoints(MODEL)[entry.get("default", "")]
    top = min(boxes[i].y for i in stage_ids(MODEL, 1))
    assert points[0] == (boxes["Stage_1_entry"].cx, boxes["Stage_1_entry"].y)
    assert points[-1] == (boxes["Stage_1_exit"].cx, boxes["Stage_1_exit"].y)
    assert all(y < top for _, y in points[1:-1])
    assert all(boxes["Stage_1_group"].y < y for _, y in points)  # inside the stage's group


def test_route_ends_on_the_sides_of_its_shapes() -> None:
    source, below = Bounds(0, 0, 50, 50), Bounds(100, 100, 100, 80)
    assert route(EdgeSpec("f", "a", "b"), source, below) == ((25, 50), (25, 140), (100, 140))
    assert route(EdgeSpec("f", "b", "a"), below, Bounds(300, 0, 50, 50)) == (
        (200, 140),
        (325, 140),
        (325, 50),
    )


# -- labels: on their own flows (issue 6), sized to their text (issue 8) ---------------------


def flow_labels(root: etree._Element) -> dict[str, tuple[str, Bounds]]:
    """Flow id -> (name, label bounds)."""
    return {
        label.owner: (label.text, label.bounds)
        for label in read_drawing(root).labels
        if label.owner.startswith("Flow_")
    }


def test_the_condition_labels_the_flow_entering_the_stage_and_otherwise_the_skip() -> None:
    definition = load_definition(ROOT / "processes" / "claim.yaml", known_processes=["fraud_check"])
    root = parse_xml(definition.bpmn, "claim.bpmn")
    drawing = read_drawing(root)
    labels = flow_labels(root)
    process = root.find("bpmn:process", NS)
    assert process is not None
    for number, stage in enumerate(definition.model.stages, start=1):
        if stage.condition is None:
            continue
        gateway = process.find(f"bpmn:exclusiveGateway[@id='Stage_{number}_entry']", NS)
        assert gateway is not None
        leaving = process.findall(f"bpmn:sequenceFlow[@sourceRef='Stage_{number}_entry']", NS)
        [enter] = [f for f in leaving if f.find("bpmn:conditionExpression", NS) is not None]
        [skip] = [f for f in leaving if f.get("id") == gateway.get("default")]
        text, box = labels[enter.get("id", "")]
        assert text == enter.get("name") == stage.condition
        (x0, y0), (x1, y1) = drawing.edges[enter.get("id", "")]
        assert y0 == y1 and x0 < box.x and box.right < x1  # over its own flow's span...
        assert y0 - 10 <= box.bottom <= y0  # ...just above the line
        skip_text, skip_box = labels[skip.get("id", "")]
        assert skip_text == skip.get("name") == SKIP_LABEL
        _, (sx0, sy), (sx1, _), _ = drawing.edges[skip.get("id", "")]
        assert sx0 < skip_box.x and skip_box.right < sx1 and sy - 10 <= skip_box.bottom <= sy
        assert skip_box.bottom < box.y  # the skip label is above the condition's


def test_a_long_condition_is_cut_with_an_ellipsis_and_kept_whole_in_the_expression() -> None:
    condition = " or ".join(f"amount_{n} > {n * 1000}" for n in range(12))
    model = ProcessModel(
        "long", 1, "Long", stages=(StageDef("S", (ActionDef("a", "A"),), condition),)
    )
    root = compiled(model)
    [flow] = [
        f
        for f in root.iter(f"{{{BPMN_NS}}}sequenceFlow")
        if f.find("bpmn:conditionExpression", NS) is not None
    ]
    assert flow.findtext("bpmn:conditionExpression", namespaces=NS) == condition
    name = flow.get("name", "")
    assert name.endswith(ELLIPSIS) and condition.startswith(name[:-1].rstrip())
    text, box = flow_labels(root)[flow.get("id", "")]
    assert text == name
    assert len(wrap(name, box.width, EXTERNAL_FONT)) == MAX_LABEL_LINES
    assert render_problems(root) == []


def test_a_long_title_widens_then_heightens_its_task_and_stays_whole() -> None:
    assert task_size("Pay claim") == (100, 80)
    assert task_size("Request missing documents") == (110, 80)  # two lines, a little wider
    three = task_size("Request missing documents from the customer")
    assert 100 < three[0] <= 150 and three[1] == 100  # three lines, below the type icon
    title = "An extremely long action title that would overflow the box " * 4
    tall = task_size(title)
    assert tall[0] == 240 and tall[1] > 80
    model = ProcessModel(
        "long", 1, "Long", stages=(StageDef("S", (ActionDef("a", title), ActionDef("b", "B"))),)
    )
    root = compiled(model)
    task = root.find(".//bpmn:userTask[@id='Action_a']", NS)
    assert task is not None and task.get("name") == title  # the title is never cut
    assert render_problems(root) == []


def test_a_title_of_three_lines_stays_clear_of_the_type_icon() -> None:
    # bpmn-js centres a title in its task: three lines in an 80 px task start 18 px from the
    # top, where the type icon reaches down to 23.5 px (tools/bpmn_js_check measured it)
    title = "Verify the identity of the policy holder and their beneficiaries"
    model = ProcessModel("icon", 1, "Icon", stages=(StageDef("S", (ActionDef("a", title),)),))
    root = compiled(model)
    assert render_problems(root) == []
    plane = "bpmndi:BPMNDiagram/bpmndi:BPMNPlane"
    bounds = root.find(f"{plane}/bpmndi:BPMNShape[@bpmnElement='Action_a']/dc:Bounds", NS)
    assert bounds is not None and bounds.get("height") == "100"
    bounds.set("y", str(int(bounds.get("y", "0")) + 10))
    bounds.set("height", "80")
    assert render_problems(root) == [f"title of Action_a runs under its type icon: {title!r}"]


def test_label_sizes_one_line_two_lines_or_cut() -> None:
    text, width, height = label_size("amount > 1000")
    assert text == "amount > 1000" and len(wrap(text, width, EXTERNAL_FONT)) == 1
    assert height == 14
    text, width, height = label_size("amount > 5000 or prior_claims >= 3 or vip == True")
    assert len(wrap(text, width, EXTERNAL_FONT)) == 2 and height == 27
    long = "x > 1 and " * 40
    text, width, _ = label_size(long)
    assert text.endswith(ELLIPSIS) and width <= 200


def test_stage_groups_hold_their_stage_and_are_named_after_it() -> None:
    root = compiled(MODEL)
    values = {
        v.get("id"): v.get("value") for v in root.iterfind("bpmn:category/bpmn:categoryValue", NS)
    }
    groups = root.findall("bpmn:process/bpmn:group", NS)
    assert [values[g.get("categoryValueRef")] for g in groups] == ["Parallel", "Sequence"]
    drawing = read_drawing(root)
    names = {label.owner: label for label in drawing.labels}
    for number in (1, 2):
        group = drawing.groups[f"Stage_{number}_group"]
        label = names[f"Stage_{number}_group"]
        assert inside(label.bounds, group)
        assert label.bounds.bottom < min(drawing.shapes[i].y for i in stage_ids(MODEL, number))


# -- the render check ------------------------------------------------------------------------


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_every_example_draws_without_overlaps(path: Path) -> None:
    definition = load_definition(path, known_processes=["fraud_check"])
    root = parse_xml(definition.bpmn, path.name)
    assert render_problems(root) == []
    assert read_drawing(root).groups  # stages are drawn as groups


@settings(max_examples=25, deadline=None)
@given(process_models())
def test_generated_layouts_draw_without_overlaps(model: ProcessModel) -> None:
    root = compiled(model)
    assert render_problems(root) == []
    for points in read_drawing(root).edges.values():
        for (x1, y1), (x2, y2) in zip(points, points[1:], strict=False):
            assert x1 == x2 or y1 == y2  # orthogonal segments


def _set_bounds(root: etree._Element, xpath: str, **values: int) -> None:
    bounds = root.find(xpath, NS)
    assert bounds is not None, xpath
    for key, value in values.items():
        bounds.set(key, str(value))


def test_render_check_finds_overlaps_stray_labels_and_overflowing_text() -> None:
    definition = load_definition(ROOT / "processes" / "claim.yaml", known_processes=["fraud_check"])
    clean = parse_xml(definition.bpmn, "claim.bpmn")
    plane = "bpmndi:BPMNDiagram/bpmndi:BPMNPlane"

    moved = parse_xml(definition.bpmn, "claim.bpmn")  # a task over its neighbour
    pay = clean.find(f"{plane}/bpmndi:BPMNShape[@bpmnElement='Action_pay']/dc:Bounds", NS)
    assert pay is not None
    _set_bounds(
        moved,
        f"{plane}/bpmndi:BPMNShape[@bpmnElement='Action_notify']/dc:Bounds",
        x=int(pay.get("x", "0")) + 30,
    )
    register = clean.find(f"{plane}/bpmndi:BPMNShape[@bpmnElement='Action_register']/dc:Bounds", NS)
    assert register is not None  # a manual-only task moved onto the flow after register
    _set_bounds(
        moved,
        f"{plane}/bpmndi:BPMNShape[@bpmnElement='Action_request_documents']/dc:Bounds",
        x=int(register.get("x", "0")) + 110,
        y=int(register.get("y", "0")),
        width=20,
    )
    problems = render_problems(moved)
    assert "shapes Action_pay and Action_notify overlap" in problems
    assert "sequence flow Flow_2 runs through shape Action_request_documents" in problems

    stray = parse_xml(definition.bpmn, "claim.bpmn")  # issue 6: the label by the skip flow
    labels = flow_labels(clean)
    [(enter, (_, box))] = [(k, v) for k, v in labels.items() if v[0] == "amount > 1000"]
    [skip] = [k for k, v in labels.items() if v[0] == SKIP_LABEL and v[1].x > box.x - 60]
    skip_box = labels[skip][1]
    _set_bounds(
        stray,
        f"{plane}/bpmndi:BPMNEdge[@bpmnElement='{enter}']/bpmndi:BPMNLabel/dc:Bounds",
        x=skip_box.right + 10,
        y=skip_box.y,
    )
    assert f"label of {enter} is nearer to sequence flow {skip}" in render_problems(stray)

    small = parse_xml(definition.bpmn, "claim.bpmn")  # issue 8: text longer than its box
    _set_bounds(
        small,
        f"{plane}/bpmndi:BPMNEdge[@bpmnElement='{enter}']/bpmndi:BPMNLabel/dc:Bounds",
        width=30,
    )
    _set_bounds(
        small,
        f"{plane}/bpmndi:BPMNShape[@bpmnElement='Action_register']/dc:Bounds",
        width=40,
        height=40,
    )
    problems = render_problems(small)
    assert any(p.startswith(f"label of {enter} takes 3 lines") for p in problems)
    assert any(p.startswith("title of Action_register") for p in problems)
    assert render_problems(clean) == []


# -- text metrics ----------------------------------------------------------------------------


def test_widths_are_arials_as_bpmn_js_measures_them_in_chromium() -> None:
    # Widths of whole lines as bpmn-js drew them in Chromium (tools/bpmn_js_check: the SVG
    # length of each line of the compiled examples), to within SVG's rounding.
    for text, font, drawn in (
        ("Register claim", TASK_FONT, 76.03),
        ("Assess damage", TASK_FONT, 85.39),
        ("Fraud screening", EXTERNAL_FONT, 79.5),
        ("Equipment and access", EXTERNAL_FONT, 111.3),
        ("risk_score >= 70", EXTERNAL_FONT, 81.33),
        ("otherwise", EXTERNAL_FONT, 47.08),
    ):
        assert line_width(text, font) == pytest.approx(drawn, abs=0.03), text
    # canvas measureText at 1000 px (--calibrate): Arial's font units, 1/2048 em
    for char, measured in (
        ("a", 556.15234375),
        ("'", 190.91796875),  # quotesingle, not Helvetica.afm's code 0x27 (quoteright, 222)
        ("`", 333.0078125),  # grave, not the AFM's code 0x60 (quoteleft, 222)
        ("\u00ef", 277.83203125),  # ï: Arial's accented i is wider than i (222.17)
        ("\u00e9", 556.15234375),  # é as e
        ("\u2264", 548.828125),  # ≤
    ):
        assert line_width(char, Font(1000)) == pytest.approx(measured), char
    assert line_width("Te", Font(1000)) == pytest.approx(610.83984375 + 556.15234375 - 110.83984375)


def test_ascii_widths_are_helveticas_as_matplotlib_ships_them() -> None:
    afm_module = pytest.importorskip("matplotlib._afm")
    import matplotlib

    path = Path(matplotlib.get_data_path()) / "fonts" / "pdfcorefonts" / "Helvetica.afm"
    with path.open("rb") as handle:
        afm = afm_module.AFM(handle)
    glyphs = {0x27: "quotesingle", 0x60: "grave"}  # the AFM's codes are curly quotes there
    for code in range(0x20, 0x7F):
        name = glyphs.get(code)
        expected = afm.get_width_from_char_name(name) if name else afm.get_width_char(code)
        width = line_width(f"a{chr(code)}b", Font(1000)) - line_width("ab", Font(1000))
        assert width == pytest.approx(expected, abs=0.5), chr(code)


def test_wrap_follows_bpmn_js() -> None:
    assert wrap("", 90, EXTERNAL_FONT) == []
    assert wrap("Pay claim", 86, TASK_FONT) == ["Pay claim"]
    assert wrap("Request missing documents", 86, TASK_FONT) == ["Request", "missing", "documents"]
    assert wrap("one\ntwo", 500, TASK_FONT) == ["one", "two"]  # explicit breaks are kept
    assert all(line_width(line, TASK_FONT) < 40 for line in wrap("x" * 50, 40, TASK_FONT))
    assert line_width("a  \t b", TASK_FONT) == line_width("a b", TASK_FONT)  # SVG collapses
    assert line_width("日本", TASK_FONT) == 24  # full width
    assert line_width("é", TASK_FONT) == line_width("e", TASK_FONT)
    cut = ellipsize("word " * 40, 100, EXTERNAL_FONT, 2)
    assert cut.endswith(ELLIPSIS) and len(wrap(cut, 100, EXTERNAL_FONT)) == 2
    # What bpmn-js 18 drew in Chromium (tools/bpmn_js_check --wrap-cases), where the first
    # version of wrap() differed: a double space ends diagram-js's cut at a break, ' ` and
    # i-with-accent widths, a line exactly as wide as the box, kerning, empty lines.
    for text, width, font, drawn in (
        (
            "pay  'quoted' don't well-known risk_score accounts",
            86,
            TASK_FONT,
            ["pay", "'quoted' don't", "well-known", "risk_score", "accounts"],
        ),
        (
            "\u20ac5 request x > faulty claim customer fraud na\u00efve",
            60,
            TASK_FONT,
            ["\u20ac5 request", "x > faulty", "claim", "customer", "fraud", "na\u00efve"],
        ),
        (
            "y `code` \u00c4nderung <= False supercalifragilisticexpialidocious 70",
            116,
            TASK_FONT,
            ["y `code` \u00c4nderung", "<= False", "supercalifragilisticex", "pialidocious 70"],
        ),
        (
            "y `code` letter y pay order request @user y notify True <",
            240,
            EXTERNAL_FONT,
            ["y `code` letter y pay order request @user y notify", "True <"],
        ),
        ("Te Ty AV y.", 30, TASK_FONT, ["Te Ty", "AV y."]),
        ("Long text\n", 86, TASK_FONT, ["Long text", ""]),
        ("a\n\nb", 100, TASK_FONT, ["a", "", "b"]),
        ("longword ", 30, TASK_FONT, ["long", "word"]),
    ):
        assert wrap(text, width, font) == drawn, text


# -- the PNG renderer (tools/render_diagram.py) ----------------------------------------------


def _renderer() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "render_diagram", ROOT / "tools" / "render_diagram.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_png_renderer_draws_a_compiled_example(tmp_path: Path) -> None:
    renderer = _renderer()
    status = renderer.main([str(ROOT / "processes" / "claim.yaml"), "-o", str(tmp_path)])
    assert status == 0
    assert (tmp_path / "claim.png").read_bytes().startswith(b"\x89PNG")
