"""Major hazard source API (重大危险源): the GB 18218-2018 identification and grading calculator,
and the register of sources with their filing (备案) with the agency.

The calculator saves nothing; it needs a logged-in user of any role. The register is read and
written within the caller's jurisdiction (an enterprise user: their own enterprise)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from anjian.core.api_kit import JurisdictionFilters, list_page
from anjian.core.iam.deps import Ctx
from anjian.core.paging import Paging
from anjian.major_hazards import rules, service
from anjian.major_hazards.models import MajorHazardSource
from anjian.major_hazards.schemas import (
    AssessRequest,
    AssessResponse,
    FilingAcceptanceCreate,
    FilingReturnCreate,
    SourceCreate,
    SourcePage,
    SourceRead,
    SourceSummary,
    SourceUpdate,
    UnitRead,
)

router = APIRouter(prefix="/api/v1/major-hazards", tags=["major hazards 重大危险源"])


def _read(ctx: Ctx, src: MajorHazardSource) -> SourceRead:
    return service.present(ctx.db, [src])[0]


@router.post("/assess", response_model=AssessResponse)
def assess(body: AssessRequest, _ctx: Ctx) -> AssessResponse:
    """Identify (辨识, S = Σ q/Q ≥ 1) and grade (分级, R = α Σ β q/Q) each unit by GB 18218-2018.

    An unknown chemical without a Table 2 category, an ambiguous or inconsistent name/CAS
    number, or an unknown category is a 422 naming the field (``units.0.chemicals.1.name``).
    ``_ctx``: only the login is required."""
    results = rules.assess_units([unit.to_input() for unit in body.units])
    return AssessResponse(units=[UnitRead.of(unit) for unit in results])


@router.get("/summary", response_model=SourceSummary)
def summary(ctx: Ctx) -> SourceSummary:
    """Sources in your jurisdiction by grade (一级…四级, not major) and by filing state."""
    return service.summary(ctx.db, ctx.scope)


@dataclass(frozen=True)
class SourceFilters(JurisdictionFilters):
    """The filters of the register."""

    grade: Annotated[int | None, Query(ge=1, le=4, description="1 (一级) … 4 (四级)")] = None
    filing_state: Annotated[
        str | None, Query(description="unfiled | submitted | filed | returned")
    ] = None
    major: Annotated[bool | None, Query(description="只看构成 (true) 或未构成 (false)")] = None
    q: Annotated[str | None, Query(description="名称包含")] = None


@router.get("", response_model=SourcePage)
def list_sources(
    ctx: Ctx, filters: Annotated[SourceFilters, Depends()], paging: Paging
) -> SourcePage:
    """The register (重大危险源台账) in your jurisdiction, highest grade first."""
    return list_page(SourcePage, service.list_sources, ctx, filters, paging, service.present)


@router.post("", response_model=SourceRead, status_code=201)
def create_source(body: SourceCreate, ctx: Ctx) -> SourceRead:
    """Register a source of an enterprise in your jurisdiction (or your own), identified and
    graded by GB 18218-2018; a source below the thresholds is kept with ``is_major=false``."""
    return _read(ctx, service.create_source(ctx.db, ctx.actor, ctx.scope, body))


@router.get("/{source_id}", response_model=SourceRead)
def get_source(source_id: int, ctx: Ctx) -> SourceRead:
    """One source with its units, their assessment, the three persons and the filing."""
    return _read(ctx, service.get_source(ctx.db, ctx.scope, source_id))


@router.patch("/{source_id}", response_model=SourceRead)
def update_source(source_id: int, body: SourceUpdate, ctx: Ctx) -> SourceRead:
    """Change the fields sent; new units are graded again and void a submission or filing."""
    return _read(ctx, service.update_source(ctx.db, ctx.actor, ctx.scope, source_id, body))


@router.post("/{source_id}/submit", response_model=SourceRead)
def submit(source_id: int, ctx: Ctx) -> SourceRead:
    """提交备案 (unfiled or returned → submitted)."""
    return _read(ctx, service.submit_source(ctx.db, ctx.actor, ctx.scope, source_id))


@router.post("/{source_id}/file", response_model=SourceRead)
def file_source(source_id: int, body: FilingAcceptanceCreate, ctx: Ctx) -> SourceRead:
    """予以备案 with a filing number (submitted → filed; agency officials only)."""
    src = service.file_source(ctx.db, ctx.actor, ctx.scope, source_id, body.filing_no)
    return _read(ctx, src)


@router.post("/{source_id}/return", response_model=SourceRead)
def return_filing(source_id: int, body: FilingReturnCreate, ctx: Ctx) -> SourceRead:
    """退回 with the reason (submitted → returned; agency officials only)."""
    src = service.return_filing(ctx.db, ctx.actor, ctx.scope, source_id, body.reason)
    return _read(ctx, src)
