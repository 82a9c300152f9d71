"""Paged lists: the number of matches and one page of them, the same way for every domain."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Query
from sqlalchemy import Row, Select, func, select
from sqlalchemy.orm import Session


def paged(
    session: Session,
    stmt: Select[Any],
    order_by: Sequence[Any],
    *,
    limit: int | None,
    offset: int = 0,
) -> tuple[list[Any], int]:
    """The rows of ``stmt`` in ``order_by`` order from ``offset`` (at most ``limit``; None: all)
    and how many rows match in all."""
    total, page = _count_and_page(session, stmt, order_by, limit, offset)
    return list(session.scalars(page)), total


def paged_rows(
    session: Session,
    stmt: Select[Any],
    order_by: Sequence[Any],
    *,
    limit: int | None,
    offset: int = 0,
) -> tuple[list[Row[Any]], int]:
    """Like :func:`paged` for a query of several entities or columns: whole rows."""
    total, page = _count_and_page(session, stmt, order_by, limit, offset)
    return list(session.execute(page)), total


def _count_and_page(
    session: Session, stmt: Select[Any], order_by: Sequence[Any], limit: int | None, offset: int
) -> tuple[int, Select[Any]]:
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    page = stmt.order_by(*order_by).offset(offset)
    if limit is not None:
        page = page.limit(limit)
    return total, page


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
