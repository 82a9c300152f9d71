"""The terminal exchange (移动执法终端): ``GET /api/v1/terminal/changes?since=<cursor>`` and
``POST /api/v1/terminal/changes``, authenticated by the terminal's token (``Authorization:
Bearer tml_…``), acting as its officer within the officer's scope."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from anjian.core.audit.service import Actor
from anjian.core.errors import Unauthorized
from anjian.core.iam.deps import DB, client_ip
from anjian.core.iam.models import User
from anjian.core.iam.service import actor_of, scope_of
from anjian.core.scope import Scope
from anjian.db import read_first
from anjian.enforcement import terminals
from anjian.enforcement.models import Terminal
from anjian.enforcement.schemas import ChangesApplied, ChangesUpload, TerminalChanges

router = APIRouter(prefix="/api/v1/terminal", tags=["terminal 移动执法终端"])


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
