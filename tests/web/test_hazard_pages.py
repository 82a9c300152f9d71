"""隐患治理 pages: the ledger, the report form and the loop's forms, as console users meet them."""

from __future__ import annotations

from datetime import timedelta

from anjian.db import utcnow


def _report(console, **form: str):
    client = console.node.client
    data = {
        "csrf": console.csrf("/hazards/new"),
        "enterprise_id": str(console.node.enterprises["ying_mine"]),
        "place": "井下中央变电所",
        "description": "变电所防火门未关闭",
        "category": "site",
        **form,
    }
    return client.post("/hazards/new", data=data, follow_redirects=False)


def test_an_enterprise_user_reports_and_sees_the_next_step(console) -> None:
    console.login("qiye")
    new = console.node.client.get("/hazards/new").text
    assert "应县金鼎煤业有限公司" in new and "山阴县晋北化工" not in new
    r = _report(console)
    assert r.status_code == 303 and "?done=report" in r.headers["location"]
    detail = console.node.client.get(r.headers["location"]).text
    assert "隐患已上报" in detail and "待登记" in detail and 'id="register-form"' in detail
    ledger = console.node.client.get("/hazards").text
    assert "井下中央变电所" in ledger and 'id="stat-found">1<' in ledger


def test_form_errors_are_shown_at_their_fields(console) -> None:
    console.login("qiye")
    r = _report(console, place="")
    assert r.status_code == 422 and "不能为空" in r.text
    created = _report(console)
    url = created.headers["location"].split("?")[0]
    console.login("yingxian")
    data = {"csrf": console.csrf(url), "grade": "major", "deadline": "", "responsible": ""}
    r = console.node.client.post(f"{url}/register", data=data)
    assert r.status_code == 422 and "is-invalid" in r.text
    # an illegal step is refused with the loop's own message
    r = console.node.client.post(f"{url}/accept", data={"csrf": console.csrf(url)})
    assert r.status_code == 409 and "待登记" in r.text and "不能执行" in r.text


def test_an_official_registers_and_accepts_through_the_forms(console) -> None:
    console.login("qiye")
    url = _report(console).headers["location"].split("?")[0]
    console.login("yingxian")
    deadline = (utcnow().date() + timedelta(days=3)).isoformat()
    data = {
        "csrf": console.csrf(url),
        "grade": "general",
        "deadline": deadline,
        "responsible": "李安全",
        "measures": "关闭防火门并设专人检查",
    }
    assert console.node.client.post(f"{url}/register", data=data).status_code == 200
    console.login("qiye")
    for action, note in (("start", ""), ("finish", "已关闭并张贴警示")):
        r = console.node.client.post(
            f"{url}/{action}", data={"csrf": console.csrf(url), "note": note}
        )
        assert r.status_code == 200
    mine = console.node.client.post(f"{url}/accept", data={"csrf": console.csrf(url)})
    assert mine.status_code == 403 and "整改人" in mine.text
    console.login("yingxian")
    r = console.node.client.post(f"{url}/accept", data={"csrf": console.csrf(url), "note": "合格"})
    assert "已销号" in r.text and 'id="closed-summary"' in r.text


def test_no_write_off_button_while_a_supervision_order_is_open(console) -> None:
    """The page offers 验收销号 only when the service would take it: under an open 挂牌督办 the
    hazard can be sent back, not written off (the service answers 409)."""
    api = console.node.client
    console.login("qiye")
    url = _report(console).headers["location"].split("?")[0]
    hz = url.rsplit("/", 1)[1]
    official = console.node.login("shuozhou")
    county = console.node.login("yingxian")
    deadline = (utcnow().date() + timedelta(days=3)).isoformat()
    body = {
        "grade": "major",
        "major_criterion": "第二项 瓦斯超限作业",
        "deadline": deadline,
        "responsible": "李安全",
        "measures": "停止作业，排放瓦斯",
    }
    api_url = f"/api/v1/hidden-hazards/{hz}"
    assert api.post(f"{api_url}/register", json=body, headers=county).status_code == 200
    fields = ("goal", "measures", "funds", "organisation", "deadline", "safety_measures")
    plan = {**dict.fromkeys(fields, "已落实"), "emergency_plan": "执行瓦斯事故专项预案"}
    enterprise = console.node.login("qiye")
    assert api.put(f"{api_url}/plan", json=plan, headers=enterprise).status_code == 200
    order = {"requirements": "限期整改", "due_date": deadline}
    assert api.post(f"{api_url}/supervise", json=order, headers=official).status_code == 201
    assert api.post(f"{api_url}/start", json={}, headers=enterprise).status_code == 200
    done = api.post(f"{api_url}/finish", json={"note": "完成"}, headers=enterprise)
    assert done.status_code == 200
    console.login("yingxian")
    page = api.get(url).text
    assert 'id="supervision"' in page and 'id="reject-button"' in page
    assert 'id="accept-button"' not in page
