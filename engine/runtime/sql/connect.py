"""The SQLAlchemy engine of a store: pools, SQLite pragmas and ``BEGIN IMMEDIATE``.

In memory, every transaction uses one shared connection (``StaticPool``); a SQLite file is
opened in WAL mode with foreign keys on, and every transaction takes the write lock at BEGIN
so that two engines on one file take turns. See ``docs/storage.md``.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.pool import ConnectionPoolEntry, StaticPool


def is_memory_sqlite(url: sa.URL) -> bool:
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


def create_engine(url: sa.URL, echo: bool) -> Engine:
    backend = url.get_backend_name()
    if backend == "postgresql" and url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    if backend != "sqlite":
        return sa.create_engine(url, echo=echo)
    memory = is_memory_sqlite(url)
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
