"""系统管理 (administration) in the console: users, organisations and the node's settings, for
the node's administrators, within their jurisdiction.

Every write goes through the same service functions as the API (``anjian.core.iam.service``,
``anjian.core.orgs.service``) with the administrator's scope, so the rules are the API's: no
role above one's own, nothing outside one's jurisdiction, not one's own account. A button is
offered only when the service would accept it (:func:`anjian.core.iam.service.allowed_actions`)."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import Response

from anjian.config import Settings, config_path, get_settings
from anjian.core.clock import CST
from anjian.core.divisions.models import Division
from anjian.core.errors import AnjianError, Forbidden
from anjian.core.iam import service as iam
from anjian.core.iam.deps import Context
from anjian.core.iam.models import ROLE_LABELS, Role, User
from anjian.core.iam.rules import (
    ROLE_RANK,
    is_locked,
    management_refusal,
    may_administer,
    may_grant,
)
from anjian.core.iam.schemas import Id, PasswordResetIn, UserCreate, UserUpdate
from anjian.core.inputs import INT32_MAX
from anjian.core.node_settings import service as node_settings
from anjian.core.node_settings.rules import may_change
from anjian.core.node_settings.service import SettingState, effective_settings
from anjian.core.orgs import service as orgs
from anjian.core.orgs.models import ORG_KIND_LABELS, Organisation, OrgKind
from anjian.core.paging import PageNumber
from anjian.db import read_first, utcnow
from anjian.enterprises.service import enterprise_in_scope, find_by_uscc
from anjian.web.forms import validated
from anjian.web.layout import page
from anjian.web.render import ICONS, zh
from anjian.web.session import check_csrf, page_context, refused

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 30
UserId = Annotated[int, Path(ge=1, le=INT32_MAX)]
OrgId = Annotated[int, Path(ge=1, le=INT32_MAX)]

# Tabler Icons (MIT): users, building-community, settings.
ICONS.update(
    {
        "admin_users": '<path d="M9 7m-4 0a4 4 0 1 0 8 0a4 4 0 1 0 -8 0"/>'
        '<path d="M3 21v-2a4 4 0 0 1 4 -4h4a4 4 0 0 1 4 4v2"/><path d="M16 3.13a4 4 0 0 1 0 7.75"/>'
        '<path d="M21 21v-2a4 4 0 0 0 -3 -3.85"/>',
        "admin_orgs": '<path d="M8 9l5 5v7h-5v-4m0 4h-5v-7l5 -5m1 1v-6a1 1 0 0 1 1 -1h10a1 1 0 0 1 1 1'
        'v17h-8"/><path d="M13 7l0 .01"/><path d="M17 7l0 .01"/><path d="M17 11l0 .01"/>'
        '<path d="M17 15l0 .01"/>',
        "admin_settings": '<path d="M10.325 4.317c.426 -1.756 2.924 -1.756 3.35 0a1.724 1.724 0 0 0 2.573 '
        "1.066c1.543 -.94 3.31 .826 2.37 2.37a1.724 1.724 0 0 0 1.065 2.572c1.756 .426 1.756 2.924 0 "
        "3.35a1.724 1.724 0 0 0 -1.066 2.573c.94 1.543 -.826 3.31 -2.37 2.37a1.724 1.724 0 0 0 -2.572 "
        "1.065c-.426 1.756 -2.924 1.756 -3.35 0a1.724 1.724 0 0 0 -2.573 -1.066c-1.543 .94 -3.31 -.826 "
        "-2.37 -2.37a1.724 1.724 0 0 0 -1.065 -2.572c-1.756 -.426 -1.756 -2.924 0 -3.35a1.724 1.724 0 0 0 "
        '1.066 -2.573c-.94 -1.543 .826 -3.31 2.37 -2.37c1 .608 2.296 .07 2.572 -1.065z"/>'
        '<path d="M9 12a3 3 0 1 0 6 0a3 3 0 0 0 -6 0"/>',
    }
)


def admin_page_context(ctx: Annotated[Context, Depends(page_context)]) -> Context:
    """The node's administrators only (:func:`anjian.core.iam.rules.may_administer`)."""
    if not may_administer(ctx.user.role):
        raise Forbidden("需要管理员权限 (administrators only)")
    return ctx


AdminPageCtx = Annotated[Context, Depends(admin_page_context)]


async def _form(request: Request) -> dict[str, str]:
    """The posted form's text fields, after its CSRF token is checked."""
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    check_csrf(request, form.get("csrf"))
    return form


def _names(db: Session, model: Any, key: Any, values: Iterable[Any]) -> dict[Any, str]:
    wanted = {v for v in values if v is not None}
    if not wanted:
        return {}
    return {k: name for k, name in db.execute(select(key, model.name).where(key.in_(wanted)))}


def _division_names(db: Session, codes: Iterable[str | None]) -> dict[str, str]:
    return _names(db, Division, Division.code, codes)


def _org_names(db: Session, ids: Iterable[int | None]) -> dict[int, str]:
    return _names(db, Organisation, Organisation.id, ids)


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


# --- users -------------------------------------------------------------------------------------


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
    divisions = _division_names(db, (u.division_code for u in users))
    org_names = _org_names(db, (u.org_id for u in users))
    logins = iam.last_logins(db, [u.id for u in users])
    now = utcnow()
    return [
        UserRow(
            user=u,
            org_name=org_names.get(u.org_id, "") if u.org_id else "",
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


def _choice_errors(form: dict[str, str], **choices: Iterable[str]) -> dict[str, str]:
    """A select whose value is none of its choices (a tampered form) named at its field."""
    return {
        name: "请从列表中选择" for name, allowed in choices.items() if form.get(name) not in allowed
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
        "admin_users.html",
        {
            "rows": _rows(ctx.db, users),
            "total": total,
            "page_no": page_no,
            "pages": max(1, -(-total // PAGE_SIZE)),
            "filters": filters,
            "roles": {r.value: ROLE_LABELS[r] for r in Role},
            "locked_choices": LOCKED_CHOICES,
            "mfa_choices": MFA_CHOICES,
            "done": request.query_params.get("done", ""),
        },
        active="admin_users",
    )


def _new_user_page(
    request: Request,
    ctx: Context,
    values: dict[str, str],
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    return page(
        request,
        ctx,
        "admin_user_new.html",
        {
            "values": values,
            "errors": errors or {},
            "roles": _grantable(ctx),
            "org_choices": _org_choices(ctx),
            "password_min_length": effective_settings().password_min_length,
        },
        active="admin_users",
        status_code=status_code,
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
    form = await _form(request)
    values = {k: v for k, v in form.items() if k not in ("password", "password2", "csrf")}
    with read_first(ctx.db):  # the password is hashed without holding the write lock
        enterprise_id, errors = _enterprise_id(ctx.db, form.get("enterprise_uscc", ""))
    body = _body(form, "username", "role", "division_code", "org_id", "display_name")
    body.update(password=form.get("password", ""), enterprise_id=enterprise_id)
    errors.update(_password_errors(form, form.get("username", "").strip()))
    errors.update(_choice_errors(form, role=_grantable(ctx)))
    data, errors = validated(UserCreate, body, errors, PATTERN_MESSAGES)
    if data is None:
        return _new_user_page(request, ctx, values, errors, 422)
    try:
        user = iam.create_user(
            ctx.db,
            ctx.actor,
            username=data.username,
            password=data.password,
            role=data.role,
            division_code=data.division_code,
            org_id=data.org_id,
            enterprise_id=data.enterprise_id,
            display_name=data.display_name,
            scope=ctx.scope,
        )
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
        "admin_user.html",
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
    form = await _form(request)
    user = iam.user_in_scope(ctx.db, ctx.scope, user_id)
    values = {k: v for k, v in form.items() if k != "csrf"}
    enterprise_id, errors = _enterprise_id(ctx.db, form.get("enterprise_uscc", ""))
    body = _body(form, "role", "division_code", "org_id", "display_name")
    body["enterprise_id"] = enterprise_id
    errors.update(_choice_errors(form, role=_grantable(ctx)))
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


@router.post("/admin/users/{user_id}/lock")
async def user_lock(request: Request, user_id: UserId, ctx: AdminPageCtx) -> Response:
    """Lock the account (its sessions end)."""
    await _form(request)
    user = iam.user_in_scope(ctx.db, ctx.scope, user_id)
    try:
        iam.lock_user(ctx.db, ctx.actor, user.username, scope=ctx.scope)
    except AnjianError as exc:
        return _after(request, ctx, user_id, "lock", exc)
    return _after(request, ctx, user_id, "lock", None)


@router.post("/admin/users/{user_id}/unlock")
async def user_unlock(request: Request, user_id: UserId, ctx: AdminPageCtx) -> Response:
    """Lift the lock (an administrator's or the lockout)."""
    await _form(request)
    user = iam.user_in_scope(ctx.db, ctx.scope, user_id)
    try:
        iam.unlock_user(ctx.db, ctx.actor, user.username, scope=ctx.scope)
    except AnjianError as exc:
        return _after(request, ctx, user_id, "unlock", exc)
    return _after(request, ctx, user_id, "unlock", None)


@router.post("/admin/users/{user_id}/mfa-reset")
async def user_mfa_reset(request: Request, user_id: UserId, ctx: AdminPageCtx) -> Response:
    """Drop the user's authenticator (they enrol again at their next login)."""
    await _form(request)
    user = iam.user_in_scope(ctx.db, ctx.scope, user_id)
    try:
        iam.reset_user_mfa(ctx.db, ctx.actor, user.username, scope=ctx.scope)
    except AnjianError as exc:
        return _after(request, ctx, user_id, "mfa", exc)
    return _after(request, ctx, user_id, "mfa", None)


@router.post("/admin/users/{user_id}/password")
async def user_password(request: Request, user_id: UserId, ctx: AdminPageCtx) -> Response:
    """Set a new password (the complexity rule applies; the user's sessions end)."""
    form = await _form(request)
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


# --- organisations -----------------------------------------------------------------------------


class OrgForm(BaseModel):
    """The organisation form, as the API's body."""

    name: str = Field(min_length=1, max_length=orgs.NAME_MAX)
    kind: OrgKind
    division_code: str = Field(pattern=r"^\d{6}$")
    parent_id: Id | None = None
    area_codes: list[Annotated[str, Field(pattern=r"^\d{6}$")]] | None = Field(
        default=None, max_length=100
    )


ORG_PATTERNS = {
    "division_code": "行政区划代码应为 6 位数字",
    "area_codes": "监察区域应为以逗号分隔的 6 位行政区划代码",
}


def _org_body(form: dict[str, str]) -> dict[str, Any]:
    areas = [c for c in form.get("area_codes", "").replace("，", ",").split(",") if c.strip()]
    return {
        "name": form.get("name", "").strip(),
        "kind": form.get("kind", ""),
        "division_code": form.get("division_code", "").strip(),
        "parent_id": form.get("parent_id", "").strip() or None,
        "area_codes": [c.strip() for c in areas] or None,
    }


def writable_here(org: Organisation) -> bool:
    """Whether this node maintains the organisation (a copy from another node is read-only:
    :func:`anjian.core.sync.outbox.ensure_writable_here`)."""
    return not org.origin_node or org.origin_node == get_settings().effective_node_id


@router.get("/admin/orgs")
def org_list(
    request: Request,
    ctx: AdminPageCtx,
    kind: OrgKind | None = None,
    division: Annotated[str, Query(max_length=6)] = "",
) -> Response:
    """机构管理: the organisations of the jurisdiction, by kind and division."""
    items = orgs.list_orgs(ctx.db, ctx.scope, kind.value if kind else None, division.strip())
    parents = _org_names(ctx.db, (o.parent_id for o in items))
    divisions = _division_names(ctx.db, (o.division_code for o in items))
    return page(
        request,
        ctx,
        "admin_orgs.html",
        {
            "items": items,
            "parents": parents,
            "divisions": divisions,
            "kinds": ORG_KIND_LABELS,
            "kind": kind.value if kind else "",
            "division": division.strip(),
            "writable": {o.id for o in items if writable_here(o)},
            "done": request.query_params.get("done", ""),
        },
        active="admin_orgs",
    )


def _org_form_page(
    request: Request,
    ctx: Context,
    org: Organisation | None,
    values: dict[str, str],
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    parents = [
        (o.id, f"{o.name}（{o.division_code}）")
        for o in orgs.list_orgs(ctx.db, ctx.scope)
        if org is None or o.id != org.id
    ]
    return page(
        request,
        ctx,
        "admin_org_form.html",
        {
            "org": org,
            "values": values,
            "errors": errors or {},
            "kinds": ORG_KIND_LABELS,
            "parents": parents,
        },
        active="admin_orgs",
        status_code=status_code,
    )


def _org_values(org: Organisation) -> dict[str, str]:
    return {
        "name": org.name,
        "kind": org.kind,
        "division_code": org.division_code,
        "parent_id": str(org.parent_id or ""),
        "area_codes": ",".join(org.area_codes or []),
    }


@router.get("/admin/orgs/new")
def org_new(request: Request, ctx: AdminPageCtx) -> Response:
    """The form that registers an organisation."""
    values = {"kind": OrgKind.AGENCY.value, "division_code": ctx.user.division_code}
    return _org_form_page(request, ctx, None, values)


@router.post("/admin/orgs/new")
async def org_create(request: Request, ctx: AdminPageCtx) -> Response:
    """Register the organisation; errors at their fields, nothing written."""
    form = await _form(request)
    values = {k: v for k, v in form.items() if k != "csrf"}
    data, errors = validated(
        OrgForm, _org_body(form), _choice_errors(form, kind=ORG_KIND_LABELS), ORG_PATTERNS
    )
    if data is None:
        return _org_form_page(request, ctx, None, values, errors, 422)
    try:
        orgs.create_org(
            ctx.db,
            ctx.actor,
            name=data.name,
            kind=data.kind,
            division_code=data.division_code,
            parent_id=data.parent_id,
            area_codes=data.area_codes,
            scope=ctx.scope,
        )
    except AnjianError as exc:
        return _org_form_page(request, ctx, None, values, refused(request, ctx, exc), exc.status)
    return RedirectResponse("/admin/orgs?done=created", status_code=303)


@router.get("/admin/orgs/{org_id}/edit")
def org_edit(request: Request, org_id: OrgId, ctx: AdminPageCtx) -> Response:
    """The edit form of an organisation of this node."""
    org = orgs.org_in_scope(ctx.db, ctx.scope, org_id)
    return _org_form_page(request, ctx, org, _org_values(org))


@router.post("/admin/orgs/{org_id}/edit")
async def org_save(request: Request, org_id: OrgId, ctx: AdminPageCtx) -> Response:
    """Save the organisation; errors at their fields, nothing written."""
    form = await _form(request)
    org = orgs.org_in_scope(ctx.db, ctx.scope, org_id)
    values = {k: v for k, v in form.items() if k != "csrf"}
    data, errors = validated(
        OrgForm, _org_body(form), _choice_errors(form, kind=ORG_KIND_LABELS), ORG_PATTERNS
    )
    if data is None:
        return _org_form_page(request, ctx, org, values, errors, 422)
    try:
        orgs.update_org(
            ctx.db,
            ctx.actor,
            ctx.scope,
            org_id,
            name=data.name,
            kind=data.kind,
            division_code=data.division_code,
            parent_id=data.parent_id,
            area_codes=data.area_codes,
        )
    except AnjianError as exc:
        errors = refused(request, ctx, exc)
        org = orgs.org_in_scope(ctx.db, ctx.scope, org_id)
        return _org_form_page(request, ctx, org, values, errors, exc.status)
    return RedirectResponse("/admin/orgs?done=saved", status_code=303)


# --- node settings -----------------------------------------------------------------------------


@dataclass(frozen=True)
class SettingView:
    """One setting as the settings page shows it."""

    name: str
    label: str
    value: str
    source: str
    runtime: bool  # changed in the console, used by the running node without restart
    pinned: bool = False  # an environment variable fixes it (it wins over the console)
    console: bool = False  # the value in force was set in the console
    raw: str = ""  # the value in force as the form's field shows it
    hint: str = ""


# (field, label). The settings of :data:`anjian.core.node_settings.rules.RULES` (read afresh
# where they are used: session and lockout limits, password rules, the base map) change in the
# console without restart; the rest are read once at start or by background work and need the
# configuration file (or environment) and a restart.
SETTINGS: list[tuple[str, str]] = [
    ("node_division", "本节点行政区划"),
    ("node_id", "节点标识"),
    ("data_dir", "数据目录"),
    ("database_url", "数据库"),
    ("host", "监听地址"),
    ("port", "监听端口"),
    ("session_idle_minutes", "会话空闲超时（分钟）"),
    ("session_max_hours", "会话最长时间（小时）"),
    ("lockout_threshold", "登录失败锁定次数"),
    ("lockout_window_minutes", "失败计数时间窗（分钟）"),
    ("lockout_minutes", "锁定时长（分钟）"),
    ("login_rate_per_ip", "每地址每分钟登录次数"),
    ("login_rate_per_account", "每账户每分钟登录次数"),
    ("password_min_length", "密码最短长度"),
    ("password_max_age_days", "密码有效期（天）"),
    ("mfa_required_roles", "须双因素认证的角色"),
    ("audit_retention_days", "审计记录保存（天）"),
    ("audit_seal_minutes", "审计链封印间隔（分钟）"),
    ("cookie_secure", "Cookie Secure 标记"),
    ("trusted_proxies", "可信反向代理"),
    ("map_tile_url", "底图瓦片地址"),
    ("map_attribution", "底图版权说明"),
    ("sync_forwarder", "向上级转发"),
    ("sync_interval_s", "转发轮询间隔（秒）"),
    ("outbox_retention_days", "发件箱保留（天）"),
    ("background_jobs", "后台定时任务"),
    ("mqtt_url", "MQTT 服务器"),
    ("mqtt_ingest", "MQTT 接入"),
    ("monitoring_retention_days", "监测原始数据保留（天）"),
    ("alarm_ack_minutes_level1", "严重报警（高高/低低）确认时限（分钟）"),
    ("alarm_ack_minutes_level2", "预警（高/低）确认时限（分钟）"),
    ("risk_lec_convention", "LEC 分级标准"),
    ("risk_ls_convention", "LS 分级标准"),
    ("accident_missing_as_deaths", "失踪人数计入死亡（暂定等级）"),
]
_SECRET_URLS = {"database_url", "mqtt_url"}


def _shown(name: str, value: Any) -> str:
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list):
        return ", ".join(map(str, value)) or "（空）"
    text = str(value)
    if name in _SECRET_URLS and "@" in text:  # credentials in a URL are not shown
        scheme, _, rest = text.partition("://")
        text = f"{scheme}://***@{rest.rsplit('@', 1)[1]}"
    return text or "（空）"


def setting_views(
    settings: Settings, toml_keys: set[str], states: list[SettingState]
) -> list[SettingView]:
    """The settings the page lists, each with where its value came from: the environment
    variable, the console, the configuration file, or the default."""
    runtime = {s.key: s for s in states}
    views = []
    for name, label in SETTINGS:
        env = f"ANJIAN_{name.upper()}"
        state = runtime.get(name)
        value = state.value if state else getattr(settings, name)
        if env in os.environ:
            source = f"环境变量 {env}"
        elif state and state.console:
            when = state.updated_at.astimezone(CST) if state.updated_at else None
            source = f"控制台（{state.updated_by}，{when:%Y-%m-%d %H:%M}）" if when else "控制台"
        elif name in toml_keys:
            source = "配置文件"
        else:
            source = "默认值"
        views.append(
            SettingView(
                name,
                label,
                _shown(name, value),
                source,
                runtime=state is not None,
                pinned=bool(state and state.pinned_by),
                console=bool(state and state.console),
                raw=str(value),
                hint=state.hint if state else "",
            )
        )
    return views


def _toml_keys() -> set[str]:
    import tomllib

    path = config_path()
    if not path.is_file():
        return set()
    try:
        return set(tomllib.loads(path.read_text(encoding="utf-8")))
    except (OSError, tomllib.TOMLDecodeError):
        return set()


def _settings_page(
    request: Request,
    ctx: Context,
    errors: dict[str, str] | None = None,
    sent: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    settings = get_settings()
    views = setting_views(settings, _toml_keys(), node_settings.setting_states(ctx.db))
    if sent:  # a refused value stays in its field
        views = [replace(v, raw=sent[v.name]) if v.name in sent else v for v in views]
    return page(
        request,
        ctx,
        "admin_settings.html",
        {
            "settings": views,
            "config_file": str(config_path()),
            "may_change": may_change(ctx.user.role, ctx.user.division_code, settings.node_division),
            "errors": errors or {},
            "ttl_s": int(node_settings.TTL_S),
            "done": request.query_params.get("done", ""),
        },
        active="admin_settings",
        status_code=status_code,
    )


@router.get("/admin/settings")
def settings_page(request: Request, ctx: AdminPageCtx) -> Response:
    """节点设置: this node's settings, where each comes from, and a form for those that change
    at run time."""
    return _settings_page(request, ctx)


SettingKey = Annotated[str, Path(max_length=64, pattern=r"^[a-z_0-9]+$")]


@router.post("/admin/settings/{key}")
async def settings_save(request: Request, key: SettingKey, ctx: AdminPageCtx) -> Response:
    """Set one run-time setting (audited); a refused value is shown at its field."""
    form = await _form(request)
    value = form.get("value", "")
    try:
        node_settings.set_setting(ctx.db, ctx.actor, ctx.user, key, value)
    except AnjianError as exc:
        errors = refused(request, ctx, exc)
        return _settings_page(request, ctx, errors, {key: value}, exc.status)
    return RedirectResponse(f"/admin/settings?done=saved#setting-{key}", status_code=303)


@router.post("/admin/settings/{key}/reset")
async def settings_reset(request: Request, key: SettingKey, ctx: AdminPageCtx) -> Response:
    """恢复默认: drop the console's value of one setting (audited)."""
    await _form(request)
    try:
        node_settings.clear_setting(ctx.db, ctx.actor, ctx.user, key)
    except AnjianError as exc:
        return _settings_page(request, ctx, refused(request, ctx, exc), None, exc.status)
    return RedirectResponse(f"/admin/settings?done=reset#setting-{key}", status_code=303)
