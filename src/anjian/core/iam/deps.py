"""FastAPI dependencies: the unit of work and the authenticated context with its scope."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from anjian.core.audit.service import Actor
from anjian.core.errors import Forbidden, Unauthorized
from anjian.core.iam.guard import LoginGuard
from anjian.core.iam.models import AuthSession, Role, User
from anjian.core.iam.service import actor_of, keep_alive, resolve_session, scope_of
from anjian.core.scope import Scope
from anjian.db import read_first, unit_of_work

SESSION_COOKIE = "anjian_session"


_SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def get_db(request: Request) -> Iterator[Session]:
    """The request's unit of work: committed after the handler returns, rolled back on error.

    A read (GET, HEAD) works in a read-only unit: on SQLite it neither waits for nor takes the
    write lock, and what it records (its audit records, the session's idle clock) is written
    in one short transaction after it. Other requests authenticate in a read of their own (see
    :func:`authenticate`); their write transaction begins with the handler's first query, so
    what a handler does before it (parsing an upload, hashing a password) holds no lock."""
    with unit_of_work(read_only=request.method in _SAFE_METHODS) as session:
        yield session


DB = Annotated[Session, Depends(get_db, scope="function")]


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def login_guard(request: Request) -> LoginGuard:
    """The application's login limits (made with the application: see anjian.app)."""
    guard: LoginGuard = request.app.state.login_guard
    return guard


@dataclass(frozen=True)
class Context:
    """Who is asking, what they may see, and the transaction to work in."""

    db: Session
    user: User
    auth: AuthSession
    scope: Scope
    actor: Actor


def _token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    # The console's cookie reaches the API for reads only (e.g. the Excel export link). Writes
    # need the Bearer header, which another site cannot make a browser send: no CSRF on the API.
    if request.method in _SAFE_METHODS:
        return request.cookies.get(SESSION_COOKIE)
    return None


def authenticate(
    db: Session, token: str, *, activity: bool = True
) -> tuple[User, AuthSession, Scope]:
    """The user of a session token, the session and the user's scope (401 when the session is
    not valid), read in a transaction of its own when the request's unit writes: the lock a
    write takes is not held for authentication. Counts the request as the session's activity
    unless ``activity`` is false (a live page refreshing itself)."""
    with read_first(db):
        user, auth = resolve_session(db, token)
        scope = scope_of(db, user)
    if activity:
        keep_alive(db, auth)
    return user, auth, scope


def _context(request: Request, db: DB, *, allow_mfa_pending: bool) -> Context:
    token = _token(request)
    if not token:
        raise Unauthorized("未登录 (not logged in)")
    user, auth, scope = authenticate(db, token)
    if not auth.mfa_satisfied and not allow_mfa_pending:
        raise Forbidden(
            "须先绑定动态口令 (enrol a one-time-code authenticator first: "
            "POST /api/v1/auth/mfa/enrol)"
        )
    ctx = Context(
        db=db,
        user=user,
        auth=auth,
        scope=scope,
        actor=actor_of(user, client_ip(request)),
    )
    request.state.actor = ctx.actor  # so a refused write can still be audited (app.py)
    return ctx


def current_context(request: Request, db: DB) -> Context:
    return _context(request, db, allow_mfa_pending=False)


def pending_context(request: Request, db: DB) -> Context:
    """Like :func:`current_context` but also for sessions that still have to enrol MFA."""
    return _context(request, db, allow_mfa_pending=True)


def admin_context(ctx: Annotated[Context, Depends(current_context)]) -> Context:
    if ctx.user.role != Role.ADMIN:
        raise Forbidden("需要管理员权限 (administrators only)")
    return ctx


def staff_context(ctx: Annotated[Context, Depends(current_context)]) -> Context:
    """Officials and administrators (not enterprise users)."""
    if ctx.user.role == Role.ENTERPRISE:
        raise Forbidden("企业用户无权访问 (not for enterprise users)")
    return ctx


Ctx = Annotated[Context, Depends(current_context)]
PendingCtx = Annotated[Context, Depends(pending_context)]
AdminCtx = Annotated[Context, Depends(admin_context)]
StaffCtx = Annotated[Context, Depends(staff_context)]
