"""Emergency events and command through the API: 接报 with the time received, the response
level raised with a reason, 续报, the command structure, tasks, resources dispatched step by step
(the resource's own status following), closure with the review — each on the timeline, audited,
scoped; a closed event takes nothing more; bad input refused naming the field."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

API = "/api/v1/emergency"
COUNTY = "140622"


@pytest.fixture
def county(personas: Any) -> Any:
    personas.headers = personas.login("yingxian")
    return personas


def _event(node: Any, headers: dict[str, str] | None = None, **body: Any) -> Any:
    data = {
        "title": "应县金鼎煤业 1201 工作面透水",
        "event_type": "mine",
        "division_code": COUNTY,
        "place": "1201 工作面",
        "level": 4,
        "source": "call",
        "reporter": "矿调度室 王某",
        **body,
    }
    return node.client.post(f"{API}/events", headers=headers or node.headers, json=data)


def _post(node: Any, path: str, body: Any = None, method: str = "POST") -> Any:
    return node.client.request(method, f"{API}{path}", headers=node.headers, json=body)


def test_an_event_from_receipt_to_closure(county: Any) -> None:
    received = datetime.now(UTC) - timedelta(minutes=20)
    r = _event(county, received_at=received.isoformat())
    assert r.status_code == 201, r.text
    ev = r.json()
    assert ev["number"].startswith("SJ") and ev["state_label"] == "处置中"
    assert ev["level_label"] == "Ⅳ级（一般）" and ev["division_name"] == "应县"
    assert [e["kind"] for e in ev["timeline"]] == ["receipt"]
    assert ev["timeline"][0]["at"][:16] == received.isoformat()[:16]
    eid = ev["id"]

    r = _post(county, f"/events/{eid}/level", {"level": 3, "reason": "被困 5 人"})
    assert r.status_code == 200 and r.json()["level"] == 3
    assert "由Ⅳ级（一般）提升为Ⅲ级（较大）。理由：被困 5 人" in r.json()["timeline"][-1]["text"]
    same = _post(county, f"/events/{eid}/level", {"level": 3, "reason": "再次"})
    assert same.status_code == 409
    assert _post(county, f"/events/{eid}/reports", {"text": "已救出 2 人"}).status_code == 200
    r = _post(
        county,
        f"/events/{eid}/command",
        {
            "commander": "应县县长",
            "site_commander": "应县应急局局长",
            "groups": [{"name": "抢险救援组", "lead": "王队长", "members": ["李", "赵"]}],
        },
        method="PUT",
    )
    assert r.status_code == 200 and r.json()["commander"] == "应县县长"
    assert "工作组：抢险救援组" in r.json()["timeline"][-1]["text"]

    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    r = _post(county, f"/events/{eid}/tasks", {"title": "排水", "owner": "王队长", "due_at": past})
    assert r.status_code == 201
    [task] = r.json()["tasks"]
    assert task["overdue"] is True
    r = _post(county, f"/events/{eid}/tasks/{task['id']}/done")
    assert r.json()["tasks"][0]["state"] == "done" and r.json()["tasks"][0]["overdue"] is False
    assert _post(county, f"/events/{eid}/tasks/{task['id']}/done").status_code == 409

    team = county.client.post(
        f"{API}/resources",
        headers=county.headers,
        json={"kind": "team", "name": "应县矿山救护队", "division_code": COUNTY},
    ).json()
    r = _post(county, f"/events/{eid}/dispatches", {"resource_id": team["id"]})
    assert r.status_code == 201, r.text
    [d] = r.json()["dispatches"]
    assert d["state"] == "requested" and d["resource_name"] == "应县矿山救护队"
    again = _post(county, f"/events/{eid}/dispatches", {"resource_id": team["id"]})
    assert again.status_code == 409
    assert (
        _post(county, f"/events/{eid}/dispatches/{d['id']}", {"state": "arrived"}).status_code
        == 409
    )
    r = _post(county, f"/events/{eid}/dispatches/{d['id']}", {"state": "dispatched"})
    assert r.json()["dispatches"][0]["state_label"] == "已出发"

    def team_status() -> str:
        got = county.client.get(f"{API}/resources/{team['id']}", headers=county.headers)
        return str(got.json()["status"])

    assert team_status() == "deployed"
    _post(county, f"/events/{eid}/dispatches/{d['id']}", {"state": "arrived"})

    r = _post(county, f"/events/{eid}/close", {"review": "处置得当，5 人全部获救"})
    assert r.status_code == 200, r.text
    closed = r.json()
    assert closed["state"] == "closed" and closed["closed_at"] is not None
    assert closed["dispatches"][0]["state"] == "released"
    assert set(closed["dispatches"][0]["times"]) == {
        "requested",
        "dispatched",
        "arrived",
        "released",
    }
    assert team_status() == "available"
    kinds = [e["kind"] for e in closed["timeline"]]
    assert kinds[0] == "receipt" and kinds[-1] == "closure"
    assert kinds.count("dispatch") == 4  # called, dispatched, arrived, released
    # closed: nothing more
    for path, body in (
        (f"/events/{eid}/reports", {"text": "补充"}),
        (f"/events/{eid}/level", {"level": 2, "reason": "x"}),
        (f"/events/{eid}/close", {"review": "again"}),
    ):
        assert _post(county, path, body).status_code == 409, path
    actions = {a.action for a in county.audits("emergency.event.%")}
    assert {"emergency.event.create", "emergency.event.level", "emergency.event.close"} <= actions


def test_events_are_scoped(county: Any) -> None:
    eid = _event(county).json()["id"]
    sibling = county.login("shanyin")
    assert county.client.get(f"{API}/events/{eid}", headers=sibling).status_code == 404
    assert county.client.get(f"{API}/events", headers=sibling).json()["total"] == 0
    r = county.client.post(
        f"{API}/events/{eid}/reports", headers=sibling, json={"text": "越权续报"}
    )
    assert r.status_code == 404
    assert _event(county, headers=sibling).json()["field"] == "division_code"
    province = county.login("sheng")
    listed = county.client.get(f"{API}/events?state=active", headers=province).json()
    assert [i["id"] for i in listed["items"]] == [eid] and listed["items"][0]["timeline"] == []
    # a resource of another county cannot be dispatched by 应县
    other = county.client.post(
        f"{API}/resources",
        headers=sibling,
        json={"kind": "team", "name": "山阴县救护队", "division_code": "140621"},
    ).json()
    r = _post(county, f"/events/{eid}/dispatches", {"resource_id": other["id"]})
    assert r.status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"event_type": "meteor"}, "event_type"),
        ({"level": 5}, "level"),
        ({"level": 0}, "level"),
        ({"source": "rumour"}, "source"),
        ({"received_at": "2026-12-05T10:00:00"}, "received_at"),  # no zone
        ({"received_at": "2099-01-01T00:00:00+08:00"}, "received_at"),  # in the future
        ({"title": "透水\x07"}, "title"),
        ({"title": " "}, "title"),
        ({"lat": 91.0, "lng": 113.0}, "lat"),
        ({"division_code": "999999"}, "division_code"),
    ],
)
@pytest.mark.one_backend
def test_bad_events_are_refused_naming_the_field(
    county: Any, body: dict[str, Any], field: str
) -> None:
    r = _event(county, **body)
    assert r.status_code == 422, r.text
    assert r.json()["field"] == field, r.text
    assert county.client.get(f"{API}/events", headers=county.headers).json()["total"] == 0


def test_bad_steps_are_refused(county: Any) -> None:
    eid = _event(county).json()["id"]
    for path, body, field in (
        (f"/events/{eid}/level", {"level": 3, "reason": ""}, "reason"),
        (f"/events/{eid}/reports", {"text": "x" * 4001}, "text"),
        (f"/events/{eid}/tasks", {"title": "排水", "owner": ""}, "owner"),
        (f"/events/{eid}/dispatches/999", {"state": "flying"}, "state"),
    ):
        r = _post(county, path, body)
        assert r.status_code == 422 and r.json()["field"] == field, (path, r.text)
    r = _post(
        county,
        f"/events/{eid}/command",
        {"commander": "甲", "groups": [{"name": "组", "members": ["人"] * 51}]},
        method="PUT",
    )
    assert r.status_code == 422
    assert _post(county, f"/events/{eid}/tasks/999/done").status_code == 404
