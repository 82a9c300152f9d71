"""行政执法 in the console: the inspections (the officer's own first) and the 新建检查 form, one
inspection taken from planned to finished through its forms — each offered only in the state
where the service accepts it — the officers with their conflicts and terminals, and an
enterprise's enforcement history; scope (another county: 404; an enterprise user: nothing), and
refused forms answered in Chinese, never a 500."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest

from anjian.core.clock import today_in_china
from enforcement_world import API, officer

MINE = "应县金鼎煤业有限公司"


@pytest.fixture
def county(console: Any) -> Any:
    """应县 with three officers (yingxian, 张执法, 李执法); the console as yingxian."""
    node = console.node
    node.headers = node.login("yingxian")
    node.officers = [
        officer(node, "yingxian", "14062201", "应县执法员"),
        officer(node, "zf1", "14062202", "张执法"),
        officer(node, "zf2", "14062203", "李执法"),
    ]
    console.login("yingxian")
    return console


def _plan(console: Any, **fields: Any) -> Any:
    node = console.node
    data = {
        "csrf": console.csrf("/enforcement/inspections"),
        "enterprise_id": str(node.enterprises["ying_mine"]),
        "team": [str(i) for i in node.officers[:2]],
        "planned_on": (today_in_china() + timedelta(days=3)).isoformat(),
        "source": "complaint",
        "source_ref": "举报 2026-017",
        **fields,
    }
    return node.client.post("/enforcement/inspections", data=data, follow_redirects=False)


def _planned(console: Any) -> int:
    r = _plan(console)
    assert r.status_code == 303, r.text
    match = re.fullmatch(r"/enforcement/inspections/(\d+)\?done=plan", r.headers["location"])
    assert match, r.headers["location"]
    return int(match.group(1))


def _step(console: Any, iid: int, action: str, **fields: str) -> Any:
    data = {"csrf": console.csrf(f"/enforcement/inspections/{iid}"), **fields}
    return console.node.client.post(
        f"/enforcement/inspections/{iid}/{action}", data=data, follow_redirects=False
    )


def _offered(html: str) -> set[str]:
    """Which step forms the page offers."""
    marks = {
        "start": 'id="start-form"',
        "finding": 'id="finding-button"',
        "finish": 'id="finish-button"',
        "record": 'id="record-form"',
        "order": 'id="order-form"',
        "review": 'id="review-form"',
        "measure": 'id="measure-form"',
        "hazard": "to-hazard",
    }
    return {name for name, mark in marks.items() if mark in html}


def test_the_list_offers_new_inspection_and_puts_the_officers_own_first(county: Any) -> None:
    client = county.node.client
    home = client.get("/")
    assert 'href="/enforcement/inspections"' in home.text and "行政执法" in home.text
    empty = client.get("/enforcement/inspections")
    assert empty.status_code == 200
    assert "暂无检查任务" in empty.text and 'id="new-inspection-form"' in empty.text
    for tab in ("检查任务", "检查计划", "双随机抽查", "行政处罚", "执法统计"):
        assert tab in empty.text
    assert re.search(r'class="nav-link active" href="/enforcement/inspections"', empty.text)
    # The team is chosen from the agency's active officers, by name and certificate.
    assert "张执法" in empty.text and "14062203" in empty.text
    # yingxian is an active officer: the terminal can be paired from here
    assert 'href="/terminal/pair"' in empty.text
    iid = _planned(county)
    # Another inspection yingxian is not on: listed, but not among his own.
    other = _plan(county, team=[str(i) for i in county.node.officers[1:]])
    assert other.status_code == 303
    listing = client.get("/enforcement/inspections")
    mine = listing.text.split('id="mine"')[1].split('id="inspections"')[0]
    assert f'id="inspection-{iid}"' in mine and MINE in mine and "待检查" in mine
    assert "举报投诉" in mine and "yingxian" in mine and "张执法" in mine
    assert f'href="/enterprises/{county.node.enterprises["ying_mine"]}"' in mine
    rest = listing.text.split('id="inspections"')[1]
    assert "李执法" in rest and f'id="inspection-{iid}"' not in rest
    assert client.get("/enforcement/inspections?state=finished").status_code == 200
    assert "当前筛选条件下没有记录" in client.get("/enforcement/inspections?state=finished").text
    assert client.get("/enforcement/inspections?page=2").status_code == 200


def test_an_inspection_page_shows_names_and_offers_each_step_only_when_accepted(
    county: Any,
) -> None:
    client = county.node.client
    iid = _planned(county)
    page = client.get(f"/enforcement/inspections/{iid}?done=plan").text
    assert MINE in page and "应县南河种镇" in page and "王建国" in page and "李安全" in page
    assert "执法证号 14062201" in page and "张执法" in page and "煤矿" in page
    assert "瓦斯超限作业" in page and "未检查" in page and "检查已安排" in page
    assert _offered(page) == {"start"}
    # 开始检查
    r = _step(county, iid, "start")
    assert r.status_code == 303 and r.headers["location"].endswith("?done=start#start")
    page = client.get(f"/enforcement/inspections/{iid}").text
    assert "检查中" in page and _offered(page) == {"finding", "finish", "record"}
    # 记录问题, against a checklist item, major
    r = _step(
        county,
        iid,
        "finding",
        item_code="MK02",
        place="1201 工作面",
        description="甲烷 1.2% 仍在作业",
        major="1",
    )
    assert r.status_code == 303, r.text
    page = client.get(f"/enforcement/inspections/{iid}").text
    assert "1201 工作面" in page and "重大事故隐患" in page and "yingxian（应县应急管理局）" in page
    assert _offered(page) == {"finding", "finish", "record", "order", "hazard", "measure"}
    # 转为隐患, once: the finding then links to the hazard
    fid = int(re.search(r'id="finding-(\d+)"', page).group(1))
    csrf = county.csrf(f"/enforcement/inspections/{iid}")
    r = client.post(
        f"/enforcement/inspections/{iid}/findings/{fid}/hazard",
        data={"csrf": csrf},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    page = client.get(f"/enforcement/inspections/{iid}").text
    hazard = re.search(r'href="/hazards/(\d+)" class="finding-hazard"', page)
    assert hazard and "to-hazard" not in page
    again = client.post(
        f"/enforcement/inspections/{iid}/findings/{fid}/hazard", data={"csrf": csrf}
    )
    assert again.status_code == 409 and "该问题已转为隐患" in again.text
    # 出具文书: the order with its deadline, then the review opinion it makes possible
    deadline = (today_in_china() + timedelta(days=15)).isoformat()
    r = _step(county, iid, "document", kind="rectification_order", deadline=deadline)
    assert r.status_code == 303, r.text
    page = client.get(f"/enforcement/inspections/{iid}").text
    number = re.search(r'class="fw-medium document-download"[^>]*>([^<]+)<', page).group(1)
    assert number.startswith("应县应急责改〔") and "责令限期整改指令书" in page
    assert "review" in _offered(page)
    r = _step(county, iid, "document", kind="review_opinion", opinion="经复查，已整改完毕")
    assert r.status_code == 303, r.text
    # 强制措施决定书: the measure and its subject are required, then it is numbered
    r = _step(county, iid, "document", kind="compulsory_measure", subject="2 号局部通风机")
    assert r.status_code == 422 and "请选择强制措施" in r.text
    r = _step(county, iid, "document", kind="compulsory_measure", measure="seal", subject=" ")
    assert r.status_code == 422 and 'id="measure-form"' in r.text
    r = _step(county, iid, "document", kind="compulsory_measure", measure="seal", subject="通风机")
    assert r.status_code == 303, r.text
    assert "应县应急强措〔" in client.get(f"/enforcement/inspections/{iid}").text
    doc = re.search(r'href="(/api/v1/enforcement/documents/\d+\.docx)"', page).group(1)
    download = client.get(doc)
    assert download.status_code == 200 and download.content[:2] == b"PK"
    # 结束检查 with the checklist's results
    r = _step(county, iid, "finish", summary="检查 15 项，发现 1 项重大事故隐患", r_MK01="ok")
    assert r.status_code == 303, r.text
    page = client.get(f"/enforcement/inspections/{iid}").text
    assert "已完成" in page and "检查 15 项" in page and "整改复查意见书" in page
    assert _offered(page) == {"record", "order", "review", "measure"}
    results = dict(re.findall(r'id="item-(MK\d+)".*?item-result">([^<]+)<', page, re.S))
    assert results["MK01"] == "符合" and results["MK02"] == "不符合" and results["MK03"] == "未检查"
    assert len(county.node.audits("enforcement.inspection.%")) == 5  # plan start finding …


def test_refused_and_bad_forms_answer_in_chinese(county: Any) -> None:
    client = county.node.client
    lone = _plan(county, team=[str(county.node.officers[0])])
    assert lone.status_code == 422 and "至少须 2 名执法人员" in lone.text
    assert "at least" not in lone.text and 'id="err-team"' in lone.text
    bad_date = _plan(county, planned_on="明天")
    assert bad_date.status_code == 422 and "日期格式应为 YYYY-MM-DD" in bad_date.text
    no_enterprise = _plan(county, enterprise_id="")
    assert no_enterprise.status_code == 422 and "请选择企业" in no_enterprise.text
    elsewhere = _plan(county, enterprise_id=str(county.node.enterprises["shan_chem"]))
    assert elsewhere.status_code == 404 and "被检查企业" in elsewhere.text
    iid = _planned(county)
    early = _step(county, iid, "finding", place="井口", description="无")
    assert early.status_code == 409 and "只有检查中可以记录问题" in early.text
    early_doc = _step(county, iid, "document", kind="inspection_record")
    assert early_doc.status_code == 409 and "检查尚未开始" in early_doc.text
    assert _step(county, iid, "start").status_code == 303
    twice = _step(county, iid, "start")
    assert twice.status_code == 409 and "不能转为检查中" in twice.text
    assert "cannot go" not in twice.text
    blank = _step(county, iid, "finding", place="", description="")
    assert blank.status_code == 422 and "部位：不能为空" in blank.text
    past = (today_in_china() - timedelta(days=1)).isoformat()
    _step(county, iid, "finding", place="井口", description="未佩戴自救器")
    late = _step(county, iid, "document", kind="rectification_order", deadline=past)
    assert late.status_code == 422 and "不早于今天" in late.text
    no_deadline = _step(county, iid, "document", kind="rectification_order")
    assert no_deadline.status_code == 422 and "请填写整改期限" in no_deadline.text
    odd = _step(county, iid, "document", kind="penalty_decision")
    assert odd.status_code == 422 and "请选择文书种类" in odd.text
    no_summary = _step(county, iid, "finish", summary="", r_MK01="ok")
    assert no_summary.status_code == 422 and "检查情况：不能为空" in no_summary.text
    wrong = _step(county, iid, "finish", summary="完", r_MK01="maybe")
    assert wrong.status_code == 422 and "<" not in wrong.text.split("finish-error")[1][:3]
    assert _step(county, iid, "nonsense").status_code == 404
    forged = client.post(f"/enforcement/inspections/{iid}/start", data={"csrf": "forged"})
    assert forged.status_code == 403


def test_scope_another_county_the_city_and_an_enterprise_user(county: Any) -> None:
    node, client = county.node, county.node.client
    iid = _planned(county)
    county.login("shanyin")
    assert client.get(f"/enforcement/inspections/{iid}").status_code == 404
    listing = client.get("/enforcement/inspections").text
    assert MINE not in listing and 'href="/terminal/pair"' not in listing  # not an officer
    refused = client.post(f"/enforcement/inspections/{iid}/start", data={"csrf": county.csrf()})
    assert refused.status_code == 404
    # The city sees the county's inspection, but only the inspecting agency acts on it.
    county.login("shuozhou")
    page = client.get(f"/enforcement/inspections/{iid}")
    assert page.status_code == 200 and MINE in page.text and _offered(page.text) == set()
    denied = client.post(f"/enforcement/inspections/{iid}/start", data={"csrf": county.csrf()})
    assert denied.status_code == 403 and "只有组织检查的执法机关可以操作" in denied.text
    # An enterprise user sees no enforcement page nor link.
    county.login("qiye")
    for path in (
        "/enforcement/inspections",
        f"/enforcement/inspections/{iid}",
        "/enforcement/inspectors",
        f"/enforcement/enterprises/{node.enterprises['ying_mine']}",
    ):
        assert client.get(path).status_code == 403, path
    own = client.get(f"/enterprises/{node.enterprises['ying_mine']}").text
    assert 'id="records-enforcement"' not in own and "行政执法" not in own
    county.login("yingxian")
    own = client.get(f"/enterprises/{node.enterprises['ying_mine']}").text
    assert 'id="records-enforcement"' in own


def test_a_findings_photos_are_uploaded_and_shown_on_the_inspection_page(county: Any) -> None:
    client = county.node.client
    iid = _planned(county)
    _step(county, iid, "start")
    _step(county, iid, "finding", place="主井口", description="警示标志缺失")
    page = client.get(f"/enforcement/inspections/{iid}").text
    fid = int(re.search(r'id="finding-(\d+)"', page).group(1))
    assert "photo-form" in page and "finding-photo" not in page
    url = f"/enforcement/inspections/{iid}/findings/{fid}/photo"

    def upload(name: str, data: bytes) -> Any:
        return client.post(
            url,
            data={"csrf": county.csrf(f"/enforcement/inspections/{iid}")},
            files={"file": (name, data, "image/jpeg")},
            follow_redirects=False,
        )

    jpeg = b"\xff\xd8\xff\xe0" + b"\x10JFIF" + b"\0" * 64
    r = upload("井口.jpg", jpeg)
    assert r.status_code == 303 and r.headers["location"].endswith(f"?done=photo#finding-{fid}")
    page = client.get(f"/enforcement/inspections/{iid}?done=photo").text
    assert "照片已上传" in page and page.count('class="rounded border finding-photo"') == 1
    src = re.search(r'<img src="([^"]+)" alt="现场照片 井口.jpg"', page).group(1)
    assert client.get(src).content == jpeg
    # Not an image, and no file at all: answered in Chinese on the page, nothing attached.
    r = upload("报告.pdf", b"%PDF-1.7")
    assert r.status_code == 422 and "只能是 JPEG、PNG 或 WebP" in r.text
    r = upload("", b"")
    assert r.status_code == 422 and "请选择照片" in r.text
    assert (
        client.get(f"{API}/inspections/{iid}", headers=county.node.headers).json()["findings"][0][
            "photos"
        ][0]["name"]
        == "井口.jpg"
    )
    # The city sees the photo but is not offered the upload.
    county.login("shuozhou")
    page = client.get(f"/enforcement/inspections/{iid}").text
    assert "finding-photo" in page and "photo-form" not in page
    r = client.post(url, data={"csrf": county.csrf()}, files={"file": ("a.jpg", jpeg)})
    assert r.status_code == 403


def test_documents_offer_pdf_only_where_the_node_prints_it(
    county: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from anjian.config import get_settings

    client = county.node.client
    iid = _planned(county)
    _step(county, iid, "start")
    assert _step(county, iid, "document", kind="inspection_record").status_code == 303
    try:
        for setting, offered in (("off", False), ("/bin/sh", True), ("/nonexistent", False)):
            monkeypatch.setenv("ANJIAN_PDF_RENDERER", setting)
            get_settings.cache_clear()
            page = client.get(f"/enforcement/inspections/{iid}").text
            assert ("document-pdf" in page) is offered, setting
            assert "document-download" in page  # the .docx always
    finally:
        monkeypatch.delenv("ANJIAN_PDF_RENDERER")
        get_settings.cache_clear()


def test_an_enterprises_enforcement_history(county: Any) -> None:
    node, client = county.node, county.node.client
    iid = _planned(county)
    _step(county, iid, "start")
    _step(county, iid, "document", kind="inspection_record")
    r = client.post(
        f"{API}/penalties",
        headers=node.headers,
        json={
            "enterprise_id": node.enterprises["ying_mine"],
            "inspection_id": iid,
            "basis": "SCF102",
            "facts": "检查发现北翼回风巷风门损坏未消除",
            "filed_on": today_in_china().isoformat(),
        },
    )
    assert r.status_code == 201, r.text
    eid = node.enterprises["ying_mine"]
    dossier = client.get(f"/enterprises/{eid}").text
    link = dossier.split('id="records-enforcement"')[0].rsplit("<a", 1)[1]
    assert f'href="/enforcement/enterprises/{eid}"' in link
    assert "处罚案件 1" in dossier.split('id="records-enforcement"')[1][:400]
    page = client.get(f"/enforcement/enterprises/{eid}")
    assert page.status_code == 200
    assert f'id="history-inspection-{iid}"' in page.text and "现场检查记录" in page.text
    assert "应县应急检记〔" in page.text and "北翼回风巷风门损坏" in page.text
    assert "已立案" in page.text and "应县" in page.text
    county.login("shanyin")
    assert client.get(f"/enforcement/enterprises/{eid}").status_code == 404


def test_the_officers_page(county: Any) -> None:
    node, client = county.node, county.node.client
    node.add_user("zf3", "official", "140622", display_name="赵执法")
    page = client.get("/enforcement/inspectors")
    assert page.status_code == 200
    assert "张执法" in page.text and "14062202" in page.text and "在岗" in page.text
    assert "赵执法（应县）" in page.text  # offered for registration

    def post(path: str, **fields: str) -> Any:
        data = {"csrf": county.csrf("/enforcement/inspectors"), **fields}
        return client.post(path, data=data, follow_redirects=False)

    r = post("/enforcement/inspectors", user_id=str(node.users["zf3"]), certificate_no="14062204")
    assert r.status_code == 303, r.text
    page = client.get("/enforcement/inspectors").text
    assert "赵执法" in page and "14062204" in page and "赵执法（应县）" not in page
    again = post("/enforcement/inspectors", user_id=str(node.users["zf3"]), certificate_no="X")
    assert again.status_code == 409 and "已登记为执法人员" in again.text
    blank = post("/enforcement/inspectors", user_id="", certificate_no="")
    assert blank.status_code == 422 and "监管人员：" in blank.text
    zf1 = node.officers[1]
    # Off the draws and back.
    assert post(f"/enforcement/inspectors/{zf1}/active", active="0").status_code == 303
    row = client.get("/enforcement/inspectors").text.split(f'id="officer-{zf1}"')[1]
    assert "暂停" in row[:600] and "恢复在岗" in row[:1200]
    assert post(f"/enforcement/inspectors/{zf1}/active", active="1").status_code == 303
    # A conflict of interest, declared and withdrawn.
    r = post(
        "/enforcement/inspectors/conflicts",
        inspector_id=str(zf1),
        enterprise_id=str(node.enterprises["ying_mine"]),
        reason="配偶在该企业任职",
    )
    assert r.status_code == 303, r.text
    page = client.get("/enforcement/inspectors").text
    assert MINE in page and "配偶在该企业任职" in page
    cid = re.search(r'id="conflict-(\d+)"', page).group(1)
    # The team with that officer is refused at the 新建检查 form, in Chinese.
    conflicted = _plan(county)
    assert conflicted.status_code == 422 and "应当回避" in conflicted.text
    r = post(f"/enforcement/inspectors/{zf1}/conflicts/{cid}/withdraw")
    assert r.status_code == 303
    assert "配偶在该企业任职" not in client.get("/enforcement/inspectors").text
    # A terminal bound: its token shown once; then revoked.
    r = post("/enforcement/inspectors/terminals", officer_id=str(zf1), name="平板 A")
    assert r.status_code == 201, r.text
    token = re.search(r'id="token-value">(tml_[^<]+)<', r.text).group(1)
    assert token not in client.get("/enforcement/inspectors").text
    terminal = client.get("/api/v1/terminal/changes", headers={"Authorization": f"Bearer {token}"})
    assert terminal.status_code == 200
    page = client.get("/enforcement/inspectors").text
    tid = re.search(r'id="terminal-(\d+)"', page).group(1)
    assert post(f"/enforcement/inspectors/{zf1}/terminals/{tid}/revoke").status_code == 303
    assert "已注销" in client.get("/enforcement/inspectors").text
    revoked = client.get("/api/v1/terminal/changes", headers={"Authorization": f"Bearer {token}"})
    assert revoked.status_code == 401
    nameless = post("/enforcement/inspectors/terminals", officer_id=str(zf1), name="")
    assert nameless.status_code == 422 and "终端名称：不能为空" in nameless.text
    # Another county neither sees nor changes 应县's officers.
    county.login("shanyin")
    assert "张执法" not in client.get("/enforcement/inspectors").text
    r = post(f"/enforcement/inspectors/{zf1}/active", active="0")
    assert r.status_code == 404
    # The city's official sees them but binds no terminal for another agency's officer.
    county.login("shuozhou")
    page = client.get("/enforcement/inspectors").text
    assert "张执法" in page and 'id="bind-form"' not in page
    r = post("/enforcement/inspectors/terminals", officer_id=str(zf1), name="平板 B")
    assert r.status_code == 403 and "只能为本人或本机关的执法人员绑定终端" in r.text
