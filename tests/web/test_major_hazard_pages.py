"""重大危险源 in the console: the register with its counts by grade, the GB 18218-2018 calculator
form, and a source's page with the filing step offered to whoever may take it."""

from __future__ import annotations

from typing import Any

from anjian.major_hazards.models import MajorHazardSource
from anjian.major_hazards.pages import EXAMPLE
from samples import major_hazard_source

API = "/api/v1/major-hazards"


def _source(node: Any, **extra: Any) -> dict[str, Any]:
    body = major_hazard_source(node, **extra)
    r = node.client.post(API, json=body, headers=node.login("qiye"))
    assert r.status_code == 201, r.text
    return r.json()


def test_the_register_and_a_source_page(console) -> None:
    src = _source(console.node)
    client = console.node.client
    for who in ("yingxian", "qiye", "sheng"):
        console.login(who)
        listing = client.get("/major-hazards")
        assert listing.status_code == 200, who
        assert "液氯液氨储罐区" in listing.text and "三级" in listing.text
        assert 'id="count-grade-3">1<' in listing.text
        assert 'id="calculator-form"' in listing.text
        detail = client.get(f"/major-hazards/{src['id']}")
        assert detail.status_code == 200
        assert "包保责任人" in detail.text and "张班长" in detail.text
        assert "监测监控点" in detail.text and "未备案" in detail.text
        assert "7782-50-5" in detail.text  # the chemicals with their q/Q and β
    console.login("shanyin")
    assert "液氯液氨储罐区" not in client.get("/major-hazards").text
    assert client.get(f"/major-hazards/{src['id']}").status_code == 404
    assert client.get("/major-hazards?grade=3&filing_state=unfiled").status_code == 200


def test_the_calculator_grades_the_example(console) -> None:
    console.login("qiye")
    client = console.node.client
    csrf = console.csrf("/major-hazards")
    r = client.post("/major-hazards/assess", data={**EXAMPLE, "csrf": csrf})
    assert r.status_code == 200, r.text
    assert "三级重大危险源" in r.text
    assert 'class="calc-r">11.1<' in r.text and "2.1" in r.text
    assert 'value="液氯"' in r.text  # the form keeps what was typed
    unknown = client.post(
        "/major-hazards/assess",
        data={**EXAMPLE, "u0_c1_name": "神秘物质", "csrf": csrf},
    )
    assert unknown.status_code == 422 and "未知化学品" in unknown.text
    assert 'name="u0_c1_name"' in unknown.text and "is-invalid" in unknown.text
    empty = client.post("/major-hazards/assess", data={"csrf": csrf})
    assert empty.status_code == 422 and "请至少填写一个单元" in empty.text
    forged = client.post("/major-hazards/assess", data={**EXAMPLE, "csrf": "forged"})
    assert forged.status_code == 403
    assert client.get("/major-hazards?example=1").text.count('value="液氨"') == 1


def test_filing_through_the_forms(console) -> None:
    src = _source(console.node)
    client = console.node.client
    path = f"/major-hazards/{src['id']}"
    console.login("qiye")
    page = client.get(path).text
    assert 'id="submit-form"' in page and 'id="file-form"' not in page
    r = client.post(f"{path}/submit", data={"csrf": console.csrf(path)}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"{path}?done=submit"
    refused = client.post(f"{path}/file", data={"csrf": console.csrf(path), "filing_no": "1"})
    assert refused.status_code == 403 and "监督管理" in refused.text
    console.login("yingxian")
    page = client.get(path).text
    assert 'id="file-form"' in page and 'id="return-form"' in page
    blank = client.post(f"{path}/file", data={"csrf": console.csrf(path), "filing_no": " "})
    assert blank.status_code == 422 and "备案编号" in blank.text
    r = client.post(f"{path}/file", data={"csrf": console.csrf(path), "filing_no": "应备-9"})
    assert r.status_code == 200 and "已予以备案" in r.text and "应备-9" in r.text
    again = client.post(f"{path}/return", data={"csrf": console.csrf(path), "reason": "x"})
    assert again.status_code == 409 and "已备案" in again.text


def test_a_copy_from_another_node_offers_no_filing(console) -> None:
    src = _source(console.node)
    with console.node.db() as s:
        s.get(MajorHazardSource, src["id"]).origin_node = "node-140622"
    console.login("qiye")
    page = console.node.client.get(f"/major-hazards/{src['id']}").text
    assert "由节点 node-140622 维护，本节点只读" in page and 'id="submit-form"' not in page
