"""The Alembic migrations create exactly the schema of engine/runtime/tables.py."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from postgres import PostgresServer, postgres_server  # noqa: F401

from engine.runtime.sql_store import SqlStore, migration_config, upgrade_schema
from engine.runtime.tables import metadata

HEAD = "0001"
TABLES = {"definitions", "counters", "cases", "actions", "workflows", "timers", "events"}


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """URL of a database with nothing in it."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'empty.db'}"
    server: PostgresServer = request.getfixturevalue("postgres_server")
    return server.new_database()


@pytest.fixture
def migrated(empty_url: str) -> Iterator[SqlStore]:
    with SqlStore(empty_url) as store:
        yield store


def schema_differences(engine: sa.Engine) -> list[Any]:
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "compare_server_default": True}
        )
        return list(compare_metadata(context, metadata))


def versions_of(engine: sa.Engine) -> list[str]:
    with engine.connect() as connection:
        return list(connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalars())


def test_there_is_one_head_the_initial_revision() -> None:
    scripts = ScriptDirectory.from_config(migration_config())
    assert scripts.get_heads() == [HEAD]
    assert [script.revision for script in scripts.walk_revisions()] == [HEAD]


def test_migrating_an_empty_database_gives_exactly_the_metadata(migrated: SqlStore) -> None:
    assert schema_differences(migrated.engine) == []
    assert set(sa.inspect(migrated.engine).get_table_names()) == TABLES | {"alembic_version"}
    assert versions_of(migrated.engine) == [HEAD]


def test_upgrading_twice_is_harmless_and_keeps_the_data(migrated: SqlStore) -> None:
    with migrated.transaction() as tx:
        assert tx.next_number("case") == 1
    with migrated.engine.begin() as connection:
        upgrade_schema(connection)
        upgrade_schema(connection)
    url = migrated.engine.url.render_as_string(hide_password=False)
    with SqlStore(url) as again, again.transaction() as tx:
        assert tx.next_number("case") == 2
    assert versions_of(migrated.engine) == [HEAD]
    assert schema_differences(migrated.engine) == []


def test_the_alembic_command_line_path_upgrades_and_downgrades(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    config = migration_config()
    config.set_main_option("sqlalchemy.url", url)
    command.upgrade(config, "head")
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    try:
        assert schema_differences(engine) == []
        command.downgrade(config, "base")
        assert sa.inspect(engine).get_table_names() == ["alembic_version"]
        assert versions_of(engine) == []
    finally:
        engine.dispose()


def test_the_command_line_path_needs_a_url() -> None:
    with pytest.raises(RuntimeError, match="sqlalchemy.url"):
        command.upgrade(migration_config(), "head")


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql+psycopg"])
def test_offline_mode_prints_the_schema_sql(dialect: str) -> None:
    config = migration_config()
    config.set_main_option("sqlalchemy.url", f"{dialect}://")
    config.output_buffer = io.StringIO()
    command.upgrade(config, "head", sql=True)
    sql = config.output_buffer.getvalue()
    for table in TABLES:
        assert f"CREATE TABLE {table} (" in sql
    assert "CREATE INDEX ix_cases_assignee_status ON cases (assignee, status)" in sql
    assert "DEFERRABLE INITIALLY DEFERRED" in sql
    assert f"INSERT INTO alembic_version (version_num) VALUES ('{HEAD}')" in sql


def test_opening_a_store_leaves_logging_alone(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    root = logging.getLogger()
    before = (root.level, list(root.handlers), logging.getLogger("alembic").handlers[:])
    with caplog.at_level(logging.WARNING), SqlStore(f"sqlite:///{tmp_path / 'quiet.db'}"):
        pass
    assert (root.level, list(root.handlers), logging.getLogger("alembic").handlers) == before
    assert caplog.records == []
