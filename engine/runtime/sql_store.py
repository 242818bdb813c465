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
(:class:`~engine.runtime.sql.prepared.Prepared`). That skips SQLAlchemy's per-execution work
(cache key, execution context, result object), which costs several times what SQLite itself
spends on a primary-key lookup. When the engine logs statements (``echo``) or has execution
listeners, they go through SQLAlchemy's ``Connection.execute`` instead, so logging and
listeners see every statement.

This module is the entry point; the pieces live in ``engine.runtime.sql`` by what they hold
(rows, prepared statements, dialects, connections, migrations, and the transaction's methods
per group of tables). See ``docs/storage.md`` and ``docs/performance.md``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

from sqlalchemy.engine import Engine, make_url

from engine.runtime.sql.cases import SqlCases
from engine.runtime.sql.connect import create_engine, is_memory_sqlite
from engine.runtime.sql.definitions import SqlDefinitions
from engine.runtime.sql.dialect import INSERTS, SqlDialect
from engine.runtime.sql.items import SqlItems
from engine.runtime.sql.migrate import MIGRATIONS_DIR, migration_config, upgrade_schema
from engine.runtime.sql.timers import SqlTimers
from engine.runtime.store import Store, StoreTransaction

__all__ = [
    "MIGRATIONS_DIR",
    "SqlStore",
    "SqlTransaction",
    "migration_config",
    "upgrade_schema",
]


class SqlTransaction(SqlDefinitions, SqlCases, SqlTimers, SqlItems):
    """One command's reads and writes on one connection inside ``BEGIN ... COMMIT``.

    With ``fast`` the prepared statements run on the DBAPI connection directly (see
    :class:`~engine.runtime.sql.prepared.Prepared`); without, every statement goes through
    ``Connection.execute``. The methods are grouped by the tables they hold: definitions and
    counters, cases and actions, timers and schedules, case items (timeline, defects, files,
    links); the state and helpers they share are in
    :class:`~engine.runtime.sql.base.SqlTransactionBase`.
    """

    __slots__ = ()


class SqlStore(Store):
    """The store on a SQLAlchemy URL; creates or upgrades the schema when opened."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        parsed = make_url(url)
        if parsed.get_backend_name() not in INSERTS:
            raise ValueError(
                f"unsupported database {parsed.get_backend_name()!r} in "
                f"{parsed.render_as_string(hide_password=True)!r}: use sqlite or postgresql"
            )
        self._engine = create_engine(parsed, echo)
        self._dialect = SqlDialect(self._engine.dialect)
        # one in-memory connection is shared: serialise the transactions that use it
        self._lock: AbstractContextManager[Any] = (
            threading.RLock() if is_memory_sqlite(parsed) else nullcontext()
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
