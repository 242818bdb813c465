"""Initial schema: definitions, counters, cases, actions, workflows, timers, events.

Revision ID: 0001
Revises:
Create Date: 2026-05-20

A frozen copy of engine/runtime/tables.py as it was at this revision (migrations do not import
the live metadata). Datetimes are ``timestamp with time zone`` (text holding UTC on SQLite).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _when() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _big_id() -> sa.types.TypeEngine[int]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _fk_to_case(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["case_ref"],
        ["cases.ref"],
        name=op.f(f"fk_{table}_case_ref_cases"),
        deferrable=True,
        initially="DEFERRED",
    )


def upgrade() -> None:
    """Create every table with its indexes."""
    op.create_table(
        "definitions",
        sa.Column("process", sa.String(), nullable=False),
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("digest", sa.String(), nullable=False),
        sa.Column("source_name", sa.String(), nullable=False),
        sa.Column("source_kind", sa.String(), nullable=False),
        sa.Column("source", sa.LargeBinary(), nullable=False),
        sa.Column("bpmn", sa.LargeBinary(), nullable=False),
        sa.Column("deployed_at", _when(), nullable=False),
        sa.PrimaryKeyConstraint("process", "version", name=op.f("pk_definitions")),
    )
    op.create_table(
        "counters",
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_counters")),
    )
    op.create_table(
        "cases",
        sa.Column("ref", sa.String(), nullable=False),
        sa.Column("process", sa.String(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("created_at", _when(), nullable=False),
        sa.Column("created_by", sa.String(), nullable=False),
        sa.Column("created_how", sa.String(), nullable=False),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("customer", sa.String(), nullable=True),
        sa.Column("contract", sa.String(), nullable=True),
        sa.Column("service", sa.String(), nullable=True),
        sa.Column("hold_kind", sa.String(), nullable=True),
        sa.Column("hold_reason", sa.Text(), nullable=True),
        sa.Column("hold_until", _when(), nullable=True),
        sa.Column("hold_started_at", _when(), nullable=True),
        sa.Column("assignee", sa.String(), nullable=True),
        sa.Column("last_assignee", sa.String(), nullable=True),
        sa.Column("owner", sa.String(), nullable=True),
        sa.Column("queue", sa.String(), nullable=True),
        sa.Column("calendar", sa.String(), nullable=True),
        sa.Column("sla_started_at", _when(), nullable=True),
        sa.Column("due", _when(), nullable=True),
        sa.Column("due_overridden", sa.Boolean(), nullable=False),
        sa.Column("sla_paused_at", _when(), nullable=True),
        sa.Column("sla_remaining", sa.Double(), nullable=True),
        sa.Column("parent", sa.String(), nullable=True),
        sa.Column("subcase_count", sa.Integer(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("highlighted", sa.Boolean(), nullable=False),
        sa.Column("original_request_at", _when(), nullable=True),
        sa.Column("created_from", sa.String(), nullable=True),
        sa.Column("first_resolved_by", sa.String(), nullable=True),
        sa.Column("first_resolved_at", _when(), nullable=True),
        sa.Column("resolved_by", sa.String(), nullable=True),
        sa.Column("resolved_at", _when(), nullable=True),
        sa.Column("status_set_by", sa.String(), nullable=True),
        sa.Column("status_reason", sa.Text(), nullable=True),
        sa.Column("status_set_at", _when(), nullable=True),
        sa.Column("updated_by", sa.String(), nullable=True),
        sa.Column("updated_at", _when(), nullable=True),
        sa.Column("keep_with_me", sa.Boolean(), nullable=False),
        sa.Column("keep_actions_with_me", sa.Boolean(), nullable=False),
        sa.Column("contacts", sa.JSON(), nullable=False),
        sa.Column("flow_finished", sa.Boolean(), nullable=False),
        sa.Column("row_version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["parent"],
            ["cases.ref"],
            name=op.f("fk_cases_parent_cases"),
            deferrable=True,
            initially="DEFERRED",
        ),
        sa.ForeignKeyConstraint(
            ["process", "version"],
            ["definitions.process", "definitions.version"],
            name=op.f("fk_cases_process_definitions"),
            deferrable=True,
            initially="DEFERRED",
        ),
        sa.PrimaryKeyConstraint("ref", name=op.f("pk_cases")),
        sa.Index("ix_cases_assignee_status", "assignee", "status"),
        sa.Index("ix_cases_owner_status", "owner", "status"),
        sa.Index("ix_cases_parent", "parent"),
    )
    op.create_table(
        "actions",
        sa.Column("ref", sa.String(), nullable=False),
        sa.Column("case_ref", sa.String(), nullable=False),
        sa.Column("action_type", sa.String(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("stage", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("created_at", _when(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("instructions", sa.Text(), nullable=True),
        sa.Column("assignee", sa.String(), nullable=True),
        sa.Column("queue", sa.String(), nullable=True),
        sa.Column("due", _when(), nullable=True),
        sa.Column("started_at", _when(), nullable=True),
        sa.Column("completed_at", _when(), nullable=True),
        sa.Column("completed_by", sa.String(), nullable=True),
        sa.Column("ad_hoc", sa.Boolean(), nullable=False),
        sa.Column("robot", sa.Boolean(), nullable=False),
        sa.Column("task_id", sa.String(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("last_assignee", sa.String(), nullable=True),
        sa.Column("closed_reason", sa.Text(), nullable=True),
        sa.Column("row_version", sa.Integer(), nullable=False),
        _fk_to_case("actions"),
        sa.PrimaryKeyConstraint("ref", name=op.f("pk_actions")),
        sa.Index("ix_actions_case_ref_seq", "case_ref", "seq"),
    )
    op.create_table(
        "workflows",
        sa.Column("case_ref", sa.String(), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        _fk_to_case("workflows"),
        sa.PrimaryKeyConstraint("case_ref", name=op.f("pk_workflows")),
    )
    op.create_table(
        "timers",
        sa.Column("id", _big_id(), autoincrement=True, nullable=False),
        sa.Column("case_ref", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("fire_at", _when(), nullable=False),
        sa.Column("fired_at", _when(), nullable=True),
        sa.Column("cancelled", sa.Boolean(), nullable=False),
        _fk_to_case("timers"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_timers")),
        sa.Index("ix_timers_due", "fired_at", "cancelled", "fire_at"),
        sa.Index("ix_timers_case_ref", "case_ref"),
    )
    op.create_table(
        "events",
        sa.Column("id", _big_id(), autoincrement=True, nullable=False),
        sa.Column("ref", sa.String(), nullable=False),
        sa.Column("case_ref", sa.String(), nullable=False),
        sa.Column("at", _when(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("by", sa.String(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        _fk_to_case("events"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
        sa.Index("ix_events_ref_at_id", "ref", "at", "id"),
    )


def downgrade() -> None:
    """Drop everything (in reverse order of dependencies)."""
    for table in ("events", "timers", "workflows", "actions", "cases", "counters", "definitions"):
        op.drop_table(table)
