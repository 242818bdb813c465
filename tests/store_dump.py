"""Test helpers: every stored row of an Engine's SQL store, and emptying the runtime tables."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from engine import Engine
from engine.runtime.sql_store import SqlStore
from engine.runtime.tables import definitions, metadata

Dump = dict[str, list[dict[str, Any]]]

#: SELECT * of every table of the store, in primary-key order (built once: compiled once).
DUMPS = [
    (table.name, sa.select(table).order_by(*table.primary_key.columns))
    for table in metadata.sorted_tables
]


def dump_tables(engine: Engine) -> Dump:
    """Every row of every table of the engine's store."""
    store = engine.store
    assert isinstance(store, SqlStore)
    with store.engine.connect() as connection:
        return {
            name: [dict(row._mapping) for row in connection.execute(sql)] for name, sql in DUMPS
        }


def empty_runtime_tables(engine: Engine) -> None:
    """Delete every row but the deployed definitions (foreign keys are deferred)."""
    store = engine.store
    assert isinstance(store, SqlStore)
    with store.engine.begin() as connection:
        for table in metadata.sorted_tables:
            if table is not definitions:
                connection.execute(sa.delete(table))
