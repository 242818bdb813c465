"""The store contract (engine/runtime/store.py), run against every backend.

Backends: SQLite in memory, SQLite file, PostgreSQL 15 (a throwaway server for the session,
see tests/postgres.py; each test starts from emptied tables).
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from postgres import PostgresServer, postgres_server, postgres_url  # noqa: F401

from engine.errors import ConcurrencyConflict
from engine.model import DueRule, DueUnit, ScheduleDef
from engine.runtime.records import (
    FAULT_PARTIES,
    ActionRecord,
    CaseRecord,
    DefectRecord,
    DefinitionRecord,
    EventRecord,
    FileRecord,
    LinkRecord,
    ScheduleRecord,
    TimerRecord,
)
from engine.runtime.sql_store import SqlStore
from engine.runtime.status import CaseStatus, HoldKind
from engine.runtime.store import StoreTransaction
from engine.runtime.tables import cases, metadata, timers

T0 = datetime(2026, 3, 2, 9, 30, 15, 123456, tzinfo=UTC)
BRUSSELS = ZoneInfo("Europe/Brussels")
UNICODE = "Réclamation — 東京 🚀 «ñ»"

R = TypeVar("R")


# -- backends ----------------------------------------------------------------------------
@pytest.fixture(scope="session")
def postgres_store_url(postgres_url: str) -> Iterator[str]:  # noqa: F811
    """The session's PostgreSQL database, migrated once."""
    SqlStore(postgres_url).close()
    yield postgres_url


def _empty_tables(url: str) -> None:
    """Delete every row (cheaper than TRUNCATE on tiny tables; foreign keys are deferred)."""
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    try:
        with engine.begin() as connection:
            for table in metadata.sorted_tables:
                connection.execute(sa.delete(table))
    finally:
        engine.dispose()


def _database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite-memory":
        return "sqlite://"
    if request.param == "sqlite-file":
        return f"sqlite:///{tmp_path / 'store.db'}"
    database: str = request.getfixturevalue("postgres_store_url")
    _empty_tables(database)
    return database


@pytest.fixture(params=["sqlite-memory", "sqlite-file", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database URL with an empty store (schema, no rows)."""
    return _database(request, tmp_path)


@pytest.fixture(params=["sqlite-file", "postgresql"])
def shared_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database URL that two stores can open at once (not a private in-memory one)."""
    return _database(request, tmp_path)


@pytest.fixture
def store(url: str) -> Iterator[SqlStore]:
    with SqlStore(url) as opened:
        yield opened


@pytest.fixture
def seeded(store: SqlStore) -> SqlStore:
    """The store with the definition ``claims`` v1 deployed (cases refer to it)."""
    with store.transaction() as tx:
        tx.add_definition(definition())
    return store


def run(store: SqlStore, work: Callable[[StoreTransaction], R]) -> R:
    """``work`` in one transaction of ``store``."""
    with store.transaction() as tx:
        return work(tx)


# -- records -------------------------------------------------------------------------------
def definition(process: str = "claims", version: int = 1) -> DefinitionRecord:
    return DefinitionRecord(
        process=process,
        version=version,
        digest=f"sha256:{process}{version}",
        source_name=f"{process}.yaml",
        source_kind="yaml",
        source=f"name: {process} # {UNICODE}\n".encode(),
        bpmn=b"<definitions>\x00\xff\xfe</definitions>",
        deployed_at=datetime(2026, 1, 5, 10, 0, 0, 1, tzinfo=BRUSSELS),
    )


def case(ref: str, **changes: Any) -> CaseRecord:
    """A minimal case: every optional field at its default."""
    record = CaseRecord(
        ref=ref,
        process="claims",
        version=1,
        status=CaseStatus.TO_DO,
        created_at=T0,
        created_by="alice",
    )
    return dataclasses.replace(record, **changes)


def full_case(ref: str) -> CaseRecord:
    """A case with every field set away from its default."""
    local = datetime(2026, 3, 2, 11, 0, 0, 999999, tzinfo=BRUSSELS)
    return CaseRecord(
        ref=ref,
        process="claims",
        version=1,
        status=CaseStatus.WAITING,
        created_at=local,
        created_by="Zoë",
        created_how="email",
        title=UNICODE,
        customer="ACME ☃",
        contract="K-17",
        service="gold",
        hold_kind=HoldKind.MORE_INFO,
        hold_reason="waiting for the customer's invoice",
        hold_until=local + timedelta(days=3),
        hold_started_at=local + timedelta(minutes=1),
        assignee="bob",
        last_assignee="carol",
        owner="dave",
        queue="claims-1",
        calendar="brussels",
        sla_started_at=local + timedelta(minutes=2),
        due=local + timedelta(hours=4),
        due_overridden=True,
        sla_paused_at=local + timedelta(minutes=3),
        sla_remaining=-3725.5,
        parent=None,
        subcase_count=2,
        data={"amount": 12.5, "tags": ["ü", 1, None, True], "nested": {"k": UNICODE}},
        highlighted=True,
        original_request_at=local - timedelta(days=1),
        created_from="C-0",
        first_resolved_by="erin",
        first_resolved_at=local + timedelta(hours=1),
        resolved_by="frank",
        resolved_at=local + timedelta(hours=2),
        status_set_by="grace",
        status_reason="more_info: invoice",
        status_set_at=local + timedelta(minutes=4),
        updated_by="heidi",
        updated_at=local + timedelta(minutes=5),
        keep_with_me=True,
        keep_actions_with_me=True,
        contacts=[{"name": "Łukasz", "roles": ["requester", "primary"]}],
        flow_finished=True,
        row_version=0,
    )


def action(ref: str, case_ref: str = "C-1", seq: int = 1, **changes: Any) -> ActionRecord:
    record = ActionRecord(
        ref=ref,
        case_ref=case_ref,
        action_type="check",
        title="Check the claim",
        stage=1,
        status=CaseStatus.TO_DO,
        created_at=T0,
        seq=seq,
    )
    return dataclasses.replace(record, **changes)


def full_action(ref: str, case_ref: str = "C-1") -> ActionRecord:
    local = datetime(2026, 3, 2, 12, 0, 0, 5, tzinfo=BRUSSELS)
    return ActionRecord(
        ref=ref,
        case_ref=case_ref,
        action_type="approve",
        title=UNICODE,
        stage=3,
        status=CaseStatus.IN_PROGRESS,
        created_at=local,
        seq=7,
        instructions="Vérifier «tout»",
        assignee="bob",
        queue="approvers",
        due=local + timedelta(hours=6),
        started_at=local + timedelta(minutes=1),
        completed_at=local + timedelta(minutes=2),
        completed_by="carol",
        ad_hoc=True,
        robot=True,
        task_id="3f2b7c1e-0000-4000-8000-000000000001",
        error="robot said: ✗",
        last_assignee="dave",
        closed_reason="rework",
        row_version=0,
    )


def datetimes_of(record: Any) -> list[datetime]:
    values = [getattr(record, item.name) for item in dataclasses.fields(record)]
    return [value for value in values if isinstance(value, datetime)]


def assert_utc(record: Any) -> None:
    for value in datetimes_of(record):
        assert value.tzinfo is UTC, value


def table_rows(store: SqlStore) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, sorted: to compare the whole database before and after."""
    dump: dict[str, list[tuple[Any, ...]]] = {}
    with store.engine.connect() as connection:
        for table in metadata.sorted_tables:
            rows = connection.execute(sa.select(table)).all()
            dump[table.name] = sorted((tuple(row) for row in rows), key=repr)
    return dump


# -- definitions -----------------------------------------------------------------------------
def test_definitions_round_trip_versions_and_keys(store: SqlStore) -> None:
    with store.transaction() as tx:
        for process, version in (("claims", 2), ("billing", 1), ("claims", 1), ("claims", 10)):
            tx.add_definition(definition(process, version))
    with store.transaction() as tx:
        loaded = tx.get_definition("claims", 1)
        assert loaded == definition("claims", 1)
        assert loaded is not None and loaded.bpmn == b"<definitions>\x00\xff\xfe</definitions>"
        assert isinstance(loaded.source, bytes) and isinstance(loaded.bpmn, bytes)
        assert_utc(loaded)
        assert tx.get_definition("claims", 3) is None
        assert tx.get_definition("nope", 1) is None
        assert tx.definition_versions("claims") == [1, 2, 10]
        assert tx.definition_versions("nope") == []
        assert tx.definition_keys() == [
            ("billing", 1),
            ("claims", 1),
            ("claims", 2),
            ("claims", 10),
        ]


def test_same_definition_version_cannot_be_added_twice(store: SqlStore) -> None:
    run(store, lambda tx: tx.add_definition(definition()))
    with pytest.raises(sa.exc.IntegrityError), store.transaction() as tx:
        tx.add_definition(definition())


# -- counters ------------------------------------------------------------------------------
def test_counters_count_from_one_independently_and_roll_back(store: SqlStore) -> None:
    with store.transaction() as tx:
        assert [tx.next_number("case") for _ in range(3)] == [1, 2, 3]
        assert tx.next_number("action") == 1
    with pytest.raises(KeyError), store.transaction() as tx:
        assert tx.next_number("case") == 4
        raise KeyError("abort")
    with store.transaction() as tx:
        assert tx.next_number("case") == 4
        assert tx.next_number("action") == 2


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
    postgres_server: PostgresServer,  # noqa: F811
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


# -- timers ----------------------------------------------------------------------------------
def _timer(case_ref: str, minutes: int, kind: str = "hold_until") -> TimerRecord:
    return TimerRecord(case_ref=case_ref, kind=kind, fire_at=T0 + timedelta(minutes=minutes))


def test_timers_pending_cancel_and_due(seeded: SqlStore) -> None:
    with seeded.transaction() as tx:
        tx.insert_case(case("C-1"))
        tx.insert_case(case("C-2"))
        late = _timer("C-1", 30)
        early = _timer("C-1", 10, "feedback_window")
        other = _timer("C-2", 5)
        ids = [tx.add_timer(t) for t in (late, early, other)]
    assert ids == [late.id, early.id, other.id] and len(set(ids)) == 3
    with seeded.transaction() as tx:
        pending = tx.pending_timers("C-1")
        assert [t.id for t in pending] == [early.id, late.id]
        assert pending[0] == early and pending[0].fired_at is None and not pending[0].cancelled
        assert_utc(pending[0])
        # due: fire_at <= now (inclusive), oldest first, over every case, limited
        assert [t.id for t in tx.due_timers(T0 + timedelta(minutes=10))] == [other.id, early.id]
        local_now = (T0 + timedelta(minutes=10)).astimezone(BRUSSELS)
        assert [t.id for t in tx.due_timers(local_now)] == [other.id, early.id]
        assert [t.id for t in tx.due_timers(T0 + timedelta(hours=1), limit=1)] == [other.id]
        assert tx.due_timers(T0) == []
        assert tx.cancel_timers("C-1", "feedback_window") == 1
        assert tx.cancel_timers("C-1", "feedback_window") == 0
        assert [t.id for t in tx.pending_timers("C-1")] == [late.id]
        assert [t.id for t in tx.due_timers(T0 + timedelta(hours=1))] == [other.id, late.id]
        assert tx.cancel_timers("C-1") == 1
        assert tx.pending_timers("C-1") == []
        assert tx.pending_timers("C-2") == [other]


def test_timer_fires_exactly_once(seeded: SqlStore) -> None:
    with seeded.transaction() as tx:
        tx.insert_case(case("C-1"))
        timer_id = tx.add_timer(_timer("C-1", 0))
        cancelled_id = tx.add_timer(_timer("C-1", 0, "feedback_window"))
        tx.cancel_timers("C-1", "feedback_window")
    fired_at = (T0 + timedelta(seconds=1)).astimezone(BRUSSELS)
    with seeded.transaction() as tx:
        assert tx.mark_fired(timer_id, fired_at) is True
        assert tx.mark_fired(timer_id, fired_at) is False
    with seeded.transaction() as tx:
        assert tx.mark_fired(timer_id, fired_at) is False
        assert tx.mark_fired(cancelled_id, fired_at) is False
        assert tx.mark_fired(999_999, fired_at) is False
        assert tx.due_timers(T0 + timedelta(days=1)) == []
        assert tx.pending_timers("C-1") == []
        assert tx.cancel_timers("C-1") == 0
    with seeded.engine.connect() as connection:
        stored = connection.execute(sa.select(timers.c.fired_at).order_by(timers.c.id)).all()
    assert stored == [(fired_at,), (None,)] and stored[0][0].tzinfo is UTC


def test_a_stored_timer_cannot_be_added_again(seeded: SqlStore) -> None:
    with seeded.transaction() as tx:
        tx.insert_case(case("C-1"))
        timer = _timer("C-1", 0)
        tx.add_timer(timer)
        with pytest.raises(ValueError, match="already stored"):
            tx.add_timer(timer)


# -- schedules (C1) --------------------------------------------------------------------------
DAILY = ScheduleDef(DueRule(1, DueUnit.DAYS), T0, "Daily check")
HOURLY = ScheduleDef(DueRule(90, DueUnit.MINUTES), (T0 + timedelta(hours=1)).astimezone(BRUSSELS))


def _register(
    store: SqlStore, process: str, version: int, *schedules: ScheduleDef
) -> list[ScheduleRecord]:
    """Deploy ``process`` ``version`` (when new) and register its schedules, in one transaction."""
    with store.transaction() as tx:
        if tx.get_definition(process, version) is None:
            tx.add_definition(definition(process, version))
        return tx.register_schedules(process, version, schedules)


def test_C1_schedules_are_stored_in_list_order_in_utc(store: SqlStore) -> None:
    daily, hourly = _register(store, "claims", 1, DAILY, HOURLY)
    assert daily == ScheduleRecord(
        "claims", 1, 0, T0, 86_400, "Daily check", active=True, id=daily.id
    )
    assert hourly == ScheduleRecord(
        "claims", 1, 1, T0 + timedelta(hours=1), 5_400, None, active=True, id=hourly.id
    )
    assert daily.id is not None and hourly.id is not None and daily.id != hourly.id
    with store.transaction() as tx:
        assert tx.schedules_of("claims") == [daily, hourly]
        assert tx.get_schedule(hourly.id) == hourly
        assert_utc(tx.get_schedule(hourly.id))
        assert tx.get_schedule(999_999) is None
        assert tx.schedules_of("ghost") == []


def test_C1_registering_a_version_again_changes_nothing(store: SqlStore) -> None:
    first = _register(store, "claims", 1, DAILY)
    with store.transaction() as tx:
        assert first[0].id is not None
        assert tx.advance_schedule(first[0].id, T0, T0 + timedelta(days=1))
    moved = dataclasses.replace(first[0], next_at=T0 + timedelta(days=1))
    # a second engine deploying the same version, even with another list: no duplicate, no reset
    assert _register(store, "claims", 1, DAILY, HOURLY) == [moved]
    assert _register(store, "claims", 1) == [moved]
    assert run(store, lambda tx: tx.schedules_of("claims")) == [moved]


def test_C1_a_new_version_stops_the_schedules_of_the_older_ones(store: SqlStore) -> None:
    [v1] = _register(store, "claims", 1, DAILY)
    [v2] = _register(store, "claims", 2, HOURLY)
    assert v2.active and v2.version == 2
    with store.transaction() as tx:
        assert [(s.version, s.active) for s in tx.schedules_of("claims")] == [(1, False), (2, True)]
        assert tx.due_schedules(T0 + timedelta(days=9)) == [v2]
        assert v1.id is not None
        assert tx.advance_schedule(v1.id, T0, T0 + timedelta(days=1)) is False
    # redeploying the old version does not bring its schedules back
    assert [s.active for s in _register(store, "claims", 1, DAILY)] == [False]
    # a version without schedules stops the ones before it too
    assert _register(store, "claims", 3) == []
    assert [s.active for s in run(store, lambda tx: tx.schedules_of("claims"))] == [False, False]
    # other processes are left alone
    [other] = _register(store, "other", 1, DAILY)
    assert other.active and run(store, lambda tx: tx.due_schedules(T0)) == [other]


def test_C1_an_older_version_deployed_late_stays_inactive(store: SqlStore) -> None:
    [newer] = _register(store, "claims", 2, DAILY)
    [older] = _register(store, "claims", 1, HOURLY)
    assert newer.active and not older.active
    assert run(store, lambda tx: tx.due_schedules(T0 + timedelta(days=1))) == [newer]


def test_C1_due_schedules_are_active_ones_due_at_now_oldest_first(store: SqlStore) -> None:
    daily, hourly = _register(store, "claims", 1, DAILY, HOURLY)
    [other] = _register(store, "other", 1, HOURLY)
    with store.transaction() as tx:
        assert tx.due_schedules(T0 - timedelta(microseconds=1)) == []
        assert tx.due_schedules(T0) == [daily]  # inclusive
        later = (T0 + timedelta(hours=1)).astimezone(BRUSSELS)
        assert tx.due_schedules(later) == [daily, hourly, other]  # next_at, then id
        assert tx.due_schedules(later, limit=2) == [daily, hourly]


def test_C1_advancing_a_schedule_is_a_compare_and_set(store: SqlStore) -> None:
    [daily] = _register(store, "claims", 1, DAILY)
    assert daily.id is not None
    tomorrow = T0 + timedelta(days=1)
    with store.transaction() as tx:
        assert tx.advance_schedule(daily.id, T0.astimezone(BRUSSELS), tomorrow) is True
        assert tx.advance_schedule(daily.id, T0, tomorrow) is False  # already moved on
        assert tx.advance_schedule(999_999, T0, tomorrow) is False
        assert tx.due_schedules(T0 + timedelta(hours=23)) == []
    with store.transaction() as tx:
        assert tx.advance_schedule(daily.id, T0 + timedelta(seconds=1), tomorrow) is False
        stored = tx.get_schedule(daily.id)
        assert stored is not None and stored.next_at == tomorrow and stored.next_at.tzinfo is UTC
    with pytest.raises(Boom), store.transaction() as tx:
        assert tx.advance_schedule(daily.id, tomorrow, tomorrow + timedelta(days=1))
        raise Boom
    assert run(store, lambda tx: tx.get_schedule(daily.id or 0)) == stored  # rolled back


def test_C1_schedules_of_an_undeployed_definition_are_refused(store: SqlStore) -> None:
    with pytest.raises(sa.exc.IntegrityError), store.transaction() as tx:
        tx.register_schedules("ghost", 1, [DAILY])
    assert run(store, lambda tx: tx.schedules_of("ghost")) == []


@pytest.mark.parametrize("every", [DueRule(0, DueUnit.MINUTES), DueRule(-1, DueUnit.HOURS)])
def test_C1_a_schedule_period_must_be_positive(store: SqlStore, every: DueRule) -> None:
    with pytest.raises(sa.exc.IntegrityError):
        _register(store, "claims", 1, ScheduleDef(every, T0))
    assert run(store, lambda tx: tx.definition_keys()) == []


def test_C1_a_naive_first_occurrence_is_refused(store: SqlStore) -> None:
    naive = ScheduleDef(DueRule(1, DueUnit.DAYS), datetime(2026, 3, 2, 9, 0))
    with pytest.raises(sa.exc.StatementError, match="naive datetime"):
        _register(store, "claims", 1, naive)


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
def _defect(root_ref: str, case_ref: str | None = None, **changes: Any) -> DefectRecord:
    record = DefectRecord(
        id=None,
        root_ref=root_ref,
        case_ref=case_ref or root_ref,
        category="billing",
        fault_party="agent",
        description=None,
        resolved=False,
        created_by="alice",
        created_at=T0,
        updated_at=T0,
    )
    return dataclasses.replace(record, **changes)


def _file(root_ref: str, case_ref: str | None = None, **changes: Any) -> FileRecord:
    record = FileRecord(
        id=None,
        root_ref=root_ref,
        case_ref=case_ref or root_ref,
        name="invoice.pdf",
        uri="s3://claims/invoice.pdf",
        media_type="application/pdf",
        added_by="alice",
        added_at=T0,
    )
    return dataclasses.replace(record, **changes)


def _link(case_ref: str, target_ref: str, relation: str = "related") -> LinkRecord:
    return LinkRecord(
        id=None,
        case_ref=case_ref,
        target_ref=target_ref,
        relation=relation,
        added_by="alice",
        added_at=T0,
    )


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


# -- transactions ----------------------------------------------------------------------------
class Boom(Exception):
    pass


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
