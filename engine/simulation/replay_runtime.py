"""What a replay asks the runtime about a case (see :mod:`engine.simulation.replay`): its open
flow actions (ad hoc ones are left out: the kernel never has them), its open sub-cases, and
the sub-case a flow step created that no simulated case is matched to yet."""

from __future__ import annotations

from collections.abc import Collection

from engine.facade import Engine
from engine.runtime.snapshots import Action, Case
from engine.runtime.status import CaseStatus

__all__ = [
    "flow_subcase",
    "open_action",
    "open_actions",
    "open_flow_actions",
    "open_subcases",
    "open_summary",
    "ref_number",
]

_OPEN = (CaseStatus.TO_DO, CaseStatus.IN_PROGRESS, CaseStatus.WAITING)


def open_actions(engine: Engine, ref: str, action_type: str) -> list[Action]:
    """The open flow actions of type ``action_type`` of case ``ref``, oldest first."""
    return sorted(
        (
            a
            for a in engine.actions(ref)
            if a.action_type == action_type and a.status in _OPEN and not a.ad_hoc
        ),
        key=lambda a: ref_number(a.ref),
    )


def open_action(
    engine: Engine, ref: str, action_type: str, status: CaseStatus | None = None
) -> Action | None:
    """The oldest of :func:`open_actions` (with ``status``, when given); None if none."""
    return next(
        (a for a in open_actions(engine, ref, action_type) if status is None or a.status is status),
        None,
    )


def open_flow_actions(engine: Engine, ref: str) -> list[Action]:
    """Every open flow action of case ``ref``."""
    return [a for a in engine.actions(ref) if a.status in _OPEN and not a.ad_hoc]


def open_subcases(engine: Engine, case: Case) -> list[str]:
    """The references of the open sub-cases of ``case``."""
    return [r for r in case.subcases if engine.case(r).status.is_open]


def open_summary(engine: Engine, ref: str) -> str:
    """The open flow actions of case ``ref`` as a message lists them (``none`` if none)."""
    found = [f"{a.action_type} {a.status.value}" for a in open_flow_actions(engine, ref)]
    return ", ".join(found) or "none"


def flow_subcase(
    engine: Engine, parent: str | None, process: object, matched: Collection[str]
) -> Case | None:
    """The first sub-case of ``process`` the flow of case ``parent`` created that is not
    ``matched`` yet; None when there is none (or no parent)."""
    if parent is None:
        return None
    for ref in engine.case(parent).subcases:
        if ref in matched:
            continue
        sub = engine.case(ref)
        if sub.process == process and sub.created_how == "flow":
            return sub
    return None


def ref_number(ref: str) -> int:
    """The number at the end of a runtime reference (``CASE-12`` -> 12; 0 if none)."""
    tail = ref.rsplit("-", 1)[-1]
    return int(tail) if tail.isdigit() else 0
