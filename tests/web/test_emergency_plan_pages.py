"""预案演练 in the console: an official registers the county's plan from the list, plans and
records a drill and evaluates it from the plan's page; an enterprise user registers and files
(报备) its plan from its own 应急预案 page, the county reviews it (a return needs reasons) and
files it; each form offered only when it would be accepted; a sibling county gets a 404."""

from __future__ import annotations

import re
from typing import Any

import pytest

from anjian.core.clock import today_in_china


@pytest.fixture
def county(console: Any) -> Any:
    console.login("yingxian")
    return console


def _post(console: Any, path: str, **fields: str) -> Any:
    data = {"csrf": console.csrf("/emergency/plans"), **fields}
    return console.node.client.post(path, data=data, follow_redirects=False)


def _plan_id(r: Any) -> int:
    assert r.status_code == 303, r.text
    return int(re.search(r"/emergency/plans/(\d+)", r.headers["location"]).group(1))


def test_a_county_plan_and_its_drill_from_the_pages(county: Any) -> None:
    client = county.node.client
    page = client.get("/emergency/plans").text
    assert "暂无应急预案" in page and 'id="tab-plans"' in page and 'id="plan-figures"' in page
    refused = _post(county, "/emergency/plans", title="", category="overall")
    assert refused.status_code == 422 and "预案名称" in refused.text
    today = today_in_china().isoformat()
    pid = _plan_id(
        _post(
            county,
            "/emergency/plans",
            title="应县生产安全事故应急预案",
            category="overall",
            division_code="140622",
            issued_on=today,
            trigger_4="死亡 1–2 人",
            trigger_3="死亡 3 人以上",
            roles="总指挥：县长\n抢险救援组：消防救援大队",
        )
    )
    page = client.get(f"/emergency/plans/{pid}?done=create").text
    assert "预案已登记" in page and "无需备案" in page and "消防救援大队" in page
    assert "Ⅲ级（较大）" in page and 'id="revise-form"' in page and 'id="drill-form"' in page
    # An agency plan has no filing: neither 报备 nor 审查 is offered.
    assert 'id="submit-form"' not in page and 'id="review-form"' not in page

    base = f"/emergency/plans/{pid}"
    r = _post(county, f"{base}/drill", title="", form="tabletop", scale="single", planned_on=today)
    assert r.status_code == 422 and "名称" in r.text
    r = _post(
        county,
        f"{base}/drill",
        title="透水桌面推演",
        form="tabletop",
        scale="single",
        planned_on=today,
    )
    assert r.status_code == 303
    page = client.get(base).text
    did = re.search(r'id="record-form-(\d+)"', page).group(1)
    r = _post(county, f"{base}/record", drill_id=did, held_on=today, participants="0", record="x")
    assert r.status_code == 422 and "参演人数" in r.text
    r = _post(
        county,
        f"{base}/record",
        drill_id=did,
        held_on=today,
        participants="25",
        record="按预案响应",
    )
    assert r.status_code == 303
    page = client.get(base).text
    assert f'id="evaluate-form-{did}"' in page and f'id="record-form-{did}"' not in page
    r = _post(county, f"{base}/evaluate", drill_id=did, rating="fail", problems="")
    assert r.status_code == 422 and "发现的问题" in r.text
    assert _post(county, f"{base}/evaluate", drill_id=did, rating="good").status_code == 303
    page = client.get(base).text
    assert "良好" in page and "25 人参演" in page and f'id="evaluate-form-{did}"' not in page
    # The list shows the plan, its last drill and the year's figures.
    page = client.get("/emergency/plans").text
    assert "应县生产安全事故应急预案" in page and f"{today}" in page
    assert re.search(r'id="figure-drills">1<', page)
    # A drill of another plan is not reached through this one.
    assert _post(county, f"{base}/cancel", drill_id="999999", reason="x").status_code == 404


def test_an_enterprise_files_its_plan_and_the_county_reviews_it(console: Any) -> None:
    client = console.node.client
    console.login("qiye")
    page = client.get("/emergency/plans").text
    assert 'href="/emergency/plans"' in page and 'id="tab-events"' not in page
    assert client.get("/emergency/events").status_code == 403
    today = today_in_china().isoformat()
    pid = _plan_id(
        _post(
            console,
            "/emergency/plans",
            title="金鼎煤业综合应急预案",
            category="overall",
            issued_on=today,
        )
    )
    page = client.get(f"/emergency/plans/{pid}").text
    assert "应县金鼎煤业有限公司" in page and "待报备" in page and 'id="submit-form"' in page
    assert 'id="review-form"' not in page
    assert _post(console, f"/emergency/plans/{pid}/submit").status_code == 303
    page = client.get(f"/emergency/plans/{pid}").text
    assert "待审查" in page and 'id="submit-form"' not in page and 'id="revise-form"' not in page
    # The enterprise cannot review its own plan even by posting the form.
    assert _post(console, f"/emergency/plans/{pid}/review", decision="filed").status_code == 403

    console.login("yingxian")
    page = client.get("/emergency/plans").text
    assert re.search(r'id="figure-submitted"><a href="/emergency/plans\?view=submitted">1<', page)
    assert 'id="review-form"' in client.get(f"/emergency/plans/{pid}").text
    r = _post(console, f"/emergency/plans/{pid}/review", decision="returned", opinion="")
    assert r.status_code == 422 and "退回时请写明理由" in r.text
    assert (
        _post(
            console, f"/emergency/plans/{pid}/review", decision="filed", opinion="同意"
        ).status_code
        == 303
    )
    page = client.get(f"/emergency/plans/{pid}").text
    assert "已备案" in page and 'id="filing-number"' in page and 'id="review-form"' not in page

    console.login("shanyin")
    assert client.get(f"/emergency/plans/{pid}").status_code == 404
