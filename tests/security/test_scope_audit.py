"""Refusals hidden as 404 and reads of personal data, both in the audit trail: a write to a
record outside the caller's jurisdiction answers exactly as a missing record but is audited as
``access.denied``; every read that shows people's names with their phones is audited."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select

from anjian.core.audit.models import AuditRecord
from anjian.enterprises.models import Enterprise
from samples import accident_report

PASSWORD = "Anjian#2026"  # the personas' password (tests/conftest.py)
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def _console_login(node, username: str) -> str:
    """Log in through the console's form like a browser; the session's CSRF token."""
    client = node.client
    client.cookies.clear()
    token = _CSRF.search(client.get("/login").text).group(1)
    r = client.post(
        "/login",
        data={"username": username, "password": PASSWORD, "next": "/", "csrf": token},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    return _CSRF.search(client.get("/").text).group(1)


def _records(node, action: str, actor: str) -> list[AuditRecord]:
    with node.db() as s:
        rows = s.scalars(
            select(AuditRecord)
            .where(AuditRecord.action == action, AuditRecord.actor_name == actor)
            .order_by(AuditRecord.seq)
        ).all()
        for row in rows:
            s.expunge(row)
        return list(rows)


def test_an_out_of_scope_write_is_a_plain_404_audited_as_denied(personas: Any) -> None:
    node = personas
    county = node.login("yingxian")  # 应县; the chemical plant lies in 山阴县
    other = node.enterprises["shan_chem"]
    r = node.client.patch(f"/api/v1/enterprises/{other}", headers=county, json={"address": "改"})
    missing = node.client.patch(
        "/api/v1/enterprises/999999", headers=county, json={"address": "改"}
    )
    assert (r.status_code, missing.status_code) == (404, 404)
    # the same answer as a missing record: nothing tells that the record exists
    assert r.json() == {
        "detail": missing.json()["detail"].replace("999999", str(other)),
    }
    assert r.headers.keys() == missing.headers.keys()
    denied = _records(node, "access.denied", "yingxian")
    assert len(denied) == 1  # the record out of scope, not the missing one
    assert denied[0].result == "denied"
    assert denied[0].detail["path"] == f"/api/v1/enterprises/{other}"
    assert denied[0].detail["method"] == "PATCH"
    with node.db() as s:
        assert s.get(Enterprise, other).address == "山阴县岱岳镇"


def test_an_out_of_scope_write_through_the_console_is_audited_too(personas: Any) -> None:
    """The console's forms call the same services; a refusal shown as a 404 page is audited."""
    node = personas
    csrf = _console_login(node, "yingxian")
    other = node.enterprises["shan_chem"]
    r = node.client.post(f"/enterprises/{other}/edit", data={"address": "改", "csrf": csrf})
    missing = node.client.post("/enterprises/999999/edit", data={"address": "改", "csrf": csrf})
    assert (r.status_code, missing.status_code) == (404, 404)
    assert len(_records(node, "access.denied", "yingxian")) == 1


def _report(node, headers) -> int:
    r = node.client.post(
        "/api/v1/accidents",
        headers=headers,
        json=accident_report(deaths=1, missing=0, serious_injuries=0),
    )
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def test_accident_reads_showing_the_reporters_phone_are_audited(personas: Any) -> None:
    node = personas
    county = node.login("yingxian")
    acc = _report(node, county)
    city = node.login("shuozhou")
    r = node.client.get(f"/api/v1/accidents/{acc}", headers=city)
    assert r.status_code == 200 and r.json()["reporter_phone"] == "136****5432"
    reads = _records(node, "accident.read", "shuozhou")
    assert [(x.object_type, x.object_id, x.division_code) for x in reads] == [
        ("accident", str(acc), "140622")
    ]
    # the list shows every report's reporter and masked phone: one record naming them all
    r = node.client.get("/api/v1/accidents", headers=city)
    assert r.status_code == 200 and r.json()["items"][0]["reporter_phone"] == "136****5432"
    reads = _records(node, "accident.read", "shuozhou")
    assert len(reads) == 2 and reads[1].object_id == str(acc)
    # out of scope: a 404, and no read recorded
    shanyin = node.login("shanyin")
    assert node.client.get(f"/api/v1/accidents/{acc}", headers=shanyin).status_code == 404
    assert node.client.get("/api/v1/accidents", headers=shanyin).json()["items"] == []
    assert _records(node, "accident.read", "shanyin") == []


def test_accident_detail_page_is_audited(personas: Any) -> None:
    node = personas
    acc = _report(node, node.login("yingxian"))
    _console_login(node, "shuozhou")
    r = node.client.get(f"/accidents/{acc}")
    assert r.status_code == 200, r.text
    # the city is on the chain of a 一般 accident: it handles it and sees the reporter in full,
    # which is audited as a reveal besides the read
    assert "13698765432" in r.text
    assert [x.object_id for x in _records(node, "accident.read", "shuozhou")] == [str(acc)]
    assert [x.object_id for x in _records(node, "accident.reveal", "shuozhou")] == [str(acc)]


def test_the_enterprise_list_with_masked_phones_is_audited(personas: Any) -> None:
    node = personas
    city = node.login("shuozhou")
    r = node.client.get("/api/v1/enterprises", headers=city)
    assert r.status_code == 200
    shown = sorted(e["id"] for e in r.json()["items"])
    assert len(shown) == 2 and all(e["legal_rep_phone_masked"] for e in r.json()["items"])
    reads = _records(node, "enterprise.read", "shuozhou")
    assert len(reads) == 1 and sorted(reads[0].detail["ids"]) == shown
