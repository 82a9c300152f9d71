"""应急资源 in the console: a resource registered from the page's form is listed and on the map
(coloured by kind, its marker linking to its row), a refusal names the field in Chinese and keeps
what was typed; the Excel template imported all or nothing with the row report, a hostile file
refused with its message and nothing written; at a warehouse kept here, a supply's stock set and
a transfer to another warehouse change both stocks (refusals at their forms, expired and
near-expiry supplies marked; no forms at a warehouse kept elsewhere); scope (a sibling county
sees none of 应县's, the province all, an enterprise user is refused)."""

from __future__ import annotations

import json
import re
import sys
from datetime import timedelta
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook

from anjian.core.clock import today_in_china
from anjian.core.downloads import XLSX_MEDIA_TYPE

# The hostile files of tests/security (as bench/hostile_xlsx.py takes them).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "security"))
from hostile_files import REFUSED, package, row, sheet

API = "/api/v1/emergency"
PAGE = "/emergency/resources"
COUNTY = "140622"  # 应县
_MAP = re.compile(r'<script type="application/json" id="resource-map-data">(.*?)</script>', re.S)


@pytest.fixture
def county(console: Any) -> Any:
    console.login("yingxian")
    return console


def _post(console: Any, path: str, **fields: str) -> Any:
    data = {"csrf": console.csrf(PAGE), **fields}
    return console.node.client.post(path, data=data, follow_redirects=False)


def _register(console: Any, **fields: str) -> Any:
    return _post(console, PAGE, **{"kind": "team", "division_code": COUNTY, **fields})


def _map(html: str) -> list[dict[str, Any]]:
    """The points of the page's map (none: the page says there is nothing to put on it)."""
    match = _MAP.search(html)
    if match is None:
        assert 'id="map-empty"' in html
        return []
    points: list[dict[str, Any]] = json.loads(match.group(1))["points"]
    return points


def _form(html: str, form_id: str) -> str:
    """The HTML of one form of the page."""
    start = html.index(f'id="{form_id}"')
    return html[start : html.index("</form>", start)]


def _sheet(*rows: list[Any]) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(["类别*", "名称*", "行政区划代码*", "企业ID", "所属单位", "地址", "经度", "纬度"])
    for values in rows:
        ws.append(values)
    out = BytesIO()
    wb.save(out)
    return out.getvalue()


def _upload(console: Any, data: bytes, name: str = "资源名录.xlsx") -> Any:
    return console.node.client.post(
        f"{PAGE}/import",
        data={"csrf": console.csrf(PAGE)},
        files={"file": (name, data, XLSX_MEDIA_TYPE)},
        follow_redirects=False,
    )


def _listed(console: Any) -> list[dict[str, Any]]:
    headers = console.node.login("yingxian")
    r = console.node.client.get(f"{API}/resources", headers=headers, params={"size": 500})
    assert r.status_code == 200, r.text
    items: list[dict[str, Any]] = r.json()["items"]
    return items


def test_a_resource_registered_from_the_form_is_listed_and_on_the_map(county: Any) -> None:
    client = county.node.client
    page = client.get(PAGE).text
    assert 'aria-current="page" id="tab-resources"' in page and "暂无应急资源" in page
    assert f'href="{API}/resources/template.xlsx"' in page and 'id="import-form"' in page
    assert 'id="resource-form"' not in page  # opened by 登记应急资源
    form = client.get(f"{PAGE}?new=1").text
    assert 'id="resource-form"' in form and ">应县</option>" in form
    assert ">物资储备库</option>" in form and ">执行任务中</option>" in form

    refused = _register(county, name="", owner="应县应急管理局", lng="东经113", headcount="-3")
    assert refused.status_code == 422 and 'id="resource-form"' in refused.text
    assert "请改正以下项目：名称、经度、人数" in refused.text
    assert "请输入数字" in refused.text and "不能小于 0" in refused.text
    assert 'value="应县应急管理局"' in refused.text and 'value="东经113"' in refused.text
    out = _register(county, name="越界队伍", division_code="140621")  # 山阴县
    assert out.status_code == 403 and "不在您的管辖范围内" in out.text

    r = _register(
        county,
        name="应县矿山救护队",
        owner="应县应急管理局",
        specialty="矿山救护",
        lng="113.19",
        lat="39.56",
        headcount="32",
        contact_name="李队长",
        contact_phone="13900001111",
    )
    assert r.status_code == 303, r.text
    assert r.headers["location"].startswith(f"{PAGE}?kind=team&done=create#resource-")
    page = client.get(r.headers["location"]).text
    assert "应急资源已登记" in page and "应县矿山救护队" in page and "32 人" in page
    assert "139****1111" in page and "13900001111" not in page
    r = _register(county, kind="shelter", name="应县体育场避难场所", capacity="5000")
    assert r.status_code == 303
    page = client.get(PAGE).text
    assert "容量 5000" in page and "未登记坐标" in page and "另有 1 项未登记坐标" in page
    (point,) = _map(page)  # the shelter has no position: not on the map
    team = next(i for i in _listed(county) if i["kind"] == "team")
    assert point["name"] == "应县矿山救护队" and (point["lng"], point["lat"]) == (113.19, 39.56)
    assert point["category"] == "救援队伍" and point["status"] == "可调用"
    assert "人数 32" in point["lines"] and point["colour"] == "#d63939"
    assert point["href"] == f"{PAGE}#resource-{team['id']}"
    assert 'id="resource-map"' in page and "资源类别" in page  # the legend
    assert _map(client.get(f"{PAGE}?kind=shelter").text) == []
    assert "没有登记经纬度" in client.get(f"{PAGE}?kind=shelter").text
    assert len(county.node.audits("emergency.resource.create")) == 2


def test_a_marker_links_to_the_page_its_row_is_on(
    county: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from anjian.emergency import resource_pages

    monkeypatch.setattr(resource_pages, "PAGE_SIZE", 2)
    for n, name in enumerate(("甲队", "乙队", "丙队")):
        assert _register(county, name=name, lng=f"113.{n + 1}", lat="39.5").status_code == 303
    ids = {i["name"]: i["id"] for i in _listed(county)}
    hrefs = {p["name"]: p["href"] for p in _map(county.node.client.get(f"{PAGE}?kind=team").text)}
    # ordered by name: 丙队, 乙队 on page 1, 甲队 on page 2
    assert hrefs["甲队"] == f"{PAGE}?kind=team&page=2#resource-{ids['甲队']}"
    assert hrefs["乙队"] == f"{PAGE}?kind=team#resource-{ids['乙队']}"
    r = _register(county, name="甲二队")  # after 丙队, 乙队: the first row of page 2
    new = {i["name"]: i["id"] for i in _listed(county)}["甲二队"]
    assert r.headers["location"] == f"{PAGE}?kind=team&page=2&done=create#resource-{new}"
    page = county.node.client.get(r.headers["location"]).text
    assert f'id="resource-{new}"' in page and f'id="resource-{ids["丙队"]}"' not in page


def test_import_all_or_nothing_with_the_row_report(county: Any) -> None:
    client = county.node.client
    good = [
        ["救援队伍", "应县矿山救护中队", COUNTY, None, "应县应急管理局", "", 113.2, 39.5],
        ["物资储备库", "应县物资储备库", COUNTY],
    ]
    bad = [["潜艇", "不存在", COUNTY], ["救援装备", "越界装备", "140621"]]
    r = _upload(county, _sheet(*good, *bad))
    assert r.status_code == 422, r.text
    assert 'id="import-errors"' in r.text and "未导入任何数据" in r.text
    assert "<td>4</td><td>类别</td>" in r.text and "<td>5</td><td>行政区划代码</td>" in r.text
    assert "资源名录.xlsx" in r.text and "返回应急资源" in r.text
    assert _listed(county) == []
    r = _upload(county, _sheet(*good))
    assert r.status_code == 303 and r.headers["location"] == f"{PAGE}?imported=2"
    page = client.get(r.headers["location"]).text
    assert "已导入 2 项应急资源" in page and "应县矿山救护中队" in page and "应县物资储备库" in page
    assert [p["name"] for p in _map(page)] == ["应县矿山救护中队"]
    r = client.post(f"{PAGE}/import", data={"csrf": county.csrf(PAGE)}, files={"file": ("", b"")})
    assert r.status_code == 422 and "请选择要导入的 Excel 文件" in r.text
    r = client.post(f"{PAGE}/import", files={"file": ("t.xlsx", _sheet(*good))})
    assert r.status_code == 403  # no CSRF token
    results = [a.result for a in county.node.audits("emergency_resource.import")]
    assert results == ["failure", "success"]


@pytest.mark.parametrize("name", REFUSED)
@pytest.mark.one_backend
def test_a_hostile_file_is_refused_with_its_message_and_nothing_written(
    county: Any, name: str
) -> None:
    """A zip bomb, a million empty rows, an entity bomb, a file that is no workbook: the report
    page says why, and neither a resource nor an import audit is written."""
    build, words = REFUSED[name]
    r = _upload(county, build())
    assert r.status_code == 422, (name, r.text[:500])
    assert words in r.text and 'id="import-detail"' in r.text and "未导入任何数据" in r.text
    assert 'id="import-errors"' not in r.text and "返回应急资源" in r.text
    assert _listed(county) == []
    assert county.node.audits("emergency_resource.import") == []


def test_a_huge_sparse_sheet_imports_what_it_holds(county: Any) -> None:
    """A sheet declaring every cell Excel has, its one row at the very bottom, costs only its
    cells."""
    header, one = ("类别", "名称", "行政区划代码"), ("避难场所", "应县第二避难场所", COUNTY)
    data = package(sheet(row(1, header) + row(1_048_576, one), dimension="A1:XFD1048576"))
    r = _upload(county, data)
    assert r.status_code == 303 and r.headers["location"] == f"{PAGE}?imported=1", r.text
    assert [i["name"] for i in _listed(county)] == ["应县第二避难场所"]


def _warehouses(county: Any) -> tuple[int, int]:
    for name in ("应县应急物资储备库", "南河种镇物资储备点"):
        assert _register(county, kind="warehouse", name=name).status_code == 303
    ids = {i["name"]: i["id"] for i in _listed(county)}
    return ids["应县应急物资储备库"], ids["南河种镇物资储备点"]


def _stock(county: Any, warehouse: int) -> dict[str, int]:
    return {
        s["name"]: s["quantity"]
        for s in next(i for i in _listed(county) if i["id"] == warehouse)["supplies"]
    }


def test_a_supply_set_and_a_transfer_change_both_warehouses(county: Any) -> None:
    client = county.node.client
    main, town = _warehouses(county)
    page = client.get(f"{PAGE}?kind=warehouse").text
    assert f'id="warehouse-{main}"' in page and f'id="supply-{main}"' in page
    assert "暂无物资库存" in page

    here = {"kind": "warehouse", "page_no": "1"}
    supplies = f"{PAGE}/{main}/supplies"
    r = _post(county, supplies, **here, name="帐篷", quantity="-1", unit="顶")
    at = _form(r.text, f"supply-{main}")  # said at its form, what was typed kept
    assert r.status_code == 422 and "数量：不能小于 0" in at and 'value="帐篷"' in at
    r = _post(county, supplies, **here, name="帐篷", quantity="100", unit="")
    assert r.status_code == 422 and "单位：必填" in r.text
    r = _post(county, supplies, **here, name="帐篷", quantity="100", unit="顶")
    assert r.status_code == 303
    assert r.headers["location"] == f"{PAGE}?kind=warehouse&done=stock&at={main}#warehouse-{main}"
    today = today_in_china()
    for name, unit, day in (
        ("矿泉水", "箱", today + timedelta(days=10)),
        ("方便面", "箱", today - timedelta(days=1)),
    ):
        r = _post(
            county, supplies, **here, name=name, quantity="50", unit=unit, expires_on=str(day)
        )
        assert r.status_code == 303, r.text
    page = client.get(r.headers["location"]).text
    assert "库存已更新" in page and "100 顶" in page
    assert "矿泉水 50箱（临期）" in page and "方便面 50箱（已过期）" in page
    assert len(re.findall(r'class="supply-row supply-soon"', page)) == 1
    assert len(re.findall(r'class="supply-row supply-expired"', page)) == 1
    tent = next(
        s["id"]
        for s in next(i for i in _listed(county) if i["id"] == main)["supplies"]
        if s["name"] == "帐篷"
    )
    # 盘点 of a supply held: the count replaces the stock; a refusal opens that supply's form
    r = _post(county, supplies, **here, supply_id=str(tent), name="帐篷", unit="顶", quantity="x")
    assert r.status_code == 422 and "数量：请输入整数" in r.text
    assert re.search(
        rf'<details open><summary[^>]*>盘点</summary>\s*<form[^>]*id="stock-{tent}"', r.text
    )
    r = _post(county, supplies, **here, supply_id=str(tent), name="帐篷", unit="顶", quantity="90")
    assert r.status_code == 303 and _stock(county, main)["帐篷"] == 90

    transfers = f"{PAGE}/{main}/transfers"
    assert f'action="{transfers}#warehouse-{main}"' in client.get(f"{PAGE}?kind=warehouse").text
    r = _post(county, transfers, **here, supply_id=str(tent), to_warehouse_id="", quantity="5")
    assert r.status_code == 422 and "调入储备库：必填" in _form(r.text, f"transfer-{main}")
    r = _post(
        county, transfers, **here, supply_id=str(tent), to_warehouse_id=str(town), quantity="500"
    )
    at = _form(r.text, f"transfer-{main}")  # said at the transfer form, what was typed kept
    assert r.status_code == 409 and "调拨数量：帐篷库存 90顶，不足 500顶" in at
    assert 'value="500"' in at and f'<option value="{town}" selected>' in at
    r = _post(
        county,
        transfers,
        **here,
        supply_id=str(tent),
        to_warehouse_id=str(town),
        quantity="30",
        reason="南河种镇安置点",
    )
    assert r.status_code == 303
    assert (
        r.headers["location"] == f"{PAGE}?kind=warehouse&done=transfer&at={main}#warehouse-{main}"
    )
    page = client.get(r.headers["location"]).text
    assert _stock(county, main)["帐篷"] == 60 and _stock(county, town) == {"帐篷": 30}
    # both cards show their new stock, and the main one (where the page opens) says it is done
    town_at, main_at = page.index(f'id="warehouse-{town}"'), page.index(f'id="warehouse-{main}"')
    town_card, main_card = page[town_at:main_at], page[main_at:]  # listed by name: 南 before 应
    assert "帐篷" in town_card and "30 顶" in town_card and "60 顶" in main_card
    assert "调拨完成" in main_card and "调拨完成" not in page[:main_at]
    assert len(county.node.audits("emergency.resource.transfer")) == 1


def test_no_forms_at_a_warehouse_kept_elsewhere(county: Any) -> None:
    from anjian.emergency.models import EmergencyResource

    client = county.node.client
    main, town = _warehouses(county)
    headers = county.node.login("yingxian")
    body = {"name": "帐篷", "quantity": 10, "unit": "顶"}
    for wh in (main, town):
        r = client.put(f"{API}/resources/{wh}/supplies", headers=headers, json=body)
        assert r.status_code == 200
    with county.node.db() as s:
        s.get(EmergencyResource, town).origin_node = "node-140622"
    page = client.get(PAGE).text
    assert f'action="{PAGE}/{main}/supplies#warehouse-{main}"' in page
    assert f"{PAGE}/{town}/supplies" not in page and f"{PAGE}/{town}/transfers" not in page
    assert "只读" in page and f'<option value="{town}"' not in page  # nor a destination
    r = _post(county, f"{PAGE}/{town}/supplies", name="帐篷", quantity="1", unit="顶")
    assert r.status_code == 403 and "本节点只读" in r.text and 'id="form-error"' in r.text
    assert _stock(county, town) == {"帐篷": 10}


def test_scope_of_the_resources_page(county: Any) -> None:
    client = county.node.client
    main, _town = _warehouses(county)
    r = _register(county, name="应县矿山救护队", lng="113.19", lat="39.56")
    assert r.status_code == 303
    county.login("shanyin")
    page = client.get(PAGE).text
    assert "应县矿山救护队" not in page and "应县应急物资储备库" not in page
    assert _map(page) == [] and ">应县</option>" not in client.get(f"{PAGE}?new=1").text
    r = _post(county, f"{PAGE}/{main}/supplies", name="帐篷", quantity="1", unit="顶")
    assert r.status_code == 404 and 'id="form-error"' in r.text and _stock(county, main) == {}
    county.login("sheng")
    page = client.get(PAGE).text
    assert "应县矿山救护队" in page and "应县矿山救护队" in [p["name"] for p in _map(page)]
    county.login("qiye")
    assert client.get(PAGE).status_code == 403
    r = client.post(PAGE, data={"kind": "team", "name": "x", "division_code": COUNTY})
    assert r.status_code == 403
    r = client.post(f"{PAGE}/{main}/supplies", data={"name": "帐篷", "quantity": "1", "unit": "顶"})
    assert r.status_code == 403
