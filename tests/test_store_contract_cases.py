"""The store contract: cases, inbox and responsibilities, actions, workflow state, and
updates sending only what changed (``engine/runtime/sql/cases.py``)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from postgres import PostgresServer
from store_backends import (
    T0,
    UNICODE,
    action,
    assert_utc,
    case,
    definition,
    full_action,
    full_case,
    run,
    table_rows,
)

from engine.errors import ConcurrencyConflict
from engine.runtime.records import ActionRecord, CaseRecord, EventRecord
from engine.runtime.sql_store import SqlStore
from engine.runtime.status import CaseStatus, HoldKind
from engine.runtime.store import StoreTransaction
from engine.runtime.tables import cases


# -- cases ---------------------------------------------------------------------------------
def test_full_case_sets_every_field_away_from_its_default() -> None:
    blank = case("C-1")
    full = full_case("C-1")
    same = [
        item.name
        for item in dataclasses.fields(CaseRecord)
        if getattr(full, item.name) == getattr(blank, item.name)
    ]
    # the identity fields are equal on purpose; parent is tested with subcases
    assert same == ["ref", "process", "version", "parent", "row_version"]


def test_case_round_trips_every_field_in_utc(seeded: SqlStore) -> None:
    original = full_case("C-1")
    minimal = case("C-2")
    with seeded.transaction() as tx:
        tx.insert_case(original)
        tx.insert_case(minimal)
    assert original.row_version == minimal.row_version == 1
    with seeded.transaction() as tx:
        loaded = tx.get_case("C-1")
        loaded_minimal = tx.get_case("C-2")
        assert tx.get_case("C-3") is None
    assert loaded == original
    assert loaded_minimal == minimal
    assert loaded is not None and loaded_minimal is not None
    assert loaded.status is CaseStatus.WAITING and loaded.hold_kind is HoldKind.MORE_INFO
    assert loaded_minimal.hold_kind is None and loaded_minimal.title is None
    assert loaded_minimal.data == {} and loaded_minimal.contacts == []
    assert isinstance(loaded.due_overridden, bool) and isinstance(loaded.sla_remaining, float)
    assert_utc(loaded)
    assert_utc(loaded_minimal)
    assert loaded.created_at == datetime(2026, 3, 2, 10, 0, 0, 999999, tzinfo=UTC)


def test_update_case_writes_every_field_and_bumps_row_version(seeded: SqlStore) -> None:
    run(seeded, lambda tx: tx.insert_case(case("C-1")))
    changed = full_case("C-1")
    changed.row_version = 1
    run(seeded, lambda tx: tx.update_case(changed))
    assert changed.row_version == 2
    loaded = run(seeded, lambda tx: tx.get_case("C-1"))
    assert loaded == changed
    assert loaded is not None
    loaded.title = None
    loaded.data = {}
    loaded.hold_kind = None
    run(seeded, lambda tx: tx.update_case(loaded))
    assert run(seeded, lambda tx: tx.get_case("C-1")) == loaded
    assert loaded.row_version == 3


def test_stale_case_update_raises_conflict_and_writes_nothing(seeded: SqlStore) -> None:
    run(seeded, lambda tx: tx.insert_case(case("C-1")))
    first = run(seeded, lambda tx: tx.get_case("C-1"))
    second = run(seeded, lambda tx: tx.get_case("C-1"))
    assert first is not None and second is not None
    second.title = "second writer"
    run(seeded, lambda tx: tx.update_case(second))
    before = table_rows(seeded)

    first.title = "first writer"
    with pytest.raises(ConcurrencyConflict, match="C-1"), seeded.transaction() as tx:
        tx.append_event(EventRecord("C-1", "C-1", T0, "renamed", "alice"))
        tx.insert_action(action("A-1"))
        tx.next_number("case")
        tx.update_case(first)

    assert first.row_version == 1
    assert table_rows(seeded) == before
    loaded = run(seeded, lambda tx: tx.get_case("C-1"))
    assert loaded is not None and loaded.title == "second writer" and loaded.row_version == 2


def test_update_of_a_missing_case_is_a_conflict(seeded: SqlStore) -> None:
    with pytest.raises(ConcurrencyConflict, match="C-404"), seeded.transaction() as tx:
        tx.update_case(case("C-404", row_version=1))


def test_case_of_an_undeployed_definition_is_refused(store: SqlStore) -> None:
    with pytest.raises(sa.exc.IntegrityError), store.transaction() as tx:
        tx.insert_case(case("C-1", process="ghost"))
    assert run(store, lambda tx: tx.get_case("C-1")) is None


def test_rows_of_one_command_may_be_written_in_any_order(store: SqlStore) -> None:
    # foreign keys are checked at commit: an event or action may precede its case
    with store.transaction() as tx:
        tx.append_event(EventRecord("C-1", "C-1", T0, "created", "alice"))
        tx.insert_action(action("A-1"))
        tx.insert_case(case("C-1-1", parent="C-1"))
        tx.insert_case(case("C-1"))
        tx.add_definition(definition())
    with store.transaction() as tx:
        assert [c.ref for c in tx.subcases_of("C-1")] == ["C-1-1"]
        assert [a.ref for a in tx.actions_of("C-1")] == ["A-1"]


def test_naive_datetimes_are_refused(seeded: SqlStore) -> None:
    with pytest.raises(sa.exc.StatementError, match="naive datetime") as err:
        with seeded.transaction() as tx:
            tx.insert_case(case("C-1", created_at=datetime(2026, 1, 1, 9, 0)))
    assert isinstance(err.value.orig, ValueError)


def test_SC10_subcases_in_creation_order(seeded: SqlStore) -> None:
    with seeded.transaction() as tx:
        tx.insert_case(case("P"))
        tx.insert_case(case("Q"))
        for n in range(1, 12):
            tx.insert_case(case(f"P-{n}", parent="P"))
        tx.insert_case(case("Q-1", parent="Q"))
        tx.insert_case(case("P-12", parent="P", created_at=T0 + timedelta(seconds=1)))
    with seeded.transaction() as tx:
        assert [c.ref for c in tx.subcases_of("P")] == [f"P-{n}" for n in range(1, 13)]
        assert [c.ref for c in tx.subcases_of("Q")] == ["Q-1"]
        assert tx.subcases_of("P-1") == []
        assert all(c.parent == "P" for c in tx.subcases_of("P"))


def test_subcase_of_an_unknown_parent_is_refused(seeded: SqlStore) -> None:
    with pytest.raises(sa.exc.IntegrityError), seeded.transaction() as tx:
        tx.insert_case(case("X-1", parent="X"))


# -- inbox and responsibilities (H8) ---------------------------------------------------------
INBOX_CASES: list[tuple[str, CaseStatus, str | None, str | None]] = [
    # ref, status, assignee, owner
    ("C-09", CaseStatus.TO_DO, "alice", "dave"),
    ("C-08", CaseStatus.IN_PROGRESS, "alice", None),
    ("C-07", CaseStatus.WAITING, "alice", "bob"),
    ("C-06", CaseStatus.WAITING, None, "alice"),
    ("C-05", CaseStatus.WAITING, "bob", "alice"),
    ("C-04", CaseStatus.TO_DO, None, "alice"),
    ("C-03", CaseStatus.RESOLVED, "alice", "alice"),
    ("C-02", CaseStatus.CLOSED, "alice", None),
    ("C-01", CaseStatus.CANCELLED, "alice", None),
    ("C-00", CaseStatus.DRAFT, "alice", None),
    ("C-10", CaseStatus.TO_DO, "bob", None),
    ("C-11", CaseStatus.WAITING, None, None),
]


def test_H8_inbox_and_responsibilities_follow_status_assignee_and_owner(seeded: SqlStore) -> None:
    with seeded.transaction() as tx:
        for ref, status, assignee, owner in INBOX_CASES:
            tx.insert_case(case(ref, status=status, assignee=assignee, owner=owner))
    with seeded.transaction() as tx:
        assert [c.ref for c in tx.inbox("alice")] == ["C-08", "C-09"]
        assert [c.ref for c in tx.responsibilities("alice")] == ["C-06", "C-07"]
        assert [c.ref for c in tx.inbox("bob")] == ["C-10"]
        assert [c.ref for c in tx.responsibilities("bob")] == ["C-05"]
        assert [c.ref for c in tx.inbox("dave")] == []
        assert [c.ref for c in tx.responsibilities("dave")] == []
        assert tx.inbox("nobody") == tx.responsibilities("nobody") == []
        full = tx.inbox("alice")[0]
    assert full == case("C-08", status=CaseStatus.IN_PROGRESS, assignee="alice", row_version=1)


def test_H8_inbox_and_responsibilities_never_overlap(seeded: SqlStore) -> None:
    users = ["alice", "bob", "carol"]
    with seeded.transaction() as tx:
        n = 0
        for status in CaseStatus:
            for assignee in [None, *users]:
                for owner in [None, *users]:
                    n += 1
                    tx.insert_case(case(f"C-{n:03}", status=status, assignee=assignee, owner=owner))
    with seeded.transaction() as tx:
        for user in users:
            inbox = {c.ref for c in tx.inbox(user)}
            mine = {c.ref for c in tx.responsibilities(user)}
            assert inbox and mine and not inbox & mine
            assert len(inbox) == 2 * 4  # To Do + In Progress, any owner
            assert len(mine) == 4 + 1  # assigned (any owner), or unassigned and owned


def test_H8_a_hold_moves_the_case_from_inbox_to_responsibilities(seeded: SqlStore) -> None:
    run(seeded, lambda tx: tx.insert_case(case("C-1", assignee="alice")))
    held = run(seeded, lambda tx: tx.get_case("C-1"))
    assert held is not None
    held.status = CaseStatus.WAITING
    run(seeded, lambda tx: tx.update_case(held))
    with seeded.transaction() as tx:
        assert tx.inbox("alice") == [] and [c.ref for c in tx.responsibilities("alice")] == ["C-1"]


ODD_REFS = ["c-3", "C_1", "C.1", "C-1-2", "C-10", "CASE-2", "B-9", "C-1a", "É-1", "C-2"]


def _assert_text_sorts_by_code_point(store: SqlStore) -> None:
    with store.transaction() as tx:
        for process in ("zeta", "Alpha", "_beta", "alpha"):
            tx.add_definition(definition(process))
        for ref in ODD_REFS:
            tx.insert_case(case(ref, assignee="alice"))
            tx.insert_case(case(f"W{ref}", status=CaseStatus.WAITING, owner="alice"))
            tx.insert_action(action(f"A{ref}", case_ref=ODD_REFS[0], seq=1))
    with store.transaction() as tx:
        assert [c.ref for c in tx.inbox("alice")] == sorted(ODD_REFS)
        assert [c.ref for c in tx.responsibilities("alice")] == sorted(f"W{r}" for r in ODD_REFS)
        assert [a.ref for a in tx.actions_of(ODD_REFS[0])] == sorted(f"A{r}" for r in ODD_REFS)
        assert [p for p, _ in tx.definition_keys()] == ["Alpha", "_beta", "alpha", "claims", "zeta"]


def test_refs_and_names_sort_by_code_point(seeded: SqlStore) -> None:
    _assert_text_sorts_by_code_point(seeded)


def test_refs_sort_by_code_point_whatever_the_postgres_collation(
    postgres_server: PostgresServer,
) -> None:
    icu = "TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.utf8'"
    with SqlStore(postgres_server.new_database(icu)) as store:
        with store.engine.connect() as connection:
            collated = connection.exec_driver_sql(
                "SELECT x FROM unnest(ARRAY['C-1', 'C_1']) AS x ORDER BY x"
            ).scalars()
            assert list(collated) == ["C_1", "C-1"]  # the database's own order is not ours
        run(store, lambda tx: tx.add_definition(definition()))
        _assert_text_sorts_by_code_point(store)


# -- actions -------------------------------------------------------------------------------
def test_full_action_sets_every_field_away_from_its_default() -> None:
    blank = action("A-1")
    full = full_action("A-1")
    same = [
        item.name
        for item in dataclasses.fields(ActionRecord)
        if getattr(full, item.name) == getattr(blank, item.name)
    ]
    assert same == ["ref", "case_ref", "row_version"]


def test_actions_round_trip_update_and_list_in_seq_order(seeded: SqlStore) -> None:
    full = full_action("A-7")
    with seeded.transaction() as tx:
        tx.insert_case(case("C-1"))
        tx.insert_case(case("C-2"))
        tx.insert_action(full)
        tx.insert_action(action("A-3", seq=3))
        tx.insert_action(action("A-1", seq=1))
        tx.insert_action(action("A-9", case_ref="C-2", seq=2))
    assert full.row_version == 1
    with seeded.transaction() as tx:
        loaded = tx.get_action("A-7")
        assert loaded == full
        assert loaded is not None and loaded.status is CaseStatus.IN_PROGRESS
        assert_utc(loaded)
        assert tx.get_action("A-404") is None
        assert [a.ref for a in tx.actions_of("C-1")] == ["A-1", "A-3", "A-7"]
        assert [a.ref for a in tx.actions_of("C-2")] == ["A-9"]
        assert tx.actions_of("C-3") == []
        loaded.status = CaseStatus.RESOLVED
        loaded.error = None
        tx.update_action(loaded)
    assert loaded.row_version == 2
    assert run(seeded, lambda tx: tx.get_action("A-7")) == loaded


def test_stale_action_update_raises_conflict(seeded: SqlStore) -> None:
    with seeded.transaction() as tx:
        tx.insert_case(case("C-1"))
        tx.insert_action(action("A-1"))
    first = run(seeded, lambda tx: tx.get_action("A-1"))
    second = run(seeded, lambda tx: tx.get_action("A-1"))
    assert first is not None and second is not None
    second.assignee = "bob"
    run(seeded, lambda tx: tx.update_action(second))
    first.assignee = "carol"
    with pytest.raises(ConcurrencyConflict, match="A-1.*C-1"), seeded.transaction() as tx:
        tx.update_action(first)
    loaded = run(seeded, lambda tx: tx.get_action("A-1"))
    assert loaded is not None and loaded.assignee == "bob" and loaded.row_version == 2


# -- workflow state ---------------------------------------------------------------------------
def test_workflow_state_is_stored_replaced_and_kept_per_case(seeded: SqlStore) -> None:
    big = '{"tasks": "' + UNICODE * 5000 + '"}'
    with seeded.transaction() as tx:
        tx.insert_case(case("C-1"))
        tx.insert_case(case("C-2"))
        assert tx.get_workflow("C-1") is None
        tx.put_workflow("C-1", '{"v": 1}')
        tx.put_workflow("C-2", big)
    with seeded.transaction() as tx:
        assert tx.get_workflow("C-1") == '{"v": 1}'
        tx.put_workflow("C-1", '{"v": 2}')
    with seeded.transaction() as tx:
        assert tx.get_workflow("C-1") == '{"v": 2}'
        assert tx.get_workflow("C-2") == big
        assert tx.get_workflow("C-3") is None


# -- prepared statements and partial updates ---------------------------------------------------
def _updates_sent(store: SqlStore, work: Callable[[StoreTransaction], object]) -> list[str]:
    """The UPDATE statements ``work`` sends (a listener: they go through SQLAlchemy)."""
    sent: list[str] = []

    def capture(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("UPDATE"):
            sent.append(" ".join(statement.split()))

    sa.event.listen(store.engine, "before_cursor_execute", capture)
    try:
        run(store, work)
    finally:
        sa.event.remove(store.engine, "before_cursor_execute", capture)
    return sent


def _set_columns(update: str) -> set[str]:
    """The column names of an UPDATE's SET clause."""
    assignments = update.split(" SET ", 1)[1].split(" WHERE ", 1)[0]
    return {part.split("=", 1)[0].strip() for part in assignments.split(", ")}


def test_an_update_sends_only_the_columns_changed_since_read(seeded: SqlStore) -> None:
    run(seeded, lambda tx: tx.insert_case(full_case("C-1")))
    run(seeded, lambda tx: tx.insert_action(full_action("A-1")))

    def work(tx: StoreTransaction) -> None:
        loaded = tx.get_case("C-1")
        assert loaded is not None
        loaded.title = "renamed"
        loaded.data["amount"] = 99  # changed in place: JSON columns are always written
        tx.update_case(loaded)
        loaded.status = CaseStatus.RESOLVED
        tx.update_case(loaded)
        [first] = tx.actions_of("C-1")
        first.error = None
        tx.update_action(first)

    rename, resolve, fix = _updates_sent(seeded, work)
    assert _set_columns(rename) == {"title", "data", "contacts", "row_version"}, rename
    assert _set_columns(resolve) == {"status", "data", "contacts", "row_version"}, resolve
    assert _set_columns(fix) == {"error", "row_version"}, fix
    stored = run(seeded, lambda tx: tx.get_case("C-1"))
    assert stored is not None
    assert (stored.title, stored.status, stored.data["amount"]) == (
        "renamed",
        CaseStatus.RESOLVED,
        99,
    )
    assert stored.row_version == 3
    expected = dataclasses.replace(full_case("C-1"), title="renamed", status=CaseStatus.RESOLVED)
    expected.data["amount"] = 99
    expected.row_version = 3
    assert stored == expected
    action_row = run(seeded, lambda tx: tx.get_action("A-1"))
    assert action_row is not None and action_row.error is None and action_row.row_version == 2


def test_a_record_not_read_in_the_transaction_is_written_whole(seeded: SqlStore) -> None:
    run(seeded, lambda tx: tx.insert_case(case("C-1")))
    loaded = run(seeded, lambda tx: tx.get_case("C-1"))
    assert loaded is not None
    loaded.owner = "zoe"
    [sent] = _updates_sent(seeded, lambda tx: tx.update_case(loaded))
    assert _set_columns(sent) == {column.name for column in cases.columns} - {"ref"}
    assert run(seeded, lambda tx: tx.get_case("C-1")) == loaded
