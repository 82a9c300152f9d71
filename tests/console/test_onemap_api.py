"""The one map's API (一张图): a layer's features in a box, within the caller's scope; clusters
counted by the database fall in the same cells as the grid rule computes (PostgreSQL's and
SQLite's integer casts differ: both must floor), their counts add up to the total with a
breakdown by kind; bad requests are refused naming the field."""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

import pytest

from anjian.core.mapgrid import BBox, cell_of, cell_size

API = "/api/v1/map"
SHUOZHOU = "112.0,39.0,114.0,40.5"


def _features(node: Any, who: str, **params: Any) -> Any:
    query = {"layer": "enterprises", "bbox": SHUOZHOU, "zoom": 9, **params}
    return node.client.get(f"{API}/features", headers=node.login(who), params=query)


def test_the_enterprises_layer_keeps_to_the_callers_scope(personas: Any) -> None:
    layers = personas.client.get(f"{API}/layers", headers=personas.login("sheng")).json()
    names = [layer["name"] for layer in layers]
    assert "enterprises" in names
    legend = next(la for la in layers if la["name"] == "enterprises")["legend"]
    assert {"kind": "coal_mine", "label": "煤矿"}.items() <= legend[0].items()

    seen = {
        who: sorted(f["properties"]["name"] for f in _features(personas, who).json()["features"])
        for who in ("sheng", "yingxian", "shanyin", "qiye", "jianchaju")
    }
    assert seen["sheng"] == ["山阴县晋北化工有限公司", "应县金鼎煤业有限公司"]
    assert seen["yingxian"] == ["应县金鼎煤业有限公司"]
    assert seen["shanyin"] == ["山阴县晋北化工有限公司"]
    assert seen["qiye"] == ["应县金鼎煤业有限公司"]  # an enterprise user: its own
    assert seen["jianchaju"] == ["应县金鼎煤业有限公司"]  # the coal-mine bureau: coal mines
    one = _features(personas, "sheng", category="coal_mine").json()
    assert one["total"] == 1 and one["clustered"] is False
    props = one["features"][0]["properties"]
    assert props["kind_label"] == "煤矿" and props["href"] == f"/enterprises/{props['id']}"
    assert one["features"][0]["geometry"]["coordinates"] == [113.19, 39.55]
    assert one["legend"] == [
        {"kind": "coal_mine", "label": "煤矿", "colour": props["colour"], "count": 1}
    ]
    # outside the box: nothing
    assert _features(personas, "sheng", bbox="100,20,101,21").json()["total"] == 0


def test_clusters_fall_in_the_grid_rules_cells(node: Any) -> None:
    from anjian.core.audit.service import SYSTEM
    from anjian.core.map_features import collect
    from anjian.core.scope import Scope
    from anjian.enterprises.map_layer import LAYER
    from anjian.enterprises.rules import compose_uscc
    from anjian.enterprises.schemas import EnterpriseCreate
    from anjian.enterprises.service import create_enterprise

    rng = random.Random(7)
    everything = Scope.for_division(None, "admin", ["000000"])
    kinds = ["coal_mine", "hazardous_chemicals", "fireworks"]
    placed = []
    with node.db() as s:
        for i in range(60):
            # points on both sides of cell borders, and some exactly on them
            lng = round(rng.uniform(112.0, 114.0), 2) if i % 5 else 112.5 + (i % 3) * 0.25
            lat = round(rng.uniform(39.0, 40.4), 2)
            kind = kinds[i % 3]
            create_enterprise(
                s,
                SYSTEM,
                everything,
                EnterpriseCreate(
                    uscc=compose_uscc("140622", f"MA0M{i:04d}"),
                    name=f"企业{i}",
                    division_code="140622",
                    supervision_category=kind,
                    industry_code="C26",
                    lng=lng,
                    lat=lat,
                ),
            )
            placed.append((lng, lat, kind))
    box = BBox(112.0, 39.0, 114.0, 40.5)
    with node.db() as s:
        answer = collect(s, LAYER, everything, box, 9, {}, max_features=10)
    assert answer["clustered"] is True and answer["total"] == 60
    size = cell_size(9, box.mid_lat)
    assert answer["cell_deg"] == pytest.approx(list(size))
    expected = Counter(cell_of(lng, lat, size) for lng, lat, _ in placed)
    got = {tuple(f["properties"]["cell"]): f["properties"]["count"] for f in answer["features"]}
    assert got == dict(expected)
    for f in answer["features"]:
        p = f["properties"]
        assert sum(p["breakdown"].values()) == p["count"]
        members = [
            (lng, lat) for lng, lat, _ in placed if cell_of(lng, lat, size) == tuple(p["cell"])
        ]
        centre = [sum(c) / len(members) for c in zip(*members, strict=True)]
        assert f["geometry"]["coordinates"] == pytest.approx(centre, abs=1e-6)
    assert {x["kind"]: x["count"] for x in answer["legend"]} == dict(
        Counter(kind for *_, kind in placed)
    )
    # a box far larger than the zoom's view gets coarser cells, never more than the cap
    with node.db() as s:
        wide = collect(s, LAYER, everything, BBox(-180, -90, 180, 90), 20, {}, max_features=10)
    assert wide["total"] == 60 and len(wide["features"]) <= 4000
    assert sum(f["properties"]["count"] for f in wide["features"]) == 60


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"layer": "nuclear"}, "layer"),
        ({"layer": "x" * 33}, "layer"),
        ({"bbox": "112,39,114"}, "bbox"),
        ({"bbox": "114,39,112,40"}, "bbox"),
        ({"bbox": "112,39,114,inf"}, "bbox"),
        ({"bbox": "112,39,114,40\x00"}, "bbox"),
        ({"zoom": 21}, "zoom"),
        ({"zoom": -1}, "zoom"),
        ({"zoom": 2**63}, "zoom"),
        ({"q": "煤" * 101}, "q"),
    ],
)
def test_bad_requests_are_refused_naming_the_field(
    personas: Any, params: dict[str, Any], field: str
) -> None:
    r = _features(personas, "sheng", **params)
    assert r.status_code == 422, r.text
    assert r.json()["field"] == field, r.text


def test_the_map_needs_a_login(personas: Any) -> None:
    r = personas.client.get(
        f"{API}/features", params={"layer": "enterprises", "bbox": SHUOZHOU, "zoom": 9}
    )
    assert r.status_code == 401
