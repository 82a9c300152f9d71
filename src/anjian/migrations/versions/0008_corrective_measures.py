"""corrective measures of an accident investigation and their follow-up

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29 20:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import anjian.db

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "corrective_measures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("accident_uid", sa.String(length=36), nullable=False),
        sa.Column("division_code", sa.String(length=6), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("responsible", sa.String(length=200), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("progress", sa.Text(), nullable=False),
        sa.Column("progress_at", anjian.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("progress_by", sa.String(length=64), nullable=False),
        sa.Column("verified_at", anjian.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("verified_by", sa.String(length=64), nullable=False),
        sa.Column("origin_node", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", anjian.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("uid", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["division_code"],
            ["divisions.code"],
            name=op.f("fk_corrective_measures_division_code_divisions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_corrective_measures")),
        sa.UniqueConstraint("uid", name=op.f("uq_corrective_measures_uid")),
    )
    with op.batch_alter_table("corrective_measures", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_corrective_measures_accident_uid"), ["accident_uid"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_corrective_measures_division_code"), ["division_code"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("corrective_measures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_corrective_measures_division_code"))
        batch_op.drop_index(batch_op.f("ix_corrective_measures_accident_uid"))
    op.drop_table("corrective_measures")
