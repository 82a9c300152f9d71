"""行政执法 console pages of plans, draws, penalties and statistics, on both databases: pages
show names (enterprises, divisions, officers, legal bases), not codes; a sibling county's
official gets the 404 page; each form does what the API does; a step's button is offered only
where the service would take it; a bad form answers in Chinese at its field, never a 500."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest
from enforcement_pages_world import OFFICERS, build, post_form, redirected_id

from anjian.core.clock import today_in_china
from enforcement_world import API, COUNTY


@pytest.fixture
def county(console: Any) -> Any:
    build(console)
    return console


def _get(console: Any, url: str, status: int = 200) -> str:
    r = console.node.client.get(url)
    assert r.status_code == status, r.text[:2000]
    return r.text


def _text(html: str) -> str:
    """The page's visible text, tags dropped and whitespace squeezed (for phrases that span
    elements)."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _as(console: Any, username: str) -> None:
    console.login(username)


# --- plans ---------------------------------------------------------------------------------------


def test_a_plan_is_made_with_the_form_and_shows_its_months_and_who_is_behind(county: Any) -> None:
    node, year = county.node, today_in_china().year
    html = _get(county, "/enforcement/plans")
    assert "暂无检查计划" in html and 'id="new-plan-button"' in html
    assert 'href="/enforcement/draws"' in html and "执法统计" in html  # the tabs
    html = _get(county, "/enforcement/plans?new=1")
    assert 'id="plan-form"' in html and 'value="4"' in html  # 重大: 4 a year by default
    r = post_form(
        county,
        "/enforcement/plans",
        {
            "name": "年度监督检查计划",
            "year": str(year),
            "categories": ["coal_mine", "metallurgy_trade"],
            "freq_major": "4",
            "freq_significant": "2",
            "freq_general": "1",
            "freq_low": "1",
            "freq_ungraded": "2",
        },
        page="/enforcement/plans?new=1",
    )
    plan_id = redirected_id(r, "/enforcement/plans")
    html = _get(county, f"/enforcement/plans/{plan_id}?done=1")
    assert "年度监督检查计划" in html and "检查计划已制定" in html
    assert "应县" in html and "煤矿、冶金工贸" in html  # names, not codes
    assert "coal_mine" not in _text(html)
    # 6 enterprises, ungraded: 2 a year each → 12 due, cumulative by month ending at 12.
    assert re.search(r'id="fig-enterprises">\s*6<', html)
    assert re.search(r'id="fig-required">\s*12<', html)
    month12 = re.search(r'id="month-12".*?</tr>', html, re.S).group(0)
    assert 'data-col="target">12<' in month12 and 'data-col="done">0<' in month12
    month6 = re.search(r'id="month-6".*?</tr>', html, re.S).group(0)
    assert 'data-col="target">6<' in month6
    # Behind (when the year's first target has come): linked to the enterprises' files.
    if today_in_china().month >= 6:
        mine = node.enterprises["ying_mine"]
        assert f'href="/enterprises/{mine}"' in html and "应县金鼎煤业有限公司" in html
        assert "未评级" in html
    listing = _get(county, "/enforcement/plans")
    row = re.search(rf'id="plan-{plan_id}".*?</tr>', listing, re.S).group(0)
    assert 'data-col="enterprises">6<' in row and 'data-col="required">12<' in row
    assert "应县" in row


def test_a_bad_plan_form_is_answered_in_chinese_at_its_fields(county: Any) -> None:
    page = "/enforcement/plans?new=1"
    r = post_form(county, "/enforcement/plans", {"name": "", "year": "二〇二六"}, page=page)
    assert r.status_code == 422
    assert 'id="err-name"' in r.text and "必填" in r.text
    assert 'id="err-year"' in r.text and "请输入整数" in r.text
    assert "请改正以下项目：计划名称、年度" in r.text
    r = post_form(
        county,
        "/enforcement/plans",
        {"name": "计划", "year": "2026", "freq_major": "99"},
        page=page,
    )
    assert r.status_code == 422 and "每年检查次数应为 0–52 的整数" in r.text
    year = str(today_in_china().year)
    assert post_form(county, "/enforcement/plans", {"name": "计划", "year": year}, page=page)
    r = post_form(county, "/enforcement/plans", {"name": "计划", "year": year}, page=page)
    assert r.status_code == 409 and f"{year} 年已有计划「计划」" in r.text


def test_plans_hold_their_scope(county: Any) -> None:
    node = county.node
    r = node.client.post(
        f"{API}/plans", headers=node.headers, json={"name": "应县计划", "year": 2026}
    )
    plan_id = r.json()["id"]
    _as(county, "shanyin")
    assert "应县计划" not in _get(county, "/enforcement/plans")
    html = _get(county, f"/enforcement/plans/{plan_id}", 404)
    assert "检查计划" in html or "未找到" in html
    _as(county, "shuozhou")  # the city above sees it, and may make its own
    assert "应县计划" in _get(county, "/enforcement/plans")
    _as(county, "qiye")  # an enterprise user: not for them
    assert county.node.client.get("/enforcement/plans").status_code == 403


# --- draws ---------------------------------------------------------------------------------------


def _draw(county: Any, **fields: Any) -> Any:
    data = {
        "division_code": COUNTY,
        "enterprise_count": "3",
        "inspectors_per_check": "2",
        "weights": "uniform",
        "seed": "公开种子-1",
        **fields,
    }
    return post_form(county, "/enforcement/draws/new", data)


def test_a_draw_is_made_with_the_form_and_shows_teams_seed_and_verification(county: Any) -> None:
    html = _get(county, "/enforcement/draws")
    assert "暂无抽查记录" in html and 'href="/enforcement/draws/new"' in html
    form = _get(county, "/enforcement/draws/new")
    assert f'<option value="{COUNTY}" selected>应县</option>' in form
    draw_id = redirected_id(_draw(county), "/enforcement/draws")
    html = _get(county, f"/enforcement/draws/{draw_id}?done=draw")
    assert "抽取完成" in html and "公开种子-1" in html
    assert re.search(r'id="draw-hash">[0-9a-f]{64}<', html)
    assert len(re.findall(r'class="check-row"', html)) == 3
    assert "应县" in html and "等概率" in html and "全部行业" in html
    shown = [n for n in OFFICERS.values() if n in html]
    assert len(shown) >= 2  # teams by name
    assert re.search(r"（1406222026\d\d）", html)  # with their certificate numbers
    assert len(re.findall(r'class="btn btn-sm btn-primary text-nowrap plan-button"', html)) == 3
    assert 'id="verification"' not in html
    html = _get(county, f"/enforcement/draws/{draw_id}?verify=1")
    assert "复核一致" in html and "目前辖区的企业和执法人员与抽取时相同" in html
    listing = _get(county, "/enforcement/draws")
    row = re.search(rf'id="draw-{draw_id}".*?</tr>', listing, re.S).group(0)
    assert "应县" in row and ">3<" in row


def test_the_inspection_of_a_drawn_check_is_planned_once(county: Any) -> None:
    node = county.node
    draw_id = redirected_id(_draw(county), "/enforcement/draws")
    html = _get(county, f"/enforcement/draws/{draw_id}")
    check_id = int(re.search(r'id="check-(\d+)"', html).group(1))
    action = f"/enforcement/draws/{draw_id}/checks/{check_id}/inspection"
    page = f"/enforcement/draws/{draw_id}"
    r = post_form(county, action, {"planned_on": "2026-13-01"}, page=page)
    assert r.status_code == 422 and "日期格式应为 YYYY-MM-DD" in r.text
    r = post_form(county, action, {"planned_on": today_in_china().isoformat()}, page=page)
    assert r.status_code == 303 and r.headers["location"].endswith(f"#check-{check_id}")
    html = _get(county, r.headers["location"].split("#")[0])
    assert "检查已安排" in html
    row = re.search(rf'id="check-{check_id}".*?</tr>', html, re.S).group(0)
    assert "已安排检查" in row and "plan-button" not in row
    found = node.client.get(f"{API}/inspections", headers=node.headers).json()["items"]
    assert [i["draw_check_id"] for i in found] == [check_id]
    assert found[0]["source"] == "draw" and len(found[0]["team"]) == 2
    # Pressed again (a stale page): the service's refusal, in Chinese.
    r = post_form(county, action, {"planned_on": today_in_china().isoformat()}, page=page)
    assert r.status_code == 409 and "该抽查结果已安排检查" in r.text


def test_a_bad_draw_form_is_answered_in_chinese(county: Any) -> None:
    r = _draw(county, enterprise_count="0", inspectors_per_check="1")
    assert r.status_code == 422
    assert 'id="err-enterprise_count"' in r.text and "不能小于 1" in r.text
    assert 'id="err-inspectors_per_check"' in r.text and "不能小于 2" in r.text
    r = _draw(county, enterprise_count="99")
    assert r.status_code == 422 and "抽取数量 99 超过范围内的企业数 6" in r.text
    r = _draw(county, inspectors_per_check="5")
    assert r.status_code == 422 and "不足 5 名" in r.text
    r = _draw(county, division_code="140621")  # 山阴县: not the county's
    assert r.status_code == 404 and "行政区划不在管辖范围内" in r.text
    r = _draw(county, weights="")
    assert r.status_code == 422 and "请选择抽取方式" in r.text


def test_draws_hold_their_scope_and_only_officials_draw(county: Any) -> None:
    draw_id = redirected_id(_draw(county), "/enforcement/draws")
    _as(county, "shanyin")
    assert f'id="draw-{draw_id}"' not in _get(county, "/enforcement/draws")
    _get(county, f"/enforcement/draws/{draw_id}", 404)
    _as(county, "shuozhou")  # the city sees the county's draw and may plan its checks
    html = _get(county, f"/enforcement/draws/{draw_id}")
    assert "公开种子-1" in html
    county.node.add_user("xianadmin", "admin", COUNTY)
    _as(county, "xianadmin")  # an administrator sees draws but does not draw
    html = _get(county, f"/enforcement/draws/{draw_id}")
    assert "plan-button" not in html
    assert "new-draw-button" not in _get(county, "/enforcement/draws")
    assert "只有监管人员可以组织双随机抽查" in _get(county, "/enforcement/draws/new")


# --- penalties -----------------------------------------------------------------------------------


def _file(county: Any, days_ago: int = 30, **fields: Any) -> int:
    filed = today_in_china() - timedelta(days=days_ago)
    data = {
        "enterprise_id": str(county.node.enterprises["ying_mine"]),
        "basis": "SCF102",
        "facts": "北翼回风巷风门损坏未消除",
        "filed_on": filed.isoformat(),
        **fields,
    }
    r = post_form(county, "/enforcement/penalties/new", data)
    return redirected_id(r, "/enforcement/penalties")


def _step(county: Any, case_id: int, step: str, **fields: Any) -> Any:
    page = f"/enforcement/penalties/{case_id}"
    return post_form(county, f"{page}/{step}", fields, page=page)


_DAY_FIELD = {"notice": "notified_on", "decision": "decided_on"}


def _sentence(county: Any, case_id: int, step: str, fine: str, discretion: str, on: date) -> Any:
    """The ``notice`` or the ``decision`` of a ``fine`` (元) at ``discretion``, dated ``on``."""
    fields = {"fine": fine, "discretion": discretion, _DAY_FIELD[step]: on.isoformat()}
    return _step(county, case_id, step, **fields)


def _forms(html: str) -> set[str]:
    return set(re.findall(r'id="form-(\w+)"', html))


def test_a_case_walks_its_steps_with_only_the_accepted_forms_offered(county: Any) -> None:
    today = today_in_china()
    case_id = _file(county, days_ago=30)
    html = _get(county, f"/enforcement/penalties/{case_id}?done=file")
    assert "案件已立案" in html and "应县金鼎煤业有限公司" in html and "已立案" in html
    assert "《安全生产法》第一百零二条" in html and "未采取措施消除事故隐患" in _text(html)
    assert "SCF102" not in _text(html)
    assert _forms(html) == {"notice"}
    # The bands of 0–50 000: 从轻 0–16 667, 一般 16 667–33 333, 从重 33 333–50 000.
    assert re.search(r'data-band="ordinary">16,667\.00–33,333\.00 元<', html)
    notified = today - timedelta(days=20)
    r = _sentence(county, case_id, "notice", "40000", "ordinary", notified)
    assert r.status_code == 422
    assert 'id="err-fine"' in r.text and "一般处罚的罚款应在 16667–33333 元之间" in r.text
    assert "outside" not in r.text  # the rules' English gloss is not shown
    r = _sentence(county, case_id, "notice", "20000", "ordinary", notified)
    assert r.status_code == 303
    html = _get(county, r.headers["location"].split("#")[0])
    assert "行政处罚告知书已出具" in html and 'id="clock-statement"' in html
    assert "20,000.00 元" in html
    # 20 days after the notice the party's periods have run out: a hearing or the decision.
    assert _forms(html) == {"hearing", "decision"}
    doc = re.search(r'href="/api/v1/enforcement/documents/(\d+)\.docx"', html)
    assert doc and "行政处罚告知书" in html and "罚告〔" in html
    r = county.node.client.get(f"/api/v1/enforcement/documents/{doc.group(1)}.docx")
    assert r.status_code == 200 and r.content[:2] == b"PK"
    # A hearing asked for today is out of time: refused at its date, in Chinese.
    r = _step(county, case_id, "hearing", requested_on=today.isoformat())
    assert r.status_code == 409 and 'id="err-requested_on"' in r.text
    assert "听证申请已超过期限" in r.text and "期限已届满" in r.text
    # Heavier than the notice: refused at the fine.
    decided = today - timedelta(days=10)
    r = _sentence(county, case_id, "decision", "30000", "ordinary", decided)
    assert r.status_code == 422 and "决定的罚款不得高于告知的 20000.00 元" in r.text
    assert 'id="err-fine"' in r.text
    r = _sentence(county, case_id, "decision", "18000", "ordinary", decided)
    assert r.status_code == 303
    html = _get(county, f"/enforcement/penalties/{case_id}")
    assert _forms(html) == {"payment"} and "行政处罚决定书" in html
    assert 'id="clock-payment"' in html
    # Served 10 days ago: due in 5 more days, no surcharge yet; a wrong amount names the sum.
    r = _step(county, case_id, "payment", paid_on=today.isoformat(), amount="100")
    assert r.status_code == 422 and "应缴 18000.00 元" in r.text and 'id="err-amount"' in r.text
    r = _step(county, case_id, "payment", paid_on=today.isoformat(), amount="18000")
    assert r.status_code == 303
    html = _get(county, f"/enforcement/penalties/{case_id}")
    assert _forms(html) == {"close"} and "18,000.00 元" in html
    r = _step(county, case_id, "close")
    assert r.status_code == 303
    html = _get(county, f"/enforcement/penalties/{case_id}?done=close")
    assert "案件已结案" in html and _forms(html) == set() and "已结案" in html
    # Pressed again (a stale page): refused in Chinese.
    r = _step(county, case_id, "close")
    assert r.status_code == 409 and "处罚案件已结案，不能转为已结案" in r.text


def test_the_decision_waits_for_the_partys_periods_and_a_late_payment_owes_the_surcharge(
    county: Any,
) -> None:
    today = today_in_china()
    case_id = _file(county, days_ago=0)
    r = _sentence(county, case_id, "notice", "10000", "lenient", today)
    assert r.status_code == 303
    html = _get(county, f"/enforcement/penalties/{case_id}")
    assert _forms(html) == {"hearing"}  # the decision is not offered yet
    r = _step(county, case_id, "hearing", requested_on=today.isoformat())
    assert r.status_code == 303
    html = _get(county, f"/enforcement/penalties/{case_id}")
    assert _forms(html) == {"decision"} and "听证中" in html
    # A case decided 40 days ago, unpaid: the surcharge runs and the form asks for it.
    late_id = _file(county, days_ago=80)
    notified = today - timedelta(days=70)
    _sentence(county, late_id, "notice", "10000", "lenient", notified)
    decided = today - timedelta(days=40)
    r = _sentence(county, late_id, "decision", "10000", "lenient", decided)
    assert r.status_code == 303
    html = _get(county, f"/enforcement/penalties/{late_id}")
    # 25 days late at 3 % a day is 7 500 元 (under the cap of the fine itself).
    assert 'id="payment-late"' in html and "截至今日 7,500.00 元" in html
    assert 'value="17500.00"' in html  # the amount due today, filled in
    row = re.search(rf'id="case-{late_id}".*?</tr>', _get(county, "/enforcement/penalties"), re.S)
    assert "逾期未缴" in row.group(0)
    r = _step(county, late_id, "payment", paid_on=today.isoformat(), amount="17500.00")
    assert r.status_code == 303


def test_a_bad_case_form_is_answered_in_chinese(county: Any) -> None:
    html = _get(county, "/enforcement/penalties/new")
    assert "应县金鼎煤业有限公司" in html and "《安全生产法》第九十四条第一款" in html
    r = post_form(
        county,
        "/enforcement/penalties/new",
        {"enterprise_id": "", "basis": "", "facts": "", "filed_on": "2026-02-30"},
        page="/enforcement/penalties/new",
    )
    assert r.status_code == 422
    assert "请选择当事企业" in r.text and "日期格式应为 YYYY-MM-DD" in r.text
    assert "请改正以下项目" in r.text
    tomorrow = (today_in_china() + timedelta(days=1)).isoformat()
    r = post_form(
        county,
        "/enforcement/penalties/new",
        {
            "enterprise_id": str(county.node.enterprises["ying_mine"]),
            "basis": "SCF102",
            "facts": "事实",
            "filed_on": tomorrow,
        },
        page="/enforcement/penalties/new",
    )
    assert r.status_code == 422 and "日期不能晚于今天" in r.text
    case_id = _file(county)
    r = _step(county, case_id, "notice", fine="abc", discretion="", notified_on="")
    assert r.status_code == 422 and "请输入数字" in r.text
    r = _step(county, case_id, "decision", fine="1", discretion="lenient", decided_on="2026-01-01")
    assert r.status_code == 409 and "不能转为已决定" in r.text
    r = _step(county, case_id, "nonsense")
    assert r.status_code == 422 and "未知操作" in r.text


def test_cases_hold_their_scope_and_only_the_filing_agency_acts(county: Any) -> None:
    case_id = _file(county)
    _as(county, "shanyin")
    assert f'id="case-{case_id}"' not in _get(county, "/enforcement/penalties")
    _get(county, f"/enforcement/penalties/{case_id}", 404)
    token = county.csrf("/enforcement/penalties")
    r = county.node.client.post(
        f"/enforcement/penalties/{case_id}/notice", data={"csrf": token, "fine": "1"}
    )
    assert r.status_code == 404
    (denied,) = county.node.audits("access.denied")  # the refused write is audited
    assert denied.actor_name == "shanyin" and f"/enforcement/penalties/{case_id}/notice" in str(
        denied.detail
    )
    _as(county, "shuozhou")  # the city sees the county's case, without its forms
    html = _get(county, f"/enforcement/penalties/{case_id}")
    assert "应县金鼎煤业有限公司" in html and _forms(html) == set()


# --- statistics ----------------------------------------------------------------------------------


def test_statistics_by_division_with_drill_down_and_the_export(county: Any) -> None:
    year = today_in_china().year
    case_id = _file(county, days_ago=40)
    day = today_in_china() - timedelta(days=30)
    _sentence(county, case_id, "notice", "20000", "ordinary", day)
    r = _sentence(county, case_id, "decision", "20000", "ordinary", day + timedelta(days=15))
    assert r.status_code == 303
    _as(county, "shuozhou")
    html = _get(county, f"/enforcement/statistics?year={year}")
    total = re.search(r'id="row-total">.*?</tr>', html, re.S).group(0)
    assert "朔州市（合计）" in total
    ying = re.search(rf'id="row-{COUNTY}">.*?</tr>', html, re.S).group(0)
    assert "应县" in ying and 'data-col="fines">20,000.00<' in ying
    assert 'data-col="penalties">1<' in ying
    assert 'id="row-140621"' in html and "山阴县" in html  # quiet divisions as zeros
    assert f'data-drill="{COUNTY}"' not in html  # a county has nothing below to drill into
    assert html.index('id="row-total"') < html.index(f'id="row-{COUNTY}"')
    export = re.search(r'href="(/api/v1/enforcement/statistics\.xlsx\?[^"]*)"', html).group(1)
    assert f"year={year}" in export
    r = county.node.client.get(export.replace("&amp;", "&"))
    assert r.status_code == 200 and r.content[:2] == b"PK"
    _as(county, "sheng")  # the province drills into its city
    html = _get(county, f"/enforcement/statistics?year={year}")
    assert 'data-drill="140600"' in html
    html = _get(county, f"/enforcement/statistics?year={year}&division=140600")
    assert "朔州市（合计）" in html and 'id="statistics-path"' in html
    assert "division=140600" in re.search(
        r'id="export-link"[^>]*|href="[^"]*"[^>]*id="export-link"', html
    ).group(0)


def test_statistics_refuse_bad_filters_in_chinese_and_hold_their_scope(county: Any) -> None:
    html = _get(county, "/enforcement/statistics?year=abc", 422)
    assert "年份应为 2000–2100 之间的整数" in html
    html = _get(county, "/enforcement/statistics?division=12", 422)
    assert "行政区划代码应为 6 位数字" in html
    _as(county, "shanyin")
    _get(county, f"/enforcement/statistics?division={COUNTY}", 404)
