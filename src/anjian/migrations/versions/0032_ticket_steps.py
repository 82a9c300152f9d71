"""ops_ticket_steps: steps a team above takes on a ticket kept at a node below (synced down)

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-07 04:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from anjian.db import UTCDateTime

revision: str = "0032"
down_revision: str | None = "0031"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    when = UTCDateTime(timezone=True)
    op.create_table(
        "ops_ticket_steps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_uid", sa.String(36), nullable=False),
        sa.Column("division_code", sa.String(6), nullable=False),
        sa.Column("step", sa.String(16), nullable=False),
        sa.Column("by", sa.String(100), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("knowledge", sa.JSON(), nullable=False),
        sa.Column("taken_at", when, nullable=False),
        sa.Column("uid", sa.String(36), nullable=False),
        sa.Column("origin_node", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", when, nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ops_ticket_steps")),
        sa.UniqueConstraint("uid", name=op.f("uq_ops_ticket_steps_uid")),
    )
    for column in ("ticket_uid", "division_code"):
        op.create_index(op.f(f"ix_ops_ticket_steps_{column}"), "ops_ticket_steps", [column])


def downgrade() -> None:
    for column in ("ticket_uid", "division_code"):
        op.drop_index(op.f(f"ix_ops_ticket_steps_{column}"), table_name="ops_ticket_steps")
    op.drop_table("ops_ticket_steps")
