"""The command screen (大屏): the jurisdiction's figures for officials of every tier (an
enterprise user is refused), counted in their own scope; the figures JSON and the stream that
says when a figure changed (a hidden hazard reported at the county moves the county's and the
province's screens, not the sibling county's)."""

from __future__ import annotations

import json
import re
import threading
import time
from typing import Any

import pytest

from sse import sse_events

HAZARDS = "/api/v1/hidden-hazards"


def _report(node: Any) -> None:
    body = {
        "enterprise_id": node.enterprises["ying_mine"],
        "place": "主斜井皮带机",
        "description": "皮带机跑偏保护失效",
    }
    r = node.client.post(HAZARDS, json=body, headers=node.login("qiye"))
    assert r.status_code == 201, r.text


def _figures(console: Any) -> dict[str, Any]:
    r = console.node.client.get("/screen/figures")
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    return r.json()


def test_each_tier_sees_its_own_screen(console: Any) -> None:
    _report(console.node)
    for who, name, open_hazards in (
        ("sheng", "山西省", 1),
        ("shuozhou", "朔州市", 1),
        ("yingxian", "应县", 1),
        ("shanyin", "山阴县", 0),
    ):
        console.login(who)
        page = console.node.client.get("/screen")
        assert page.status_code == 200, who
        assert f'id="division-name">{name}</span>安全生产态势' in page.text
        assert "/static/screen.js" in page.text and 'data-live-stream="/screen/stream"' in page.text
        data = json.loads(
            re.search(
                r'<script type="application/json" id="screen-data">(.*?)</script>', page.text
            ).group(1)
        )
        assert data["hazards_open"] == open_hazards, who
        assert [s["label"] for s in data["hazards_by_state"]] == [
            "待登记",
            "已登记",
            "整改中",
            "待验收",
        ]
        assert [s["label"] for s in data["enterprises_by_risk"]] == [
            "重大风险",
            "较大风险",
            "一般风险",
            "低风险",
        ]
        assert len(data["accident_months"]) == len(data["accidents_last_year"])
    console.login("qiye")
    assert console.node.client.get("/screen").status_code == 403
    assert console.node.client.get("/screen/figures").status_code == 403


def test_the_screen_is_told_when_a_figure_changes(
    console: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from anjian.console.screen import pages
    from anjian.web import streams

    monkeypatch.setattr(pages, "POLL_S", 0.2)
    monkeypatch.setattr(streams, "MAX_S", 10.0)
    console.login("sheng")
    before = _figures(console)
    assert before["figures"]["hazards_open"] == 0

    def meanwhile() -> None:
        time.sleep(0.6)
        _report(console.node)

    worker = threading.Thread(target=meanwhile)
    worker.start()
    r = console.node.client.get("/screen/stream", params={"since": before["revision"]})
    worker.join()
    events = sse_events(r.text)
    assert [kind for kind, _ in events] == ["changed"]
    after = _figures(console)
    assert after["revision"] == events[0][1] != before["revision"]
    assert after["figures"]["hazards_open"] == 1
    assert after["figures"]["hazards_by_state"][0] == {"label": "待登记", "value": 1, "colour": ""}
    # the sibling county's screen did not change
    console.login("shanyin")
    quiet = _figures(console)
    monkeypatch.setattr(streams, "MAX_S", 0.8)
    r = console.node.client.get("/screen/stream", params={"since": quiet["revision"]})
    assert sse_events(r.text) == []
