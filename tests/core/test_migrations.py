"""Every migration goes down as well as up, as when an operator rolls an upgrade back: from the
newest revision, one revision at a time down to an empty database holding the reference data
it had, then up again, on each backend; the schema after the round trip is the one the upgrade
built."""

from __future__ import annotations

from typing import Any

from alembic import command
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect

from anjian.db import make_engine
from anjian.migrate import alembic_config, upgrade


def _schema(engine: Engine) -> dict[str, Any]:
    """Tables with their columns (name, type, nullable), primary key, indexes and foreign keys;
    partitions of the readings (made as days come, not by migrations) left out."""
    seen = inspect(engine)
    return {
        table: {
            "columns": sorted(
                (c["name"], str(c["type"]), c["nullable"]) for c in seen.get_columns(table)
            ),
            "pk": seen.get_pk_constraint(table)["constrained_columns"],
            "indexes": sorted(
                (i["name"], tuple(str(c) for c in i["column_names"]), bool(i["unique"]))
                for i in seen.get_indexes(table)
            ),
            "fks": sorted(
                (tuple(f["constrained_columns"]), f["referred_table"])
                for f in seen.get_foreign_keys(table)
            ),
        }
        for table in seen.get_table_names()
        if not table.startswith(("readings_2", "readings_packed_2"))
    }


def _current(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def test_every_migration_goes_down_and_up_again(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        built = _schema(engine)
        revisions = list(ScriptDirectory.from_config(alembic_config()).walk_revisions())
        assert _current(engine) == revisions[0].revision  # the newest: the head
        for below in [r.down_revision for r in revisions]:
            with engine.begin() as conn:
                cfg = alembic_config()
                cfg.attributes["connection"] = conn
                command.downgrade(cfg, "-1")
            assert _current(engine) == below
        assert set(_schema(engine)) <= {"alembic_version"}  # nothing of ours is left
        upgrade(engine)
        assert _schema(engine) == built
    finally:
        engine.dispose()
