"""The store contract: the timeline and the defects, files and links a case family shares
(``engine/runtime/sql/items.py``)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from store_backends import (
    BRUSSELS,
    T0,
    UNICODE,
    _defect,
    _file,
    _link,
    action,
    assert_utc,
    case,
    definition,
    run,
    table_rows,
)

from engine.errors import ConcurrencyConflict
from engine.runtime.records import FAULT_PARTIES, EventRecord
from engine.runtime.sql_store import SqlStore
from engine.runtime.store import StoreTransaction


# -- timeline --------------------------------------------------------------------------------
def test_events_in_time_then_id_order_with_kind_filter(seeded: SqlStore) -> None:
    with seeded.transaction() as tx:
        tx.insert_case(case("C-1"))
        tx.insert_case(case("C-2"))
        later = EventRecord("C-1", "C-1", T0 + timedelta(minutes=5), "created", "alice")
        first = EventRecord("A-1", "C-1", T0, "started", None, {"note": UNICODE, "n": [1, 2]})
        tie = EventRecord("C-1", "C-1", T0, "rework", "bob", {"stage": 2})
        foreign = EventRecord("C-2", "C-2", T0, "created", "carol")
        ids = [tx.append_event(e) for e in (later, first, tie, foreign)]
    assert ids == [later.id, first.id, tie.id, foreign.id] and ids == sorted(ids)
    with seeded.transaction() as tx:
        both = tx.events_for(["C-1", "A-1"])
        assert both == [first, tie, later]
        assert_utc(both[0])
        assert both[0].details == {"note": UNICODE, "n": [1, 2]} and both[0].by is None
        assert tx.events_for(["C-1"]) == [tie, later]
        assert tx.events_for(["C-1", "A-1"], kinds=["rework", "created"]) == [tie, later]
        assert tx.events_for(["C-1", "A-1"], kinds=[]) == []
        assert tx.events_for([]) == []
        assert tx.events_for(["nothing"]) == []


def test_events_for_many_refs_keeps_one_order(seeded: SqlStore) -> None:
    refs = [f"A-{n:04}" for n in range(700)]  # two chunks of the IN list
    with seeded.transaction() as tx:
        tx.insert_case(case("C-1"))
        for n, ref in enumerate(refs):
            # later refs happen earlier, so every chunk of the IN list interleaves
            tx.append_event(EventRecord(ref, "C-1", T0 - timedelta(seconds=n % 7), "k", None))
    with seeded.transaction() as tx:
        found = tx.events_for(refs)
    assert len(found) == len(refs)
    keys = [(e.at, e.id or 0) for e in found]
    assert keys == sorted(keys)


def test_a_stored_event_cannot_be_appended_again(seeded: SqlStore) -> None:
    with seeded.transaction() as tx:
        tx.insert_case(case("C-1"))
        event = EventRecord("C-1", "C-1", T0, "created", "alice")
        tx.append_event(event)
        with pytest.raises(ValueError, match="already stored"):
            tx.append_event(event)


# -- items a case family shares: defects, files, links (SC6, V8, V13, V14) ---------------------
def _family(store: SqlStore) -> None:
    """Root ``P`` with sub-cases ``P-1`` and ``P-1-1`` (grandchild), and another root ``Q``."""
    with store.transaction() as tx:
        tx.insert_case(case("P"))
        tx.insert_case(case("P-1", parent="P"))
        tx.insert_case(case("P-1-1", parent="P-1"))
        tx.insert_case(case("Q"))


def test_SC6_V13_defects_are_listed_per_family_root_by_id(seeded: SqlStore) -> None:
    _family(seeded)
    local = datetime(2026, 3, 2, 11, 0, 0, 42, tzinfo=BRUSSELS)
    with seeded.transaction() as tx:
        first = _defect("P", category="documents", fault_party="customer")
        from_sub = _defect(
            "P",
            "P-1-1",
            category=UNICODE,
            fault_party="service centre",
            description=f"missing page — {UNICODE}",
            resolved=True,
            created_by="Zoë",
            created_at=local,
            updated_at=local + timedelta(minutes=5),
        )
        other_family = _defect("Q")
        last = _defect("P", "P-1")
        ids = [tx.add_defect(d) for d in (first, from_sub, other_family, last)]
        # visible in the transaction that added them
        assert [d.id for d in tx.defects_of("P")] == [first.id, from_sub.id, last.id]
    assert ids == [first.id, from_sub.id, other_family.id, last.id] and ids == sorted(ids)
    with seeded.transaction() as tx:
        listed = tx.defects_of("P")
        assert listed == [first, from_sub, last]
        assert [d.case_ref for d in listed] == ["P", "P-1-1", "P-1"]
        assert listed[1].created_at == local and listed[1].resolved is True
        assert listed[0].description is None and listed[0].resolved is False
        for found in listed:
            assert_utc(found)
        assert tx.defects_of("Q") == [other_family]
        # stored on the root only: a sub-case has none of its own
        assert tx.defects_of("P-1") == [] and tx.defects_of("P-1-1") == []
        assert tx.defects_of("nothing") == []
        assert tx.get_defect(from_sub.id or 0) == from_sub
        assert tx.get_defect(999_999) is None


def test_V13_defects_can_be_marked_resolved_edited_and_deleted(seeded: SqlStore) -> None:
    _family(seeded)
    with seeded.transaction() as tx:
        kept, doomed = _defect("P"), _defect("P", "P-1")
        tx.add_defect(kept)
        tx.add_defect(doomed)
    edited = dataclasses.replace(
        kept,
        category="documents",
        fault_party="customer",
        description="now described ✓",
        resolved=True,
        updated_at=T0 + timedelta(hours=1),
    )
    with seeded.transaction() as tx:
        tx.update_defect(edited)
        assert tx.get_defect(kept.id or 0) == edited
        assert tx.delete_defect(doomed.id or 0) is True
        assert tx.delete_defect(doomed.id or 0) is False
        assert tx.get_defect(doomed.id or 0) is None
    with seeded.transaction() as tx:
        assert tx.defects_of("P") == [edited]
        assert tx.delete_defect(999_999) is False
        reopened = dataclasses.replace(edited, resolved=False, description=None)
        tx.update_defect(reopened)
    assert run(seeded, lambda tx: tx.get_defect(kept.id or 0)) == reopened


def test_V14_update_defect_never_changes_its_creator_or_where_it_was_added(
    seeded: SqlStore,
) -> None:
    _family(seeded)
    original = _defect("P", "P-1", created_by="alice")
    run(seeded, lambda tx: tx.add_defect(original))
    forged = dataclasses.replace(
        original,
        root_ref="Q",
        case_ref="Q",
        created_by="mallory",
        created_at=T0 + timedelta(days=1),
        resolved=True,
        updated_at=T0 + timedelta(hours=2),
    )
    run(seeded, lambda tx: tx.update_defect(forged))
    stored = run(seeded, lambda tx: tx.get_defect(original.id or 0))
    assert stored == dataclasses.replace(
        original, resolved=True, updated_at=T0 + timedelta(hours=2)
    )
    assert run(seeded, lambda tx: tx.defects_of("Q")) == []


def test_updating_a_deleted_or_unstored_defect_is_refused(seeded: SqlStore) -> None:
    _family(seeded)
    defect = _defect("P")
    run(seeded, lambda tx: tx.add_defect(defect))
    assert run(seeded, lambda tx: tx.delete_defect(defect.id or 0)) is True
    with pytest.raises(ConcurrencyConflict, match=f"defect {defect.id} of case P"):
        with seeded.transaction() as tx:
            tx.update_defect(defect)
    with pytest.raises(ValueError, match="not stored"), seeded.transaction() as tx:
        tx.update_defect(_defect("P"))


@pytest.mark.parametrize("party", ["Agent", "supplier", ""])
def test_V13_fault_party_is_one_of_the_three(seeded: SqlStore, party: str) -> None:
    assert FAULT_PARTIES == ("agent", "service centre", "customer")
    _family(seeded)
    with pytest.raises(sa.exc.IntegrityError), seeded.transaction() as tx:
        tx.add_defect(_defect("P", fault_party=party))
    defect = _defect("P")
    run(seeded, lambda tx: tx.add_defect(defect))
    with pytest.raises(sa.exc.IntegrityError), seeded.transaction() as tx:
        tx.update_defect(dataclasses.replace(defect, fault_party=party))
    assert run(seeded, lambda tx: tx.defects_of("P")) == [defect]


def test_SC6_files_are_listed_per_family_root_by_id(seeded: SqlStore) -> None:
    _family(seeded)
    local = datetime(2026, 3, 2, 12, 0, 0, 7, tzinfo=BRUSSELS)
    with seeded.transaction() as tx:
        first = _file("P")
        from_sub = _file(
            "P",
            "P-1-1",
            name=f"{UNICODE}.txt",
            uri="https://files.example/ü?id=1&v=2",
            media_type=None,
            added_by="Zoë",
            added_at=local,
        )
        other = _file("Q")
        ids = [tx.add_file(f) for f in (first, from_sub, other)]
        assert tx.files_of("P") == [first, from_sub]
    assert ids == [first.id, from_sub.id, other.id] and ids == sorted(ids)
    with seeded.transaction() as tx:
        listed = tx.files_of("P")
        assert listed == [first, from_sub]
        assert listed[1].added_at == local and listed[1].media_type is None
        assert_utc(listed[1])
        assert tx.files_of("Q") == [other]
        assert tx.files_of("P-1") == [] and tx.files_of("nothing") == []


def test_V8_links_of_a_case_and_links_to_an_activity(seeded: SqlStore) -> None:
    _family(seeded)
    with seeded.transaction() as tx:
        tx.insert_action(action("A-9", case_ref="Q"))
        to_q = _link("P", "Q", "created from")
        to_action = _link("P", "A-9")  # a target may be an action
        back = _link("Q", "P")
        again_to_q = _link("P", "Q")  # same target, another relation
        unknown_target = _link("P-1", "X-404")  # targets are not checked
        links = (to_q, to_action, back, again_to_q, unknown_target)
        ids = [tx.add_link(link) for link in links]
        assert tx.links_of("P") == [to_q, to_action, again_to_q]
    assert ids == [link.id for link in links] and ids == sorted(ids)
    with seeded.transaction() as tx:
        assert tx.links_of("P") == [to_q, to_action, again_to_q]
        assert_utc(tx.links_of("P")[0])
        assert tx.links_of("Q") == [back]
        assert tx.links_of("P-1") == [unknown_target]
        assert tx.links_of("P-1-1") == [] and tx.links_of("A-9") == []
        assert tx.linked_to("Q") == [to_q, again_to_q]
        assert tx.linked_to("A-9") == [to_action]
        assert tx.linked_to("P") == [back]
        assert tx.linked_to("X-404") == [unknown_target]
        assert tx.linked_to("nothing") == []


def test_the_same_link_cannot_be_added_twice(seeded: SqlStore) -> None:
    _family(seeded)
    run(seeded, lambda tx: tx.add_link(_link("P", "Q", "related")))
    with pytest.raises(sa.exc.IntegrityError), seeded.transaction() as tx:
        tx.add_link(_link("P", "Q", "related"))
    assert [link.relation for link in run(seeded, lambda tx: tx.links_of("P"))] == ["related"]


@pytest.mark.parametrize(
    "work",
    [
        lambda tx: tx.add_defect(_defect("X")),
        lambda tx: tx.add_defect(_defect("P", "X")),
        lambda tx: tx.add_file(_file("X")),
        lambda tx: tx.add_file(_file("P", "X")),
        lambda tx: tx.add_link(_link("X", "P")),
    ],
    ids=["defect-root", "defect-case", "file-root", "file-case", "link-case"],
)
def test_shared_items_of_an_unknown_case_are_refused(
    seeded: SqlStore, work: Callable[[StoreTransaction], object]
) -> None:
    _family(seeded)
    before = table_rows(seeded)
    with pytest.raises(sa.exc.IntegrityError), seeded.transaction() as tx:
        work(tx)
    assert table_rows(seeded) == before


def test_shared_items_may_precede_their_case_in_a_command(store: SqlStore) -> None:
    # foreign keys are checked at commit, as for the other tables
    with store.transaction() as tx:
        tx.add_defect(_defect("R", "R-1"))
        tx.add_file(_file("R", "R-1"))
        tx.add_link(_link("R-1", "R"))
        tx.insert_case(case("R-1", parent="R"))
        tx.insert_case(case("R"))
        tx.add_definition(definition())
    with store.transaction() as tx:
        assert [d.case_ref for d in tx.defects_of("R")] == ["R-1"]
        assert [f.case_ref for f in tx.files_of("R")] == ["R-1"]
        assert [link.target_ref for link in tx.links_of("R-1")] == ["R"]


def test_a_stored_defect_file_or_link_cannot_be_added_again(seeded: SqlStore) -> None:
    _family(seeded)
    with seeded.transaction() as tx:
        defect, file, link = _defect("P"), _file("P"), _link("P", "Q")
        tx.add_defect(defect)
        tx.add_file(file)
        tx.add_link(link)
        with pytest.raises(ValueError, match=f"DefectRecord {defect.id} is already stored"):
            tx.add_defect(defect)
        with pytest.raises(ValueError, match=f"FileRecord {file.id} is already stored"):
            tx.add_file(file)
        with pytest.raises(ValueError, match=f"LinkRecord {link.id} is already stored"):
            tx.add_link(link)
        assert len(tx.defects_of("P")) == len(tx.files_of("P")) == len(tx.links_of("P")) == 1


def test_shared_items_refuse_naive_datetimes(seeded: SqlStore) -> None:
    _family(seeded)
    naive = datetime(2026, 1, 1, 9, 0)
    for work in (
        lambda tx: tx.add_defect(_defect("P", updated_at=naive)),
        lambda tx: tx.add_file(_file("P", added_at=naive)),
        lambda tx: tx.add_link(dataclasses.replace(_link("P", "Q"), added_at=naive)),
    ):
        with pytest.raises(sa.exc.StatementError, match="naive datetime"):
            run(seeded, work)
