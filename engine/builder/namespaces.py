"""XML namespaces used in BPMN files read and written by caseloom."""

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI_NS = "http://www.omg.org/spec/BPMN/20100524/DI"
DC_NS = "http://www.omg.org/spec/DD/20100524/DC"
DI_NS = "http://www.omg.org/spec/DD/20100524/DI"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
#: caseloom's extension namespace (settings in ``bpmn:extensionElements``).
CASELOOM_NS = "https://caseloom.dev/schema/bpmn/1"

NSMAP: dict[str | None, str] = {
    "bpmn": BPMN_NS,
    "bpmndi": BPMNDI_NS,
    "dc": DC_NS,
    "di": DI_NS,
    "xsi": XSI_NS,
    "caseloom": CASELOOM_NS,
}


def bpmn(tag: str) -> str:
    """Clark notation for a BPMN model tag: ``bpmn("task")``."""
    return f"{{{BPMN_NS}}}{tag}"


def caseloom(tag: str) -> str:
    """Clark notation for a caseloom extension tag."""
    return f"{{{CASELOOM_NS}}}{tag}"
