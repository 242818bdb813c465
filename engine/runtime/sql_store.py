"""The SQLAlchemy 2 (Core) implementation of the store port, for SQLite and PostgreSQL.

``SqlStore(url)`` opens (and migrates to the latest schema) the database at a SQLAlchemy URL:

* ``sqlite://`` or ``sqlite:///:memory:`` — a private in-memory database, shared by every
  transaction of this store (one connection; transactions are serialised by a lock);
* ``sqlite:///path/to/file.db`` — a file in WAL mode; every transaction starts with
  ``BEGIN IMMEDIATE`` so that two engines on one file take turns instead of losing updates;
* ``postgresql+psycopg://user@host/db`` (``postgresql://`` is read as psycopg 3).

Statements are built once (module level or per store). The statements every command runs
(cases, actions, workflow state, counters, appending events) are also *prepared* per store:
compiled once by SQLAlchemy for the store's dialect, then executed straight on the DBAPI
cursor of the transaction's connection, with the type processors SQLAlchemy itself would apply
(:class:`_Prepared`). That skips SQLAlchemy's per-execution work (cache key, execution context,
result object), which costs several times what SQLite itself spends on a primary-key lookup.
When the engine logs statements (``echo``) or has execution listeners, they go through
SQLAlchemy's ``Connection.execute`` instead, so logging and listeners see every statement.
See ``docs/storage.md`` and ``docs/performance.md``.
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
from sqlalchemy.engine import Connection, Dialect, Engine, make_url
from sqlalchemy.engine.interfaces import DBAPIConnection, DBAPICursor
from sqlalchemy.pool import ConnectionPoolEntry, StaticPool
from sqlalchemy.sql.compiler import SQLCompiler

from engine.errors import ConcurrencyConflict
from engine.model import ScheduleDef
from engine.runtime.records import (
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
from engine.runtime.status import CaseStatus
from engine.runtime.store import Store, StoreTransaction, iter_chunks
from engine.runtime.tables import (
    actions,
    cases,
    counters,
    defects,
    definitions,
    events,
    files,
    links,
    schedules,
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
        (defects, DefectRecord),
        (files, FileRecord),
        (links, LinkRecord),
        (schedules, ScheduleRecord),
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
_DEFECT_SELECT = [defects.c[item.name] for item in fields(DefectRecord)]
_FILE_SELECT = [files.c[item.name] for item in fields(FileRecord)]
_LINK_SELECT = [links.c[item.name] for item in fields(LinkRecord)]
_SCHEDULE_SELECT = [schedules.c[item.name] for item in fields(ScheduleRecord)]
_CASE_COLUMNS = tuple(column.name for column in _CASE_SELECT)
_CASE_VALUES = tuple(name for name in _CASE_COLUMNS if name != "ref")
_ACTION_COLUMNS = tuple(column.name for column in _ACTION_SELECT)
_ACTION_VALUES = tuple(name for name in _ACTION_COLUMNS if name != "ref")
_DEFINITION_COLUMNS = tuple(column.name for column in _DEFINITION_SELECT)
_EVENT_VALUES = tuple(column.name for column in _EVENT_SELECT if column.name != "id")
if _CASE_COLUMNS[0] != "ref" or _ACTION_COLUMNS[0] != "ref":
    raise RuntimeError("CaseRecord and ActionRecord must start with ref (rows[1:] are values)")

#: Columns an UPDATE always writes: JSON values may have been changed in place, so comparing
#: them with what was read proves nothing; ``row_version`` changes on every write.
_ALWAYS_WRITTEN = frozenset({"data", "contacts", "row_version"})
#: Distinct sets of changed columns prepared per store and table before falling back to the
#: statement writing every column.
_UPDATE_SHAPES = 256


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

# shared items (SC6): not on every command's path, so run through SQLAlchemy's execute
#: Defect columns ``update_defect`` writes; the others say where and by whom it was created.
_DEFECT_EDITABLE = ("category", "fault_party", "description", "resolved", "updated_at")
_INS_DEFECT = sa.insert(defects).returning(defects.c.id)
_UPD_DEFECT = (
    sa.update(defects)
    .where(defects.c.id == sa.bindparam("w_id"))
    .values({name: sa.bindparam(f"v_{name}") for name in _DEFECT_EDITABLE})
)
_DEL_DEFECT = sa.delete(defects).where(defects.c.id == sa.bindparam("w_id"))
_SEL_DEFECT = sa.select(*_DEFECT_SELECT).where(defects.c.id == sa.bindparam("id"))
_SEL_DEFECTS_OF = (
    sa.select(*_DEFECT_SELECT)
    .where(defects.c.root_ref == sa.bindparam("root_ref"))
    .order_by(defects.c.id)
)
_INS_FILE = sa.insert(files).returning(files.c.id)
_SEL_FILES_OF = (
    sa.select(*_FILE_SELECT)
    .where(files.c.root_ref == sa.bindparam("root_ref"))
    .order_by(files.c.id)
)
_INS_LINK = sa.insert(links).returning(links.c.id)
_SEL_LINKS_OF = (
    sa.select(*_LINK_SELECT).where(links.c.case_ref == sa.bindparam("ref")).order_by(links.c.id)
)
_SEL_LINKED_TO = (
    sa.select(*_LINK_SELECT).where(links.c.target_ref == sa.bindparam("ref")).order_by(links.c.id)
)

# schedules (C1): read once per tick, written once per occurrence
_INS_SCHEDULE = sa.insert(schedules).returning(schedules.c.id)
_SEL_SCHEDULES_OF = (
    sa.select(*_SCHEDULE_SELECT)
    .where(schedules.c.process == sa.bindparam("process"))
    .order_by(schedules.c.version, schedules.c.position)
)
_SEL_SCHEDULES_OF_VERSION = _SEL_SCHEDULES_OF.where(schedules.c.version == sa.bindparam("version"))
_SEL_SCHEDULE = sa.select(*_SCHEDULE_SELECT).where(schedules.c.id == sa.bindparam("id"))
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
    sa.select(*_SCHEDULE_SELECT)
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


#: The backends the store supports, with their INSERT constructs (for ON CONFLICT upserts).
_INSERTS: dict[str, Callable[[sa.Table], Any]] = {
    "sqlite": sqlite.insert,
    "postgresql": postgresql.insert,
}


class _Prepared:
    """A statement compiled once for a dialect, run on the DBAPI cursor directly.

    SQLAlchemy compiles it (SQL text, parameter order, bind casts) and supplies the type
    processors, the same ones its own execution applies: :meth:`parameters` converts a dict of
    parameters (a bind parameter not given takes its value from the statement, as
    ``values(value=1)``), :meth:`row` converts a result row of ``columns``. ``keys`` are the
    parameter names an INSERT or UPDATE without explicit values sets (SQLAlchemy's
    ``column_keys``). ``statement`` is kept for executing through SQLAlchemy instead.
    """

    __slots__ = (
        "statement",
        "sql",
        "_dialect",
        "_columns",
        "_names",
        "_binders",
        "_defaults",
        "_readers",
        "_named",
    )

    def __init__(
        self,
        statement: sa.Executable,
        dialect: Dialect,
        columns: Sequence[sa.ColumnElement[Any]] = (),
        keys: Sequence[str] | None = None,
    ) -> None:
        if not isinstance(statement, sa.ClauseElement):
            raise TypeError(f"cannot prepare {statement!r}")
        compiled = statement.compile(dialect=dialect, column_keys=list(keys) if keys else None)
        if not isinstance(compiled, SQLCompiler):
            raise TypeError(f"{statement!r} did not compile to SQL")
        if compiled.escaped_bind_names:
            raise RuntimeError(f"bind names needing escapes in {compiled.string!r}")
        self.statement = statement
        self.sql = compiled.string
        self._dialect = dialect
        self._columns = tuple(columns)
        binds = {name: bind for bind, name in compiled.bind_names.items()}
        if any(bind.expanding for bind in binds.values()):
            raise ValueError(f"an expanding IN cannot be prepared: {compiled.string!r}")
        names = compiled.positiontup if dialect.positional else list(binds)
        if names is None:
            raise RuntimeError(f"no parameter order for {compiled.string!r}")
        self._names: tuple[str, ...] = tuple(names)
        self._named = not dialect.positional
        self._binders = tuple(
            binds[name].type.dialect_impl(dialect).bind_processor(dialect) for name in self._names
        )
        self._defaults: dict[str, Any] = dict(compiled.params)
        # (position, processor) of the result columns that have one; they depend on the
        # driver's column types (cursor.description), so they are found at the first result
        self._readers: tuple[tuple[int, Callable[[Any], Any]], ...] | None = None

    def parameters(self, params: Mapping[str, Any]) -> Sequence[Any] | dict[str, Any]:
        """The DBAPI parameters: positional or by name, as the driver's paramstyle wants."""
        defaults = self._defaults
        values = [
            (params[name] if name in params else defaults[name])
            if binder is None
            else binder(params[name] if name in params else defaults[name])
            for name, binder in zip(self._names, self._binders, strict=True)
        ]
        return dict(zip(self._names, values, strict=True)) if self._named else values

    def rows(
        self, raw: Sequence[Sequence[Any]], description: Sequence[Any]
    ) -> list[tuple[Any, ...]]:
        """Result rows with every value converted by its column's type (``description`` is
        the cursor's: the result processors of some types depend on the driver's type)."""
        readers = self._readers
        if readers is None:
            dialect = self._dialect
            processors = (
                column.type.dialect_impl(dialect).result_processor(dialect, described[1])
                for column, described in zip(self._columns, description, strict=True)
            )
            readers = self._readers = tuple(
                (position, processor)
                for position, processor in enumerate(processors)
                if processor is not None
            )
        converted = []
        for row in raw:
            values = list(row)
            for position, reader in readers:
                values[position] = reader(values[position])
            converted.append(tuple(values))
        return converted


class _Dialect:
    """The statements that differ by database, and the prepared statements of the hot path.

    * Upserts: ``INSERT ... ON CONFLICT`` in each dialect's construct.
    * Text order: refs and names sort by code point everywhere (what SQLite does and Python's
      ``sorted`` does); PostgreSQL sorts by the database's collation unless told ``COLLATE "C"``.
    """

    def __init__(self, dialect: Dialect) -> None:
        name = dialect.name
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
        # IN of bound literals (not an "expanding" list): the prepared form needs fixed SQL
        open_work = cases.c.status.in_([sa.literal(status) for status in _OPEN_WORK])
        self.inbox: sa.Executable = _select_cases(
            cases.c.assignee == sa.bindparam("user"), open_work
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

        def prepare(
            statement: sa.Executable,
            columns: Sequence[sa.ColumnElement[Any]] = (),
            keys: Sequence[str] | None = None,
        ) -> _Prepared:
            return _Prepared(statement, dialect, columns, keys)

        self._sa_dialect = dialect
        self.p_next_number = prepare(self.next_number, [counters.c.value])
        self.p_get_case = prepare(_SEL_CASE, _CASE_SELECT)
        self.p_insert_case = prepare(_INS_CASE, keys=_CASE_COLUMNS)
        self.p_subcases = prepare(self.subcases, _CASE_SELECT)
        self.p_inbox = prepare(self.inbox, _CASE_SELECT)
        self.p_responsibilities = prepare(self.responsibilities, _CASE_SELECT)
        self.p_get_action = prepare(_SEL_ACTION, _ACTION_SELECT)
        self.p_insert_action = prepare(_INS_ACTION, keys=_ACTION_COLUMNS)
        self.p_actions_of = prepare(self.actions_of, _ACTION_SELECT)
        self.p_get_workflow = prepare(_SEL_WORKFLOW, [workflows.c.state])
        self.p_put_workflow = prepare(self.put_workflow)
        self.p_append_event = prepare(_INS_EVENT, [events.c.id], keys=_EVENT_VALUES)
        self._updates: dict[tuple[str, tuple[str, ...]], _Prepared] = {}
        self._full_updates = {
            "cases": prepare(_UPD_CASE, keys=(*_CASE_VALUES, "w_ref", "w_version")),
            "actions": prepare(_UPD_ACTION, keys=(*_ACTION_VALUES, "w_ref", "w_version")),
        }

    def update(self, table: str, columns: tuple[str, ...]) -> _Prepared:
        """The prepared ``UPDATE <table> SET <columns> WHERE ref = :w_ref AND row_version =
        :w_version`` (``table`` is ``cases`` or ``actions``); every column once too many
        shapes were prepared."""
        key = (table, columns)
        prepared = self._updates.get(key)
        if prepared is None:
            if len(self._updates) >= _UPDATE_SHAPES:
                return self._full_updates[table]
            statement = _UPD_CASE if table == "cases" else _UPD_ACTION
            keys = (*columns, "w_ref", "w_version")
            prepared = self._updates[key] = _Prepared(statement, self._sa_dialect, keys=keys)
        return prepared


# rows are tuples in field order (see _check_columns): build the records positionally
_case_from: Callable[..., CaseRecord] = CaseRecord
_action_from: Callable[..., ActionRecord] = ActionRecord
_timer_from: Callable[..., TimerRecord] = TimerRecord
_event_from: Callable[..., EventRecord] = EventRecord
_definition_from: Callable[..., DefinitionRecord] = DefinitionRecord
_defect_from: Callable[..., DefectRecord] = DefectRecord
_file_from: Callable[..., FileRecord] = FileRecord
_link_from: Callable[..., LinkRecord] = LinkRecord
_schedule_from: Callable[..., ScheduleRecord] = ScheduleRecord


def _new_row(record: DefectRecord | FileRecord | LinkRecord) -> dict[str, Any]:
    """The INSERT parameters of a shared item not stored yet: every field but ``id``."""
    if record.id is not None:
        raise ValueError(f"{type(record).__name__} {record.id} is already stored")
    return {item.name: getattr(record, item.name) for item in fields(record) if item.name != "id"}


class SqlTransaction(StoreTransaction):
    """One command's reads and writes on one connection inside ``BEGIN ... COMMIT``.

    With ``fast`` the prepared statements run on the DBAPI connection directly (see
    :class:`_Prepared`); without, every statement goes through ``Connection.execute``.
    """

    __slots__ = ("_conn", "_dialect", "_raw", "_read")

    def __init__(self, connection: Connection, dialect: _Dialect, *, fast: bool = False) -> None:
        self._conn = connection
        self._dialect = dialect
        self._raw: DBAPIConnection | None = connection.connection.dbapi_connection if fast else None
        # (table, ref) -> the values (every column but ref) of the row as read or written
        # last in this transaction: an update writes only the columns that differ
        self._read: dict[tuple[str, str], tuple[Any, ...]] = {}

    @property
    def connection(self) -> Connection:
        """The connection of this transaction (for diagnostics and tests)."""
        return self._conn

    def _run(self, statement: sa.Executable, params: Mapping[str, Any]) -> sa.CursorResult[Any]:
        return self._conn.execute(statement, params)

    # -- prepared statements -----------------------------------------------------------
    def _execute(self, raw: DBAPIConnection, prepared: _Prepared, params: Mapping[str, Any]) -> Any:
        """Run ``prepared`` on a DBAPI cursor (returned open); errors are raised as SQLAlchemy
        raises them (``StatementError`` for a refused parameter, ``IntegrityError``...)."""
        dialect = self._conn.dialect
        try:
            parameters = prepared.parameters(params)
        except (ValueError, TypeError) as err:
            message = f"({type(err).__module__}.{type(err).__name__}) {err}"
            raise sa.exc.StatementError(message, prepared.sql, dict(params), err) from err
        cursor: DBAPICursor = raw.cursor()
        try:
            cursor.execute(prepared.sql, parameters)
        except dialect.loaded_dbapi.Error as err:
            invalidated = dialect.is_disconnect(err, raw, cursor)
            cursor.close()
            if invalidated:
                self._conn.invalidate(err)
            raise sa.exc.DBAPIError.instance(
                prepared.sql,
                parameters,
                err,
                dialect.loaded_dbapi.Error,
                connection_invalidated=invalidated,
                dialect=dialect,
            ) from err
        return cursor

    def _rows(self, prepared: _Prepared, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        raw = self._raw
        if raw is None:
            return [tuple(row) for row in self._conn.execute(prepared.statement, params)]
        cursor = self._execute(raw, prepared, params)
        try:
            return prepared.rows(cursor.fetchall(), cursor.description)
        finally:
            cursor.close()

    def _first(self, prepared: _Prepared, params: Mapping[str, Any]) -> tuple[Any, ...] | None:
        raw = self._raw
        if raw is None:
            row = self._conn.execute(prepared.statement, params).first()
            return None if row is None else tuple(row)
        cursor = self._execute(raw, prepared, params)
        try:
            found = cursor.fetchone()
            return None if found is None else prepared.rows([found], cursor.description)[0]
        finally:
            cursor.close()

    def _count(self, prepared: _Prepared, params: Mapping[str, Any]) -> int:
        """Run a write; the number of rows it changed."""
        raw = self._raw
        if raw is None:
            return self._conn.execute(prepared.statement, params).rowcount
        cursor = self._execute(raw, prepared, params)
        try:
            count: int = cursor.rowcount
        finally:
            cursor.close()
        return count

    def _update(
        self, table: str, ref: str, values: tuple[Any, ...], names: tuple[str, ...], version: int
    ) -> bool:
        """``UPDATE`` the row ``ref`` of ``table`` to ``values`` (of the columns ``names``,
        ``row_version`` among them, already bumped) if its row version is still ``version``;
        False when it is not. Only the columns that differ from the row as last read or
        written in this transaction are sent (every column when it was not read)."""
        before = self._read.get((table, ref))
        if before is None or before[names.index("row_version")] != version:
            params = dict(zip(names, values, strict=True))
        else:
            params = {
                name: new
                for name, old, new in zip(names, before, values, strict=True)
                if name in _ALWAYS_WRITTEN or old != new
            }
        columns = tuple(params)
        params["w_ref"] = ref
        params["w_version"] = version
        if self._count(self._dialect.update(table, columns), params) != 1:
            return False
        self._read[(table, ref)] = values
        return True

    def _returned(self, prepared: _Prepared, params: Mapping[str, Any]) -> Any:
        """Run a write with RETURNING one value; that value."""
        row = self._first(prepared, params)
        if row is None:
            raise RuntimeError(f"no row returned by {prepared.sql!r}")
        return row[0]

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
        return int(self._returned(self._dialect.p_next_number, {"counter": counter}))

    # -- cases ---------------------------------------------------------------------
    def insert_case(self, case: CaseRecord) -> None:
        params = {name: getattr(case, name) for name in _CASE_COLUMNS}
        params["row_version"] = 1
        self._count(self._dialect.p_insert_case, params)
        case.row_version = 1
        self._read[("cases", case.ref)] = tuple(params[name] for name in _CASE_VALUES)

    def get_case(self, ref: str) -> CaseRecord | None:
        row = self._first(self._dialect.p_get_case, {"ref": ref})
        if row is None:
            return None
        self._read[("cases", ref)] = row[1:]
        return _case_from(*row)

    def update_case(self, case: CaseRecord) -> None:
        values = tuple(
            case.row_version + 1 if name == "row_version" else getattr(case, name)
            for name in _CASE_VALUES
        )
        if not self._update("cases", case.ref, values, _CASE_VALUES, case.row_version):
            raise ConcurrencyConflict(
                f"case {case.ref} was changed by someone else (or does not exist); "
                "reload it and try again"
            )
        case.row_version += 1

    def subcases_of(self, ref: str) -> list[CaseRecord]:
        return [_case_from(*row) for row in self._rows(self._dialect.p_subcases, {"parent": ref})]

    def inbox(self, user: str) -> list[CaseRecord]:
        return [_case_from(*row) for row in self._rows(self._dialect.p_inbox, {"user": user})]

    def responsibilities(self, user: str) -> list[CaseRecord]:
        return [
            _case_from(*row) for row in self._rows(self._dialect.p_responsibilities, {"user": user})
        ]

    # -- actions -------------------------------------------------------------------
    def insert_action(self, action: ActionRecord) -> None:
        params = {name: getattr(action, name) for name in _ACTION_COLUMNS}
        params["row_version"] = 1
        self._count(self._dialect.p_insert_action, params)
        action.row_version = 1
        self._read[("actions", action.ref)] = tuple(params[name] for name in _ACTION_VALUES)

    def update_action(self, action: ActionRecord) -> None:
        values = tuple(
            action.row_version + 1 if name == "row_version" else getattr(action, name)
            for name in _ACTION_VALUES
        )
        if not self._update("actions", action.ref, values, _ACTION_VALUES, action.row_version):
            raise ConcurrencyConflict(
                f"action {action.ref} of case {action.case_ref} was changed by someone else "
                "(or does not exist); reload it and try again"
            )
        action.row_version += 1

    def get_action(self, ref: str) -> ActionRecord | None:
        row = self._first(self._dialect.p_get_action, {"ref": ref})
        if row is None:
            return None
        self._read[("actions", ref)] = row[1:]
        return _action_from(*row)

    def actions_of(self, case_ref: str) -> list[ActionRecord]:
        rows = self._rows(self._dialect.p_actions_of, {"case_ref": case_ref})
        read = self._read
        for row in rows:
            read[("actions", row[0])] = row[1:]
        return [_action_from(*row) for row in rows]

    # -- workflow state --------------------------------------------------------------
    def get_workflow(self, case_ref: str) -> str | None:
        row = self._first(self._dialect.p_get_workflow, {"case_ref": case_ref})
        return None if row is None or row[0] is None else str(row[0])

    def put_workflow(self, case_ref: str, state: str) -> None:
        self._count(self._dialect.p_put_workflow, {"w_case_ref": case_ref, "w_state": state})

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

    # -- schedules (C1) ------------------------------------------------------------
    def register_schedules(
        self, process: str, version: int, schedules: Sequence[ScheduleDef]
    ) -> list[ScheduleRecord]:
        key = {"process": process, "version": version}
        stored = [_schedule_from(*row) for row in self._run(_SEL_SCHEDULES_OF_VERSION, key)]
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
        return [_schedule_from(*row) for row in self._run(_SEL_SCHEDULES_OF, {"process": process})]

    def get_schedule(self, schedule_id: int) -> ScheduleRecord | None:
        row = self._run(_SEL_SCHEDULE, {"id": schedule_id}).first()
        return None if row is None else _schedule_from(*row)

    def due_schedules(self, now: datetime, limit: int = 1000) -> list[ScheduleRecord]:
        rows = self._run(_SEL_DUE_SCHEDULES, {"now": now, "limit": limit})
        return [_schedule_from(*row) for row in rows]

    def advance_schedule(
        self, schedule_id: int, expected_next_at: datetime, new_next_at: datetime
    ) -> bool:
        params = {"w_id": schedule_id, "w_expected": expected_next_at, "w_next": new_next_at}
        return self._run(_ADVANCE_SCHEDULE, params).rowcount == 1

    # -- timeline ------------------------------------------------------------------
    def append_event(self, event: EventRecord) -> int:
        if event.id is not None:
            raise ValueError(f"event {event.id} is already stored")
        params = {
            "ref": event.ref,
            "case_ref": event.case_ref,
            "at": event.at,
            "kind": event.kind,
            "by": event.by,
            "details": event.details,
        }
        event.id = int(self._returned(self._dialect.p_append_event, params))
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

    # -- items a case family shares (SC6): defects, files, links ---------------------
    def add_defect(self, record: DefectRecord) -> int:
        record.id = int(self._run(_INS_DEFECT, _new_row(record)).scalar_one())
        return record.id

    def update_defect(self, record: DefectRecord) -> None:
        if record.id is None:
            raise ValueError("a defect not stored yet (id None) cannot be updated")
        params: dict[str, Any] = {f"v_{name}": getattr(record, name) for name in _DEFECT_EDITABLE}
        params["w_id"] = record.id
        if self._run(_UPD_DEFECT, params).rowcount != 1:
            raise ConcurrencyConflict(
                f"defect {record.id} of case {record.root_ref} no longer exists "
                "(deleted by someone else); reload the case and try again"
            )

    def delete_defect(self, defect_id: int) -> bool:
        return self._run(_DEL_DEFECT, {"w_id": defect_id}).rowcount == 1

    def get_defect(self, defect_id: int) -> DefectRecord | None:
        row = self._run(_SEL_DEFECT, {"id": defect_id}).first()
        return None if row is None else _defect_from(*row)

    def defects_of(self, root_ref: str) -> list[DefectRecord]:
        return [_defect_from(*row) for row in self._run(_SEL_DEFECTS_OF, {"root_ref": root_ref})]

    def add_file(self, record: FileRecord) -> int:
        record.id = int(self._run(_INS_FILE, _new_row(record)).scalar_one())
        return record.id

    def files_of(self, root_ref: str) -> list[FileRecord]:
        return [_file_from(*row) for row in self._run(_SEL_FILES_OF, {"root_ref": root_ref})]

    def add_link(self, record: LinkRecord) -> int:
        record.id = int(self._run(_INS_LINK, _new_row(record)).scalar_one())
        return record.id

    def links_of(self, case_ref: str) -> list[LinkRecord]:
        return [_link_from(*row) for row in self._run(_SEL_LINKS_OF, {"ref": case_ref})]

    def linked_to(self, target_ref: str) -> list[LinkRecord]:
        return [_link_from(*row) for row in self._run(_SEL_LINKED_TO, {"ref": target_ref})]


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
        self._dialect = _Dialect(self._engine.dialect)
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
            yield SqlTransaction(connection, self._dialect, fast=self._fast_path())

    def _fast_path(self) -> bool:
        """True unless statements must go through SQLAlchemy's execute: when it logs them
        (``echo``) or listeners want to see them."""
        engine = self._engine
        if engine.echo:
            return False
        dispatch = engine.dispatch
        return not (
            dispatch.before_execute
            or dispatch.after_execute
            or dispatch.before_cursor_execute
            or dispatch.after_cursor_execute
        )

    def transaction(self) -> AbstractContextManager[StoreTransaction]:
        return self._transaction()

    def close(self) -> None:
        self._engine.dispose()

    def __repr__(self) -> str:
        return f"SqlStore({self._engine.url.render_as_string(hide_password=True)!r})"
