"""执法人员 console page: the officers in scope with their certificates, whether they are on the
draws, their declared conflicts of interest and their bound terminals; forms to register an
official, take one off the draws or back, declare or withdraw a conflict, bind a terminal (its
token shown once, on the answer to the form) and revoke one. Each form is the service call the
API makes, offered only to those the service lets make it."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from anjian.core.divisions.service import division_names
from anjian.core.errors import AnjianError
from anjian.core.iam.deps import Context
from anjian.core.iam.models import Role
from anjian.core.iam.users import find_users
from anjian.enforcement import inspectors, terminals
from anjian.enforcement.models import Inspector
from anjian.enforcement.page_kit import chinese, labelled
from anjian.enforcement.schemas import ConflictCreate, InspectorCreate, TerminalCreate
from anjian.enterprises.service import enterprise_choices
from anjian.web.forms import posted_form, validated
from anjian.web.layout import page
from anjian.web.offloop import page_routes
from anjian.web.render import query
from anjian.web.session import StaffPageCtx, refused

router = page_routes()

CANDIDATES = 500  # officials offered for registration (an agency's fit)
ENTERPRISE_CHOICES = 500
LABELS = {
    "user_id": "监管人员",
    "certificate_no": "执法证号",
    "inspector_id": "执法人员",
    "officer_id": "执法人员",
    "enterprise_id": "企业",
    "reason": "回避事由",
    "name": "终端名称",
    "terminal_id": "终端",
}
DONE = {
    "register": "已登记为执法人员。",
    "active": "已更新在岗状态。",
    "conflict": "已申报利害关系，抽查与检查组将回避该企业。",
    "withdraw": "已撤回利害关系申报。",
    "revoke": "终端已注销，其令牌不再有效；已上传的记录保留。",
}


def _may_bind(ctx: Context, officer: Inspector) -> bool:
    """The service's rule: an official binds a terminal for themselves or an officer of their
    agency."""
    return ctx.user.role == Role.OFFICIAL and (
        officer.user_id == ctx.user.id or officer.division_code == ctx.user.division_code
    )


def _candidates(ctx: Context, registered: set[int]) -> list[tuple[int, str]]:
    """Officials in scope not yet registered, as (user id, 姓名（区划）)."""
    users, _ = find_users(ctx.db, ctx.scope, ctx.actor, role=Role.OFFICIAL, limit=CANDIDATES)
    names = division_names(ctx.db, {u.division_code for u in users})
    return [
        (u.id, f"{u.display_name or u.username}（{names.get(u.division_code, u.division_code)}）")
        for u in users
        if u.id not in registered
    ]


def _officers_page(
    request: Request,
    ctx: Context,
    *,
    form: str = "",
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    token: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    rows = inspectors.list_inspectors(ctx.db, ctx.scope)
    views = inspectors.present(ctx.db, rows)
    bound = {i.id: terminals.terminals_of(ctx.db, ctx.scope, i.id) for i in rows}
    errors = {k: chinese(v) for k, v in (errors or {}).items()}
    official = ctx.user.role == Role.OFFICIAL
    return page(
        request,
        ctx,
        "enforcement/inspectors.html",
        {
            "officers": views,
            "terminals": bound,
            "divisions": division_names(ctx.db, {i.division_code for i in rows}),
            "officer_choices": [(i.id, i.name) for i in rows],
            "bindable": [(i.id, i.name) for i in rows if _may_bind(ctx, i)],
            "may_revoke": official,
            "candidates": _candidates(ctx, {i.user_id for i in rows}),
            "enterprises": enterprise_choices(ctx.db, ctx.scope, ENTERPRISE_CHOICES),
            "form": form,
            "errors": errors,
            "alert": labelled(errors, LABELS),
            "values": values or {},
            "token": token,
            "done": DONE.get(request.query_params.get("done", ""), ""),
        },
        active="enforcement",
        status_code=status_code,
    )


@router.get("/enforcement/inspectors")
def officer_list(request: Request, ctx: StaffPageCtx) -> Response:
    """执法人员: the officers in scope with their conflicts and terminals."""
    return _officers_page(request, ctx)


def _number(value: str) -> Any:
    return int(value) if value.isdigit() and len(value) < 11 else value or None


async def _run(request: Request, ctx: Context, form_name: str, act: Any) -> Response:
    """Run a form's service call: back to the page with ``done`` when it went through, else the
    page with the errors at the form (the transaction rolled back)."""
    form = await posted_form(request)
    values = {k: v for k, v in form.items() if k != "csrf"}
    status = 422
    try:
        errors = act(form)
    except AnjianError as exc:
        errors, status = refused(request, ctx, exc), exc.status
    if isinstance(errors, Response):
        return errors
    if errors:
        return _officers_page(
            request, ctx, form=form_name, errors=errors, values=values, status_code=status
        )
    return RedirectResponse(
        f"/enforcement/inspectors?{query({'done': form_name})}#officers", status_code=303
    )


@router.post("/enforcement/inspectors")
async def register_form(request: Request, ctx: StaffPageCtx) -> Response:
    """登记执法人员: an official of the jurisdiction with their certificate number."""

    def act(form: dict[str, str]) -> dict[str, str]:
        body = {
            "user_id": _number(form.get("user_id", "")),
            "certificate_no": form.get("certificate_no", ""),
        }
        data, errors = validated(InspectorCreate, body)
        if data is not None:
            inspectors.register_inspector(ctx.db, ctx.actor, ctx.scope, data)
        return errors

    return await _run(request, ctx, "register", act)


@router.post("/enforcement/inspectors/{inspector_id:int}/active")
async def active_form(request: Request, inspector_id: int, ctx: StaffPageCtx) -> Response:
    """暂停 / 恢复: take an officer off the draws or back on."""

    def act(form: dict[str, str]) -> dict[str, str]:
        active = form.get("active") == "1"
        inspectors.set_active(ctx.db, ctx.actor, ctx.scope, inspector_id, active)
        return {}

    return await _run(request, ctx, "active", act)


@router.post("/enforcement/inspectors/conflicts")
async def conflict_form(request: Request, ctx: StaffPageCtx) -> Response:
    """申报利害关系: an officer's conflict of interest with an enterprise."""

    def act(form: dict[str, str]) -> dict[str, str]:
        officer = _number(form.get("inspector_id", ""))
        if not isinstance(officer, int):
            return {"inspector_id": "请选择执法人员"}
        body = {
            "enterprise_id": _number(form.get("enterprise_id", "")),
            "reason": form.get("reason", ""),
        }
        data, errors = validated(ConflictCreate, body)
        if data is not None:
            inspectors.declare_conflict(ctx.db, ctx.actor, ctx.scope, officer, data)
        return errors

    return await _run(request, ctx, "conflict", act)


@router.post("/enforcement/inspectors/{inspector_id:int}/conflicts/{conflict_id:int}/withdraw")
async def withdraw_form(
    request: Request, inspector_id: int, conflict_id: int, ctx: StaffPageCtx
) -> Response:
    """撤回利害关系申报."""

    def act(_form: dict[str, str]) -> dict[str, str]:
        inspectors.withdraw_conflict(ctx.db, ctx.actor, ctx.scope, inspector_id, conflict_id)
        return {}

    return await _run(request, ctx, "withdraw", act)


@router.post("/enforcement/inspectors/terminals")
async def bind_form(request: Request, ctx: StaffPageCtx) -> Response:
    """绑定终端: the answer shows the terminal's token, once (never in a URL)."""

    def act(form: dict[str, str]) -> dict[str, str] | Response:
        officer = _number(form.get("officer_id", ""))
        if not isinstance(officer, int):
            return {"officer_id": "请选择执法人员"}
        data, errors = validated(TerminalCreate, {"name": form.get("name", "")})
        if data is None:
            return errors
        terminal, token = terminals.bind(ctx.db, ctx.actor, ctx.scope, ctx.user, officer, data)
        owner = inspectors.get_inspector(ctx.db, ctx.scope, officer)
        shown = {"token": token, "name": terminal.name, "officer": owner.name}
        return _officers_page(request, ctx, token=shown, status_code=201)

    return await _run(request, ctx, "bind", act)


@router.post("/enforcement/inspectors/{inspector_id:int}/terminals/{terminal_id:int}/revoke")
async def revoke_form(
    request: Request, inspector_id: int, terminal_id: int, ctx: StaffPageCtx
) -> Response:
    """注销终端 (lost or replaced)."""

    def act(_form: dict[str, str]) -> dict[str, str]:
        terminals.revoke(ctx.db, ctx.actor, ctx.scope, ctx.user, inspector_id, terminal_id)
        return {}

    return await _run(request, ctx, "revoke", act)
