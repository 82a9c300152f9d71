"""The console's cookie session and CSRF protection, and the page context every page reads
through.

The cookie holds the same session token the API hands out as a Bearer token (HttpOnly,
SameSite=Strict, Secure over HTTPS or per ``settings.cookie_secure``). Form posts carry a CSRF token: for a
logged-in session an HMAC-SM3 of the session token under the console key (bound to the session),
before login a double-submit cookie."""

from __future__ import annotations

import json
import secrets
import time
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Request
from starlette.responses import Response

from anjian.config import get_settings
from anjian.core.audit.service import audit
from anjian.core.crypto import FieldCipher, constant_time_equal, hmac_sm3
from anjian.core.errors import AnjianError, Forbidden, Unauthorized
from anjian.core.iam.deps import DB, SESSION_COOKIE, Context, authenticate, client_ip
from anjian.core.iam.models import Role
from anjian.core.iam.service import actor_of, resolve_session, scope_of
from anjian.core.scope import Scope
from anjian.core.transport import scope_is_https
from anjian.db import unit_of_work
from anjian.web.render import zh

LOGIN_CSRF_COOKIE = "anjian_login_csrf"
PENDING_COOKIE = "anjian_login_pending"
PENDING_SECONDS = 300


class LoginRequired(Exception):
    """The page needs a (valid) session: redirect to the login page."""

    def __init__(self, next_url: str = "/", reason: str | None = None) -> None:
        super().__init__(reason or "login required")
        self.next_url = next_url
        self.reason = reason


class MfaEnrolmentRequired(Exception):
    """The session must bind an authenticator before it may see any page."""


def _console_key() -> bytes:
    return get_settings().key_file("console")


def cookie_secure(setting: bool | str, https: bool) -> bool:
    """Whether cookies are marked Secure: as configured, or with ``auto`` exactly when the
    request came over HTTPS (a browser drops a Secure cookie set over plain HTTP on any host
    but localhost, and the login form's CSRF cookie with it)."""
    return https if setting == "auto" else bool(setting)


def _cookie_args(request: Request, path: str = "/") -> dict[str, Any]:
    return {
        "httponly": True,
        "samesite": "strict",
        "secure": cookie_secure(get_settings().cookie_secure, scope_is_https(request.scope)),
        "path": path,
    }


def set_session_cookie(request: Request, response: Response, token: str) -> None:
    # No max-age: the cookie ends with the browser; the server ends the session on idle anyway.
    response.set_cookie(SESSION_COOKIE, token, **_cookie_args(request))


def clear_session_cookie(request: Request, response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, **_cookie_args(request))


# --- CSRF --------------------------------------------------------------------------------------


def session_csrf(token: str) -> str:
    """The CSRF token of a logged-in session: derived from (so bound to) the session token."""
    return hmac_sm3(_console_key(), b"csrf:" + token.encode())[:40]


def login_csrf(request: Request) -> str:
    """The double-submit token of the login form (reuses the browser's cookie if it has one)."""
    return request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(24)


def set_login_csrf(request: Request, response: Response, value: str) -> None:
    response.set_cookie(LOGIN_CSRF_COOKIE, value, max_age=3600, **_cookie_args(request))


def check_login_csrf(request: Request, submitted: str) -> None:
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not cookie or not submitted or not constant_time_equal(cookie, submitted):
        raise Forbidden("页面已过期，请刷新后重试 (CSRF check failed: reload the page)")


def check_csrf(request: Request, submitted: str | None) -> None:
    """Refuse a state-changing request whose CSRF token (form field ``csrf`` or header
    ``X-CSRF-Token``) does not belong to the session of its cookie."""
    token = request.cookies.get(SESSION_COOKIE, "")
    value = submitted or request.headers.get("x-csrf-token", "")
    if not token or not value or not constant_time_equal(session_csrf(token), value):
        raise Forbidden("页面已过期，请刷新后重试 (CSRF check failed: reload the page)")


# --- the password step kept while the one-time code is asked -----------------------------------


def seal_pending_login(request: Request, response: Response, username: str, password: str) -> None:
    """Keep the verified username and password, sealed (SM4-GCM under the console key) in a
    5-minute HttpOnly cookie, so the second step asks only for the code and the password
    never appears in the page."""
    body = json.dumps({"u": username, "p": password, "exp": int(time.time()) + PENDING_SECONDS})
    sealed = FieldCipher(_console_key()).encrypt(body) or ""
    response.set_cookie(
        PENDING_COOKIE, sealed, max_age=PENDING_SECONDS, **_cookie_args(request, "/login")
    )


def open_pending_login(request: Request) -> tuple[str, str] | None:
    sealed = request.cookies.get(PENDING_COOKIE)
    if not sealed:
        return None
    try:
        body = json.loads(FieldCipher(_console_key()).decrypt(sealed) or "{}")
    except ValueError:
        return None
    if int(body.get("exp", 0)) < time.time():
        return None
    return str(body["u"]), str(body["p"])


def clear_pending_login(request: Request, response: Response) -> None:
    response.delete_cookie(PENDING_COOKIE, **_cookie_args(request, "/login"))


# --- page context ------------------------------------------------------------------------------


def safe_next(value: str | None) -> str:
    """A local path to return to after login (never another site)."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/"


def _here(request: Request) -> str:
    path = request.url.path
    return f"{path}?{request.url.query}" if request.url.query else path


def login_url(next_url: str = "/", reason: str | None = None) -> str:
    url = "/login"
    params = []
    if next_url and next_url != "/":
        params.append(f"next={quote(next_url, safe='/')}")
    if reason:
        params.append(f"reason={reason}")
    return url + ("?" + "&".join(params) if params else "")


LIVE_HEADER = "x-anjian-live"


def _session_context(request: Request, db: DB, *, allow_pending: bool) -> Context:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise LoginRequired(_here(request))
    try:
        # A live page reloading its parts after a change is not the user's activity: the idle
        # timeout (等保 8.1.4.1 b) still ends a session nobody uses (static/live.js).
        live = request.method == "GET" and request.headers.get(LIVE_HEADER) == "1"
        user, auth, scope = authenticate(db, token, activity=not live)
    except Unauthorized as exc:
        reason = "timeout" if "超时" in exc.message else "invalid"
        raise LoginRequired(_here(request), reason) from exc
    if not auth.mfa_satisfied and not allow_pending:
        raise MfaEnrolmentRequired
    ctx = Context(
        db=db,
        user=user,
        auth=auth,
        scope=scope,
        actor=actor_of(user, client_ip(request)),
    )
    request.state.actor = ctx.actor  # a refused write is audited with its actor (app.py)
    return ctx


def record_refusal(request: Request, ctx: Context, exc: AnjianError) -> None:
    """Audit a write the page refused and showed as a form error rather than raised, the way
    the API audits refused writes (``access.denied``), in the request's transaction."""
    audit(
        ctx.db,
        ctx.actor,
        "access.denied",
        result="denied",
        detail={"method": request.method, "path": request.url.path, "reason": exc.message},
    )


def refused(request: Request, ctx: Context, exc: AnjianError) -> dict[str, str]:
    """A service call a form page refused, as the form's errors: the transaction rolled back,
    a refusal (403, or a 404 hiding a record out of scope) audited, the Chinese message at its
    field (or at the top)."""
    ctx.db.rollback()
    if exc.denies_access:
        record_refusal(request, ctx, exc)
    return {exc.field or "__all__": zh(exc.message)}


def page_context(request: Request, db: DB) -> Context:
    """The logged-in user of a console page, with the same scope the API uses."""
    return _session_context(request, db, allow_pending=False)


def pending_page_context(request: Request, db: DB) -> Context:
    """Like :func:`page_context` but also for a session that has still to enrol MFA."""
    return _session_context(request, db, allow_pending=True)


def stream_scope(token: str | None) -> Scope | None:
    """The scope of a session token, for a long-lived stream (server-sent events); None when
    the session is not (or no longer) valid or must still enrol MFA.

    Checked in a read-only unit of work, so a stream polling in an open tab does not count as
    activity: the idle timeout (等保 8.1.4.1 b) still ends a session nobody uses."""
    if not token:
        return None
    with unit_of_work(read_only=True) as db:
        try:
            user, auth = resolve_session(db, token)
        except Unauthorized:
            return None
        if not auth.mfa_satisfied:
            return None
        return scope_of(db, user)


def staff_page_context(ctx: Annotated[Context, Depends(page_context)]) -> Context:
    """Officials and administrators only."""
    if ctx.user.role == Role.ENTERPRISE:
        raise Forbidden("企业用户无权访问此页面 (not for enterprise users)")
    return ctx


PageCtx = Annotated[Context, Depends(page_context)]
PendingPageCtx = Annotated[Context, Depends(pending_page_context)]
StaffPageCtx = Annotated[Context, Depends(staff_page_context)]
