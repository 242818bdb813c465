"""The store's Alembic migrations: their configuration, and the upgrade run when a store
opens a database."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection

#: Where the Alembic environment and revisions live.
MIGRATIONS_DIR = Path(__file__).parents[1] / "migrations"

#: Key of the PostgreSQL advisory lock held while migrating (two engines starting at once).
_MIGRATION_LOCK_KEY = 0x6361_7365  # "case"


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
