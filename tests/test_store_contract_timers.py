"""The store contract: timers and schedules (``engine/runtime/sql/timers.py``)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from store_backends import (
    BRUSSELS,
    DAILY,
    HOURLY,
    T0,
    Boom,
    _register,
    _timer,
    assert_utc,
    case,
    run,
)

from engine.model import DueRule, DueUnit, ScheduleDef
from engine.runtime.records import ScheduleRecord
from engine.runtime.sql_store import SqlStore
from engine.runtime.tables import timers


# -- timers ----------------------------------------------------------------------------------
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
