"""Inbox sources of account upkeep (see ``anjian.core.inbox``), for the node's
administrators (系统管理员): the accounts locked now (by an administrator or by failed logins,
the people who cannot work until someone acts) and the accounts whose role requires MFA but
have not enrolled (their next login stops at enrolment). Names only, never phone numbers."""

from __future__ import annotations

from sqlalchemy import not_

from anjian.core.divisions.service import division_names
from anjian.core.iam.deps import Context
from anjian.core.iam.models import ROLE_LABELS, Role, User
from anjian.core.iam.service import locked_now, mfa_pending, users_in_scope
from anjian.core.inbox import ADMIN, Found, InboxItem, source
from anjian.core.paging import paged
from anjian.db import utcnow


def _who(ctx: Context, users: list[User]) -> dict[str, str]:
    names = division_names(ctx.db, {u.division_code for u in users})
    return {
        u.username: f"{ROLE_LABELS.get(Role(u.role), u.role)} · {names.get(u.division_code, '')}"
        for u in users
    }


def _title(u: User) -> str:
    if not u.display_name or u.display_name == u.username:
        return u.username
    return f"{u.display_name}（{u.username}）"


@source(
    "accounts.locked",
    "被锁定的账号",
    ADMIN,
    order=5,
    empty="没有被锁定的账号。",
    link="/admin/users?locked=yes",
)
def locked_accounts(ctx: Context, limit: int) -> Found:
    """Accounts locked now in the administrator's jurisdiction: by an administrator first, then
    by failed logins, the lock ending last first (they wait longest without help)."""
    now = utcnow()
    stmt = users_in_scope(ctx.scope).where(locked_now(now))
    found, total = paged(
        ctx.db,
        stmt,
        (not_(User.locked_by_admin), User.locked_until.desc(), User.username),
        limit=limit,
    )
    detail = _who(ctx, found)
    return Found(
        total,
        [
            InboxItem(
                title=_title(u),
                detail=f"{detail[u.username]} · "
                + ("管理员锁定" if u.locked_by_admin else "登录失败锁定"),
                url=f"/admin/users/{u.id}",
                due_at=None if u.locked_by_admin else u.locked_until,
            )
            for u in found
        ],
    )


@source(
    "accounts.mfa_pending",
    "须绑定动态口令的账号",
    ADMIN,
    order=6,
    empty="须双因素认证的账号都已绑定动态口令。",
    link="/admin/users?mfa=pending",
)
def mfa_not_enrolled(ctx: Context, limit: int) -> Found:
    """Accounts whose role requires MFA that have not enrolled, the oldest account first."""
    stmt = users_in_scope(ctx.scope).where(mfa_pending())
    found, total = paged(ctx.db, stmt, (User.created_at, User.id), limit=limit)
    detail = _who(ctx, found)
    return Found(
        total,
        [
            InboxItem(
                title=_title(u),
                detail=detail[u.username],
                url=f"/admin/users/{u.id}",
                since=u.created_at,
            )
            for u in found
        ],
    )
