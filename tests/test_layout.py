"""BPMNDI geometry of compiled processes: left to right, stages side by side, no overlaps."""

from __future__ import annotations

from itertools import combinations

from hypothesis import given, settings
from strategies import process_models

from engine.builder.bpmn_xml import parse_xml
from engine.builder.compiler import compile_model, task_id
from engine.builder.layout import Bounds, EdgeSpec, route
from engine.builder.namespaces import BPMNDI_NS, DC_NS, DI_NS
from engine.model import ActionDef, ProcessModel, StageDef

NS = {"bpmndi": BPMNDI_NS, "dc": DC_NS, "di": DI_NS}


def shapes(model: ProcessModel) -> dict[str, Bounds]:
    root = parse_xml(compile_model(model), "layout.bpmn")
    found = {}
    for shape in root.iterfind(".//bpmndi:BPMNShape", NS):
        box = shape.find("dc:Bounds", NS)
        assert box is not None
        found[shape.get("bpmnElement", "")] = Bounds(
            *(int(box.get(k, "")) for k in ("x", "y", "width", "height"))
        )
    return found


def waypoints(model: ProcessModel) -> dict[str, list[tuple[int, int]]]:
    root = parse_xml(compile_model(model), "layout.bpmn")
    return {
        edge.get("bpmnElement", ""): [
            (int(p.get("x", "")), int(p.get("y", ""))) for p in edge.iterfind("di:waypoint", NS)
        ]
        for edge in root.iterfind(".//bpmndi:BPMNEdge", NS)
    }


def overlap(a: Bounds, b: Bounds) -> bool:
    return a.x < b.right and b.x < a.right and a.y < b.bottom and b.y < a.bottom


def stage_ids(model: ProcessModel, number: int) -> list[str]:
    stage = model.stages[number - 1]
    ids = [f"Stage_{number}_entry", f"Stage_{number}_exit"]
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
    assert boxes["Stage_2_entry"].right < s1.x < s1.right < s2.x < boxes["Stage_2_exit"].x


def test_manual_only_tasks_sit_in_a_row_below_their_stage() -> None:
    boxes = shapes(MODEL)
    manual = [boxes[task_id(f"m{i}")] for i in range(1, 5)]
    lowest_branch = max(boxes[task_id(i)].bottom for i in ("p1", "p2", "p3"))
    assert len({b.y for b in manual}) == 1 and manual[0].y > lowest_branch
    assert all(a.right < b.x for a, b in zip(manual, manual[1:], strict=False))
    # the stage widens so that its manual row ends before the next stage starts
    assert boxes["Stage_1_entry"].x <= manual[0].x
    assert manual[-1].right < boxes["Stage_1_exit"].x < boxes["Stage_2_entry"].x


def test_stages_are_side_by_side_and_shapes_never_overlap() -> None:
    boxes = shapes(MODEL)
    first = [boxes[i] for i in stage_ids(MODEL, 1)]
    second = [boxes[i] for i in stage_ids(MODEL, 2)]
    assert max(b.right for b in first) < min(b.x for b in second)
    for (a_id, a), (b_id, b) in combinations(boxes.items(), 2):
        assert not overlap(a, b), (a_id, b_id)


def test_skip_flow_runs_above_the_stage_from_entry_to_exit() -> None:
    boxes = shapes(MODEL)
    root = parse_xml(compile_model(MODEL), "layout.bpmn")
    entry = root.find(".//{*}exclusiveGateway[@id='Stage_1_entry']")
    assert entry is not None
    points = waypoints(MODEL)[entry.get("default", "")]
    top = min(boxes[i].y for i in stage_ids(MODEL, 1))
    assert points[0] == (boxes["Stage_1_entry"].cx, boxes["Stage_1_entry"].y)
    assert points[-1] == (boxes["Stage_1_exit"].cx, boxes["Stage_1_exit"].y)
    assert all(y < top for _, y in points[1:-1])


def test_route_ends_on_the_sides_of_its_shapes() -> None:
    source, below = Bounds(0, 0, 50, 50), Bounds(100, 100, 100, 80)
    assert route(EdgeSpec("f", "a", "b"), source, below) == ((25, 50), (25, 140), (100, 140))
    assert route(EdgeSpec("f", "b", "a"), below, Bounds(300, 0, 50, 50)) == (
        (200, 140),
        (325, 140),
        (325, 50),
    )


@settings(max_examples=10, deadline=None)
@given(process_models())
def test_generated_layouts_have_no_overlapping_shapes(model: ProcessModel) -> None:
    boxes = shapes(model)
    for (a_id, a), (b_id, b) in combinations(boxes.items(), 2):
        assert not overlap(a, b), (a_id, b_id)
    for points in waypoints(model).values():
        for (x1, y1), (x2, y2) in zip(points, points[1:], strict=False):
            assert x1 == x2 or y1 == y2  # orthogonal segments
