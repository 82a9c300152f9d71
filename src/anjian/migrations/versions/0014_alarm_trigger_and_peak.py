"""alarms: when the peak was reached (peak_at) and the set point the raising value crossed
(trigger_threshold)

An alarm already kept the value that raised it (``value``) and the worst value while it lasted
(``peak``). Escalation (二级 → 一级) replaced ``threshold`` with the worse set point, so a board
read "20.4 against 40" for an alarm raised at 20.4 over H = 20 and escalated at HH = 40: the set
point the raising value crossed is kept apart now, and the time of the peak with it.

Backfill: ``trigger_threshold`` is ``threshold`` where the raising value is beyond it (the alarm
was not escalated since), otherwise unknown; ``peak_at`` is ``raised_at`` where the peak is the
raising value, otherwise unknown.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import anjian.db

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("alarms", schema=None) as batch_op:
        batch_op.add_column(sa.Column("trigger_threshold", sa.Float(), nullable=True))
        batch_op.add_column(
            sa.Column("peak_at", anjian.db.UTCDateTime(timezone=True), nullable=True)
        )
    op.execute(
        "UPDATE alarms SET trigger_threshold = threshold "
        "WHERE threshold IS NOT NULL AND value IS NOT NULL AND ("
        "(bound IN ('hh', 'h') AND value >= threshold) "
        "OR (bound IN ('ll', 'l') AND value <= threshold))"
    )
    op.execute("UPDATE alarms SET peak_at = raised_at WHERE peak IS NOT NULL AND peak = value")


def downgrade() -> None:
    with op.batch_alter_table("alarms", schema=None) as batch_op:
        batch_op.drop_column("peak_at")
        batch_op.drop_column("trigger_threshold")
