"""The online monitoring console (在线监测): the alarm board and its live stream (server-sent
events), the alarm loop through the console's forms, a point with its trend, an enterprise's
monitoring and the live-risk map; every page keeps to the user's jurisdiction."""

from __future__ import annotations

import json
import re
import threading
import time
from typing import Any

import pytest
from sqlalchemy import select

from anjian.core.audit.models import AuditRecord
from anjian.monitoring.models import Alarm
from sse import sse_events

MINE = "应县金鼎煤业有限公司"


def _point(node: Any, enterprise: str = "ying_mine", **spec: Any) -> int:
    return node.add_points(enterprise, spec)[0]


def _readings(node: Any, *readings: dict[str, Any], enterprise: str = "ying_mine") -> None:
    """A gateway's batch, applied as the ingest (MQTT or HTTP) applies it."""
    from anjian.monitoring.ingest import ingest

    with node.db() as s:
        ingest(
            s,
            node.enterprises[enterprise],
            {"ts": int(time.time() * 1000), "readings": list(readings)},
        )


def _alarm(node: Any) -> Alarm:
    with node.db() as s:
        return s.scalars(select(Alarm).order_by(Alarm.id.desc())).first()


def test_pages_render_and_keep_to_the_jurisdiction(console: Any) -> None:
    node = console.node
    mine = node.enterprises["ying_mine"]
    lt = _point(node, code="LT-1", name="1#储罐液位", kind="tank_level", h=8, hh=9, l=1)
    _point(node, "shan_chem", code="LEL-1", kind="combustible_gas", h=20, hh=40)
    _readings(node, {"point": "LT-1", "value": 9.5}, {"point": "NOPE", "value": 1})
    alarm = _alarm(node)
    assert (alarm.level, alarm.bound) == (1, "hh")

    console.login("shuozhou")
    board = node.client.get("/monitoring")
    assert board.status_code == 200, board.text
    for text in ("报警看板", "严重报警（未关闭）", MINE, "LT-1", "高高报", "待确认", "确认"):
        assert text in board.text, text
    assert 'id="count-level1" data-count="level1" data-alert="1">1<' in board.text
    assert 'data-stream="/monitoring/alarms/stream?after=' in board.text
    assert 'href="/monitoring"' in board.text and "在线监测" in board.text  # the nav entry
    # filters: the 二级 board is empty
    assert "没有符合条件的报警" in node.client.get("/monitoring?level=2").text

    pt = node.client.get(f"/monitoring/points/{lt}")
    assert pt.status_code == 200
    for text in ("1#储罐液位", "储罐液位", "高高报 HH", 'id="trend-data"', "9.5", "未恢复"):
        assert text in pt.text, text
    # the chart reads the series API with the console's cookie
    now = int(time.time() * 1000)
    series = node.client.get(
        f"/api/v1/monitoring/points/{lt}/series", params={"from": now - 3_600_000, "to": now + 1}
    )
    assert series.status_code == 200 and series.json()["items"][0]["max"] == 9.5

    ent = node.client.get(f"/monitoring/enterprise/{mine}")
    assert ent.status_code == 200
    for text in ("监测点（1 个）", "LT-1", "动态风险", "严重报警 1 条", "未登记的测点", "坏数据"):
        assert text in ent.text, text
    assert f'href="/monitoring/enterprise/{mine}"' in node.client.get(f"/enterprises/{mine}").text

    live = node.client.get("/monitoring/map")
    assert live.status_code == 200 and "动态风险一张图" in live.text
    start = live.text.index('id="live-risk-data">') + len('id="live-risk-data">')
    data = json.loads(live.text[start : live.text.index("</script>", start)])
    marker = next(p for p in data["points"] if p["id"] == mine)
    assert marker["href"] == f"/monitoring/enterprise/{mine}" and "严重报警 1 条" in marker["lines"]
    # no inherent level counts as 低 (blue); an open 严重 alarm raises it two levels: orange
    assert marker["colour"] == "#f76707" and marker["category"] == "较大风险（固有：低风险）"

    # another county sees none of it: out-of-scope ids are the 404 page
    console.login("shanyin")
    for url in (
        f"/monitoring/points/{lt}",
        f"/monitoring/alarms/{alarm.id}",
        f"/monitoring/enterprise/{mine}",
    ):
        r = node.client.get(url)
        assert r.status_code == 404 and "未找到" in r.text, url
    assert MINE not in node.client.get("/monitoring").text
    # the enterprise user has their own board; the map sends them to their enterprise
    console.login("qiye")
    assert "LT-1" in node.client.get("/monitoring").text
    r = node.client.get("/monitoring/map", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/monitoring/enterprise/{mine}"


def test_a_gas_detector_shows_its_gb_50493_set_point_names(console: Any) -> None:
    node = console.node
    mine = node.enterprises["ying_mine"]
    gas = _point(node, code="LEL-2", name="井口可燃气体", preset="gas_combustible")
    _readings(node, {"point": "LEL-2", "value": 30.0})  # past the first set point (25 %LEL)
    alarm = _alarm(node)
    assert (alarm.level, alarm.bound) == (2, "h")  # the board's 预警: the less severe

    console.login("yingxian")
    pt = node.client.get(f"/monitoring/points/{gas}").text
    for text in ("二级报警 HH", "一级报警 H", 'id="gas-levels-note"', "GB/T 50493-2019"):
        assert text in pt, text
    assert "高高报" not in pt and "高报 H" not in pt
    assert pt.count('id="gas-levels-note"') == 1  # under the set points, once
    assert 'id="point-bound">一级报警<' in pt
    # one badge: the standard's name in the severity's colour (H orange), never a second level
    board = node.client.get("/monitoring").text
    row = re.search(r'<tr id="alarm-\d+".*?</tr>', board, re.S)
    assert row and "LEL-2" in row.group(0)
    assert 'grade-2 alarm-badge" title="预警">一级报警</span>' in row.group(0)
    assert "二级" not in row.group(0)
    ent = node.client.get(f"/monitoring/enterprise/{mine}").text
    assert 'grade-2 alarm-badge">一级报警</span>' in ent
    # the second set point (50 %LEL, HH): 二级报警 in red, the most severe; no 一级 beside it
    _readings(node, {"point": "LEL-2", "value": 50.0})
    assert (_alarm(node).level, _alarm(node).bound) == (1, "hh")
    board = node.client.get("/monitoring").text
    row = re.search(r'<tr id="alarm-\d+".*?</tr>', board, re.S)
    assert row and 'grade-1 alarm-badge" title="严重">二级报警</span>' in row.group(0)
    assert "一级" not in row.group(0)
    page = node.client.get(f"/monitoring/alarms/{_alarm(node).id}").text
    heading = page[page.index('class="page-title"') : page.index("</h2>")]
    assert "二级报警" in heading and "一级" not in heading
    ent = node.client.get(f"/monitoring/enterprise/{mine}").text
    assert 'grade-1 alarm-badge">二级报警</span>' in ent
    filters = board[
        board.index('id="f-level"') : board.index("</select>", board.index('id="f-level"'))
    ]
    assert "高高/低低（严重）" in filters and "高/低（预警）" in filters and "一级" not in filters


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_alarm_loop_through_the_console_forms(console: Any) -> None:
    """确认 on the board, 处置 on the alarm's page (a missing field shown at the field), 关闭
    refused while the value is still high and accepted once it is back; each step audited."""
    node = console.node
    _point(node, code="LT-1", kind="tank_level", h=8, hh=9)
    _readings(node, {"point": "LT-1", "value": 9.5})
    alarm_id = _alarm(node).id
    console.login("yingxian")
    csrf = console.csrf("/monitoring")
    back = "/monitoring?level=1"

    def step(verb: str, **form: str) -> Any:
        data = {"csrf": csrf, "next": back, **form}
        return node.client.post(
            f"/monitoring/alarms/{alarm_id}/{verb}", data=data, follow_redirects=False
        )

    r = step("acknowledge")
    assert r.status_code == 303 and r.headers["location"] == (
        f"/monitoring?level=1&done=acknowledge#alarm-{alarm_id}"
    )
    assert "已确认报警" in node.client.get(r.headers["location"]).text
    detail = node.client.get(f"/monitoring/alarms/{alarm_id}?next={back}")
    assert 'id="handle-form"' in detail.text and "已确认" in detail.text
    bad = step("handle", cause="", action="停泵、倒罐", handler="张工")
    assert bad.status_code == 422
    assert 'id="err-cause">不能为空<' in bad.text and "停泵、倒罐" in bad.text  # kept
    assert (
        step("handle", cause="进料阀未关", action="停泵、倒罐", handler="张工").status_code == 303
    )
    early = step("close")
    assert early.status_code == 409 and "尚未恢复" in early.text
    _readings(node, {"point": "LT-1", "value": 5.0})  # back inside the band: the alarm ends
    assert step("close").status_code == 303
    page = node.client.get(f"/monitoring/alarms/{alarm_id}")
    assert 'id="alarm-state">已关闭<' in page.text and "进料阀未关" in page.text
    # the enterprise's "未关闭的报警" no longer lists it
    mine = node.client.get(f"/monitoring/enterprise/{node.enterprises['ying_mine']}")
    assert "未关闭的报警（0 条）" in mine.text and f'id="alarm-{alarm_id}"' not in mine.text
    with node.db() as s:
        actions = s.scalars(
            select(AuditRecord.action).where(AuditRecord.object_id == str(alarm_id))
        ).all()
        assert {"alarm.acknowledge", "alarm.handle", "alarm.close"} <= set(actions)
    # a wrong CSRF token and another county's official are refused
    assert step("acknowledge", csrf="forged").status_code == 403
    console.login("shanyin")
    csrf = console.csrf("/monitoring")
    assert step("acknowledge").status_code == 404


def test_the_board_shows_the_value_that_raised_an_alarm_and_its_peak(console: Any) -> None:
    """An alarm raised at 20.4 over H = 20, escalated at HH = 40, peaking at 46.5 and ended at
    10: the board shows 20.4 (crossing 20) as what raised it and 46.5 as its peak, not the value
    it ended with; a low alarm's peak is its lowest value."""
    node = console.node
    _point(node, code="LEL-1", kind="combustible_gas", unit="%LEL", h=20, hh=40)
    _point(node, code="O2-1", kind="o2", unit="%VOL", l=19.5, ll=18)
    t0 = int(time.time() * 1000) - 60_000
    values = [20.4, 33.0, 46.5, 41.0, 20.4, 10.0]
    _readings(
        node, *({"point": "LEL-1", "value": v, "ts": t0 + i * 1000} for i, v in enumerate(values))
    )
    _readings(
        node,
        *(
            {"point": "O2-1", "value": v, "ts": t0 + i * 1000}
            for i, v in enumerate([19.0, 17.2, 18.9, 20.5])
        ),
    )
    with node.db() as s:
        gas, o2 = s.scalars(select(Alarm).order_by(Alarm.id)).all()
        assert (gas.level, gas.threshold, gas.value, gas.trigger_threshold) == (1, 40, 20.4, 20)
        assert gas.peak == 46.5 and int(gas.peak_at.timestamp() * 1000) == t0 + 2000
        assert gas.ended_at is not None
        assert (o2.value, o2.peak, o2.trigger_threshold) == (19.0, 17.2, 19.5)
    console.login("yingxian")
    board = node.client.get("/monitoring")
    row = board.text[board.text.index(f'id="alarm-{gas.id}"') :]
    row = row[: row.index("</tr>")]
    trigger = row[row.index('class="text-nowrap alarm-value"') :]
    assert trigger.index("20.4 %LEL") < trigger.index("越过 20<") < trigger.index("46.5 %LEL")
    assert "10 %LEL" not in row  # the value it ended with is not what raised it
    # eight columns (fits 1400 px): the threshold under the trigger, the recovery under the time
    assert row.count("<td") == 8 and "阈值 40<" in trigger and "恢复 " in row
    page = node.client.get(f"/monitoring/alarms/{gas.id}").text
    assert "20.4 %LEL" in page and "（越过 20 %LEL）" in page and "峰值（最高）" in page
    assert "（已升级）" in page
    low = node.client.get(f"/monitoring/alarms/{o2.id}").text
    assert "峰值（最低）" in low and "17.2 %VOL" in low


def test_the_stream_sends_a_new_alarm_and_ends_with_the_session(
    console: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The board's server-sent events: an alarm raised while the stream is open arrives as its
    row, with the new figures; the stream ends with a logout event when the session does."""
    from anjian.core.iam.models import AuthSession
    from anjian.monitoring.pages import board as pages

    node = console.node
    _point(node, code="LT-1", kind="tank_level", h=8, hh=9)
    monkeypatch.setattr(pages, "STREAM_POLL_S", 0.2)
    monkeypatch.setattr(pages, "STREAM_SESSION_CHECK_S", 0.5)
    monkeypatch.setattr(pages, "STREAM_MAX_S", 20.0)  # a safety net: the logout ends it
    console.login("shuozhou")
    board = node.client.get("/monitoring")
    start = board.text.index('data-stream="') + len('data-stream="')
    url = board.text[start : board.text.index('"', start)].replace("&amp;", "&")

    def meanwhile() -> None:
        time.sleep(0.6)
        _readings(node, {"point": "LT-1", "value": 9.7})  # a gateway publishes
        time.sleep(1.0)
        with node.db() as s:  # the session ends (logout elsewhere, lock, idle timeout)
            for auth in s.scalars(select(AuthSession)):
                auth.revoked = True

    worker = threading.Thread(target=meanwhile)
    worker.start()
    began = time.monotonic()
    r = node.client.get(url)  # the test client returns once the stream has ended
    worker.join()
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
    assert time.monotonic() - began < 10
    events = sse_events(r.text)
    alarms = [json.loads(data) for kind, data in events if kind == "alarm"]
    assert len(alarms) == 1, events  # sent once, though every poll looks back again
    assert alarms[0]["match"] and alarms[0]["level"] == 1
    assert "高高报" in alarms[0]["html"] and MINE in alarms[0]["html"]
    assert f'id="alarm-{alarms[0]["id"]}"' in alarms[0]["html"]
    counts = [json.loads(data) for kind, data in events if kind == "counts"]
    assert counts and counts[-1]["level1"] == 1 and counts[-1]["unacknowledged"] == 1
    # the board's total under its filter comes with the figures: one number for the header
    # ("共 N 条" above the table) and the pager below it, which both carry data-count="total"
    assert counts[-1]["total"] == "1"
    assert board.text.count('data-count="total"') == 2
    assert events[-1] == ("logout", "/login?next=/monitoring&reason=timeout")
    # another county's stream, even from the very beginning, never carries the mine's alarm
    console.login("shanyin")
    monkeypatch.setattr(pages, "STREAM_MAX_S", 0.5)
    quiet = sse_events(node.client.get("/monitoring/alarms/stream?after=0").text)
    assert quiet == [], quiet
    # without a session the stream says so at once
    node.client.cookies.clear()
    assert sse_events(node.client.get(url).text) == [
        ("logout", "/login?next=/monitoring&reason=timeout")
    ]
    # the login returns to the page that listened: the board under its filters, the home page
    # (its inbox listens with back=/), never another site
    for back, login in [
        ("", "/login?next=/monitoring%3Flevel%3D1&reason=timeout"),
        ("/", "/login?reason=timeout"),
        ("/hazards?state=found", "/login?next=/hazards%3Fstate%3Dfound&reason=timeout"),
        ("//evil.example/x", "/login?reason=timeout"),
        ("https://evil.example/", "/login?reason=timeout"),
    ]:
        r = node.client.get("/monitoring/alarms/stream", params={"level": "1", "back": back})
        assert sse_events(r.text) == [("logout", login)], back
    for hostile in ("/x\x07y", "/" + "a" * 20_000):  # a control character, an oversized path
        r = node.client.get("/monitoring/alarms/stream", params={"back": hostile})
        assert r.status_code == 422, hostile[:20]  # refused app-wide (core.inputs)
