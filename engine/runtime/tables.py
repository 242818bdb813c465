"""The SQLAlchemy Core schema of the store: one Table per record kind.

Column names are the field names of the records in :mod:`engine.runtime.records`, so a row
maps to a record with ``Record(**row._mapping)``. Two column types do the conversions:
:class:`UTCDateTime` (timezone-aware in, timezone-aware UTC out, also on SQLite, which has no
time zones) and :class:`EnumText` (a ``StrEnum`` stored as its value).

The migrations in ``engine/runtime/migrations`` create exactly this schema
(``tests/test_migrations.py`` compares them); change both together.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

from engine.runtime.records import FAULT_PARTIES
from engine.runtime.status import CaseStatus, HoldKind

#: Constraint names are deterministic, so migrations can refer to them.
NAMING_CONVENTION: dict[str, str] = {
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(sa.TypeDecorator[datetime]):
    """A timezone-aware datetime, returned in UTC.

    Naive datetimes are refused on write (ValueError, wrapped by SQLAlchemy in a
    ``StatementError``). SQLite stores the UTC wall time as text (its format sorts in time
    order); PostgreSQL stores ``timestamp with time zone``.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
            raise ValueError(f"naive datetime {value.isoformat()} refused: pass a timezone")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class EnumText(sa.TypeDecorator[Any]):
    """A ``StrEnum`` member stored as its value (``"To Do"``), read back as the member.

    Plain strings are accepted on write when they are a member's value.
    """

    impl = sa.String()
    cache_ok = True

    def __init__(self, enum_class: type[StrEnum]) -> None:
        super().__init__()
        self.enum_class = enum_class

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return str(self.enum_class(value).value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        return self.enum_class(value)


#: 64-bit ids on PostgreSQL; on SQLite only ``INTEGER PRIMARY KEY`` is the autoincrementing
#: rowid, so the column is INTEGER there (SQLite integers are 64-bit anyway).
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _fk(target: str) -> sa.ForeignKey:
    """A foreign key checked at commit (so rows may be written in any order in a command)."""
    return sa.ForeignKey(target, deferrable=True, initially="DEFERRED")


definitions = sa.Table(
    "definitions",
    metadata,
    sa.Column("process", sa.String(), primary_key=True),
    sa.Column("version", sa.Integer(), primary_key=True, autoincrement=False),
    sa.Column("digest", sa.String(), nullable=False),
    sa.Column("source_name", sa.String(), nullable=False),
    sa.Column("source_kind", sa.String(), nullable=False),
    sa.Column("source", sa.LargeBinary(), nullable=False),
    sa.Column("bpmn", sa.LargeBinary(), nullable=False),
    sa.Column("deployed_at", UTCDateTime(), nullable=False),
)

counters = sa.Table(
    "counters",
    metadata,
    sa.Column("name", sa.String(), primary_key=True),
    sa.Column("value", sa.BigInteger(), nullable=False),
)

cases = sa.Table(
    "cases",
    metadata,
    sa.Column("ref", sa.String(), primary_key=True),
    sa.Column("process", sa.String(), nullable=False),
    sa.Column("version", sa.Integer(), nullable=False),
    sa.Column("status", EnumText(CaseStatus), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("created_by", sa.String(), nullable=False),
    sa.Column("created_how", sa.String(), nullable=False),
    sa.Column("title", sa.Text()),
    sa.Column("customer", sa.String()),
    sa.Column("contract", sa.String()),
    sa.Column("service", sa.String()),
    sa.Column("hold_kind", EnumText(HoldKind)),
    sa.Column("hold_reason", sa.Text()),
    sa.Column("hold_until", UTCDateTime()),
    sa.Column("hold_started_at", UTCDateTime()),
    sa.Column("assignee", sa.String()),
    sa.Column("last_assignee", sa.String()),
    sa.Column("owner", sa.String()),
    sa.Column("queue", sa.String()),
    sa.Column("calendar", sa.String()),
    sa.Column("sla_started_at", UTCDateTime()),
    sa.Column("due", UTCDateTime()),
    sa.Column("due_overridden", sa.Boolean(), nullable=False),
    sa.Column("sla_paused_at", UTCDateTime()),
    sa.Column("sla_remaining", sa.Double()),
    sa.Column("parent", sa.String(), _fk("cases.ref")),
    sa.Column("subcase_count", sa.Integer(), nullable=False),
    sa.Column("data", sa.JSON(), nullable=False),
    sa.Column("highlighted", sa.Boolean(), nullable=False),
    sa.Column("original_request_at", UTCDateTime()),
    sa.Column("created_from", sa.String()),
    sa.Column("first_resolved_by", sa.String()),
    sa.Column("first_resolved_at", UTCDateTime()),
    sa.Column("resolved_by", sa.String()),
    sa.Column("resolved_at", UTCDateTime()),
    sa.Column("status_set_by", sa.String()),
    sa.Column("status_reason", sa.Text()),
    sa.Column("status_set_at", UTCDateTime()),
    sa.Column("updated_by", sa.String()),
    sa.Column("updated_at", UTCDateTime()),
    sa.Column("keep_with_me", sa.Boolean(), nullable=False),
    sa.Column("keep_actions_with_me", sa.Boolean(), nullable=False),
    sa.Column("contacts", sa.JSON(), nullable=False),
    sa.Column("flow_finished", sa.Boolean(), nullable=False),
    sa.Column("row_version", sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(
        ["process", "version"],
        ["definitions.process", "definitions.version"],
        deferrable=True,
        initially="DEFERRED",
    ),
    sa.Index("ix_cases_assignee_status", "assignee", "status"),
    sa.Index("ix_cases_owner_status", "owner", "status"),
    sa.Index("ix_cases_parent", "parent"),
)

actions = sa.Table(
    "actions",
    metadata,
    sa.Column("ref", sa.String(), primary_key=True),
    sa.Column("case_ref", sa.String(), _fk("cases.ref"), nullable=False),
    sa.Column("action_type", sa.String(), nullable=False),
    sa.Column("title", sa.Text(), nullable=False),
    sa.Column("stage", sa.Integer(), nullable=False),
    sa.Column("status", EnumText(CaseStatus), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("seq", sa.Integer(), nullable=False),
    sa.Column("instructions", sa.Text()),
    sa.Column("assignee", sa.String()),
    sa.Column("queue", sa.String()),
    sa.Column("due", UTCDateTime()),
    sa.Column("started_at", UTCDateTime()),
    sa.Column("completed_at", UTCDateTime()),
    sa.Column("completed_by", sa.String()),
    sa.Column("ad_hoc", sa.Boolean(), nullable=False),
    sa.Column("robot", sa.Boolean(), nullable=False),
    sa.Column("task_id", sa.String()),
    sa.Column("error", sa.Text()),
    sa.Column("last_assignee", sa.String()),
    sa.Column("closed_reason", sa.Text()),
    sa.Column("row_version", sa.Integer(), nullable=False),
    sa.Index("ix_actions_case_ref_seq", "case_ref", "seq"),
)

workflows = sa.Table(
    "workflows",
    metadata,
    sa.Column("case_ref", sa.String(), _fk("cases.ref"), primary_key=True),
    sa.Column("state", sa.Text(), nullable=False),
)

timers = sa.Table(
    "timers",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("case_ref", sa.String(), _fk("cases.ref"), nullable=False),
    sa.Column("kind", sa.String(), nullable=False),
    sa.Column("fire_at", UTCDateTime(), nullable=False),
    sa.Column("fired_at", UTCDateTime()),
    sa.Column("cancelled", sa.Boolean(), nullable=False),
    sa.Index("ix_timers_due", "fired_at", "cancelled", "fire_at"),
    sa.Index("ix_timers_case_ref", "case_ref"),
)

events = sa.Table(
    "events",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("ref", sa.String(), nullable=False),
    sa.Column("case_ref", sa.String(), _fk("cases.ref"), nullable=False),
    sa.Column("at", UTCDateTime(), nullable=False),
    sa.Column("kind", sa.String(), nullable=False),
    sa.Column("by", sa.String()),
    sa.Column("details", sa.JSON(), nullable=False),
    sa.Index("ix_events_ref_at_id", "ref", "at", "id"),
)

# -- items a case family shares (SC6), stored once on the family root ----------------------
#: The CHECK of ``defects.fault_party`` (V13); revision 0002 spells out the same text.
FAULT_PARTY_CHECK = "fault_party IN ({})".format(", ".join(f"'{p}'" for p in FAULT_PARTIES))

defects = sa.Table(
    "defects",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("root_ref", sa.String(), _fk("cases.ref"), nullable=False),
    sa.Column("case_ref", sa.String(), _fk("cases.ref"), nullable=False),
    sa.Column("category", sa.String(), nullable=False),
    sa.Column("fault_party", sa.String(), nullable=False),
    sa.Column("description", sa.Text()),
    sa.Column("resolved", sa.Boolean(), nullable=False),
    sa.Column("created_by", sa.String(), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.CheckConstraint(FAULT_PARTY_CHECK, name="fault_party"),
    sa.Index("ix_defects_root_ref_id", "root_ref", "id"),
)

files = sa.Table(
    "files",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("root_ref", sa.String(), _fk("cases.ref"), nullable=False),
    sa.Column("case_ref", sa.String(), _fk("cases.ref"), nullable=False),
    sa.Column("name", sa.Text(), nullable=False),
    sa.Column("uri", sa.Text(), nullable=False),
    sa.Column("media_type", sa.String()),
    sa.Column("added_by", sa.String(), nullable=False),
    sa.Column("added_at", UTCDateTime(), nullable=False),
    sa.Index("ix_files_root_ref_id", "root_ref", "id"),
)

links = sa.Table(
    "links",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("case_ref", sa.String(), _fk("cases.ref"), nullable=False),
    sa.Column("target_ref", sa.String(), nullable=False),
    sa.Column("relation", sa.String(), nullable=False),
    sa.Column("added_by", sa.String(), nullable=False),
    sa.Column("added_at", UTCDateTime(), nullable=False),
    sa.UniqueConstraint("case_ref", "target_ref", "relation"),
    sa.Index("ix_links_case_ref_id", "case_ref", "id"),
    sa.Index("ix_links_target_ref_id", "target_ref", "id"),
)

# -- C1: cases created on a schedule ----------------------------------------------------------
schedules = sa.Table(
    "schedules",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("process", sa.String(), nullable=False),
    sa.Column("version", sa.Integer(), nullable=False),
    sa.Column("position", sa.Integer(), nullable=False),
    sa.Column("next_at", UTCDateTime(), nullable=False),
    sa.Column("every_seconds", sa.BigInteger(), nullable=False),
    sa.Column("title", sa.Text()),
    sa.Column("active", sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(
        ["process", "version"],
        ["definitions.process", "definitions.version"],
        deferrable=True,
        initially="DEFERRED",
    ),
    sa.UniqueConstraint("process", "version", "position"),
    sa.CheckConstraint("every_seconds > 0", name="every_seconds"),
    sa.Index("ix_schedules_due", "active", "next_at"),
)
