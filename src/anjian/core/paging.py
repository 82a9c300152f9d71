"""Paged lists: the number of matches and one page of them, the same way for every domain."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, func, select
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
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    page = stmt.order_by(*order_by).offset(offset)
    if limit is not None:
        page = page.limit(limit)
    return list(session.scalars(page)), total
