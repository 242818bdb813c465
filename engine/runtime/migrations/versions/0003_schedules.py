"""Schedules that create cases (C1 "automatically on a schedule").

Revision ID: 0003
Revises: 0002
Create Date: 2026-06-03

A frozen copy of the ``schedules`` table of engine/runtime/tables.py as it was at this
revision. Only adds a table: the rows already stored are left as they are.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the schedules table with its index."""
    op.create_table(
        "schedules",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("process", sa.String(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("next_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("every_seconds", sa.BigInteger(), nullable=False),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.CheckConstraint("every_seconds > 0", name=op.f("ck_schedules_every_seconds")),
        sa.ForeignKeyConstraint(
            ["process", "version"],
            ["definitions.process", "definitions.version"],
            name=op.f("fk_schedules_process_definitions"),
            deferrable=True,
            initially="DEFERRED",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_schedules")),
        sa.UniqueConstraint(
            "process", "version", "position", name=op.f("uq_schedules_process_version_position")
        ),
        sa.Index("ix_schedules_due", "active", "next_at"),
    )


def downgrade() -> None:
    """Drop the schedules table (the rest of the schema and its rows stay)."""
    op.drop_table("schedules")
