"""enforcement: plans, officers (执法人员) and their terminals, their conflicts of interest, random draws and their checks,
inspections, their findings, penalty cases and documents; gap-free counters; hidden hazards name the record
they came from (source_ref)

Draws, checks, inspections and findings cross nodes (sync columns); officers and conflicts stay
at the agency's node.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05 12:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import anjian.db

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHEN = anjian.db.UTCDateTime(timezone=True)


def _synced(table: str) -> list[sa.schema.SchemaItem]:
    """The columns and key of a record that crosses nodes (SyncMixin)."""
    return [
        sa.Column("origin_node", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("uid", sa.String(length=36), nullable=False),
        sa.UniqueConstraint("uid", name=op.f(f"uq_{table}_uid")),
    ]


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    ref_table = target.split(".")[0]
    return sa.ForeignKeyConstraint(
        [column], [target], name=op.f(f"fk_{table}_{column}_{ref_table}")
    )


def _key(table: str) -> sa.PrimaryKeyConstraint:
    return sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}"))


def _of_enterprise(table: str) -> list[sa.schema.SchemaItem]:
    """The enterprise, division and category of a record that hangs off an enterprise
    (EnterpriseColumns)."""
    return [
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("division_code", sa.String(length=6), nullable=False),
        sa.Column("supervision_category", sa.String(length=32), nullable=False),
        _fk(table, "enterprise_id", "enterprises.id"),
        _fk(table, "division_code", "divisions.code"),
    ]


def _done_of_enterprise(table: str, verb: str) -> list[sa.schema.SchemaItem]:
    """Who made the record (``<verb>_by``) and when (``<verb>_at``), then the columns of a
    synced record of an enterprise: the tail the inspections, findings, penalty cases and
    documents share."""
    return [
        sa.Column(f"{verb}_by", sa.String(length=64), nullable=False),
        sa.Column(f"{verb}_at", WHEN, nullable=False),
        *_of_enterprise(table),
        *_synced(table),
    ]


def _indexes(table: str, *columns: str) -> None:
    for column in columns:
        op.create_index(op.f(f"ix_{table}_{column}"), table, [column])


def _create(table: str, *items: sa.schema.SchemaItem, indexed: Sequence[str] = ()) -> None:
    """Create a table keyed by an integer ``id`` (first column) and index the given columns."""
    op.create_table(table, sa.Column("id", sa.Integer(), nullable=False), *items, _key(table))
    _indexes(table, *indexed)


def upgrade() -> None:
    t = "enforcement_draws"
    _create(
        t,
        sa.Column("division_code", sa.String(length=6), nullable=False),
        sa.Column("categories", sa.JSON(), nullable=False),
        sa.Column("enterprise_count", sa.Integer(), nullable=False),
        sa.Column("inspectors_per_check", sa.Integer(), nullable=False),
        sa.Column("weighting", sa.String(length=16), nullable=False),
        sa.Column("seed", sa.String(length=64), nullable=False),
        sa.Column("population_hash", sa.String(length=64), nullable=False),
        sa.Column("population", sa.JSON(), nullable=False),
        sa.Column("drawn_at", WHEN, nullable=False),
        sa.Column("drawn_by", sa.String(length=64), nullable=False),
        *_synced(t),
        _fk(t, "division_code", "divisions.code"),
        indexed=("division_code",),
    )

    t = "enforcement_draw_checks"
    _create(
        t,
        sa.Column("draw_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("team", sa.JSON(), nullable=False),
        *_of_enterprise(t),
        *_synced(t),
        _fk(t, "draw_id", "enforcement_draws.id"),
        sa.UniqueConstraint("draw_id", "enterprise_id", name=op.f(f"uq_{t}_draw_id")),
        indexed=("draw_id", "enterprise_id", "division_code"),
    )

    t = "enforcement_inspectors"
    _create(
        t,
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("division_code", sa.String(length=6), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("certificate_no", sa.String(length=32), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        _fk(t, "division_code", "divisions.code"),
        _fk(t, "user_id", "users.id"),
        sa.UniqueConstraint("user_id", name=op.f(f"uq_{t}_user_id")),
        indexed=("division_code",),
    )

    t = "enforcement_conflicts"
    _create(
        t,
        sa.Column("inspector_id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("declared_at", WHEN, nullable=False),
        _fk(t, "enterprise_id", "enterprises.id"),
        _fk(t, "inspector_id", "enforcement_inspectors.id"),
        sa.UniqueConstraint("inspector_id", "enterprise_id", name=op.f(f"uq_{t}_inspector_id")),
        indexed=("inspector_id",),
    )

    t = "enforcement_inspections"
    _create(
        t,
        sa.Column("agency_division", sa.String(length=6), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("source_ref", sa.String(length=64), nullable=False),
        sa.Column("draw_check_id", sa.Integer(), nullable=True),
        sa.Column("team", sa.JSON(), nullable=False),
        sa.Column("checklist", sa.JSON(), nullable=False),
        sa.Column("planned_on", sa.Date(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("started_at", WHEN, nullable=True),
        sa.Column("finished_at", WHEN, nullable=True),
        sa.Column("summary", sa.Text(), nullable=False),
        *_done_of_enterprise(t, "created"),
        _fk(t, "agency_division", "divisions.code"),
        _fk(t, "draw_check_id", "enforcement_draw_checks.id"),
        indexed=("division_code", "enterprise_id", "state"),
    )

    t = "enforcement_findings"
    _create(
        t,
        sa.Column("inspection_id", sa.Integer(), nullable=False),
        sa.Column("item_code", sa.String(length=16), nullable=False),
        sa.Column("place", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("major", sa.Boolean(), nullable=False),
        sa.Column("hidden_hazard_id", sa.Integer(), nullable=True),
        sa.Column("lng", sa.Float(), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("photos", sa.JSON(), nullable=False),
        sa.Column("signatures", sa.JSON(), nullable=False),
        *_done_of_enterprise(t, "found"),
        _fk(t, "hidden_hazard_id", "hidden_hazards.id"),
        _fk(t, "inspection_id", "enforcement_inspections.id"),
        indexed=("inspection_id", "enterprise_id", "division_code"),
    )

    t = "enforcement_penalties"
    money = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    _create(
        t,
        sa.Column("agency_division", sa.String(length=6), nullable=False),
        sa.Column("inspection_id", sa.Integer(), nullable=True),
        sa.Column("basis_code", sa.String(length=16), nullable=False),
        sa.Column("article", sa.String(length=100), nullable=False),
        sa.Column("facts", sa.Text(), nullable=False),
        sa.Column("range_low_fen", money, nullable=False),
        sa.Column("range_high_fen", money, nullable=False),
        sa.Column("discretion", sa.String(length=16), nullable=False),
        sa.Column("proposed_fen", money, nullable=True),
        sa.Column("fine_fen", money, nullable=True),
        sa.Column("late_fee_fen", money, nullable=True),
        sa.Column("paid_fen", money, nullable=True),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("filed_on", sa.Date(), nullable=False),
        sa.Column("notified_on", sa.Date(), nullable=True),
        sa.Column("hearing_requested_on", sa.Date(), nullable=True),
        sa.Column("decided_on", sa.Date(), nullable=True),
        sa.Column("served_on", sa.Date(), nullable=True),
        sa.Column("paid_on", sa.Date(), nullable=True),
        sa.Column("closed_on", sa.Date(), nullable=True),
        *_done_of_enterprise(t, "created"),
        _fk(t, "agency_division", "divisions.code"),
        _fk(t, "inspection_id", "enforcement_inspections.id"),
        indexed=("enterprise_id", "division_code", "stage"),
    )

    t = "enforcement_documents"
    _create(
        t,
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("agency_division", sa.String(length=6), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("serial", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=64), nullable=False),
        sa.Column("inspection_id", sa.Integer(), nullable=True),
        sa.Column("penalty_id", sa.Integer(), nullable=True),
        sa.Column("content", sa.JSON(), nullable=False),
        *_done_of_enterprise(t, "issued"),
        _fk(t, "agency_division", "divisions.code"),
        _fk(t, "inspection_id", "enforcement_inspections.id"),
        _fk(t, "penalty_id", "enforcement_penalties.id"),
        sa.UniqueConstraint(
            "agency_division", "kind", "year", "serial", name=op.f(f"uq_{t}_agency_division")
        ),
        indexed=("inspection_id", "penalty_id", "enterprise_id", "division_code"),
    )

    t = "enforcement_plans"
    _create(
        t,
        sa.Column("agency_division", sa.String(length=6), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("categories", sa.JSON(), nullable=False),
        sa.Column("frequency", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        *_synced(t),
        _fk(t, "agency_division", "divisions.code"),
        sa.UniqueConstraint(
            "agency_division", "year", "name", name=op.f(f"uq_{t}_agency_division")
        ),
        indexed=("agency_division",),
    )

    t = "enforcement_terminals"
    _create(
        t,
        sa.Column("inspector_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("revoked_at", WHEN, nullable=True),
        sa.Column("last_upload_at", WHEN, nullable=True),
        _fk(t, "inspector_id", "enforcement_inspectors.id"),
        sa.UniqueConstraint("token_hash", name=op.f(f"uq_{t}_token_hash")),
        indexed=("inspector_id",),
    )
    t = "enforcement_terminal_receipts"
    op.create_table(
        t,
        sa.Column("change_id", sa.String(length=64), nullable=False),
        sa.Column("terminal_id", sa.Integer(), nullable=False),
        sa.Column("applied_at", WHEN, nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        _fk(t, "terminal_id", "enforcement_terminals.id"),
        sa.PrimaryKeyConstraint("change_id", name=op.f(f"pk_{t}")),
    )

    op.create_table(
        "counters",
        sa.Column("series", sa.String(length=128), nullable=False),
        sa.Column("last", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.PrimaryKeyConstraint("series", name=op.f("pk_counters")),
    )

    with op.batch_alter_table("hidden_hazards") as batch:
        batch.add_column(
            sa.Column("source_ref", sa.String(length=64), server_default="", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("hidden_hazards") as batch:
        batch.drop_column("source_ref")
    for table in (
        "enforcement_terminal_receipts",
        "enforcement_terminals",
        "counters",
        "enforcement_plans",
        "enforcement_documents",
        "enforcement_penalties",
        "enforcement_findings",
        "enforcement_inspections",
        "enforcement_conflicts",
        "enforcement_inspectors",
        "enforcement_draw_checks",
        "enforcement_draws",
    ):
        op.drop_table(table)
