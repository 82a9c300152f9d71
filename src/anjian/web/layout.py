"""The console layout: top bar (node, user, role), side navigation with the jurisdiction tree,
and the main area. Pages call :func:`page` to render inside it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from anjian.config import get_settings
from anjian.core.contacts import RevealedContacts
from anjian.core.divisions import service as divisions
from anjian.core.divisions.models import Division
from anjian.core.iam.deps import SESSION_COOKIE, Context
from anjian.core.iam.models import ROLE_LABELS, Role
from anjian.core.iam.rules import may_administer
from anjian.core.orgs.models import Organisation
from anjian.core.scope import Scope
from anjian.web.render import map_tiles, render
from anjian.web.session import check_csrf, session_csrf

NAV = (
    ("home", "/", "首页", False),
    ("enterprises", "/enterprises", "企业档案", False),
    ("onemap", "/onemap", "一张图", False),
    ("screen", "/screen", "态势大屏", True),  # staff only; full screen, no sidebar
    ("map", "/map", "企业地图", False),
    ("risk", "/risk", "风险分级", False),
    ("hazards", "/hazards", "隐患治理", False),
    ("inspections", "/inspections", "排查清单", False),
    ("major_hazards", "/major-hazards", "重大危险源", False),
    ("monitoring", "/monitoring", "在线监测", False),
    ("accidents", "/accidents", "事故报送", False),
    ("accident_statistics", "/accidents/statistics", "事故统计", True),  # staff only
    ("dual_prevention", "/dual-prevention", "双重预防", False),
    ("enforcement", "/enforcement/inspections", "行政执法", True),  # staff only
    ("emergency", "/emergency/events", "应急管理", True),  # staff only
    ("directives", "/directives", "通知指令", True),  # staff only
    ("nodes", "/nodes", "节点状态", True),  # staff only
    ("desk", "/desk", "服务台", True),  # staff only
    ("audit", "/audit", "安全审计", True),  # staff only
)
# What an enterprise user has of the staff-only sections: filing its emergency plans (备案).
ENTERPRISE_NAV = (("emergency", "/emergency/plans", "应急预案"),)
# 系统管理: shown only to the roles that administer (anjian.core.iam.rules.may_administer).
ADMIN_NAV = (
    ("admin_users", "/admin/users", "用户管理"),
    ("admin_orgs", "/admin/orgs", "机构管理"),
    ("admin_settings", "/admin/settings", "节点设置"),
)


@dataclass(frozen=True)
class TreeNode:
    """A division in the side tree; ``leaf`` when it cannot have children (a county)."""

    code: str
    name: str
    leaf: bool


def tree_node(div: Division) -> TreeNode:
    return TreeNode(code=div.code, name=div.name, leaf=div.tier == "county")


def scope_roots(db: Session, scope: Scope) -> list[Division]:
    """The divisions at the top of a user's jurisdiction (one per scope prefix)."""
    if scope.is_enterprise:
        return []
    roots = []
    for prefix in scope.prefixes:
        div = divisions.get_division(db, prefix.ljust(6, "0"))
        if div is not None:
            roots.append(div)
    return roots


def division_name(db: Session, code: str | None) -> str:
    if not code:
        return ""
    div = divisions.get_division(db, code)
    return div.name if div else code


def maintained_elsewhere(record: Any) -> str:
    """The node that maintains a synced record received from another node (read-only here),
    or "" for a record of this node."""
    origin = record.origin_node or ""
    return origin if origin and origin != get_settings().effective_node_id else ""


def pager_of(total: int, page_no: int, size: int) -> dict[str, int]:
    """What a paged list gives the ``pager`` (or ``short_pager``) macro: the total, the page
    shown and the number of pages (at least one) at ``size`` rows a page."""
    return {"total": total, "page_no": page_no, "pages": max(1, -(-total // size))}


def jurisdiction_map(db: Session, scope: Scope, points: list[dict[str, Any]]) -> dict[str, Any]:
    """The data of a map of the jurisdiction (``map.js``): its ``points``, the base-map tiles,
    and, without a base map, the centroids of the user's divisions and their children, which
    give the markers a frame."""
    tiles = map_tiles()
    places = jurisdiction_places(db, scope) if tiles is None else []
    return {"tiles": tiles, "places": places, "points": points}


def jurisdiction_places(db: Session, scope: Scope) -> list[dict[str, Any]]:
    """The centroids (``name``, ``lng``, ``lat``) of the user's divisions and of those one tier
    below them: what frames a map of the jurisdiction (none for the nation's own code)."""
    places = []
    for root in scope_roots(db, scope):
        for div in [root, *divisions.children_of(db, root.code)]:
            if div.lng is not None and div.lat is not None and div.code != "000000":
                places.append({"name": div.name, "lng": div.lng, "lat": div.lat})
    return places


def is_staff(ctx: Context) -> bool:
    return ctx.user.role != Role.ENTERPRISE


def base_context(request: Request, ctx: Context, active: str) -> dict[str, Any]:
    """What the layout needs: who, where, the CSRF token and the tree."""
    settings = get_settings()
    org = ctx.db.get(Organisation, ctx.user.org_id) if ctx.user.org_id else None
    staff = is_staff(ctx)
    return {
        "ctx": ctx,
        "user": ctx.user,
        "role_label": ROLE_LABELS.get(Role(ctx.user.role), ctx.user.role),
        "org_name": org.name if org else "",
        "user_division": division_name(ctx.db, ctx.user.division_code),
        "node_id": settings.effective_node_id,
        "node_division": division_name(ctx.db, settings.node_division),
        "csrf": session_csrf(request.cookies.get(SESSION_COOKIE, "")),
        "nav": [
            (key, href, label) for key, href, label, staff_only in NAV if staff or not staff_only
        ]
        + ([] if staff else list(ENTERPRISE_NAV))
        + (list(ADMIN_NAV) if may_administer(ctx.user.role) else []),
        "active": active,
        "is_staff": staff,
        "tree_roots": [tree_node(d) for d in scope_roots(ctx.db, ctx.scope)],
        "selected_division": request.query_params.get("division", ""),
    }


def page(
    request: Request,
    ctx: Context,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    active: str = "",
    status_code: int = 200,
) -> Response:
    """Render ``template`` inside the console layout."""
    return render(
        request, template, {**base_context(request, ctx, active), **(context or {})}, status_code
    )


async def revealed_phone(
    request: Request, reveal: Callable[[str | None], RevealedContacts]
) -> Response:
    """The answer to a 显示号码 button (the ``phone`` macro): the CSRF token checked, the
    record's service reveals the posted ``field`` (audited), and the full number comes back as
    a ``tel:`` link that htmx swaps in for the masked one."""
    form = await request.form()
    csrf, field = form.get("csrf"), form.get("field")
    check_csrf(request, csrf if isinstance(csrf, str) else None)
    revealed = reveal(field if isinstance(field, str) and field else None)
    return render(request, "partials/phone.html", {"contacts": revealed.contacts})
