"""事故报送 pages: the quick report form, the list, and one accident's chain, follow-ups and
investigation through their forms, as console users meet them (one node keeping every step)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from anjian.accidents.models import Accident, AccidentStep
from anjian.core.audit.models import AuditRecord
from anjian.db import utcnow
from anjian.web.render import CST

PLACE = "应县金鼎煤业 1201 工作面"


def _local(ago: timedelta = timedelta(minutes=20)) -> str:
    """A time as the form's datetime-local field sends it (Beijing time)."""
    return (utcnow() - ago).astimezone(CST).strftime("%Y-%m-%dT%H:%M")


def _file(console: Any, **fields: str):  # type: ignore[no-untyped-def]
    data = {
        "csrf": console.csrf("/accidents/new"),
        "occurred_at": _local(),
        "division_code": "140622",
        "place": PLACE,
        "accident_type": "roof_fall",
        "reporter": "李安全",
        "reporter_phone": "13698765432",
        **fields,
    }
    return console.node.client.post("/accidents/new", data=data, follow_redirects=False)


def _filed(console: Any, **fields: str) -> str:
    """File a report through the form; the detail page's path."""
    r = _file(console, **fields)
    assert r.status_code == 303, r.text
    return r.headers["location"].split("?")[0]


def _post(console: Any, url: str, action: str, **fields: str):  # type: ignore[no-untyped-def]
    data = {"csrf": console.csrf(url), **fields}
    return console.node.client.post(f"{url}/{action}", data=data)


def _count(node: Any) -> int:
    with node.db() as s:
        return int(s.scalar(select(func.count()).select_from(Accident)) or 0)


def _step(html: str, tier: str) -> str:
    match = re.search(rf'id="step-{tier}".*?(?=id="step-|<div class="form-hint)', html, re.S)
    assert match, f"no {tier} step on the page"
    return match.group(0)


def test_the_quick_report_is_filed_graded_and_listed(console) -> None:
    console.login("yingxian")
    client = console.node.client
    form = client.get("/accidents/new").text
    # the county official's own county and name are filled in; the rest is folded away
    assert '<option value="140622" selected>应县</option>' in form
    assert (
        'name="reporter" id="f-reporter" maxlength="64" class="form-control" value="yingxian"'
        in form
    )
    assert "更多信息（可稍后续报）" in form and '<details class="mt-4" id="more-info">' in form
    assert '<script src="/static/accidents.js">' in form
    r = _file(console, deaths="2", missing="1", summary="顶板来压，支架失稳")
    assert r.status_code == 303 and r.headers["location"].endswith("?done=report")
    detail = client.get(r.headers["location"]).text
    assert "事故快报已报送" in detail
    assert 'id="accident-grade">较大事故<' in detail and 'id="accident-provisional"' in detail
    assert 'id="accident-report-to">省级<' in detail and "顶板来压，支架失稳" in detail
    # the county agency is on the chain: it handles the accident and reaches the reporter at
    # once (the masked view of officials not handling it: tests/web/test_contacts_pages.py)
    assert 'href="tel:13698765432"' in detail
    county = _step(detail, "county")
    assert "县级 · 应县" in county and "已接收" in county and "待上报" in county
    # both clocks: the county's own 2 h from its receipt, and the statutory one
    assert 'class="accident-clock' in county and "本级时限" in county and "法定上报时限" in county
    assert "市级 · 朔州市" in _step(detail, "city") and "省级 · 山西省" in detail
    listing = client.get("/accidents").text
    assert PLACE in listing and "较大" in listing and "暂定" in listing
    assert 'id="accident-total">1<' in listing and "迟报" not in listing
    assert 'href="/accidents/new"' in listing and "事故快报" in listing
    assert 'href="/accidents"' in listing and "事故报送" in listing  # the nav entry
    # filters: the grade, the type, the division
    assert 'id="accident-total">0<' in client.get("/accidents?grade=4").text
    assert 'id="accident-total">1<' in client.get("/accidents?accident_type=roof_fall").text
    assert 'id="accident-total">0<' in client.get("/accidents?accident_type=fire").text
    assert 'id="accident-total">1<' in client.get("/accidents?division=140622").text
    bad = client.get("/accidents?grade=9")
    assert 'id="error"' in bad.text and "事故等级应为 1–4" in bad.text
    # the city sees it too
    console.login("shuozhou")
    assert PLACE in console.node.client.get("/accidents").text
    with console.node.db() as s:
        assert s.scalars(
            select(AuditRecord.action).where(AuditRecord.action == "accident.report")
        ).all() == ["accident.report"]


def test_a_late_report_is_marked_in_the_list_and_the_clock_shows_overdue(console) -> None:
    """A report filed 4 h after the accident: the unit was late (迟报 in the list, 单位迟报 at
    the county), and the statutory clock is past; the county's own 2 h have just begun, so the
    county itself is not late (Art. 11) until they run out."""
    console.login("yingxian")
    url = _filed(console, occurred_at=_local(timedelta(hours=4)))
    listing = console.node.client.get("/accidents").text
    assert "accident-late" in listing and "迟报" in listing
    county = _step(console.node.client.get(url).text, "county")
    assert "step-late" not in county and "单位迟报" in county
    own = re.search(r'step-clock-own">.*?</div>', county, re.S)
    statutory = re.search(r'step-clock-statutory">.*?</div>', county, re.S)
    assert own and statutory
    assert "剩余 1 小时 5" in own.group(0) and 'accident-clock"' in own.group(0)  # not red
    assert "已超时" in statutory.group(0) and "accident-clock text-orange" in statutory.group(0)
    # the county's own 2 h run out: now it is late itself
    with console.node.db() as s:
        step = s.scalars(select(AccidentStep).where(AccidentStep.tier == "county")).one()
        step.received_at = utcnow() - timedelta(hours=2, minutes=1)
    county = _step(console.node.client.get(url).text, "county")
    assert "step-late" in county and "已超时" in county and "text-red fw-bold" in county


def test_missing_fields_are_named_and_nothing_is_saved(console) -> None:
    console.login("yingxian")
    r = _file(console, place="", deaths="2")
    assert r.status_code == 422
    assert "请改正以下项目：地点" in r.text and 'id="err-place"' in r.text
    assert 'id="more-info" open' in r.text  # what was typed below stays visible
    r = _file(console, reporter_phone="", accident_type="", occurred_at="昨天")
    assert r.status_code == 422
    assert "联系电话" in r.text and "事故类别" in r.text and "发生时间" in r.text
    assert "时间格式应为" in r.text
    r = _file(console, deaths="-1", direct_loss_cny="很多")
    assert r.status_code == 422 and "不能小于 0" in r.text and 'id="err-direct_loss_cny"' in r.text
    future = (utcnow() + timedelta(hours=2)).astimezone(CST).strftime("%Y-%m-%dT%H:%M")
    r = _file(console, occurred_at=future)
    assert r.status_code == 422 and "不能晚于当前时间" in r.text
    assert _count(console.node) == 0


def test_a_place_outside_the_jurisdiction_is_refused(console) -> None:
    console.login("yingxian")
    form = console.node.client.get("/accidents/new").text
    assert "140621" not in form  # 山阴县 is not offered to 应县
    r = _file(console, division_code="140621")
    assert r.status_code == 403 and "事故发生地不在您的管辖范围内" in r.text
    assert 'id="err-division_code"' in r.text
    assert _count(console.node) == 0
    with console.node.db() as s:
        denied = s.scalars(select(AuditRecord).where(AuditRecord.action == "access.denied")).all()
        assert denied and denied[-1].detail["path"] == "/accidents/new"


def test_the_report_up_button_stamps_the_agencys_step(console) -> None:
    console.login("yingxian")
    url = _filed(console, deaths="3")
    detail = console.node.client.get(url).text
    assert 'id="report-up-button">县级上报<' in detail
    r = _post(console, url, "report-up")
    assert r.status_code == 200 and "已上报，上报时间已记录" in r.text
    county = _step(r.text, "county")
    assert "已上报" in county and "yingxian" in county and "accident-clock" not in county
    assert 'id="report-up-button"' not in r.text
    again = _post(console, url, "report-up")
    assert again.status_code == 409 and "本级没有待上报的环节" in again.text
    # the city has received it and now has its own button
    console.login("shuozhou")
    detail = console.node.client.get(url).text
    assert 'id="report-up-button">市级上报<' in detail
    assert "待上报" in _step(detail, "city")
    r = _post(console, url, "report-up")
    assert "已上报" in _step(r.text, "city") and "已接收" in _step(r.text, "province")
    console.login("sheng")  # the top of the chain for 较大: nothing to pass on
    assert 'id="report-up-button"' not in console.node.client.get(url).text


def test_a_follow_up_regrades_the_accident(console) -> None:
    console.login("yingxian")
    url = _filed(console)
    assert 'id="accident-grade">一般事故<' in console.node.client.get(url).text
    r = _post(console, url, "follow-up", deaths="11", note="")
    assert r.status_code == 422 and 'id="err-note"' in r.text and "续报内容" in r.text
    assert 'value="11"' in r.text  # what was typed stays
    r = _post(console, url, "follow-up", deaths="11", missing="0", note="伤员抢救无效")
    assert r.status_code == 200 and "续报已记录" in r.text
    assert 'id="accident-grade">重大事故<' in r.text and 'id="accident-report-to">国家级<' in r.text
    assert 'id="n-deaths">11<' in r.text and "1 次" in r.text
    assert 'data-tier="national"' in r.text  # the chain now reaches the national level


def test_the_investigation_through_its_forms(console) -> None:
    console.login("yingxian")
    url = _filed(console, deaths="3")  # 较大: the city leads
    detail = console.node.client.get(url).text
    # the county is not offered what it would be refused (the same rule decides both)
    assert "应由市级政府组织调查" in detail and 'id="investigation-open-form"' not in detail
    r = _post(console, url, "investigation", team="县调查组")
    assert r.status_code == 403 and "该事故应由市级政府组织调查" in r.text
    console.login("shuozhou")
    detail = console.node.client.get(url).text
    assert 'id="investigation-open-form"' in detail
    assert 'id="entrust-choice"' not in detail  # a 较大 accident is never entrusted
    r = _post(console, url, "investigation", team="")
    assert r.status_code == 422 and 'id="err-team"' in r.text
    r = _post(console, url, "investigation", team="市政府事故调查组：张、李、王")
    assert r.status_code == 200 and "已立案调查" in r.text
    assert 'id="investigation-state">调查中<' in r.text and "朔州市" in r.text
    assert "{# supervision #}" not in r.text  # the markers are template comments
    r = _post(
        console, url, "investigation-update", direct_causes="顶板支护失效", extension_days="30"
    )
    assert r.status_code == 200 and "调查情况已保存" in r.text
    assert "已延期 30 日" in r.text and 'id="i-extension_days"' not in r.text  # one extension
    assert "顶板支护失效" in r.text
    r = _post(console, url, "investigation-close", direct_causes="顶板支护失效")
    assert (
        r.status_code == 422 and "结案前须填写 事故性质" in r.text and 'id="err-nature"' in r.text
    )
    closing = {
        "direct_causes": "顶板支护失效",
        "nature": "责任事故",
        "responsibility": "矿长负主要责任",
        "measures": "全面排查顶板",
    }
    r = _post(console, url, "investigation-close", **closing)
    assert r.status_code == 200 and "调查已结案" in r.text
    assert 'id="investigation-state">已结案<' in r.text and 'id="investigation-form"' not in r.text
    assert "矿长负主要责任" in r.text
    actions = [r.action for r in console.node.audits("investigation.%")]
    assert actions == [
        "investigation.open",
        "investigation.update",
        "investigation.update",
        "investigation.close",
    ]


def test_an_enterprise_user_sees_only_its_own_accidents(console) -> None:
    node = console.node
    console.login("shanyin")
    other = _filed(
        console,
        division_code="140621",
        place="晋北化工罐区",
        enterprise_id=str(node.enterprises["shan_chem"]),
    )
    console.login("qiye")
    form = node.client.get("/accidents/new").text
    assert "应县金鼎煤业有限公司" in form and "山阴县晋北化工" not in form
    assert '<option value="140622" selected>应县</option>' in form
    assert '<details class="mt-4" id="more-info">' in form  # still folded
    own = _filed(console, enterprise_id=str(node.enterprises["ying_mine"]), reporter="王矿长")
    listing = node.client.get("/accidents").text
    assert PLACE in listing and "晋北化工罐区" not in listing
    assert node.client.get(other).status_code == 404
    detail = node.client.get(own).text
    assert "应县金鼎煤业有限公司" in detail and 'id="follow-up-form"' in detail
    assert 'id="report-up-button"' not in detail and 'id="investigation-open-form"' not in detail
    # the agencies' actions are refused, not just hidden
    r = _post(console, own, "report-up")
    assert r.status_code == 403 and "企业用户" in r.text
    # another enterprise's accident cannot be filed either
    r = _file(console, enterprise_id=str(node.enterprises["shan_chem"]))
    assert r.status_code in (403, 404) and _count(node) == 2


def test_the_grade_preview_and_the_script(console) -> None:
    console.login("yingxian")
    client = console.node.client
    g = client.get("/accidents/grade-preview?deaths=2&missing=1").json()
    assert (g["grade"], g["provisional"], g["report_to"]) == ("较大", True, "省级")
    assert client.get("/accidents/grade-preview?deaths=abc").json()["error"]
    js = client.get("/static/accidents.js")
    assert js.status_code == 200 and "javascript" in js.headers["content-type"]
    assert "accident-clock" in js.text
    client.cookies.clear()
    assert client.get("/accidents/grade-preview", follow_redirects=False).status_code == 303


def test_supervision_and_corrective_measures_through_their_forms(console) -> None:
    from datetime import date

    console.login("yingxian")
    url = _filed(console, deaths="3", enterprise_id="")  # 较大: the city leads
    assert 'id="supervision-form"' not in console.node.client.get(url).text  # the county is below
    console.login("shuozhou")
    _post(console, url, "investigation", team="市政府事故调查组")
    assert 'id="supervision-form"' not in console.node.client.get(url).text  # the lead itself
    soon = str(date.today() + timedelta(days=30))
    r = _post(console, url, "measure-add", content="", responsible="应县金鼎煤业", due_date=soon)
    assert r.status_code == 422 and 'id="err-content"' in r.text
    r = _post(
        console,
        url,
        "measure-add",
        content="顶板专项整治",
        responsible="应县金鼎煤业",
        due_date=soon,
    )
    assert r.status_code == 200 and "整改措施已记录" in r.text and "顶板专项整治" in r.text
    measure = re.search(r'id="measure-(\d+)"', r.text)
    assert measure is not None
    r = _post(console, url, "measure-progress", measure_id=measure.group(1), note="已完成 2 个面")
    assert r.status_code == 200 and "已完成 2 个面" in r.text
    # the province, above the city, puts the case under supervision
    console.login("sheng")
    page = console.node.client.get(url).text
    assert 'id="supervision-form"' in page
    r = _post(console, url, "supervise", requirements="", due_date=soon)
    assert r.status_code == 422 and 'id="err-requirements"' in r.text
    r = _post(console, url, "supervise", requirements="严肃查处，按期报送进展", due_date=soon)
    assert r.status_code == 200 and 'id="supervision-state">督办中<' in r.text
    assert "严肃查处，按期报送进展" in r.text and 'id="supervision-form"' not in r.text
    r = _post(console, url, "measure-verify", measure_id=measure.group(1), note="现场核查合格")
    assert r.status_code == 200 and "已验收" in r.text
    r = _post(console, url, "measure-verify", measure_id=measure.group(1), note="again")
    assert r.status_code == 409 and "已验收" in r.text
    r = _post(console, url, "measure-verify", measure_id="x", note="ok")
    assert r.status_code == 422
    # the city sees the order addressed to it
    console.login("shuozhou")
    assert 'id="supervision-link"' in console.node.client.get(url).text


def test_the_report_up_button_is_the_agencys_not_the_inspection_bureaus(console) -> None:
    node = console.node
    acc = node.client.post(
        "/api/v1/accidents",
        json={
            "occurred_at": (utcnow() - timedelta(minutes=20)).isoformat(),
            "division_code": "140622",
            "enterprise_id": node.enterprises["ying_mine"],
            "place": PLACE,
            "accident_type": "roof_fall",
            "reporter": "李安全",
            "reporter_phone": "13698765432",
            "deaths": 3,
        },
        headers=node.login("yingxian"),
    ).json()
    url = f"/accidents/{acc['id']}"
    assert node.client.post(f"/api/v1{url}/report-up", headers=node.login("yingxian")).is_success
    console.login("jianchaju")  # 煤矿安全监察分局, in 140600 like the city's agency
    page = node.client.get(url)
    assert page.status_code == 200 and "report-up-button" not in page.text
    assert "应急管理部门" in _post(console, url, "report-up").text
    console.login("shuozhou")
    assert "report-up-button" in node.client.get(url).text


def test_after_the_window_only_the_direct_loss_is_offered(console) -> None:
    """Past 24:00 of the 30th day casualty numbers are closed (the fields are disabled, the
    page says until when they were open); the direct loss can still be updated."""
    console.login("yingxian")
    url = _filed(console, occurred_at=_local(timedelta(days=31)), known_at=_local())
    page = console.node.client.get(url).text
    assert 'id="follow-up-closed"' in page and "24:00" in page
    assert re.search(r'id="u-deaths"[^>]*disabled', page)
    r = _post(console, url, "follow-up", direct_loss_cny="15000000", note="损失核定")
    assert r.status_code == 200 and 'id="accident-grade">较大事故<' in r.text


def test_a_near_miss_through_the_quick_report(console) -> None:
    console.login("yingxian")
    form = console.node.client.get("/accidents/new").text
    assert 'id="f-kind"' in form and "较大涉险事故" in form and 'id="f-near_miss_criterion"' in form
    assert '<details class="mt-4" id="more-info">' in form  # the kind does not unfold the rest
    r = _file(console, kind="near_miss")
    assert r.status_code == 422 and 'id="err-near_miss_criterion"' in r.text
    url = _filed(console, kind="near_miss", near_miss_criterion="evacuated_500")
    detail = console.node.client.get(url).text
    assert 'id="accident-kind">较大涉险事故<' in detail and 'id="accident-grade"' not in detail
    assert "紧急疏散人员 500 人以上" in detail and 'id="accident-report-to">省级<' in detail
    assert 'data-tier="province"' in detail
    listing = console.node.client.get("/accidents").text
    assert "accident-near-miss" in listing
    assert 'id="accident-total">0<' in console.node.client.get("/accidents?kind=accident").text
    assert 'id="accident-total">1<' in console.node.client.get("/accidents?kind=near_miss").text


def test_the_entrust_choice_is_offered_only_where_the_service_accepts_it(console) -> None:
    console.login("yingxian")
    unhurt = _filed(console, deaths="0", missing="0", direct_loss_cny="20000")
    hurt = _filed(console, minor_injuries="1")
    page = console.node.client.get(unhurt).text
    assert 'id="investigation-open-form"' in page and 'id="entrust-choice"' in page
    page = console.node.client.get(hurt).text
    assert 'id="investigation-open-form"' in page and 'id="entrust-choice"' not in page
    r = _post(console, hurt, "investigation", team="县调查组", entrusted_to_unit="1")
    assert r.status_code == 409 and "造成人员伤亡的事故不能委托" in r.text
    console.login("shuozhou")  # the city may take it over, but not entrust it
    page = console.node.client.get(unhurt).text
    assert 'id="investigation-open-form"' in page and 'id="entrust-choice"' not in page
    console.login("yingxian")
    r = _post(console, unhurt, "investigation", team="应县金鼎煤业调查组", entrusted_to_unit="1")
    assert r.status_code == 200 and 'id="investigation-entrusted"' in r.text


def test_the_report_and_its_reply_through_their_forms(console) -> None:
    from anjian.core.clock import today_in_china

    console.login("shuozhou")
    url = _filed(console, deaths="3")  # 较大: the city leads
    _post(console, url, "investigation", team="市政府事故调查组")
    page = console.node.client.get(url).text
    assert 'id="report-form"' in page and 'id="reply-form"' not in page
    console.login("yingxian")  # the county sees the file, not the city's forms
    assert 'id="report-form"' not in console.node.client.get(url).text
    console.login("shuozhou")
    assert "报告提交后起算" in page
    assert 'id="i-reply_extension_days"' not in page  # 较大: no extension of the reply
    r = _post(console, url, "investigation-report", submitted_at="明天")
    assert r.status_code == 422 and 'id="err-submitted_at"' in r.text
    r = _post(console, url, "investigation-report", submitted_at="")
    assert r.status_code == 200 and "批复时限开始计算" in r.text
    assert 'id="reply-form"' in r.text and 'id="reply-clock"' in r.text
    assert "剩余 15 日" in r.text or "剩余 14 日" in r.text
    today = str(today_in_china())
    r = _post(console, url, "investigation-reply", replied_on=today, reply_by="", reply_doc_no="x")
    assert r.status_code == 422 and 'id="err-reply_by"' in r.text
    r = _post(
        console,
        url,
        "investigation-reply",
        replied_on=today,
        reply_by="朔州市人民政府",
        reply_doc_no="朔政函〔2026〕88号",
    )
    assert r.status_code == 200 and "批复已记录" in r.text
    assert "朔政函〔2026〕88号" in r.text and 'id="reply-form"' not in r.text
    assert 'id="reply-overdue"' not in r.text


def test_the_investigation_form_is_the_leads_or_above(console) -> None:
    """The county reads the city's investigation without its edit and 结案 forms, and a post
    is refused as by the API; the city and the province are offered them."""
    console.login("shuozhou")
    url = _filed(console, deaths="3")  # 较大: the city leads
    _post(console, url, "investigation", team="市政府事故调查组")
    assert 'id="investigation-form"' in console.node.client.get(url).text
    console.login("yingxian")
    page = console.node.client.get(url).text
    assert 'id="investigation-findings"' in page
    assert 'id="investigation-form"' not in page and 'id="investigation-close"' not in page
    for action in ("investigation-update", "investigation-close"):
        r = _post(console, url, action, direct_causes="县里改的")
        assert r.status_code == 403 and "县里改的" not in r.text, action
    console.login("sheng")
    page = console.node.client.get(url).text
    assert 'id="investigation-form"' in page and 'id="investigation-close"' in page
    r = _post(console, url, "investigation-update", direct_causes="顶板支护失效")
    assert r.status_code == 200 and "调查情况已保存" in r.text
