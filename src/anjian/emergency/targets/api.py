"""Protection targets API (防护目标): schools, hospitals and population points that the threat
zones of 扩散分析 list, registered one by one or from the Excel template."""

# No ``from __future__ import annotations``: FastAPI reads the filters' annotations.

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response, UploadFile

from anjian.core.api_kit import (
    IMPORT_REFUSED,
    DivisionQuery,
    ListFilters,
    import_answer,
    list_page,
    read_upload,
)
from anjian.core.contacts import RevealedContacts
from anjian.core.downloads import xlsx_response
from anjian.core.iam.deps import Ctx
from anjian.core.paging import Paging
from anjian.core.xlsx import ImportResult
from anjian.emergency.targets import excel, service
from anjian.emergency.targets.models import ProtectionTarget
from anjian.emergency.targets.schemas import TargetCreate, TargetPage, TargetRead, TargetUpdate

router = APIRouter(prefix="/api/v1/emergency", tags=["emergency 应急管理"])
MAX_UPLOAD_BYTES = 5 * 1024 * 1024


@dataclass(frozen=True)
class TargetFilters(ListFilters):
    division: DivisionQuery = None
    kind: Annotated[
        str | None,
        Query(
            max_length=16,
            description="school | kindergarten | hospital | nursing_home | residential | "
            "crowded_place | other",
        ),
    ] = None
    q: Annotated[str | None, Query(max_length=100, description="名称或地址包含")] = None


def _read(ctx: Ctx, target: ProtectionTarget) -> TargetRead:
    return service.present(ctx.db, [target])[0]


@router.post("/targets", response_model=TargetRead, status_code=201)
def create_target(body: TargetCreate, ctx: Ctx) -> TargetRead:
    """Register a protection target (学校、医院、居民区 …) in a division of your jurisdiction;
    enterprise users may not (403)."""
    return _read(ctx, service.create_target(ctx.db, ctx.actor, ctx.scope, body))


@router.get("/targets", response_model=TargetPage)
def list_targets(
    ctx: Ctx, filters: Annotated[TargetFilters, Depends()], paging: Paging
) -> TargetPage:
    """Protection targets in scope by kind, division and name or address."""
    return list_page(TargetPage, service.list_targets, ctx, filters, paging, service.present)


@router.get("/targets/template.xlsx", response_class=Response)
def targets_template(ctx: Ctx) -> Response:
    """The Excel template of the target import (防护目标导入模板)."""
    return xlsx_response(excel.template(), "emergency-targets-template", "防护目标导入模板")


@router.post("/targets/import", response_model=ImportResult, responses=IMPORT_REFUSED)
def import_targets(file: UploadFile, ctx: Ctx) -> Any:
    """Register targets from the template layout: all rows or none, with a row-by-row report
    (each target audited and synced as one registered through the API)."""
    service.ensure_agency(ctx.scope)
    sheet = excel.read_file(read_upload(file, MAX_UPLOAD_BYTES))
    outcome = excel.import_targets(ctx.db, ctx.actor, ctx.scope, sheet, source=file.filename or "")
    return import_answer(outcome, lambda: ImportResult(imported=len(outcome.ids), ids=outcome.ids))


@router.get("/targets/{target_id}", response_model=TargetRead)
def get_target(target_id: int, ctx: Ctx) -> TargetRead:
    """One protection target in scope."""
    return _read(ctx, service.get_target(ctx.db, ctx.scope, target_id))


@router.patch("/targets/{target_id}", response_model=TargetRead)
def update_target(target_id: int, body: TargetUpdate, ctx: Ctx) -> TargetRead:
    """Change the fields sent (population, position, contact …) of a target kept here."""
    target = service.update_target(ctx.db, ctx.actor, ctx.scope, target_id, body)
    return _read(ctx, target)


@router.delete("/targets/{target_id}", status_code=204, response_class=Response)
def delete_target(target_id: int, ctx: Ctx) -> Response:
    """Remove a target kept here (a tombstone that travels up; audited)."""
    service.delete_target(ctx.db, ctx.actor, ctx.scope, target_id)
    return Response(status_code=204)


@router.post("/targets/{target_id}/contacts/reveal", response_model=RevealedContacts)
def reveal_contact(target_id: int, ctx: Ctx) -> RevealedContacts:
    """The contact's full phone number (audited as ``emergency_protection_target.reveal``)."""
    return service.reveal_contact(ctx.db, ctx.actor, ctx.scope, target_id)
