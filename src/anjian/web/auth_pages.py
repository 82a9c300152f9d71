"""Console login, logout and MFA enrolment pages (等保 level 3: two factors, lockout, timeout)."""

from __future__ import annotations

from typing import Annotated, Any

import pyotp
import segno
from fastapi import Form, Query, Request
from fastapi.responses import RedirectResponse
from markupsafe import Markup
from starlette.responses import Response

from anjian.core.errors import AnjianError, Forbidden
from anjian.core.iam import service
from anjian.core.iam.deps import DB, SESSION_COOKIE, client_ip, login_guard
from anjian.core.iam.service import MfaRequired
from anjian.core.node_settings.service import effective_settings
from anjian.web.offloop import page_routes
from anjian.web.render import render, zh
from anjian.web.session import (
    PendingPageCtx,
    check_csrf,
    check_login_csrf,
    clear_pending_login,
    clear_session_cookie,
    login_csrf,
    open_pending_login,
    safe_next,
    seal_pending_login,
    session_csrf,
    set_login_csrf,
    set_session_cookie,
)

router = page_routes()

REASONS = {
    "timeout": ("warning", "会话已超时，请重新登录"),
    "invalid": ("warning", "会话已失效，请重新登录"),
    "bye": ("success", "您已安全退出"),
}


def _login_page(
    request: Request,
    *,
    next_url: str,
    username: str = "",
    error: str = "",
    error_field: str = "",
    notice: tuple[str, str] | None = None,
    otp_step: bool = False,
    status_code: int = 200,
) -> Response:
    token = login_csrf(request)
    response = render(
        request,
        "login.html",
        {
            "csrf": token,
            "next": next_url,
            "username": username,
            "error": error,
            "error_field": error_field,
            "notice": notice,
            "otp_step": otp_step,
            "idle_minutes": effective_settings().session_idle_minutes,
        },
        status_code,
    )
    set_login_csrf(request, response, token)
    return response


@router.get("/login")
def login_form(
    request: Request,
    # a URL to return to carries the filters of the page left (beyond the 200 of search text)
    next: Annotated[str, Query(max_length=4096)] = "/",
    reason: str = "",
) -> Response:
    """The login page."""
    response = _login_page(request, next_url=safe_next(next), notice=REASONS.get(reason))
    if reason in ("timeout", "invalid") and request.cookies.get(SESSION_COOKIE):
        clear_session_cookie(request, response)
    return response


@router.post("/login")
def login_submit(
    request: Request,
    db: DB,
    username: str = Form(""),
    password: str = Form(""),
    otp: str = Form(""),
    step: str = Form("password"),
    next: str = Form("/"),
    csrf: str = Form(""),
) -> Response:
    """Check the password (and one-time code); open a session held in the cookie."""
    next_url = safe_next(next)
    try:
        check_login_csrf(request, csrf)
    except Forbidden as exc:
        return _login_page(request, next_url=next_url, error=zh(exc.message), status_code=403)
    if step == "otp":
        pending = open_pending_login(request)
        if pending is None:
            response = _login_page(
                request,
                next_url=next_url,
                error="动态口令输入超时，请重新输入用户名和密码",
                status_code=401,
            )
            clear_pending_login(request, response)
            return response
        username, password = pending
    username = username.strip()
    if not username or not password:
        return _login_page(
            request,
            next_url=next_url,
            username=username,
            error="请输入用户名和密码",
            error_field="username" if not username else "password",
            status_code=422,
        )
    try:
        result = service.login(
            db, username, password, otp.strip() or None, client_ip(request), login_guard(request)
        )
    except MfaRequired:
        # In the code step this means the code was left empty: say so rather than loop.
        error = "请输入动态口令" if step == "otp" else ""
        response = _login_page(
            request, next_url=next_url, username=username, otp_step=True, error=error
        )
        seal_pending_login(request, response, username, password)
        return response
    except AnjianError as exc:
        # The failure's audit record and the lockout count must survive the error.
        db.commit()
        otp_failed = exc.field == "otp"
        response = _login_page(
            request,
            next_url=next_url,
            username=username,
            error=zh(exc.message),
            error_field="otp" if otp_failed else "password",
            otp_step=otp_failed,
            status_code=exc.status,
        )
        response.headers.update(exc.headers)  # Retry-After of a 429
        if not otp_failed:
            clear_pending_login(request, response)
        return response
    target = "/mfa/enrol" if result.mfa_enrolment_required else next_url
    response = RedirectResponse(target, status_code=303)
    set_session_cookie(request, response, result.token)
    clear_pending_login(request, response)
    return response


@router.post("/logout")
def logout(request: Request, ctx: PendingPageCtx, csrf: str = Form("")) -> Response:
    """End the session and drop the cookie."""
    check_csrf(request, csrf)
    service.logout(ctx.db, ctx.user, ctx.auth, ctx.actor.ip)
    response = RedirectResponse("/login?reason=bye", status_code=303)
    clear_session_cookie(request, response)
    return response


# --- MFA enrolment -----------------------------------------------------------------------------


def totp_qr_svg(uri: str) -> Markup:
    """The otpauth URI as a QR code, an inline SVG drawn here (no outside service sees the
    secret, and the page's Content-Security-Policy needs nothing more)."""
    qr = segno.make(uri, error="m")
    return Markup(
        qr.svg_inline(
            scale=5, border=2, dark="#1d273b", light="#ffffff", title="动态口令绑定二维码"
        )
    )


def _enrol_page(request: Request, ctx: Any, status_code: int = 200, **extra: Any) -> Response:
    if extra.get("uri"):
        extra["qr_svg"] = totp_qr_svg(extra["uri"])
    return render(
        request,
        "mfa_enrol.html",
        {
            "user": ctx.user,
            "required": not ctx.auth.mfa_satisfied,
            "csrf": session_csrf(request.cookies.get(SESSION_COOKIE, "")),
            **extra,
        },
        status_code,
    )


def _pending_secret(ctx: Any) -> tuple[str, str] | None:
    secret = service.field_cipher().decrypt(ctx.user.totp_pending_enc)
    if not secret:
        return None
    uri = pyotp.TOTP(secret).provisioning_uri(
        name=ctx.user.username, issuer_name=service.TOTP_ISSUER
    )
    return secret, uri


@router.get("/mfa/enrol")
def enrol_page(request: Request, ctx: PendingPageCtx) -> Response:
    """Bind a TOTP authenticator (required for roles that must use two factors)."""
    pending = _pending_secret(ctx)
    if pending:
        return _enrol_page(request, ctx, secret=pending[0], uri=pending[1])
    return _enrol_page(request, ctx)


@router.post("/mfa/enrol")
def enrol_start(
    request: Request,
    ctx: PendingPageCtx,
    csrf: str = Form(""),
    password: str = Form(""),
    otp: str = Form(""),
) -> Response:
    """Create a new secret (kept pending until a code confirms it); replacing a bound
    authenticator asks for the password and a current code or a recovery code."""
    check_csrf(request, csrf)
    try:
        secret, uri = service.mfa_enrol(
            ctx.db, ctx.user, ctx.actor.ip, password=password or None, otp=otp or None
        )
    except AnjianError as exc:
        ctx.db.commit()  # keep the audit record and the failure count of a wrong proof
        return _enrol_page(
            request, ctx, status_code=exc.status, error=zh(exc.message), error_field=exc.field
        )
    return _enrol_page(request, ctx, secret=secret, uri=uri)


@router.post("/mfa/verify")
def enrol_verify(
    request: Request, ctx: PendingPageCtx, otp: str = Form(""), csrf: str = Form("")
) -> Response:
    """Confirm the authenticator with a current code; show the recovery codes once."""
    check_csrf(request, csrf)
    try:
        codes = service.mfa_verify(ctx.db, ctx.user, ctx.auth, otp, ctx.actor.ip)
    except AnjianError as exc:
        ctx.db.commit()  # keep the audit record of the failed attempt
        pending = _pending_secret(ctx)
        return _enrol_page(
            request,
            ctx,
            status_code=exc.status,
            secret=pending[0] if pending else None,
            uri=pending[1] if pending else None,
            error=zh(exc.message),
        )
    return _enrol_page(request, ctx, recovery_codes=codes)
