"""ops_node_health: the health each node of the subtree reports, one synced row per node

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-07 03:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from anjian.db import UTCDateTime

revision: str = "0030"
down_revision: str | None = "0029"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ops_node_health",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("division_code", sa.String(6), nullable=False),
        sa.Column("node_id", sa.String(64), nullable=False),
        sa.Column("reported_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("every_s", sa.Float(), nullable=False),
        sa.Column("backlog", sa.BigInteger(), nullable=True),
        sa.Column("lag_s", sa.Float(), nullable=True),
        sa.Column("last_backup_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("figures", sa.JSON(), nullable=False),
        sa.Column("uid", sa.String(36), nullable=False),
        sa.Column("origin_node", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ops_node_health")),
        sa.UniqueConstraint("uid", name=op.f("uq_ops_node_health_uid")),
    )
    op.create_index(op.f("ix_ops_node_health_division_code"), "ops_node_health", ["division_code"])


def downgrade() -> None:
    op.drop_index(op.f("ix_ops_node_health_division_code"), table_name="ops_node_health")
    op.drop_table("ops_node_health")
