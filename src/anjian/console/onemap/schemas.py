"""Bodies of the one map's API: a layer's description and a GeoJSON answer."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel


class LegendItem(BaseModel):
    kind: str
    label: str
    colour: str
    count: int = 0


class LayerRead(BaseModel):
    """A layer: its name for ``/features``, its Chinese label, its legend, its filters (query
    parameters of ``/features``) and its geometry: ``point`` (features or clusters) or
    ``polygon`` (shapes drawn in full, never clustered)."""

    name: str
    label: str
    geometry: Literal["point", "polygon"] = "point"
    legend: list[LegendItem]
    filters: list[str]


class FeatureCollection(BaseModel):
    """A GeoJSON FeatureCollection: single records (``properties``: ``id``, ``name``, ``kind``,
    ``kind_label``, ``colour``, ``href``, ``lines`` for a popup and the layer's own) as Points —
    or Polygons for a polygon layer — or, when ``clustered``, clusters as Points (``cluster``,
    ``count``, ``breakdown`` by kind, ``colour`` of the largest kind, ``cell``); ``total``
    records inside the box and the ``legend`` by kind."""

    type: Literal["FeatureCollection"] = "FeatureCollection"
    layer: str
    total: int
    clustered: bool
    cell_deg: list[float] | None = None
    features: list[dict[str, Any]]
    legend: list[LegendItem]
