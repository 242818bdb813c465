"""Two ``engine.Engine`` instances on one database: no lost update, timers fire once.

Every scenario runs on a SQLite file and on PostgreSQL (a throwaway server, tests/postgres.py).
The two backends keep a case consistent differently, and the tests pin down each:

* PostgreSQL (READ COMMITTED): a command that read a case or action which another engine then
  changed fails at its write with ``ConcurrencyConflict`` (the optimistic ``row_version``
  check) and writes nothing;
* SQLite: every transaction begins with ``BEGIN IMMEDIATE``, so the second engine's command
  waits until the first commits and then works on fresh rows (no stale write can happen
  inside a command; a stale record written in a later transaction still conflicts).

Interleavings are forced, not hoped for: the paused engine waits on an event after its read
(or on a barrier after reading the due timers), the other one runs meanwhile.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_for
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from postgres import postgres_server, postgres_url  # noqa: F401
from store_dump import Dump, dump_tables
from test_engine_schedules import DAILY, TEN, scheduled_definition

from engine import (
    CaseStatus,
    ConcurrencyConflict,
    Engine,
    EngineError,
    HoldKind,
    InvalidTransition,
    ManualClock,
)
from engine.model import DueRule, DueUnit, ScheduleDef
from engine.runtime.records import EventRecord
from engine.runtime.sql_store import SqlStore, SqlTransaction
from engine.runtime.store import StoreTransaction
from engine.runtime.tables import metadata

CLAIM_YAML = Path(__file__).parent / "data" / "loader" / "claim_api.yaml"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
#: Longest wait for the other thread: only reached when the engine is wrong.
PATIENCE_S = 10.0
#: How long a command blocked by SQLite's write lock is watched to stay blocked.
BLOCKED_S = 0.3


def _empty_tables(url: str) -> None:
    """Delete every row (foreign keys are deferred)."""
    SqlStore(url).close()  # migrated
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    try:
        with engine.begin() as connection:
            for table in metadata.sorted_tables:
                connection.execute(sa.delete(table))
    finally:
        engine.dispose()


@pytest.fixture(params=["sqlite-file", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database two engines can share, empty."""
    if request.param == "sqlite-file":
        return f"sqlite:///{tmp_path / 'caseloom.sqlite'}"
    database: str = request.getfixturevalue("postgres_url")
    _empty_tables(database)
    return database


def is_postgres(url: str) -> bool:
    return url.startswith("postgresql")


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
def engines(url: str, clock: ManualClock) -> Iterator[tuple[Engine, Engine]]:
    """Engines A and B on the same database; A deployed the claim process."""
    with Engine(url, clock=clock) as first, Engine(url, clock=clock) as second:
        first.deploy(CLAIM_YAML)
        yield first, second


class PauseAfterRead:
    """Pauses the thread marked with :meth:`paused` right after its first ``method`` read
    (``get_case`` / ``get_action``), until :meth:`release`."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, method: str) -> None:
        self.has_read = threading.Event()
        self._go = threading.Event()
        self._local = threading.local()
        original: Callable[..., Any] = getattr(SqlTransaction, method)

        def reading(tx: SqlTransaction, *args: Any) -> Any:
            result = original(tx, *args)
            if getattr(self._local, "pause", False):
                self._local.pause = False
                self.has_read.set()
                assert self._go.wait(PATIENCE_S), "the paused command was never released"
            return result

        monkeypatch.setattr(SqlTransaction, method, reading)

    def paused(self, command: Callable[[], Any]) -> Callable[[], Any]:
        def run() -> Any:
            self._local.pause = True
            return command()

        return run

    def release(self) -> None:
        self._go.set()


def interleave(
    url: str,
    pause: PauseAfterRead,
    reader: Callable[[], Any],
    writer: Callable[[], Any],
) -> tuple[Future[Any], Future[Any]]:
    """``reader`` reads and pauses; ``writer`` runs meanwhile; then ``reader`` goes on.

    On PostgreSQL the writer finishes while the reader is paused; on SQLite it waits for the
    reader's transaction (the write lock taken at BEGIN IMMEDIATE) and finishes after it.
    """
    with ThreadPoolExecutor(max_workers=2) as pool:
        read = pool.submit(pause.paused(reader))
        assert pause.has_read.wait(PATIENCE_S), read.exception() if read.done() else read
        write = pool.submit(writer)
        done, _ = wait_for([write], timeout=PATIENCE_S if is_postgres(url) else BLOCKED_S)
        if is_postgres(url):
            assert write in done, "PostgreSQL: the writer was blocked by a reader"
        else:
            assert not done, "SQLite: the writer ran inside another engine's transaction"
        pause.release()
        wait_for([read, write], timeout=PATIENCE_S)
    return read, write


def test_stale_action_completion_conflicts_or_waits_and_completes_once(
    url: str, engines: tuple[Engine, Engine], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both engines complete the same action. PostgreSQL: B read it, A completed it, B's
    write raises ConcurrencyConflict and writes nothing. SQLite: A waits for B and is then
    refused (the action is Resolved). Either way: one completion, one follow-on action."""
    first, second = engines
    case = first.create_case("claim", by="ann", data={"amount": 5000}, submit=True)
    [register] = second.actions(case.ref)
    pause = PauseAfterRead(monkeypatch, "get_action")
    rows: list[Dump] = []

    def writer() -> Any:
        result = first.complete_action(register.ref, by="ann", data={"by": "ann"})
        rows.append(dump_tables(first))
        return result

    late, early = interleave(
        url,
        pause,
        reader=lambda: second.complete_action(register.ref, by="bob", data={"by": "bob"}),
        writer=writer,
    )
    if is_postgres(url):
        assert isinstance(late.exception(), ConcurrencyConflict), late.exception()
        assert early.result().completed_by == "ann"
        assert dump_tables(first) == rows[0], "the conflicting command wrote something"
        winner = "ann"
    else:
        assert late.result().completed_by == "bob"
        assert isinstance(early.exception(), InvalidTransition), early.exception()
        winner = "bob"
    assert first.action(register.ref).completed_by == winner
    assert first.case(case.ref).data == {"amount": 5000, "by": winner}
    assert sorted(a.action_type for a in second.actions(case.ref)) == ["assess", "register"]
    assert len(first.timeline(register.ref, kinds="action_completed")) == 1


def test_stale_case_write_conflicts_or_waits_and_nothing_is_lost(
    url: str, engines: tuple[Engine, Engine], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both engines assign the same case. PostgreSQL: B's stale write raises
    ConcurrencyConflict and its timeline event is rolled back. SQLite: the assignments
    happen one after the other. Either way the timeline matches the case."""
    first, second = engines
    case = first.create_case("claim", by="ann", submit=True)
    pause = PauseAfterRead(monkeypatch, "get_case")
    late, early = interleave(
        url,
        pause,
        reader=lambda: second.assign(case.ref, "cy", by="cy"),
        writer=lambda: first.assign(case.ref, "bob", by="bob"),
    )
    assert early.result().assignee == "bob"
    assigned = [e.details["assignee"] for e in first.timeline(case.ref, kinds="assigned")]
    if is_postgres(url):
        assert isinstance(late.exception(), ConcurrencyConflict), late.exception()
        assert assigned == ["bob"]
    else:
        assert late.result().assignee == "cy"
        assert assigned == ["cy", "bob"]
    assert second.case(case.ref).assignee == "bob"


def test_stale_record_written_later_raises_conflict_and_writes_nothing(
    engines: tuple[Engine, Engine],
) -> None:
    """Both read a case; A writes; B writes its stale copy (with a timeline event) in a
    later transaction: ConcurrencyConflict, and B's transaction leaves no row behind."""
    first, second = engines
    case = first.create_case("claim", by="ann", submit=True)
    with second.store.transaction() as tx:
        stale = tx.get_case(case.ref)
    assert stale is not None
    first.assign(case.ref, "bob", by="bob")
    after_a = dump_tables(first)
    stale.assignee = "cy"
    with pytest.raises(ConcurrencyConflict), second.store.transaction() as tx:
        tx.append_event(
            EventRecord(ref=case.ref, case_ref=case.ref, at=T0, kind="assigned", by="cy")
        )
        tx.update_case(stale)
    assert dump_tables(second) == after_a
    assert second.case(case.ref).assignee == "bob"


def _hold_until(engine: Engine, clock: ManualClock, count: int) -> list[str]:
    refs = []
    for n in range(count):
        case = engine.create_case("claim", by="ann", submit=True)
        engine.start_work(case.ref, by="bob")
        until = clock.now() + timedelta(minutes=10 + n)
        engine.hold(case.ref, HoldKind.UNTIL, by="bob", until=until)
        refs.append(case.ref)
    clock.advance(timedelta(hours=1))
    return refs


class BarrierAfterDueRead:
    """Holds each engine's tick after its read of the due timers (its first transaction)
    until both have read them, so both try to fire every timer."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, *engines: Engine) -> None:
        self.barrier = threading.Barrier(len(engines), timeout=PATIENCE_S)
        self.due_seen: list[int] = []
        original_due: Callable[..., Any] = SqlTransaction.due_timers

        def due_timers(tx: SqlTransaction, *args: Any, **kwargs: Any) -> Any:
            found = original_due(tx, *args, **kwargs)
            self.due_seen.append(len(found))
            return found

        monkeypatch.setattr(SqlTransaction, "due_timers", due_timers)
        for engine in engines:
            monkeypatch.setattr(engine.store, "transaction", self._wrap(engine.store))

    def _wrap(self, store: Any) -> Callable[[], AbstractContextManager[StoreTransaction]]:
        original: Callable[[], AbstractContextManager[StoreTransaction]] = store.transaction
        opened = [0]

        def transaction() -> AbstractContextManager[StoreTransaction]:
            opened[0] += 1
            if opened[0] == 2:  # the due timers were read and that transaction closed
                self.barrier.wait()
            return original()

        return transaction


def test_two_engines_ticking_fire_each_due_timer_exactly_once(
    engines: tuple[Engine, Engine], clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """H6: both engines see every timer due and race to fire them; each fires once."""
    first, second = engines
    refs = _hold_until(first, clock, 6)
    race = BarrierAfterDueRead(monkeypatch, first, second)
    with ThreadPoolExecutor(max_workers=2) as pool:
        ticks = [pool.submit(engine.tick) for engine in (first, second)]
        fired = [timer for tick in ticks for timer in tick.result(timeout=PATIENCE_S)]
    assert race.due_seen == [6, 6]
    assert sorted(timer.case_ref for timer in fired) == sorted(refs)
    for ref in refs:
        assert first.case(ref).status is CaseStatus.TO_DO
        assert len(second.timeline(ref, kinds="woke_up")) == 1
    timers = dump_tables(first)["timers"]
    assert len(timers) == 6 and all(t["fired_at"] == clock.now() for t in timers)
    assert first.tick() == [] and second.tick() == []


def test_a_timer_fired_by_one_engine_is_not_fired_by_the_other(
    engines: tuple[Engine, Engine], clock: ManualClock
) -> None:
    first, second = engines
    [ref] = _hold_until(first, clock, 1)
    assert [timer.case_ref for timer in second.tick()] == [ref]
    assert first.tick() == []
    assert len(first.timeline(ref, kinds="woke_up")) == 1


def test_a_case_written_by_one_engine_is_read_by_the_other(
    engines: tuple[Engine, Engine],
) -> None:
    """API.md: definitions and cases persist in the database, for any engine on it."""
    first, second = engines
    case = first.create_case("claim", by="ann", submit=True)
    assert second.case(case.ref) == case
    second.start_work(case.ref, by="bob")
    assert first.case(case.ref).status is CaseStatus.IN_PROGRESS
    with pytest.raises(EngineError):
        first.start_work(case.ref, by="bob")


# -- C1: schedules ------------------------------------------------------------------------------
class BarrierAfterDueSchedules:
    """Holds each engine's tick after its read of the due schedules (its second transaction,
    when no timer is due) until both have read them, so both try to fire every occurrence."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, *engines: Engine) -> None:
        self.barrier = threading.Barrier(len(engines), timeout=PATIENCE_S)
        self.due_seen: list[int] = []
        original_due: Callable[..., Any] = SqlTransaction.due_schedules

        def due_schedules(tx: SqlTransaction, *args: Any, **kwargs: Any) -> Any:
            found = original_due(tx, *args, **kwargs)
            self.due_seen.append(len(found))
            return found

        monkeypatch.setattr(SqlTransaction, "due_schedules", due_schedules)
        for engine in engines:
            monkeypatch.setattr(engine.store, "transaction", self._wrap(engine.store))

    def _wrap(self, store: Any) -> Callable[[], AbstractContextManager[StoreTransaction]]:
        original: Callable[[], AbstractContextManager[StoreTransaction]] = store.transaction
        opened = [0]

        def transaction() -> AbstractContextManager[StoreTransaction]:
            opened[0] += 1
            if opened[0] == 3:  # due timers, then due schedules were read
                self.barrier.wait()
            return original()

        return transaction


@pytest.fixture
def scheduled_engines(
    url: str, clock: ManualClock, tmp_path: Path
) -> Iterator[tuple[Engine, Engine]]:
    """Engines A and B on the same database; A deployed ``report`` with a daily and an hourly
    schedule from 10:00 (B reads the definition from the store)."""
    hourly = ScheduleDef(DueRule(1, DueUnit.HOURS), TEN, "Hourly")
    with Engine(url, clock=clock) as first, Engine(url, clock=clock) as second:
        first.deploy(scheduled_definition(tmp_path, DAILY, hourly))
        yield first, second


def test_C1_two_engines_ticking_fire_each_schedule_occurrence_exactly_once(
    scheduled_engines: tuple[Engine, Engine], clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both engines see both schedules due (7 occurrences) and race to fire them: every
    occurrence makes exactly one case, whichever engine wins it."""
    first, second = scheduled_engines
    clock.set(TEN + timedelta(hours=5))
    race = BarrierAfterDueSchedules(monkeypatch, first, second)
    with ThreadPoolExecutor(max_workers=2) as pool:
        ticks = [pool.submit(engine.tick) for engine in (first, second)]
        fired = [item for tick in ticks for item in tick.result(timeout=PATIENCE_S)]
    assert race.due_seen == [2, 2]
    hourly = [TEN + timedelta(hours=h) for h in range(6)]
    assert sorted((f.fire_at, first.case(f.case_ref).title) for f in fired) == sorted(
        [(TEN, "Morning check")] + [(at, "Hourly") for at in hourly]
    )
    refs = sorted(f.case_ref for f in fired)
    assert len(set(refs)) == 7
    cases = dump_tables(first)["cases"]
    assert sorted(c["ref"] for c in cases) == refs
    assert all(c["created_how"] == "schedule" for c in cases)
    with second.store.transaction() as tx:
        next_at = [s.next_at for s in tx.schedules_of("report")]
    assert next_at == [TEN + timedelta(days=1), TEN + timedelta(hours=6)]
    assert first.tick() == [] and second.tick() == []


def test_C1_an_occurrence_fired_by_one_engine_is_not_fired_by_the_other(
    scheduled_engines: tuple[Engine, Engine], clock: ManualClock
) -> None:
    first, second = scheduled_engines
    clock.set(TEN)
    assert sorted(f.fire_at for f in second.tick()) == [TEN, TEN]
    assert first.tick() == []
    clock.set(TEN + timedelta(hours=1))
    assert [(f.fire_at, f.case_ref) for f in first.tick()] == [(clock.now(), "C-3")]
    assert second.tick() == []
