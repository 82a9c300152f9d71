"""Risk-grading API (风险分级): a calculator that saves nothing, the value tables, and the risk
points (风险点) of enterprises with their four-colour summary and map."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from anjian.config import get_settings
from anjian.core.api_kit import JurisdictionFilters, StatsDivisionQuery, list_page
from anjian.core.errors import Invalid
from anjian.core.iam.deps import Ctx
from anjian.core.paging import Paging
from anjian.risk import service
from anjian.risk.rules import assess_lec, assess_ls
from anjian.risk.schemas import (
    AssessRequest,
    AssessResult,
    RiskMap,
    RiskPointCreate,
    RiskPointPage,
    RiskPointRead,
    RiskPointUpdate,
    RiskSummary,
    RiskTables,
)

router = APIRouter(prefix="/api/v1/risk", tags=["risk 风险分级"])

# The factors each method uses, in the order they are reported missing.
_FACTORS = {"LEC": ("L", "E", "C"), "LS": ("L", "S")}


def _factors(body: AssessRequest) -> list[float]:
    """The method's factors, refusing a missing one or one the method does not use."""
    used = _FACTORS[body.method]
    for name in used:
        if getattr(body, name) is None:
            raise Invalid(
                f"{body.method} 法须填写 {name} ({name} is required for {body.method})",
                field=name,
            )
    for name in ("L", "E", "C", "S"):
        if name not in used and getattr(body, name) is not None:
            raise Invalid(
                f"{body.method} 法不使用 {name} ({name} is not used by {body.method})",
                field=name,
            )
    return [getattr(body, name) for name in used]


@router.post("/assess", response_model=AssessResult, response_model_exclude_none=True)
def assess(body: AssessRequest, ctx: Ctx) -> AssessResult:
    """Grade one activity or hazard by LEC (D = L × E × C) or LS (R = L × S) under the node's
    configured convention; nothing is saved."""
    settings = get_settings()
    if body.method == "LEC":
        L, E, C = _factors(body)
        return AssessResult.of(assess_lec(L, E, C, settings.risk_lec_convention))
    L, S = _factors(body)
    return AssessResult.of(assess_ls(L, S, settings.risk_ls_convention))


@router.get("/tables", response_model=RiskTables)
def tables(ctx: Ctx) -> RiskTables:
    """The four levels, the LEC and LS value tables with their meanings, and the thresholds of
    the node's configured conventions (for forms and tools)."""
    settings = get_settings()
    return RiskTables.build(settings.risk_lec_convention, settings.risk_ls_convention)


# --- risk points (风险点) ------------------------------------------------------------------------


@dataclass(frozen=True)
class RiskPointFilters(JurisdictionFilters):
    """The filters of the risk point list."""

    level: Annotated[
        str | None,
        Query(description="major (重大) | significant (较大) | general (一般) | low (低)"),
    ] = None
    kind: Annotated[str | None, Query(description="area (区域) | facility (设施) | job (作业)")] = (
        None
    )
    q: Annotated[str | None, Query(description="名称、位置或危险有害因素包含")] = None


@router.get("/points", response_model=RiskPointPage)
def list_points(
    ctx: Ctx, filters: Annotated[RiskPointFilters, Depends()], paging: Paging
) -> RiskPointPage:
    """Risk points in your jurisdiction (or of your enterprise), worst level first, paged."""
    return list_page(RiskPointPage, service.list_points, ctx, filters, paging, service.present)


@router.post("/points", response_model=RiskPointRead, status_code=201)
def create_point(body: RiskPointCreate, ctx: Ctx) -> RiskPointRead:
    """Register a risk point; its score and level are computed here by LEC or LS under the
    node's convention (audited, synced)."""
    pt = service.create_point(ctx.db, ctx.actor, ctx.scope, body)
    return service.present(ctx.db, [pt])[0]


@router.get("/summary", response_model=list[RiskSummary])
def summary(ctx: Ctx, division: StatsDivisionQuery = None) -> list[RiskSummary]:
    """Risk points by level and enterprises by their worst level, by the divisions one tier
    below (the first row is the total)."""
    return service.summary(ctx.db, ctx.scope, division)


@router.get("/map", response_model=RiskMap)
def risk_map(
    ctx: Ctx,
    enterprise_id: Annotated[int | None, Query(description="只看该企业的风险点")] = None,
) -> RiskMap:
    """The four-colour risk map (风险四色图): located risk points with their colour, and the
    located enterprises at their worst level."""
    return service.risk_map(ctx.db, ctx.scope, enterprise_id)


@router.get("/points/{point_id}", response_model=RiskPointRead)
def get_point(point_id: int, ctx: Ctx) -> RiskPointRead:
    """One risk point in your jurisdiction."""
    return service.present(ctx.db, [service.get_point(ctx.db, ctx.scope, point_id)])[0]


@router.patch("/points/{point_id}", response_model=RiskPointRead)
def update_point(point_id: int, body: RiskPointUpdate, ctx: Ctx) -> RiskPointRead:
    """Change the fields sent; a new method or factor grades the point again (audited, synced)."""
    pt = service.update_point(ctx.db, ctx.actor, ctx.scope, point_id, body)
    return service.present(ctx.db, [pt])[0]


@router.delete("/points/{point_id}", status_code=204, response_class=Response)
def delete_point(point_id: int, ctx: Ctx) -> Response:
    """Delete a risk point (a tombstone that travels to the other nodes; audited)."""
    service.delete_point(ctx.db, ctx.actor, ctx.scope, point_id)
    return Response(status_code=204)
