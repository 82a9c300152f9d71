"""The terminal exchange (移动执法终端): ``GET /api/v1/terminal/changes?since=<cursor>`` and
``POST /api/v1/terminal/changes``, and the photos and signatures of findings after them
(``POST /api/v1/terminal/findings/{uid}/photos|signatures``, the image as the body), authenticated by the terminal's token (``Authorization:
Bearer tml_…``), acting as its officer within the officer's scope."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from anjian.core.audit.service import Actor
from anjian.core.downloads import request_bytes
from anjian.core.errors import Unauthorized
from anjian.core.fields import Uid
from anjian.core.iam.deps import DB, client_ip
from anjian.core.iam.models import User
from anjian.core.iam.service import actor_of, scope_of
from anjian.core.images import MAX_IMAGE_BYTES
from anjian.core.scope import Scope
from anjian.db import read_first
from anjian.enforcement import evidence, terminals
from anjian.enforcement.models import Finding, Terminal
from anjian.enforcement.schemas import (
    ChangesApplied,
    ChangesUpload,
    FindingRead,
    SignerRole,
    TerminalChanges,
)

router = APIRouter(prefix="/api/v1/terminal", tags=["terminal 移动执法终端"])
# An image as the raw request body (documented, read by the endpoint itself within its limit).
IMAGE_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            t: {"schema": {"type": "string", "format": "binary"}}
            for t in ("image/jpeg", "image/png", "image/webp")
        },
    }
}


@dataclass(frozen=True)
class TerminalContext:
    db: DB
    terminal: Terminal
    user: User
    scope: Scope
    actor: Actor


def terminal_context(request: Request, db: DB) -> TerminalContext:
    """The terminal of the request's token, its officer's user, scope and actor (401 else)."""
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("bearer "):
        raise Unauthorized("缺少终端令牌 (terminal token required)")
    with read_first(db):
        terminal, user = terminals.authenticate(db, header[7:].strip())
        scope = scope_of(db, user)
    actor = actor_of(user, client_ip(request))
    request.state.actor = actor  # a refused write is still audited (app.py)
    return TerminalContext(db, terminal, user, scope, actor)


TerminalCtx = Annotated[TerminalContext, Depends(terminal_context)]


@router.get("/changes", response_model=TerminalChanges)
def download(
    ctx: TerminalCtx,
    since: Annotated[str | None, Query(max_length=40, description="上次下载的 cursor")] = None,
) -> TerminalChanges:
    """What the terminal's officer needs that changed since ``since``: their inspections (with
    checklists, findings and documents) and the enterprises' files. Records may repeat; apply
    each by (uid, version). Keep the answer's ``cursor`` for the next call."""
    return terminals.changes_for(ctx.db, ctx.scope, ctx.terminal, since)


@router.post(
    "/changes",
    response_model=ChangesApplied,
    responses={409: {"description": "记录已在服务器上被修改：未应用任何更改，附两边的版本"}},
)
def upload(body: ChangesUpload, ctx: TerminalCtx) -> ChangesApplied | JSONResponse:
    """Upload what was recorded offline, in order, all or nothing. A change made on a version
    the server has moved past makes it a 409 with both versions (``conflicts``); a change
    already applied (same ``change_id``) is not applied again (``repeated``)."""
    results, conflicts = terminals.upload(
        ctx.db, ctx.actor, ctx.scope, ctx.user, ctx.terminal, list(body.changes)
    )
    if conflicts:
        return JSONResponse(
            status_code=409,
            content={
                "detail": "记录已在服务器上被修改，请核对后重新提交 (changed on the server since)",
                "conflicts": conflicts,
            },
        )
    return ChangesApplied(results=results)


def _evidence_of(ctx: TerminalContext, uid: str, add: Callable[[Finding], object]) -> FindingRead:
    finding = terminals.finding_of(ctx.db, ctx.scope, ctx.terminal, uid)
    add(finding)
    return FindingRead.model_validate(finding)


@router.post(
    "/findings/{uid}/photos",
    response_model=FindingRead,
    status_code=201,
    openapi_extra=IMAGE_BODY,
)
async def upload_photo(uid: Uid, request: Request, ctx: TerminalCtx) -> FindingRead:
    """A photo of a finding already uploaded (JPEG, PNG or WebP, ≤ 10 MB, as the body); sending
    the same photo again changes nothing."""
    data = await request_bytes(request, MAX_IMAGE_BYTES)
    return await run_in_threadpool(
        _evidence_of,
        ctx,
        uid,
        lambda f: evidence.add_photo(ctx.db, ctx.actor, ctx.scope, ctx.user, f, "photo", data),
    )


@router.post(
    "/findings/{uid}/signatures",
    response_model=FindingRead,
    status_code=201,
    openapi_extra=IMAGE_BODY,
)
async def upload_signature(
    uid: Uid,
    signer: Annotated[str, Query(min_length=1, max_length=50, description="签字人姓名")],
    role: Annotated[SignerRole, Query(description="enterprise 被检查单位 | inspector 执法人员")],
    request: Request,
    ctx: TerminalCtx,
) -> FindingRead:
    """A signature confirming a finding, drawn on the terminal (PNG as the body), with who
    signed and as whom; the same signature again changes nothing."""
    data = await request_bytes(request, MAX_IMAGE_BYTES)
    return await run_in_threadpool(
        _evidence_of,
        ctx,
        uid,
        lambda f: evidence.add_signature(
            ctx.db, ctx.actor, ctx.scope, ctx.user, f, signer, role, data
        ),
    )
