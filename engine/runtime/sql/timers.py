"""The transaction's timers and schedules: what fires at a time."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields
from datetime import datetime

import sqlalchemy as sa

from engine.model import ScheduleDef
from engine.runtime.records import ScheduleRecord, TimerRecord
from engine.runtime.sql.base import SqlTransactionBase
from engine.runtime.sql.rows import SCHEDULE_SELECT, TIMER_SELECT, schedule_from, timer_from
from engine.runtime.tables import schedules, timers

# timers (holds, feedback windows): due ones read once per tick, each fired once
_PENDING = sa.and_(timers.c.fired_at.is_(None), timers.c.cancelled == sa.false())
_INS_TIMER = sa.insert(timers).returning(timers.c.id)
_CANCEL_TIMERS = (
    sa.update(timers)
    .where(timers.c.case_ref == sa.bindparam("w_case_ref"), _PENDING)
    .values(cancelled=True)
)
_CANCEL_TIMERS_OF_KIND = _CANCEL_TIMERS.where(timers.c.kind == sa.bindparam("w_kind"))
_SEL_PENDING_TIMERS = (
    sa.select(*TIMER_SELECT)
    .where(timers.c.case_ref == sa.bindparam("case_ref"), _PENDING)
    .order_by(timers.c.fire_at, timers.c.id)
)
_SEL_DUE_TIMERS = (
    sa.select(*TIMER_SELECT)
    .where(_PENDING, timers.c.fire_at <= sa.bindparam("now"))
    .order_by(timers.c.fire_at, timers.c.id)
    .limit(sa.bindparam("limit"))
)
_MARK_FIRED = (
    sa.update(timers)
    .where(timers.c.id == sa.bindparam("w_id"), _PENDING)
    .values(fired_at=sa.bindparam("w_at"))
)

# schedules (C1): read once per tick, written once per occurrence
_INS_SCHEDULE = sa.insert(schedules).returning(schedules.c.id)
_SEL_SCHEDULES_OF = (
    sa.select(*SCHEDULE_SELECT)
    .where(schedules.c.process == sa.bindparam("process"))
    .order_by(schedules.c.version, schedules.c.position)
)
_SEL_SCHEDULES_OF_VERSION = _SEL_SCHEDULES_OF.where(schedules.c.version == sa.bindparam("version"))
_SEL_SCHEDULE = sa.select(*SCHEDULE_SELECT).where(schedules.c.id == sa.bindparam("id"))
_DEACTIVATE_OLDER_SCHEDULES = (
    sa.update(schedules)
    .where(
        schedules.c.process == sa.bindparam("w_process"),
        schedules.c.version < sa.bindparam("w_version"),
        schedules.c.active == sa.true(),
    )
    .values(active=False)
)
_SEL_DUE_SCHEDULES = (
    sa.select(*SCHEDULE_SELECT)
    .where(schedules.c.active == sa.true(), schedules.c.next_at <= sa.bindparam("now"))
    .order_by(schedules.c.next_at, schedules.c.id)
    .limit(sa.bindparam("limit"))
)
_ADVANCE_SCHEDULE = (
    sa.update(schedules)
    .where(
        schedules.c.id == sa.bindparam("w_id"),
        schedules.c.next_at == sa.bindparam("w_expected"),
        schedules.c.active == sa.true(),
    )
    .values(next_at=sa.bindparam("w_next"))
)


class SqlTimers(SqlTransactionBase):
    """Timers of cases (holds, feedback windows) and schedules of definitions (C1)."""

    __slots__ = ()

    # -- timers --------------------------------------------------------------------
    def add_timer(self, timer: TimerRecord) -> int:
        if timer.id is not None:
            raise ValueError(f"timer {timer.id} is already stored")
        result = self._run(
            _INS_TIMER,
            {
                "case_ref": timer.case_ref,
                "kind": timer.kind,
                "fire_at": timer.fire_at,
                "fired_at": timer.fired_at,
                "cancelled": timer.cancelled,
            },
        )
        timer.id = int(result.scalar_one())
        return timer.id

    def cancel_timers(self, case_ref: str, kind: str | None = None) -> int:
        if kind is None:
            return self._run(_CANCEL_TIMERS, {"w_case_ref": case_ref}).rowcount
        return self._run(_CANCEL_TIMERS_OF_KIND, {"w_case_ref": case_ref, "w_kind": kind}).rowcount

    def pending_timers(self, case_ref: str) -> list[TimerRecord]:
        return [timer_from(*row) for row in self._run(_SEL_PENDING_TIMERS, {"case_ref": case_ref})]

    def due_timers(self, now: datetime, limit: int = 1000) -> list[TimerRecord]:
        rows = self._run(_SEL_DUE_TIMERS, {"now": now, "limit": limit})
        return [timer_from(*row) for row in rows]

    def mark_fired(self, timer_id: int, at: datetime) -> bool:
        return self._run(_MARK_FIRED, {"w_id": timer_id, "w_at": at}).rowcount == 1

    # -- schedules (C1) ------------------------------------------------------------
    def register_schedules(
        self, process: str, version: int, schedules: Sequence[ScheduleDef]
    ) -> list[ScheduleRecord]:
        key = {"process": process, "version": version}
        stored = [schedule_from(*row) for row in self._run(_SEL_SCHEDULES_OF_VERSION, key)]
        if stored:
            return stored
        active = version >= max(self.definition_versions(process), default=version)
        if active:
            self._run(_DEACTIVATE_OLDER_SCHEDULES, {"w_process": process, "w_version": version})
        for position, schedule in enumerate(schedules):
            record = ScheduleRecord(
                process=process,
                version=version,
                position=position,
                next_at=schedule.first,
                every_seconds=schedule.every.total_minutes * 60,
                title=schedule.title,
                active=active,
            )
            params = {item.name: getattr(record, item.name) for item in fields(record)}
            del params["id"]
            record.id = int(self._run(_INS_SCHEDULE, params).scalar_one())
            stored.append(record)
        return stored

    def schedules_of(self, process: str) -> list[ScheduleRecord]:
        return [schedule_from(*row) for row in self._run(_SEL_SCHEDULES_OF, {"process": process})]

    def get_schedule(self, schedule_id: int) -> ScheduleRecord | None:
        row = self._run(_SEL_SCHEDULE, {"id": schedule_id}).first()
        return None if row is None else schedule_from(*row)

    def due_schedules(self, now: datetime, limit: int = 1000) -> list[ScheduleRecord]:
        rows = self._run(_SEL_DUE_SCHEDULES, {"now": now, "limit": limit})
        return [schedule_from(*row) for row in rows]

    def advance_schedule(
        self, schedule_id: int, expected_next_at: datetime, new_next_at: datetime
    ) -> bool:
        params = {"w_id": schedule_id, "w_expected": expected_next_at, "w_next": new_next_at}
        return self._run(_ADVANCE_SCHEDULE, params).rowcount == 1
