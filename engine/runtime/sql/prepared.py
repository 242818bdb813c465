"""Statements compiled once for a dialect and run on the DBAPI cursor directly.

SQLAlchemy's per-execution work (cache key, execution context, result object) costs several
times what SQLite itself spends on a primary-key lookup: the statements every command runs are
therefore compiled once per store and executed by the transaction on its DBAPI connection,
with the type processors SQLAlchemy itself would apply. See ``docs/performance.md``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.compiler import SQLCompiler


class Prepared:
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
