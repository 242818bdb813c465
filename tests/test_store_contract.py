"""The store contract (engine/runtime/store.py), run against every backend.

This module: transactions (rollback, visibility), two stores and two threads at once, the
query plans of the lists, URLs, and the two execution paths (prepared statements on the DBAPI
cursor, SQLAlchemy's execute). The methods by group of tables: test_store_contract_definitions,
_cases, _timers and _items. Backends (SQLite in memory, SQLite file, PostgreSQL 15) and record
builders: tests/store_backends.py.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest
import sqlalchemy as sa
from store_backends import (
    DAILY,
    HOURLY,
    T0,
    Boom,
    _defect,
    _empty_tables,
    _file,
    _link,
    _register,
    _timer,
    action,
    case,
    definition,
    full_action,
    full_case,
    run,
    table_rows,
)

from engine.errors import ConcurrencyConflict
from engine.runtime.records import EventRecord
from engine.runtime.sql_store import SqlStore
from engine.runtime.status import CaseStatus
from engine.runtime.store import StoreTransaction
from engine.runtime.tables import cases

R = TypeVar("R")


# -- transactions ----------------------------------------------------------------------------
def test_rollback_leaves_every_row_identical_and_reraises(seeded: SqlStore) -> None:
    with seeded.transaction() as tx:
        tx.insert_case(case("C-1"))
        tx.insert_action(action("A-1"))
        tx.put_workflow("C-1", "{}")
        tx.add_timer(_timer("C-1", 0))
        tx.add_timer(_timer("C-1", 1))
        tx.append_event(EventRecord("C-1", "C-1", T0, "created", "alice"))
        tx.next_number("case")
        kept = _defect("C-1")
        tx.add_defect(kept)
        tx.add_defect(_defect("C-1", category="doomed"))
        tx.add_file(_file("C-1"))
        tx.add_link(_link("C-1", "C-7"))
        [daily, _] = tx.register_schedules("claims", 1, [DAILY, HOURLY])
    before = table_rows(seeded)
    assert all(before.values()), "every table holds a row"
    boom = Boom("stop")
    with pytest.raises(Boom) as raised, seeded.transaction() as tx:
        tx.add_definition(definition("claims", 2))
        tx.next_number("case")
        tx.next_number("new")
        loaded = tx.get_case("C-1")
        assert loaded is not None
        loaded.title = "changed"
        tx.update_case(loaded)
        tx.insert_case(case("C-2"))
        loaded_action = tx.get_action("A-1")
        assert loaded_action is not None
        loaded_action.status = CaseStatus.RESOLVED
        tx.update_action(loaded_action)
        tx.insert_action(action("A-2"))
        tx.put_workflow("C-1", '{"changed": true}')
        tx.put_workflow("C-2", "{}")
        pending = tx.pending_timers("C-1")
        assert tx.mark_fired(pending[0].id or 0, T0)
        tx.cancel_timers("C-1")
        tx.add_timer(_timer("C-2", 0))
        tx.append_event(EventRecord("C-1", "C-1", T0, "renamed", "alice"))
        kept.resolved = True
        tx.update_defect(kept)
        [_, doomed] = tx.defects_of("C-1")
        assert tx.delete_defect(doomed.id or 0)
        tx.add_defect(_defect("C-2"))
        tx.add_file(_file("C-2"))
        tx.add_link(_link("C-2", "C-1"))
        assert tx.advance_schedule(daily.id or 0, T0, T0 + timedelta(days=1))
        assert len(tx.register_schedules("claims", 2, [DAILY])) == 1  # stops version 1's
        raise boom
    assert raised.value is boom
    assert table_rows(seeded) == before


def test_work_is_visible_inside_its_transaction(seeded: SqlStore) -> None:
    with seeded.transaction() as tx:
        tx.insert_case(case("C-1", assignee="alice"))
        assert [c.ref for c in tx.inbox("alice")] == ["C-1"]
        tx.add_timer(_timer("C-1", 0))
        assert len(tx.due_timers(T0)) == 1


# -- two stores, two threads -------------------------------------------------------------------
def test_a_second_store_sees_what_the_first_wrote(shared_url: str) -> None:
    with SqlStore(shared_url) as first:
        with first.transaction() as tx:
            tx.add_definition(definition())
            tx.insert_case(full_case("C-1"))
            tx.put_workflow("C-1", '{"w": 1}')
            tx.next_number("case")
        with SqlStore(shared_url) as second:
            with second.transaction() as tx:
                assert tx.get_case("C-1") == dataclasses.replace(full_case("C-1"), row_version=1)
                assert tx.get_workflow("C-1") == '{"w": 1}'
                assert tx.definition_keys() == [("claims", 1)]
                assert tx.next_number("case") == 2
                stale = tx.get_case("C-1")
            assert stale is not None
            with first.transaction() as tx:
                fresh = tx.get_case("C-1")
                assert fresh is not None
                tx.update_case(fresh)
            with pytest.raises(ConcurrencyConflict), second.transaction() as tx:
                tx.update_case(stale)
    with SqlStore(shared_url) as reopened, reopened.transaction() as tx:
        assert tx.next_number("case") == 3


def test_concurrent_transactions_on_postgres_conflict_on_the_second_write(
    postgres_store_url: str,
) -> None:
    _empty_tables(postgres_store_url)
    with SqlStore(postgres_store_url) as store:
        with store.transaction() as tx:
            tx.add_definition(definition())
            tx.insert_case(case("C-1"))
        # both transactions are open at once and read the same row version
        with pytest.raises(ConcurrencyConflict, match="C-1"), store.transaction() as slow:
            mine = slow.get_case("C-1")
            with store.transaction() as fast:
                theirs = fast.get_case("C-1")
                assert theirs is not None
                theirs.title = "fast"
                fast.update_case(theirs)
            assert mine is not None
            mine.title = "slow"
            slow.append_event(EventRecord("C-1", "C-1", T0, "renamed", "alice"))
            slow.update_case(mine)
        with store.transaction() as tx:
            loaded = tx.get_case("C-1")
            assert loaded is not None and loaded.title == "fast" and loaded.row_version == 2
            assert tx.events_for(["C-1"]) == []


def _in_threads(count: int, work: Callable[[int], R]) -> list[R]:
    """Run ``work(i)`` in ``count`` threads started together; their results in order."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count
    errors: list[BaseException] = []

    def target(i: int) -> None:
        barrier.wait()
        try:
            results[i] = work(i)
        except BaseException as error:  # reported below, in the test's thread
            errors.append(error)

    threads = [threading.Thread(target=target, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    if errors:
        raise errors[0]
    return results


def _stores_for_threads(url: str, store: SqlStore, count: int) -> list[SqlStore]:
    """One store per thread (two engines), or the one in-memory store shared by all."""
    if url == "sqlite://":
        return [store] * count
    return [store] + [SqlStore(url) for _ in range(count - 1)]


def test_two_engines_racing_fire_a_timer_once(url: str, seeded: SqlStore) -> None:
    with seeded.transaction() as tx:
        tx.insert_case(case("C-1"))
        tx.add_timer(_timer("C-1", 0))
    stores = _stores_for_threads(url, seeded, 2)

    def tick(i: int) -> int:
        fired = 0
        with stores[i].transaction() as tx:
            for timer in tx.due_timers(T0):
                fired += tx.mark_fired(timer.id or 0, T0)
        return fired

    try:
        assert sorted(_in_threads(2, tick)) == [0, 1]
    finally:
        for extra in stores[1:]:
            if extra is not seeded:
                extra.close()


def test_C1_two_engines_racing_advance_a_schedule_once(url: str, store: SqlStore) -> None:
    [daily] = _register(store, "claims", 1, DAILY)
    stores = _stores_for_threads(url, store, 2)

    def tick(i: int) -> int:
        fired = 0
        with stores[i].transaction() as tx:
            for due in tx.due_schedules(T0):
                fired += tx.advance_schedule(due.id or 0, due.next_at, due.next_at + timedelta(1))
        return fired

    try:
        assert sorted(_in_threads(2, tick)) == [0, 1]
    finally:
        for extra in stores[1:]:
            if extra is not store:
                extra.close()
    assert run(store, lambda tx: tx.schedules_of("claims")) == [
        dataclasses.replace(daily, next_at=T0 + timedelta(days=1))
    ]


def test_two_engines_updating_one_case_lose_no_update(url: str, seeded: SqlStore) -> None:
    run(seeded, lambda tx: tx.insert_case(case("C-1", data={"n": 0})))
    stores = _stores_for_threads(url, seeded, 2)
    rounds = 15

    def bump(i: int) -> int:
        conflicts = 0
        for _ in range(rounds):
            while True:
                try:
                    with stores[i].transaction() as tx:
                        loaded = tx.get_case("C-1")
                        assert loaded is not None
                        loaded.data = {"n": loaded.data["n"] + 1}
                        tx.update_case(loaded)
                    break
                except ConcurrencyConflict:
                    conflicts += 1
        return conflicts

    try:
        _in_threads(2, bump)
    finally:
        for extra in stores[1:]:
            if extra is not seeded:
                extra.close()
    loaded = run(seeded, lambda tx: tx.get_case("C-1"))
    assert loaded is not None
    assert loaded.data == {"n": 2 * rounds} and loaded.row_version == 1 + 2 * rounds


# -- the inbox query uses its index ---------------------------------------------------------
def _bulk_cases(store: SqlStore, count: int) -> None:
    """``count`` cases of 200 users, fast: one case goes through the store, the others copy
    its stored row (so they are in the database's own format) with other refs and people."""
    run(store, lambda tx: tx.insert_case(case("C-template")))
    names = [column.name for column in cases.columns]
    where = {name: names.index(name) for name in ("ref", "status", "assignee", "owner", "parent")}
    with store.engine.begin() as connection:
        template = list(connection.exec_driver_sql("SELECT * FROM cases").one())
        users = [f"user{n}" for n in range(200)]
        statuses = [status.value for status in CaseStatus]
        rows = []
        for n in range(count):
            row = list(template)
            row[where["ref"]] = f"C-{n:06}"
            row[where["status"]] = statuses[n % len(statuses)]
            row[where["assignee"]] = users[n % len(users)] if n % 3 else None
            row[where["owner"]] = users[(n * 7) % len(users)]
            row[where["parent"]] = f"C-{n - 1:06}" if n % 4 == 3 else None
            rows.append(tuple(row))
        marks = ", ".join("?" for _ in names)
        connection.exec_driver_sql(f"INSERT INTO cases VALUES ({marks})", rows)


def _plans_of(store: SqlStore, work: Callable[[StoreTransaction], object]) -> list[str]:
    """SQLite's EXPLAIN QUERY PLAN of every statement ``work`` runs."""
    statements: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, statement: str, params: Any, *args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append((statement, params))

    sa.event.listen(store.engine, "before_cursor_execute", capture)
    try:
        run(store, work)
    finally:
        sa.event.remove(store.engine, "before_cursor_execute", capture)
    plans = []
    with store.engine.connect() as connection:
        for statement, params in statements:
            rows = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params).all()
            plans.append("\n".join(str(row[-1]) for row in rows))
    return plans


def test_H8_inbox_and_responsibilities_use_the_case_indexes(tmp_path: Path) -> None:
    with SqlStore(f"sqlite:///{tmp_path / 'big.db'}") as store:
        run(store, lambda tx: tx.add_definition(definition()))
        _bulk_cases(store, 20_000)
        with store.engine.begin() as connection:
            connection.exec_driver_sql("ANALYZE")

        inbox = run(store, lambda tx: tx.inbox("user7"))
        assert inbox and all(c.assignee == "user7" for c in inbox)
        assert {c.status for c in inbox} <= {CaseStatus.TO_DO, CaseStatus.IN_PROGRESS}

        [plan] = _plans_of(store, lambda tx: tx.inbox("user7"))
        assert "USING INDEX ix_cases_assignee_status" in plan, plan
        assert "SCAN cases" not in plan.replace("SCAN cases USING", ""), plan

        [plan] = _plans_of(store, lambda tx: tx.responsibilities("user7"))
        assert "USING INDEX ix_cases_assignee_status" in plan, plan
        assert "USING INDEX ix_cases_owner_status" in plan, plan

        [plan] = _plans_of(store, lambda tx: tx.subcases_of("C-000001"))
        assert "USING INDEX ix_cases_parent" in plan, plan

        [plan] = _plans_of(store, lambda tx: tx.due_timers(T0))
        assert "USING INDEX ix_timers_due" in plan, plan

        [plan] = _plans_of(store, lambda tx: tx.actions_of("C-000001"))
        assert "USING INDEX ix_actions_case_ref_seq" in plan, plan

        [plan] = _plans_of(store, lambda tx: tx.events_for(["C-000001"]))
        assert "USING" in plan and "INDEX ix_events_ref_at_id" in plan, plan


# -- URLs --------------------------------------------------------------------------------------
def test_sqlite_urls_memory_and_file(tmp_path: Path) -> None:
    for memory in ("sqlite://", "sqlite:///:memory:"):
        with SqlStore(memory, echo=True) as store:
            assert isinstance(store.engine.pool, sa.pool.StaticPool) and store.engine.echo
            run(store, lambda tx: tx.next_number("n"))
            assert run(store, lambda tx: tx.next_number("n")) == 2  # one database throughout
    with SqlStore(f"sqlite:///{tmp_path / 'wal.db'}") as store:
        assert not isinstance(store.engine.pool, sa.pool.StaticPool)
        with store.engine.connect() as connection:
            pragmas = [
                connection.exec_driver_sql(f"PRAGMA {name}").scalar()
                for name in ("journal_mode", "synchronous", "foreign_keys")
            ]
        assert pragmas == ["wal", 1, 1]  # synchronous 1 = NORMAL


def test_plain_postgresql_urls_use_psycopg_3(postgres_store_url: str) -> None:
    plain = postgres_store_url.replace("postgresql+psycopg://", "postgresql://")
    with SqlStore(plain) as store:
        assert store.engine.dialect.driver == "psycopg"
        assert repr(store).startswith("SqlStore('postgresql+psycopg://")
        assert run(store, lambda tx: tx.definition_versions("none")) == []


def test_other_databases_are_refused_before_connecting() -> None:
    with pytest.raises(ValueError, match=r"unsupported database 'mysql'.*\*\*\*"):
        SqlStore("mysql+pymysql://user:secret@db.invalid/caseloom")


def test_both_execution_paths_store_and_read_the_same(url: str) -> None:
    """Prepared statements on the DBAPI cursor (no listener) and SQLAlchemy's execute
    (a listener attached) give the same rows and records on every backend."""

    def commands(store: SqlStore, ref: str) -> tuple[Any, ...]:
        with store.transaction() as tx:
            tx.insert_case(dataclasses.replace(full_case(ref), parent=None))
            tx.insert_action(full_action(f"{ref}-A", case_ref=ref))
            tx.put_workflow(ref, '{"state": 1}')
            number = tx.next_number(ref)
            event = tx.append_event(EventRecord(ref, ref, T0, "created", "alice", {"k": [1]}))
        with store.transaction() as tx:
            loaded = tx.get_case(ref)
            assert loaded is not None
            loaded.hold_kind = None
            tx.update_case(loaded)
            [found] = tx.actions_of(ref)
            found.status = CaseStatus.CLOSED
            tx.update_action(found)
            in_inbox = ref in [c.ref for c in tx.inbox("bob")]
            waiting = ref in [c.ref for c in tx.responsibilities("bob")]
        with store.transaction() as tx:
            again, action_again = tx.get_case(ref), tx.get_action(f"{ref}-A")
            assert again is not None and action_again is not None
            return (
                dataclasses.replace(again, ref="X"),
                dataclasses.replace(action_again, ref="X", case_ref="X"),
                tx.get_workflow(ref),
                number,
                event > 0,
                in_inbox,
                waiting,
            )

    def listener(*args: Any) -> None:
        pass

    with SqlStore(url) as store:
        run(store, lambda tx: tx.add_definition(definition()))
        fast = commands(store, "C-1")
        sa.event.listen(store.engine, "before_execute", listener)
        try:
            slow = commands(store, "C-2")
        finally:
            sa.event.remove(store.engine, "before_execute", listener)
    assert fast == slow
    assert fast[0].hold_kind is None and fast[1].status is CaseStatus.CLOSED
    assert fast[5:] == (False, True)  # Waiting, with bob
