"""Prosimos gateway branches (``gateway_branching_probabilities``) as
:attr:`~engine.simulation.scenario_model.ProcessParams.branches`.

Each entry gives an exclusive gateway of the BPMN the probability of each of its outgoing
flows; flows without ``value`` share what is left (Prosimos does the same) and the sum must
be 1 (within 1e-6). Every exclusive gateway that splits needs an entry. See
``docs/prosimos.md``.
"""

from __future__ import annotations

from typing import Any

from engine.simulation.graph import FlowGraph, NodeKind
from engine.simulation.prosimos_json import JsonReader, join_path, string_values

__all__ = ["read_branches"]


def read_branches(
    root: dict[str, Any], reader: JsonReader, graph: FlowGraph | None
) -> dict[str, tuple[tuple[str, float], ...]]:
    """Per exclusive gateway, its (flow, probability) pairs (checked against ``graph`` when
    the BPMN could be read)."""
    branches: dict[str, tuple[tuple[str, float], ...]] = {}
    value = reader.required(root, "gateway_branching_probabilities", "")
    if value is None:
        return branches
    for path, entry in reader.objects(value, "gateway_branching_probabilities"):
        gateway = reader.text(entry, "gateway_id", path)
        members = reader.required(entry, "probabilities", path)
        if gateway is None or members is None:
            continue
        flows = _gateway_flows(gateway, join_path(path, "gateway_id"), reader, graph)
        if gateway in branches:
            reader.add(
                join_path(path, "gateway_id"), f"gateway {gateway!r} is listed twice", gateway
            )
            continue
        choice = _probabilities(members, join_path(path, "probabilities"), reader, flows, gateway)
        if choice is not None and flows is not None:
            branches[gateway] = choice
    if graph is not None:
        for node in graph.nodes.values():
            if node.kind == NodeKind.XOR and len(node.outgoing) > 1 and node.id not in branches:
                if node.id not in string_values(value, "gateway_id"):
                    reader.add(
                        "gateway_branching_probabilities",
                        f"exclusive gateway {node.id!r} splits but has no branching probabilities",
                        node.id,
                    )
    return branches


def _gateway_flows(
    gateway: str, path: str, reader: JsonReader, graph: FlowGraph | None
) -> set[str] | None:
    """The outgoing flow ids of an exclusive gateway of the BPMN; None (reported) otherwise."""
    if graph is None:
        return None
    node = graph.nodes.get(gateway)
    if node is None:
        reader.add(path, f"gateway {gateway!r} is not in the BPMN", gateway)
        return None
    if node.kind != NodeKind.XOR:
        reader.add(
            path,
            f"{gateway!r} is a {node.kind.name} node; branching probabilities apply to "
            "exclusive gateways",
            gateway,
        )
        return None
    return {f.id for f in node.outgoing}


def _probabilities(
    members: object, path: str, reader: JsonReader, flows: set[str] | None, gateway: str
) -> tuple[tuple[str, float], ...] | None:
    """(flow, probability) pairs; flows without ``value`` share what is left, as in Prosimos."""
    pairs: list[tuple[str, float | None]] = []
    ok = True
    for item_path, item in reader.objects(members, path):
        flow = reader.text(item, "path_id", item_path)
        if flow is None:
            ok = False
            continue
        if flows is not None and flow not in flows:
            reader.add(
                join_path(item_path, "path_id"),
                f"{flow!r} is not an outgoing flow of gateway {gateway!r}",
                gateway,
            )
            ok = False
        if any(flow == f for f, _ in pairs):
            reader.add(join_path(item_path, "path_id"), f"flow {flow!r} is listed twice", gateway)
            ok = False
        probability: float | None = None
        if "value" in item:
            probability = reader.number(item["value"], join_path(item_path, "value"))
            if probability is None:
                ok = False
            elif not 0 <= probability <= 1:
                reader.add(
                    join_path(item_path, "value"), f"probability {probability:g} is not in [0, 1]"
                )
                ok = False
        pairs.append((flow, probability))
    if not isinstance(members, list) or not ok:
        return None
    if not pairs:
        reader.add(path, f"gateway {gateway!r} lists no flows", gateway)
        return None
    given = sum(p for _, p in pairs if p is not None)
    missing = sum(1 for _, p in pairs if p is None)
    share = (1 - given) / missing if missing else 0.0
    result = tuple((f, share if p is None else p) for f, p in pairs)
    total = sum(p for _, p in result)
    if share < 0 or abs(total - 1) > 1e-6:
        reader.add(path, f"probabilities of gateway {gateway!r} sum to {total:g}, not 1", gateway)
        return None
    return result
