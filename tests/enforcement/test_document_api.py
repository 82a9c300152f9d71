"""Enforcement documents: 现场检查记录, 责令限期整改指令书 and 整改复查意见书 of an inspection,
numbered per agency, kind and year without gaps — also under concurrent issue, where a
transaction that rolls back gives its number back — and drawn as .docx from what was issued."""

from __future__ import annotations

import threading
from datetime import timedelta
from io import BytesIO
from typing import Any

import pytest
from docx import Document
from sqlalchemy import select

from anjian.core.clock import today_in_china
from enforcement_world import API, officer, plan_inspection


@pytest.fixture
def on_site(personas: Any) -> Any:
    """An inspection of the 应县 mine under way, with one finding."""
    node = personas
    node.headers = node.login("yingxian")
    team = [officer(node, "yingxian", "14062201"), officer(node, "zf1", "14062202", "张执法")]
    node.inspection = plan_inspection(node, team=team).json()["id"]
    node.client.post(f"{API}/inspections/{node.inspection}/start", headers=node.headers)
    r = node.client.post(
        f"{API}/inspections/{node.inspection}/findings",
        headers=node.headers,
        json={"item_code": "MK05", "place": "北翼回风巷", "description": "风门损坏，风流短路"},
    )
    assert r.status_code == 201, r.text
    return node


def _issue(node: Any, **body: Any) -> Any:
    return node.client.post(
        f"{API}/inspections/{node.inspection}/documents", headers=node.headers, json=body
    )


def _text(data: bytes) -> str:
    doc = Document(BytesIO(data))
    cells = [c.text for t in doc.tables for row in t.rows for c in row.cells]
    return "\n".join([p.text for p in doc.paragraphs] + cells)


def test_documents_are_numbered_in_series_and_drawn_as_docx(on_site: Any) -> None:
    year = today_in_china().year
    r = _issue(on_site, kind="inspection_record")
    assert r.status_code == 201, r.text
    record = r.json()
    assert (
        record["number"] == f"应县应急检记〔{year}〕1号" and record["kind_label"] == "现场检查记录"
    )
    deadline = (today_in_china() + timedelta(days=30)).isoformat()
    order = _issue(on_site, kind="rectification_order", deadline=deadline).json()
    assert order["number"] == f"应县应急责改〔{year}〕1号" and order["serial"] == 1
    again = _issue(on_site, kind="rectification_order", deadline=deadline).json()
    assert again["number"] == f"应县应急责改〔{year}〕2号"
    review = _issue(on_site, kind="review_opinion", opinion="已按要求整改，复查合格").json()
    assert review["number"] == f"应县应急复查〔{year}〕1号"
    r = on_site.client.get(f"{API}/documents/{order['id']}.docx", headers=on_site.headers)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert "filename*=UTF-8''" in r.headers["content-disposition"]
    text = _text(r.content)
    for expected in [
        "责令限期整改指令书",
        order["number"],
        "应县金鼎煤业有限公司",
        "北翼回风巷：风门损坏，风流短路",
        "张执法（执法证号 14062202）",
        "应县应急管理局（印章）",
    ]:
        assert expected in text, expected
    text = _text(
        on_site.client.get(f"{API}/documents/{record['id']}.docx", headers=on_site.headers).content
    )
    assert "MK05 通风系统不完善、不可靠：不符合" in text and "MK01" in text
    text = _text(
        on_site.client.get(f"{API}/documents/{review['id']}.docx", headers=on_site.headers).content
    )
    assert again["number"] in text and "复查合格" in text
    insp = on_site.client.get(
        f"{API}/inspections/{on_site.inspection}", headers=on_site.headers
    ).json()
    assert [d["number"] for d in insp["documents"]] == [
        record["number"],
        order["number"],
        again["number"],
        review["number"],
    ]


def test_documents_are_refused_when_the_inspection_does_not_support_them(personas: Any) -> None:
    node = personas
    node.headers = node.login("yingxian")
    team = [officer(node, "yingxian", "1"), officer(node, "zf1", "2", "张执法")]
    node.inspection = plan_inspection(node, team=team).json()["id"]
    assert _issue(node, kind="inspection_record").status_code == 409  # not started
    node.client.post(f"{API}/inspections/{node.inspection}/start", headers=node.headers)
    tomorrow = (today_in_china() + timedelta(days=1)).isoformat()
    assert _issue(node, kind="rectification_order", deadline=tomorrow).status_code == 409
    assert _issue(node, kind="review_opinion", opinion="x").status_code == 409
    for body, field in [
        ({"kind": "penalty_decision"}, "kind"),
        ({"kind": "rectification_order", "deadline": "2026-02-30"}, "deadline"),
        ({"kind": "inspection_record", "opinion": "x" * 4001}, "opinion"),
    ]:
        r = _issue(node, **body)
        assert r.status_code == 422 and field in r.text, r.text
    # A refused issue takes no number: the first record is still number 1.
    assert _issue(node, kind="inspection_record").json()["serial"] == 1
    # Out of scope and other agencies.
    shanyin = node.login("shanyin")
    doc_id = node.client.get(f"{API}/inspections/{node.inspection}", headers=node.headers).json()[
        "documents"
    ][0]["id"]
    assert node.client.get(f"{API}/documents/{doc_id}.docx", headers=shanyin).status_code == 404
    city = node.login("shuozhou")
    assert node.client.get(f"{API}/documents/{doc_id}.docx", headers=city).status_code == 200
    r = node.client.post(
        f"{API}/inspections/{node.inspection}/documents",
        headers=city,
        json={"kind": "inspection_record"},
    )
    assert r.status_code == 403


def test_counters_have_no_gaps_or_duplicates_under_concurrent_issue(node: Any) -> None:
    from anjian.core.counters import Counter, next_number
    from anjian.db import unit_of_work

    taken: list[int] = []
    lock = threading.Lock()
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(10):
                try:
                    with unit_of_work() as s:
                        number = next_number(s, "test:series")
                        if (n + i) % 4 == 0:
                            raise RuntimeError("rolled back")  # gives its number back
                    with lock:
                        taken.append(number)
                except RuntimeError:
                    pass
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    assert sorted(taken) == list(range(1, len(taken) + 1))
    assert len(taken) == 45  # 60 attempts, 15 rolled back
    with node.db() as s:
        assert s.scalar(select(Counter.last).where(Counter.series == "test:series")) == 45
