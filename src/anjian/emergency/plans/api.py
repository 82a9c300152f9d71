"""Emergency plans and drills API (应急预案与演练): plans with their filing (备案: submitted by
the enterprise, filed or returned by the agency) and revision (修订), drills planned, recorded,
evaluated or cancelled, and the statistics of both."""

# No ``from __future__ import annotations``: FastAPI reads the filters' annotations.

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from anjian.core.api_kit import JurisdictionFilters, list_page
from anjian.core.iam.deps import Ctx
from anjian.core.paging import Paging
from anjian.emergency.plans import drills, service, statistics
from anjian.emergency.plans.schemas import (
    DrillCancel,
    DrillCreate,
    DrillEvaluation,
    DrillPage,
    DrillRead,
    DrillRecord,
    PlanCreate,
    PlanPage,
    PlanRead,
    PlanReview,
    PlanRevision,
    PlanStatistics,
    PlanUpdate,
)

router = APIRouter(prefix="/api/v1/emergency", tags=["emergency 应急管理"])

Year = Annotated[int | None, Query(ge=1990, le=2100, description="年度")]


@dataclass(frozen=True)
class PlanFilters(JurisdictionFilters):
    category: Annotated[
        str | None, Query(max_length=16, description="overall | special | department | onsite")
    ] = None
    filing_state: Annotated[
        str | None,
        Query(max_length=16, description="not_required | draft | submitted | filed | returned"),
    ] = None
    revision: Annotated[str | None, Query(max_length=16, description="overdue | due_soon")] = None
    q: Annotated[str | None, Query(max_length=100, description="名称或编制单位包含")] = None


@dataclass(frozen=True)
class DrillFilters(JurisdictionFilters):
    state: Annotated[
        str | None, Query(max_length=16, description="planned | held | evaluated | cancelled")
    ] = None
    year: Year = None
    plan_id: int | None = None


def _plan(ctx: Ctx, row: object) -> PlanRead:
    return service.present(ctx.db, [row])[0]  # type: ignore[list-item]


def _drill(ctx: Ctx, row: object) -> DrillRead:
    return drills.present(ctx.db, [row])[0]  # type: ignore[list-item]


@router.post("/plans", response_model=PlanRead, status_code=201)
def create_plan(body: PlanCreate, ctx: Ctx) -> PlanRead:
    """Register a plan: an agency's (in force as issued) or an enterprise's (to be filed)."""
    return _plan(ctx, service.create_plan(ctx.db, ctx.actor, ctx.scope, body))


@router.get("/plans", response_model=PlanPage)
def list_plans(ctx: Ctx, filters: Annotated[PlanFilters, Depends()], paging: Paging) -> PlanPage:
    """Plans in scope (those waiting for review first), each with its revision due day."""
    return list_page(PlanPage, service.list_plans, ctx, filters, paging, service.present)


@router.get("/plans/statistics", response_model=PlanStatistics)
def plan_statistics(
    ctx: Ctx,
    division: Annotated[str | None, Query(max_length=6, description="行政区划代码")] = None,
    year: Year = None,
) -> PlanStatistics:
    """Plans and drills in scope under a division, for a year (this year by default)."""
    return statistics.plan_statistics(ctx.db, ctx.scope, division=division, year=year)


@router.get("/plans/{plan_id}", response_model=PlanRead)
def get_plan(plan_id: int, ctx: Ctx) -> PlanRead:
    """One plan in scope."""
    return _plan(ctx, service.get_plan(ctx.db, ctx.scope, plan_id))


@router.patch("/plans/{plan_id}", response_model=PlanRead)
def update_plan(plan_id: int, body: PlanUpdate, ctx: Ctx) -> PlanRead:
    """Change a plan not yet submitted, or returned (a filed plan is revised instead)."""
    return _plan(ctx, service.update_plan(ctx.db, ctx.actor, ctx.scope, plan_id, body))


@router.post("/plans/{plan_id}/submit", response_model=PlanRead)
def submit_plan(plan_id: int, ctx: Ctx) -> PlanRead:
    """报备: an enterprise's plan goes to the agency for filing."""
    return _plan(ctx, service.submit_plan(ctx.db, ctx.actor, ctx.scope, plan_id))


@router.post("/plans/{plan_id}/review", response_model=PlanRead)
def review_plan(plan_id: int, body: PlanReview, ctx: Ctx) -> PlanRead:
    """The agency files a submitted plan (备案 number given) or returns it with reasons."""
    return _plan(ctx, service.review_plan(ctx.db, ctx.actor, ctx.scope, plan_id, body))


@router.post("/plans/{plan_id}/revise", response_model=PlanRead)
def revise_plan(plan_id: int, body: PlanRevision, ctx: Ctx) -> PlanRead:
    """修订: the plan was assessed and revised (an enterprise's is filed again)."""
    return _plan(ctx, service.revise_plan(ctx.db, ctx.actor, ctx.scope, plan_id, body))


@router.post("/drills", response_model=DrillRead, status_code=201)
def create_drill(body: DrillCreate, ctx: Ctx) -> DrillRead:
    """Plan a drill of a plan in scope, or of a division or an enterprise."""
    return _drill(ctx, drills.create_drill(ctx.db, ctx.actor, ctx.scope, body))


@router.get("/drills", response_model=DrillPage)
def list_drills(ctx: Ctx, filters: Annotated[DrillFilters, Depends()], paging: Paging) -> DrillPage:
    """Drills in scope: the coming ones first, then the past (latest first)."""
    return list_page(DrillPage, drills.list_drills, ctx, filters, paging, drills.present)


@router.get("/drills/{drill_id}", response_model=DrillRead)
def get_drill(drill_id: int, ctx: Ctx) -> DrillRead:
    """One drill in scope."""
    return _drill(ctx, drills.get_drill(ctx.db, ctx.scope, drill_id))


@router.post("/drills/{drill_id}/record", response_model=DrillRead)
def record_drill(drill_id: int, body: DrillRecord, ctx: Ctx) -> DrillRead:
    """演练实施: when it was held, who took part, what happened."""
    return _drill(ctx, drills.record_drill(ctx.db, ctx.actor, ctx.scope, drill_id, body))


@router.post("/drills/{drill_id}/evaluate", response_model=DrillRead)
def evaluate_drill(drill_id: int, body: DrillEvaluation, ctx: Ctx) -> DrillRead:
    """演练评估: the rating, the problems found and the improvements."""
    return _drill(ctx, drills.evaluate_drill(ctx.db, ctx.actor, ctx.scope, drill_id, body))


@router.post("/drills/{drill_id}/cancel", response_model=DrillRead)
def cancel_drill(drill_id: int, body: DrillCancel, ctx: Ctx) -> DrillRead:
    """Call off a planned drill, with the reason."""
    return _drill(ctx, drills.cancel_drill(ctx.db, ctx.actor, ctx.scope, drill_id, body))
