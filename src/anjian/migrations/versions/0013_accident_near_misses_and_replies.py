"""accidents: 较大涉险事故 (kind, Order No. 21 Art. 26 criterion); investigations entrusted to the
unit (Art. 19), the report's submission and its reply (批复, Art. 32)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 18:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import anjian.db

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("accidents", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=16), server_default="accident", nullable=False)
        )
        batch_op.add_column(
            sa.Column(
                "near_miss_criterion", sa.String(length=24), server_default="", nullable=False
            )
        )
        batch_op.create_index(batch_op.f("ix_accidents_kind"), ["kind"], unique=False)
    with op.batch_alter_table("investigations", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("entrusted_to_unit", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(
            sa.Column("report_submitted_at", anjian.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("reply_extension_days", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(sa.Column("replied_on", sa.Date(), nullable=True))
        batch_op.add_column(
            sa.Column("reply_by", sa.String(length=200), server_default="", nullable=False)
        )
        batch_op.add_column(
            sa.Column("reply_doc_no", sa.String(length=64), server_default="", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("investigations", schema=None) as batch_op:
        for name in (
            "reply_doc_no",
            "reply_by",
            "replied_on",
            "reply_extension_days",
            "report_submitted_at",
            "entrusted_to_unit",
        ):
            batch_op.drop_column(name)
    with op.batch_alter_table("accidents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_accidents_kind"))
        batch_op.drop_column("near_miss_criterion")
        batch_op.drop_column("kind")
