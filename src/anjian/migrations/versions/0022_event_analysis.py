"""emergency: an event keeps its latest threat-zone analysis (扩散分析), synced with it

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-06 04:39:16.272042
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("emergency_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("analysis", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("emergency_events", schema=None) as batch_op:
        batch_op.drop_column("analysis")
