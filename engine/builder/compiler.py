"""Compile a :class:`~engine.model.ProcessModel` to BPMN 2.0 XML with its diagram.

The mapping (documented in ``docs/bpmn-mapping.md``, read back by
:mod:`engine.builder.bpmn_model`):

* one ``bpmn:definitions`` holding one executable ``bpmn:process`` (id = model id, name =
  model name) whose ``extensionElements`` carry ``caseloom:case`` (version, context, every
  case setting, schedules (``caseloom:schedule``), calendars, data fields
  (``caseloom:dataField``) and the stage listing);
* a flat flow: start event, then per stage only the gateways it needs: for a condition, an
  exclusive *entry* gateway ``Stage_<n>_entry`` whose conditional flow enters the stage and
  whose default flow skips to the exclusive merge ``Stage_<n>_exit``; for parallel actions,
  the parallel gateways ``Stage_<n>_split`` / ``Stage_<n>_join`` around them; else the flow
  actions in a row. A stage's entry (in the stage listing) is its entry gateway, else its
  split, else its first task. Then the end event;
* one ``bpmn:group`` ``Stage_<n>_group`` per stage, drawn around the stage and labelled
  with its name (``categoryValueRef`` to a ``bpmn:categoryValue`` of the ``bpmn:category``
  ``Category_stages``);
* one task ``Action_<action id>`` per action (``bpmn:userTask``; ``bpmn:serviceTask`` for a
  robot; ``bpmn:callActivity`` for a sub-case step) with ``caseloom:action``; manual-only
  actions (``flow: false``) are tasks without sequence flows.

The output is deterministic: the same model always gives the same bytes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from lxml import etree

from engine.builder.bpmn_model import (
    ACTION_ATTRS,
    ACTION_ID,
    ACTION_STAGE,
    MODEL_ATTRS,
    SETTINGS_ATTRS,
    SETTINGS_LISTS,
    AttrKind,
    format_attr,
    format_hours,
    format_schedule_start,
)
from engine.builder.layout import (
    SKIP_LABEL,
    XML_NAMESPACES,
    Diagram,
    EdgeRole,
    EdgeSpec,
    FlowPlan,
    NodeKind,
    StagePlan,
    diagram_element,
    layout,
)
from engine.builder.namespaces import XSI_NS, bpmn, caseloom
from engine.model import WEEKDAYS, ActionDef, CalendarDef, DataField, ProcessModel, StageDef

__all__ = ["EXPORTER", "EXPORTER_VERSION", "TARGET_NAMESPACE", "compile_model", "task_id"]

EXPORTER = "caseloom"
EXPORTER_VERSION = "2"
"""Version of the mapping written (bumped when the XML written changes meaning)."""
TARGET_NAMESPACE = "https://caseloom.dev/processes"
CATEGORY_ID = "Category_stages"
START_ID = "StartEvent"
END_ID = "EndEvent"

_ID_SAFE = re.compile(r"[A-Za-z0-9_-]")
_NCNAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")


def task_id(action_id: str) -> str:
    """The BPMN id of an action's task: ``Action_<action id>``.

    Characters not allowed in an XML id are written ``.<hex>.`` so distinct action ids
    always give distinct task ids.
    """
    safe = "".join(c if _ID_SAFE.match(c) else f".{ord(c):x}." for c in action_id)
    return f"Action_{safe}"


def compile_model(model: ProcessModel) -> bytes:
    """The BPMN 2.0 document (UTF-8, with XML declaration, indented) of ``model``.

    Raises ValueError when the model id is not a valid XML id (the process id must be the
    model id) or clashes with a generated id (``StartEvent``...), when two actions share an
    id, for working hours that are not whole minutes, for a schedule whose ``first`` has no
    UTC offset, or when a text holds characters XML cannot carry (control characters).
    """
    if not _NCNAME.match(model.id):
        raise ValueError(f"process id {model.id!r} is not a valid BPMN/XML id")
    ids = [a.id for a in model.all_actions()]
    if len(set(ids)) != len(ids):
        raise ValueError(f"action ids of {model.id!r} are not unique: {sorted(ids)}")
    root = etree.Element(
        bpmn("definitions"),
        nsmap=XML_NAMESPACES,
        id=f"Definitions_{model.id}",
        targetNamespace=TARGET_NAMESPACE,
        exporter=EXPORTER,
        exporterVersion=EXPORTER_VERSION,
    )
    process = etree.SubElement(
        root, bpmn("process"), id=model.id, name=model.name, isExecutable="true"
    )
    flow = _Flow.of(model)
    plan = flow.plan(model.id)
    diagram = layout(plan)
    etree.SubElement(process, bpmn("extensionElements")).append(_case_extension(model, flow))
    flow.emit(process, diagram)
    root.append(flow.category(diagram))
    root.append(diagram_element(plan, diagram))
    _check_unique_ids(root)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _check_unique_ids(root: etree._Element) -> None:
    """The process id is the model id: refuse one that clashes with a generated id."""
    seen: set[str] = set()
    for element in root.iter():
        ident = element.get("id") if isinstance(element.tag, str) else None
        if ident is not None:
            if ident in seen:
                raise ValueError(f"process id {ident!r} clashes with an element id of the BPMN")
            seen.add(ident)


# -- extensions --------------------------------------------------------------------------------


def _case_extension(model: ProcessModel, flow: _Flow) -> etree._Element:
    case = etree.Element(caseloom("case"), nsmap=XML_NAMESPACES)
    for attr in MODEL_ATTRS:
        _set(case, attr.xml, attr.kind, getattr(model, attr.field))
    settings = model.settings
    for attr in SETTINGS_ATTRS:
        _set(case, attr.xml, attr.kind, getattr(settings, attr.field))
    for tag, name in SETTINGS_LISTS.items():
        for item in getattr(settings, name):
            etree.SubElement(case, caseloom(tag)).text = item
    for process in settings.subcases:
        etree.SubElement(case, caseloom("subcase"), process=process)
    for route in settings.email_routes:
        etree.SubElement(
            case,
            caseloom("emailRoute"),
            mailbox=route.mailbox,
            enabled=_bool(route.enabled),
            testMode=_bool(route.test_mode),
        )
    for schedule in settings.schedules:
        element = etree.SubElement(
            case,
            caseloom("schedule"),
            every=schedule.every.text,
            first=format_schedule_start(schedule.first),
        )
        if schedule.title is not None:
            element.set("title", schedule.title)
    for calendar in model.calendars:
        case.append(_calendar(calendar))
    for data_field in model.data_fields:
        case.append(_data_field(data_field))
    for number, stage in enumerate(model.stages, start=1):
        case.append(_stage(number, stage, flow.entries[number]))
    return case


def _bool(value: bool) -> str:
    return format_attr(AttrKind.BOOL, value)


def _set(element: etree._Element, name: str, kind: AttrKind, value: object) -> None:
    if value is not None:
        element.set(name, format_attr(kind, value))


def _calendar(calendar: CalendarDef) -> etree._Element:
    element = etree.Element(caseloom("calendar"), name=calendar.name, timezone=calendar.timezone)
    if calendar.country is not None:
        element.set("country", calendar.country)
    if calendar.subdivision is not None:
        element.set("subdivision", calendar.subdivision)
    for period in calendar.periods:
        start, end = format_hours(period)
        etree.SubElement(
            element, caseloom("hours"), day=WEEKDAYS[period.weekday], start=start, end=end
        )
    for holiday in calendar.holidays:
        etree.SubElement(element, caseloom("holiday"), date=holiday.isoformat())
    return element


def _data_field(data_field: DataField) -> etree._Element:
    element = etree.Element(caseloom("dataField"), name=data_field.name, type=data_field.type)
    if data_field.label is not None:
        element.set("label", data_field.label)
    element.set("required", _bool(data_field.required))
    return element


def _stage(number: int, stage: StageDef, entry: str) -> etree._Element:
    element = etree.Element(caseloom("stage"), number=str(number), name=stage.name, entry=entry)
    if stage.condition is not None:
        element.set("condition", stage.condition)
    element.set("parallel", _bool(stage.parallel))
    for action in stage.actions:
        etree.SubElement(element, caseloom("actionRef"), {ACTION_ID: action.id})
    return element


def _action_extension(action: ActionDef, stage: int) -> etree._Element:
    element = etree.Element(caseloom("action"), {ACTION_ID: action.id, ACTION_STAGE: str(stage)})
    for attr in ACTION_ATTRS:
        _set(element, attr.xml, attr.kind, getattr(action, attr.field))
    return element


# -- flow ------------------------------------------------------------------------------------


@dataclass
class _Node:
    id: str
    tag: str
    kind: NodeKind
    name: str | None = None
    action: ActionDef | None = None
    stage: int = 0
    incoming: list[str] = field(default_factory=list)
    outgoing: list[str] = field(default_factory=list)
    default: str | None = None


@dataclass(frozen=True)
class _Edge:
    id: str
    source: str
    target: str
    condition: str | None = None
    role: EdgeRole = EdgeRole.PLAIN

    @property
    def label(self) -> str | None:
        """The text the diagram shows on the flow."""
        if self.role is EdgeRole.SKIP:
            return SKIP_LABEL
        return self.condition


@dataclass
class _Flow:
    """The flow graph of a model, built once, then laid out and written as XML."""

    nodes: list[_Node] = field(default_factory=list)
    edges: list[_Edge] = field(default_factory=list)
    stages: list[StagePlan] = field(default_factory=list)
    entries: dict[int, str] = field(default_factory=dict)
    by_id: dict[str, _Node] = field(default_factory=dict)

    @classmethod
    def of(cls, model: ProcessModel) -> _Flow:
        flow = cls()
        previous = flow.node(START_ID, "startEvent", NodeKind.EVENT).id
        for number, stage in enumerate(model.stages, start=1):
            previous = flow.stage(number, stage, previous)
        flow.node(END_ID, "endEvent", NodeKind.EVENT)
        flow.connect(previous, END_ID)
        return flow

    def node(
        self,
        ident: str,
        tag: str,
        kind: NodeKind,
        *,
        name: str | None = None,
        action: ActionDef | None = None,
        stage: int = 0,
    ) -> _Node:
        node = _Node(ident, tag, kind, name=name, action=action, stage=stage)
        self.nodes.append(node)
        self.by_id[ident] = node
        return node

    def task(self, action: ActionDef, stage: int) -> str:
        tag = "userTask"
        if action.subcase is not None:
            tag = "callActivity"
        elif action.robot:
            tag = "serviceTask"
        node = self.node(
            task_id(action.id), tag, NodeKind.TASK, name=action.title, action=action, stage=stage
        )
        return node.id

    def connect(
        self,
        source: str,
        target: str,
        *,
        condition: str | None = None,
        role: EdgeRole = EdgeRole.PLAIN,
    ) -> _Edge:
        edge = _Edge(f"Flow_{len(self.edges) + 1}", source, target, condition, role)
        self.edges.append(edge)
        self.by_id[source].outgoing.append(edge.id)
        self.by_id[target].incoming.append(edge.id)
        return edge

    def stage(self, number: int, stage: StageDef, previous: str) -> str:
        """Add one stage after ``previous``; returns the node the flow leaves the stage from.

        Only what the stage needs: an exclusive entry gateway and a merge for a condition,
        a split and a join for parallel actions. The stage's *entry* (where it starts and
        where rework restarts it) is the entry gateway, else the split, else the first task.
        """
        prefix = f"Stage_{number}"
        flow_actions = [a for a in stage.actions if a.flow]
        parallel = stage.parallel and bool(flow_actions)
        conditional = stage.condition is not None
        gateway = merge = split = join = None
        if conditional or not flow_actions:
            # (a stage with nothing in the flow and no condition is not a valid model; it
            # still gets an entry, a gateway passing straight through)
            gateway = self.node(f"{prefix}_entry", "exclusiveGateway", NodeKind.GATEWAY).id
        if parallel:
            split = self.node(f"{prefix}_split", "parallelGateway", NodeKind.GATEWAY).id
        steps = [self.task(a, number) for a in flow_actions]
        if parallel:
            join = self.node(f"{prefix}_join", "parallelGateway", NodeKind.GATEWAY).id
        if conditional:
            merge = self.node(f"{prefix}_exit", "exclusiveGateway", NodeKind.GATEWAY).id
        first = split or (steps[0] if steps else None)
        entry = gateway or first
        assert entry is not None
        self.entries[number] = entry
        self.connect(previous, entry)
        if gateway is not None and merge is not None:
            self.connect(
                gateway, first or merge, condition=stage.condition, role=EdgeRole.CONDITION
            )
            self.by_id[gateway].default = self.connect(gateway, merge, role=EdgeRole.SKIP).id
        last = self._inner(steps, split, join)
        if merge is not None:
            if last is not None:
                self.connect(last, merge)
            last = merge
        manual = [self.task(a, number) for a in stage.actions if not a.flow]
        self.stages.append(
            StagePlan(
                name=stage.name,
                group=f"{prefix}_group",
                steps=tuple(steps),
                manual=tuple(manual),
                gateway=gateway,
                merge=merge,
                split=split,
                join=join,
            )
        )
        return last or entry

    def _inner(self, steps: list[str], split: str | None, join: str | None) -> str | None:
        """Flows inside a stage; returns the node that leads out of it, if any."""
        if split is not None and join is not None:
            for step in steps:
                self.connect(split, step)
            for step in steps:
                self.connect(step, join)
            return join
        for source, target in zip(steps, steps[1:], strict=False):
            self.connect(source, target)
        return steps[-1] if steps else None

    # -- output ----------------------------------------------------------------------------

    def emit(self, process: etree._Element, diagram: Diagram) -> None:
        """Write the flow nodes, the sequence flows, then the stage groups into ``process``.

        A flow's ``name`` is the text its label shows: the condition (cut with an ellipsis
        when longer than the label's two lines; the ``conditionExpression`` keeps it whole),
        or :data:`~engine.builder.layout.SKIP_LABEL` on a stage's default flow.
        """
        for node in self.nodes:
            process.append(self._node_element(node))
        for edge in self.edges:
            element = etree.SubElement(
                process,
                bpmn("sequenceFlow"),
                id=edge.id,
                sourceRef=edge.source,
                targetRef=edge.target,
            )
            label = diagram.labels.get(edge.id)
            if label is not None:
                element.set("name", label.text)
            if edge.condition is not None:
                expression = etree.SubElement(
                    element,
                    bpmn("conditionExpression"),
                    {f"{{{XSI_NS}}}type": "bpmn:tFormalExpression"},
                )
                expression.text = edge.condition
        for number, stage in enumerate(self.stages, start=1):
            etree.SubElement(
                process, bpmn("group"), id=stage.group, categoryValueRef=_category_value(number)
            )

    def category(self, diagram: Diagram) -> etree._Element:
        """The ``bpmn:category`` whose values name the stage groups (what bpmn.io shows on
        a group)."""
        element = etree.Element(bpmn("category"), id=CATEGORY_ID)
        for number, stage in enumerate(self.stages, start=1):
            label = diagram.labels.get(stage.group)
            etree.SubElement(
                element,
                bpmn("categoryValue"),
                id=_category_value(number),
                value=label.text if label is not None else stage.name,
            )
        return element

    def _node_element(self, node: _Node) -> etree._Element:
        element = etree.Element(bpmn(node.tag), id=node.id)
        if node.name is not None:
            element.set("name", node.name)
        if node.default is not None:
            element.set("default", node.default)
        action = node.action
        if action is not None:
            if action.subcase is not None:
                element.set("calledElement", action.subcase)
            if action.instructions is not None:
                etree.SubElement(element, bpmn("documentation")).text = action.instructions
            ext = etree.SubElement(element, bpmn("extensionElements"))
            ext.append(_action_extension(action, node.stage))
        for ref in node.incoming:
            etree.SubElement(element, bpmn("incoming")).text = ref
        for ref in node.outgoing:
            etree.SubElement(element, bpmn("outgoing")).text = ref
        return element

    def plan(self, process_id: str) -> FlowPlan:
        """The layout's view of this flow."""
        return FlowPlan(
            process_id=process_id,
            start=START_ID,
            end=END_ID,
            stages=tuple(self.stages),
            kinds={n.id: n.kind for n in self.nodes},
            edges=tuple(EdgeSpec(e.id, e.source, e.target, e.role, e.label) for e in self.edges),
            titles={n.id: n.name or "" for n in self.nodes if n.kind is NodeKind.TASK},
            markers=frozenset(n.id for n in self.nodes if n.tag == "exclusiveGateway"),
        )


def _category_value(number: int) -> str:
    return f"Stage_{number}_category"
