"""Build SpiffWorkflow specs from BPMN, refusing what caseloom cannot run safely.

Two passes over the parsed XML (see :func:`engine.builder.bpmn_xml.parse_xml`):

1. **caseloom's own check**, over every process that would run (the main process and the
   processes its call activities reach, transitively): each BPMN element must be in
   :data:`SUPPORTED_ELEMENTS` or be inert structure (documentation, lanes, flow references,
   data associations...). Script tasks, DMN, timers, messages, signals and the like are refused;
   every condition and loop expression must be accepted by the whitelisting evaluator
   (:func:`engine.expressions.parse_condition`); call activities must reach a process defined
   in the files given, without recursion; every sequence flow must join elements of its
   (sub-)process, only gateways and start events may have several outgoing flows, and each
   flow out of an exclusive or inclusive gateway needs a condition unless it is the default.
   The last three are what SpiffWorkflow's parser would refuse one at a time: checked here,
   they are all reported together. All problems are collected and raised once
   (:func:`check_bpmn` runs this pass alone).
2. **SpiffWorkflow's parser** (:class:`CaseloomParser`), run only when the first pass found
   nothing. Its ``ValidationException`` (one at a time, by design of SpiffWorkflow) becomes a
   :class:`~engine.errors.Problem` with the element's tag, id, file and line.

The specs use only SpiffWorkflow's default task classes so that the default
``BpmnWorkflowSerializer`` configuration can store and restore workflows. Service tasks (robot
actions) and call activities that start a caseloom sub-case are parsed as plain waiting
``UserTask`` specs: the engine drives robots and sub-cases and completes those steps itself.

Vendor extensions (``camunda:*``, ``spiffworkflow:*``, ``signavio:*``...) are never read, so
their scripts and expressions are never run; the ones that look executable are reported as
warnings in :attr:`SpiffSpecs.warnings`.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnParser
from SpiffWorkflow.bpmn.parser.task_parsers import CallActivityParser
from SpiffWorkflow.bpmn.parser.TaskParser import TaskParser
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.defaults import CallActivity, UserTask

from engine.builder.bpmn_xml import source_line
from engine.builder.namespaces import BPMN_NS, CASELOOM_NS, bpmn, caseloom
from engine.errors import DefinitionError, Problem
from engine.expressions import ExpressionError, parse_condition

__all__ = [
    "SUPPORTED_ELEMENTS",
    "CaseloomParser",
    "SpiffSpecs",
    "build_specs",
    "check_bpmn",
    "subcase_of",
]

#: Problem codes of this module.
CODE_UNSUPPORTED = "B001"
CODE_SCRIPT = "B002"
CODE_EXPRESSION = "B003"
CODE_TIMER = "B004"
CODE_CALLED_PROCESS = "B005"
CODE_RECURSION = "B006"
CODE_SPIFF = "B007"
CODE_PROCESS = "B008"
CODE_IGNORED_CONDITION = "B009"
CODE_DUPLICATE_PROCESS = "B010"
CODE_VENDOR_EXTENSION = "B011"
CODE_RESERVED_ID = "B012"
CODE_UNCONDITIONED_FLOW = "B013"
CODE_DANGLING_FLOW = "B014"
CODE_SPLITTING_NODE = "B015"

#: Task spec names SpiffWorkflow gives its own start and end tasks: a BPMN element with such an
#: id would silently replace them and leave a workflow that cannot start.
RESERVED_IDS = frozenset({"Start", "End"})

#: BPMN elements caseloom runs. Anything else that has behaviour is refused.
SUPPORTED_ELEMENTS: frozenset[str] = frozenset(
    {
        "bpmn:startEvent",
        "bpmn:endEvent",
        "bpmn:intermediateThrowEvent",
        "bpmn:boundaryEvent",
        "bpmn:task",
        "bpmn:userTask",
        "bpmn:manualTask",
        "bpmn:serviceTask",
        "bpmn:callActivity",
        "bpmn:subProcess",
        "bpmn:transaction",
        "bpmn:exclusiveGateway",
        "bpmn:inclusiveGateway",
        "bpmn:parallelGateway",
        "bpmn:sequenceFlow",
        "bpmn:terminateEventDefinition",
        "bpmn:errorEventDefinition",
        "bpmn:escalationEventDefinition",
        "bpmn:cancelEventDefinition",
        "bpmn:standardLoopCharacteristics",
        "bpmn:multiInstanceLoopCharacteristics",
        "bpmn:dataObject",
        "bpmn:dataObjectReference",
    }
)

#: BPMN elements without behaviour of their own: structure, annotation, references and the
#: parts of supported elements (a flow's ``conditionExpression`` is checked with its flow).
INERT_ELEMENTS: frozenset[str] = frozenset(
    {
        "bpmn:documentation",
        "bpmn:extensionElements",
        "bpmn:incoming",
        "bpmn:outgoing",
        "bpmn:laneSet",
        "bpmn:lane",
        "bpmn:childLaneSet",
        "bpmn:flowNodeRef",
        "bpmn:textAnnotation",
        "bpmn:text",
        "bpmn:association",
        "bpmn:group",
        "bpmn:category",
        "bpmn:categoryValue",
        "bpmn:conditionExpression",
        "bpmn:loopCondition",
        "bpmn:loopCardinality",
        "bpmn:completionCondition",
        "bpmn:loopDataInputRef",
        "bpmn:loopDataOutputRef",
        "bpmn:inputDataItem",
        "bpmn:outputDataItem",
        "bpmn:ioSpecification",
        "bpmn:dataInput",
        "bpmn:dataOutput",
        "bpmn:inputSet",
        "bpmn:outputSet",
        "bpmn:dataInputRefs",
        "bpmn:dataOutputRefs",
        "bpmn:dataInputAssociation",
        "bpmn:dataOutputAssociation",
        "bpmn:sourceRef",
        "bpmn:targetRef",
        "bpmn:dataState",
        "bpmn:property",
        "bpmn:performer",
        "bpmn:humanPerformer",
        "bpmn:potentialOwner",
        "bpmn:resourceRole",
        "bpmn:resourceRef",
        "bpmn:resourceAssignmentExpression",
        "bpmn:resourceParameterBinding",
        "bpmn:formalExpression",
        "bpmn:rendering",
        "bpmn:auditing",
        "bpmn:monitoring",
    }
)

_MESSAGES = "BPMN messages are not supported: the engine does not deliver them"
_WAITING_EVENTS = (
    "it waits for a timer, message, signal or condition, none of which the engine delivers"
)
_TIMERS = (
    "timer events are not supported for now: the engine owns its timers (due dates, holds, "
    "schedules), and SpiffWorkflow timers read the system clock"
)

#: Elements refused with a reason (local name -> (reason, problem code)).
_REFUSED: dict[str, tuple[str, str]] = {
    "scriptTask": ("scripts are never executed: caseloom has no eval", CODE_SCRIPT),
    "businessRuleTask": ("DMN decisions (business rule tasks) are not supported", CODE_UNSUPPORTED),
    "sendTask": (_MESSAGES, CODE_UNSUPPORTED),
    "receiveTask": (_MESSAGES, CODE_UNSUPPORTED),
    "intermediateCatchEvent": (_WAITING_EVENTS, CODE_UNSUPPORTED),
    "eventBasedGateway": (_WAITING_EVENTS, CODE_UNSUPPORTED),
    "complexGateway": ("complex gateways are not supported by SpiffWorkflow", CODE_UNSUPPORTED),
    "adHocSubProcess": (
        "ad hoc sub-processes are not supported (nothing would choose their tasks)",
        CODE_UNSUPPORTED,
    ),
    "timerEventDefinition": (_TIMERS, CODE_TIMER),
    "messageEventDefinition": (_MESSAGES, CODE_UNSUPPORTED),
    "signalEventDefinition": (
        "signal events are not supported: the engine does not deliver them",
        CODE_UNSUPPORTED,
    ),
    "conditionalEventDefinition": (
        "conditional events are not supported: the engine does not re-evaluate waiting conditions",
        CODE_UNSUPPORTED,
    ),
    "compensateEventDefinition": (
        "compensation is not supported by SpiffWorkflow",
        CODE_UNSUPPORTED,
    ),
    "linkEventDefinition": ("link events are not supported by SpiffWorkflow", CODE_UNSUPPORTED),
    "dataStoreReference": ("data stores are not supported", CODE_UNSUPPORTED),
    "script": ("scripts are never executed: caseloom has no eval", CODE_SCRIPT),
}

#: Expression-holding children checked with the condition evaluator (local names).
_EXPRESSIONS: dict[str, str] = {
    "conditionExpression": "condition",
    "loopCondition": "loop condition",
    "loopCardinality": "loop cardinality",
    "completionCondition": "completion condition",
}

_CONDITIONAL_SOURCES = frozenset({bpmn("exclusiveGateway"), bpmn("inclusiveGateway")})
#: Elements holding flow nodes and the sequence flows between them.
_CONTAINERS = frozenset({bpmn("process"), bpmn("subProcess"), bpmn("transaction")})
#: Elements that SpiffWorkflow lets have several outgoing sequence flows.
_SPLITTING = frozenset(
    bpmn(tag)
    for tag in (
        "exclusiveGateway",
        "inclusiveGateway",
        "parallelGateway",
        "eventBasedGateway",
        "complexGateway",
        "startEvent",
    )
)
_EVENT_DEFINITION = re.compile(r"EventDefinition$")
_EXECUTABLE_LOOKING = re.compile(r"script|expression|condition", re.IGNORECASE)


@dataclass(frozen=True)
class SpiffSpecs:
    """SpiffWorkflow's specs for one process: its ``BpmnProcessSpec`` and those of the
    processes it calls and of its embedded sub-processes (keyed by id), ready for
    ``BpmnWorkflow(spec, subprocess_specs, script_engine=safe_script_engine())``.

    ``warnings`` lists vendor extensions that look executable and are ignored.
    """

    spec: Any
    subprocess_specs: dict[str, Any]
    warnings: tuple[Problem, ...] = ()


# -- SpiffWorkflow parser ---------------------------------------------------------------


def subcase_of(node: etree._Element) -> str | None:
    """The sub-case process a ``bpmn:callActivity`` starts (caseloom marker), else None.

    The marker is ``<bpmn:extensionElements><caseloom:action subcase="<process id>"/>``.
    """
    for action in node.iterfind(f"{bpmn('extensionElements')}/{caseloom('action')}"):
        subcase = action.get("subcase")
        if subcase:
            return subcase
    return None


class _CaseloomCallActivityParser(CallActivityParser):  # type: ignore[misc]
    """A call activity that starts a caseloom sub-case waits as a ``UserTask``; any other
    call activity is SpiffWorkflow's standard one (its process runs inside the workflow)."""

    def create_task(self) -> Any:
        if subcase_of(self.node) is not None:
            return UserTask(self.spec, self.bpmn_id, **self.bpmn_attributes)
        return super().create_task()


class CaseloomParser(BpmnParser):  # type: ignore[misc]
    """SpiffWorkflow's ``BpmnParser`` with caseloom's mapping of robot and sub-case steps.

    Service tasks become waiting ``UserTask`` specs: robots are driven by the engine, never
    called by SpiffWorkflow.
    """

    OVERRIDE_PARSER_CLASSES = {
        bpmn("serviceTask"): (TaskParser, UserTask),
        bpmn("callActivity"): (_CaseloomCallActivityParser, CallActivity),
    }


# -- caseloom's check -------------------------------------------------------------------


def _prefixed(tag: str) -> str:
    """``bpmn:userTask`` for a BPMN tag in Clark notation, the tag itself otherwise."""
    qname = etree.QName(tag)
    return f"bpmn:{qname.localname}" if qname.namespace == BPMN_NS else tag


def _is_bpmn(node: etree._Element) -> bool:
    return isinstance(node.tag, str) and etree.QName(node).namespace == BPMN_NS


def _bpmn_children(node: etree._Element) -> Iterator[etree._Element]:
    for child in node:
        if _is_bpmn(child):
            yield child


def _describe(node: etree._Element) -> str:
    node_id = node.get("id")
    return f"{_prefixed(node.tag)} {node_id!r}" if node_id else _prefixed(node.tag)


@dataclass(frozen=True)
class _Process:
    node: etree._Element
    file: str


class _Checker:
    """caseloom's pass over the processes that would run."""

    def __init__(self, roots: Sequence[tuple[etree._Element, str]]) -> None:
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []
        self.processes: dict[str, list[_Process]] = {}
        for root, file in roots:
            for node in root.iterfind(bpmn("process")):
                self.processes.setdefault(node.get("id", ""), []).append(_Process(node, file))

    def add(
        self,
        message: str,
        node: etree._Element,
        file: str,
        code: str,
        *,
        element: etree._Element | None = None,
    ) -> None:
        """A problem at ``node``; ``element`` (default ``node``) gives the element id."""
        owner = node if element is None else element
        self.problems.append(
            Problem(
                message,
                file=file,
                line=source_line(node),
                element_id=owner.get("id", ""),
                code=code,
            )
        )

    # -- processes and calls -------------------------------------------------------------

    def check(self, process_id: str, root: etree._Element, file: str) -> None:
        """Check process ``process_id`` of ``root`` and everything it calls."""
        self._duplicates()
        main = [p for p in self.processes.get(process_id, []) if p.node.getparent() is root]
        if not main:
            known = ", ".join(sorted(pid for pid, ps in self.processes.items() if pid)) or "none"
            self.problems.append(
                Problem(
                    f"no bpmn:process with id {process_id!r} in this file (processes: {known})",
                    file=file,
                    code=CODE_PROCESS,
                )
            )
            return
        self._visit(main[0], [process_id], set())

    def _duplicates(self) -> None:
        for process_id, defined in self.processes.items():
            if len(defined) > 1:
                where = ", ".join(f"{p.file}:{source_line(p.node)}" for p in defined)
                first = defined[1]
                self.add(
                    f"bpmn:process {process_id!r} is defined more than once ({where})",
                    first.node,
                    first.file,
                    CODE_DUPLICATE_PROCESS,
                )

    def _visit(self, process: _Process, stack: list[str], done: set[str]) -> None:
        """Check one process, then the processes its call activities reach (depth first)."""
        done.add(process.node.get("id", ""))
        self._walk(process.node, process.file)
        for call in process.node.iter(bpmn("callActivity")):
            if subcase_of(call) is not None:
                continue
            called = call.get("calledElement")
            if not called:
                self.add(
                    f"{_describe(call)} has no calledElement (and no caseloom sub-case marker)",
                    call,
                    process.file,
                    CODE_CALLED_PROCESS,
                )
                continue
            if called in stack:
                cycle = " -> ".join([*stack[stack.index(called) :], called])
                self.add(
                    f"{_describe(call)} calls process {called!r} recursively ({cycle}): "
                    "recursive call activities never finish",
                    call,
                    process.file,
                    CODE_RECURSION,
                )
                continue
            targets = self.processes.get(called)
            if not targets:
                self.add(
                    f"{_describe(call)} calls process {called!r} (calledElement), which is not "
                    "defined in the files given",
                    call,
                    process.file,
                    CODE_CALLED_PROCESS,
                )
                continue
            if called not in done:
                self._visit(targets[0], [*stack, called], done)

    # -- elements ------------------------------------------------------------------------

    def _walk(self, parent: etree._Element, file: str) -> None:
        if parent.tag in _CONTAINERS:
            self._flows(parent, file)
        for node in _bpmn_children(parent):
            name = _prefixed(node.tag)
            local = etree.QName(node).localname
            if local == "extensionElements":
                self._vendor_extensions(node, parent, file)
                continue
            if local in _REFUSED:
                self._refuse(node, parent, file)
                continue
            if name not in SUPPORTED_ELEMENTS and name not in INERT_ELEMENTS:
                self.add(
                    f"{_describe(node)} is not supported by caseloom",
                    node,
                    file,
                    CODE_UNSUPPORTED,
                )
                continue
            node_id = node.get("id", "")
            if node_id in RESERVED_IDS or node_id.endswith(".EndJoin"):
                self.add(
                    f"{_describe(node)}: the id {node_id!r} is reserved by SpiffWorkflow for its "
                    "own start/end tasks; choose another id",
                    node,
                    file,
                    CODE_RESERVED_ID,
                )
            if local in _EXPRESSIONS:
                self._expression(node, parent, file)
            elif local == "sequenceFlow":
                self._sequence_flow(node, file)
            elif local == "boundaryEvent":
                self._boundary_event(node, file)
            self._foreign_attributes(node, file)
            self._walk(node, file)

    def _refuse(self, node: etree._Element, parent: etree._Element, file: str) -> None:
        local = etree.QName(node).localname
        reason, code = _REFUSED[local]
        if _EVENT_DEFINITION.search(local) or local == "script":
            self.add(
                f"{_describe(parent)} uses {_prefixed(node.tag)}, which is not supported: {reason}",
                node,
                file,
                code,
                element=parent,
            )
            return
        definitions = [
            _prefixed(child.tag)
            for child in _bpmn_children(node)
            if _EVENT_DEFINITION.search(etree.QName(child).localname)
        ]
        found = f" (it has {', '.join(definitions)})" if definitions else ""
        self.add(f"{_describe(node)} is not supported: {reason}{found}", node, file, code)

    def _expression(self, node: etree._Element, parent: etree._Element, file: str) -> None:
        """Check a condition or loop expression with the whitelisting evaluator."""
        kind = _EXPRESSIONS[etree.QName(node).localname]
        text = node.text or ""
        owner = parent
        activity = parent.getparent()
        if etree.QName(parent).localname.endswith("LoopCharacteristics") and activity is not None:
            owner = activity
        if not text.strip():
            self.add(
                f"{_describe(owner)} has an empty {kind}",
                node,
                file,
                CODE_EXPRESSION,
                element=owner,
            )
            return
        try:
            parse_condition(text)
        except ExpressionError as err:
            self.add(
                f"{_describe(owner)}: {kind} {text.strip()!r} is refused: {err}",
                node,
                file,
                CODE_EXPRESSION,
                element=owner,
            )
            return
        if kind == "loop cardinality":
            self._constant_cardinality(text.strip(), node, owner, file)

    def _constant_cardinality(
        self, text: str, node: etree._Element, owner: etree._Element, file: str
    ) -> None:
        """A constant loop cardinality must be a whole number of instances, 0 or more (a name
        is read from the case data at run time, and checked then)."""
        try:
            value = ast.literal_eval(text)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            return  # not a constant: an expression over the case data
        if type(value) is not int or value < 0:
            self.add(
                f"{_describe(owner)}: loop cardinality {text!r} is not a number of instances "
                "(a whole number, 0 or more)",
                node,
                file,
                CODE_EXPRESSION,
                element=owner,
            )

    def _sequence_flow(self, flow: etree._Element, file: str) -> None:
        """A condition on a flow that SpiffWorkflow would not evaluate is refused: on a flow
        that does not leave an exclusive or inclusive gateway, or on a gateway's default flow."""
        if flow.find(bpmn("conditionExpression")) is None:
            return
        container = flow.getparent()
        source_id = flow.get("sourceRef")
        source = None
        if container is not None and source_id:
            for candidate in container:
                if isinstance(candidate.tag, str) and candidate.get("id") == source_id:
                    source = candidate
                    break
        if source is None:
            return
        if source.tag not in _CONDITIONAL_SOURCES:
            why = (
                f"it leaves {_describe(source)}: only conditions on flows out of exclusive "
                "and inclusive gateways are evaluated"
            )
        elif source.get("default") == flow.get("id"):
            why = f"it is the default flow of {_describe(source)}, which is taken unconditionally"
        else:
            return
        self.add(
            f"{_describe(flow)} has a condition, but {why}, so the condition would be ignored",
            flow,
            file,
            CODE_IGNORED_CONDITION,
        )

    def _flows(self, container: etree._Element, file: str) -> None:
        """The sequence flows of one process or sub-process: each must join two of its
        elements; only gateways and start events may have several outgoing flows; a flow out of
        an exclusive or inclusive gateway with others beside it needs a condition unless it is
        the gateway's default. SpiffWorkflow refuses each of these, but only the first it meets.
        """
        elements = {
            node.get("id", ""): node for node in _bpmn_children(container) if node.get("id")
        }
        outgoing: dict[str, list[etree._Element]] = {}
        for flow in container.iterchildren(bpmn("sequenceFlow")):
            for attribute in ("sourceRef", "targetRef"):
                ref = flow.get(attribute)
                if ref is None or ref not in elements:
                    self.add(
                        f"{_describe(flow)}: {attribute} {ref!r} is no element of "
                        f"{_describe(container)}",
                        flow,
                        file,
                        CODE_DANGLING_FLOW,
                    )
            outgoing.setdefault(flow.get("sourceRef", ""), []).append(flow)
        for source_id, flows in outgoing.items():
            source = elements.get(source_id)
            if source is None or len(flows) < 2:
                continue
            if source.tag not in _SPLITTING:
                names = ", ".join(repr(flow.get("id", "")) for flow in flows)
                self.add(
                    f"{_describe(source)} has {len(flows)} outgoing sequence flows ({names}): "
                    "only gateways and start events may split the flow; add a parallel or "
                    "exclusive gateway after it",
                    source,
                    file,
                    CODE_SPLITTING_NODE,
                )
            elif source.tag in _CONDITIONAL_SOURCES:
                for flow in flows:
                    if flow.get("id") == source.get("default"):
                        continue
                    if flow.find(bpmn("conditionExpression")) is None:
                        self.add(
                            f"{_describe(flow)} leaves {_describe(source)} without a condition "
                            "and is not its default flow: give it a conditionExpression, or "
                            "name it in the gateway's default attribute",
                            flow,
                            file,
                            CODE_UNCONDITIONED_FLOW,
                        )

    def _boundary_event(self, event: etree._Element, file: str) -> None:
        """A boundary event needs an event definition (SpiffWorkflow only says so in a
        Python repr)."""
        for child in _bpmn_children(event):
            if _EVENT_DEFINITION.search(etree.QName(child).localname):
                return
        self.add(
            f"{_describe(event)} has no event definition, so nothing could ever trigger it",
            event,
            file,
            CODE_UNSUPPORTED,
        )

    # -- vendor extensions (ignored; warned about when they look executable) --------------

    def _vendor_extensions(
        self, extensions: etree._Element, owner: etree._Element, file: str
    ) -> None:
        for node in extensions.iter():
            if not isinstance(node.tag, str):
                continue
            qname = etree.QName(node)
            if qname.namespace in (BPMN_NS, CASELOOM_NS) or node is extensions:
                continue
            names = [qname.localname, *(etree.QName(a).localname for a in node.attrib)]
            if any(_EXECUTABLE_LOOKING.search(name) for name in names):
                self._warn(
                    f"{_describe(owner)}: vendor extension {qname.localname!r} "
                    f"({qname.namespace}) is ignored; caseloom never evaluates it",
                    node,
                    owner,
                    file,
                )

    def _foreign_attributes(self, node: etree._Element, file: str) -> None:
        for attribute in node.attrib:
            qname = etree.QName(attribute)
            if qname.namespace in (None, BPMN_NS, CASELOOM_NS):
                continue
            if _EXECUTABLE_LOOKING.search(qname.localname):
                self._warn(
                    f"{_describe(node)}: vendor attribute {qname.localname!r} "
                    f"({qname.namespace}) is ignored; caseloom never evaluates it",
                    node,
                    node,
                    file,
                )

    def _warn(self, message: str, node: etree._Element, owner: etree._Element, file: str) -> None:
        self.warnings.append(
            Problem(
                message,
                file=file,
                line=source_line(node),
                element_id=owner.get("id", ""),
                severity="warning",
                code=CODE_VENDOR_EXTENSION,
            )
        )


# -- SpiffWorkflow's errors ------------------------------------------------------------


def _find_line(
    roots: Sequence[tuple[etree._Element, str]], element_id: str, file: str
) -> int | None:
    """Line of the element with this id, looking in ``file`` first."""
    ordered = sorted(roots, key=lambda entry: entry[1] != file)
    for root, _name in ordered:
        for node in root.iter():
            if isinstance(node.tag, str) and node.get("id") == element_id:
                return source_line(node)
    return None


def _validation_problem(
    err: ValidationException, roots: Sequence[tuple[etree._Element, str]], file: str
) -> Problem:
    """SpiffWorkflow's ``ValidationException`` as a Problem (tag, id, file, line)."""
    tag = str(getattr(err, "tag", "") or "")
    element_id = str(getattr(err, "id", "") or "")
    raw_line = getattr(err, "line_number", None)
    line = raw_line if isinstance(raw_line, int) and raw_line > 0 else None
    where_file = str(getattr(err, "file_name", "") or "") or file
    if line is None and element_id:
        line = _find_line(roots, element_id, where_file)
    reason = str(err.args[0]) if err.args else str(err)
    where = f"{tag} {element_id!r}: " if tag and element_id else (f"{tag}: " if tag else "")
    return Problem(
        f"{where}SpiffWorkflow cannot parse this: {reason}",
        file=where_file,
        line=line,
        element_id=element_id,
        code=CODE_SPIFF,
    )


def check_bpmn(
    root: etree._Element,
    file: str,
    process_id: str,
    *,
    extra_roots: Sequence[tuple[etree._Element, str]] = (),
) -> tuple[Problem, ...]:
    """Every problem caseloom's own pass finds in process ``process_id`` of ``root`` and the
    processes it calls (see :func:`build_specs`), without running SpiffWorkflow's parser, which
    stops at its first error: for reporting them beside other checks of the same file."""
    checker = _Checker([(root, file), *extra_roots])
    checker.check(process_id, root, file)
    return tuple(checker.problems)


def build_specs(
    root: etree._Element,
    file: str,
    process_id: str,
    *,
    extra_roots: Sequence[tuple[etree._Element, str]] = (),
) -> SpiffSpecs:
    """SpiffWorkflow specs for process ``process_id`` of ``root`` (read from ``file``).

    ``extra_roots`` are other parsed BPMN documents (root, file name) holding processes that
    this one calls with ``bpmn:callActivity``. Raises one :class:`DefinitionError` listing
    every unsupported element, refused expression, unresolved or recursive call activity,
    or else SpiffWorkflow's own validation error.
    """
    roots: list[tuple[etree._Element, str]] = [(root, file), *extra_roots]
    checker = _Checker(roots)
    checker.check(process_id, root, file)
    if checker.problems:
        raise DefinitionError(checker.problems)

    parser = CaseloomParser()
    try:
        for document, name in roots:
            parser.add_bpmn_xml(document, filename=name)
        spec = parser.get_spec(process_id)
        subprocess_specs = parser.get_subprocess_specs(process_id)
    except ValidationException as err:
        raise DefinitionError(_validation_problem(err, roots, file)) from err
    return SpiffSpecs(spec, dict(subprocess_specs), tuple(checker.warnings))
