"""one map: the open hidden hazards by enterprise and grade, and the live risk points by
enterprise — partial indexes covering on PostgreSQL what the map filters and scopes by, so a
national view counts them from the indexes alone

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-06 07:50:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = "state IN ('found', 'registered', 'rectifying', 'rectified') AND deleted IS false"


def upgrade() -> None:
    op.create_index(
        "ix_hidden_hazards_open",
        "hidden_hazards",
        ["enterprise_id", "grade"],
        postgresql_include=["division_code", "supervision_category", "state", "overdue"],
        postgresql_where=sa.text(OPEN),
        sqlite_where=sa.text(OPEN),
    )
    op.create_index(
        "ix_risk_points_live",
        "risk_points",
        ["enterprise_id"],
        postgresql_include=["level", "division_code", "supervision_category"],
        postgresql_where=sa.text("deleted IS false"),
        sqlite_where=sa.text("deleted IS false"),
    )


def downgrade() -> None:
    op.drop_index("ix_risk_points_live", table_name="risk_points")
    op.drop_index("ix_hidden_hazards_open", table_name="hidden_hazards")
