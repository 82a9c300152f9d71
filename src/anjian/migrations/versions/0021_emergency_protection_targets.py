"""emergency: protection targets (防护目标) — schools, hospitals and population points that
threat zones list

The table crosses nodes (sync columns) and travels up, placed by its division.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06 03:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import anjian.db

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "emergency_protection_targets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("division_code", sa.String(length=6), nullable=False),
        sa.Column("address", sa.String(length=300), nullable=False),
        sa.Column("lng", sa.Float(), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("population", sa.Integer(), nullable=True),
        sa.Column("contact_name", sa.String(length=64), nullable=False),
        sa.Column("contact_phone_enc", sa.String(length=255), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", anjian.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("origin_node", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", anjian.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("uid", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["division_code"],
            ["divisions.code"],
            name=op.f("fk_emergency_protection_targets_division_code_divisions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_emergency_protection_targets")),
        sa.UniqueConstraint("uid", name=op.f("uq_emergency_protection_targets_uid")),
    )
    with op.batch_alter_table("emergency_protection_targets", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_emergency_protection_targets_division_code"),
            ["division_code"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_emergency_protection_targets_kind"), ["kind"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_emergency_protection_targets_name"), ["name"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("emergency_protection_targets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_emergency_protection_targets_name"))
        batch_op.drop_index(batch_op.f("ix_emergency_protection_targets_kind"))
        batch_op.drop_index(batch_op.f("ix_emergency_protection_targets_division_code"))

    op.drop_table("emergency_protection_targets")
