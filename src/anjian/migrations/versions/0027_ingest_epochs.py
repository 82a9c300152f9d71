"""monitoring_ingest_epochs: per enterprise, the ingest worker that holds its points and
their evaluator state in memory, and a counter every other write to them raises, so that
worker notices its memory is stale (local; not synced)

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-06 23:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0027"
down_revision: str | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "monitoring_ingest_epochs",
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("epoch", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("owner", sa.String(200), nullable=True),
        sa.PrimaryKeyConstraint("enterprise_id", name=op.f("pk_monitoring_ingest_epochs")),
    )


def downgrade() -> None:
    op.drop_table("monitoring_ingest_epochs")
