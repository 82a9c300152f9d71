"""Division outlines (行政区划边界) of the one map, from packaged data: the provinces, cities and
counties of GB/T 2260 as simplified outer rings (``data/outlines.json.gz``, built by
``scripts/outlines.py``; sources and licence in ``data/NOTICE.md``). Read once, kept in memory
(about 3,000 outlines, a few MB), so a map with no tile server still shows where it is."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from anjian.core.divisions.rules import Tier, tier_of
from anjian.core.mapgrid import BBox

DATA = Path(__file__).parent / "data" / "outlines.json.gz"
SCALE = 1e4  # the file's coordinates are integers of 1e-4 degrees, delta-coded along a ring
# The significant digits of a division code of each tier (its jurisdiction prefix's length).
DEPTH = {Tier.PROVINCE: 2, Tier.CITY: 4, Tier.COUNTY: 6}


@dataclass(frozen=True)
class Outline:
    """One division's outline: outer rings of ``(lng, lat)`` and their bounding box."""

    code: str
    name: str
    tier: Tier
    rings: tuple[tuple[tuple[float, float], ...], ...]
    bbox: BBox

    @property
    def depth(self) -> int:
        return DEPTH[self.tier]


def _ring(coded: list[int]) -> tuple[tuple[float, float], ...]:
    x = y = 0
    points = []
    for i in range(0, len(coded) - 1, 2):
        x += coded[i]
        y += coded[i + 1]
        points.append((x / SCALE, y / SCALE))
    return tuple(points)


@lru_cache(maxsize=1)
def outlines() -> dict[str, Outline]:
    """Every packaged outline by its six-digit code."""
    with gzip.open(DATA, "rt", encoding="utf-8") as f:
        raw = json.load(f)
    out = {}
    for code, item in raw.items():
        rings = tuple(_ring(r) for r in item["rings"])
        lngs = [p[0] for r in rings for p in r]
        lats = [p[1] for r in rings for p in r]
        box = BBox(min(lngs), min(lats), max(lngs), max(lats))
        out[code] = Outline(code, item["name"], tier_of(code), rings, box)
    return out


def depth_for_zoom(zoom: int) -> int:
    """The tier a map shows at ``zoom``, as its code depth: provinces to zoom 5, cities to 7,
    counties beyond (a county spans a few dozen pixels at zoom 8)."""
    if zoom <= 5:
        return DEPTH[Tier.PROVINCE]
    if zoom <= 7:
        return DEPTH[Tier.CITY]
    return DEPTH[Tier.COUNTY]


def tile_at(all_outlines: Iterable[Outline], depth: int) -> list[Outline]:
    """The outlines that cover the country at ``depth`` without overlapping: those of that tier,
    a shallower one where nothing lies inside it (a city with no counties, 东莞市), and a
    deeper one where its ancestor of the tier has no outline (a county the province
    administers directly, 仙桃市; a municipality's districts at the cities' depth)."""
    items = list(all_outlines)
    codes = {o.code for o in items}
    parents = {o.code[:d] for o in items for d in range(2, o.depth, 2)}

    def shown(o: Outline) -> bool:
        if o.depth < depth:  # only where nothing lies inside it
            return o.code[: o.depth] not in parents
        # deeper: its ancestor of the tier has no outline, nor has any division between them
        return not any(o.code[:d].ljust(6, "0") in codes for d in range(depth, o.depth, 2))

    out = [o for o in items if shown(o)]
    return sorted(out, key=lambda o: o.code)


@lru_cache(maxsize=3)
def _tiling(depth: int) -> tuple[Outline, ...]:
    return tuple(tile_at(outlines().values(), depth))


def outlines_in(box: BBox, zoom: int, prefixes: Iterable[str]) -> list[Outline]:
    """The outlines a map of ``box`` at ``zoom`` shows to a jurisdiction of ``prefixes`` (a
    scope's division prefixes; ``""`` the nation): the tier the zoom shows, never above the
    jurisdiction's own (a county official sees the county at every zoom), those meeting the
    box, in code order."""
    chosen: dict[str, Outline] = {}
    for prefix in prefixes:
        depth = max(depth_for_zoom(zoom), len(prefix))
        for o in _tiling(depth):
            if o.code.startswith(prefix) and o.bbox.meets(box):
                chosen[o.code] = o
    return [chosen[c] for c in sorted(chosen)]
