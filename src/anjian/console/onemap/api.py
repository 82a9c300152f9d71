"""One-map API (一张图): the layers, and one layer's features in a box at a zoom — clusters
counted in the database at low zoom, single features once few enough fall in the box, always
within the caller's scope."""

# No ``from __future__ import annotations``: FastAPI reads the parameters' annotations.

from typing import Annotated

import orjson
from fastapi import APIRouter, Query, Request, Response

from anjian.console.onemap.layers import LAYERS
from anjian.console.onemap.schemas import FeatureCollection, LayerRead, LegendItem
from anjian.core.errors import Forbidden, Invalid
from anjian.core.iam.deps import Ctx
from anjian.core.map_features import ShapeLayer, collect, collect_shapes
from anjian.core.mapgrid import MAX_ZOOM, parse_bbox

router = APIRouter(prefix="/api/v1/map", tags=["map 一张图"])
MAX_FILTER_CHARS = 100


@router.get("/layers", response_model=list[LayerRead])
def list_layers(ctx: Ctx) -> list[LayerRead]:
    """The layers you may show, each with its legend (kinds and colours) and its filters."""
    staff = not ctx.scope.is_enterprise
    return [
        LayerRead(
            name=layer.name,
            label=layer.label,
            geometry="polygon" if isinstance(layer, ShapeLayer) else "point",
            legend=[
                LegendItem(kind=k, label=v, colour=layer.colours.get(k, "#868e96"))
                for k, v in layer.kinds.items()
            ],
            filters=list(layer.filters),
        )
        for layer in LAYERS.values()
        if staff or not layer.staff_only
    ]


@router.get("/features", response_model=FeatureCollection)
def features(
    request: Request,
    ctx: Ctx,
    layer: Annotated[str, Query(max_length=32, description="图层: GET /api/v1/map/layers")],
    bbox: Annotated[str, Query(max_length=200, description="minLng,minLat,maxLng,maxLat")],
    zoom: Annotated[int, Query(ge=0, le=MAX_ZOOM, description="地图缩放级别 0–20")],
) -> Response:
    """The layer's records in scope inside ``bbox``: single features when at most 2,000 fall
    inside, else clusters by grid cell (about 64 px at ``zoom``, at most 4,000 cells) with a
    breakdown by kind; a polygon layer's shapes that meet the box (at most 300). The layer's
    filters (see ``/layers``) as further query parameters: an unknown code is a 422 naming
    the filter."""
    chosen = LAYERS.get(layer)
    if chosen is None:
        raise Invalid(f"未知图层: {layer} (unknown layer)", field="layer")
    if chosen.staff_only and ctx.scope.is_enterprise:
        raise Forbidden("企业用户不能查看该图层 (not for enterprise users)")
    try:
        box = parse_bbox(bbox)
    except ValueError as exc:
        raise Invalid(str(exc), field="bbox") from None
    params = {}
    for name in chosen.filters:
        value = request.query_params.get(name, "")
        if len(value) > MAX_FILTER_CHARS:
            raise Invalid(f"{name} 过长 (too long)", field=name)
        if value:
            params[name] = value
    if isinstance(chosen, ShapeLayer):
        answer = collect_shapes(ctx.db, chosen, ctx.scope, box, zoom, params)
    else:
        answer = collect(ctx.db, chosen, ctx.scope, box, zoom, params)
    # Serialised at once (orjson, dates as ISO 8601): thousands of features need no second
    # validation on the way out.
    return Response(orjson.dumps(answer, default=str), media_type="application/json")
