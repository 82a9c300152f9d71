"""Enterprise API (一企一档): thin handlers over the service and the Excel exchange."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response, UploadFile
from sqlalchemy.orm import Session

from anjian.core.api_kit import IMPORT_REFUSED, ListFilters, import_answer, read_upload
from anjian.core.audit.service import audit_read
from anjian.core.contacts import RevealedContacts
from anjian.core.downloads import xlsx_response
from anjian.core.iam.deps import Ctx, StaffCtx
from anjian.core.xlsx import ImportResult
from anjian.enterprises import excel, service
from anjian.enterprises.models import Enterprise
from anjian.enterprises.schemas import (
    CodeConflict,
    EnterpriseCreate,
    EnterprisePage,
    EnterpriseRead,
    EnterpriseUpdate,
    MapPoint,
)

router = APIRouter(prefix="/api/v1/enterprises", tags=["enterprises 企业"])

MAX_UPLOAD_BYTES = 20 * 1024 * 1024  # ~100k rows of registry; more is a mistake, not a registry


@dataclass(frozen=True)
class EnterpriseFilters(ListFilters):
    """The filters shared by the list, the map and the export."""

    q: Annotated[str | None, Query(description="名称包含或信用代码前缀 (name or USCC prefix)")] = (
        None
    )
    division: Annotated[
        str | None, Query(description="行政区划代码，含下级 (division and everything below)")
    ] = None
    category: Annotated[str | None, Query(description="监管类别 (supervision category code)")] = (
        None
    )
    status: Annotated[str | None, Query(description="状态 (status code)")] = None
    scale: Annotated[str | None, Query(description="规模 (scale code)")] = None
    industry: Annotated[str | None, Query(description="行业代码前缀 (GB/T 4754 prefix)")] = None


Filters = Annotated[EnterpriseFilters, Depends()]


def _read(db: Session, ent: Enterprise) -> EnterpriseRead:
    return service.present(db, [ent])[0]


@router.get("", response_model=EnterprisePage)
def list_enterprises(
    ctx: Ctx,
    filters: Filters,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> EnterprisePage:
    """Enterprises in the caller's jurisdiction, filtered and paged (phones masked; the read is
    audited)."""
    rows, total = service.list_enterprises(
        ctx.db, ctx.scope, limit=limit, offset=offset, **filters.kwargs()
    )
    audit_read(ctx.db, ctx.actor, "enterprise", rows)
    return EnterprisePage(total=total, items=service.present(ctx.db, rows))


@router.post("", response_model=EnterpriseRead, status_code=201)
def create_enterprise(body: EnterpriseCreate, ctx: Ctx) -> EnterpriseRead:
    """Register an enterprise in a division of the caller's jurisdiction (officials only)."""
    ent = service.create_enterprise(ctx.db, ctx.actor, ctx.scope, body)
    return _read(ctx.db, ent)


@router.get("/export.xlsx", response_class=Response)
def export_enterprises(
    ctx: Ctx,
    filters: Filters,
    full_numbers: Annotated[
        bool, Query(description="电话号码不打码 (phones in full; audited as a personal-data read)")
    ] = False,
) -> Response:
    """Download the filtered list as an Excel workbook (phones masked unless ``full_numbers``;
    audited)."""
    data, _count = excel.export_workbook(
        ctx.db, ctx.scope, ctx.actor, full_numbers=full_numbers, **filters.kwargs()
    )
    return xlsx_response(data, "enterprises", "企业档案")


@router.post("/import", response_model=ImportResult, responses=IMPORT_REFUSED)
def import_enterprises(file: UploadFile, ctx: StaffCtx) -> Any:
    """Import an .xlsx registry in the export layout: all rows or none, with a row-by-row report."""
    sheet = excel.read_file(read_upload(file, MAX_UPLOAD_BYTES))
    outcome = excel.import_workbook(ctx.db, ctx.actor, ctx.scope, sheet, source=file.filename or "")
    return import_answer(outcome, lambda: ImportResult(imported=outcome.imported, ids=outcome.ids))


@router.get("/map", response_model=list[MapPoint])
def enterprise_map(ctx: Ctx, filters: Filters) -> list[MapPoint]:
    """Located enterprises in the caller's jurisdiction as map points."""
    return service.map_points(ctx.db, ctx.scope, **filters.kwargs())


@router.get("/conflicts", response_model=list[CodeConflict])
def code_conflicts(ctx: StaffCtx) -> list[CodeConflict]:
    """Credit codes registered by more than one node in the caller's jurisdiction."""
    return service.code_conflicts(ctx.db, ctx.scope)


@router.get("/{enterprise_id}", response_model=EnterpriseRead)
def get_enterprise(enterprise_id: int, ctx: Ctx) -> EnterpriseRead:
    """One enterprise file in the caller's jurisdiction (the read is audited)."""
    return _read(ctx.db, service.get_enterprise(ctx.db, ctx.scope, enterprise_id, ctx.actor))


@router.post("/{enterprise_id}/contacts/reveal", response_model=RevealedContacts)
def reveal_contacts(
    enterprise_id: int,
    ctx: Ctx,
    field: Annotated[
        str | None,
        Query(
            max_length=64,
            description="只显示该电话 (legal_rep_phone | safety_manager_phone; all when absent)",
        ),
    ] = None,
) -> RevealedContacts:
    """The full phone numbers of an enterprise in your jurisdiction, or your own (audited as
    ``enterprise.reveal`` naming the fields)."""
    return service.reveal_contacts(ctx.db, ctx.actor, ctx.scope, enterprise_id, field)


@router.patch("/{enterprise_id}", response_model=EnterpriseRead)
def update_enterprise(enterprise_id: int, body: EnterpriseUpdate, ctx: Ctx) -> EnterpriseRead:
    """Change the fields sent; the credit code cannot change (audited, synced)."""
    ent = service.update_enterprise(ctx.db, ctx.actor, ctx.scope, enterprise_id, body)
    return _read(ctx.db, ent)
