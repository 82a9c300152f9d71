"""事故统计 console page: the table with 同比, drill-down links and the breadcrumb back up, the
Excel export link with the same parameters, and the chart's data (no inline script)."""

from __future__ import annotations

import json
import re
from typing import Any

PAGE = "/accidents/statistics"
PERIOD = "start=2026-01-01&end=2026-06-30"


def _file(node: Any, **body: Any) -> None:
    report = {"place": "事故地点", "reporter": "李安全", **body}
    r = node.client.post("/api/v1/accidents", json=report, headers=node.login("sheng"))
    assert r.status_code == 201, r.text


def _seed(node: Any) -> None:
    _file(
        node,
        occurred_at="2026-03-01T10:00:00+08:00",
        division_code="140622",
        accident_type="roof_fall",
        deaths=2,
        direct_loss_cny=300000,
    )
    _file(
        node,
        occurred_at="2026-04-01T10:00:00+08:00",
        division_code="140621",
        accident_type="fire",
        deaths=1,
    )
    _file(node, occurred_at="2025-05-01T10:00:00+08:00", division_code="140622",
          accident_type="machinery", deaths=1)  # fmt: skip


def _row(html: str, key: str) -> dict[str, str]:
    match = re.search(rf'<tr[^>]* id="row-{key}">(.*?)</tr>', html, re.S)
    assert match, f"no row {key}"
    return dict(re.findall(r'data-col="([^"]+)">([^<]*)<', match.group(1)))


def _cells(row: dict[str, str], *cols: str) -> tuple[str, ...]:
    """The cells of ``row`` in the columns ``cols``, in that order."""
    return tuple(row[col] for col in cols)


def _page(console: Any, url: str, status: int = 200) -> str:
    r = console.node.client.get(url)
    assert r.status_code == status, r.text
    # no inline script: only /static scripts and the JSON data block
    for tag in re.findall(r"<script[^>]*>", r.text):
        assert 'src="/static/' in tag or 'type="application/json"' in tag, tag
    return r.text


def test_a_city_sees_its_counties_with_last_year_and_the_export(console: Any) -> None:
    node = console.node
    _seed(node)
    console.login("shuozhou")
    html = _page(console, f"{PAGE}?{PERIOD}")
    assert "事故统计" in html and f'href="{PAGE}"' in html  # the nav entry, with its icon
    assert '<path d="M4 20h14"/>' in html
    assert 'id="statistics-table"' in html
    ying = _row(html, "140622")
    assert _cells(ying, "count", "deaths", "loss", "last-count") == (
        "1",
        "2",
        "30.00",
        "1",
    )  # loss in 万元
    assert _cells(ying, "count-change", "count-pct", "deaths-change", "deaths-pct") == (
        "0",
        "+0%",
        "+1",
        "+100%",
    )
    shan = _row(html, "140621")
    assert _cells(shan, "count", "last-count", "count-change", "count-pct") == ("1", "0", "+1", "—")
    total = _row(html, "total")
    assert _cells(total, "count", "deaths", "last-count", "count-pct") == ("2", "3", "1", "+100%")
    assert "data-drill=" not in html  # counties: nothing below
    export = re.search(
        r'href="(/api/v1/accidents/statistics\.xlsx\?[^"]+)" [^>]*id="export-link"', html
    )
    assert export, "no export link"
    link = export.group(1).replace("&amp;", "&")
    assert "by=division" in link and "start=2026-01-01" in link and "end=2026-06-30" in link
    r = node.client.get(link)  # the console's cookie reaches the API for reads
    assert r.status_code == 200 and r.content[:2] == b"PK"
    data = json.loads(
        re.search(
            r'<script type="application/json" id="statistics-data">(.*?)</script>', html, re.S
        ).group(1)
    )
    assert data["labels"] == ["朔城区", "平鲁区", "山阴县", "应县", "右玉县", "怀仁市"]
    assert [s["data"] for s in data["series"]] == [[0, 0, 1, 1, 0, 0], [0, 0, 0, 1, 0, 0]]
    assert "/static/accident-statistics.js" in html
    assert "/static/vendor/echarts/echarts.min.js" in html
    assert node.client.get("/static/accident-statistics.js").status_code == 200


def test_a_province_drills_down_and_back_up(console: Any) -> None:
    node = console.node
    _seed(node)
    console.login("sheng")
    html = _page(console, f"{PAGE}?{PERIOD}")
    drill = re.search(r'<a href="([^"]+)" data-drill="140600">朔州市</a>', html)
    assert drill, "no drill link to 朔州市"
    url = drill.group(1).replace("&amp;", "&")
    assert "division=140600" in url and "start=2026-01-01" in url
    city = _page(console, url)
    crumbs = re.search(r'<ol class="breadcrumb" id="statistics-path">(.*?)</ol>', city, re.S)
    assert crumbs
    # 山西省 links back up (the user's own jurisdiction: no division), 朔州市 is where we are
    assert re.search(
        r'<a href="/accidents/statistics\?by=division&amp;start=2026-01-01&amp;end=2026-06-30">山西省</a>',
        crumbs.group(1),
    )
    assert 'aria-current="page">朔州市<' in crumbs.group(1)
    assert _row(city, "140622")["count"] == "1"
    # other breakdowns on the same page
    by_type = _page(console, f"{PAGE}?{PERIOD}&by=type")
    assert _row(by_type, "roof_fall")["deaths"] == "2" and "冒顶片帮" in by_type
    by_month = _page(console, f"{PAGE}?{PERIOD}&by=month")
    assert _row(by_month, "2026-05")["last-count"] == "1"


def test_wrong_input_and_scope(console: Any) -> None:
    console.login("yingxian")
    html = _page(console, f"{PAGE}?start=2026-06-02&end=2026-06-01", 422)
    assert 'id="statistics-error"' in html and "晚于截止日期" in html
    assert 'id="statistics-form"' in html
    html = _page(console, f"{PAGE}?by=nope", 422)
    assert "统计维度" in html
    _page(console, f"{PAGE}?division=140621", 404)  # another county
    console.login("qiye")
    assert console.node.client.get(PAGE).status_code == 403  # officials only
