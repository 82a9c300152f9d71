"""sync_links.pruned_seq: how far the outbox upkeep deleted what the parent had stored

A parent restored from a backup older than the outbox retention asks its children to resend
changes they have deleted; the watermark lets a child say so instead of resending silently less.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 07:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sync_links", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "pruned_seq",
                sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                server_default="0",
                nullable=False,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("sync_links", schema=None) as batch_op:
        batch_op.drop_column("pruned_seq")
