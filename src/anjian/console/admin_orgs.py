"""机构管理 in the console: the organisations of the administrator's jurisdiction, registered and
edited through :mod:`anjian.core.orgs.service` with the administrator's scope (a copy from
another node is read-only)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path, Query, Request
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, Field
from starlette.responses import Response

from anjian.config import get_settings
from anjian.console.admin import AdminPageCtx, choice_errors, division_names, org_names
from anjian.core.errors import AnjianError
from anjian.core.iam.deps import Context
from anjian.core.iam.schemas import Id
from anjian.core.inputs import INT32_MAX
from anjian.core.orgs import service as orgs
from anjian.core.orgs.models import ORG_KIND_LABELS, Organisation, OrgKind
from anjian.web.forms import posted_form, validated
from anjian.web.layout import page
from anjian.web.offloop import page_routes
from anjian.web.session import refused

router = page_routes()

OrgId = Annotated[int, Path(ge=1, le=INT32_MAX)]


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
    parents = org_names(ctx.db, (o.parent_id for o in items))
    divisions = division_names(ctx.db, (o.division_code for o in items))
    return page(
        request,
        ctx,
        "console/admin_orgs.html",
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
        "console/admin_org_form.html",
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


def _read_form(form: dict[str, str]) -> tuple[dict[str, str], OrgForm | None, dict[str, str]]:
    """The posted organisation form: its values to show again, and the body or the errors."""
    values = {k: v for k, v in form.items() if k != "csrf"}
    data, errors = validated(
        OrgForm, _org_body(form), choice_errors(form, kind=ORG_KIND_LABELS), ORG_PATTERNS
    )
    return values, data, errors


@router.post("/admin/orgs/new")
async def org_create(request: Request, ctx: AdminPageCtx) -> Response:
    """Register the organisation; errors at their fields, nothing written."""
    values, data, errors = _read_form(await posted_form(request))
    if data is None:
        return _org_form_page(request, ctx, None, values, errors, 422)
    try:
        orgs.create_org(ctx.db, ctx.actor, **data.model_dump(), scope=ctx.scope)
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
    form = await posted_form(request)
    org = orgs.org_in_scope(ctx.db, ctx.scope, org_id)
    values, data, errors = _read_form(form)
    if data is None:
        return _org_form_page(request, ctx, org, values, errors, 422)
    try:
        orgs.update_org(ctx.db, ctx.actor, ctx.scope, org_id, **data.model_dump())
    except AnjianError as exc:
        errors = refused(request, ctx, exc)
        org = orgs.org_in_scope(ctx.db, ctx.scope, org_id)
        return _org_form_page(request, ctx, org, values, errors, exc.status)
    return RedirectResponse("/admin/orgs?done=saved", status_code=303)
