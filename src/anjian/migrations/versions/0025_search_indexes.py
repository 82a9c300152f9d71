"""search at national scale: trigram indexes for the hidden-hazard ledger's search
(description, place, number) and the enterprise registry's (name, USCC) on PostgreSQL, so a
search of three characters or more over a million rows reads an index rather than every row;
skipped where pg_trgm is not available (and on SQLite)

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-06 20:55:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _trigrams_available() -> bool:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return False
    found = bind.execute(
        sa.text("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'")
    ).scalar()
    return found is not None


def upgrade() -> None:
    if not _trigrams_available():
        return
    # pg_trgm is a trusted extension: the database's owner may create it.
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute(
        "CREATE INDEX IF NOT EXISTS ix_hidden_hazards_search ON hidden_hazards USING gin "
        "(description gin_trgm_ops, place gin_trgm_ops, number gin_trgm_ops)"
    )
    op.execute(
        "CREATE INDEX IF NOT EXISTS ix_enterprises_search ON enterprises USING gin "
        "(name gin_trgm_ops, uscc gin_trgm_ops)"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_hidden_hazards_search")
        op.execute("DROP INDEX IF EXISTS ix_enterprises_search")
