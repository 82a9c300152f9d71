"""outbox: AUTOINCREMENT again on SQLite

Migration 0009 rebuilt the outbox table on SQLite (batch mode), and the rebuilt table lost
AUTOINCREMENT: SQLite then numbers a new row max(seq) + 1, so once the outbox upkeep has deleted
the newest rows (a quiet node whose every change the parent stored long ago) a new change would
reuse a sequence number the parent has already acknowledged and never be sent. Rebuilt with
AUTOINCREMENT, whose counter never goes back. PostgreSQL's sequence never did.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 07:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    with op.batch_alter_table(
        "outbox", recreate="always", table_kwargs={"sqlite_autoincrement": True}
    ):
        pass
    # the counter starts from the highest number ever given, not from what is left
    bind.execute(
        sa.text(
            "UPDATE sqlite_sequence SET seq = max(seq, (SELECT coalesce(max(seq), 0) "
            "FROM outbox)) WHERE name = 'outbox'"
        )
    )


def downgrade() -> None:
    pass  # AUTOINCREMENT is what the model asks for: nothing to undo
