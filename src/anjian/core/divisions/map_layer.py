"""The one map's division outlines (行政区划): the provinces, cities or counties the zoom shows,
within the user's jurisdiction, drawn as lines over the other layers' polygons — orientation on
a map with no tile server at all."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from sqlalchemy.orm import Session

from anjian.core.divisions.outlines import outlines, outlines_in
from anjian.core.divisions.rules import TIER_LABELS, Tier
from anjian.core.map_features import ShapeLayer
from anjian.core.mapgrid import BBox
from anjian.core.scope import Scope

FILL_OPACITY = 0.02  # a trace of colour, so a click inside finds the division


@lru_cache(maxsize=4096)
def _geometry(code: str) -> dict[str, Any]:
    """A division's outline as GeoJSON, built once per process (answers only read it)."""
    rings = outlines()[code].rings
    return {"type": "MultiPolygon", "coordinates": [[[list(p) for p in ring]] for ring in rings]}


def _outlines(
    session: Session, scope: Scope, box: BBox, zoom: int, params: Mapping[str, str]
) -> list[dict[str, Any]]:
    features = []
    for outline in outlines_in(box, zoom, scope.prefixes):
        features.append(
            {
                "type": "Feature",
                "geometry": _geometry(outline.code),
                "properties": {
                    "id": outline.code,
                    "name": outline.name,
                    "kind": outline.tier.value,
                    "code": outline.code,
                    "fill_opacity": FILL_OPACITY,
                },
            }
        )
    return features


LAYER = ShapeLayer(
    name="divisions",
    label="行政区划",
    shapes=_outlines,
    kinds={t.value: TIER_LABELS[t] for t in (Tier.PROVINCE, Tier.CITY, Tier.COUNTY)},
    colours={"province": "#1c7ed6", "city": "#4263eb", "county": "#7048e8"},
    href="/enterprises?division={id}",
    staff_only=True,  # an enterprise user's scope is its enterprise, not a jurisdiction
    details=(("区划代码", "code"),),
)
