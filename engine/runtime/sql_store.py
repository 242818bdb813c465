"""The SQLAlchemy 2 (Core) implementation of the store port, for SQLite and PostgreSQL.

``SqlStore(url)`` opens (and migrates to the latest schema) the database at a SQLAlchemy URL:

* ``sqlite://`` or ``sqlite:///:memory:`` — a private in-memory database, shared by every
  transaction of this store (one connection; transactions are serialised by a lock);
* ``sqlite:///path/to/file.db`` — a file in WAL mode; every transaction starts with
  ``BEGIN IMMEDIATE`` so that two engines on one file take turns instead of losing updates;
* ``postgresql+psycopg://user@host/db`` (``postgresql://`` is read as psycopg 3).

Statements are built once (module level or per store) and executed with parameters, so
SQLAlchemy's compiled cache makes a command cost little more than the database's own work.
See ``docs/storage.md``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import fields
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.pool import ConnectionPoolEntry, StaticPool

from engine.errors import ConcurrencyConflict
from engine.runtime.records import (
    ActionRecord,
    CaseRecord,
    DefinitionRecord,
    EventRecord,
    TimerRecord,
)
from engine.runtime.status import CaseStatus
from engine.runtime.store import Store, StoreTransaction, iter_chunks
from engine.runtime.tables import (
    actions,
    cases,
    counters,
    definitions,
    events,
    timers,
    workflows,
)

#: Where the Alembic environment and revisions live.
MIGRATIONS_DIR = Path(__file__).with_name("migrations")

#: Key of the PostgreSQL advisory lock held while migrating (two engines starting at once).
_MIGRATION_LOCK_KEY = 0x6361_7365  # "case"

_OPEN_WORK = (CaseStatus.TO_DO.value, CaseStatus.IN_PROGRESS.value)


def _check_columns() -> None:
    """Every record field is a column and every column a field (rows become records by
    position: the selects below list the columns in field order)."""
    pairs: tuple[tuple[sa.Table, type[Any]], ...] = (
        (cases, CaseRecord),
        (actions, ActionRecord),
        (timers, TimerRecord),
        (events, EventRecord),
        (definitions, DefinitionRecord),
    )
    for table, record in pairs:
        columns = sorted(column.name for column in table.columns)
        names = sorted(item.name for item in fields(record))
        if columns != names:
            raise RuntimeError(f"table {table.name} {columns} != {record.__name__} {names}")


_check_columns()

_CASE_SELECT = [cases.c[item.name] for item in fields(CaseRecord)]
_ACTION_SELECT = [actions.c[item.name] for item in fields(ActionRecord)]
_TIMER_SELECT = [timers.c[item.name] for item in fields(TimerRecord)]
_EVENT_SELECT = [events.c[item.name] for item in fields(EventRecord)]
_DEFINITION_SELECT = [definitions.c[item.name] for item in fields(DefinitionRecord)]
_CASE_COLUMNS = tuple(column.name for column in _CASE_SELECT)
_CASE_VALUES = tuple(name for name in _CASE_COLUMNS if name != "ref")
_ACTION_COLUMNS = tuple(column.name for column in _ACTION_SELECT)
_ACTION_VALUES = tuple(name for name in _ACTION_COLUMNS if name != "ref")
_DEFINITION_COLUMNS = tuple(column.name for column in _DEFINITION_SELECT)


def _select_cases(*where: sa.ColumnElement[bool]) -> sa.Select[Any]:
    return sa.select(*_CASE_SELECT).where(*where)


# -- statements shared by every store (plain Core constructs, bound to no engine) ---------
_SEL_DEFINITION = sa.select(*_DEFINITION_SELECT).where(
    definitions.c.process == sa.bindparam("process"),
    definitions.c.version == sa.bindparam("version"),
)
_SEL_VERSIONS = (
    sa.select(definitions.c.version)
    .where(definitions.c.process == sa.bindparam("process"))
    .order_by(definitions.c.version)
)
_INS_DEFINITION = sa.insert(definitions)

_SEL_CASE = _select_cases(cases.c.ref == sa.bindparam("ref"))
_INS_CASE = sa.insert(cases)
_UPD_CASE = sa.update(cases).where(
    cases.c.ref == sa.bindparam("w_ref"), cases.c.row_version == sa.bindparam("w_version")
)
_SEL_ACTION = sa.select(*_ACTION_SELECT).where(actions.c.ref == sa.bindparam("ref"))
_INS_ACTION = sa.insert(actions)
_UPD_ACTION = sa.update(actions).where(
    actions.c.ref == sa.bindparam("w_ref"), actions.c.row_version == sa.bindparam("w_version")
)
_SEL_WORKFLOW = sa.select(workflows.c.state).where(workflows.c.case_ref == sa.bindparam("case_ref"))

_PENDING = sa.and_(timers.c.fired_at.is_(None), timers.c.cancelled == sa.false())
_INS_TIMER = sa.insert(timers).returning(timers.c.id)
_CANCEL_TIMERS = (
    sa.update(timers)
    .where(timers.c.case_ref == sa.bindparam("w_case_ref"), _PENDING)
    .values(cancelled=True)
)
_CANCEL_TIMERS_OF_KIND = _CANCEL_TIMERS.where(timers.c.kind == sa.bindparam("w_kind"))
_SEL_PENDING_TIMERS = (
    sa.select(*_TIMER_SELECT)
    .where(timers.c.case_ref == sa.bindparam("case_ref"), _PENDING)
    .order_by(timers.c.fire_at, timers.c.id)
)
_SEL_DUE_TIMERS = (
    sa.select(*_TIMER_SELECT)
    .where(_PENDING, timers.c.fire_at <= sa.bindparam("now"))
    .order_by(timers.c.fire_at, timers.c.id)
    .limit(sa.bindparam("limit"))
)
_MARK_FIRED = (
    sa.update(timers)
    .where(timers.c.id == sa.bindparam("w_id"), _PENDING)
    .values(fired_at=sa.bindparam("w_at"))
)

_INS_EVENT = sa.insert(events).returning(events.c.id)
_SEL_EVENTS = (
    sa.select(*_EVENT_SELECT)
    .where(events.c.ref.in_(sa.bindparam("refs", expanding=True)))
    .order_by(events.c.at, events.c.id)
)
_SEL_EVENTS_OF_KINDS = _SEL_EVENTS.where(events.c.kind.in_(sa.bindparam("kinds", expanding=True)))


#: The backends the store supports, with their INSERT constructs (for ON CONFLICT upserts).
_INSERTS: dict[str, Callable[[sa.Table], Any]] = {
    "sqlite": sqlite.insert,
    "postgresql": postgresql.insert,
}


class _Dialect:
    """The statements that differ by database.

    * Upserts: ``INSERT ... ON CONFLICT`` in each dialect's construct.
    * Text order: refs and names sort by code point everywhere (what SQLite does and Python's
      ``sorted`` does); PostgreSQL sorts by the database's collation unless told ``COLLATE "C"``.
    """

    def __init__(self, name: str) -> None:
        insert = _INSERTS[name]
        upsert_counter = insert(counters).values(name=sa.bindparam("counter"), value=1)
        self.next_number: sa.Executable = upsert_counter.on_conflict_do_update(
            index_elements=[counters.c.name], set_={"value": counters.c.value + 1}
        ).returning(counters.c.value)
        upsert_workflow = insert(workflows).values(
            case_ref=sa.bindparam("w_case_ref"), state=sa.bindparam("w_state")
        )
        self.put_workflow: sa.Executable = upsert_workflow.on_conflict_do_update(
            index_elements=[workflows.c.case_ref],
            set_={"state": upsert_workflow.excluded.state},
        )

        def text(column: sa.ColumnElement[str]) -> sa.ColumnElement[str]:
            return column.collate("C") if name == "postgresql" else column

        self.definition_keys: sa.Executable = sa.select(
            definitions.c.process, definitions.c.version
        ).order_by(text(definitions.c.process), definitions.c.version)
        self.subcases: sa.Executable = _select_cases(
            cases.c.parent == sa.bindparam("parent")
        ).order_by(
            # creation order: time, then the sub-case number of "<parent>-<n>" (SC10)
            cases.c.created_at,
            sa.func.length(cases.c.ref),
            text(cases.c.ref),
        )
        self.inbox: sa.Executable = _select_cases(
            cases.c.assignee == sa.bindparam("user"), cases.c.status.in_(_OPEN_WORK)
        ).order_by(text(cases.c.ref))
        # two index searches (assigned / unassigned but owned), disjoint by assignee
        waiting = sa.union_all(
            _select_cases(
                cases.c.assignee == sa.bindparam("user"),
                cases.c.status == CaseStatus.WAITING.value,
            ),
            _select_cases(
                cases.c.owner == sa.bindparam("user"),
                cases.c.status == CaseStatus.WAITING.value,
                cases.c.assignee.is_(None),
            ),
        ).subquery("waiting")
        self.responsibilities: sa.Executable = sa.select(*waiting.c).order_by(text(waiting.c.ref))
        self.actions_of: sa.Executable = (
            sa.select(*_ACTION_SELECT)
            .where(actions.c.case_ref == sa.bindparam("case_ref"))
            .order_by(actions.c.seq, text(actions.c.ref))
        )


# rows are tuples in field order (see _check_columns): build the records positionally
_case_from: Callable[..., CaseRecord] = CaseRecord
_action_from: Callable[..., ActionRecord] = ActionRecord
_timer_from: Callable[..., TimerRecord] = TimerRecord
_event_from: Callable[..., EventRecord] = EventRecord
_definition_from: Callable[..., DefinitionRecord] = DefinitionRecord


class SqlTransaction(StoreTransaction):
    """One command's reads and writes on one connection inside ``BEGIN ... COMMIT``."""

    __slots__ = ("_conn", "_dialect")

    def __init__(self, connection: Connection, dialect: _Dialect) -> None:
        self._conn = connection
        self._dialect = dialect

    @property
    def connection(self) -> Connection:
        """The connection of this transaction (for diagnostics and tests)."""
        return self._conn

    def _run(self, statement: sa.Executable, params: Mapping[str, Any]) -> sa.CursorResult[Any]:
        return self._conn.execute(statement, params)

    # -- definitions ---------------------------------------------------------------
    def add_definition(self, record: DefinitionRecord) -> None:
        self._run(_INS_DEFINITION, {name: getattr(record, name) for name in _DEFINITION_COLUMNS})

    def get_definition(self, process: str, version: int) -> DefinitionRecord | None:
        row = self._run(_SEL_DEFINITION, {"process": process, "version": version}).first()
        return None if row is None else _definition_from(*row)

    def definition_versions(self, process: str) -> list[int]:
        return list(self._run(_SEL_VERSIONS, {"process": process}).scalars())

    def definition_keys(self) -> list[tuple[str, int]]:
        return [
            (row.process, row.version) for row in self._conn.execute(self._dialect.definition_keys)
        ]

    # -- counters ------------------------------------------------------------------
    def next_number(self, counter: str) -> int:
        return int(self._run(self._dialect.next_number, {"counter": counter}).scalar_one())

    # -- cases ---------------------------------------------------------------------
    def insert_case(self, case: CaseRecord) -> None:
        params = {name: getattr(case, name) for name in _CASE_COLUMNS}
        params["row_version"] = 1
        self._run(_INS_CASE, params)
        case.row_version = 1

    def get_case(self, ref: str) -> CaseRecord | None:
        row = self._run(_SEL_CASE, {"ref": ref}).first()
        return None if row is None else _case_from(*row)

    def update_case(self, case: CaseRecord) -> None:
        params = {name: getattr(case, name) for name in _CASE_VALUES}
        params["row_version"] = case.row_version + 1
        params["w_ref"] = case.ref
        params["w_version"] = case.row_version
        if self._run(_UPD_CASE, params).rowcount != 1:
            raise ConcurrencyConflict(
                f"case {case.ref} was changed by someone else (or does not exist); "
                "reload it and try again"
            )
        case.row_version += 1

    def subcases_of(self, ref: str) -> list[CaseRecord]:
        return [_case_from(*row) for row in self._run(self._dialect.subcases, {"parent": ref})]

    def inbox(self, user: str) -> list[CaseRecord]:
        return [_case_from(*row) for row in self._run(self._dialect.inbox, {"user": user})]

    def responsibilities(self, user: str) -> list[CaseRecord]:
        return [
            _case_from(*row) for row in self._run(self._dialect.responsibilities, {"user": user})
        ]

    # -- actions -------------------------------------------------------------------
    def insert_action(self, action: ActionRecord) -> None:
        params = {name: getattr(action, name) for name in _ACTION_COLUMNS}
        params["row_version"] = 1
        self._run(_INS_ACTION, params)
        action.row_version = 1

    def update_action(self, action: ActionRecord) -> None:
        params = {name: getattr(action, name) for name in _ACTION_VALUES}
        params["row_version"] = action.row_version + 1
        params["w_ref"] = action.ref
        params["w_version"] = action.row_version
        if self._run(_UPD_ACTION, params).rowcount != 1:
            raise ConcurrencyConflict(
                f"action {action.ref} of case {action.case_ref} was changed by someone else "
                "(or does not exist); reload it and try again"
            )
        action.row_version += 1

    def get_action(self, ref: str) -> ActionRecord | None:
        row = self._run(_SEL_ACTION, {"ref": ref}).first()
        return None if row is None else _action_from(*row)

    def actions_of(self, case_ref: str) -> list[ActionRecord]:
        return [
            _action_from(*row)
            for row in self._run(self._dialect.actions_of, {"case_ref": case_ref})
        ]

    # -- workflow state --------------------------------------------------------------
    def get_workflow(self, case_ref: str) -> str | None:
        value = self._run(_SEL_WORKFLOW, {"case_ref": case_ref}).scalar_one_or_none()
        return None if value is None else str(value)

    def put_workflow(self, case_ref: str, state: str) -> None:
        self._run(self._dialect.put_workflow, {"w_case_ref": case_ref, "w_state": state})

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
        return [_timer_from(*row) for row in self._run(_SEL_PENDING_TIMERS, {"case_ref": case_ref})]

    def due_timers(self, now: datetime, limit: int = 1000) -> list[TimerRecord]:
        rows = self._run(_SEL_DUE_TIMERS, {"now": now, "limit": limit})
        return [_timer_from(*row) for row in rows]

    def mark_fired(self, timer_id: int, at: datetime) -> bool:
        return self._run(_MARK_FIRED, {"w_id": timer_id, "w_at": at}).rowcount == 1

    # -- timeline ------------------------------------------------------------------
    def append_event(self, event: EventRecord) -> int:
        if event.id is not None:
            raise ValueError(f"event {event.id} is already stored")
        result = self._run(
            _INS_EVENT,
            {
                "ref": event.ref,
                "case_ref": event.case_ref,
                "at": event.at,
                "kind": event.kind,
                "by": event.by,
                "details": event.details,
            },
        )
        event.id = int(result.scalar_one())
        return event.id

    def events_for(
        self, refs: Sequence[str], kinds: Sequence[str] | None = None
    ) -> list[EventRecord]:
        if not refs or (kinds is not None and not kinds):
            return []
        statement = _SEL_EVENTS if kinds is None else _SEL_EVENTS_OF_KINDS
        found: list[EventRecord] = []
        chunks = 0
        for chunk in iter_chunks(sorted(set(refs))):
            params: dict[str, Any] = {"refs": list(chunk)}
            if kinds is not None:
                params["kinds"] = list(kinds)
            found.extend(_event_from(*row) for row in self._run(statement, params))
            chunks += 1
        if chunks > 1:
            found.sort(key=lambda event: (event.at, event.id))
        return found


def _is_memory_sqlite(url: sa.URL) -> bool:
    return url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")


def _sqlite_on_connect(wal: bool) -> Callable[[DBAPIConnection, ConnectionPoolEntry], None]:
    def on_connect(dbapi_connection: DBAPIConnection, record: ConnectionPoolEntry) -> None:
        # SQLAlchemy's documented recipe: take BEGIN away from pysqlite, emit it ourselves
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            if wal:
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
        finally:
            cursor.close()

    return on_connect


def _sqlite_begin(connection: Connection) -> None:
    # IMMEDIATE takes the write lock at once: a second engine on the file waits its turn
    # (busy timeout) instead of failing or losing an update at its first write. Sent on the
    # driver connection directly: a full SQLAlchemy execute would double the cost of BEGIN.
    dbapi_connection = connection.connection.dbapi_connection
    if dbapi_connection is None:
        raise RuntimeError("BEGIN on a closed connection")
    dbapi_connection.execute("BEGIN IMMEDIATE")


def _create_engine(url: sa.URL, echo: bool) -> Engine:
    backend = url.get_backend_name()
    if backend == "postgresql" and url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    if backend != "sqlite":
        return sa.create_engine(url, echo=echo)
    memory = _is_memory_sqlite(url)
    if memory:
        engine = sa.create_engine(
            url,
            echo=echo,
            poolclass=StaticPool,
            connect_args={"check_same_thread": False},
        )
    else:
        engine = sa.create_engine(url, echo=echo, connect_args={"timeout": 30.0})
    sa.event.listen(engine, "connect", _sqlite_on_connect(wal=not memory))
    sa.event.listen(engine, "begin", _sqlite_begin)
    return engine


def migration_config(connection: Connection | None = None) -> Config:
    """An Alembic ``Config`` for the store's migrations (no ini file, no logging setup)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade_schema(connection: Connection) -> None:
    """Migrate the database of ``connection`` to the latest schema (inside its transaction)."""
    if connection.dialect.name == "postgresql":
        connection.execute(
            sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK_KEY}
        )
    command.upgrade(migration_config(connection), "head")


class SqlStore(Store):
    """The store on a SQLAlchemy URL; creates or upgrades the schema when opened."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        parsed = make_url(url)
        if parsed.get_backend_name() not in _INSERTS:
            raise ValueError(
                f"unsupported database {parsed.get_backend_name()!r} in "
                f"{parsed.render_as_string(hide_password=True)!r}: use sqlite or postgresql"
            )
        self._engine = _create_engine(parsed, echo)
        self._dialect = _Dialect(self._engine.dialect.name)
        # one in-memory connection is shared: serialise the transactions that use it
        self._lock: AbstractContextManager[Any] = (
            threading.RLock() if _is_memory_sqlite(parsed) else nullcontext()
        )
        try:
            with self._lock, self._engine.begin() as connection:
                upgrade_schema(connection)
        except BaseException:
            self._engine.dispose()
            raise

    def __enter__(self) -> SqlStore:
        return self

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine (for diagnostics and tests)."""
        return self._engine

    @contextmanager
    def _transaction(self) -> Iterator[StoreTransaction]:
        with self._lock, self._engine.begin() as connection:
            yield SqlTransaction(connection, self._dialect)

    def transaction(self) -> AbstractContextManager[StoreTransaction]:
        return self._transaction()

    def close(self) -> None:
        self._engine.dispose()

    def __repr__(self) -> str:
        return f"SqlStore({self._engine.url.render_as_string(hide_password=True)!r})"
