"""Defects, files and links of a case family (V8, V13, V14, SC6, SC7)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from engine import (
    CaseStatus,
    Engine,
    InvalidArgument,
    InvalidTransition,
    ManualClock,
    NotFound,
    PermissionDenied,
)

PROCESSES = Path(__file__).resolve().parents[1] / "processes"


def _engine(restrict: bool = False) -> Engine:
    engine = Engine(
        "sqlite:///:memory:",
        clock=ManualClock(datetime(2026, 3, 2, 9, tzinfo=UTC)),
        restrict_defect_editing=restrict,
    )
    for name in ("fraud_check.yaml", "claim.yaml"):
        engine.deploy(PROCESSES / name)
    return engine


def _claim_with_subcase(engine: Engine) -> tuple[str, str]:
    case = engine.create_case("claim", by="ann", submit=True)
    sub = engine.create_subcase(case.ref, "fraud_check", by="ann", calendar="office")
    return case.ref, sub.ref


def test_V13_defect_with_category_fault_party_and_resolved_flag() -> None:
    engine = _engine()
    ref = engine.create_case("claim", by="ann", submit=True).ref
    defect = engine.add_defect(
        ref, "Wrong amount", by="bob", fault_party="agent", description="Paid twice"
    )
    assert (defect.category, defect.fault_party, defect.resolved) == (
        "Wrong amount",
        "agent",
        False,
    )
    assert engine.resolve_defect(ref, defect.id, by="carl").resolved
    engine.delete_defect(ref, defect.id, by="carl")
    assert engine.defects(ref) == []
    kinds = [e.kind for e in engine.timeline(ref)]
    assert {"defect_added", "defect_resolved", "defect_deleted"} <= set(kinds)


def test_V13_only_defined_categories_and_fault_parties() -> None:
    engine = _engine()
    ref = engine.create_case("claim", by="ann", submit=True).ref
    with pytest.raises(InvalidArgument, match="category 'Typo'"):
        engine.add_defect(ref, "Typo", by="bob", fault_party="agent")
    with pytest.raises(InvalidArgument, match="fault party 'robot'"):
        engine.add_defect(ref, "Wrong amount", by="bob", fault_party="robot")
    sub = engine.create_subcase(ref, "fraud_check", by="ann", calendar="office").ref
    with pytest.raises(PermissionDenied, match="defines no defect categories"):
        engine.add_defect(sub, "Wrong amount", by="bob", fault_party="agent")
    assert engine.defects(ref) == []


def test_V13_no_defect_changes_once_the_case_is_resolved() -> None:
    engine = _engine()
    ref = engine.create_case("claim", by="ann", submit=True).ref
    defect = engine.add_defect(ref, "Late handling", by="bob", fault_party="service centre")
    engine.start_work(ref, by="bob")
    engine.resolve(ref, by="bob")
    for call in (
        lambda: engine.add_defect(ref, "Late handling", by="bob", fault_party="customer"),
        lambda: engine.resolve_defect(ref, defect.id, by="bob"),
        lambda: engine.delete_defect(ref, defect.id, by="bob"),
    ):
        with pytest.raises(InvalidTransition, match=f"case {ref} is Resolved"):
            call()
    assert [d.resolved for d in engine.defects(ref)] == [False]


def test_V14_restricted_editing_only_creator_edits_or_deletes_anyone_resolves() -> None:
    engine = _engine(restrict=True)
    ref = engine.create_case("claim", by="ann", submit=True).ref
    defect = engine.add_defect(ref, "Wrong amount", by="bob", fault_party="agent")
    with pytest.raises(PermissionDenied, match="only bob"):
        engine.update_defect(ref, defect.id, by="carl", description="x")
    with pytest.raises(PermissionDenied, match="only bob"):
        engine.delete_defect(ref, defect.id, by="carl")
    assert engine.resolve_defect(ref, defect.id, by="carl").resolved
    assert engine.update_defect(ref, defect.id, by="bob", description="y").description == "y"
    engine.delete_defect(ref, defect.id, by="bob")
    assert engine.defects(ref) == []


def test_SC6_defects_and_files_are_shared_between_parent_and_subcase() -> None:
    engine = _engine()
    parent, sub = _claim_with_subcase(engine)
    defect = engine.add_defect(parent, "Missing document", by="ann", fault_party="customer")
    engine.attach_file(parent, "photo.jpg", "s3://claims/photo.jpg", by="ann")
    assert [d.id for d in engine.defects(sub)] == [defect.id]
    engine.resolve_defect(sub, defect.id, by="sam")  # updated in the sub-case ...
    assert engine.defects(parent)[0].resolved  # ... is updated in the parent too
    engine.attach_file(sub, "report.pdf", "s3://claims/report.pdf", by="sam")
    assert [f.name for f in engine.files(parent)] == ["photo.jpg", "report.pdf"]
    assert [f.name for f in engine.files(sub)] == ["photo.jpg", "report.pdf"]


def test_V8_SC7_links_listed_apart_from_subcases() -> None:
    engine = _engine()
    parent, sub = _claim_with_subcase(engine)
    other = engine.create_case("claim", by="ann").ref
    link = engine.add_link(parent, other, by="ann")
    assert [(lk.target_ref, lk.relation) for lk in engine.links(parent)] == [(other, "related")]
    assert engine.links(sub) == [link]  # SC6: links shared with the sub-case
    assert sub not in {lk.target_ref for lk in engine.links(parent)}
    assert engine.case(parent).subcases == (sub,)
    with pytest.raises(InvalidArgument, match="already linked"):
        engine.add_link(parent, other, by="ann")
    with pytest.raises(NotFound, match="no case or action"):
        engine.add_link(parent, "C-404", by="ann")


def test_files_cannot_be_attached_to_a_cancelled_case() -> None:
    engine = _engine()
    ref = engine.create_case("claim", by="ann", submit=True).ref
    engine.cancel(ref, by="ann")
    with pytest.raises(InvalidTransition, match=f"case {ref} is {CaseStatus.CANCELLED.value}"):
        engine.attach_file(ref, "x.pdf", "s3://x.pdf", by="ann")


def test_V8_R4_a_reply_to_a_closed_case_links_the_new_activity_from_it() -> None:
    engine = _engine()
    ref = engine.create_case("claim", by="ann", submit=True).ref
    engine.cancel(ref, by="ann")
    before = engine.case(ref)
    new = engine.reply(ref, body="Any news?", sender="dana@example.com")
    assert engine.case(ref) == before
    assert [(lk.target_ref, lk.relation) for lk in engine.links(ref)] == [(new.ref, "created from")]
