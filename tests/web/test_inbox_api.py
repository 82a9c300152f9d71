"""The work inbox (待办) through the API, persona by persona: each sees the work of their own
jurisdiction (or enterprise), the oldest first, with counts that match the items; a sibling
county sees none of the other's; the size of a section is bounded and hostile input refused."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from inbox_world import World, build
from sqlalchemy import select, update

from anjian.accidents.models import Accident, Investigation
from anjian.db import utcnow

API = "/api/v1/inbox"
AGENCY_KEYS = [
    "hazards.register",
    "hazards.accept",
    "hazards.deadline",
    "accidents.report_up",
    "alarms.unacknowledged",
    "directives.sign",
    "accidents.investigations",
    "accidents.reply",
    "major_hazards.filings",
    "enforcement.inspections",
    "enforcement.reviews",
    "enforcement.penalties",
]
ENTERPRISE_KEYS = [
    "hazards.rectify",
    "inspections.due",
    "major_hazards.returned",
    "alarms.unacknowledged",
]


@pytest.fixture
def world(personas: Any) -> World:
    return build(personas)


def _inbox(node: Any, who: str, **params: Any) -> dict[str, Any]:
    cache = node.__dict__.setdefault("_headers", {})
    if who not in cache:
        cache[who] = node.login(who)
    r = node.client.get(API, params=params, headers=cache[who])
    assert r.status_code == 200, r.text
    return r.json()


def _sections(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["key"]: s for s in body["sections"]}


def _urls(section: dict[str, Any]) -> list[str]:
    return [item["url"] for item in section["items"]]


def test_county_official_sees_the_county_work_oldest_first(personas: Any, world: World) -> None:
    ids = world.ids
    body = _inbox(personas, "yingxian")
    assert body["audience"] == "agency"
    got = _sections(body)
    assert list(got) == AGENCY_KEYS
    assert _urls(got["hazards.register"]) == [f"/hazards/{ids['H1']}", f"/hazards/{ids['H2']}"]
    assert _urls(got["hazards.accept"]) == [f"/hazards/{ids['H3']}"]
    # overdue first, then due within the week; H6 (a month away) is not due yet
    deadline = got["hazards.deadline"]
    assert _urls(deadline) == [f"/hazards/{ids['H4']}", f"/hazards/{ids['H5']}"]
    assert [i["overdue"] for i in deadline["items"]] == [True, False]
    assert deadline["items"][0]["detail"] == "应县金鼎煤业有限公司 · 应县"
    assert _urls(got["alarms.unacknowledged"]) == [
        f"/monitoring/alarms/{ids['A1']}",
        f"/monitoring/alarms/{ids['A2']}",
    ]
    assert _urls(got["directives.sign"]) == [
        f"/directives/{ids['D1']}",  # to the city, so to its counties: the oldest
        f"/directives/{ids['D2']}",
    ]  # D4 is signed already
    report_up = got["accidents.report_up"]
    assert _urls(report_up) == [f"/accidents/{ids['AC1']}#chain"]
    item = report_up["items"][0]
    assert item["title"] == "应县金鼎煤业有限公司 冒顶片帮事故"
    assert item["due_at"] and not item["overdue"] and "县级报送环节" in item["detail"]
    assert _urls(got["accidents.investigations"]) == [f"/accidents/{ids['AC1']}#investigation"]
    assert _urls(got["major_hazards.filings"]) == [f"/major-hazards/{ids['M1']}"]
    for section in got.values():
        assert section["count"] == len(section["items"]), section["key"]
        assert section["empty"] and section["link"].startswith("/")
    assert body["total"] == sum(s["count"] for s in got.values())


def test_a_sibling_county_sees_none_of_the_others_work(personas: Any, world: World) -> None:
    ids = world.ids
    ying = {u for s in _inbox(personas, "yingxian")["sections"] for u in _urls(s)}
    shan = _sections(_inbox(personas, "shanyin"))
    # only the city's notice to all its counties is work of both
    assert ying & {u for s in shan.values() for u in _urls(s)} == {f"/directives/{ids['D1']}"}
    assert _urls(shan["hazards.register"]) == [f"/hazards/{ids['S1']}"]
    assert _urls(shan["hazards.deadline"]) == [f"/hazards/{ids['S2']}"]
    assert _urls(shan["alarms.unacknowledged"]) == [f"/monitoring/alarms/{ids['SA1']}"]
    assert _urls(shan["directives.sign"]) == [
        f"/directives/{ids['D3']}",
        f"/directives/{ids['D1']}",
    ]
    assert _urls(shan["accidents.report_up"]) == [f"/accidents/{ids['AC2']}#chain"]
    assert shan["hazards.accept"]["count"] == 0 and shan["hazards.accept"]["items"] == []


def test_province_sees_every_county_and_only_its_own_agency_steps(
    personas: Any, world: World
) -> None:
    ids = world.ids
    got = _sections(_inbox(personas, "sheng"))
    # the whole province, oldest first across counties: S1 (5 days) before H1 (3) and H2 (1)
    assert _urls(got["hazards.register"]) == [f"/hazards/{ids[n]}" for n in ("S1", "H1", "H2")]
    assert _urls(got["alarms.unacknowledged"]) == [
        f"/monitoring/alarms/{ids[n]}" for n in ("SA1", "A1", "A2")
    ]
    assert _urls(got["major_hazards.filings"]) == [
        f"/major-hazards/{ids['SM1']}",
        f"/major-hazards/{ids['M1']}",
    ]
    # the counties' clocks and directives are theirs, not the province's; the city's step has
    # not received the reports yet
    assert got["accidents.report_up"]["count"] == 0
    assert got["directives.sign"]["count"] == 0
    assert got["accidents.investigations"]["count"] == 0
    city = _sections(_inbox(personas, "shuozhou"))
    assert city["accidents.report_up"]["count"] == 0
    assert city["directives.sign"]["count"] == 0  # the city issued them


def test_the_report_waits_for_the_leads_reply_by_its_last_day(personas: Any, world: World) -> None:
    """调查报告待批复: the county that leads the investigation sees its report once submitted,
    due 15 days on, red once past; the sibling county, the city and the province do not; a
    reply clears it."""
    ids = world.ids
    ying = personas.login("yingxian")
    base = f"/api/v1/accidents/{ids['AC1']}/investigation"
    assert _sections(_inbox(personas, "yingxian"))["accidents.reply"]["count"] == 0
    assert personas.client.post(f"{base}/report", json={}, headers=ying).status_code == 200
    section = _sections(_inbox(personas, "yingxian"))["accidents.reply"]
    assert _urls(section) == [f"/accidents/{ids['AC1']}#investigation"]
    item = section["items"][0]
    assert item["due_date"] == str(world.today + timedelta(days=15)) and not item["overdue"]
    assert item["title"] == "应县金鼎煤业有限公司 冒顶片帮事故"
    for other in ("shanyin", "shuozhou", "sheng"):
        assert _sections(_inbox(personas, other))["accidents.reply"]["count"] == 0, other
    with personas.db() as s:  # submitted 16 days ago: one day past the last
        s.execute(
            update(Investigation)
            .where(
                Investigation.accident_uid
                == select(Accident.uid).where(Accident.id == ids["AC1"]).scalar_subquery()
            )
            .values(report_submitted_at=utcnow() - timedelta(days=16))
        )
        s.commit()
    item = _sections(_inbox(personas, "yingxian"))["accidents.reply"]["items"][0]
    assert item["due_date"] == str(world.today - timedelta(days=1)) and item["overdue"]
    reply = {
        "replied_on": str(world.today),
        "reply_by": "应县人民政府",
        "reply_doc_no": "应政函〔2026〕1号",
    }
    assert personas.client.post(f"{base}/reply", json=reply, headers=ying).status_code == 200
    assert _sections(_inbox(personas, "yingxian"))["accidents.reply"]["count"] == 0


def test_enterprise_user_sees_their_rectifications_tasks_and_alarms(
    personas: Any, world: World
) -> None:
    ids = world.ids
    body = _inbox(personas, "qiye")
    assert body["audience"] == "enterprise"
    got = _sections(body)
    assert list(got) == ENTERPRISE_KEYS
    # every open rectification, the earliest deadline first (the overdue one on top)
    rectify = got["hazards.rectify"]
    assert _urls(rectify) == [f"/hazards/{ids[n]}" for n in ("H4", "H5", "H6")]
    assert rectify["items"][0]["overdue"] and rectify["items"][0]["due_date"]
    # the task missed two days ago (still to do, late) before today's; one missed 20 days
    # ago and the done one are not work any more
    tasks = got["inspections.due"]
    assert _urls(tasks) == [f"/inspections/{ids['T_missed']}", f"/inspections/{ids['T_today']}"]
    assert tasks["items"][0]["title"] == "采煤工作面班前检查（班组长）"
    assert [i["overdue"] for i in tasks["items"]] == [True, False]
    assert _urls(got["major_hazards.returned"]) == [f"/major-hazards/{ids['M2']}"]
    assert "请补充包保责任人" in got["major_hazards.returned"]["items"][0]["detail"]
    assert _urls(got["alarms.unacknowledged"]) == [
        f"/monitoring/alarms/{ids['A1']}",
        f"/monitoring/alarms/{ids['A2']}",
    ]
    for section in got.values():
        assert section["count"] == len(section["items"])


def test_inspection_bureau_sees_coal_mines_only(personas: Any, world: World) -> None:
    got = _sections(_inbox(personas, "jianchaju"))
    ids = world.ids
    assert _urls(got["hazards.register"]) == [f"/hazards/{ids['H1']}", f"/hazards/{ids['H2']}"]
    assert _urls(got["alarms.unacknowledged"]) == [
        f"/monitoring/alarms/{ids['A1']}",
        f"/monitoring/alarms/{ids['A2']}",
    ]
    # a coal-mine inspection bureau is no link of the accident reporting chain
    assert got["accidents.report_up"]["count"] == 0


def test_limit_keeps_the_count_and_the_oldest(personas: Any, world: World) -> None:
    got = _sections(_inbox(personas, "sheng", limit=1))
    register = got["hazards.register"]
    assert register["count"] == 3 and _urls(register) == [f"/hazards/{world.ids['S1']}"]
    empty = _sections(_inbox(personas, "sheng", limit=0))
    assert empty["hazards.register"]["count"] == 3 and empty["hazards.register"]["items"] == []


def test_an_empty_inbox_says_what_it_means(personas: Any) -> None:
    got = _sections(_inbox(personas, "yingxian"))
    assert all(s["count"] == 0 and s["items"] == [] for s in got.values())
    assert "都已核查登记" in got["hazards.register"]["empty"]


@pytest.mark.parametrize(
    "limit",
    ["-1", "51", str(10**30), "1\x00", "abc", "9" * 500],
)
@pytest.mark.one_backend
def test_hostile_limit_is_refused_naming_the_field(personas: Any, limit: str) -> None:
    r = personas.client.get(API, params={"limit": limit}, headers=personas.login("yingxian"))
    assert r.status_code == 422, r.text
    assert r.json()["field"] == "limit"


def test_no_inbox_without_a_session(personas: Any) -> None:
    assert personas.client.get(API).status_code == 401


def test_administrator_sees_the_accounts_to_look_after_besides_the_agency_work(
    personas: Any, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from anjian.config import get_settings
    from anjian.core.iam.models import User

    admin = _inbox(personas, "admin")  # logged in before officials must enrol
    assert admin["audience"] == "admin"
    got = _sections(admin)
    assert list(got) == ["accounts.locked", "accounts.mfa_pending", *AGENCY_KEYS]
    assert got["accounts.locked"]["count"] == 0
    assert got["accounts.mfa_pending"]["count"] == 0  # no role requires MFA on this node
    # an official never sees the accounts' upkeep, though the work of the agency is the same
    official = _sections(_inbox(personas, "sheng"))
    assert "accounts.locked" not in official and "accounts.mfa_pending" not in official

    with personas.db() as s:
        s.execute(update(User).where(User.username == "shanyin").values(locked_by_admin=True))
        s.execute(
            update(User)
            .where(User.username == "yingxian")
            .values(locked_until=utcnow() + timedelta(minutes=20), failed_attempts=5)
        )
        # a lock that has ended is no work
        s.execute(
            update(User)
            .where(User.username == "sheng")
            .values(locked_until=utcnow() - timedelta(minutes=1))
        )
        s.execute(update(User).where(User.username == "shuozhou").values(mfa_enabled=True))
    monkeypatch.setenv("ANJIAN_MFA_REQUIRED_ROLES", '["official"]')
    get_settings.cache_clear()
    users = personas.users
    got = _sections(_inbox(personas, "admin"))
    locked = got["accounts.locked"]
    assert locked["count"] == 2
    # locked by an administrator first: nobody else will lift it
    assert _urls(locked) == [
        f"/admin/users/{users['shanyin']}",
        f"/admin/users/{users['yingxian']}",
    ]
    assert locked["items"][0]["detail"] == "监管人员 · 山阴县 · 管理员锁定"
    assert locked["items"][1]["detail"].endswith("登录失败锁定")
    assert locked["items"][1]["due_at"] is not None
    pending = got["accounts.mfa_pending"]
    # the officials who have not enrolled; the admin and the enterprise user are not required to
    assert sorted(_urls(pending)) == sorted(
        f"/admin/users/{users[n]}" for n in ("sheng", "yingxian", "shanyin", "jianchaju")
    )
    assert pending["count"] == 4


def test_counts_past_the_count_limit_say_they_are_estimates(
    personas: Any, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from anjian.config import get_settings

    monkeypatch.setenv("ANJIAN_LIST_COUNT_LIMIT", "1")
    get_settings.cache_clear()
    body = _inbox(personas, "sheng")
    got = _sections(body)
    register = got["hazards.register"]  # three wait: past the limit of one
    assert register["count"] >= 2 and register["count_exact"] is False
    assert got["accidents.report_up"]["count"] <= 1 and got["accidents.report_up"]["count_exact"]
    assert body["total_exact"] is False
