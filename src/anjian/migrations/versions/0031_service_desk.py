"""ops_routing_rules (node-local) and ops_tickets (synced): the service desk

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-07 03:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from anjian.db import UTCDateTime

revision: str = "0031"
down_revision: str | None = "0030"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ops_routing_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("division_code", sa.String(6), nullable=False),
        sa.Column("team", sa.String(100), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ops_routing_rules")),
        sa.UniqueConstraint("category", "division_code", name="uq_ops_routing_rule"),
    )
    when = UTCDateTime(timezone=True)
    op.create_table(
        "ops_tickets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("division_code", sa.String(6), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("requester", sa.String(100), nullable=False),
        sa.Column("cause", sa.String(200), nullable=True),
        sa.Column("team", sa.String(100), nullable=False),
        sa.Column("team_division", sa.String(6), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("owner", sa.String(64), nullable=False),
        sa.Column("opened_at", when, nullable=False),
        sa.Column("own_due_at", when, nullable=False),
        sa.Column("resolve_due_at", when, nullable=False),
        sa.Column("owned_at", when, nullable=True),
        sa.Column("resolved_at", when, nullable=True),
        sa.Column("closed_at", when, nullable=True),
        sa.Column("resolution", sa.Text(), nullable=False),
        sa.Column("escalations", sa.Integer(), nullable=False),
        sa.Column("escalated_for", sa.String(16), nullable=True),
        sa.Column("knowledge", sa.JSON(), nullable=False),
        sa.Column("satisfaction", sa.Integer(), nullable=True),
        sa.Column("feedback", sa.Text(), nullable=False),
        sa.Column("uid", sa.String(36), nullable=False),
        sa.Column("origin_node", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", when, nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ops_tickets")),
        sa.UniqueConstraint("uid", name=op.f("uq_ops_tickets_uid")),
    )
    for column in ("number", "division_code", "cause", "state"):
        op.create_index(op.f(f"ix_ops_tickets_{column}"), "ops_tickets", [column])


def downgrade() -> None:
    for column in ("number", "division_code", "cause", "state"):
        op.drop_index(op.f(f"ix_ops_tickets_{column}"), table_name="ops_tickets")
    op.drop_table("ops_tickets")
    op.drop_table("ops_routing_rules")
