"""Directive API (通知、指令 and 签收)."""

from __future__ import annotations

from fastapi import APIRouter

from anjian.core.iam.deps import StaffCtx
from anjian.directives import service
from anjian.directives.schemas import (
    ClosureCreate,
    DirectiveCreate,
    DirectiveRead,
    ReceiptCreate,
    ReceiptRead,
)

router = APIRouter(prefix="/api/v1/directives", tags=["directives 通知指令"])


def _read(ctx: StaffCtx, d) -> DirectiveRead:  # type: ignore[no-untyped-def]
    receipts = service.receipts_of(ctx.db, ctx.scope, d)
    out = DirectiveRead.model_validate(d)
    out.receipts = [ReceiptRead.model_validate(r) for r in receipts]
    out.signed_here = any(r.division_code == ctx.user.division_code for r in receipts)
    return out


@router.get("", response_model=list[DirectiveRead])
def list_directives(ctx: StaffCtx) -> list[DirectiveRead]:
    """Directives addressed to the caller's division (or above it) and those issued into it."""
    return [_read(ctx, d) for d in service.list_for(ctx.db, ctx.scope, ctx.user)]


@router.post("", response_model=DirectiveRead, status_code=201)
def issue_directive(body: DirectiveCreate, ctx: StaffCtx) -> DirectiveRead:
    """Issue a notice or directive to a jurisdiction; it flows down to the nodes below."""
    return _read(ctx, service.issue(ctx.db, ctx.actor, ctx.scope, ctx.user, body))


@router.get("/{uid}", response_model=DirectiveRead)
def get_directive(uid: str, ctx: StaffCtx) -> DirectiveRead:
    """One directive with the receipts of the divisions in scope."""
    return _read(ctx, service.get(ctx.db, ctx.scope, ctx.user, uid))


@router.post("/{uid}/receipts", response_model=ReceiptRead, status_code=201)
def sign_directive(uid: str, body: ReceiptCreate, ctx: StaffCtx) -> ReceiptRead:
    """Acknowledge receipt (签收) for the caller's division; the receipt flows up."""
    return ReceiptRead.model_validate(
        service.sign(ctx.db, ctx.actor, ctx.scope, ctx.user, uid, body.note)
    )


@router.post("/{uid}/close", response_model=DirectiveRead)
def close_directive(uid: str, body: ClosureCreate, ctx: StaffCtx) -> DirectiveRead:
    """Close (验收并解除) a 挂牌督办 order: the issuing agency only; flows down."""
    return _read(ctx, service.close(ctx.db, ctx.actor, ctx.scope, ctx.user, uid, body.note))
