"""emergency: plans (应急预案) with their filing (备案) and revision, and drills (演练)

Both cross nodes (sync columns) and travel up, placed by their division; a drill names its plan
by uid.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06 02:55:14.052401
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import anjian.db

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "emergency_drills",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("plan_uid", sa.String(length=36), nullable=False),
        sa.Column("division_code", sa.String(length=6), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=True),
        sa.Column("form", sa.String(length=16), nullable=False),
        sa.Column("scale", sa.String(length=16), nullable=False),
        sa.Column("organiser", sa.String(length=200), nullable=False),
        sa.Column("place", sa.String(length=300), nullable=False),
        sa.Column("planned_on", sa.Date(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=True),
        sa.Column("participants", sa.Integer(), nullable=True),
        sa.Column("record", sa.Text(), nullable=False),
        sa.Column("rating", sa.String(length=16), nullable=False),
        sa.Column("problems", sa.Text(), nullable=False),
        sa.Column("improvements", sa.Text(), nullable=False),
        sa.Column("evaluated_by", sa.String(length=64), nullable=False),
        sa.Column("evaluated_at", anjian.db.UTCDateTime(timezone=True), nullable=True),
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
            name=op.f("fk_emergency_drills_division_code_divisions"),
        ),
        sa.ForeignKeyConstraint(
            ["enterprise_id"],
            ["enterprises.id"],
            name=op.f("fk_emergency_drills_enterprise_id_enterprises"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_emergency_drills")),
        sa.UniqueConstraint("uid", name=op.f("uq_emergency_drills_uid")),
    )
    with op.batch_alter_table("emergency_drills", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_emergency_drills_division_code"), ["division_code"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_emergency_drills_enterprise_id"), ["enterprise_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_emergency_drills_plan_uid"), ["plan_uid"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_emergency_drills_planned_on"), ["planned_on"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_emergency_drills_state"), ["state"], unique=False)

    op.create_table(
        "emergency_plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.Column("division_code", sa.String(length=6), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=True),
        sa.Column("owner", sa.String(length=200), nullable=False),
        sa.Column("event_types", sa.JSON(), nullable=False),
        sa.Column("response_levels", sa.JSON(), nullable=False),
        sa.Column("roles", sa.JSON(), nullable=False),
        sa.Column("resource_uids", sa.JSON(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("revised_on", sa.Date(), nullable=True),
        sa.Column("edition", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("filing_state", sa.String(length=16), nullable=False),
        sa.Column("submitted_at", anjian.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("reviewed_at", anjian.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("reviewed_by", sa.String(length=64), nullable=False),
        sa.Column("review_opinion", sa.Text(), nullable=False),
        sa.Column("filing_number", sa.String(length=32), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", anjian.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("origin_node", sa.String(length=64), nullable=False),
        sa.Column("updated_at", anjian.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("uid", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["division_code"],
            ["divisions.code"],
            name=op.f("fk_emergency_plans_division_code_divisions"),
        ),
        sa.ForeignKeyConstraint(
            ["enterprise_id"],
            ["enterprises.id"],
            name=op.f("fk_emergency_plans_enterprise_id_enterprises"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_emergency_plans")),
        sa.UniqueConstraint("uid", name=op.f("uq_emergency_plans_uid")),
    )
    with op.batch_alter_table("emergency_plans", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_emergency_plans_category"), ["category"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_emergency_plans_division_code"), ["division_code"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_emergency_plans_enterprise_id"), ["enterprise_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_emergency_plans_filing_state"), ["filing_state"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_emergency_plans_title"), ["title"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("emergency_plans", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_emergency_plans_title"))
        batch_op.drop_index(batch_op.f("ix_emergency_plans_filing_state"))
        batch_op.drop_index(batch_op.f("ix_emergency_plans_enterprise_id"))
        batch_op.drop_index(batch_op.f("ix_emergency_plans_division_code"))
        batch_op.drop_index(batch_op.f("ix_emergency_plans_category"))

    op.drop_table("emergency_plans")
    with op.batch_alter_table("emergency_drills", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_emergency_drills_state"))
        batch_op.drop_index(batch_op.f("ix_emergency_drills_planned_on"))
        batch_op.drop_index(batch_op.f("ix_emergency_drills_plan_uid"))
        batch_op.drop_index(batch_op.f("ix_emergency_drills_enterprise_id"))
        batch_op.drop_index(batch_op.f("ix_emergency_drills_division_code"))

    op.drop_table("emergency_drills")
