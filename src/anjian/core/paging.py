"""Paged lists: the number of matches and one page of them, the same way for every domain.

A national node's lists match up to millions of rows, and counting them all costs more than
reading the page. So a list counts exactly up to ``ANJIAN_LIST_COUNT_LIMIT`` matches; past it
the total is PostgreSQL's planner estimate (SQLite: the limit itself, a lower bound) and says
it is not exact (:class:`Total`), which the API answers as ``total_exact: false`` and the pages
show as 约 N."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Query
from pydantic import BaseModel, Field, model_validator
from sqlalchemy import Row, Select, func, select
from sqlalchemy.orm import Session

from anjian.config import get_settings


class Total(int):
    """How many rows match a list: an ``int``, with ``exact`` False when it is an estimate
    (past the count limit) rather than a count."""

    exact: bool

    def __new__(cls, value: int, exact: bool = True) -> Total:
        total = super().__new__(cls, value)
        total.exact = exact
        return total


def paged(
    session: Session,
    stmt: Select[Any],
    order_by: Sequence[Any],
    *,
    limit: int | None,
    offset: int = 0,
) -> tuple[list[Any], Total]:
    """The rows of ``stmt`` in ``order_by`` order from ``offset`` (at most ``limit``; None: all)
    and how many rows match in all (exact up to the count limit)."""
    total, page = _count_and_page(session, stmt, order_by, limit, offset)
    return list(session.scalars(page)), total


def paged_rows(
    session: Session,
    stmt: Select[Any],
    order_by: Sequence[Any],
    *,
    limit: int | None,
    offset: int = 0,
) -> tuple[list[Row[Any]], Total]:
    """Like :func:`paged` for a query of several entities or columns: whole rows."""
    total, page = _count_and_page(session, stmt, order_by, limit, offset)
    return list(session.execute(page)), total


def count_matches(session: Session, stmt: Select[Any], limit: int | None = None) -> Total:
    """How many rows ``stmt`` matches: counted up to ``limit`` (default: the configured count
    limit) — past it, the planner's estimate on PostgreSQL, never below the limit, and on
    SQLite the limit plus one — with ``exact`` False."""
    cap = get_settings().list_count_limit if limit is None else limit
    bare = stmt.order_by(None)
    counted = session.scalar(select(func.count()).select_from(bare.limit(cap + 1).subquery())) or 0
    if counted <= cap:
        return Total(counted)
    return Total(max(_estimate(session, bare), cap + 1), exact=False)


def _estimate(session: Session, stmt: Select[Any]) -> int:
    """The planner's estimate of the rows of ``stmt`` (PostgreSQL), else 0."""
    bind = session.get_bind()
    if bind.dialect.name != "postgresql":
        return 0
    compiled = stmt.compile(dialect=bind.dialect, compile_kwargs={"render_postcompile": True})
    plan = session.connection().exec_driver_sql(
        "EXPLAIN (FORMAT JSON) " + str(compiled), compiled.params
    )
    raw = plan.scalar()
    doc = json.loads(raw) if isinstance(raw, str) else raw
    return int(doc[0]["Plan"]["Plan Rows"])


def _count_and_page(
    session: Session, stmt: Select[Any], order_by: Sequence[Any], limit: int | None, offset: int
) -> tuple[Total, Select[Any]]:
    total = count_matches(session, stmt)
    page = stmt.order_by(*order_by).offset(offset)
    if limit is not None:
        page = page.limit(limit)
    return total, page


class PageOut(BaseModel):
    """What every paged list answers besides its items: the number of matches and whether
    it was counted (``total_exact``) or, past the count limit, estimated."""

    total: int = Field(description="匹配条数 (matches; an estimate when total_exact is false)")
    total_exact: bool = Field(
        default=True,
        description="总数是否精确；超过计数上限时为估算值 (false: total is an estimate)",
    )

    @model_validator(mode="before")
    @classmethod
    def _exactness(cls, data: Any) -> Any:
        # A Total from paged() carries its exactness; the API passes it on as total_exact.
        if isinstance(data, dict) and isinstance(data.get("total"), Total):
            return {"total_exact": data["total"].exact, **data}
        return data


# The last page a list may be asked for: its offset (page × size) must stay far inside the 64-bit
# integers SQLite and PostgreSQL take.
MAX_PAGE = 10_000_000


# The ``page`` query parameter of a list (the console's pages fix their own size).
PageNumber = Annotated[
    int, Query(ge=1, le=MAX_PAGE, alias="page", description="页码，从 1 开始 (page, from 1)")
]


@dataclass(frozen=True)
class PageQuery:
    """The page a list request asks for: ``page`` (from 1) of ``size`` rows."""

    page: int
    size: int

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.size


def _page_query(
    page: PageNumber = 1,
    size: Annotated[int, Query(ge=1, le=500, description="每页条数 (rows a page)")] = 50,
) -> PageQuery:
    return PageQuery(page, size)


# The ``page`` and ``size`` query parameters of a paged list endpoint.
Paging = Annotated[PageQuery, Depends(_page_query)]
