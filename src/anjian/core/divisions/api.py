"""Division API."""

from __future__ import annotations

from fastapi import APIRouter

from anjian.core.divisions import service
from anjian.core.divisions.rules import is_valid_code
from anjian.core.divisions.schemas import DivisionBrief, DivisionRead
from anjian.core.errors import Invalid, NotFound
from anjian.core.iam.deps import Ctx

router = APIRouter(prefix="/api/v1/divisions", tags=["divisions 行政区划"])


@router.get("/{code}", response_model=DivisionRead)
def get_division(code: str, ctx: Ctx) -> DivisionRead:
    """A division (GB/T 2260) with its tier, parent, ancestors and children."""
    if not is_valid_code(code):
        raise Invalid(
            f"行政区划代码应为 6 位数字: {code} (a division code has six digits)", field="code"
        )
    div = service.get_division(ctx.db, code)
    if div is None:
        raise NotFound(f"行政区划代码不存在: {code} (no such division)", field="code")
    parent = service.get_division(ctx.db, div.parent_code) if div.parent_code else None
    return DivisionRead(
        **DivisionBrief.model_validate(div).model_dump(),
        parent=DivisionBrief.model_validate(parent) if parent else None,
        ancestors=[DivisionBrief.model_validate(d) for d in service.ancestors_of(ctx.db, code)],
        children=[DivisionBrief.model_validate(d) for d in service.children_of(ctx.db, code)],
    )
