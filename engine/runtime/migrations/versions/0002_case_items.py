"""Items a case family shares (SC6): defects, files, links.

Revision ID: 0002
Revises: 0001
Create Date: 2026-05-27

A frozen copy of the ``defects``, ``files`` and ``links`` tables of engine/runtime/tables.py as
they were at this revision. Only adds tables: the rows already stored are left as they are.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: The new tables, in the order they are created (dropped in reverse).
NEW_TABLES = ("defects", "files", "links")


def _when() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _big_id() -> sa.types.TypeEngine[int]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _fk_to_case(table: str, column: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column],
        ["cases.ref"],
        name=op.f(f"fk_{table}_{column}_cases"),
        deferrable=True,
        initially="DEFERRED",
    )


def upgrade() -> None:
    """Create the defects, files and links tables with their indexes."""
    op.create_table(
        "defects",
        sa.Column("id", _big_id(), autoincrement=True, nullable=False),
        sa.Column("root_ref", sa.String(), nullable=False),
        sa.Column("case_ref", sa.String(), nullable=False),
        sa.Column("category", sa.String(), nullable=False),
        sa.Column("fault_party", sa.String(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("resolved", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(), nullable=False),
        sa.Column("created_at", _when(), nullable=False),
        sa.Column("updated_at", _when(), nullable=False),
        sa.CheckConstraint(
            "fault_party IN ('agent', 'service centre', 'customer')",
            name=op.f("ck_defects_fault_party"),
        ),
        _fk_to_case("defects", "root_ref"),
        _fk_to_case("defects", "case_ref"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_defects")),
        sa.Index("ix_defects_root_ref_id", "root_ref", "id"),
    )
    op.create_table(
        "files",
        sa.Column("id", _big_id(), autoincrement=True, nullable=False),
        sa.Column("root_ref", sa.String(), nullable=False),
        sa.Column("case_ref", sa.String(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("uri", sa.Text(), nullable=False),
        sa.Column("media_type", sa.String(), nullable=True),
        sa.Column("added_by", sa.String(), nullable=False),
        sa.Column("added_at", _when(), nullable=False),
        _fk_to_case("files", "root_ref"),
        _fk_to_case("files", "case_ref"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_files")),
        sa.Index("ix_files_root_ref_id", "root_ref", "id"),
    )
    op.create_table(
        "links",
        sa.Column("id", _big_id(), autoincrement=True, nullable=False),
        sa.Column("case_ref", sa.String(), nullable=False),
        sa.Column("target_ref", sa.String(), nullable=False),
        sa.Column("relation", sa.String(), nullable=False),
        sa.Column("added_by", sa.String(), nullable=False),
        sa.Column("added_at", _when(), nullable=False),
        _fk_to_case("links", "case_ref"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_links")),
        sa.UniqueConstraint(
            "case_ref",
            "target_ref",
            "relation",
            name=op.f("uq_links_case_ref_target_ref_relation"),
        ),
        sa.Index("ix_links_case_ref_id", "case_ref", "id"),
        sa.Index("ix_links_target_ref_id", "target_ref", "id"),
    )


def downgrade() -> None:
    """Drop the three tables (the rest of the schema and its rows stay)."""
    for table in reversed(NEW_TABLES):
        op.drop_table(table)
