"""Organisation API."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from anjian.core.errors import NotFound
from anjian.core.iam.deps import AdminCtx, Ctx
from anjian.core.orgs import service
from anjian.core.orgs.models import OrgKind

router = APIRouter(prefix="/api/v1/organisations", tags=["organisations 机构"])


class OrgRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    uid: str
    name: str
    kind: str
    division_code: str
    parent_id: int | None
    area_codes: list[str] | None
    enterprise_id: int | None
    origin_node: str
    version: int


class OrgCreate(BaseModel):
    name: str = Field(min_length=1, max_length=128)
    kind: OrgKind
    division_code: str = Field(pattern=r"^\d{6}$")
    parent_id: int | None = None
    area_codes: list[str] | None = Field(
        default=None, description="inspection bureaus only: division codes of their area"
    )


class OrgUpdate(BaseModel):
    """Fields to change (the others are kept); ``null`` clears the parent or the area."""

    name: str | None = Field(default=None, min_length=1, max_length=128)
    kind: OrgKind | None = None
    division_code: str | None = Field(default=None, pattern=r"^\d{6}$")
    parent_id: int | None = None
    area_codes: list[str] | None = None


@router.post("", response_model=OrgRead, status_code=201)
def create_org(body: OrgCreate, ctx: AdminCtx) -> OrgRead:
    """Register an organisation in the administrator's jurisdiction."""
    # The body's fields are the service's keywords, one for one.
    org = service.create_org(ctx.db, ctx.actor, **body.model_dump(), scope=ctx.scope)
    return OrgRead.model_validate(org)


@router.get("", response_model=list[OrgRead])
def list_orgs(ctx: Ctx, kind: str | None = None) -> list[OrgRead]:
    """Organisations in the caller's jurisdiction (agencies, inspection bureaus, rescue teams…)."""
    return [OrgRead.model_validate(o) for o in service.list_orgs(ctx.db, ctx.scope, kind)]


@router.get("/{org_id}", response_model=OrgRead)
def get_org(org_id: int, ctx: Ctx) -> OrgRead:
    """One organisation in scope."""
    org = service.get_org(ctx.db, ctx.scope, org_id)
    if org is None:
        raise NotFound(f"机构不存在或不在管辖范围内: {org_id} (no such organisation in scope)")
    return OrgRead.model_validate(org)


@router.patch("/{org_id}", response_model=OrgRead)
def update_org(org_id: int, body: OrgUpdate, ctx: AdminCtx) -> OrgRead:
    """Change an organisation of this node in the administrator's jurisdiction."""
    org = service.org_in_scope(ctx.db, ctx.scope, org_id)
    sent = body.model_fields_set
    org = service.update_org(
        ctx.db,
        ctx.actor,
        ctx.scope,
        org_id,
        name=body.name or org.name,
        kind=body.kind or OrgKind(org.kind),
        division_code=body.division_code or org.division_code,
        parent_id=body.parent_id if "parent_id" in sent else org.parent_id,
        area_codes=body.area_codes if "area_codes" in sent else org.area_codes,
    )
    return OrgRead.model_validate(org)
