"""通知指令 console pages: the directives of the jurisdiction, issuing one, reading one with its
receipts, and signing (签收) for the user's division.

Everything goes through the directive service with the user's scope, as the API does."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from starlette.responses import Response

from anjian.core.divisions import service as divisions
from anjian.core.divisions.rules import ancestors_and_self
from anjian.core.errors import AnjianError
from anjian.core.iam.deps import Context
from anjian.core.iam.people import display_names
from anjian.directives import service
from anjian.directives.models import KINDS, Directive, DirectiveReceipt
from anjian.directives.schemas import DirectiveCreate, ReceiptCreate
from anjian.web.forms import FormPage, field_errors, posted_form
from anjian.web.layout import division_name, page
from anjian.web.render import pages_router, zh
from anjian.web.session import StaffPageCtx, record_refusal

router = pages_router(Path(__file__).parent / "templates")

KIND_BADGES = {"notice": "bg-blue-lt", "directive": "bg-red-lt"}

_FIELD_ZH = {"target_division": "请选择下发区划", "kind": "请选择类型"}


def form_errors(exc: ValidationError) -> dict[str, str]:
    """Field → Chinese message for the issue form."""
    return field_errors(exc, _FIELD_ZH)


def addressed_here(ctx: Context, d: Directive) -> bool:
    """Whether the directive is addressed at or above the user's division (theirs to sign)."""
    return d.target_division in ancestors_and_self(ctx.user.division_code)


def _row(ctx: Context, d: Directive, receipts: list[DirectiveReceipt]) -> dict[str, Any]:
    mine = next((r for r in receipts if r.division_code == ctx.user.division_code), None)
    return {
        "d": d,
        "kind_label": KINDS.get(d.kind, d.kind),
        "kind_badge": KIND_BADGES.get(d.kind, "bg-secondary-lt"),
        "issuer_division_name": division_name(ctx.db, d.issuer_division),
        "target_name": division_name(ctx.db, d.target_division),
        "addressed": addressed_here(ctx, d),
        "my_receipt": mine,
        "others": [r for r in receipts if r.division_code != ctx.user.division_code],
    }


# --- pages -------------------------------------------------------------------------------------


@router.get("/directives")
def directive_list(request: Request, ctx: StaffPageCtx, show: str = "") -> Response:
    """通知指令: the directives the user's jurisdiction received or issued, newest first."""
    rows = []
    for d in service.list_for(ctx.db, ctx.scope, ctx.user):
        rows.append(_row(ctx, d, service.receipts_of(ctx.db, ctx.scope, d)))
    pending = [r for r in rows if r["addressed"] and r["my_receipt"] is None]
    return page(
        request,
        ctx,
        "directives/list.html",
        {
            "rows": pending if show == "pending" else rows,
            "total": len(rows),
            "pending": len(pending),
            "show": show,
            "signed": request.query_params.get("signed") == "1",
        },
        active="directives",
    )


_form_page = FormPage(
    "directives/new.html",
    "directives",
    lambda ctx: {
        "kinds": KINDS,
        "targets": divisions.own_and_children(ctx.db, ctx.user.division_code, ctx.scope),
    },
)


@router.get("/directives/new")
def directive_new(request: Request, ctx: StaffPageCtx) -> Response:
    """The form to issue a notice or directive."""
    values = {
        "kind": "notice",
        "title": "",
        "body": "",
        "target_division": ctx.user.division_code,
        "due_date": "",
    }
    return _form_page(request, ctx, values)


@router.post("/directives/new")
async def directive_issue(request: Request, ctx: StaffPageCtx) -> Response:
    """Issue the directive of the form; errors are shown at their fields."""
    form = await posted_form(request)
    values = {k: form.get(k, "") for k in ("kind", "title", "body", "target_division", "due_date")}
    body = {
        "kind": values["kind"],
        "title": values["title"].strip(),
        "body": values["body"].strip(),
        "target_division": values["target_division"].strip(),
        "due_date": values["due_date"].strip() or None,
    }
    try:
        data = DirectiveCreate.model_validate(body)
    except ValidationError as exc:
        return _form_page(request, ctx, values, form_errors(exc), status_code=422)
    try:
        directive = service.issue(ctx.db, ctx.actor, ctx.scope, ctx.user, data)
    except AnjianError as exc:
        ctx.db.rollback()
        if exc.status == 403:
            record_refusal(request, ctx, exc)
        field = exc.field or ("target_division" if exc.status == 403 else "__all__")
        return _form_page(request, ctx, values, {field: zh(exc.message)}, exc.status)
    return RedirectResponse(f"/directives/{directive.uid}?issued=1", status_code=303)


def _detail_page(
    request: Request,
    ctx: Context,
    d: Directive,
    *,
    errors: dict[str, str] | None = None,
    note: str = "",
    status_code: int = 200,
) -> Response:
    receipts = service.receipts_of(ctx.db, ctx.scope, d)
    return page(
        request,
        ctx,
        "directives/detail.html",
        {
            **_row(ctx, d, receipts),
            "receipts": [
                {"r": r, "division_name": division_name(ctx.db, r.division_code)} for r in receipts
            ],
            # who signed: stored as a name (a receipt travels to nodes that do not know the
            # user) or, without one, the login name; read as 姓名（机构） where known
            "people": display_names(ctx.db, (r.signed_by for r in receipts)),
            "errors": errors or {},
            "note": note,
            "issued": request.query_params.get("issued") == "1",
            "signed": request.query_params.get("signed") == "1",
        },
        active="directives",
        status_code=status_code,
    )


@router.get("/directives/{uid}")
def directive_detail(request: Request, uid: str, ctx: StaffPageCtx) -> Response:
    """One directive in full, with the receipts of the divisions in scope."""
    return _detail_page(request, ctx, service.get(ctx.db, ctx.scope, ctx.user, uid))


@router.post("/directives/{uid}/sign")
async def directive_sign(request: Request, uid: str, ctx: StaffPageCtx) -> Response:
    """签收 for the user's division, with an optional note; back to the list or the detail."""
    form = await posted_form(request)
    note = form.get("note", "")
    back = "/directives?signed=1" if form.get("next") == "list" else f"/directives/{uid}?signed=1"
    try:
        data = ReceiptCreate.model_validate({"note": note.strip()})
    except ValidationError as exc:
        d = service.get(ctx.db, ctx.scope, ctx.user, uid)
        return _detail_page(request, ctx, d, errors=form_errors(exc), note=note, status_code=422)
    try:
        service.sign(ctx.db, ctx.actor, ctx.scope, ctx.user, uid, data.note)
    except AnjianError as exc:
        if exc.status == 404:
            raise
        ctx.db.rollback()
        if exc.status == 403:
            record_refusal(request, ctx, exc)
        d = service.get(ctx.db, ctx.scope, ctx.user, uid)
        errors = {"__all__": zh(exc.message)}
        return _detail_page(request, ctx, d, errors=errors, note=note, status_code=exc.status)
    return RedirectResponse(back, status_code=303)
