"""Division outlines (行政区划边界) of the one map: the tier each zoom shows, a tiling of the
country without overlaps where the tiers are uneven (a city with no counties, a county the
province administers directly, a municipality's districts), and the packaged data itself —
every outline a known division whose seat lies inside it, every county inside its province."""

from __future__ import annotations

import csv

import pytest

from anjian.core.divisions.outlines import (
    DATA,
    Outline,
    depth_for_zoom,
    outlines,
    outlines_in,
    tile_at,
)
from anjian.core.divisions.rules import tier_of
from anjian.core.mapgrid import BBox


@pytest.mark.parametrize(
    ("zoom", "depth"), [(0, 2), (4, 2), (5, 2), (6, 4), (7, 4), (8, 6), (12, 6), (20, 6)]
)
def test_the_zoom_chooses_the_tier(zoom: int, depth: int) -> None:
    assert depth_for_zoom(zoom) == depth


def _outline(code: str) -> Outline:
    return Outline(
        code, code, tier_of(code), (((0.0, 0.0), (1.0, 0.0), (0.0, 1.0)),), BBox(0, 0, 1, 1)
    )


def test_uneven_tiers_tile_without_overlap() -> None:
    """440000 with a city that has counties (440100) and one that has none (441900, 东莞);
    420000 with a directly administered county (429004, 仙桃); 110000 whose districts (110101)
    have no city above them."""
    codes = ["440000", "440100", "440106", "441900", "420000", "429004", "110000", "110101"]
    all_ = [_outline(c) for c in codes]

    def tiled(depth: int) -> list[str]:
        return [o.code for o in tile_at(all_, depth)]

    assert tiled(2) == ["110000", "420000", "440000"]
    assert tiled(4) == ["110101", "429004", "440100", "441900"]
    assert tiled(6) == ["110101", "429004", "440106", "441900"]


def test_the_packaged_outlines_are_known_divisions_around_their_seats() -> None:
    """Each outline's code and name are those of adcodes.csv, and the division's seat (its
    listed centroid) lies inside one of its rings for nearly all (the listed points are
    approximate); each county lies inside its province's box."""
    with (DATA.parent / "adcodes.csv").open(encoding="utf-8") as f:
        listed = {r["adcode"][:6]: r for r in csv.DictReader(f)}
    every = outlines()
    assert {o.tier.value for o in every.values()} == {"province", "city", "county"}
    assert sum(1 for o in every.values() if o.tier.value == "province") == 34

    def inside(point: tuple[float, float], ring: tuple[tuple[float, float], ...]) -> bool:
        x, y = point
        hit = False
        for (x1, y1), (x2, y2) in zip(ring, ring[1:] + ring[:1], strict=True):
            if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
                hit = not hit
        return hit

    missed, outside, astray = [], [], []
    for code, o in every.items():
        assert o.name == listed[code]["name"], code
        row = listed[code]
        if row["longitude"]:  # a few divisions are listed without a point
            seat = (float(row["longitude"]), float(row["latitude"]))
            if not any(inside(seat, ring) for ring in o.rings):
                missed.append(code)
        province = every.get(code[:2] + "0000")
        # simplification moves a boundary by a fraction of a kilometre (and drops islets)
        if province is not None and not province.bbox.meets(o.bbox):
            astray.append(code)
        elif province is not None:
            b, p = o.bbox, province.bbox
            grown = BBox(p.min_lng - 0.05, p.min_lat - 0.05, p.max_lng + 0.05, p.max_lat + 0.05)
            if not (
                grown.meets(BBox(b.min_lng, b.min_lat, b.min_lng, b.min_lat))
                and grown.meets(BBox(b.max_lng, b.max_lat, b.max_lng, b.max_lat))
            ):
                outside.append(code)
    assert astray == []
    assert len(outside) <= len(every) // 100, outside
    assert len(missed) <= len(every) // 100, missed[:20]


def test_a_scope_sees_its_own_and_never_above_it() -> None:
    shanxi = BBox(110, 34, 115, 41)
    assert [o.name for o in outlines_in(shanxi, 4, ["14"])] == ["山西省"]
    assert [o.code for o in outlines_in(shanxi, 4, ["140622"])] == ["140622"]
    counties = outlines_in(shanxi, 9, ["1406"])
    assert counties and all(
        o.code.startswith("1406") and o.tier.value == "county" for o in counties
    )
    nation = outlines_in(BBox(73, 18, 135, 54), 3, [""])
    assert len(nation) == 34 and all(o.tier.value == "province" for o in nation)
