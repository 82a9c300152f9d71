"""用户管理 in the console: the users of the administrator's jurisdiction — list, create, edit,
lock, unlock, reset password or authenticator — through :mod:`anjian.core.iam.service` with the
administrator's scope (see :mod:`anjian.console.admin`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import Path, Query, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session
from starlette.responses import Response

from anjian.console.admin import AdminPageCtx, choice_errors, division_names, org_names
from anjian.core.errors import AnjianError
from anjian.core.iam import service as iam
from anjian.core.iam.deps import Context
from anjian.core.iam.models import ROLE_LABELS, Role, User
from anjian.core.iam.rules import ROLE_RANK, is_locked, management_refusal, may_grant
from anjian.core.iam.schemas import PasswordResetIn, UserCreate, UserUpdate
from anjian.core.inputs import INT32_MAX
from anjian.core.node_settings.service import effective_settings
from anjian.core.orgs import service as orgs
from anjian.core.orgs.models import OrgKind
from anjian.core.paging import PageNumber
from anjian.db import read_first, utcnow
from anjian.enterprises.service import enterprise_in_scope, find_by_uscc
from anjian.web.forms import FormPage, posted_form, validated
from anjian.web.layout import page, pager_of
from anjian.web.offloop import page_routes
from anjian.web.render import zh
from anjian.web.session import refused

router = page_routes()

PAGE_SIZE = 30
UserId = Annotated[int, Path(ge=1, le=INT32_MAX)]


def _grantable(ctx: Context) -> dict[str, str]:
    """The roles this administrator may give, by :func:`may_grant` (as the service checks)."""
    return {
        role.value: ROLE_LABELS[role]
        for role in sorted(Role, key=lambda r: ROLE_RANK[r.value])
        if may_grant(ctx.user.role, role.value)
    }


def _org_choices(ctx: Context) -> list[tuple[int, str]]:
    return [
        (o.id, f"{o.name}（{o.division_code}）")
        for o in orgs.list_orgs(ctx.db, ctx.scope)
        if o.kind != OrgKind.ENTERPRISE
    ]


@dataclass(frozen=True)
class UserRow:
    """One user as the list shows them."""

    user: User
    org_name: str
    division_name: str
    role_label: str
    locked: str  # "" when not locked
    last_login: datetime | None


def _locked_label(user: User, now: datetime) -> str:
    if user.locked_by_admin:
        return "管理员锁定"
    return "登录失败锁定" if is_locked(user.locked_until, now) else ""


def _rows(db: Session, users: list[User]) -> list[UserRow]:
    divisions = division_names(db, (u.division_code for u in users))
    orgs_by_id = org_names(db, (u.org_id for u in users))
    logins = iam.last_logins(db, [u.id for u in users])
    now = utcnow()
    return [
        UserRow(
            user=u,
            org_name=orgs_by_id.get(u.org_id, "") if u.org_id else "",
            division_name=divisions.get(u.division_code, u.division_code),
            role_label=ROLE_LABELS.get(Role(u.role), u.role),
            locked=_locked_label(u, now),
            last_login=logins.get(u.id),
        )
        for u in users
    ]


LOCKED_CHOICES = {"yes": "已锁定", "no": "未锁定"}
MFA_CHOICES = {"yes": "已绑定", "no": "未绑定", "pending": "须绑定而未绑定"}
PATTERN_MESSAGES = {
    "username": "用户名只能包含字母、数字、点、下划线和连字符，最多 64 个",
    "division_code": "行政区划代码应为 6 位数字",
}


@router.get("/admin/users")
def user_list(
    request: Request,
    ctx: AdminPageCtx,
    division: Annotated[str, Query(max_length=6)] = "",
    role: Role | None = None,
    locked: Annotated[str, Query(pattern="^(yes|no)?$")] = "",
    mfa: Annotated[str, Query(pattern="^(yes|no|pending)?$")] = "",
    page_no: PageNumber = 1,
) -> Response:
    """用户管理: the users of the jurisdiction, filtered by division, role, locked state and MFA
    enrolment."""
    filters = {
        "division": division.strip(),
        "role": role.value if role else "",
        "locked": locked,
        "mfa": mfa,
    }
    users, total = iam.find_users(
        ctx.db,
        ctx.scope,
        ctx.actor,
        division=filters["division"] or None,
        role=filters["role"] or None,
        locked={"yes": True, "no": False}.get(locked),
        mfa=mfa or None,
        limit=PAGE_SIZE,
        offset=(page_no - 1) * PAGE_SIZE,
    )
    return page(
        request,
        ctx,
        "console/admin_users.html",
        {
            "rows": _rows(ctx.db, users),
            **pager_of(total, page_no, PAGE_SIZE),
            "filters": filters,
            "roles": {r.value: ROLE_LABELS[r] for r in Role},
            "locked_choices": LOCKED_CHOICES,
            "mfa_choices": MFA_CHOICES,
            "done": request.query_params.get("done", ""),
        },
        active="admin_users",
    )


_new_user_page = FormPage(
    "console/admin_user_new.html",
    "admin_users",
    lambda ctx: {
        "roles": _grantable(ctx),
        "org_choices": _org_choices(ctx),
        "password_min_length": effective_settings().password_min_length,
    },
)


@router.get("/admin/users/new")
def user_new(request: Request, ctx: AdminPageCtx) -> Response:
    """The form that creates a user."""
    values = {"role": Role.OFFICIAL.value, "division_code": ctx.user.division_code}
    return _new_user_page(request, ctx, values)


def _enterprise_id(db: Session, uscc: str) -> tuple[int | None, dict[str, str]]:
    """The enterprise a form names by its credit code (whether it is in scope the service
    judges, answering as if it did not exist when it is not)."""
    uscc = uscc.strip()
    if not uscc:
        return None, {}
    if len(uscc) > 18:
        return None, {"enterprise_id": "统一社会信用代码应为 18 位"}
    ent = find_by_uscc(db, uscc)
    if ent is None:
        return None, {"enterprise_id": "企业不存在或不在管辖范围内"}
    return ent.id, {}


def _password_errors(form: dict[str, str], username: str) -> dict[str, str]:
    """The password fields' errors, found at once with the others (the service's own rule)."""
    password = form.get("password", "")
    if password != form.get("password2", ""):
        return {"password2": "两次输入的密码不一致"}
    try:
        iam.validate_password(password, username)
    except AnjianError as exc:
        return {"password": zh(exc.message)}
    return {}


def _body(form: dict[str, str], *names: str) -> dict[str, Any]:
    """The form's fields as a request body: stripped, blanks of optional ids left out."""
    body: dict[str, Any] = {}
    for name in names:
        value = form.get(name, "").strip()
        if name in ("org_id", "enterprise_id") and not value:
            body[name] = None
        else:
            body[name] = value
    return body


@router.post("/admin/users/new")
async def user_create(request: Request, ctx: AdminPageCtx) -> Response:
    """Create the user; errors are shown at their fields and nothing is written."""
    form = await posted_form(request)
    values = {k: v for k, v in form.items() if k not in ("password", "password2", "csrf")}
    with read_first(ctx.db):  # the password is hashed without holding the write lock
        enterprise_id, errors = _enterprise_id(ctx.db, form.get("enterprise_uscc", ""))
    body = _body(form, "username", "role", "division_code", "org_id", "display_name")
    body.update(password=form.get("password", ""), enterprise_id=enterprise_id)
    errors.update(_password_errors(form, form.get("username", "").strip()))
    errors.update(choice_errors(form, role=_grantable(ctx)))
    data, errors = validated(UserCreate, body, errors, PATTERN_MESSAGES)
    if data is None:
        return _new_user_page(request, ctx, values, errors, 422)
    try:
        user = iam.create_user(ctx.db, ctx.actor, **data.model_dump(), scope=ctx.scope)
    except AnjianError as exc:
        return _new_user_page(request, ctx, values, refused(request, ctx, exc), exc.status)
    return RedirectResponse(f"/admin/users/{user.id}?done=created", status_code=303)


DONE = {
    "created": "用户已创建。",
    "saved": "已保存。",
    "lock": "已锁定该用户，其会话已全部结束。",
    "unlock": "已解锁该用户。",
    "password": "已重置密码，该用户的会话已全部结束。",
    "mfa": "已重置动态口令，该用户下次登录时须重新绑定。",
}


def _user_page(
    request: Request,
    ctx: Context,
    user: User,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    row = _rows(ctx.db, [user])[0]
    enterprise_uscc = ""
    if user.enterprise_id is not None:
        try:
            enterprise_uscc = enterprise_in_scope(ctx.db, ctx.scope, user.enterprise_id).uscc
        except AnjianError:
            enterprise_uscc = ""
    current = {
        "role": user.role,
        "division_code": user.division_code,
        "org_id": str(user.org_id or ""),
        "enterprise_uscc": enterprise_uscc,
        "display_name": user.display_name,
    }
    return page(
        request,
        ctx,
        "console/admin_user.html",
        {
            "row": row,
            "u": user,
            "values": {**current, **(values or {})},
            "errors": errors or {},
            "actions": iam.allowed_actions(ctx.actor, ctx.scope, user),
            "refusal": management_refusal(ctx.actor.user_id, ctx.user.role, user.id, user.role),
            "roles": _grantable(ctx),
            "org_choices": _org_choices(ctx),
            "password_min_length": effective_settings().password_min_length,
            "done": DONE.get(request.query_params.get("done", ""), ""),
        },
        active="admin_users",
        status_code=status_code,
    )


@router.get("/admin/users/{user_id}")
def user_detail(request: Request, user_id: UserId, ctx: AdminPageCtx) -> Response:
    """One user: who they are, and the actions the administrator may take on them."""
    user = iam.user_in_scope(ctx.db, ctx.scope, user_id)
    return _user_page(request, ctx, user)


def _after(
    request: Request, ctx: Context, user_id: int, done: str, exc: AnjianError | None
) -> Response:
    """Back to the user's page: with the message of what was done, or the refusal shown."""
    if exc is None:
        return RedirectResponse(f"/admin/users/{user_id}?done={done}", status_code=303)
    errors = refused(request, ctx, exc)
    user = iam.user_in_scope(ctx.db, ctx.scope, user_id)
    return _user_page(request, ctx, user, errors=errors, status_code=exc.status)


@router.post("/admin/users/{user_id}/edit")
async def user_save(request: Request, user_id: UserId, ctx: AdminPageCtx) -> Response:
    """Save role, division, organisation, enterprise and name."""
    form = await posted_form(request)
    user = iam.user_in_scope(ctx.db, ctx.scope, user_id)
    values = {k: v for k, v in form.items() if k != "csrf"}
    enterprise_id, errors = _enterprise_id(ctx.db, form.get("enterprise_uscc", ""))
    body = _body(form, "role", "division_code", "org_id", "display_name")
    body["enterprise_id"] = enterprise_id
    errors.update(choice_errors(form, role=_grantable(ctx)))
    if not body["division_code"]:
        errors["division_code"] = "必填"
    data, errors = validated(UserUpdate, body, errors, PATTERN_MESSAGES)
    if data is None or data.role is None or data.division_code is None:
        return _user_page(request, ctx, user, values=values, errors=errors, status_code=422)
    try:
        iam.update_user(
            ctx.db,
            ctx.actor,
            user.username,
            role=data.role,
            division_code=data.division_code,
            org_id=data.org_id,
            enterprise_id=data.enterprise_id,
            display_name=data.display_name or "",
            scope=ctx.scope,
        )
    except AnjianError as exc:
        errors = refused(request, ctx, exc)
        user = iam.user_in_scope(ctx.db, ctx.scope, user_id)
        return _user_page(request, ctx, user, values=values, errors=errors, status_code=exc.status)
    return RedirectResponse(f"/admin/users/{user_id}?done=saved", status_code=303)


# The buttons that act on an account with no more than a click: the path's last segment → the
# service call (by username, within the administrator's scope), the ``done`` message's key and
# what the route does. One handler serves the three paths.
ACCOUNT_ACTIONS: dict[str, tuple[Callable[..., User], str, str]] = {
    "lock": (iam.lock_user, "lock", "Lock the account (its sessions end)."),
    "unlock": (iam.unlock_user, "unlock", "Lift the lock (an administrator's or the lockout)."),
    "mfa-reset": (
        iam.reset_user_mfa,
        "mfa",
        "Drop the user's authenticator (they enrol again at their next login).",
    ),
}


def _account_action(act: Callable[..., User], done: str) -> Callable[..., Any]:
    """The POST handler of one of :data:`ACCOUNT_ACTIONS`."""

    async def handler(request: Request, user_id: UserId, ctx: AdminPageCtx) -> Response:
        await posted_form(request)
        user = iam.user_in_scope(ctx.db, ctx.scope, user_id)
        try:
            act(ctx.db, ctx.actor, user.username, scope=ctx.scope)
        except AnjianError as exc:
            return _after(request, ctx, user_id, done, exc)
        return _after(request, ctx, user_id, done, None)

    return handler


for _segment, (_act, _done, _summary) in ACCOUNT_ACTIONS.items():
    router.add_api_route(
        f"/admin/users/{{user_id}}/{_segment}",
        _account_action(_act, _done),
        methods=["POST"],
        name=f"user_{_segment.replace('-', '_')}",
        description=_summary,
    )


@router.post("/admin/users/{user_id}/password")
async def user_password(request: Request, user_id: UserId, ctx: AdminPageCtx) -> Response:
    """Set a new password (the complexity rule applies; the user's sessions end)."""
    form = await posted_form(request)
    with read_first(ctx.db):  # the password is hashed without holding the write lock
        user = iam.user_in_scope(ctx.db, ctx.scope, user_id)
    errors = _password_errors(form, user.username)
    data, errors = validated(PasswordResetIn, {"password": form.get("password", "")}, errors)
    if data is None:
        return _user_page(request, ctx, user, errors=errors, status_code=422)
    try:
        iam.reset_password(ctx.db, ctx.actor, user.username, data.password, scope=ctx.scope)
    except AnjianError as exc:
        return _after(request, ctx, user_id, "password", exc)
    return _after(request, ctx, user_id, "password", None)
