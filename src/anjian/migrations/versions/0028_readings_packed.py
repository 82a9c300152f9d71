"""readings_packed (PostgreSQL): finished days of readings packed one row per point and hour,
times as millisecond offsets in the hour, values and status codes as arrays (the status array
absent when every reading was a normal measurement); partitioned by day like the readings, so
the retention drops whole days. Nothing on SQLite, whose readings are never packed.

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-06 23:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0028"
down_revision: str | None = "0027"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        "CREATE TABLE readings_packed (point_id integer NOT NULL, hour bigint NOT NULL, "
        "ts integer[] NOT NULL, value double precision[] NOT NULL, status smallint[], "
        "CONSTRAINT pk_readings_packed PRIMARY KEY (point_id, hour)) PARTITION BY RANGE (hour)"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TABLE readings_packed")
