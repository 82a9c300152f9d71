"""The mobile enforcement terminal (移动执法终端) as an installable offline web app, and its
pairing page.

``/terminal/`` is the app shell: it needs no console session, so the service worker
(``/terminal/sw.js``, scoped to ``/terminal/``) can keep it and open it without a network. The
app itself (``static/terminal/``) talks only to the terminal exchange API
(:mod:`anjian.enforcement.terminal_api`) with its terminal token, and keeps what it downloads
and records encrypted in IndexedDB.

``/terminal/pair`` needs the console session of an official registered as an enforcement
officer: it binds a new terminal to that officer — never to anyone else — through the same
service as the API (audited), and answers the app shell carrying the token once, for the app
to encrypt and keep."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from starlette.responses import FileResponse, Response

from anjian.core.errors import Forbidden
from anjian.core.iam.deps import SESSION_COOKIE, Context
from anjian.core.iam.models import Role
from anjian.enforcement import terminals
from anjian.enforcement.inspectors import list_inspectors
from anjian.enforcement.models import Inspector
from anjian.enforcement.rules.inspections import SOURCE_LABELS, STATE_LABELS
from anjian.enforcement.schemas import TerminalCreate
from anjian.enterprises.rules import SUPERVISION_CATEGORIES
from anjian.web import STATIC_DIR
from anjian.web.forms import posted_form
from anjian.web.render import pages_router, render
from anjian.web.session import PageCtx, session_csrf

router = pages_router(Path(__file__).parent / "templates")

SERVICE_WORKER = STATIC_DIR / "terminal" / "sw.js"
# The worker's own policy: it fetches the shell and the exchange API from this origin only.
WORKER_CSP = "default-src 'self'"
RESULT_LABELS = {"ok": "符合", "finding": "不符合", "na": "不适用"}


def labels() -> str:
    """The Chinese names the app shows for the codes it receives (as JSON for the shell)."""
    return json.dumps(
        {
            "categories": SUPERVISION_CATEGORIES,
            "states": STATE_LABELS,
            "sources": SOURCE_LABELS,
            "results": RESULT_LABELS,
        },
        ensure_ascii=False,
    )


def _shell(request: Request, **context: Any) -> Response:
    return render(request, "terminal/shell.html", {"labels": labels(), **context})


@router.get("/terminal")
def terminal_root() -> RedirectResponse:
    """The app lives under ``/terminal/`` (the service worker's scope)."""
    return RedirectResponse("/terminal/", status_code=308)


@router.get("/terminal/")
def terminal_shell(request: Request) -> Response:
    """The app shell: no session and no data in it, so it may be kept for offline use."""
    return _shell(request, pair=None)


@router.get("/terminal/sw.js")
def service_worker() -> Response:
    """The service worker, served from ``/terminal/`` so that its scope can be ``/terminal/``."""
    return FileResponse(
        SERVICE_WORKER,
        media_type="text/javascript",
        headers={"Content-Security-Policy": WORKER_CSP},
    )


def officer_of(ctx: Context) -> Inspector:
    """The signed-in official's own active officer record, or 403 saying why not."""
    if ctx.user.role != Role.OFFICIAL:
        raise Forbidden("只有执法人员可以绑定移动执法终端 (officers only)")
    mine = next((i for i in list_inspectors(ctx.db, ctx.scope) if i.user_id == ctx.user.id), None)
    if mine is None:
        raise Forbidden("您尚未登记为执法人员，不能绑定移动执法终端 (not a registered officer)")
    if not mine.active:
        raise Forbidden("您的执法人员资格已停用，不能绑定移动执法终端 (officer inactive)")
    return mine


def _pair_form(
    request: Request, ctx: Context, name: str, error: str = "", status_code: int = 200
) -> Response:
    officer = officer_of(ctx)
    return render(
        request,
        "terminal/pair.html",
        {
            "csrf": session_csrf(request.cookies.get(SESSION_COOKIE, "")),
            "officer": officer,
            "name": name,
            "error": error,
        },
        status_code,
    )


@router.get("/terminal/pair")
def pair_page(request: Request, ctx: PageCtx) -> Response:
    """Bind this device to the signed-in officer: the form (console session required)."""
    return _pair_form(request, ctx, "移动执法终端")


@router.post("/terminal/pair")
async def pair(request: Request, ctx: PageCtx) -> Response:
    """Bind a terminal to the signed-in officer (audited) and hand its token to the app,
    which encrypts it on the device; the token is in this one answer only (not kept)."""
    form = await posted_form(request)
    officer = officer_of(ctx)
    name = form.get("name", "").strip()
    try:
        data = TerminalCreate(name=name)
    except ValidationError:
        return _pair_form(request, ctx, name, "请填写终端名称（不超过 64 个字）", 422)
    terminal, token = terminals.bind(ctx.db, ctx.actor, ctx.scope, ctx.user, officer.id, data)
    return _shell(
        request,
        pair={"token": token, "name": terminal.name, "officer": officer.name},
    )
