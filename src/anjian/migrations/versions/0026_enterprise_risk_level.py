"""enterprises: their worst risk level and number of live risk points, kept on the enterprise
(derived from the risk points, filled here for the records already held), and a partial
covering index of the graded enterprises by place, so the one map's risk layer reads a box
from the index alone

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-06 20:45:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GRADED = "risk_level IS NOT NULL AND deleted IS false"
LIVE = "r.enterprise_id = enterprises.id AND r.deleted IS false"
RANK = (
    "CASE r.level WHEN 'major' THEN 4 WHEN 'significant' THEN 3 WHEN 'general' THEN 2 "
    "WHEN 'low' THEN 1 ELSE 0 END"
)


def upgrade() -> None:
    op.add_column("enterprises", sa.Column("risk_level", sa.String(16), nullable=True))
    op.add_column(
        "enterprises",
        sa.Column("risk_points", sa.Integer(), nullable=False, server_default="0"),
    )
    op.execute(
        f"UPDATE enterprises SET "
        f"risk_points = (SELECT count(*) FROM risk_points r WHERE {LIVE}), "
        f"risk_level = (SELECT CASE max({RANK}) WHEN 4 THEN 'major' WHEN 3 THEN 'significant' "
        f"WHEN 2 THEN 'general' WHEN 1 THEN 'low' END FROM risk_points r WHERE {LIVE})"
    )
    op.create_index(
        "ix_enterprises_risk",
        "enterprises",
        ["lng", "lat"],
        postgresql_include=["risk_level", "supervision_category", "division_code"],
        postgresql_where=sa.text(GRADED),
        sqlite_where=sa.text(GRADED),
    )


def downgrade() -> None:
    op.drop_index("ix_enterprises_risk", table_name="enterprises")
    with op.batch_alter_table("enterprises") as batch:
        batch.drop_column("risk_points")
        batch.drop_column("risk_level")
