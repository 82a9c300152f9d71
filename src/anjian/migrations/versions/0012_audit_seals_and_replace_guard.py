"""audit: seals of the chain head (synced up); REPLACE refused; the head only moves forward

SQLite's ``INSERT OR REPLACE`` deletes the row it conflicts with without firing DELETE triggers
(unless recursive_triggers is on), so it rewrote an audit record past 0002's guards: an insert
whose seq exists is refused before it gets that far. The head row only ever moves one step
forward (each appended record flushes it once): moving it back to hide a cut tail, deleting or
replacing it is refused on both databases. On PostgreSQL ``INSERT ... ON CONFLICT DO UPDATE``
fires the UPDATE triggers, already refused for records and held to one step for the head.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 15:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import anjian.db

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_MSG = "audit records are append-only"
_HEAD_MSG = "the audit head only moves one record forward (audit records are append-only)"


def upgrade() -> None:
    op.create_table(
        "audit_seals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("division_code", sa.String(length=6), nullable=False),
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("sealed_at", anjian.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("mac", sa.String(length=64), nullable=False),
        sa.Column("origin_node", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", anjian.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("uid", sa.String(length=36), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_seals")),
        sa.UniqueConstraint("uid", name=op.f("uq_audit_seals_uid")),
    )
    with op.batch_alter_table("audit_seals", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_audit_seals_division_code"), ["division_code"], unique=False
        )

    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"""
            CREATE FUNCTION audit_head_forward_only() RETURNS trigger AS $$
            BEGIN
                IF TG_OP = 'UPDATE' AND NEW.id = OLD.id AND NEW.seq = OLD.seq + 1 THEN
                    RETURN NEW;
                END IF;
                IF TG_OP = 'INSERT' AND NOT EXISTS (SELECT 1 FROM audit_head) THEN
                    RETURN NEW;
                END IF;
                RAISE EXCEPTION '{_HEAD_MSG}';
            END $$ LANGUAGE plpgsql
        """)
        op.execute("""
            CREATE TRIGGER audit_head_guard BEFORE INSERT OR UPDATE OR DELETE ON audit_head
            FOR EACH ROW EXECUTE FUNCTION audit_head_forward_only()
        """)
        op.execute("""
            CREATE TRIGGER audit_head_no_truncate BEFORE TRUNCATE ON audit_head
            FOR EACH STATEMENT EXECUTE FUNCTION audit_head_forward_only()
        """)
        return
    op.execute(f"""
        CREATE TRIGGER audit_records_no_replace BEFORE INSERT ON audit_records
        WHEN EXISTS (SELECT 1 FROM audit_records WHERE seq = NEW.seq)
        BEGIN SELECT RAISE(ABORT, '{_MSG}'); END
    """)
    op.execute(f"""
        CREATE TRIGGER audit_head_single BEFORE INSERT ON audit_head
        WHEN EXISTS (SELECT 1 FROM audit_head)
        BEGIN SELECT RAISE(ABORT, '{_HEAD_MSG}'); END
    """)
    op.execute(f"""
        CREATE TRIGGER audit_head_forward BEFORE UPDATE ON audit_head
        WHEN NEW.id != OLD.id OR NEW.seq != OLD.seq + 1
        BEGIN SELECT RAISE(ABORT, '{_HEAD_MSG}'); END
    """)
    op.execute(f"""
        CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_head
        BEGIN SELECT RAISE(ABORT, '{_HEAD_MSG}'); END
    """)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER audit_head_no_truncate ON audit_head")
        op.execute("DROP TRIGGER audit_head_guard ON audit_head")
        op.execute("DROP FUNCTION audit_head_forward_only()")
    else:
        for name in (
            "audit_records_no_replace",
            "audit_head_single",
            "audit_head_forward",
            "audit_head_no_delete",
        ):
            op.execute(f"DROP TRIGGER {name}")
    with op.batch_alter_table("audit_seals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_seals_division_code"))
    op.drop_table("audit_seals")
