"""Duty (值班值守) through the API: the roster without overlap and who is on duty now; 接报 in
one step from a call, a monitoring alarm, an accident quick report (each opening an event with
the receipt's time, each origin received once) and from below (an event kept by a lower node:
no new event, a line on its timeline); 转报 with the minutes it took; the inbox; handovers with
the open items taken by the server. Audited, scoped (a sibling county sees and receives nothing
of 应县's; an enterprise user is refused), bad input refused naming the field."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import update

from anjian.config import get_settings
from anjian.emergency.models import EmergencyEvent
from anjian.monitoring.models import Alarm
from samples import recent_accident

API = "/api/v1/emergency"
DUTY = f"{API}/duty"
COUNTY = "140622"
LOWER_NODE = "node-140622"


@pytest.fixture
def county(personas: Any) -> Any:
    personas.headers = personas.login("yingxian")
    return personas


def _call(
    node: Any,
    method: str,
    path: str,
    body: Any = None,
    headers: Any = None,
    params: dict[str, Any] | None = None,
) -> Any:
    return node.client.request(
        method, path, headers=headers or node.headers, json=body, params=params
    )


def _iso(value: datetime) -> str:
    return value.isoformat()


def _now() -> datetime:
    return datetime.now(UTC)


def _shift(node: Any, start: datetime, hours: float = 24, headers: Any = None, **body: Any) -> Any:
    data = {
        "division_code": COUNTY,
        "starts_at": _iso(start),
        "ends_at": _iso(start + timedelta(hours=hours)),
        "leader": "张局长",
        "officers": ["李值班", "王值班"],
        "duty_phone": "0349-5021234",
        **body,
    }
    return _call(node, "POST", f"{DUTY}/shifts", data, headers)


def _phone_call(node: Any, headers: Any = None, **body: Any) -> Any:
    data = {
        "caller": "金鼎煤业调度室 王某",
        "content": "1201 工作面透水，5 人被困",
        "title": "应县金鼎煤业 1201 工作面透水",
        "event_type": "mine",
        "division_code": COUNTY,
        "place": "1201 工作面",
        "level": 4,
        **body,
    }
    return _call(node, "POST", f"{DUTY}/receipts", data, headers)


def _alarm(node: Any, level: int = 1, state: str = "raised", code: str = "CH4-1201") -> int:
    """A point of the 应县 mine and an open alarm of it; returns the alarm's id."""
    [point_id] = node.add_points(
        "ying_mine",
        {"code": code, "name": "1201 甲烷", "kind": "ch4", "h": 1.0, "hh": 1.5, "location": "1201"},
    )
    with node.db() as s:
        alarm = Alarm(
            enterprise_id=node.enterprises["ying_mine"],
            division_code=COUNTY,
            supervision_category="coal_mine",
            point_id=point_id,
            kind="threshold",
            level=level,
            bound="hh" if level == 1 else "h",
            threshold=1.5,
            trigger_threshold=1.5,
            value=1.8,
            peak=1.8,
            raised_at=_now() - timedelta(minutes=5),
            state=state,
            origin_node=get_settings().effective_node_id,
        )
        s.add(alarm)
        s.flush()
        return alarm.id


def _accident(node: Any, headers: Any) -> dict[str, Any]:
    r = node.client.post(
        "/api/v1/accidents", json=recent_accident(node, "13698765432"), headers=headers
    )
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


def _from_below(node: Any, headers: Any) -> dict[str, Any]:
    """An event as if received from the 应县 node below: made here, then given that origin."""
    r = _call(
        node,
        "POST",
        f"{API}/events",
        {"title": "应县某煤矿瓦斯超限", "event_type": "mine", "division_code": COUNTY, "level": 4},
        headers,
    )
    assert r.status_code == 201, r.text
    with node.db() as s:
        s.execute(
            update(EmergencyEvent)
            .where(EmergencyEvent.id == r.json()["id"])
            .values(origin_node=LOWER_NODE)
        )
    return r.json()  # type: ignore[no-any-return]


def _event(node: Any, event_id: int, headers: Any = None) -> dict[str, Any]:
    r = _call(node, "GET", f"{API}/events/{event_id}", headers=headers)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


# --- roster ------------------------------------------------------------------------------------


def test_a_roster_without_overlap_and_who_is_on_duty_now(county: Any) -> None:
    empty = _call(county, "GET", f"{DUTY}/now").json()
    assert empty["shift"] is None and "当前没有排班" in empty["message"]
    assert empty["division_name"] == "应县"

    start = _now() - timedelta(hours=2)
    r = _shift(county, start, hours=12)
    assert r.status_code == 201, r.text
    shift = r.json()
    assert shift["officers"] == ["李值班", "王值班"] and shift["duty_phone"] == "03495021234"
    assert shift["on_duty"] is True and shift["division_name"] == "应县"
    now = _call(county, "GET", f"{DUTY}/now?division={COUNTY}").json()
    assert now["shift"]["leader"] == "张局长" and now["message"] == ""

    # the next shift starts as this one ends: a handover, no overlap
    nxt = _shift(county, start + timedelta(hours=12), hours=12, leader="赵局长")
    assert nxt.status_code == 201, nxt.text
    clash = _shift(county, start + timedelta(hours=11), hours=2, leader="钱局长")
    assert clash.status_code == 409 and clash.json()["field"] == "starts_at"
    assert "张局长" in clash.json()["detail"]
    # another desk may be on duty at the same time
    assert _shift(county, start, hours=12, division_code="140621").status_code == 403
    city = county.login("shuozhou")
    assert _shift(county, start, hours=12, headers=city, division_code="140600").status_code == 201

    window = {"from": _iso(start), "to": _iso(start + timedelta(days=1))}
    listed = _call(county, "GET", f"{DUTY}/shifts", params=window).json()
    assert [s["leader"] for s in listed["items"]] == ["张局长", "赵局长"]
    assert _call(county, "GET", f"{DUTY}/shifts", headers=city).json()["total"] == 3

    # only a shift not yet started may be removed
    started = _call(county, "DELETE", f"{DUTY}/shifts/{shift['id']}")
    assert started.status_code == 409 and started.json()["field"] == "starts_at"
    gone = _call(county, "DELETE", f"{DUTY}/shifts/{nxt.json()['id']}")
    assert gone.status_code == 200
    assert _call(county, "DELETE", f"{DUTY}/shifts/{nxt.json()['id']}").status_code == 404
    assert _call(county, "GET", f"{DUTY}/shifts").json()["total"] == 1
    actions = [a.action for a in county.audits("emergency.duty.%")]
    assert actions.count("emergency.duty.shift") == 3
    assert actions.count("emergency.duty.shift_delete") == 1
    [deleted] = county.audits("emergency.duty.shift_delete")
    assert deleted.object_type == "emergency_duty_shift" and deleted.division_code == COUNTY


# --- 接报 --------------------------------------------------------------------------------------


def test_a_call_becomes_an_event_in_one_step(county: Any) -> None:
    received = _now() - timedelta(minutes=40)
    r = _phone_call(county, received_at=_iso(received))
    assert r.status_code == 201, r.text
    rec = r.json()
    assert rec["source"] == "call" and rec["source_label"] == "电话接报"
    assert rec["division_name"] == "应县" and rec["logged_by"] == "yingxian"
    assert rec["passed_on"] is False and rec["elapsed_minutes"] >= 40 and rec["overdue"] is True
    assert rec["limit_minutes"] == 30
    ev = _event(county, rec["event"]["id"])
    assert ev["uid"] == rec["event_uid"] and ev["source"] == "call"
    assert ev["source_ref"] == rec["uid"]  # the event names the receipt it came from
    assert ev["received_at"][:19] == rec["received_at"][:19]
    assert ev["reporter"] == "金鼎煤业调度室 王某" and ev["summary"] == "1201 工作面透水，5 人被困"
    assert ev["timeline"][0]["kind"] == "receipt"

    # 转报: not before the receipt, not in the future, once
    rid = rec["id"]
    for body in (
        {"passed_to": "张局长", "passed_on_at": _iso(received - timedelta(minutes=1))},
        {"passed_to": "张局长", "passed_on_at": _iso(_now() + timedelta(hours=1))},
    ):
        bad = _call(county, "PATCH", f"{DUTY}/receipts/{rid}", body)
        assert bad.status_code == 422 and bad.json()["field"] == "passed_on_at", bad.text
    passed = received + timedelta(minutes=12)
    r = _call(
        county,
        "PATCH",
        f"{DUTY}/receipts/{rid}",
        {"passed_to": "张局长（带班领导）", "passed_on_at": _iso(passed)},
    )
    assert r.status_code == 200, r.text
    done = r.json()
    assert done["passed_on"] is True and done["elapsed_minutes"] == 12 and done["overdue"] is False
    again = _call(county, "PATCH", f"{DUTY}/receipts/{rid}", {"passed_to": "县长"})
    assert again.status_code == 409 and again.json()["field"] == "passed_on_at"
    timeline = _event(county, rec["event"]["id"])["timeline"]
    assert "应县值班室转报张局长（带班领导）（接报后 12 分钟）" in timeline[-1]["text"]

    one = _call(county, "GET", f"{DUTY}/receipts/{rid}").json()
    assert one["passed_to"] == "张局长（带班领导）" and one["event"]["number"] == ev["number"]
    actions = {a.action for a in county.audits("emergency.%")}
    assert {"emergency.event.create", "emergency.duty.receipt", "emergency.duty.passed_on"} <= (
        actions
    )
    [audit] = county.audits("emergency.duty.passed_on")
    assert audit.detail["elapsed_minutes"] == 12 and audit.detail["overdue"] is False


def test_a_call_logged_without_an_event(county: Any) -> None:
    r = _call(
        county,
        "POST",
        f"{DUTY}/receipts",
        {
            "caller": "市民",
            "content": "咨询安全生产举报电话",
            "open_event": False,
            "source": "other",
        },
    )
    assert r.status_code == 201, r.text
    assert r.json()["event_uid"] is None and r.json()["event"] is None
    assert _call(county, "GET", f"{API}/events").json()["total"] == 0
    # with an event: its title and type are needed
    r = _call(county, "POST", f"{DUTY}/receipts", {"content": "有事故"})
    assert r.status_code == 422 and r.json()["field"] == "title"
    r = _call(county, "POST", f"{DUTY}/receipts", {"content": "有事故", "title": "某事故"})
    assert r.status_code == 422 and r.json()["field"] == "event_type"
    assert _call(county, "GET", f"{DUTY}/receipts").json()["total"] == 1


def test_an_alarm_is_received_once(county: Any) -> None:
    alarm_id = _alarm(county)
    inbox = _call(county, "GET", f"{DUTY}/inbox").json()
    assert [a["id"] for a in inbox["alarms"]] == [alarm_id]
    assert inbox["alarms"][0]["title"] == "应县金鼎煤业有限公司 1201 甲烷 高高报警（严重）"

    r = _call(county, "POST", f"{DUTY}/receipts/from-alarm/{alarm_id}")  # no body: one click
    assert r.status_code == 201, r.text
    rec = r.json()
    assert rec["source"] == "alarm" and rec["caller"] == "应县金鼎煤业有限公司"
    assert "触发值 1.8%CH4" in rec["content"] and "设定值 1.5%CH4" in rec["content"]
    ev = _event(county, rec["event"]["id"])
    assert ev["title"] == "应县金鼎煤业有限公司 1201 甲烷 高高报警（严重）"
    assert ev["source"] == "alarm" and ev["event_type"] == "mine"
    assert ev["enterprise_id"] == county.enterprises["ying_mine"] and "1201" in ev["place"]
    with county.db() as s:
        alarm_uid = s.get(Alarm, alarm_id).uid
    assert ev["source_ref"] == rec["source_ref"] == alarm_uid
    assert ev["received_at"][:19] == rec["received_at"][:19]

    twice = _call(county, "POST", f"{DUTY}/receipts/from-alarm/{alarm_id}", {"level": 3})
    assert twice.status_code == 409 and twice.json()["field"] == "alarm_id"
    assert "应县值班室接报" in twice.json()["detail"]
    # the city desk above sees it as received too
    city = county.login("shuozhou")
    assert _call(county, "GET", f"{DUTY}/inbox", headers=city).json()["alarms"] == []
    r = _call(county, "POST", f"{DUTY}/receipts/from-alarm/{alarm_id}", headers=city)
    assert r.status_code == 409
    assert _call(county, "GET", f"{DUTY}/inbox").json()["alarms"] == []
    assert _call(county, "POST", f"{DUTY}/receipts/from-alarm/999999").status_code == 404


def test_the_inbox_puts_severe_alarms_first_and_leaves_closed_ones_out(county: Any) -> None:
    warn = _alarm(county, level=2, code="CH4-A")
    severe = _alarm(county, level=1, code="CH4-B")
    _alarm(county, level=1, state="closed", code="CH4-C")
    alarms = _call(county, "GET", f"{DUTY}/inbox").json()["alarms"]
    assert [a["id"] for a in alarms] == [severe, warn]
    assert alarms[1]["title"].endswith("高报警（预警）")


def test_an_accident_quick_report_is_received_once(county: Any) -> None:
    acc = _accident(county, county.headers)
    inbox = _call(county, "GET", f"{DUTY}/inbox").json()
    [waiting] = inbox["accidents"]
    assert waiting["id"] == acc["id"] and waiting["casualties"] == "死亡 1 人"
    assert waiting["title"] == "应县金鼎煤业有限公司冒顶片帮事故"

    r = _call(county, "POST", f"{DUTY}/receipts/from-accident/{acc['id']}", {"level": 4})
    assert r.status_code == 201, r.text
    rec = r.json()
    assert rec["source"] == "accident" and rec["source_ref"] == acc["uid"]
    assert "死亡 1 人" in rec["content"] and "张报告" in rec["caller"]
    assert "13698765432" not in rec["content"] + rec["caller"]  # the reporter's phone stays out
    ev = _event(county, rec["event"]["id"])
    assert ev["event_type"] == "production_accident" and ev["level"] == 4
    assert ev["place"] == "应县金鼎煤业 1201 工作面" and ev["reporter"] == "张报告"
    assert ev["enterprise_id"] == county.enterprises["ying_mine"]
    assert ev["title"] == "应县金鼎煤业有限公司冒顶片帮事故"
    twice = _call(county, "POST", f"{DUTY}/receipts/from-accident/{acc['id']}")
    assert twice.status_code == 409 and twice.json()["field"] == "accident_id"
    assert _call(county, "GET", f"{DUTY}/inbox").json()["accidents"] == []
    assert _call(county, "GET", f"{API}/events").json()["total"] == 1


def test_a_report_from_below_is_logged_on_its_event(county: Any) -> None:
    city = county.login("shuozhou")
    below = _from_below(county, county.headers)
    [waiting] = _call(county, "GET", f"{DUTY}/inbox", headers=city).json()["events"]
    assert waiting["id"] == below["id"] and waiting["origin_node"] == LOWER_NODE

    r = _call(
        county,
        "POST",
        f"{DUTY}/receipts/from-event/{below['id']}",
        {"content": "县局电话报告"},
        headers=city,
    )
    assert r.status_code == 201, r.text
    rec = r.json()
    assert rec["source"] == "report_below" and rec["event_uid"] == below["uid"]
    assert rec["division_name"] == "朔州市" and rec["caller"].startswith("应县")
    assert below["number"] in rec["content"] and "县局电话报告" in rec["content"]
    ev = _event(county, below["id"], headers=city)
    assert (
        ev["timeline"][-1]["text"] == "朔州市值班室接报" and ev["timeline"][-1]["by"] == "shuozhou"
    )
    assert _call(county, "GET", f"{API}/events", headers=city).json()["total"] == 1  # no new one
    twice = _call(county, "POST", f"{DUTY}/receipts/from-event/{below['id']}", headers=city)
    assert twice.status_code == 409 and twice.json()["field"] == "event_id"
    assert _call(county, "GET", f"{DUTY}/inbox", headers=city).json()["events"] == []
    # the entry was made here and is queued to travel up
    with county.db() as s:
        from anjian.emergency.models import EventEntry

        entry = s.query(EventEntry).filter(EventEntry.text == "朔州市值班室接报").one()
        assert entry.origin_node == get_settings().effective_node_id and entry.version == 1

    # an event this node keeps is no report from below
    own = _call(
        county,
        "POST",
        f"{API}/events",
        {"title": "本级事件", "event_type": "other", "division_code": COUNTY},
    ).json()
    r = _call(county, "POST", f"{DUTY}/receipts/from-event/{own['id']}")
    assert r.status_code == 409 and r.json()["field"] == "event_id"
    assert "不是下级报告" in r.json()["detail"]


def test_the_inbox_lists_receipts_not_passed_on_oldest_first(county: Any) -> None:
    older = _phone_call(county, received_at=_iso(_now() - timedelta(minutes=50))).json()
    newer = _phone_call(county, title="另一起事件").json()
    waiting = _call(county, "GET", f"{DUTY}/inbox").json()["receipts"]
    assert [w["id"] for w in waiting] == [older["id"], newer["id"]]
    assert [w["overdue"] for w in waiting] == [True, False]
    _call(county, "PATCH", f"{DUTY}/receipts/{older['id']}", {"passed_to": "张局长"})
    waiting = _call(county, "GET", f"{DUTY}/inbox").json()["receipts"]
    assert [w["id"] for w in waiting] == [newer["id"]]
    listed = _call(county, "GET", f"{DUTY}/receipts?passed_on=false").json()
    assert [i["id"] for i in listed["items"]] == [newer["id"]]
    listed = _call(county, "GET", f"{DUTY}/receipts?source=call&division=140622").json()
    assert listed["total"] == 2 and listed["items"][0]["id"] == newer["id"]
    since = {"from": _iso(_now() - timedelta(minutes=10))}
    assert _call(county, "GET", f"{DUTY}/receipts", params=since).json()["total"] == 1


# --- handovers ---------------------------------------------------------------------------------


def test_a_handover_keeps_what_was_open(county: Any) -> None:
    shift = _shift(county, _now() - timedelta(hours=1)).json()
    rec = _phone_call(county).json()
    logged = _call(
        county,
        "POST",
        f"{DUTY}/receipts",
        {"caller": "某人", "content": "咨询", "open_event": False},
    ).json()
    _call(county, "PATCH", f"{DUTY}/receipts/{logged['id']}", {"passed_to": "张局长"})
    r = _call(
        county,
        "POST",
        f"{DUTY}/handovers",
        {"shift_id": shift["id"], "handed_by": "李值班", "taken_by": "赵值班", "notes": "注意透水"},
    )
    assert r.status_code == 201, r.text
    h = r.json()
    assert h["shift_uid"] == shift["uid"] and h["division_name"] == "应县"
    [open_event] = h["open_items"]["events"]
    assert open_event["number"] == rec["event"]["number"] and open_event["level"] == 4
    assert [x["uid"] for x in h["open_items"]["receipts"]] == [rec["uid"]]
    listed = _call(county, "GET", f"{DUTY}/handovers").json()
    assert listed["total"] == 1 and listed["items"][0]["notes"] == "注意透水"
    [audit] = county.audits("emergency.duty.handover")
    assert audit.detail == {
        "handed_by": "李值班",
        "taken_by": "赵值班",
        "open_events": 1,
        "open_receipts": 1,
    }
    bad = _call(
        county,
        "POST",
        f"{DUTY}/handovers",
        {"handed_by": "甲", "taken_by": "乙", "at": _iso(_now() + timedelta(hours=1))},
    )
    assert bad.status_code == 422 and bad.json()["field"] == "at"
    city = county.login("shuozhou")
    other = _call(
        county,
        "POST",
        f"{DUTY}/handovers",
        {"shift_id": shift["id"], "handed_by": "甲", "taken_by": "乙"},
        headers=city,
    )
    assert other.status_code == 422 and other.json()["field"] == "shift_id"  # 应县's shift


# --- scope -------------------------------------------------------------------------------------


def test_a_sibling_county_sees_and_receives_nothing_of_another(county: Any) -> None:
    shift = _shift(county, _now() + timedelta(days=1)).json()
    rec = _phone_call(county).json()
    alarm_id = _alarm(county)
    acc = _accident(county, county.headers)
    below = _from_below(county, county.headers)
    sibling = county.login("shanyin")
    for path in (
        f"{DUTY}/receipts/from-alarm/{alarm_id}",
        f"{DUTY}/receipts/from-accident/{acc['id']}",
        f"{DUTY}/receipts/from-event/{below['id']}",
    ):
        assert _call(county, "POST", path, headers=sibling).status_code == 404, path
    assert _call(county, "GET", f"{DUTY}/receipts/{rec['id']}", headers=sibling).status_code == 404
    r = _call(county, "PATCH", f"{DUTY}/receipts/{rec['id']}", {"passed_to": "x"}, sibling)
    assert r.status_code == 404
    assert (
        _call(county, "DELETE", f"{DUTY}/shifts/{shift['id']}", headers=sibling).status_code == 404
    )
    assert _call(county, "GET", f"{DUTY}/receipts", headers=sibling).json()["total"] == 0
    assert _call(county, "GET", f"{DUTY}/shifts", headers=sibling).json()["total"] == 0
    inbox = _call(county, "GET", f"{DUTY}/inbox", headers=sibling).json()
    assert inbox == {
        "alarms": [],
        "accidents": [],
        "events": [],
        "receipts": [],
        "limit_minutes": 30,
    }
    r = _call(county, "GET", f"{DUTY}/now?division={COUNTY}", headers=sibling)
    assert r.status_code == 404 and r.json()["field"] == "division"
    r = _phone_call(county, headers=sibling)  # an event placed in 应县
    assert r.status_code == 403 and r.json()["field"] == "division_code"
    assert _call(county, "GET", f"{DUTY}/receipts", headers=sibling).json()["total"] == 0
    # the province above sees 应县's desk
    province = county.login("sheng")
    assert _call(county, "GET", f"{DUTY}/receipts", headers=province).json()["total"] == 1
    assert _call(county, "GET", f"{DUTY}/shifts", headers=province).json()["total"] == 1
    # refused writes are audited
    assert county.audits("access.denied")


def test_an_enterprise_user_is_refused(county: Any) -> None:
    qiye = county.login("qiye")
    for method, path, body in (
        ("GET", f"{DUTY}/inbox", None),
        ("GET", f"{DUTY}/receipts", None),
        ("GET", f"{DUTY}/shifts", None),
        ("GET", f"{DUTY}/handovers", None),
        ("GET", f"{DUTY}/now", None),
        ("POST", f"{DUTY}/receipts", {"content": "x", "open_event": False}),
        ("POST", f"{DUTY}/handovers", {"handed_by": "甲", "taken_by": "乙"}),
    ):
        r = _call(county, method, path, body, qiye)
        assert r.status_code == 403, (path, r.text)
    r = _shift(county, _now() + timedelta(days=1), headers=qiye)
    assert r.status_code == 403


# --- hostile input -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"starts_at": "2026-12-06T08:00:00"}, "starts_at"),  # no zone
        ({"ends_at": "soon"}, "ends_at"),
        ({"hours": 0}, "ends_at"),
        ({"hours": -1}, "ends_at"),
        ({"hours": 24 * 7 + 1}, "ends_at"),
        ({"officers": []}, "officers"),
        ({"officers": ["甲"] * 21}, "officers"),
        ({"officers": ["x" * 65]}, "officers"),
        ({"officers": [" "]}, "officers"),
        ({"leader": ""}, "leader"),
        ({"leader": "张\x00"}, "leader"),
        ({"duty_phone": "值班室"}, "duty_phone"),
        ({"note": "x" * 501}, "note"),
        ({"division_code": "999999"}, "division_code"),
        ({"division_code": "14"}, "division_code"),
        ({"colour": "red"}, "colour"),
    ],
)
@pytest.mark.one_backend
def test_bad_shifts_are_refused_naming_the_field(
    county: Any, body: dict[str, Any], field: str
) -> None:
    body = dict(body)  # the parameters are shared by the SQLite and PostgreSQL runs
    hours = body.pop("hours", 24)
    r = _shift(county, _now() + timedelta(days=1), hours=hours, **body)
    assert r.status_code == 422, r.text
    assert r.json()["field"].split(".")[0] == field, r.text  # officers.0: the item
    assert _call(county, "GET", f"{DUTY}/shifts").json()["total"] == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"received_at": "2026-12-05T10:00:00"}, "received_at"),  # no zone
        ({"received_at": "2099-01-01T00:00:00+08:00"}, "received_at"),  # in the future
        ({"source": "alarm"}, "source"),  # only a call or other here: alarms have their path
        ({"source": "rumour"}, "source"),
        ({"content": ""}, "content"),
        ({"content": "x" * 4001}, "content"),
        ({"caller": "王\x07"}, "caller"),
        ({"caller": "x" * 201}, "caller"),
        ({"title": "x" * 201}, "title"),
        ({"event_type": "meteor"}, "event_type"),
        ({"level": 5}, "level"),
        ({"level": 2**70}, "level"),
        ({"enterprise_id": 2**70}, "enterprise_id"),
        ({"lat": 91.0, "lng": 113.0}, "lat"),
        ({"division_code": "999999"}, "division_code"),
        ({"open_event": "maybe"}, "open_event"),
    ],
)
@pytest.mark.one_backend
def test_bad_calls_are_refused_naming_the_field(
    county: Any, body: dict[str, Any], field: str
) -> None:
    r = _phone_call(county, **body)
    assert r.status_code == 422, r.text
    assert r.json()["field"] == field, r.text
    assert _call(county, "GET", f"{DUTY}/receipts").json()["total"] == 0
    assert _call(county, "GET", f"{API}/events").json()["total"] == 0


def test_bad_one_step_and_pass_on_input_is_refused(county: Any) -> None:
    alarm_id = _alarm(county)
    for path, body, field in (
        (f"{DUTY}/receipts/from-alarm/{alarm_id}", {"level": 0}, "level"),
        (
            f"{DUTY}/receipts/from-alarm/{alarm_id}",
            {"received_at": "2099-01-01T00:00Z"},
            "received_at",
        ),
        (f"{DUTY}/receipts/from-alarm/{alarm_id}", {"content": "x" * 2001}, "content"),
        (f"{DUTY}/receipts/from-event/1", {"level": 1}, "level"),  # no event opened from below
    ):
        r = _call(county, "POST", path, body)
        assert r.status_code == 422 and r.json()["field"] == field, (path, r.text)
    assert _call(county, "POST", f"{DUTY}/receipts/from-alarm/{2**70}").status_code == 422
    rid = _phone_call(county).json()["id"]
    for body, field in (
        ({}, "passed_to"),
        ({"passed_to": " "}, "passed_to"),
        ({"passed_to": "x" * 201}, "passed_to"),
        ({"passed_to": "张", "passed_on_at": "2026-12-06T08:00"}, "passed_on_at"),
    ):
        r = _call(county, "PATCH", f"{DUTY}/receipts/{rid}", body)
        assert r.status_code == 422 and r.json()["field"] == field, r.text
    for query, field in (
        ("source=rumour", "source"),
        ("division=12", "division"),
        ("from=yesterday", "from"),
        ("from=2026-12-06T08:00&to=2026-12-05T08:00", "to"),
        (f"page={2**70}", "page"),
    ):
        r = _call(county, "GET", f"{DUTY}/receipts?{query}")
        assert r.status_code == 422 and r.json()["field"] == field, (query, r.text)
    r = _call(county, "GET", f"{DUTY}/now?division=1234567")
    assert r.status_code == 422 and r.json()["field"] == "division"
    r = _call(
        county, "POST", f"{DUTY}/handovers", {"handed_by": "甲", "taken_by": "乙", "shift_id": 0}
    )
    assert r.status_code == 422 and r.json()["field"] == "shift_id"


def test_two_officials_rostering_the_same_hours_at_once_get_one_shift(county: Any) -> None:
    """The overlap check holds against a concurrent writer: while one official's shift is being
    written (its transaction open), the other's waits, then sees it and is refused."""
    import threading

    from anjian.core.audit.service import Actor
    from anjian.core.errors import Conflict
    from anjian.core.scope import Scope
    from anjian.emergency.duty.rosters import create_shift
    from anjian.emergency.duty.schemas import ShiftCreate

    start = _now() + timedelta(days=3)

    def shift(leader: str, hours: float) -> ShiftCreate:
        return ShiftCreate(
            division_code=COUNTY,
            starts_at=start,
            ends_at=start + timedelta(hours=hours),
            leader=leader,
            officers=["李值班"],
        )

    scope = Scope.for_division(county.users["yingxian"], "official", [COUNTY])
    actor = Actor(county.users["yingxian"], "yingxian", division_code=COUNTY)
    second: list[str] = []

    def other_official() -> None:
        try:
            with county.db() as s:
                create_shift(s, actor, scope, shift("钱局长", 6))
            second.append("written")
        except Conflict:
            second.append("refused")

    with county.db() as s:
        create_shift(s, actor, scope, shift("张局长", 12))
        racing = threading.Thread(target=other_official)
        racing.start()
        racing.join(1.0)  # it waits for this transaction, not writing meanwhile
        assert second == []
    racing.join(30)
    assert second == ["refused"]
    listed = _call(county, "GET", f"{DUTY}/shifts", params={"from": _iso(start)}).json()
    assert [s["leader"] for s in listed["items"]] == ["张局长"]
