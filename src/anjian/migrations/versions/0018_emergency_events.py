"""emergency: events (突发事件) with their timeline, tasks and dispatched resources

All four cross nodes (sync columns) and travel up, placed by their division; the lines name
their event by uid.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 01:12:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import anjian.db

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "emergency_event_dispatches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_uid", sa.String(length=36), nullable=False),
        sa.Column("division_code", sa.String(length=6), nullable=False),
        sa.Column("resource_uid", sa.String(length=36), nullable=False),
        sa.Column("resource_name", sa.String(length=200), nullable=False),
        sa.Column("resource_kind", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("times", sa.JSON(), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.Column("origin_node", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", anjian.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("uid", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["division_code"],
            ["divisions.code"],
            name=op.f("fk_emergency_event_dispatches_division_code_divisions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_emergency_event_dispatches")),
        sa.UniqueConstraint("uid", name=op.f("uq_emergency_event_dispatches_uid")),
    )
    with op.batch_alter_table("emergency_event_dispatches", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_emergency_event_dispatches_event_uid"), ["event_uid"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_emergency_event_dispatches_resource_uid"), ["resource_uid"], unique=False
        )

    op.create_table(
        "emergency_event_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_uid", sa.String(length=36), nullable=False),
        sa.Column("division_code", sa.String(length=6), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("at", anjian.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("by", sa.String(length=64), nullable=False),
        sa.Column("origin_node", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", anjian.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("uid", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["division_code"],
            ["divisions.code"],
            name=op.f("fk_emergency_event_entries_division_code_divisions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_emergency_event_entries")),
        sa.UniqueConstraint("uid", name=op.f("uq_emergency_event_entries_uid")),
    )
    with op.batch_alter_table("emergency_event_entries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_emergency_event_entries_at"), ["at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_emergency_event_entries_event_uid"), ["event_uid"], unique=False
        )

    op.create_table(
        "emergency_event_tasks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_uid", sa.String(length=36), nullable=False),
        sa.Column("division_code", sa.String(length=6), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("owner", sa.String(length=64), nullable=False),
        sa.Column("due_at", anjian.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("done_at", anjian.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("origin_node", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", anjian.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("uid", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["division_code"],
            ["divisions.code"],
            name=op.f("fk_emergency_event_tasks_division_code_divisions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_emergency_event_tasks")),
        sa.UniqueConstraint("uid", name=op.f("uq_emergency_event_tasks_uid")),
    )
    with op.batch_alter_table("emergency_event_tasks", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_emergency_event_tasks_event_uid"), ["event_uid"], unique=False
        )

    op.create_table(
        "emergency_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("event_type", sa.String(length=24), nullable=False),
        sa.Column("division_code", sa.String(length=6), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=True),
        sa.Column("place", sa.String(length=300), nullable=False),
        sa.Column("lng", sa.Float(), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("level", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("source_ref", sa.String(length=64), nullable=False),
        sa.Column("received_at", anjian.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("reporter", sa.String(length=200), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("commander", sa.String(length=64), nullable=False),
        sa.Column("site_commander", sa.String(length=64), nullable=False),
        sa.Column("groups", sa.JSON(), nullable=False),
        sa.Column("closed_at", anjian.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("review", sa.Text(), nullable=False),
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
            name=op.f("fk_emergency_events_division_code_divisions"),
        ),
        sa.ForeignKeyConstraint(
            ["enterprise_id"],
            ["enterprises.id"],
            name=op.f("fk_emergency_events_enterprise_id_enterprises"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_emergency_events")),
        sa.UniqueConstraint("uid", name=op.f("uq_emergency_events_uid")),
    )
    with op.batch_alter_table("emergency_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_emergency_events_division_code"), ["division_code"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_emergency_events_enterprise_id"), ["enterprise_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_emergency_events_number"), ["number"], unique=False)
        batch_op.create_index(batch_op.f("ix_emergency_events_state"), ["state"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("emergency_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_emergency_events_state"))
        batch_op.drop_index(batch_op.f("ix_emergency_events_number"))
        batch_op.drop_index(batch_op.f("ix_emergency_events_enterprise_id"))
        batch_op.drop_index(batch_op.f("ix_emergency_events_division_code"))

    op.drop_table("emergency_events")
    with op.batch_alter_table("emergency_event_tasks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_emergency_event_tasks_event_uid"))

    op.drop_table("emergency_event_tasks")
    with op.batch_alter_table("emergency_event_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_emergency_event_entries_event_uid"))
        batch_op.drop_index(batch_op.f("ix_emergency_event_entries_at"))

    op.drop_table("emergency_event_entries")
    with op.batch_alter_table("emergency_event_dispatches", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_emergency_event_dispatches_resource_uid"))
        batch_op.drop_index(batch_op.f("ix_emergency_event_dispatches_event_uid"))

    op.drop_table("emergency_event_dispatches")
