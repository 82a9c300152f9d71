"""emergency: resources (应急资源), the supplies in warehouses and their transfers (调拨)

All three cross nodes (sync columns) and travel up, placed by their division.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 00:27:11
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import anjian.db

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "emergency_resources",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("division_code", sa.String(length=6), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=True),
        sa.Column("owner", sa.String(length=200), nullable=False),
        sa.Column("address", sa.String(length=300), nullable=False),
        sa.Column("lng", sa.Float(), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("specialty", sa.String(length=200), nullable=False),
        sa.Column("headcount", sa.Integer(), nullable=True),
        sa.Column("capacity", sa.Integer(), nullable=True),
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
            name=op.f("fk_emergency_resources_division_code_divisions"),
        ),
        sa.ForeignKeyConstraint(
            ["enterprise_id"],
            ["enterprises.id"],
            name=op.f("fk_emergency_resources_enterprise_id_enterprises"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_emergency_resources")),
        sa.UniqueConstraint("uid", name=op.f("uq_emergency_resources_uid")),
    )
    with op.batch_alter_table("emergency_resources", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_emergency_resources_division_code"), ["division_code"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_emergency_resources_enterprise_id"), ["enterprise_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_emergency_resources_kind"), ["kind"], unique=False)
        batch_op.create_index(batch_op.f("ix_emergency_resources_name"), ["name"], unique=False)

    op.create_table(
        "emergency_supplies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("warehouse_id", sa.Integer(), nullable=False),
        sa.Column("division_code", sa.String(length=6), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("unit", sa.String(length=16), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=True),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.Column("origin_node", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", anjian.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("uid", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["division_code"],
            ["divisions.code"],
            name=op.f("fk_emergency_supplies_division_code_divisions"),
        ),
        sa.ForeignKeyConstraint(
            ["enterprise_id"],
            ["enterprises.id"],
            name=op.f("fk_emergency_supplies_enterprise_id_enterprises"),
        ),
        sa.ForeignKeyConstraint(
            ["warehouse_id"],
            ["emergency_resources.id"],
            name=op.f("fk_emergency_supplies_warehouse_id_emergency_resources"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_emergency_supplies")),
        sa.UniqueConstraint("uid", name=op.f("uq_emergency_supplies_uid")),
    )
    with op.batch_alter_table("emergency_supplies", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_emergency_supplies_division_code"), ["division_code"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_emergency_supplies_enterprise_id"), ["enterprise_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_emergency_supplies_warehouse_id"), ["warehouse_id"], unique=False
        )

    op.create_table(
        "emergency_transfers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("from_warehouse_id", sa.Integer(), nullable=False),
        sa.Column("to_warehouse_id", sa.Integer(), nullable=False),
        sa.Column("division_code", sa.String(length=6), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=True),
        sa.Column("supply_name", sa.String(length=100), nullable=False),
        sa.Column("unit", sa.String(length=16), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("transferred_by", sa.String(length=64), nullable=False),
        sa.Column("transferred_at", anjian.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("origin_node", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", anjian.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("uid", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["division_code"],
            ["divisions.code"],
            name=op.f("fk_emergency_transfers_division_code_divisions"),
        ),
        sa.ForeignKeyConstraint(
            ["enterprise_id"],
            ["enterprises.id"],
            name=op.f("fk_emergency_transfers_enterprise_id_enterprises"),
        ),
        sa.ForeignKeyConstraint(
            ["from_warehouse_id"],
            ["emergency_resources.id"],
            name=op.f("fk_emergency_transfers_from_warehouse_id_emergency_resources"),
        ),
        sa.ForeignKeyConstraint(
            ["to_warehouse_id"],
            ["emergency_resources.id"],
            name=op.f("fk_emergency_transfers_to_warehouse_id_emergency_resources"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_emergency_transfers")),
        sa.UniqueConstraint("uid", name=op.f("uq_emergency_transfers_uid")),
    )
    with op.batch_alter_table("emergency_transfers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_emergency_transfers_division_code"), ["division_code"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_emergency_transfers_enterprise_id"), ["enterprise_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_emergency_transfers_from_warehouse_id"),
            ["from_warehouse_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_emergency_transfers_to_warehouse_id"), ["to_warehouse_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("emergency_transfers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_emergency_transfers_to_warehouse_id"))
        batch_op.drop_index(batch_op.f("ix_emergency_transfers_from_warehouse_id"))
        batch_op.drop_index(batch_op.f("ix_emergency_transfers_enterprise_id"))
        batch_op.drop_index(batch_op.f("ix_emergency_transfers_division_code"))

    op.drop_table("emergency_transfers")
    with op.batch_alter_table("emergency_supplies", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_emergency_supplies_warehouse_id"))
        batch_op.drop_index(batch_op.f("ix_emergency_supplies_enterprise_id"))
        batch_op.drop_index(batch_op.f("ix_emergency_supplies_division_code"))

    op.drop_table("emergency_supplies")
    with op.batch_alter_table("emergency_resources", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_emergency_resources_name"))
        batch_op.drop_index(batch_op.f("ix_emergency_resources_kind"))
        batch_op.drop_index(batch_op.f("ix_emergency_resources_enterprise_id"))
        batch_op.drop_index(batch_op.f("ix_emergency_resources_division_code"))

    op.drop_table("emergency_resources")
