"""Accident reporting API (事故报送): the grade calculator and first reports (快报); the chain,
follow-ups and investigations follow."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from anjian.accidents import service
from anjian.accidents.models import Accident
from anjian.accidents.rules import classify as grade_of
from anjian.accidents.schemas import (
    AccidentCreate,
    AccidentPage,
    AccidentRead,
    ClassifyRequest,
    ClassifyResult,
    FollowUp,
    InvestigationOpen,
    InvestigationRead,
    InvestigationUpdate,
)
from anjian.config import get_settings
from anjian.core.iam.deps import Context, Ctx

router = APIRouter(prefix="/api/v1/accidents", tags=["accidents 事故"])


@router.post("/classify", response_model=ClassifyResult)
def classify(body: ClassifyRequest, ctx: Ctx) -> ClassifyResult:
    """Grade an accident by Order No. 493 Art. 3 without saving: the highest grade reached by
    deaths, serious injuries (incl. acute industrial poisoning) or direct economic loss, with
    missing persons counted as deaths for the provisional grade (ANJIAN_ACCIDENT_MISSING_AS_DEATHS)."""
    return ClassifyResult.of(
        grade_of(
            body.deaths,
            body.missing,
            body.serious_injuries,
            body.direct_loss_cny,
            missing_as_deaths=get_settings().accident_missing_as_deaths,
        )
    )


@router.post("", response_model=AccidentRead, status_code=201)
def report(body: AccidentCreate, ctx: Ctx) -> AccidentRead:
    """File a first report (事故快报): few fields are required (when, where, type, reporter);
    the grade is computed from the numbers; the report travels up the tiers at once."""
    acc = service.report_accident(ctx.db, ctx.actor, ctx.scope, body)
    return _detail(ctx, acc)


@router.get("", response_model=AccidentPage)
def list_accidents(
    ctx: Ctx,
    division: Annotated[str | None, Query(description="行政区划代码，含下级")] = None,
    grade: Annotated[int | None, Query(description="1 特别重大 … 4 一般")] = None,
    accident_type: Annotated[str | None, Query(description="事故类别 (GB 6441)")] = None,
    page: Annotated[int, Query(ge=1)] = 1,
    size: Annotated[int, Query(ge=1, le=500)] = 50,
) -> AccidentPage:
    """Accidents in your jurisdiction, newest first."""
    items, total = service.list_accidents(
        ctx.db,
        ctx.scope,
        division=division,
        grade=grade,
        accident_type=accident_type,
        limit=size,
        offset=(page - 1) * size,
    )
    return AccidentPage(total=total, items=service.present(ctx.db, items))


@router.get("/{accident_id}", response_model=AccidentRead)
def get_accident(accident_id: int, ctx: Ctx) -> AccidentRead:
    """One accident in your jurisdiction, with its reporting chain (each agency's step, its
    clocks and 迟报)."""
    return _detail(ctx, service.get_accident(ctx.db, ctx.scope, accident_id))


@router.post("/{accident_id}/follow-up", response_model=AccidentRead)
def follow_up(accident_id: int, body: FollowUp, ctx: Ctx) -> AccidentRead:
    """A follow-up report (续报) with the numbers as they stand now: the grade is computed
    again (a raised grade sends the report further up); 409 after the 30-day window (7 days for
    road traffic and fire)."""
    acc = service.follow_up(ctx.db, ctx.actor, ctx.scope, accident_id, body)
    return _detail(ctx, acc)


@router.post("/{accident_id}/report-up", response_model=AccidentRead)
def report_up(accident_id: int, ctx: Ctx) -> AccidentRead:
    """Your agency passes the report up the chain (上报): your step is stamped with the time
    (late ones show as 迟报 to every level above); 409 when your agency has nothing to pass up."""
    acc = service.report_up(ctx.db, ctx.actor, ctx.scope, accident_id, ctx.user.division_code)
    return _detail(ctx, acc)


@router.post("/{accident_id}/investigation", response_model=InvestigationRead, status_code=201)
def open_investigation(accident_id: int, body: InvestigationOpen, ctx: Ctx) -> InvestigationRead:
    """Open the investigation (立案调查), led by your agency: the tier the grade requires or one
    above; due 60 days after the accident."""
    inv = service.open_investigation(
        ctx.db, ctx.actor, ctx.scope, accident_id, ctx.user.division_code, body
    )
    return service.present_investigation(inv)


@router.patch("/{accident_id}/investigation", response_model=InvestigationRead)
def update_investigation(
    accident_id: int, body: InvestigationUpdate, ctx: Ctx
) -> InvestigationRead:
    """Record findings (causes, nature, responsibility, penalties, measures) or the one
    extension of at most 60 days."""
    inv = service.update_investigation(ctx.db, ctx.actor, ctx.scope, accident_id, body)
    return service.present_investigation(inv)


@router.post("/{accident_id}/investigation/close", response_model=InvestigationRead)
def close_investigation(accident_id: int, ctx: Ctx) -> InvestigationRead:
    """Close the investigation (结案) once causes, nature, responsibility and measures are in."""
    inv = service.close_investigation(ctx.db, ctx.actor, ctx.scope, accident_id)
    return service.present_investigation(inv)


def _detail(ctx: Context, acc: Accident) -> AccidentRead:
    view = service.present(ctx.db, [acc])[0]
    view.chain = service.chain_of(ctx.db, acc)
    inv = service.investigation_of(ctx.db, acc)
    view.investigation = service.present_investigation(inv) if inv is not None else None
    return view
