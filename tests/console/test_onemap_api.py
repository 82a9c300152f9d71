"""The one map's API (一张图): a layer's features in a box, within the caller's scope; clusters
counted by the database fall in the same cells as the grid rule computes (PostgreSQL's and
SQLite's integer casts differ: both must floor), their counts add up to the total with a
breakdown by kind; bad requests are refused naming the field. Every domain's layer — major
hazard sources, open alarms and hidden hazards at their enterprises, accidents of a year,
emergency resources and events, the enterprises' worst risk level, the threat zones of events
in progress — keeps to the scope, narrows by its filters and refuses an unknown code."""

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
@pytest.mark.one_backend
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


# --- every layer: scope, filters, refusals, clusters ---------------------------------------------

YING, SHAN = (113.19, 39.55), (112.82, 39.52)  # the personas' enterprises (tests/samples.py)
POINT_LAYERS = (
    "major_hazards",
    "alarms",
    "hidden_hazards",
    "accidents",
    "emergency_resources",
    "emergency_events",
    "risk",
)
STAFF_LAYERS = {"emergency_resources", "emergency_events", "threat_zones", "divisions"}


def _put(node: Any, model: Any, enterprise: str | None = None, **columns: Any) -> int:
    """A record of ``model`` written as a sync would (no service: the tests choose the states
    and grades), of the personas' ``enterprise`` if given; returns its id."""
    from anjian.db import utcnow
    from anjian.enterprises.models import Enterprise

    with node.db() as s:
        if enterprise is not None:
            ent = s.get(Enterprise, node.enterprises[enterprise])
            columns = {
                "enterprise_id": ent.id,
                "division_code": ent.division_code,
                "supervision_category": ent.supervision_category,
                **columns,
            }
        if hasattr(model, "created_at"):
            columns.setdefault("created_at", utcnow())
        row = model(origin_node="test", **columns)
        s.add(row)
        s.flush()
        return int(row.id)


def _hazard(node: Any, enterprise: str, grade: str, state: str, **extra: Any) -> int:
    from anjian.db import utcnow
    from anjian.hidden_hazards.models import HiddenHazard

    return _put(
        node,
        HiddenHazard,
        enterprise,
        number=f"YH-{enterprise}-{grade}-{state}-{extra.pop('n', 0)}",
        place="主斜井",
        description="皮带机跑偏保护失效",
        category="site",
        grade=grade,
        source="self_check",
        found_by="qiye",
        found_at=utcnow(),
        state=state,
        **extra,
    )


def _risk_point(node: Any, enterprise: str, level: str) -> int:
    """A risk point put as a sync would: the record, then the entity's ``on_applied`` hook
    (the enterprise's worst level is derived at each node)."""
    from anjian.core.sync.registry import spec_of_model
    from anjian.db import utcnow
    from anjian.risk.models import RiskPoint

    point_id = _put(
        node,
        RiskPoint,
        enterprise,
        name=f"{level} 风险点",
        kind="area",
        method="LEC",
        factor_l=1,
        score=1,
        level=level,
        control_level="company",
        assessed_at=utcnow(),
    )
    hook = spec_of_model(RiskPoint).on_applied
    assert hook is not None
    with node.db() as s:
        hook(s, [s.get(RiskPoint, point_id).uid])
    return point_id


def _world(node: Any) -> dict[str, dict[str, int]]:
    """One record of each layer at 应县 (``ying``, the mine) and one at 山阴 (``shan``, the
    chemical plant), and records each layer leaves out (``out_*``)."""
    from datetime import UTC, datetime

    from anjian.accidents.models import Accident
    from anjian.core.clock import today_in_china
    from anjian.db import utcnow
    from anjian.emergency.models import EmergencyEvent, EmergencyResource
    from anjian.major_hazards.models import MajorHazardSource
    from anjian.monitoring.models import Alarm

    now = utcnow()

    def source(enterprise: str, grade: int | None) -> int:
        return _put(
            node,
            MajorHazardSource,
            enterprise,
            name=f"{enterprise} 储罐区",
            is_major=grade is not None,
            grade=grade,
            assessed_at=now,
            filing_state="filed" if grade == 1 else "unfiled",
        )

    def alarm(enterprise: str, level: int, state: str) -> int:
        return _put(
            node,
            Alarm,
            enterprise,
            kind="threshold",
            level=level,
            bound="hh",
            value=9.1,
            raised_at=now,
            state=state,
        )

    def accident(enterprise: str | None, grade: int, at: Any, **extra: Any) -> int:
        return _put(
            node,
            Accident,
            enterprise,
            occurred_at=at,
            known_at=at,
            reported_at=at,
            place="1201 工作面",
            accident_type="roof_fall",
            grade=grade,
            grade_criterion="deaths",
            reporter="李安全",
            deaths=1,
            **extra,
        )

    def resource(name: str, kind: str, division: str, lng: float, lat: float, **extra: Any) -> int:
        return _put(
            node,
            EmergencyResource,
            kind=kind,
            name=name,
            division_code=division,
            lng=lng,
            lat=lat,
            created_by="test",
            **extra,
        )

    def event(title: str, division: str, state: str, **extra: Any) -> int:
        return _put(
            node,
            EmergencyEvent,
            number=f"SJ-{title}",
            title=title,
            event_type="chemical_leak",
            division_code=division,
            state=state,
            source="call",
            received_at=now,
            created_by="test",
            **extra,
        )

    last_year = datetime(today_in_china().year - 1, 6, 15, tzinfo=UTC)
    for enterprise, level in (("ying_mine", "low"), ("ying_mine", "significant")):
        _risk_point(node, enterprise, level)
    _risk_point(node, "shan_chem", "major")
    return {
        "major_hazards": {
            "ying": source("ying_mine", 3),
            "shan": source("shan_chem", 1),
            "out_not_major": source("ying_mine", None),
        },
        "alarms": {
            "ying": alarm("ying_mine", 1, "raised"),
            "shan": alarm("shan_chem", 2, "acknowledged"),
            "out_closed": alarm("ying_mine", 1, "closed"),
        },
        "hidden_hazards": {
            "ying": _hazard(node, "ying_mine", "general", "found"),
            "shan": _hazard(node, "shan_chem", "major", "rectifying", overdue=True),
            "out_closed": _hazard(node, "ying_mine", "general", "closed"),
        },
        "accidents": {
            "ying": accident("ying_mine", 4, now, lng=113.25, lat=39.6, unit_name="金鼎煤业"),
            "shan": accident("shan_chem", 3, now),  # no place of its own: its enterprise's
            "out_last_year": accident("ying_mine", 4, last_year),
        },
        "emergency_resources": {
            "ying": resource("应县矿山救护队", "team", "140622", 113.2, 39.5),
            "shan": resource("山阴县避难场所", "shelter", "140621", 112.8, 39.5, status="deployed"),
        },
        "emergency_events": {
            "ying": event("应县泄漏", "140622", "active", level=2, lng=113.21, lat=39.56),
            "shan": event(
                "山阴泄漏", "140621", "active", enterprise_id=node.enterprises["shan_chem"]
            ),
            "out_closed": event("应县旧事件", "140622", "closed", level=4, lng=113.2, lat=39.5),
        },
        "risk": {"ying": node.enterprises["ying_mine"], "shan": node.enterprises["shan_chem"]},
    }


def _ids(answer: Any) -> set[int]:
    assert answer.status_code == 200, answer.text
    return {f["properties"]["id"] for f in answer.json()["features"]}


@pytest.fixture
def world(personas: Any) -> tuple[Any, dict[str, dict[str, int]]]:
    return personas, _world(personas)


def test_every_layer_keeps_to_the_callers_scope(world: Any) -> None:
    node, records = world
    layers = node.client.get(f"{API}/layers", headers=node.login("sheng")).json()
    assert [la["name"] for la in layers] == [
        "enterprises",
        "risk",
        "major_hazards",
        "alarms",
        "hidden_hazards",
        "accidents",
        "emergency_resources",
        "emergency_events",
        "threat_zones",
        "divisions",
    ]
    for_firm = node.client.get(f"{API}/layers", headers=node.login("qiye")).json()
    assert {la["name"] for la in for_firm} == {la["name"] for la in layers} - STAFF_LAYERS
    for name in POINT_LAYERS:
        ying, shan = records[name]["ying"], records[name]["shan"]
        assert _ids(_features(node, "sheng", layer=name)) == {ying, shan}, name
        assert _ids(_features(node, "yingxian", layer=name)) == {ying}, name
        assert _ids(_features(node, "shanyin", layer=name)) == {shan}, name
        firm = _features(node, "qiye", layer=name)
        if name in STAFF_LAYERS:
            assert firm.status_code == 403, name
        else:
            assert _ids(firm) == {ying}, name
    # the coal-mine bureau sees coal mines only, where a layer's records carry the category
    for name in ("major_hazards", "alarms", "hidden_hazards", "risk"):
        assert _ids(_features(node, "jianchaju", layer=name)) == {records[name]["ying"]}, name


def test_records_stand_at_their_place_or_their_enterprises(world: Any) -> None:
    node, records = world

    def at(layer: str, **params: Any) -> dict[int, Any]:
        answer = _features(node, "sheng", layer=layer, **params).json()
        assert answer["clustered"] is False
        return {f["properties"]["id"]: f for f in answer["features"]}

    sources = at("major_hazards")
    ying = sources[records["major_hazards"]["ying"]]
    assert ying["geometry"]["coordinates"] == list(YING)
    assert ying["properties"] | {"lines": None} == ying["properties"] | {
        "kind": "3",
        "kind_label": "三级",
        "colour": "#f59f00",
        "href": f"/major-hazards/{records['major_hazards']['ying']}",
        "enterprise": "应县金鼎煤业有限公司",
        "filing_state_label": "未备案",
        "lines": None,
    }
    assert ying["properties"]["lines"] == ["企业：应县金鼎煤业有限公司", "备案：未备案"]
    alarm = at("alarms")[records["alarms"]["shan"]]
    assert alarm["geometry"]["coordinates"] == list(SHAN)
    assert (alarm["properties"]["kind_label"], alarm["properties"]["colour"]) == (
        "预警",
        "#f76707",
    )
    assert "状态：已确认" in alarm["properties"]["lines"]
    hazard = at("hidden_hazards")[records["hidden_hazards"]["shan"]]
    assert hazard["properties"]["kind_label"] == "重大隐患"
    assert hazard["properties"]["href"] == f"/hazards/{records['hidden_hazards']['shan']}"
    accidents = at("accidents")
    assert accidents[records["accidents"]["ying"]]["geometry"]["coordinates"] == [113.25, 39.6]
    assert accidents[records["accidents"]["shan"]]["geometry"]["coordinates"] == list(SHAN)
    assert accidents[records["accidents"]["shan"]]["properties"]["kind_label"] == "较大"
    resource = at("emergency_resources")[records["emergency_resources"]["shan"]]
    rid = records["emergency_resources"]["shan"]
    assert resource["properties"]["href"] == f"/emergency/resources?kind=shelter#resource-{rid}"
    assert resource["properties"]["status_label"] == "执行任务中"
    events = at("emergency_events")
    assert events[records["emergency_events"]["shan"]]["geometry"]["coordinates"] == list(SHAN)
    assert events[records["emergency_events"]["shan"]]["properties"]["kind_label"] == "未定级"
    assert events[records["emergency_events"]["ying"]]["properties"]["kind"] == "2"
    # the enterprise at its worst risk point: 较大 (of 低 and 较大), 重大
    risk = at("risk")
    assert risk[records["risk"]["ying"]]["properties"]["kind"] == "significant"
    assert risk[records["risk"]["ying"]]["properties"]["points"] == 2
    assert risk[records["risk"]["shan"]]["properties"]["colour"] == "#d63939"


@pytest.mark.parametrize(
    ("layer", "params", "expected"),
    [
        ("enterprises", {"category": "hazardous_chemicals"}, ["shan"]),
        ("enterprises", {"status": "closed"}, []),
        ("major_hazards", {"grade": "1"}, ["shan"]),
        ("major_hazards", {"filing_state": "unfiled"}, ["ying"]),
        ("major_hazards", {"division": "140622"}, ["ying"]),
        ("alarms", {"level": "1"}, ["ying"]),
        ("alarms", {"state": "acknowledged"}, ["shan"]),
        ("alarms", {"kind": "status"}, []),
        ("hidden_hazards", {"grade": "major"}, ["shan"]),
        ("hidden_hazards", {"overdue": "true"}, ["shan"]),
        ("hidden_hazards", {"state": "found"}, ["ying"]),
        ("accidents", {"grade": "4"}, ["ying"]),
        ("accidents", {"year": "LAST"}, ["out_last_year"]),
        ("accidents", {"accident_type": "fire"}, []),
        ("emergency_resources", {"kind": "shelter"}, ["shan"]),
        ("emergency_resources", {"status": "available"}, ["ying"]),
        ("emergency_events", {"state": "closed"}, ["out_closed"]),
        ("emergency_events", {"state": "all"}, ["ying", "shan", "out_closed"]),
        ("emergency_events", {"level": "none"}, ["shan"]),
        ("risk", {"level": "major"}, ["shan"]),
        ("risk", {"category": "coal_mine"}, ["ying"]),
        ("risk", {"division": "140621"}, ["shan"]),
    ],
)
def test_each_layers_filters_narrow_it(
    world: Any, layer: str, params: dict[str, str], expected: list[str]
) -> None:
    from anjian.core.clock import today_in_china

    node, records = world
    if params.get("year") == "LAST":
        params = {"year": str(today_in_china().year - 1)}
    ids = records.get(layer) or {
        "ying": node.enterprises["ying_mine"],
        "shan": node.enterprises["shan_chem"],
    }
    assert _ids(_features(node, "sheng", layer=layer, **params)) == {ids[k] for k in expected}


@pytest.mark.parametrize(
    ("layer", "params", "field"),
    [
        ("enterprises", {"category": "nuclear"}, "category"),
        ("enterprises", {"status": "x"}, "status"),
        ("enterprises", {"division": "14"}, "division"),
        ("major_hazards", {"grade": "5"}, "grade"),
        ("major_hazards", {"filing_state": "lost"}, "filing_state"),
        ("alarms", {"level": "3"}, "level"),
        ("alarms", {"state": "closed"}, "state"),
        ("alarms", {"kind": "x"}, "kind"),
        ("hidden_hazards", {"grade": "huge"}, "grade"),
        ("hidden_hazards", {"state": "closed"}, "state"),
        ("hidden_hazards", {"overdue": "yes"}, "overdue"),
        ("accidents", {"year": "1900"}, "year"),
        ("accidents", {"year": "2o26"}, "year"),
        ("accidents", {"year": "9999"}, "year"),
        ("accidents", {"grade": "0"}, "grade"),
        ("accidents", {"report_kind": "rumour"}, "report_kind"),
        ("emergency_resources", {"kind": "tank"}, "kind"),
        ("emergency_resources", {"status": "lost"}, "status"),
        ("emergency_events", {"state": "over"}, "state"),
        ("emergency_events", {"level": "V"}, "level"),
        ("risk", {"level": "red"}, "level"),
        ("risk", {"category": "farm"}, "category"),
        ("threat_zones", {"division": "abc"}, "division"),
    ],
)
@pytest.mark.one_backend
def test_a_layers_unknown_filter_value_is_refused_naming_it(
    personas: Any, layer: str, params: dict[str, str], field: str
) -> None:
    r = _features(personas, "sheng", layer=layer, **params)
    assert r.status_code == 422, r.text
    assert r.json()["field"] == field, r.text


def test_joined_layers_cluster_in_the_database_and_add_up(node: Any) -> None:
    """Hidden hazards at their enterprises' places: clusters by the grid rule's cells, their
    counts and breakdowns adding up; the risk layer's worst levels in two statements however
    many enterprises (a GROUP BY, no loop)."""
    from sqlalchemy import event

    from anjian.core.audit.service import SYSTEM
    from anjian.core.map_features import collect
    from anjian.core.scope import Scope
    from anjian.enterprises.rules import compose_uscc
    from anjian.enterprises.schemas import EnterpriseCreate
    from anjian.enterprises.service import create_enterprise
    from anjian.hidden_hazards.map_layer import LAYER as HAZARDS
    from anjian.risk.map_layer import LAYER as RISK

    rng = random.Random(11)
    everything = Scope.for_division(None, "admin", ["000000"])
    placed: list[tuple[float, float, str]] = []
    levels = ["major", "significant", "general", "low"]
    worst: Counter[str] = Counter()
    with node.db() as s:
        for i in range(24):
            lng, lat = round(rng.uniform(112.0, 114.0), 3), round(rng.uniform(39.0, 40.4), 3)
            ent = create_enterprise(
                s,
                SYSTEM,
                everything,
                EnterpriseCreate(
                    uscc=compose_uscc("140622", f"MA0H{i:04d}"),
                    name=f"企业{i}",
                    division_code="140622",
                    supervision_category="other",
                    industry_code="C26",
                    lng=lng,
                    lat=lat,
                ),
            )
            node.enterprises[f"e{i}"] = ent.id
            placed.append((lng, lat, f"e{i}"))
    hazards = []
    for i, (lng, lat, key) in enumerate(placed):
        for n in range(i % 4 + 1):
            grade = "major" if (i + n) % 3 == 0 else "general"
            _hazard(node, key, grade, "registered", n=n)
            hazards.append((lng, lat, grade))
        mine = levels[i % 4 :]  # its worst level first
        for level in mine[:2]:
            _risk_point(node, key, level)
        worst[mine[0]] += 1
    box = BBox(112.0, 39.0, 114.0, 40.5)
    size = cell_size(9, box.mid_lat)
    with node.db() as s:
        answer = collect(s, HAZARDS, everything, box, 9, {}, max_features=5)
    assert answer["clustered"] is True and answer["total"] == len(hazards)
    expected = Counter(cell_of(lng, lat, size) for lng, lat, _ in hazards)
    got = {tuple(f["properties"]["cell"]): f["properties"]["count"] for f in answer["features"]}
    assert got == dict(expected)
    assert all(
        sum(f["properties"]["breakdown"].values()) == f["properties"]["count"]
        for f in answer["features"]
    )
    assert {x["kind"]: x["count"] for x in answer["legend"]} == dict(
        Counter(g for *_, g in hazards)
    )

    statements: list[str] = []

    def count(*args: Any) -> None:
        if args[2].lstrip().upper().startswith("SELECT"):  # not SQLite's BEGIN
            statements.append(args[2])

    event.listen(node.engine, "before_cursor_execute", count)
    try:
        with node.db() as s:
            single = collect(s, RISK, everything, box, 9, {})
            clustered = collect(s, RISK, everything, box, 9, {}, max_features=5)
    finally:
        event.remove(node.engine, "before_cursor_execute", count)
    # one statement for the single features (one more than may be drawn is asked for), two
    # when clustered (that probe, then the cells) — however many enterprises; the worst
    # levels are kept on the enterprises, so no answer reads the risk points themselves
    assert len(statements) == 3
    assert not any("FROM risk_points" in sql for sql in statements)
    assert single["total"] == clustered["total"] == len(placed)
    assert Counter(f["properties"]["kind"] for f in single["features"]) == worst
    assert sum(f["properties"]["count"] for f in clustered["features"]) == len(placed)
    assert {x["kind"]: x["count"] for x in clustered["legend"]} == dict(worst)


def test_threat_zones_are_the_polygons_of_events_in_progress(personas: Any) -> None:
    """The zones of the latest analysis of an event in progress, as polygons, to those who see
    the event, where they meet the box; none once the event is closed."""
    county = personas.login("yingxian")
    body = {"title": "液氯槽车泄漏", "event_type": "chemical_leak", "division_code": "140622"}
    r = personas.client.post(
        "/api/v1/emergency/events", headers=county, json={**body, "lng": 113.2, "lat": 39.5}
    )
    eid = r.json()["id"]
    release = {"release_g_s": 1000, "wind_speed_m_s": 3, "stability": "D", "wind_from_deg": 270}
    r = personas.client.post(
        f"/api/v1/emergency/events/{eid}/analysis",
        headers=county,
        json={**release, "thresholds_mg_m3": [10, 100]},
    )
    assert r.status_code == 200, r.text
    answer = _features(personas, "sheng", layer="threat_zones").json()
    assert answer["clustered"] is False and answer["total"] == 2
    shapes = answer["features"]
    assert [f["geometry"]["type"] for f in shapes] == ["Polygon", "Polygon"]
    # the widest (10 mg/m³, 二区) first, so the deadliest is drawn over it
    assert [f["properties"]["kind"] for f in shapes] == ["2", "1"]
    assert [f["properties"]["zone"] for f in shapes] == ["10 mg/m³", "100 mg/m³"]
    first = shapes[1]["properties"]
    assert first["href"] == f"/emergency/events/{eid}" and first["colour"] == "#d63939"
    assert first["name"] == "液氯槽车泄漏" and first["length_m"] == pytest.approx(554.4, rel=0.01)
    assert sum(x["count"] for x in answer["legend"]) == 2
    # a box east of the plume's reach (it blows east, 2.3 km at most): nothing
    assert (
        _features(personas, "sheng", layer="threat_zones", bbox="113.3,39.4,113.5,39.6").json()[
            "total"
        ]
        == 0
    )
    assert _features(personas, "yingxian", layer="threat_zones").json()["total"] == 2
    assert _features(personas, "shanyin", layer="threat_zones").json()["total"] == 0
    assert _features(personas, "qiye", layer="threat_zones").status_code == 403
    closed = personas.client.post(
        f"/api/v1/emergency/events/{eid}/close", headers=county, json={"review": "已处置完毕"}
    )
    assert closed.status_code == 200, closed.text
    assert _features(personas, "sheng", layer="threat_zones").json()["total"] == 0


def test_division_outlines_are_the_tier_the_zoom_shows_within_the_scope(personas: Any) -> None:
    """The outlines come from packaged data (no tiles, no network): provinces when the map
    shows the country, cities then counties as it zooms in; never above the caller's own
    jurisdiction, never outside it; MultiPolygons of [lng, lat] that a click opens."""
    china = "73,18,135,54"

    def names(who: str, zoom: int, bbox: str = china) -> list[str]:
        answer = _features(personas, who, layer="divisions", zoom=zoom, bbox=bbox).json()
        assert answer["clustered"] is False and answer["total"] == len(answer["features"])
        return [f["properties"]["name"] for f in answer["features"]]

    assert names("sheng", 4) == ["山西省"]  # the province official's own, not the country
    assert len(names("sheng", 7)) == 11  # 山西's eleven cities
    assert names("shuozhou", 4) == ["朔州市"]
    assert names("shuozhou", 9) == ["朔城区", "平鲁区", "山阴县", "应县", "右玉县", "怀仁市"]
    assert names("yingxian", 4) == ["应县"]  # a county official: the county at every zoom
    assert names("jianchaju", 12) == ["山阴县", "应县"]  # the bureau's two counties
    assert names("yingxian", 9, "100,20,101,21") == []  # elsewhere: nothing
    assert _features(personas, "qiye", layer="divisions").status_code == 403

    answer = _features(personas, "yingxian", layer="divisions", zoom=9).json()
    (county,) = answer["features"]
    p = county["properties"]
    assert p["id"] == p["code"] == "140622" and p["kind"] == "county"
    assert p["kind_label"] == "县级" and p["href"] == "/enterprises?division=140622"
    assert county["geometry"]["type"] == "MultiPolygon"
    ring = county["geometry"]["coordinates"][0][0]
    lngs, lats = [pt[0] for pt in ring], [pt[1] for pt in ring]
    # 应县 lies about 112.9–113.7 E, 39.2–39.8 N
    assert 112.7 < min(lngs) < max(lngs) < 113.9 and 39.0 < min(lats) < max(lats) < 40.0
