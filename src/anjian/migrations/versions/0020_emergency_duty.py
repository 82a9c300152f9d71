"""emergency: duty (值班值守) — shifts, receipts (接报) and handovers of the agencies' duty desks

All three cross nodes (sync columns) and travel up, placed by the agency's division; a receipt
names the event it became by uid, a handover its shift.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06 03:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import anjian.db

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _sync_columns() -> list[sa.Column]:  # type: ignore[type-arg]
    """The columns every synced record carries (SyncMixin)."""
    return [
        sa.Column("origin_node", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", anjian.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("uid", sa.String(length=36), nullable=False),
    ]


def _keys(table: str) -> list[sa.Constraint]:
    """The division foreign key, the primary key and the unique uid of a duty table."""
    return [
        sa.ForeignKeyConstraint(
            ["division_code"], ["divisions.code"], name=op.f(f"fk_{table}_division_code_divisions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
        sa.UniqueConstraint("uid", name=op.f(f"uq_{table}_uid")),
    ]


def upgrade() -> None:
    op.create_table(
        "emergency_duty_shifts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("division_code", sa.String(length=6), nullable=False),
        sa.Column("starts_at", anjian.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", anjian.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("leader", sa.String(length=64), nullable=False),
        sa.Column("officers", sa.JSON(), nullable=False),
        sa.Column("duty_phone", sa.String(length=20), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", anjian.db.UTCDateTime(timezone=True), nullable=False),
        *_sync_columns(),
        *_keys("emergency_duty_shifts"),
    )
    with op.batch_alter_table("emergency_duty_shifts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_emergency_duty_shifts_division_code"), ["division_code"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_emergency_duty_shifts_starts_at"), ["starts_at"], unique=False
        )

    op.create_table(
        "emergency_duty_receipts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("division_code", sa.String(length=6), nullable=False),
        sa.Column("received_at", anjian.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("source_ref", sa.String(length=64), nullable=False),
        sa.Column("caller", sa.String(length=200), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("passed_on_at", anjian.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("passed_to", sa.String(length=200), nullable=False),
        sa.Column("event_uid", sa.String(length=36), nullable=True),
        sa.Column("logged_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", anjian.db.UTCDateTime(timezone=True), nullable=False),
        *_sync_columns(),
        *_keys("emergency_duty_receipts"),
    )
    with op.batch_alter_table("emergency_duty_receipts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_emergency_duty_receipts_division_code"), ["division_code"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_emergency_duty_receipts_event_uid"), ["event_uid"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_emergency_duty_receipts_received_at"), ["received_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_emergency_duty_receipts_source_ref"), ["source_ref"], unique=False
        )

    op.create_table(
        "emergency_duty_handovers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("division_code", sa.String(length=6), nullable=False),
        sa.Column("shift_uid", sa.String(length=36), nullable=True),
        sa.Column("handed_by", sa.String(length=64), nullable=False),
        sa.Column("taken_by", sa.String(length=64), nullable=False),
        sa.Column("at", anjian.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("open_items", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", anjian.db.UTCDateTime(timezone=True), nullable=False),
        *_sync_columns(),
        *_keys("emergency_duty_handovers"),
    )
    with op.batch_alter_table("emergency_duty_handovers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_emergency_duty_handovers_at"), ["at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_emergency_duty_handovers_division_code"),
            ["division_code"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("emergency_duty_handovers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_emergency_duty_handovers_division_code"))
        batch_op.drop_index(batch_op.f("ix_emergency_duty_handovers_at"))
    op.drop_table("emergency_duty_handovers")

    with op.batch_alter_table("emergency_duty_receipts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_emergency_duty_receipts_source_ref"))
        batch_op.drop_index(batch_op.f("ix_emergency_duty_receipts_received_at"))
        batch_op.drop_index(batch_op.f("ix_emergency_duty_receipts_event_uid"))
        batch_op.drop_index(batch_op.f("ix_emergency_duty_receipts_division_code"))
    op.drop_table("emergency_duty_receipts")

    with op.batch_alter_table("emergency_duty_shifts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_emergency_duty_shifts_starts_at"))
        batch_op.drop_index(batch_op.f("ix_emergency_duty_shifts_division_code"))
    op.drop_table("emergency_duty_shifts")
