"""防护目标 in the console: the page says what targets are for, lists them by kind with division
names, registers one from its form (refusals in Chinese at the form), imports the Excel template
all or nothing with the row report on refusal, removes a target kept here (only there is the
button offered); scope (a sibling county sees none of 应县's, an enterprise user is refused)."""

from __future__ import annotations

from io import BytesIO
from typing import Any

import pytest
from openpyxl import Workbook

from anjian.core.downloads import XLSX_MEDIA_TYPE

API = "/api/v1/emergency"
PAGE = "/emergency/targets"


@pytest.fixture
def county(console: Any) -> Any:
    console.login("yingxian")
    return console


def _post(console: Any, path: str, **fields: str) -> Any:
    data = {"csrf": console.csrf(PAGE), **fields}
    return console.node.client.post(path, data=data, follow_redirects=False)


def _sheet(*rows: list[Any]) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(["类别*", "名称*", "行政区划代码*", "地址", "经度", "纬度", "人数"])
    for values in rows:
        ws.append(values)
    out = BytesIO()
    wb.save(out)
    return out.getvalue()


def _upload(console: Any, data: bytes) -> Any:
    return console.node.client.post(
        f"{PAGE}/import",
        data={"csrf": console.csrf(PAGE)},
        files={"file": ("学校名录.xlsx", data, XLSX_MEDIA_TYPE)},
        follow_redirects=False,
    )


def test_the_page_says_what_targets_are_for_and_registers_one(county: Any) -> None:
    client = county.node.client
    page = client.get(PAGE).text
    assert 'id="tab-targets"' in page and 'aria-current="page" id="tab-targets"' in page
    assert "暂无防护目标" in page and "威胁区域" in page and 'id="target-note"' in page
    assert f'href="{API}/targets/template.xlsx"' in page and 'id="import-form"' in page
    assert 'id="target-form"' not in page  # opened by 登记防护目标
    form = client.get(f"{PAGE}?new=1").text
    assert 'id="target-form"' in form and ">应县</option>" in form
    assert ">人员密集场所</option>" in form

    refused = _post(county, PAGE, kind="school", name="", division_code="140622")
    assert refused.status_code == 422 and 'id="target-form"' in refused.text
    assert "请改正以下项目：名称" in refused.text
    half = _post(
        county, PAGE, kind="school", name="应县第一中学", division_code="140622", lng="113.19"
    )
    assert half.status_code == 422 and "缺少纬度" in half.text
    assert 'value="应县第一中学"' in half.text  # what was typed stays
    big = _post(
        county,
        PAGE,
        kind="school",
        name="应县第一中学",
        division_code="140622",
        population="99999999999",
    )
    assert big.status_code == 422 and "人数" in big.text
    r = _post(
        county,
        PAGE,
        kind="school",
        name="应县第一中学",
        division_code="140622",
        address="金城镇",
        lng="113.19",
        lat="39.56",
        population="1800",
        contact_name="王校长",
        contact_phone="13900001234",
    )
    assert r.status_code == 303, r.text
    page = client.get(r.headers["location"]).text
    assert "防护目标已登记" in page and "应县第一中学" in page and "1,800" in page
    assert "139****1234" in page and "13900001234" not in page
    assert "应县" in page and ">140622<" not in page  # the division's name, not its code
    r = _post(county, PAGE, kind="hospital", name="应县人民医院", division_code="140622")
    assert r.status_code == 303
    page = client.get(f"{PAGE}?kind=hospital").text
    assert "应县人民医院" in page and "应县第一中学" not in page and "未登记坐标" in page
    empty = client.get(f"{PAGE}?kind=nursing_home").text
    assert "当前筛选条件下没有记录" in empty
    assert len(county.node.audits("emergency.target.create")) == 2


def test_import_all_or_nothing_with_the_row_report(county: Any) -> None:
    client = county.node.client
    good = [
        ["学校", "应县第二中学", "140622", "", 113.2, 39.5, 900],
        ["医院", "应县中医院", "140622"],
    ]
    r = _upload(county, _sheet(*good, ["潜艇", "不存在", "140622"], ["学校", "越界", "140621"]))
    assert r.status_code == 422, r.text
    assert 'id="import-errors"' in r.text and "未导入任何数据" in r.text
    assert "<td>4</td><td>类别</td>" in r.text and "<td>5</td><td>行政区划代码</td>" in r.text
    assert "学校名录.xlsx" in r.text
    assert "应县第二中学" not in client.get(PAGE).text
    r = _upload(county, _sheet(*good))
    assert r.status_code == 303 and r.headers["location"] == f"{PAGE}?imported=2"
    page = client.get(r.headers["location"]).text
    assert "已导入 2 个防护目标" in page and "应县第二中学" in page and "应县中医院" in page
    r = _upload(county, b"%PDF-1.7 not a workbook")  # the file refused, said on the report page
    assert r.status_code == 422 and "无法读取" in r.text and 'id="import-detail"' in r.text
    assert "返回防护目标" in r.text and 'id="import-errors"' not in r.text
    r = client.post(f"{PAGE}/import", data={"csrf": county.csrf(PAGE)}, files={"file": ("", b"")})
    assert r.status_code == 422 and "请选择要导入的 Excel 文件" in r.text
    r = client.post(f"{PAGE}/import", files={"file": ("t.xlsx", _sheet(*good))})
    assert r.status_code == 403  # no CSRF token
    results = [a.result for a in county.node.audits("emergency.target.import")]
    assert results == ["failure", "success"]


def test_a_target_kept_here_is_removed_and_one_kept_elsewhere_is_not(county: Any) -> None:
    from anjian.emergency.targets.models import ProtectionTarget

    client = county.node.client
    headers = county.node.login("yingxian")
    ids = [
        client.post(
            f"{API}/targets",
            headers=headers,
            json={"kind": "residential", "name": name, "division_code": "140622"},
        ).json()["id"]
        for name in ("南河种村", "下社村")
    ]
    with county.node.db() as s:
        s.get(ProtectionTarget, ids[1]).origin_node = "node-140622"
    page = client.get(PAGE).text
    assert f'action="{PAGE}/{ids[0]}/delete"' in page
    assert f'action="{PAGE}/{ids[1]}/delete"' not in page and "只读" in page
    r = _post(county, f"{PAGE}/{ids[1]}/delete")
    assert r.status_code == 403 and "本节点只读" in r.text and 'id="delete-error"' in r.text
    r = _post(county, f"{PAGE}/{ids[0]}/delete")
    assert r.status_code == 303
    page = client.get(r.headers["location"]).text
    assert "防护目标已删除" in page and "南河种村" not in page and "下社村" in page
    assert len(county.node.audits("emergency.target.delete")) == 1


def test_scope_of_the_targets_page(county: Any) -> None:
    r = _post(county, PAGE, kind="school", name="应县第一中学", division_code="140622")
    assert r.status_code == 303
    client = county.node.client
    county.login("shanyin")
    page = client.get(PAGE).text
    assert "应县第一中学" not in page and ">应县</option>" not in client.get(f"{PAGE}?new=1").text
    r = _post(county, PAGE, kind="school", name="越界学校", division_code="140622")
    assert r.status_code == 403 and "不在您的管辖范围内" in r.text
    county.login("sheng")
    assert "应县第一中学" in client.get(PAGE).text
    county.login("qiye")
    assert client.get(PAGE).status_code == 403
    r = client.post(PAGE, data={"kind": "school", "name": "x", "division_code": "140622"})
    assert r.status_code == 403
