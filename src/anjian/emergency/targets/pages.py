"""Console page of protection targets (防护目标): the targets in scope by kind, with a note on
what they are for (the threat zones of 扩散分析 list them), the form that registers one, the
Excel template and its import (all or nothing, the row report shown on refusal), and removal of
a target this node keeps. Every form is the API's service call; a refusal is shown at the form
in Chinese. Staff only."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from anjian.config import get_settings
from anjian.core.iam.deps import Context
from anjian.core.paging import PageNumber
from anjian.emergency.targets import excel, service
from anjian.emergency.targets.api import MAX_UPLOAD_BYTES
from anjian.emergency.targets.rules import KIND_HINTS, KIND_LABELS
from anjian.emergency.targets.schemas import TargetCreate
from anjian.web.forms import FormRefusal, alert, call, division_choices, run_form
from anjian.web.imports import ImportPage
from anjian.web.layout import page, pager_of
from anjian.web.render import pages_router
from anjian.web.session import StaffPageCtx

router = pages_router(Path(__file__).parent / "templates")
ACTIVE = "emergency"
PAGE_SIZE = 20
LABELS = {
    "kind": "类别",
    "name": "名称",
    "division_code": "行政区划",
    "address": "地址",
    "lng": "经度",
    "lat": "纬度",
    "population": "人数",
    "contact_name": "联系人",
    "contact_phone": "联系电话",
    "note": "备注",
}
DONE = {"create": "防护目标已登记。", "delete": "防护目标已删除。"}


def _list_page(
    request: Request,
    ctx: Context,
    page_no: int,
    kind: str,
    refusal: FormRefusal | None = None,
) -> Response:
    refusal = refusal or FormRefusal()
    chosen = kind if kind in KIND_LABELS else None
    rows, total = service.list_targets(
        ctx.db, ctx.scope, kind=chosen, limit=PAGE_SIZE, offset=(page_no - 1) * PAGE_SIZE
    )
    node = get_settings().effective_node_id
    return page(
        request,
        ctx,
        "emergency/targets.html",
        {
            "items": service.present(ctx.db, rows),
            "kept_here": {t.id for t in rows if t.origin_node == node},
            "kinds": KIND_LABELS,
            "kind_hint": "；".join(f"{KIND_LABELS[k]}：{h}" for k, h in KIND_HINTS.items()),
            "kind": chosen or "",
            "filters": {"kind": chosen or ""},
            "division_choices": division_choices(ctx),
            "form": refusal.form,
            "values": refusal.values or {"division_code": ctx.user.division_code},
            "errors": refusal.errors,
            "alert": alert(refusal.errors, LABELS),
            "open_form": refusal.form == "create" or request.query_params.get("new") == "1",
            "done": DONE.get(request.query_params.get("done", ""), ""),
            "imported": request.query_params.get("imported", ""),
            **pager_of(total, page_no, PAGE_SIZE),
        },
        active=ACTIVE,
        status_code=refusal.status_code,
    )


@router.get("/emergency/targets")
def target_list(
    request: Request, ctx: StaffPageCtx, page_no: PageNumber = 1, kind: str = ""
) -> Response:
    """防护目标: the targets in scope by kind, the registration form and the Excel import."""
    return _list_page(request, ctx, page_no, kind)


def _optional(form: dict[str, str], name: str) -> str | None:
    """A blank optional number (经度, 纬度, 人数) means none."""
    return form.get(name) or None


@router.post("/emergency/targets")
async def target_create(request: Request, ctx: StaffPageCtx) -> Response:
    """Register a target through the API's service call; errors shown at the form."""

    def act(form: dict[str, str]) -> dict[str, str]:
        body: dict[str, Any] = {
            k: form.get(k, "")
            for k in ("kind", "name", "division_code", "address", "contact_name", "note")
        }
        body |= {k: _optional(form, k) for k in ("lng", "lat", "population", "contact_phone")}
        return call(
            TargetCreate,
            body,
            lambda data: service.create_target(ctx.db, ctx.actor, ctx.scope, data),
        )

    values, errors, status = await run_form(request, ctx, act)
    if not errors:
        return RedirectResponse("/emergency/targets?done=create", 303)
    return _list_page(request, ctx, 1, "", FormRefusal("create", errors, values, status))


@router.post("/emergency/targets/{target_id:int}/delete")
async def target_delete(request: Request, target_id: int, ctx: StaffPageCtx) -> Response:
    """Remove a target this node keeps (a tombstone that travels up; audited)."""

    def act(_form: dict[str, str]) -> dict[str, str]:
        service.delete_target(ctx.db, ctx.actor, ctx.scope, target_id)
        return {}

    values, errors, status = await run_form(request, ctx, act)
    if errors:
        return _list_page(request, ctx, 1, "", FormRefusal("delete", errors, values, status))
    return RedirectResponse("/emergency/targets?done=delete", 303)


IMPORT = ImportPage(
    excel.read_file,
    MAX_UPLOAD_BYTES,
    back="/emergency/targets",
    what="防护目标",
    active=ACTIVE,
    heading="应急管理 · 防护目标导入结果",
    template_href="/api/v1/emergency/targets/template.xlsx",
    tabs="emergency/_tabs.html",
    tab="targets",
)


@router.post("/emergency/targets/import")
async def target_import(request: Request, ctx: StaffPageCtx) -> Response:
    """Import the .xlsx template (all rows or none); on refusal the problems row by row."""
    return await IMPORT(
        request,
        ctx,
        lambda sheet, source: excel.import_targets(
            ctx.db, ctx.actor, ctx.scope, sheet, source=source
        ),
    )
