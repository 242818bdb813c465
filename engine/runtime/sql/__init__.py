"""The pieces of the SQLAlchemy store (``engine.runtime.sql_store``), by what they hold.

* ``rows``: record fields as columns; rows built into records positionally.
* ``prepared``: :class:`~engine.runtime.sql.prepared.Prepared`, a statement compiled once and
  run on the DBAPI cursor.
* ``dialect``: the supported backends, the statements that differ by database and the
  prepared statements of the hot path (:class:`~engine.runtime.sql.dialect.SqlDialect`).
* ``connect``: creating the SQLAlchemy engine (SQLite pragmas, ``BEGIN IMMEDIATE``).
* ``migrate``: the Alembic configuration and the upgrade run when a store opens.
* ``base``: the transaction's state and the helpers every group runs statements with.
* ``definitions``, ``cases``, ``timers``, ``items``: the transaction's methods, one mixin per
  group of tables, combined by ``engine.runtime.sql_store.SqlTransaction``.

See ``docs/storage.md``.
"""
