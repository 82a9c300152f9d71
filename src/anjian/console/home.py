"""Console pages of the shell: home (the work inbox of every domain, and enterprises in scope by
category and status) and the lazily loaded jurisdiction tree."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from fastapi import Request
from starlette.responses import Response

from anjian.core import inbox
from anjian.core.clock import today_in_china
from anjian.core.divisions import service as divisions
from anjian.core.errors import NotFound
from anjian.core.iam.deps import Context
from anjian.core.inbox import InboxItem
from anjian.db import utcnow
from anjian.enterprises import service as enterprises
from anjian.enterprises.labels import CATEGORY_COLOURS
from anjian.enterprises.rules import STATUSES, SUPERVISION_CATEGORIES
from anjian.monitoring.board import change_position
from anjian.web.layout import page, tree_node
from anjian.web.offloop import page_routes
from anjian.web.render import query, render
from anjian.web.session import PageCtx

router = page_routes()


def _span(seconds: float) -> str:
    """A span of time in words, at the precision that matters: minutes, hours or days."""
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{max(minutes, 1)} 分钟"
    if minutes < 48 * 60:
        return f"{minutes // 60} 小时" + (f" {minutes % 60} 分" if minutes < 6 * 60 else "")
    return f"{minutes // (24 * 60)} 天"


def item_clock(item: InboxItem, now: datetime, today: date) -> tuple[str, str]:
    """When an inbox item is due, or how long it has waited, in words, with its badge colour:
    red when overdue, orange when due today (or within two hours), grey otherwise."""
    if item.due_at is not None:
        left = (item.due_at - now).total_seconds()
        if left < 0:
            return f"超时 {_span(-left)}", "bg-red text-red-fg"
        return f"剩余 {_span(left)}", "bg-orange text-orange-fg" if left < 7200 else "bg-blue-lt"
    if item.due_date is not None:
        days = (item.due_date - today).days
        if days < 0:
            return f"逾期 {-days} 天", "bg-red text-red-fg"
        if days == 0:
            return "今天到期", "bg-orange text-orange-fg"
        return f"{days} 天后到期", "bg-blue-lt"
    if item.since is not None:
        waited = (now - item.since).total_seconds()
        return ("刚刚" if waited < 60 else f"{_span(waited)}前"), "bg-secondary-lt"
    return "", ""


@router.get("/")
def home(request: Request, ctx: PageCtx) -> Response:
    """首页: the user's work inbox (待办) and, for officials, enterprises in scope by
    supervision category and by status."""
    # Where the live alarm section starts watching: taken before the inbox is read, so an
    # alarm raised meanwhile arrives over the stream rather than being missed.
    position = change_position(ctx.db)
    now, today = utcnow(), today_in_china()
    sections = [
        {
            "s": s,
            "rows": [(item, *item_clock(item, now, today)) for item in s.items],
            "live": s.live,
        }
        for s in inbox.collect(ctx)
    ]
    context: dict[str, Any] = {
        "sections": sections,
        "inbox_total": inbox.total([s["s"] for s in sections]),
        "limit": inbox.DEFAULT_LIMIT,
        "alarm_stream": "/monitoring/alarms/stream?"
        + query({"state": "raised"}, after=position, back="/"),
    }
    if not ctx.scope.is_enterprise:
        context.update(_enterprise_counts(ctx))
    return page(request, ctx, "console/home.html", context, active="home")


def _enterprise_counts(ctx: Context) -> dict[str, Any]:
    """Enterprises in an official's scope by supervision category and by status."""

    def count(**filters: str) -> int:
        return enterprises.list_enterprises(ctx.db, ctx.scope, limit=0, **filters)[1]

    by_category = [
        (code, label, count(category=code)) for code, label in SUPERVISION_CATEGORIES.items()
    ]
    return {
        "total": count(),
        "by_category": by_category,
        "by_status": [(code, label, count(status=code)) for code, label in STATUSES.items()],
        "colours": CATEGORY_COLOURS,
        "chart": [
            {"name": label, "value": n, "itemStyle": {"color": CATEGORY_COLOURS[code]}}
            for code, label, n in by_category
        ],
    }


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
