"""The filters lists share: a record of an enterprise, in a division, in a known state (or
kind, or status: any column of known codes)."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import Select

from anjian.core.errors import Invalid
from anjian.core.scope import Scope, Scoped, division_filter


def of_enterprise_in(
    scope: Scope, model: type[Scoped], enterprise_id: int | None, division: str | None
) -> Select[Any]:
    """The rows of ``model`` in scope, narrowed to one enterprise and one division if given."""
    stmt = scope.select(model)
    if enterprise_id is not None:
        stmt = stmt.where(model.enterprise_id == enterprise_id)  # type: ignore[attr-defined]
    if division:
        stmt = stmt.where(division_filter(model.division_code, division))  # type: ignore[attr-defined]
    return stmt


def in_state(
    stmt: Select[Any], column: Any, value: str | None, known: Collection[str], unknown: str
) -> Select[Any]:
    """``stmt`` narrowed to ``column == value`` if a value is given; a value not ``known`` is
    refused with ``unknown`` (the message), on the field named after the column."""
    if not value:
        return stmt
    if value not in known:
        raise Invalid(unknown, field=column.key)
    return stmt.where(column == value)
