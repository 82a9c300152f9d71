"""Organisation API."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict

from anjian.core.errors import NotFound
from anjian.core.iam.deps import Ctx
from anjian.core.orgs import service

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
