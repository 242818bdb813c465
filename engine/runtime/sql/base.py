"""The state of one store transaction and the helpers that run its statements."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.engine.interfaces import DBAPIConnection, DBAPICursor

from engine.runtime.sql.dialect import SqlDialect
from engine.runtime.sql.prepared import Prepared
from engine.runtime.store import StoreTransaction

#: Columns an UPDATE always writes: JSON values may have been changed in place, so comparing
#: them with what was read proves nothing; ``row_version`` changes on every write.
_ALWAYS_WRITTEN = frozenset({"data", "contacts", "row_version"})


class SqlTransactionBase(StoreTransaction):
    """What every group of a transaction's methods works with: the connection, the store's
    :class:`SqlDialect`, the DBAPI connection when prepared statements run on it directly
    (``fast``), and the rows read or written so far (an update sends only what changed).

    ``_run`` executes a plain statement through SQLAlchemy; ``_rows``, ``_first``, ``_count``,
    ``_returned`` and ``_update`` run a :class:`Prepared` one.
    """

    __slots__ = ("_conn", "_dialect", "_raw", "_read")

    def __init__(self, connection: Connection, dialect: SqlDialect, *, fast: bool = False) -> None:
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
    def _execute(self, raw: DBAPIConnection, prepared: Prepared, params: Mapping[str, Any]) -> Any:
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

    def _rows(self, prepared: Prepared, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        raw = self._raw
        if raw is None:
            return [tuple(row) for row in self._conn.execute(prepared.statement, params)]
        cursor = self._execute(raw, prepared, params)
        try:
            return prepared.rows(cursor.fetchall(), cursor.description)
        finally:
            cursor.close()

    def _first(self, prepared: Prepared, params: Mapping[str, Any]) -> tuple[Any, ...] | None:
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

    def _count(self, prepared: Prepared, params: Mapping[str, Any]) -> int:
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

    def _returned(self, prepared: Prepared, params: Mapping[str, Any]) -> Any:
        """Run a write with RETURNING one value; that value."""
        row = self._first(prepared, params)
        if row is None:
            raise RuntimeError(f"no row returned by {prepared.sql!r}")
        return row[0]
