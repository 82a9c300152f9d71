"""Reachable people in the console (issue 16): 显示号码 swaps a masked phone for a tel: link
(audited); the officials handling an accident see its contacts in full; histories and the audit
view name people 姓名（机构） and records by their names, actions in Chinese."""

from __future__ import annotations

import re
from typing import Any

from samples import recent_accident

MINE = "应县金鼎煤业有限公司"
LEGAL, SAFETY, REPORTER = "13912345678", "13698765432", "13512340000"


def _accident(console: Any) -> str:
    """A general accident at the mine, filed by the county through the API; its page's path."""
    node = console.node
    body = recent_accident(node, REPORTER)
    r = node.client.post("/api/v1/accidents", json=body, headers=node.login("yingxian"))
    assert r.status_code == 201, r.text
    return f"/accidents/{r.json()['id']}"


def test_show_number_swaps_in_the_full_number_and_is_audited(console: Any) -> None:
    node, mine = console.node, console.node.enterprises["ying_mine"]
    console.login("shuozhou")
    html = node.client.get(f"/enterprises/{mine}").text
    assert LEGAL not in html and SAFETY not in html
    assert "139****5678" in html and html.count(">显示号码</button>") == 2
    assert f'hx-post="/enterprises/{mine}/contacts/reveal"' in html
    url = f"/enterprises/{mine}/contacts/reveal"
    csrf = console.csrf(f"/enterprises/{mine}")
    r = node.client.post(
        url, data={"csrf": csrf, "field": "safety_manager_phone"}, headers={"HX-Request": "true"}
    )
    assert r.status_code == 200, r.text
    assert r.text.strip() == f'<a class="phone" href="tel:{SAFETY}">{SAFETY}</a>'
    [rec] = node.audits("enterprise.reveal")
    assert (rec.actor_name, rec.object_id, rec.detail) == (
        "shuozhou",
        str(mine),
        {"fields": ["safety_manager_phone"]},
    )
    # without the session's CSRF token nothing is revealed
    r = node.client.post(url, data={"csrf": "forged", "field": "legal_rep_phone"})
    assert r.status_code == 403 and LEGAL not in r.text
    # a sibling county: the same 404 as a missing file
    console.login("shanyin")
    csrf = console.csrf("/enterprises")
    r = node.client.post(url, data={"csrf": csrf, "field": "legal_rep_phone"})
    assert r.status_code == 404 and LEGAL not in r.text
    assert len(node.audits("enterprise.reveal")) == 1


def test_the_officials_handling_an_accident_see_its_contacts_in_full(console: Any) -> None:
    node = console.node
    path = _accident(console)
    # the county agency is on the reporting chain: the reporter and the unit, in full, audited
    console.login("yingxian")
    html = node.client.get(path).text
    for number in (REPORTER, LEGAL, SAFETY):
        assert f'href="tel:{number}"' in html
    assert "显示号码" not in html and "办理" in html
    [acc_rec] = node.audits("accident.reveal")
    assert acc_rec.actor_name == "yingxian" and acc_rec.detail == {"fields": ["reporter_phone"]}
    [ent_rec] = node.audits("enterprise.reveal")
    assert ent_rec.detail == {"fields": ["legal_rep_phone", "safety_manager_phone"]}
    # the inspection bureau reaches the mine but is no agency of the chain: masked, one click each
    console.login("jianchaju")
    html = node.client.get(path).text
    assert REPORTER not in html and LEGAL not in html
    assert "135****0000" in html and html.count(">显示号码</button>") == 3
    r = node.client.post(
        f"{path}/contacts/reveal",
        data={"csrf": console.csrf(path), "field": "reporter_phone"},
        headers={"HX-Request": "true"},
    )
    assert r.status_code == 200 and f'href="tel:{REPORTER}"' in r.text
    assert [r.actor_name for r in node.audits("accident.reveal")] == ["yingxian", "jianchaju"]
    # the province is above a general accident's chain (it ends at the city): masked too
    console.login("sheng")
    assert REPORTER not in node.client.get(path).text
    assert len(node.audits("accident.reveal")) == 2


def test_histories_and_the_audit_view_name_people_and_records(console: Any) -> None:
    node = console.node
    path = _accident(console)
    console.login("yingxian")
    r = node.client.post(
        f"{path}/report-up", data={"csrf": console.csrf(path)}, follow_redirects=False
    )
    assert r.status_code == 303, r.text
    html = node.client.get(path).text
    county = re.search(r'id="step-county".*?(?=id="step-)', html, re.S)
    assert county and "yingxian（应县应急管理局）" in county.group(0)
    # a hazard reported by the enterprise user: its history names the unit
    hz = node.client.post(
        "/api/v1/hidden-hazards",
        json={
            "enterprise_id": node.enterprises["ying_mine"],
            "place": "主斜井皮带机",
            "description": "皮带机跑偏保护失效",
        },
        headers=node.login("qiye"),
    )
    assert hz.status_code == 201, hz.text
    html = node.client.get(f"/hazards/{hz.json()['id']}").text
    assert f"qiye（{MINE}）" in html
    # the audit view: actions in Chinese (code on hover), people and records by name
    console.login("sheng")
    html = node.client.get("/audit").text
    assert '<span title="accident.report">事故快报</span>' in html
    assert '<span title="accident.report_up">事故上报</span>' in html
    assert '<span title="hidden_hazard.report">排查上报隐患</span>' in html
    assert '<span title="yingxian">yingxian（应县应急管理局）</span>' in html
    assert f'<span title="qiye">qiye（{MINE}）</span>' in html
    assert "事故“应县金鼎煤业有限公司（" in html  # the accident by its unit and date
    assert "accident.report_up</div>" not in html  # raw codes only on request
    assert '<span class="badge bg-green-lt">成功</span>' in html and "140622</td>" in html
    raw = node.client.get("/audit?raw=1").text
    assert '<div class="text-secondary small font-monospace">accident.report_up</div>' in raw
    # a filter on an action prefix still works, with its Chinese name offered
    assert '<option value="accident.">事故报送</option>' in html
    only = node.client.get("/audit?action=enterprise.reveal").text
    assert "查看企业完整电话" in only and "事故快报</span>" not in only


def test_the_audit_view_names_objects_in_a_few_queries(console: Any) -> None:
    """Names are resolved per object type, not per row: a page of 30 reads of enterprise files
    costs one query for the enterprises' names and one for the people's."""
    from sqlalchemy import event

    node = console.node
    console.login("sheng")
    for _ in range(15):
        node.client.get(f"/enterprises/{node.enterprises['shan_chem']}")
        node.client.get(f"/enterprises/{node.enterprises['ying_mine']}")
    statements: list[str] = []

    def seen(*args: Any) -> None:
        statements.append(args[2])

    event.listen(node.engine, "before_cursor_execute", seen)
    try:
        html = node.client.get("/audit").text
    finally:
        event.remove(node.engine, "before_cursor_execute", seen)
    assert html.count(f"企业“{MINE}”") == 15 and html.count("企业“山阴县晋北化工有限公司”") == 15
    assert html.count("sheng（山西省应急管理厅）") >= 30
    names = [s for s in statements if "enterprises" in s or "users" in s]
    assert len([s for s in names if "enterprises.name" in s and "users" not in s]) == 1
    assert (
        len([s for s in names if "JOIN enterprises ON enterprises.id = users.enterprise_id" in s])
        == 1
    )


def test_hostile_input_to_the_new_console_parameters(console: Any) -> None:
    node, mine = console.node, console.node.enterprises["ying_mine"]
    console.login("shuozhou")
    csrf = console.csrf(f"/enterprises/{mine}")
    for field in ("x" * 5000, "legal_rep_phone\x00", "phone\u202e", "reporter_phone"):
        r = node.client.post(
            f"/enterprises/{mine}/contacts/reveal", data={"csrf": csrf, "field": field}
        )
        assert r.status_code in (400, 422) and LEGAL not in r.text, (field, r.status_code)
    r = node.client.post(f"/enterprises/{10**30}/contacts/reveal", data={"csrf": csrf})
    assert r.status_code in (404, 422)
    assert node.audits("enterprise.reveal") == []
    for raw in ("maybe", "1\x00", "x" * 5000):
        assert node.client.get("/audit", params={"raw": raw}).status_code in (400, 422), raw
