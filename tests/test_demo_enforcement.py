"""``anjian demo`` loads a year of enforcement at 应县: the county official finds the draw, its
inspections in every state, numbered documents and penalty cases where the pages show them."""

from __future__ import annotations

import re

from sqlalchemy import select

from anjian.core.iam.models import User
from anjian.core.iam.service import current_totp
from anjian.demo import DEMO_PASSWORD

API = "/api/v1/enforcement"


def test_the_demo_county_has_a_years_enforcement_to_show(demo) -> None:
    node = demo
    assert "执法检查" in node.output and "行政处罚" in node.output
    with node.db() as s:
        official = s.scalar(select(User).where(User.username == "yingxian"))
        otp = current_totp(s, official) if official.mfa_enabled else None
    headers = node.login("yingxian", DEMO_PASSWORD, otp)

    officers = node.client.get(f"{API}/inspectors", headers=headers).json()
    assert len(officers) >= 2 and all(o["certificate_no"] for o in officers)
    draws = node.client.get(f"{API}/draws", headers=headers).json()["items"]
    assert len(draws) == 1
    verified = node.client.get(f"{API}/draws/{draws[0]['id']}/verify", headers=headers).json()
    assert verified["matches"] is True

    inspections = node.client.get(f"{API}/inspections", headers=headers).json()["items"]
    states = {i["state"] for i in inspections}
    assert {"finished", "on_site", "planned"} <= states
    assert all(i["division_code"] == "140622" for i in inspections)

    cases = node.client.get(f"{API}/penalties", headers=headers).json()["items"]
    assert {c["stage"] for c in cases} == {"paid", "notified"}

    # documents numbered 1, 2, … per kind and year, without a gap
    done = next(i for i in inspections if i["state"] == "finished")
    history = node.client.get(
        f"{API}/enterprises/{done['enterprise_id']}/history", headers=headers
    ).json()
    numbers = [d["number"] for i in history["inspections"] for d in i["documents"]]
    numbers += [d["number"] for c in history["penalties"] for d in c["documents"]]
    assert numbers and all(re.fullmatch(r"应县应急\w+〔\d{4}〕\d+号", n) for n in numbers)
    doc = next(i for i in history["inspections"] if i["documents"])["documents"][0]
    r = node.client.get(f"{API}/documents/{doc['id']}.docx", headers=headers)
    assert r.status_code == 200 and r.content[:2] == b"PK"
