"""The one map's page (一张图, /onemap): a full-height map of the user's jurisdiction with a
panel of layers — each a checkbox, its legend with the counts of the last answer, and the filter
that chooses among its kinds (and the year of the accidents) — that static/onemap.js fills from
``GET /api/v1/map/features`` as the map moves. The enterprises and the division outlines are on at first."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from anjian.console.onemap.layers import LAYERS
from anjian.core.clock import today_in_china
from anjian.core.map_features import ShapeLayer
from anjian.core.scope import Scope
from anjian.enterprises.service import located
from anjian.web.layout import jurisdiction_places, page
from anjian.web.offloop import page_routes
from anjian.web.render import map_tiles
from anjian.web.session import PageCtx

router = page_routes()

ON_AT_FIRST = ("enterprises", "divisions")
# The filter of each layer that chooses one of its kinds (the panel's select).
KIND_FILTERS = {
    "enterprises": "category",
    "risk": "level",
    "major_hazards": "grade",
    "alarms": "level",
    "hidden_hazards": "grade",
    "accidents": "grade",
    "emergency_resources": "kind",
    "emergency_events": "level",
}
ACCIDENT_YEARS = 5  # this year and the four before it in the accidents' year select


def _layers(scope: Scope) -> list[dict[str, Any]]:
    staff = not scope.is_enterprise
    this_year = today_in_china().year
    out = []
    for layer in LAYERS.values():
        if layer.staff_only and not staff:
            continue
        selects = []
        kind_filter = KIND_FILTERS.get(layer.name)
        if kind_filter in layer.filters:
            selects.append(
                {"name": kind_filter, "label": "全部", "options": list(layer.kinds.items())}
            )
        if "year" in layer.filters:
            years = [str(this_year - i) for i in range(ACCIDENT_YEARS)]
            selects.append(
                {"name": "year", "label": "", "options": [(y, f"{y} 年") for y in years]}
            )
        out.append(
            {
                "name": layer.name,
                "label": layer.label,
                "geometry": "polygon" if isinstance(layer, ShapeLayer) else "point",
                "on": layer.name in ON_AT_FIRST,
                "legend": [
                    {"kind": k, "label": v, "colour": layer.colours.get(k, "#868e96")}
                    for k, v in layer.kinds.items()
                ],
                "selects": selects,
            }
        )
    return out


def _frame(db: Session, scope: Scope) -> tuple[list[list[float]], list[dict[str, Any]]]:
    """Where the map starts: the points ([lat, lng]) that frame the jurisdiction — its divisions'
    centroids and their children's, an enterprise user's own enterprise — and the divisions'
    names to mark on a map without tiles."""
    places = jurisdiction_places(db, scope)
    frame = [[p["lat"], p["lng"]] for p in places]
    if scope.is_enterprise and scope.enterprise_id is not None:
        frame += [[e.lat, e.lng] for e in located(db, scope, scope.enterprise_id, limit=1)]
    return frame, places


@router.get("/onemap")
def onemap(request: Request, ctx: PageCtx) -> Response:
    """一张图: the layers of every domain over the jurisdiction, clustered when they are many."""
    tiles = map_tiles()
    frame, places = _frame(ctx.db, ctx.scope)
    layers = _layers(ctx.scope)
    data = {
        "api": "/api/v1/map/features",
        "tiles": tiles,
        "places": [] if tiles else places,
        "frame": frame,
        "layers": layers,
    }
    return page(
        request, ctx, "onemap/onemap.html", {"data": data, "layers": layers}, active="onemap"
    )
