"""应急管理 in the console: an official receives an event (接报) from the events page, takes it
through its page — level with a reason, 续报, a task done, a resource dispatched and back, the
closure — each form offered only while the event is in progress here; refusals answered in
Chinese at the page; the resources page by kind; scope (a sibling county: 404; an enterprise
user: 403)."""

from __future__ import annotations

import json
import re
import threading
import time
from typing import Any

import pytest

from sse import sse_events

API = "/api/v1/emergency"


@pytest.fixture
def county(console: Any) -> Any:
    console.login("yingxian")
    return console


def _post(console: Any, path: str, **fields: str) -> Any:
    data = {"csrf": console.csrf("/emergency/events"), **fields}
    return console.node.client.post(path, data=data, follow_redirects=False)


def test_an_event_is_received_and_handled_from_its_page(county: Any) -> None:
    client = county.node.client
    page = client.get("/emergency/events").text
    assert "暂无突发事件" in page and 'id="new-event-button"' in page
    assert "接报：登记突发事件" in client.get("/emergency/events?new=1").text
    refused = _post(county, "/emergency/events", title="", event_type="mine")
    assert refused.status_code == 422 and "事件名称" in refused.text
    r = _post(
        county,
        "/emergency/events",
        title="应县某煤矿透水",
        event_type="mine",
        level="4",
        division_code="140622",
        source="call",
        reporter="矿调度室",
    )
    assert r.status_code == 303, r.text
    eid = int(re.search(r"/emergency/events/(\d+)", r.headers["location"]).group(1))
    page = client.get(f"/emergency/events/{eid}?done=create").text
    assert "事件已登记" in page and "Ⅳ级（一般）" in page and "应县" in page
    for form in ("level-form", "report-form", "task-form", "dispatch-form", "close-form"):
        assert f'id="{form}"' in page, form
    assert "辖区内暂无可调用的应急资源" in page

    base = f"/emergency/events/{eid}"
    r = _post(county, f"{base}/level", level="3", reason="")
    assert r.status_code == 422 and "调整理由" in r.text
    assert _post(county, f"{base}/level", level="3", reason="被困 5 人").status_code == 303
    assert _post(county, f"{base}/report", text="已救出 2 人").status_code == 303
    assert _post(county, f"{base}/task", title="排水", owner="王队长").status_code == 303
    page = client.get(base).text
    assert "由Ⅳ级（一般）提升为Ⅲ级（较大）" in page and "已救出 2 人" in page
    task_id = re.search(r'name="task_id" value="(\d+)"', page).group(1)
    assert _post(county, f"{base}/done", task_id=task_id).status_code == 303

    team = client.post(
        f"{API}/resources",
        headers=county.node.login("yingxian"),
        json={"kind": "team", "name": "应县矿山救护队", "division_code": "140622"},
    ).json()
    page = client.get(base).text
    assert "应县矿山救护队（救援队伍）" in page
    assert _post(county, f"{base}/dispatch", resource_id=str(team["id"])).status_code == 303
    page = client.get(base).text
    dispatch_id = re.search(r'name="dispatch_id" value="(\d+)"', page).group(1)
    assert set(re.findall(r'dispatch-step" data-state="(\w+)"', page)) == {"dispatched", "released"}
    r = _post(county, f"{base}/step", dispatch_id=dispatch_id, state="arrived")
    assert r.status_code == 409 and "不能改为已到达" in r.text  # not yet left
    assert (
        _post(county, f"{base}/step", dispatch_id=dispatch_id, state="dispatched").status_code
        == 303
    )
    assert "执行任务中" in client.get("/emergency/resources").text

    assert _post(county, f"{base}/close", review="").status_code == 422
    assert _post(county, f"{base}/close", review="处置得当").status_code == 303
    page = client.get(base).text
    assert "已结束" in page and "处置得当" in page
    for form in ("level-form", "report-form", "task-form", "dispatch-form", "close-form"):
        assert f'id="{form}"' not in page, form
    assert "可调用" in client.get("/emergency/resources?kind=team").text
    assert _post(county, f"{base}/nonsense").status_code == 404


def test_scope_of_the_emergency_pages(county: Any) -> None:
    client = county.node.client
    r = _post(
        county, "/emergency/events", title="应县事件", event_type="other", division_code="140622"
    )
    base = r.headers["location"].split("?")[0]
    county.login("shanyin")
    assert client.get(base).status_code == 404
    assert "应县事件" not in client.get("/emergency/events").text
    county.login("sheng")
    page = client.get(base).text
    assert "应县事件" in page and 'id="level-form"' in page  # the province's own node here
    county.login("qiye")
    assert client.get("/emergency/events").status_code == 403
    assert client.get("/emergency/resources").status_code == 403


def test_orders_go_down_from_the_event_page_and_are_signed_there(console: Any) -> None:
    client = console.node.client
    eid = client.post(
        f"{API}/events",
        headers=console.node.login("yingxian"),
        json={"title": "应县某煤矿透水", "event_type": "mine", "division_code": "140622"},
    ).json()["id"]
    base = f"/emergency/events/{eid}"
    console.login("sheng")
    page = client.get(base).text
    assert 'id="kept-at"' not in page and 'id="no-orders"' in page
    assert re.search(r'<option value="140622" selected>\s*\S*应县</option>', page)
    refused = _post(console, f"{base}/order", target_division="140622", title="")
    assert refused.status_code == 422 and "指令：" in refused.text
    r = _post(console, f"{base}/order", target_division="140622", title="立即核实被困人数")
    assert r.status_code == 303
    page = client.get(f"{base}?done=order").text
    assert "指令已下达" in page and "山西省应急管理厅 → 应县" in page and "待签收" in page
    assert "sign-button" not in page  # the issuer does not sign its own order

    console.login("yingxian")
    page = client.get(base).text
    assert "立即核实被困人数" in page and 'id="order-form"' not in page  # nothing below 应县
    uid = re.search(r'name="order" value="([0-9a-f-]{36})"', page).group(1)
    assert _post(console, f"{base}/sign", order=uid, note="已部署").status_code == 303
    page = client.get(base).text
    assert "已签收" in page and "sign-button" not in page and "：已部署" in page
    assert "应县签收指令：立即核实被困人数" in page  # on the timeline too
    r = _post(console, f"{base}/sign", order=uid)
    assert r.status_code == 409 and "已签收" in r.text
    r = _post(console, f"{base}/sign", order="not-an-order")
    assert r.status_code == 404

    console.login("sheng")
    page = client.get(base).text
    assert "已签收" in page and "签收于" in page


def test_the_event_page_is_told_when_the_event_changes(
    console: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The live page: its stream says ``changed`` when a 续报 arrives (made elsewhere, through
    the API) and ends; the page it then fetches shows the line, without counting as the user's
    activity; the stream of an event out of scope or without a session says so."""
    from datetime import timedelta

    from sqlalchemy import select

    from anjian.core.iam.models import AuthSession
    from anjian.db import utcnow
    from anjian.web import streams

    monkeypatch.setattr(streams, "POLL_S", 0.2)
    monkeypatch.setattr(streams, "MAX_S", 10.0)
    node = console.node
    api = node.login("yingxian")
    eid = node.client.post(
        f"{API}/events",
        headers=api,
        json={
            "title": "应县某化工厂泄漏",
            "event_type": "chemical_leak",
            "division_code": "140622",
        },
    ).json()["id"]
    console.login("yingxian")
    page = node.client.get(f"/emergency/events/{eid}").text
    revision = re.search(r'data-live-revision="([^"]+)"', page).group(1)
    assert 'data-live-parts="facts orders-list analysis-result timeline-list' in page
    assert 'id="live-status"' in page and "/static/live.js" in page

    def meanwhile() -> None:
        time.sleep(0.6)
        node.client.post(f"{API}/events/{eid}/reports", headers=api, json={"text": "已疏散 30 人"})

    worker = threading.Thread(target=meanwhile)
    worker.start()
    began = time.monotonic()
    r = node.client.get(f"/emergency/events/{eid}/stream", params={"since": revision})
    worker.join()
    assert r.headers["content-type"].startswith("text/event-stream")
    events = sse_events(r.text)
    assert [kind for kind, _ in events] == ["changed"] and events[0][1] != revision
    assert time.monotonic() - began < 8
    # unchanged since the page was fetched: nothing is sent until the stream ends
    monkeypatch.setattr(streams, "MAX_S", 0.6)
    current = events[0][1]
    assert sse_events(node.client.get(f"/emergency/events/{eid}/stream?since={current}").text) == []

    # the refresh shows the line and leaves the idle clock alone; a normal visit moves it
    with node.db() as s:
        for auth in s.scalars(select(AuthSession)):
            auth.last_seen_at = utcnow() - timedelta(minutes=5)

    def idle_clock() -> Any:
        with node.db() as s:
            return max(a.last_seen_at for a in s.scalars(select(AuthSession)))

    before = idle_clock()
    fresh = node.client.get(f"/emergency/events/{eid}", headers={"X-Anjian-Live": "1"}).text
    assert "已疏散 30 人" in fresh and f'data-live-revision="{current}"' in fresh
    assert idle_clock() == before
    node.client.get(f"/emergency/events/{eid}")
    assert idle_clock() > before

    # another county's stream of this event: told to reload (which then answers 404)
    console.login("shanyin")
    r = node.client.get(f"/emergency/events/{eid}/stream", params={"since": current})
    assert sse_events(r.text) == [("changed", "gone")]
    node.client.cookies.clear()
    r = node.client.get(f"/emergency/events/{eid}/stream", params={"since": current})
    assert sse_events(r.text) == [("logout", f"/login?next=/emergency/events/{eid}&reason=timeout")]


def test_threat_zones_are_drawn_from_the_event_page(county: Any) -> None:
    client = county.node.client
    api = county.node.login("yingxian")
    eid = client.post(
        f"{API}/events",
        headers=api,
        json={
            "title": "应县某化工厂液氨泄漏",
            "event_type": "chemical_leak",
            "division_code": "140622",
            "lng": 113.2,
            "lat": 39.5,
        },
    ).json()["id"]
    base = f"/emergency/events/{eid}"
    page = client.get(base).text
    assert 'id="analysis-form"' in page and "尚未进行扩散分析" in page
    assert '"zones": null' in page  # nothing drawn yet
    body = {"chemical": "氨", "wind_speed_m_s": "2", "wind_from_deg": "270", "stability": "D"}
    r = _post(county, f"{base}/analysis", **body, release_g_s="很多")
    assert r.status_code == 422 and "释放速率：" in r.text
    assert 'value="很多"' in r.text  # what was typed stays in the form
    r = _post(county, f"{base}/analysis", release_g_s="2000", **body)
    assert r.status_code == 303
    page = client.get(f"{base}?done=analysis").text
    assert "威胁区域已标在地图上" in page and 'id="zone-table"' in page
    assert "AEGL-3" in page and "重新分析" in page
    # the form offers the last analysis again, to run with the wind turned
    assert '<option value="氨" selected>' in page and 'name="release_g_s" value="2000"' in page
    assert '<option value="270" selected>' in page
    data = re.search(r'<script type="application/json" id="event-map-data">(.*?)</script>', page)
    zones = json.loads(data.group(1))["zones"]["features"]
    assert [z["properties"]["colour"] for z in zones][:2] == ["#d63939", "#f76707"]
    # custom thresholds, typed with a Chinese comma
    r = _post(
        county,
        f"{base}/analysis",
        release_g_s="2000",
        thresholds="10，100",
        **body | {"chemical": ""},
    )
    assert r.status_code == 303
    assert "100 mg/m³" in client.get(base).text
    # an event without a place offers no analysis form
    nowhere = client.post(
        f"{API}/events",
        headers=api,
        json={"title": "无坐标事件", "event_type": "other", "division_code": "140622"},
    ).json()["id"]
    assert 'id="analysis-form"' not in client.get(f"/emergency/events/{nowhere}").text
