"""Hidden-hazard API (隐患排查治理): the ledger, the closed loop's steps, statistics."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, UploadFile
from fastapi.responses import FileResponse

from anjian.core.api_kit import DivisionQuery, EnterpriseQuery, StatsDivisionQuery
from anjian.core.clock import BeijingDateTime
from anjian.core.downloads import xlsx_response
from anjian.core.iam.deps import Ctx, StaffCtx
from anjian.core.paging import Paging
from anjian.directives.schemas import DirectiveRead, SupervisionCreate
from anjian.enterprises.service import enterprise_names
from anjian.hidden_hazards import excel, photos, service
from anjian.hidden_hazards.schemas import (
    GovernancePlanUpdate,
    HazardCreate,
    HazardFilters,
    HazardPage,
    HazardRead,
    HazardRegistrationCreate,
    HazardStats,
    HazardStepCreate,
)

router = APIRouter(prefix="/api/v1/hidden-hazards", tags=["hidden hazards 隐患排查治理"])


def ledger_filters(
    enterprise_id: EnterpriseQuery = None,
    division: DivisionQuery = None,
    state: Annotated[
        str | None,
        Query(description="found|registered|rectifying|rectified|closed，或 open (未销号)"),
    ] = None,
    grade: Annotated[str | None, Query(description="general (一般) | major (重大)")] = None,
    overdue: Annotated[bool | None, Query(description="只看逾期 (true) 或未逾期 (false)")] = None,
    q: Annotated[str | None, Query(description="描述、部位包含，或隐患编号前缀")] = None,
    found_from: Annotated[
        BeijingDateTime | None, Query(alias="from", description="发现时间起 (无时区为北京时间)")
    ] = None,
    found_to: Annotated[
        BeijingDateTime | None, Query(alias="to", description="发现时间止 (不含; 无时区为北京时间)")
    ] = None,
) -> HazardFilters:
    """The ledger's filters, shared by the list and the Excel export."""
    return HazardFilters(
        enterprise_id=enterprise_id,
        division=division,
        state=state,
        grade=grade,
        overdue=overdue,
        q=q,
        found_from=found_from,
        found_to=found_to,
    )


Filters = Annotated[HazardFilters, Depends(ledger_filters)]


@router.get("", response_model=HazardPage)
def list_hazards(
    ctx: Ctx,
    paging: Paging,
    filters: Filters,
) -> HazardPage:
    """The hazard ledger (隐患台账) in your jurisdiction, newest first."""
    items, total = service.list_hazards(
        ctx.db, ctx.scope, **filters, limit=paging.size, offset=paging.offset
    )
    names = enterprise_names(ctx.db, {h.enterprise_id for h in items})
    return HazardPage(
        total=total,
        items=[HazardRead.of(h, enterprise_name=names.get(h.enterprise_id, "")) for h in items],
    )


@router.post("", response_model=HazardRead, status_code=201)
def report(body: HazardCreate, ctx: Ctx) -> HazardRead:
    """排查发现: report a hidden hazard of an enterprise in your jurisdiction (or your own)."""
    return service.present(ctx.db, service.report_hazard(ctx.db, ctx.actor, ctx.scope, body))


@router.get("/stats", response_model=list[HazardStats])
def stats(ctx: Ctx, division: StatsDivisionQuery = None) -> list[HazardStats]:
    """Found, written off, open, overdue, major open and 整改率, by the divisions one tier
    below (the first row is the total)."""
    return service.statistics(ctx.db, ctx.scope, division)


@router.get("/export.xlsx", response_class=Response)
def export(ctx: Ctx, filters: Filters) -> Response:
    """The filtered ledger (隐患台账) as an Excel workbook (audited)."""
    return xlsx_response(
        excel.export_ledger(ctx.db, ctx.scope, ctx.actor, filters), "hidden-hazards", "隐患台账"
    )


@router.get("/{hazard_id}", response_model=HazardRead)
def get(hazard_id: int, ctx: Ctx) -> HazardRead:
    """One hazard with its closed loop so far."""
    return service.present(ctx.db, service.get_hazard(ctx.db, ctx.scope, hazard_id))


@router.post("/{hazard_id}/register", response_model=HazardRead)
def register(hazard_id: int, body: HazardRegistrationCreate, ctx: Ctx) -> HazardRead:
    """登记: grade, deadline, responsible person, measures, funds."""
    hz = service.register_hazard(ctx.db, ctx.actor, ctx.scope, hazard_id, body)
    return service.present(ctx.db, hz)


@router.put("/{hazard_id}/plan", response_model=HazardRead)
def plan(hazard_id: int, body: GovernancePlanUpdate, ctx: Ctx) -> HazardRead:
    """治理方案 of a major hazard."""
    return service.present(ctx.db, service.set_plan(ctx.db, ctx.actor, ctx.scope, hazard_id, body))


@router.post("/{hazard_id}/start", response_model=HazardRead)
def start(hazard_id: int, ctx: Ctx, body: HazardStepCreate | None = None) -> HazardRead:
    """整改: rectification begins."""
    note = body.note if body else ""
    return service.present(
        ctx.db, service.start_rectification(ctx.db, ctx.actor, ctx.scope, hazard_id, note)
    )


@router.post("/{hazard_id}/finish", response_model=HazardRead)
def finish(hazard_id: int, body: HazardStepCreate, ctx: Ctx) -> HazardRead:
    """整改完成: what was done; acceptance follows."""
    hz = service.finish_rectification(ctx.db, ctx.actor, ctx.scope, hazard_id, body.note)
    return service.present(ctx.db, hz)


@router.post("/{hazard_id}/accept", response_model=HazardRead)
def accept(hazard_id: int, ctx: Ctx, body: HazardStepCreate | None = None) -> HazardRead:
    """验收销号: by someone other than the rectifier (the agency for a major hazard)."""
    note = body.note if body else ""
    return service.present(ctx.db, service.accept(ctx.db, ctx.actor, ctx.scope, hazard_id, note))


@router.post("/{hazard_id}/reject", response_model=HazardRead)
def reject(hazard_id: int, body: HazardStepCreate, ctx: Ctx) -> HazardRead:
    """验收不通过: back to rectification, with the reason."""
    return service.present(
        ctx.db, service.reject(ctx.db, ctx.actor, ctx.scope, hazard_id, body.note)
    )


@router.post("/{hazard_id}/supervise", response_model=DirectiveRead, status_code=201)
def supervise(hazard_id: int, body: SupervisionCreate, ctx: StaffCtx) -> DirectiveRead:
    """挂牌督办 of a major hazard by your agency; it flows down to the county and enterprise,
    and the hazard is written off only after you close the order
    (``POST /api/v1/directives/{uid}/close``)."""
    order = service.supervise(ctx.db, ctx.actor, ctx.scope, ctx.user, hazard_id, body)
    return DirectiveRead.model_validate(order)


@router.post("/{hazard_id}/photos", response_model=HazardRead, status_code=201)
def upload_photo(hazard_id: int, file: UploadFile, ctx: Ctx) -> HazardRead:
    """Attach a photo (JPEG, PNG or WebP, ≤ 10 MB) to a hazard of this node."""
    data = file.file.read(photos.MAX_PHOTO_BYTES + 1)
    hz = photos.add_photo(ctx.db, ctx.actor, ctx.scope, hazard_id, file.filename or "", data)
    return service.present(ctx.db, hz)


@router.get("/{hazard_id}/photos/{digest}", response_class=FileResponse)
def get_photo(hazard_id: int, digest: str, ctx: Ctx) -> FileResponse:
    """One photo of a hazard in scope (the file is kept at the hazard's node)."""
    path, media_type = photos.photo_file(ctx.db, ctx.scope, hazard_id, digest)
    return FileResponse(path, media_type=media_type)
