"""``anjian demo`` loads emergency management (应急管理) at 应县, 朔州市 and 山西省: what the demo
users find through the API — resources of every kind in the county official's scope, the
nearest rescue team to the event in progress, plans filed and waiting, who is on duty now, and
a threat zone drawn from the plant keeping liquid chlorine that lists the school down the wind."""

from __future__ import annotations

import math
import re
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from anjian.core.clock import CST
from anjian.core.iam.models import User
from anjian.core.iam.service import current_totp
from anjian.demo import DEMO_PASSWORD
from anjian.emergency.models import EmergencyEvent, EmergencyResource
from anjian.emergency.rules.resources import KIND_LABELS

API = "/api/v1/emergency"
COUNTY = "140622"  # 应县


def _login(node, username: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    with node.db() as s:
        user = s.scalar(select(User).where(User.username == username))
        otp = current_totp(s, user) if user.mfa_enabled else None
    return node.login(username, DEMO_PASSWORD, otp)


def _get(node, path: str, headers: dict[str, str], **params: object):  # type: ignore[no-untyped-def]
    r = node.client.get(f"{API}{path}", params=params, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


def _active_event(node, headers: dict[str, str]) -> dict:  # type: ignore[no-untyped-def]
    events = _get(node, "/events", headers, state="active")["items"]
    assert len(events) == 1, events
    return _get(node, f"/events/{events[0]['id']}", headers)


def _console(node, username: str) -> None:  # type: ignore[no-untyped-def]
    """Log in to the console (password, then the one-time code) in the node's client."""
    node.client.cookies.clear()
    csrf = re.compile(r'name="csrf" value="([^"]+)"')
    form = node.client.get("/login").text
    first = node.client.post(
        "/login",
        data={"username": username, "password": DEMO_PASSWORD, "csrf": csrf.search(form)[1]},
        follow_redirects=False,
    )
    with node.db() as s:
        otp = current_totp(s, s.scalar(select(User).where(User.username == username)))
    done = node.client.post(
        "/login",
        data={"step": "otp", "otp": otp, "csrf": csrf.search(first.text)[1]},
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text


def _bearing(lng1: float, lat1: float, lng2: float, lat2: float) -> float:
    """Degrees from north of the second point seen from the first (flat: a few km)."""
    east = (lng2 - lng1) * math.cos(math.radians(lat1))
    return math.degrees(math.atan2(east, lat2 - lat1)) % 360


def test_the_county_official_finds_resources_of_every_kind(demo) -> None:
    flat = "".join(demo.output.split())
    with demo.db() as s:
        resources = s.scalar(select(func.count()).select_from(EmergencyResource))
        events = s.scalar(select(func.count()).select_from(EmergencyEvent))
    assert f"应急资源{resources}" in flat and f"突发事件{events}" in flat  # the banner
    assert re.search(r"应急预案\d+·应急演练\d+·值班班次\d+·防护目标\d+", flat), flat

    ying = _login(demo, "yingxian")
    by_kind = {}
    for kind in KIND_LABELS:
        page = _get(demo, "/resources", ying, kind=kind, size=100)
        assert page["total"] >= 1, kind
        by_kind[kind] = page["items"]
        for item in page["items"]:
            assert item["division_code"] == COUNTY, item
            assert item["lng"] and item["lat"] and item["contact_name"], item
            assert "*" in item["contact_phone"], item  # masked; SM4 in the database
    teams = by_kind["team"]
    kinds_of_team = {t["specialty"].split("：")[0] for t in teams}
    assert {"专业队伍", "企业专职队", "社会应急力量"} <= kinds_of_team, kinds_of_team
    assert all(t["headcount"] and t["specialty"] for t in teams)
    assert any(t["enterprise_id"] for t in teams)  # an enterprise's own team, in the county
    assert all(s["capacity"] for s in by_kind["shelter"])
    today = datetime.now(CST).date()
    supplies = [x for w in by_kind["warehouse"] for x in w["supplies"]]
    assert len(supplies) >= 6
    soon = [
        x
        for x in supplies
        if x["expires_on"] and date.fromisoformat(x["expires_on"]) < today + timedelta(days=31)
    ]
    assert soon and not any(x["expired"] for x in supplies)  # one near its expiry, none past

    # the city and the province see theirs too, and the county's
    city = _get(demo, "/resources", _login(demo, "shuozhou"), size=100)
    assert {r["division_code"] for r in city["items"]} >= {COUNTY, "140600"}
    province = _get(demo, "/resources", _login(demo, "sheng"), kind="team", size=100)
    assert any(r["division_code"] not in (COUNTY, "140600") for r in province["items"])

    # 就近调度: the nearest team to the event in progress is the plant's own, already called
    event = _active_event(demo, ying)
    near = _get(demo, "/resources/nearest", ying, lng=event["lng"], lat=event["lat"], kind="team")
    items = near["items"]
    assert items[0]["resource"]["enterprise_id"] == event["enterprise_id"]
    assert items[0]["distance_km"] < 0.5
    assert [i["distance_km"] for i in items] == sorted(i["distance_km"] for i in items)
    called = {d["resource_name"] for d in event["dispatches"]}
    assert items[0]["resource"]["name"] in called
    assert items[0]["available"] is False  # 执行任务中


def test_the_county_follows_its_events_plans_and_duty(demo) -> None:
    ying = _login(demo, "yingxian")
    event = _active_event(demo, ying)
    assert event["level"] == 4 and event["event_type"] == "chemical_leak"
    assert "液氯" in event["title"] and event["division_code"] == COUNTY
    assert event["commander"] and event["site_commander"] and event["groups"]
    assert event["tasks"] and any(t["state"] == "done" for t in event["tasks"])
    assert not any(t["overdue"] for t in event["tasks"])
    assert {d["state"] for d in event["dispatches"]} == {"arrived"}
    kinds = [x["kind"] for x in event["timeline"]]
    assert kinds[0] == "receipt" and "report" in kinds and "command" in kinds  # 续报
    times = [x["at"] for x in event["timeline"]]
    assert times == sorted(times)
    now = datetime.now(CST)
    assert all(datetime.fromisoformat(t) <= now for t in times)

    closed = _get(demo, "/events", ying, state="closed")["items"]
    assert len(closed) == 1
    done = _get(demo, f"/events/{closed[0]['id']}", ying)
    assert done["review"].startswith("总结评估") and done["closed_at"] > done["received_at"]
    assert {d["state"] for d in done["dispatches"]} == {"released"}

    # the duty desk took both calls and passed them on to the city in time
    receipts = _get(demo, "/duty/receipts", ying)["items"]
    assert len(receipts) == 2
    assert all(r["passed_to"] and not r["overdue"] for r in receipts)

    # plans: the county's own in force, enterprise plans filed, awaiting review and to file
    plans = _get(demo, "/plans", ying)["items"]
    states = [p["filing_state"] for p in plans]
    assert {"not_required", "filed", "submitted", "draft"} <= set(states), states
    assert states[0] == "submitted"  # waiting for the county's review first
    filed = next(p for p in plans if p["filing_state"] == "filed")
    assert filed["filing_number"].startswith(f"{COUNTY}-") and filed["last_drill_on"]
    overall = next(p for p in plans if p["category"] == "overall" and not p["enterprise_id"])
    assert len(overall["response_levels"]) == 4 and overall["roles"] and overall["resources"]
    assert any(p["revision_status"] == "due_soon" for p in plans)
    drills = _get(demo, "/drills", ying)["items"]
    assert {d["state"] for d in drills} == {"planned", "evaluated"}
    assert _get(demo, "/plans/statistics", ying)["drills"]  # the figures have something

    # who is on duty now, by name, at the county and the city
    with demo.db() as s:
        names = dict(s.execute(select(User.username, User.display_name)).all())
    on_duty = _get(demo, "/duty/now", ying)
    assert on_duty["shift"] is not None, on_duty["message"]
    assert on_duty["shift"]["leader"] and on_duty["shift"]["officers"]
    assert on_duty["shift"]["duty_phone"]
    week = _get(demo, "/duty/shifts", ying, division=COUNTY)["items"]
    ends = max(datetime.fromisoformat(x["ends_at"]) for x in week)
    assert ends - now > timedelta(days=6)  # rostered a week ahead
    assert any(names["yingxian"] in x["officers"] for x in week)
    city = _get(demo, "/duty/now", _login(demo, "shuozhou"))
    assert city["shift"] is not None and city["shift"]["leader"]

    # the enterprise user sees only its own: its plan under review and the event at its mine
    qiye = _login(demo, "qiye")
    own = _get(demo, "/plans", qiye)["items"]
    assert [p["filing_state"] for p in own] == ["submitted"]
    assert [e["state"] for e in _get(demo, "/events", qiye)["items"]] == ["closed"]


def test_a_threat_zone_from_the_chlorine_plant_lists_the_school(demo) -> None:
    ying = _login(demo, "yingxian")
    event = _active_event(demo, ying)
    source = (event["lng"], event["lat"])
    targets = _get(demo, "/targets", ying, size=100)["items"]
    assert {t["kind"] for t in targets} >= {"school", "hospital", "nursing_home", "residential"}
    assert all(t["population"] for t in targets)
    school = min(
        (t for t in targets if t["kind"] == "school"),
        key=lambda t: math.hypot(t["lng"] - source[0], t["lat"] - source[1]),
    )
    # the wind blows from the plant towards the school
    wind_from = (_bearing(*source, school["lng"], school["lat"]) + 180) % 360
    r = demo.client.post(
        f"{API}/dispersion",
        json={
            "release_g_s": 500,
            "wind_speed_m_s": 2,
            "stability": "D",
            "lng": source[0],
            "lat": source[1],
            "wind_from_deg": wind_from,
            "chemical": "液氯",
        },
        headers=ying,
    )
    assert r.status_code == 200, r.text
    zones = r.json()["zones"]["features"]
    listed = {t["name"]: t for z in zones for t in z["properties"]["targets"]}
    assert school["name"] in listed and listed[school["name"]]["distance_m"] < 1500
    kinds = {t["kind"] for t in listed.values()}
    assert {"school", "hospital", "nursing_home", "residential"} <= kinds, kinds
    widest = zones[-1]["properties"]
    assert widest["population_total"] >= sum(t["population"] or 0 for t in listed.values())


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_demo_loaded_before_emergency_management_gets_it_once(personas) -> None:
    """What ``anjian demo`` does on a rerun over a demo with no emergency data yet (here the
    personas' 应县, whose only enterprise is a coal mine: the event in progress is a fire)."""
    from anjian.demo.emergency import load_emergency

    with personas.db() as s:
        official = s.get(User, personas.users["yingxian"])
        made = load_emergency(s, official, personas.enterprises["ying_mine"], seed=1)
    with personas.db() as s:
        official = s.get(User, personas.users["yingxian"])
        assert load_emergency(s, official, personas.enterprises["ying_mine"], seed=1) == 0
        kinds = set(s.scalars(select(EmergencyResource.kind)))
        events = s.scalars(select(EmergencyEvent).order_by(EmergencyEvent.id)).all()
    assert made > 30 and kinds == set(KIND_LABELS)
    assert [e.state for e in events] == ["active", "closed"]
    assert events[0].event_type == "fire_explosion" and events[1].event_type == "mine"


def test_the_emergency_pages_are_not_empty_for_a_newcomer(demo) -> None:
    """The console's 应急管理 pages of the county official show the demo's records."""
    _console(demo, "yingxian")  # the session cookie reads the API too (the code is used once)
    ying: dict[str, str] = {}
    event = _active_event(demo, ying)
    plan = _get(demo, "/plans", ying, category="overall")["items"][0]
    leader = _get(demo, "/duty/now", ying)["shift"]["leader"]
    school = _get(demo, "/targets", ying, kind="school")["items"][0]
    team = _get(demo, "/resources", ying, kind="team")["items"][0]
    for path, shown in (
        ("/emergency/events", event["title"]),
        (f"/emergency/events/{event['id']}", event["dispatches"][0]["resource_name"]),
        ("/emergency/resources", team["name"]),
        ("/emergency/plans", plan["title"]),
        ("/emergency/duty", leader),
        ("/emergency/targets", school["name"]),
    ):
        page = demo.client.get(path)
        assert page.status_code == 200, (path, page.text[:300])
        assert shown in page.text, (path, shown)
