"""The backends and records of the store contract (``tests/test_store_contract*.py``).

Backends: SQLite in memory, SQLite file, PostgreSQL 15 (a throwaway server for the session,
see tests/postgres.py; each test starts from emptied tables). ``tests/conftest.py`` loads this
module as a pytest plugin (``pytest_plugins``), so its fixtures are there for every test module
and its asserts are rewritten: a contract test asking for ``url``, ``store`` or ``seeded`` runs
on each backend. The contract's modules import the record builders below.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from postgres import postgres_server, postgres_url  # noqa: F401

from engine.model import DueRule, DueUnit, ScheduleDef
from engine.runtime.records import (
    ActionRecord,
    CaseRecord,
    DefectRecord,
    DefinitionRecord,
    FileRecord,
    LinkRecord,
    ScheduleRecord,
    TimerRecord,
)
from engine.runtime.sql_store import SqlStore
from engine.runtime.status import CaseStatus, HoldKind
from engine.runtime.store import StoreTransaction
from engine.runtime.tables import metadata

T0 = datetime(2026, 3, 2, 9, 30, 15, 123456, tzinfo=UTC)
BRUSSELS = ZoneInfo("Europe/Brussels")
UNICODE = "Réclamation — 東京 🚀 «ñ»"

R = TypeVar("R")


# -- backends ----------------------------------------------------------------------------
@pytest.fixture(scope="session")
def postgres_store_url(postgres_url: str) -> Iterator[str]:  # noqa: F811
    """The session's PostgreSQL database, migrated once."""
    SqlStore(postgres_url).close()
    yield postgres_url


def _empty_tables(url: str) -> None:
    """Delete every row (cheaper than TRUNCATE on tiny tables; foreign keys are deferred)."""
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    try:
        with engine.begin() as connection:
            for table in metadata.sorted_tables:
                connection.execute(sa.delete(table))
    finally:
        engine.dispose()


def _database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite-memory":
        return "sqlite://"
    if request.param == "sqlite-file":
        return f"sqlite:///{tmp_path / 'store.db'}"
    database: str = request.getfixturevalue("postgres_store_url")
    _empty_tables(database)
    return database


@pytest.fixture(params=["sqlite-memory", "sqlite-file", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database URL with an empty store (schema, no rows)."""
    return _database(request, tmp_path)


@pytest.fixture(params=["sqlite-file", "postgresql"])
def shared_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database URL that two stores can open at once (not a private in-memory one)."""
    return _database(request, tmp_path)


@pytest.fixture
def store(url: str) -> Iterator[SqlStore]:
    with SqlStore(url) as opened:
        yield opened


@pytest.fixture
def seeded(store: SqlStore) -> SqlStore:
    """The store with the definition ``claims`` v1 deployed (cases refer to it)."""
    with store.transaction() as tx:
        tx.add_definition(definition())
    return store


def run(store: SqlStore, work: Callable[[StoreTransaction], R]) -> R:
    """``work`` in one transaction of ``store``."""
    with store.transaction() as tx:
        return work(tx)


# -- records -------------------------------------------------------------------------------
def definition(process: str = "claims", version: int = 1) -> DefinitionRecord:
    return DefinitionRecord(
        process=process,
        version=version,
        digest=f"sha256:{process}{version}",
        source_name=f"{process}.yaml",
        source_kind="yaml",
        source=f"name: {process} # {UNICODE}\n".encode(),
        bpmn=b"<definitions>\x00\xff\xfe</definitions>",
        deployed_at=datetime(2026, 1, 5, 10, 0, 0, 1, tzinfo=BRUSSELS),
    )


def case(ref: str, **changes: Any) -> CaseRecord:
    """A minimal case: every optional field at its default."""
    record = CaseRecord(
        ref=ref,
        process="claims",
        version=1,
        status=CaseStatus.TO_DO,
        created_at=T0,
        created_by="alice",
    )
    return dataclasses.replace(record, **changes)


def full_case(ref: str) -> CaseRecord:
    """A case with every field set away from its default."""
    local = datetime(2026, 3, 2, 11, 0, 0, 999999, tzinfo=BRUSSELS)
    return CaseRecord(
        ref=ref,
        process="claims",
        version=1,
        status=CaseStatus.WAITING,
        created_at=local,
        created_by="Zoë",
        created_how="email",
        title=UNICODE,
        customer="ACME ☃",
        contract="K-17",
        service="gold",
        hold_kind=HoldKind.MORE_INFO,
        hold_reason="waiting for the customer's invoice",
        hold_until=local + timedelta(days=3),
        hold_started_at=local + timedelta(minutes=1),
        assignee="bob",
        last_assignee="carol",
        owner="dave",
        queue="claims-1",
        calendar="brussels",
        sla_started_at=local + timedelta(minutes=2),
        due=local + timedelta(hours=4),
        due_overridden=True,
        sla_paused_at=local + timedelta(minutes=3),
        sla_remaining=-3725.5,
        parent=None,
        subcase_count=2,
        data={"amount": 12.5, "tags": ["ü", 1, None, True], "nested": {"k": UNICODE}},
        highlighted=True,
        original_request_at=local - timedelta(days=1),
        created_from="C-0",
        first_resolved_by="erin",
        first_resolved_at=local + timedelta(hours=1),
        resolved_by="frank",
        resolved_at=local + timedelta(hours=2),
        status_set_by="grace",
        status_reason="more_info: invoice",
        status_set_at=local + timedelta(minutes=4),
        updated_by="heidi",
        updated_at=local + timedelta(minutes=5),
        keep_with_me=True,
        keep_actions_with_me=True,
        contacts=[{"name": "Łukasz", "roles": ["requester", "primary"]}],
        flow_finished=True,
        row_version=0,
    )


def action(ref: str, case_ref: str = "C-1", seq: int = 1, **changes: Any) -> ActionRecord:
    record = ActionRecord(
        ref=ref,
        case_ref=case_ref,
        action_type="check",
        title="Check the claim",
        stage=1,
        status=CaseStatus.TO_DO,
        created_at=T0,
        seq=seq,
    )
    return dataclasses.replace(record, **changes)


def full_action(ref: str, case_ref: str = "C-1") -> ActionRecord:
    local = datetime(2026, 3, 2, 12, 0, 0, 5, tzinfo=BRUSSELS)
    return ActionRecord(
        ref=ref,
        case_ref=case_ref,
        action_type="approve",
        title=UNICODE,
        stage=3,
        status=CaseStatus.IN_PROGRESS,
        created_at=local,
        seq=7,
        instructions="Vérifier «tout»",
        assignee="bob",
        queue="approvers",
        due=local + timedelta(hours=6),
        started_at=local + timedelta(minutes=1),
        completed_at=local + timedelta(minutes=2),
        completed_by="carol",
        ad_hoc=True,
        robot=True,
        task_id="3f2b7c1e-0000-4000-8000-000000000001",
        error="robot said: ✗",
        last_assignee="dave",
        closed_reason="rework",
        row_version=0,
    )


def datetimes_of(record: Any) -> list[datetime]:
    values = [getattr(record, item.name) for item in dataclasses.fields(record)]
    return [value for value in values if isinstance(value, datetime)]


def assert_utc(record: Any) -> None:
    for value in datetimes_of(record):
        assert value.tzinfo is UTC, value


def table_rows(store: SqlStore) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, sorted: to compare the whole database before and after."""
    dump: dict[str, list[tuple[Any, ...]]] = {}
    with store.engine.connect() as connection:
        for table in metadata.sorted_tables:
            rows = connection.execute(sa.select(table)).all()
            dump[table.name] = sorted((tuple(row) for row in rows), key=repr)
    return dump


# -- records of timers, schedules and shared items ---------------------------------------
def _timer(case_ref: str, minutes: int, kind: str = "hold_until") -> TimerRecord:
    return TimerRecord(case_ref=case_ref, kind=kind, fire_at=T0 + timedelta(minutes=minutes))


DAILY = ScheduleDef(DueRule(1, DueUnit.DAYS), T0, "Daily check")
HOURLY = ScheduleDef(DueRule(90, DueUnit.MINUTES), (T0 + timedelta(hours=1)).astimezone(BRUSSELS))


def _register(
    store: SqlStore, process: str, version: int, *schedules: ScheduleDef
) -> list[ScheduleRecord]:
    """Deploy ``process`` ``version`` (when new) and register its schedules, in one transaction."""
    with store.transaction() as tx:
        if tx.get_definition(process, version) is None:
            tx.add_definition(definition(process, version))
        return tx.register_schedules(process, version, schedules)


def _defect(root_ref: str, case_ref: str | None = None, **changes: Any) -> DefectRecord:
    record = DefectRecord(
        id=None,
        root_ref=root_ref,
        case_ref=case_ref or root_ref,
        category="billing",
        fault_party="agent",
        description=None,
        resolved=False,
        created_by="alice",
        created_at=T0,
        updated_at=T0,
    )
    return dataclasses.replace(record, **changes)


def _file(root_ref: str, case_ref: str | None = None, **changes: Any) -> FileRecord:
    record = FileRecord(
        id=None,
        root_ref=root_ref,
        case_ref=case_ref or root_ref,
        name="invoice.pdf",
        uri="s3://claims/invoice.pdf",
        media_type="application/pdf",
        added_by="alice",
        added_at=T0,
    )
    return dataclasses.replace(record, **changes)


def _link(case_ref: str, target_ref: str, relation: str = "related") -> LinkRecord:
    return LinkRecord(
        id=None,
        case_ref=case_ref,
        target_ref=target_ref,
        relation=relation,
        added_by="alice",
        added_at=T0,
    )


class Boom(Exception):
    pass
