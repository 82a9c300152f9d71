"""Gap-free counters (连续编号): the next number of a named series, e.g. an agency's penalty
decisions of one year.

The number is taken with one UPSERT … RETURNING in the caller's transaction: concurrent
transactions on PostgreSQL wait on the series' row (SQLite has one writer at a time), and a
transaction that rolls back gives its number back with everything else it did. So a series has
no gaps and no duplicates, whatever runs at the same time."""

from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from anjian.db import Base, BigId


class Counter(Base):
    """The last number given in one series. Node-local: a series belongs to one agency, whose
    node alone numbers it."""

    __tablename__ = "counters"

    series: Mapped[str] = mapped_column(String(128), primary_key=True)
    last: Mapped[int] = mapped_column(BigId, nullable=False)


def next_number(session: Session, series: str) -> int:
    """The next number of ``series`` (1 for a new series), taken in the caller's transaction."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = (
        insert(Counter)
        .values(series=series, last=1)
        .on_conflict_do_update(index_elements=[Counter.series], set_={"last": Counter.last + 1})
        .returning(Counter.last)
    )
    return int(session.execute(stmt).scalar_one())
