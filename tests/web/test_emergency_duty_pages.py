"""值班值守 in the console: the duty officer rosters a shift and sees who is on duty, receives a
call (the event opens in one step), an alarm, an accident quick report and a report from below
with one click each, passes a receipt on (overdue marked), hands over with the open items
taken; refusals answered in Chinese at the page; scope (a sibling county sees nothing of 应县's;
an enterprise user: 403)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import update

from anjian.config import get_settings
from anjian.core.clock import CST
from anjian.emergency.models import EmergencyEvent
from anjian.monitoring.models import Alarm
from samples import recent_accident

PAGE = "/emergency/duty"
COUNTY = "140622"


@pytest.fixture
def county(console: Any) -> Any:
    console.login("yingxian")
    return console


def _post(console: Any, path: str, **fields: str) -> Any:
    data = {"csrf": console.csrf(PAGE), **fields}
    return console.node.client.post(path, data=data, follow_redirects=False)


def _local(value: datetime) -> str:
    """A time as a datetime-local field sends it (Beijing time, to the minute)."""
    return value.astimezone(CST).strftime("%Y-%m-%dT%H:%M")


def _event_id(location: str) -> int:
    match = re.search(r"/emergency/events/(\d+)", location)
    assert match, location
    return int(match.group(1))


def _alarm(node: Any) -> int:
    [point_id] = node.add_points(
        "ying_mine", {"code": "CH4-1", "name": "1201 甲烷", "kind": "ch4", "h": 1.0, "hh": 1.5}
    )
    with node.db() as s:
        alarm = Alarm(
            enterprise_id=node.enterprises["ying_mine"],
            division_code=COUNTY,
            supervision_category="coal_mine",
            point_id=point_id,
            kind="threshold",
            level=1,
            bound="hh",
            threshold=1.5,
            value=1.9,
            raised_at=datetime.now(UTC) - timedelta(minutes=3),
            state="raised",
            origin_node=get_settings().effective_node_id,
        )
        s.add(alarm)
        s.flush()
        return alarm.id


def test_the_duty_page_from_roster_to_handover(county: Any) -> None:
    client = county.node.client
    page = client.get(PAGE).text
    assert 'id="nobody-on-duty"' in page and 'id="inbox-empty"' in page
    assert 'aria-current="page" id="tab-duty"' in page
    for form in ("call-form", "shift-form", "handover-form"):
        assert f'id="{form}"' in page, form

    # 排班: refused in Chinese, then accepted
    now = datetime.now(UTC)
    refused = _post(
        county,
        f"{PAGE}/shifts",
        division_code=COUNTY,
        starts_at=_local(now),
        ends_at=_local(now - timedelta(hours=1)),
        leader="张局长",
        officers="",
    )
    assert refused.status_code == 422
    assert "交班时间" in refused.text or "值班员" in refused.text
    assert 'id="err-officers"' in refused.text
    r = _post(
        county,
        f"{PAGE}/shifts",
        division_code=COUNTY,
        starts_at=_local(now - timedelta(hours=1)),
        ends_at=_local(now + timedelta(hours=11)),
        leader="张局长",
        officers="李值班、王值班",
        duty_phone="0349-5021234",
    )
    assert r.status_code == 303, r.text
    page = client.get(r.headers["location"]).text
    assert "已排班" in page
    assert re.search(r'id="duty-leader">张局长<', page)
    assert "李值班、王值班" in page and 'href="tel:03495021234"' in page
    overlap = _post(
        county,
        f"{PAGE}/shifts",
        division_code=COUNTY,
        starts_at=_local(now),
        ends_at=_local(now + timedelta(hours=2)),
        leader="钱局长",
        officers="赵值班",
    )
    assert overlap.status_code == 409 and "时间重叠" in overlap.text
    assert "delete-shift" not in page  # the shift has started: no delete button
    later = _post(
        county,
        f"{PAGE}/shifts",
        division_code=COUNTY,
        starts_at=_local(now + timedelta(hours=11)),
        ends_at=_local(now + timedelta(hours=23)),
        leader="赵局长",
        officers="孙值班",
    )
    assert later.status_code == 303
    page = client.get(PAGE).text
    [later_id] = re.findall(r"/emergency/duty/shifts/(\d+)/delete", page)
    assert _post(county, f"{PAGE}/shifts/{later_id}/delete").status_code == 303
    assert "赵局长" not in client.get(PAGE).text

    # 电话接报: the receipt and its event in one step
    refused = _post(county, f"{PAGE}/call", content="", open_event="1")
    assert refused.status_code == 422 and "接报内容" in refused.text
    received = now - timedelta(minutes=45)
    r = _post(
        county,
        f"{PAGE}/call",
        received_at=_local(received),
        source="call",
        caller="金鼎煤业调度室",
        content="1201 工作面透水，5 人被困",
        open_event="1",
        title="应县金鼎煤业透水",
        event_type="mine",
        level="4",
        division_code=COUNTY,
    )
    assert r.status_code == 303, r.text
    event_id = _event_id(r.headers["location"])
    page = client.get(r.headers["location"]).text
    assert "事件已登记" in page and "应县金鼎煤业透水" in page and "接报（电话接报）" in page
    page = client.get(PAGE).text
    assert "1201 工作面透水" in page and "超时" in page  # 45 minutes without 转报
    assert 'class="receipt-row table-danger"' in page
    [receipt_id] = re.findall(r"/emergency/duty/receipts/(\d+)/pass-on", page)
    assert 'id="inbox-receipts"' in page and "已等待 45 分钟" in page

    # a call logged without an event stays here
    r = _post(county, f"{PAGE}/call", source="other", caller="市民", content="咨询")
    assert r.status_code == 303 and r.headers["location"] == f"{PAGE}?done=logged"

    # 转报
    bad = _post(
        county,
        f"{PAGE}/receipts/{receipt_id}/pass-on",
        passed_to="张局长",
        passed_on_at=_local(received - timedelta(minutes=5)),
    )
    assert bad.status_code == 422 and "转报时间不能早于接报时间" in bad.text
    assert _post(county, f"{PAGE}/receipts/{receipt_id}/pass-on", passed_to="").status_code == 422
    r = _post(
        county,
        f"{PAGE}/receipts/{receipt_id}/pass-on",
        passed_to="张局长",
        passed_on_at=_local(received + timedelta(minutes=10)),
    )
    assert r.status_code == 303, r.text
    page = client.get(r.headers["location"]).text
    assert "已登记转报" in page and re.search(r"10 分钟\s*</td>", page)
    timeline = client.get(f"/emergency/events/{event_id}").text
    assert "应县值班室转报张局长" in timeline

    # 交接班
    assert _post(county, f"{PAGE}/handovers", handed_by="", taken_by="赵").status_code == 422
    r = _post(county, f"{PAGE}/handovers", handed_by="李值班", taken_by="赵值班", notes="关注透水")
    assert r.status_code == 303, r.text
    page = client.get(r.headers["location"]).text
    assert "交接班已登记" in page and "李值班" in page and "关注透水" in page
    assert "处置中事件 1 起" in page and "应县金鼎煤业透水" in page


def test_one_click_receipts_from_the_inbox(county: Any) -> None:
    node = county.node
    client = node.client
    alarm_id = _alarm(node)
    acc = client.post(
        "/api/v1/accidents",
        json=recent_accident(node, "13698765432"),
        headers=node.login("yingxian"),
    ).json()
    page = client.get(PAGE).text
    assert f'action="/emergency/duty/alarm/{alarm_id}"' in page and "高高报警（严重）" in page
    assert f'action="/emergency/duty/accident/{acc["id"]}"' in page and "冒顶片帮事故" in page

    r = _post(county, f"{PAGE}/alarm/{alarm_id}")
    assert r.status_code == 303, r.text
    page = client.get(r.headers["location"]).text
    assert "事件已登记" in page and "接报（监测报警）" in page
    again = _post(county, f"{PAGE}/alarm/{alarm_id}")
    assert again.status_code == 409 and "应县值班室接报" in again.text

    r = _post(county, f"{PAGE}/accident/{acc['id']}")
    assert r.status_code == 303
    assert "生产安全事故" in client.get(r.headers["location"]).text
    page = client.get(PAGE).text
    assert "inbox-alarm" not in page and "inbox-accident" not in page
    assert _post(county, f"{PAGE}/meteor/1").status_code == 404

    # a report from below: an event kept by the 应县 node, received at the city's desk
    ev = client.post(
        "/api/v1/emergency/events",
        headers=node.login("yingxian"),
        json={"title": "应县某矿瓦斯超限", "event_type": "mine", "division_code": COUNTY},
    ).json()
    with node.db() as s:
        s.execute(
            update(EmergencyEvent)
            .where(EmergencyEvent.id == ev["id"])
            .values(origin_node="node-140622")
        )
    county.login("shuozhou")
    page = client.get(PAGE).text
    assert f'action="/emergency/duty/event/{ev["id"]}"' in page
    r = _post(county, f"{PAGE}/event/{ev['id']}")
    assert r.status_code == 303 and r.headers["location"] == f"{PAGE}?done=below"
    page = client.get(r.headers["location"]).text
    assert "已接报下级报告" in page and "inbox-event" not in page
    assert "朔州市值班室接报" in client.get(f"/emergency/events/{ev['id']}").text
    twice = _post(county, f"{PAGE}/event/{ev['id']}")
    assert twice.status_code == 409


def test_scope_of_the_duty_page(county: Any) -> None:
    client = county.node.client
    alarm_id = _alarm(county.node)
    r = _post(
        county, f"{PAGE}/call", source="call", caller="某人", content="应县的来电", open_event=""
    )
    assert r.status_code == 303
    county.login("shanyin")
    page = client.get(PAGE).text
    assert "应县的来电" not in page and "inbox-alarm" not in page
    refused = _post(county, f"{PAGE}/alarm/{alarm_id}")
    assert refused.status_code == 404
    county.login("sheng")
    assert "应县的来电" in client.get(PAGE).text  # the province sees 应县's desk
    county.login("qiye")
    assert client.get(PAGE).status_code == 403
