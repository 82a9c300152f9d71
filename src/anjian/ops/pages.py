"""配置管理 console page: the configuration items of the jurisdiction (nodes with their services
and uplinks, this node's enterprise gateways) and the impact query — pick an item, see what
stops or goes blind above when it is down."""

from __future__ import annotations

from pathlib import Path

from fastapi import Request
from starlette.responses import Response

from anjian.ops.cmdb import KIND_LABELS, impact, inventory
from anjian.web.layout import page
from anjian.web.render import pages_router
from anjian.web.session import StaffPageCtx

router = pages_router(Path(__file__).parent / "templates")

KIND_BADGES = {
    "node": "bg-blue-lt",
    "service": "bg-secondary-lt",
    "link": "bg-purple-lt",
    "gateway": "bg-green-lt",
}


@router.get("/cmdb")
def cmdb_page(request: Request, ctx: StaffPageCtx, item: str = "") -> Response:
    """配置管理: the items by kind; with ``item``, what its outage hits."""
    items, relations = inventory(ctx.db, ctx.scope)
    by_id = {i.id: i for i in items}
    chosen = by_id.get(item[:100])
    affected = []
    if chosen is not None:
        hit = impact(relations, chosen.id)
        affected = [i for i in items if i.id in hit and i.kind in ("node", "gateway")]
    return page(
        request,
        ctx,
        "ops/cmdb.html",
        {
            "groups": [
                (kind, label, [i for i in items if i.kind == kind])
                for kind, label in KIND_LABELS.items()
            ],
            "badges": KIND_BADGES,
            "labels": KIND_LABELS,
            "choices": [i for i in items if i.kind in ("node", "link", "service")],
            "chosen": chosen,
            "asked": item,
            "affected": affected,
        },
        active="nodes",
    )
