"""Console pages of the shell: home (counts in scope), the audit view and the lazily loaded
jurisdiction tree."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from anjian.core.audit import service as audit_service
from anjian.core.divisions import service as divisions
from anjian.core.errors import NotFound
from anjian.core.paging import PageNumber
from anjian.enterprises import service as enterprises
from anjian.enterprises.pages import CATEGORY_COLOURS
from anjian.enterprises.rules import STATUSES, SUPERVISION_CATEGORIES
from anjian.web.layout import page, tree_node
from anjian.web.render import render
from anjian.web.session import PageCtx, StaffPageCtx

router = APIRouter(include_in_schema=False)

AUDIT_PAGE_SIZE = 30
# Action prefixes offered as filters (the service filters by prefix), with their labels.
AUDIT_ACTIONS: dict[str, str] = {
    "auth.login": "登录",
    "auth.logout": "退出",
    "auth.mfa": "动态口令绑定",
    "user.": "用户管理",
    "enterprise.": "企业档案（全部）",
    "enterprise.read": "查阅企业档案",
    "enterprise.create": "登记企业",
    "enterprise.update": "修改企业档案",
    "enterprise.import": "导入企业",
    "enterprise.export": "导出企业",
    "accident.read": "查阅事故报告",
    "audit.checkpoint": "封印审计链",
    "org.": "机构管理",
    "directive.": "通知指令",
    "node.": "节点管理",
    "sync.": "数据同步",
    "access.denied": "越权操作被拒绝",
}
ACTION_LABELS: dict[str, str] = {
    "auth.login": "登录",
    "auth.logout": "退出",
    "auth.mfa_enrol": "申请绑定动态口令",
    "auth.mfa_verify": "确认绑定动态口令",
    "user.create": "新增用户",
    "user.read": "查阅用户",
    "user.lock": "锁定用户",
    "user.unlock": "解锁用户",
    "user.reset": "重置密码或动态口令",
    "user.update": "修改用户",
    "enterprise.create": "登记企业",
    "enterprise.read": "查阅企业档案",
    "enterprise.update": "修改企业档案",
    "enterprise.import": "导入企业",
    "enterprise.export": "导出企业",
    "accident.read": "查阅事故报告",
    "audit.checkpoint": "封印审计链",
    "org.create": "新增机构",
    "org.update": "修改机构",
    "node.parent": "设置上级节点",
    "node.link": "登记下级节点",
    "node.revoke": "吊销下级节点",
    "sync.receive": "接收下级数据",
    "sync.refused": "拒收下级数据",
    "directive.issue": "下发通知指令",
    "directive.sign": "签收通知指令",
    "access.denied": "越权操作被拒绝",
}
OBJECT_LABELS = {
    "enterprise": "企业",
    "user": "用户",
    "organisation": "机构",
    "org": "机构",
    "directive": "通知指令",
    "sync_link": "节点链路",
    "accident": "事故",
    "audit_seal": "审计封印",
}
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
    page_no: PageNumber = 1,
) -> Response:
    """安全审计: audit records of the jurisdiction, newest first (officials and admins only)."""
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
            "rows": rows,
            "total": total,
            "page_no": page_no,
            "pages": pages,
            "filters": {"action": action, "user": user},
            "actions": AUDIT_ACTIONS,
            "action_labels": ACTION_LABELS,
            "object_labels": OBJECT_LABELS,
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
