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
    name: str
    label: str
    legend: list[LegendItem]
    filters: list[str]


class FeatureCollection(BaseModel):
    """A GeoJSON FeatureCollection of Point features: single records (``properties``: ``id``,
    ``name``, ``kind``, ``kind_label``, ``colour``, ``href`` and the layer's own) or, when
    ``clustered``, clusters (``cluster``, ``count``, ``breakdown`` by kind, ``colour``,
    ``cell``); ``total`` records inside the box and the ``legend`` by kind."""

    type: Literal["FeatureCollection"] = "FeatureCollection"
    layer: str
    total: int
    clustered: bool
    cell_deg: list[float] | None = None
    features: list[dict[str, Any]]
    legend: list[LegendItem]
