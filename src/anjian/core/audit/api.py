"""Audit API: officials read the audit of their jurisdiction; nothing writes here."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict

from anjian.core.audit import service
from anjian.core.iam.deps import StaffCtx
from anjian.core.paging import PageOut

router = APIRouter(prefix="/api/v1/audit", tags=["audit 安全审计"])


class AuditRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    seq: int
    ts: datetime
    actor_name: str
    ip: str | None
    action: str
    object_type: str | None
    object_id: str | None
    division_code: str | None
    result: str
    detail: dict


class AuditPage(PageOut):
    items: list[AuditRead]


@router.get("", response_model=AuditPage)
def list_audit(
    ctx: StaffCtx,
    action: str | None = None,
    actor: str | None = None,
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0),
) -> AuditPage:
    """Audit records in the caller's jurisdiction, newest first."""
    rows, total = service.list_audit(
        ctx.db, ctx.scope, action=action, actor=actor, limit=limit, offset=offset
    )
    return AuditPage(total=total, items=[AuditRead.model_validate(r) for r in rows])
