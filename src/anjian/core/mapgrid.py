"""The one map's grid (一张图): the box a request asks about, the cells a zoom level gathers
features into, and the limits that keep every answer small enough to draw at once. Pure: no
I/O, so the rules are tested by the table."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

MAX_FEATURES = 2000  # single features in one answer at most; beyond, clusters
MAX_ZOOM = 20
TILE_PX = 256  # a web-map tile: the world is 256 · 2^zoom pixels wide
CELL_PX = 64  # a cluster gathers what falls in about 64 × 64 screen pixels


@dataclass(frozen=True)
class BBox:
    """A box in degrees (CGCS2000/WGS84 longitude and latitude): west, south, east, north."""

    min_lng: float
    min_lat: float
    max_lng: float
    max_lat: float

    @property
    def mid_lat(self) -> float:
        return (self.min_lat + self.max_lat) / 2

    def meets(self, other: BBox) -> bool:
        """Whether the two boxes share a point (edges touching count)."""
        return (
            self.min_lng <= other.max_lng
            and self.max_lng >= other.min_lng
            and self.min_lat <= other.max_lat
            and self.max_lat >= other.min_lat
        )


def parse_bbox(text: str) -> BBox:
    """``minLng,minLat,maxLng,maxLat`` as a :class:`BBox`; ValueError (a message for users)
    when it is not four finite numbers inside the world with the minimum before the maximum."""
    parts = text.split(",")
    if len(parts) != 4 or len(text) > 200:
        raise ValueError("bbox 应为 minLng,minLat,maxLng,maxLat 四个数 (four numbers)")
    try:
        values = [float(p) for p in parts]
    except ValueError:
        raise ValueError("bbox 含非数字 (not a number)") from None
    if not all(math.isfinite(v) for v in values):
        raise ValueError("bbox 含非有限数 (not finite)")
    box = BBox(*values)
    if not (-180 <= box.min_lng < box.max_lng <= 180 and -90 <= box.min_lat < box.max_lat <= 90):
        raise ValueError(
            "bbox 超出经纬度范围或最小值不小于最大值 (outside the world, or min ≥ max)"
        )
    return box


def cell_size(zoom: int, mid_lat: float) -> tuple[float, float]:
    """The size in degrees (longitude, latitude) of a cluster cell at ``zoom`` near latitude
    ``mid_lat``: about :data:`CELL_PX` screen pixels each way on a Web Mercator map (a degree of
    latitude looks taller than a degree of longitude by 1 / cos(latitude))."""
    lng = 360.0 / (TILE_PX * 2**zoom) * CELL_PX
    return lng, lng * max(math.cos(math.radians(mid_lat)), 0.05)


def cell_of(lng: float, lat: float, size: tuple[float, float]) -> tuple[int, int]:
    """The cell (column, row) a point falls in, counted from (-180, -90): the same integers
    the database computes, so a cluster can be named and tested."""
    return int((lng + 180.0) // size[0]), int((lat + 90.0) // size[1])


def outline_meets(ring: Iterable[Sequence[float]], box: BBox) -> bool:
    """Whether an outline (a ring of ``[lng, lat]`` points) may show in ``box``: whether the
    outline's own bounding box meets it (edges touching count). Cheap and generous: a thin
    outline crossing only a corner of its bounding box may answer true without showing."""
    points = list(ring)
    if not points:
        return False
    lngs = [p[0] for p in points]
    lats = [p[1] for p in points]
    return BBox(min(lngs), min(lats), max(lngs), max(lats)).meets(box)
