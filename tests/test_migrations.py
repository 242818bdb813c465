"""The Alembic migrations create exactly the schema of engine/runtime/tables.py."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from postgres import PostgresServer, postgres_server  # noqa: F401

from engine.model import DueRule, DueUnit, ScheduleDef
from engine.runtime.records import DefectRecord, LinkRecord
from engine.runtime.sql_store import SqlStore, migration_config, upgrade_schema
from engine.runtime.tables import metadata

HEAD = "0003"
SHARED_ITEMS = "0002"
INITIAL = "0001"
INITIAL_TABLES = {"definitions", "counters", "cases", "actions", "workflows", "timers", "events"}
SHARED_ITEM_TABLES = {"defects", "files", "links"}
SCHEDULE_TABLES = {"schedules"}
TABLES = INITIAL_TABLES | SHARED_ITEM_TABLES | SCHEDULE_TABLES
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


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


def test_the_revisions_form_one_line_from_the_initial_one() -> None:
    scripts = ScriptDirectory.from_config(migration_config())
    assert scripts.get_heads() == [HEAD]
    assert [script.revision for script in scripts.walk_revisions()] == [
        HEAD,
        SHARED_ITEMS,
        INITIAL,
    ]
    assert scripts.get_revision(HEAD).down_revision == SHARED_ITEMS
    assert scripts.get_revision(SHARED_ITEMS).down_revision == INITIAL


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


def _upgrade(url: str, revision: str) -> None:
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    try:
        with engine.begin() as connection:
            command.upgrade(migration_config(connection), revision)
    finally:
        engine.dispose()


def _fill_initial_schema(url: str) -> None:
    """A deployed definition, a case with a sub-case, an action, workflow state, a timer, an
    event and a counter, written with plain SQL (the schema of revision 0001)."""
    statements = [
        "INSERT INTO definitions VALUES ('claims', 1, 'sha256:x', 'claims.yaml', 'yaml', "
        ":blob, :blob, :t0)",
        *(
            "INSERT INTO cases (ref, process, version, status, created_at, created_by, "
            "created_how, due_overridden, parent, subcase_count, data, highlighted, "
            "keep_with_me, keep_actions_with_me, contacts, flow_finished, row_version) VALUES "
            f"('{ref}', 'claims', 1, 'To Do', :t0, 'alice', 'manual', false, {parent}, 0, "
            "'{\"amount\": 12}', false, false, false, '[]', false, 3)"
            for ref, parent in (("C-1", "NULL"), ("C-1-1", "'C-1'"))
        ),
        "INSERT INTO actions (ref, case_ref, action_type, title, stage, status, created_at, seq, "
        "ad_hoc, robot, row_version) VALUES ('A-1', 'C-1', 'check', 'Check', 1, 'To Do', :t0, "
        "1, false, false, 1)",
        "INSERT INTO workflows VALUES ('C-1', '{\"w\": 1}')",
        "INSERT INTO timers (case_ref, kind, fire_at, cancelled) "
        "VALUES ('C-1', 'hold_until', :t0, false)",
        "INSERT INTO events (ref, case_ref, at, kind, by, details) "
        "VALUES ('C-1', 'C-1', :t0, 'created', 'alice', '{}')",
        "INSERT INTO counters VALUES ('case', 7)",
    ]
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    t0: Any = T0 if engine.dialect.name == "postgresql" else "2026-03-02 09:00:00.000000"
    try:
        with engine.begin() as connection:
            for statement in statements:
                connection.execute(sa.text(statement), {"blob": b"<x/>", "t0": t0})
    finally:
        engine.dispose()


def _initial_rows(engine: sa.Engine) -> dict[str, list[tuple[Any, ...]]]:
    with engine.connect() as connection:
        return {
            table: sorted(
                (tuple(row) for row in connection.exec_driver_sql(f"SELECT * FROM {table}")),
                key=repr,
            )
            for table in sorted(INITIAL_TABLES)
        }


def test_SC6_upgrading_0001_with_data_to_0002_keeps_every_row(empty_url: str) -> None:
    _upgrade(empty_url, INITIAL)
    _fill_initial_schema(empty_url)
    probe = sa.create_engine(empty_url, poolclass=sa.NullPool)
    try:
        assert versions_of(probe) == [INITIAL]
        assert not SHARED_ITEM_TABLES & set(sa.inspect(probe).get_table_names())
        before = _initial_rows(probe)
        assert all(before.values())
        with SqlStore(empty_url) as store:  # opening the store upgrades to the head
            assert versions_of(store.engine) == [HEAD]
            assert schema_differences(store.engine) == []
            with store.transaction() as tx:
                loaded = tx.get_case("C-1")
                assert loaded is not None and loaded.data == {"amount": 12}
                assert loaded.row_version == 3 and loaded.created_at == T0
                assert [sub.ref for sub in tx.subcases_of("C-1")] == ["C-1-1"]
                assert [action.ref for action in tx.actions_of("C-1")] == ["A-1"]
                assert tx.get_workflow("C-1") == '{"w": 1}'
                assert tx.next_number("case") == 8
                # the new tables work with the old rows
                defect = DefectRecord(
                    None, "C-1", "C-1-1", "billing", "agent", None, False, "bob", T0, T0
                )
                tx.add_defect(defect)
                tx.add_link(LinkRecord(None, "C-1", "C-9", "related", "bob", T0))
            with store.transaction() as tx:
                assert tx.defects_of("C-1") == [defect]
                assert [link.target_ref for link in tx.links_of("C-1")] == ["C-9"]
        after = _initial_rows(probe)
        assert after.pop("counters") == [("case", 8)]  # the one number taken above
        before.pop("counters")
        assert after == before
    finally:
        probe.dispose()


def test_downgrading_0002_drops_only_its_tables_and_keeps_the_data(empty_url: str) -> None:
    _upgrade(empty_url, INITIAL)
    _fill_initial_schema(empty_url)
    _upgrade(empty_url, HEAD)
    engine = sa.create_engine(empty_url, poolclass=sa.NullPool)
    try:
        before = _initial_rows(engine)
        with engine.begin() as connection:
            command.downgrade(migration_config(connection), INITIAL)
        assert versions_of(engine) == [INITIAL]
        assert set(sa.inspect(engine).get_table_names()) == INITIAL_TABLES | {"alembic_version"}
        assert _initial_rows(engine) == before
        _upgrade(empty_url, HEAD)
        assert schema_differences(engine) == []
    finally:
        engine.dispose()


def test_C1_upgrading_0002_with_data_to_0003_adds_working_schedules(empty_url: str) -> None:
    _upgrade(empty_url, INITIAL)
    _fill_initial_schema(empty_url)
    _upgrade(empty_url, SHARED_ITEMS)
    probe = sa.create_engine(empty_url, poolclass=sa.NullPool)
    try:
        assert "schedules" not in sa.inspect(probe).get_table_names()
        before = _initial_rows(probe)
        with SqlStore(empty_url) as store:  # opening the store upgrades to the head
            assert versions_of(store.engine) == [HEAD]
            assert schema_differences(store.engine) == []
            daily = ScheduleDef(DueRule(1, DueUnit.DAYS), T0, "Daily check")
            with store.transaction() as tx:
                [stored] = tx.register_schedules("claims", 1, [daily])
                assert tx.due_schedules(T0) == [stored]
                assert stored.every_seconds == 86_400 and stored.active
        assert _initial_rows(probe) == before
    finally:
        probe.dispose()


def test_C1_downgrading_0003_drops_only_the_schedules(empty_url: str) -> None:
    _upgrade(empty_url, INITIAL)
    _fill_initial_schema(empty_url)
    _upgrade(empty_url, HEAD)
    engine = sa.create_engine(empty_url, poolclass=sa.NullPool)
    try:
        before = _initial_rows(engine)
        with engine.begin() as connection:
            command.downgrade(migration_config(connection), SHARED_ITEMS)
        assert versions_of(engine) == [SHARED_ITEMS]
        names = set(sa.inspect(engine).get_table_names())
        assert names == INITIAL_TABLES | SHARED_ITEM_TABLES | {"alembic_version"}
        assert _initial_rows(engine) == before
        _upgrade(empty_url, HEAD)
        assert schema_differences(engine) == []
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
    assert "CREATE INDEX ix_defects_root_ref_id ON defects (root_ref, id)" in sql
    assert "CREATE INDEX ix_links_target_ref_id ON links (target_ref, id)" in sql
    assert "CREATE INDEX ix_schedules_due ON schedules (active, next_at)" in sql
    assert f"UPDATE alembic_version SET version_num='{HEAD}' WHERE" in sql
    assert f"INSERT INTO alembic_version (version_num) VALUES ('{INITIAL}')" in sql


def test_opening_a_store_leaves_logging_alone(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    root = logging.getLogger()
    before = (root.level, list(root.handlers), logging.getLogger("alembic").handlers[:])
    with caplog.at_level(logging.WARNING), SqlStore(f"sqlite:///{tmp_path / 'quiet.db'}"):
        pass
    assert (root.level, list(root.handlers), logging.getLogger("alembic").handlers) == before
    assert caplog.records == []
