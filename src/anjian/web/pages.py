"""Console pages of the shell: home (counts in scope), the audit view and the lazily loaded
jurisdiction tree."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from anjian.core.audit import service as audit_service
from anjian.core.audit.labels import ACTION_FILTERS
from anjian.core.divisions import service as divisions
from anjian.core.errors import NotFound
from anjian.core.paging import PageNumber
from anjian.enterprises import service as enterprises
from anjian.enterprises.pages import CATEGORY_COLOURS
from anjian.enterprises.rules import STATUSES, SUPERVISION_CATEGORIES
from anjian.web.audit_view import audit_rows
from anjian.web.layout import page, tree_node
from anjian.web.render import render
from anjian.web.session import PageCtx, StaffPageCtx

router = APIRouter(include_in_schema=False)

AUDIT_PAGE_SIZE = 30
RESULT_BADGES = {
    "success": ("bg-green-lt", "成功"),
    "failure": ("bg-red-lt", "失败"),
    "denied": ("bg-orange-lt", "拒绝"),
}


@router.get("/")
def home(request: Request, ctx: PageCtx) -> Response:
    """首页: enterprises in scope by supervision category and by status."""

    def count(**filters: str) -> int:
        return enterprises.list_enterprises(ctx.db, ctx.scope, limit=0, **filters)[1]

    total = count()
    by_category = [
        (code, label, count(category=code)) for code, label in SUPERVISION_CATEGORIES.items()
    ]
    by_status = [(code, label, count(status=code)) for code, label in STATUSES.items()]
    return page(
        request,
        ctx,
        "home.html",
        {
            "total": total,
            "by_category": by_category,
            "by_status": by_status,
            "colours": CATEGORY_COLOURS,
            "chart": [
                {"name": label, "value": n, "itemStyle": {"color": CATEGORY_COLOURS[code]}}
                for code, label, n in by_category
            ],
        },
        active="home",
    )


@router.get("/audit")
def audit_page(
    request: Request,
    ctx: StaffPageCtx,
    action: str = "",
    user: str = "",
    raw: bool = False,
    page_no: PageNumber = 1,
) -> Response:
    """安全审计: audit records of the jurisdiction, newest first (officials and admins only):
    who as 姓名（机构）, the action in Chinese (its code on hover), the record by its name."""
    rows, total = audit_service.list_audit(
        ctx.db,
        ctx.scope,
        action=action.strip() or None,
        actor=user.strip() or None,
        limit=AUDIT_PAGE_SIZE,
        offset=(page_no - 1) * AUDIT_PAGE_SIZE,
    )
    pages = max(1, -(-total // AUDIT_PAGE_SIZE))
    return page(
        request,
        ctx,
        "audit.html",
        {
            "rows": audit_rows(ctx.db, rows),
            "total": total,
            "page_no": page_no,
            "pages": pages,
            "filters": {"action": action, "user": user, **({"raw": "1"} if raw else {})},
            "raw": raw,
            "actions": ACTION_FILTERS,
            "result_badges": RESULT_BADGES,
        },
        active="audit",
    )


@router.get("/tree/{code}")
def tree_children(request: Request, code: str, ctx: PageCtx) -> Response:
    """The children of a division in the side tree (loaded by htmx when a node is opened)."""
    if not ctx.scope.covers_code(code):
        raise NotFound(f"行政区划不在管辖范围内: {code} (outside your jurisdiction)")
    children = [tree_node(d) for d in divisions.children_of(ctx.db, code)]
    return render(
        request,
        "partials/tree_children.html",
        {"children": children, "selected_division": request.query_params.get("selected", "")},
    )
