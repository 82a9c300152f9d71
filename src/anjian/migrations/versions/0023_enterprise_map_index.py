"""one map: enterprises by position — a (lng, lat) index, covering on PostgreSQL the columns a
map answer filters and groups by (category, division, tombstone), so a box is read from the
index alone

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-06 05:12:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_enterprises_lng_lat",
        "enterprises",
        ["lng", "lat"],
        postgresql_include=["supervision_category", "division_code", "deleted"],
    )


def downgrade() -> None:
    op.drop_index("ix_enterprises_lng_lat", table_name="enterprises")
