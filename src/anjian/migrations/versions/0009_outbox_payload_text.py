"""outbox: payload kept as JSON text, no index on uid

The forwarder passes a change on as the JSON text it was stored as; PostgreSQL's json type
re-parsed every row written to validate it, and nothing looked changes up by uid (readers go by
seq), while every row written paid for the index: together about half of what storing a
received change cost the database.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29 23:50:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_uid"))
        batch_op.alter_column(
            "payload",
            existing_type=sa.JSON(),
            type_=sa.Text(),
            existing_nullable=False,
            postgresql_using="payload::text",
        )


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.alter_column(
            "payload",
            existing_type=sa.Text(),
            type_=sa.JSON(),
            existing_nullable=False,
            postgresql_using="payload::json",
        )
        batch_op.create_index(batch_op.f("ix_outbox_uid"), ["uid"], unique=False)
