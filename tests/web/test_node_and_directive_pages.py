"""The node page (this node, parent, children and the records each child forwarded) and the
directive pages (list, issue, read, 签收) as the personas meet them; records received from
another node are read-only in the console."""

from __future__ import annotations

import re

from sqlalchemy import select

from anjian.core.audit.service import SYSTEM
from anjian.core.sync.models import SyncLink
from anjian.core.sync.service import link_child, set_parent
from anjian.db import utcnow
from anjian.directives.models import Directive
from anjian.enterprises.models import Enterprise
from anjian.enterprises.rules import compose_uscc

MINE = "应县金鼎煤业有限公司"
EXTERNAL = re.compile(r"""(?:https?:)?//(?!testserver|10\.0\.0\.1)[a-z0-9.-]+\.[a-z]{2,}""", re.I)
TITLE = "关于开展煤矿雨季“三防”安全检查的通知"


def _receive_from_child(node, name: str, division: str, origin: str) -> int:  # type: ignore[no-untyped-def]
    """A copy of an enterprise made at another node, as the sync apply stores it."""
    with node.db() as s:
        mine = s.get(Enterprise, node.enterprises["ying_mine"])
        copy = Enterprise(
            uscc=compose_uscc(division, "MA0K0099"),
            name=name,
            division_code=division,
            supervision_category=mine.supervision_category,
            industry_code=mine.industry_code,
            scale=mine.scale,
            address="应县城关镇",
            status="operating",
            created_at=utcnow(),
            origin_node=origin,
            version=3,
            updated_at=utcnow(),
        )
        s.add(copy)
        s.flush()
        return copy.id


# --- node page ---------------------------------------------------------------------------------


def test_node_page_shows_this_node_and_no_parent(console) -> None:
    console.login("sheng")
    r = console.node.client.get("/nodes")
    assert r.status_code == 200
    page = r.text
    assert 'href="/nodes"' in page and "节点状态" in page
    assert "node-140000" in page and "山西省（140000）" in page and "省级" in page
    assert 'id="no-parent"' in page
    assert "尚未登记下级节点" in page


def test_node_page_lists_a_linked_child_and_the_records_it_forwarded(console) -> None:
    with console.node.db() as s:
        link_child(s, SYSTEM, "140600")
    console.login("sheng")
    client = console.node.client
    page = client.get("/nodes").text
    row = re.search(r'<tr id="child-140600">.*?</tr>', page, re.S)
    assert row, page
    assert "朔州市" in row.group(0) and "从未联络" in row.group(0) and "尚未联络" in row.group(0)
    assert 'id="records-140600"' not in page and ">0 家<" in row.group(0)

    # The child calls in and forwards a county's record (made two tiers down).
    with console.node.db() as s:
        link = s.scalar(select(SyncLink).where(SyncLink.division_code == "140600"))
        link.node_id, link.last_contact_at, link.up_seq = "node-140600", utcnow(), 42
    copy = _receive_from_child(console.node, "应县远方煤业有限公司", "140622", "node-140622")
    page = client.get("/nodes").text
    row = re.search(r'<tr id="child-140600">.*?</tr>', page, re.S).group(0)  # type: ignore[union-attr]
    assert "node-140600" in row and "正常" in row and ">42<" in row and "1 家" in row
    card = re.search(r'id="records-140600".*?</table>', page, re.S).group(0)  # type: ignore[union-attr]
    assert f'href="/enterprises/{copy}"' in card and "应县远方煤业有限公司" in card
    assert "node-140622 · 1" in card and "v3" in card
    assert MINE not in card  # made at this node: not a record of the child

    records = client.get("/nodes/140600/records?origin=node-140622")
    assert records.status_code == 200
    assert "应县远方煤业有限公司" in records.text and MINE not in records.text
    assert "没有该节点报送" in client.get("/nodes/140600/records?origin=node-x").text
    assert client.get("/nodes/140700/records").status_code == 404

    # The records of a child are read in the user's scope: 山阴县 sees none of 应县's.
    console.login("shanyin")
    assert "应县远方煤业有限公司" not in client.get("/nodes").text
    assert "应县远方煤业有限公司" not in client.get("/nodes/140600/records").text


def test_node_page_shows_the_parent_link_with_backlog_and_last_error(console) -> None:
    with console.node.db() as s:
        link = set_parent(s, SYSTEM, "http://10.0.0.1:8000", "k" * 43, "000000")
        link.last_error, link.last_error_at = "上级节点拒绝 (parent answered 502)", utcnow()
    console.login("admin")
    page = console.node.client.get("/nodes").text
    parent = re.search(r'id="parent-link".*?id="children"', page, re.S).group(0)  # type: ignore[union-attr]
    assert "http://10.0.0.1:8000" in parent and "（000000）" in parent
    assert re.search(r'id="parent-state">异常<', parent)
    assert "上级节点拒绝 (parent answered 502)" in parent
    backlog = re.search(r'id="parent-backlog"><strong>(\d+)</strong>', parent)
    assert backlog and int(backlog.group(1)) >= 2  # the personas' two enterprises wait
    assert re.search(r'id="parent-lag"[^>]*>\d+ (秒|分)', parent)


def test_enterprise_users_may_not_see_nodes_or_directives(console) -> None:
    console.login("qiye")
    client = console.node.client
    for path in ("/nodes", "/directives", "/directives/new"):
        r = client.get(path)
        assert r.status_code == 403, path
        assert "企业用户无权访问" in r.text
    home = client.get("/").text
    assert 'href="/nodes"' not in home and 'href="/directives"' not in home


# --- directives --------------------------------------------------------------------------------


def _issue(console, **fields: str):  # type: ignore[no-untyped-def]
    client = console.node.client
    form = client.get("/directives/new")
    assert form.status_code == 200
    data = {"kind": "directive", "title": TITLE, "body": "各县：\n请于月底前完成。"}
    data.update(fields)
    data["csrf"] = console.csrf("/directives/new")
    return client.post("/directives/new", data=data, follow_redirects=False)


def test_city_issues_county_signs_and_the_city_sees_the_receipt(console) -> None:
    client = console.node.client
    console.login("shuozhou")
    form = client.get("/directives/new").text
    assert '<option value="140600" selected>朔州市（140600）' in form  # own division first
    assert 'value="140622"' in form and 'value="140621"' in form
    r = _issue(console, target_division="140622", due_date="2026-07-31")
    assert r.status_code == 303, r.text
    uid = r.headers["location"].split("/")[2].split("?")[0]
    detail = client.get(r.headers["location"]).text
    assert "已下发" in detail and TITLE in detail and "请于月底前完成" in detail
    assert "2026-07-31" in detail and "node-140000" in detail
    assert 'id="sign-form"' not in detail  # addressed below the city: the county signs
    listing = client.get("/directives").text
    row = re.search(rf'<tr id="directive-{uid}">.*?</tr>', listing, re.S).group(0)  # type: ignore[union-attr]
    assert "指令" in row and "应县" in row and "下级已签收 0" in row

    console.login("yingxian")
    listing = client.get("/directives").text
    row = re.search(rf'<tr id="directive-{uid}">.*?</tr>', listing, re.S).group(0)  # type: ignore[union-attr]
    assert "朔州市应急管理局" in row and f'action="/directives/{uid}/sign"' in row
    assert re.search(r'id="pending-count">1<', listing)
    csrf = console.csrf(f"/directives/{uid}")
    signed = client.post(
        f"/directives/{uid}/sign",
        data={"csrf": csrf, "note": "已收悉，立即部署"},
        follow_redirects=False,
    )
    assert signed.status_code == 303, signed.text
    detail = client.get(signed.headers["location"]).text
    assert "已签收" in detail and 'id="sign-form"' not in detail
    again = client.post(f"/directives/{uid}/sign", data={"csrf": csrf})
    assert again.status_code == 409 and "本级已签收该通知" in again.text
    assert re.search(r'id="pending-count">0<', client.get("/directives").text)

    console.login("shuozhou")
    detail = client.get(f"/directives/{uid}").text
    receipts = re.search(r'id="receipts-table".*?</table>', detail, re.S).group(0)  # type: ignore[union-attr]
    assert "应县" in receipts and "140622" in receipts and "yingxian" in receipts
    assert "已收悉，立即部署" in receipts and "node-140000" in receipts
    audit = client.get("/audit?action=directive.").text
    assert 'title="directive.issue">下发通知指令' in audit
    assert 'title="directive.sign">签收通知指令' in audit


def test_a_sibling_county_does_not_see_a_directive_to_yingxian(console) -> None:
    console.login("shuozhou")
    r = _issue(console, target_division="140622")
    uid = r.headers["location"].split("/")[2].split("?")[0]
    console.login("shanyin")
    assert TITLE not in console.node.client.get("/directives").text
    assert console.node.client.get(f"/directives/{uid}").status_code == 404
    csrf = console.csrf("/directives")
    r = console.node.client.post(f"/directives/{uid}/sign", data={"csrf": csrf})
    assert r.status_code == 404


def test_a_directive_to_the_city_is_signed_from_the_list(console) -> None:
    console.login("sheng")
    r = _issue(console, target_division="140600", kind="notice")
    uid = r.headers["location"].split("/")[2].split("?")[0]
    console.login("shuozhou")
    csrf = console.csrf("/directives")
    r = console.node.client.post(
        f"/directives/{uid}/sign", data={"csrf": csrf, "next": "list"}, follow_redirects=False
    )
    assert r.status_code == 303 and r.headers["location"] == "/directives?signed=1"
    listing = console.node.client.get(r.headers["location"]).text
    row = re.search(rf'<tr id="directive-{uid}">.*?</tr>', listing, re.S).group(0)  # type: ignore[union-attr]
    assert "通知" in row and "已签收" in row and "/sign" not in row
    # A county below the city signs for itself too.
    console.login("yingxian")
    assert f'action="/directives/{uid}/sign"' in console.node.client.get("/directives").text


def test_issue_form_shows_errors_next_to_the_fields(console) -> None:
    console.login("shuozhou")
    r = _issue(console, title="   ", due_date="31/07/2026")
    assert r.status_code == 422
    assert re.search(r'id="err-title">必填<', r.text)
    assert re.search(r'id="err-due_date">日期格式应为 YYYY-MM-DD<', r.text)
    assert "(" not in re.search(r'id="err-title">[^<]*<', r.text).group(0)  # type: ignore[union-attr]
    console.login("yingxian")
    r = _issue(console, target_division="140621")
    assert r.status_code == 403
    assert re.search(r'id="err-target_division">只能向本辖区下发: 140621 不在管辖范围内<', r.text)
    with console.node.db() as s:
        assert s.scalar(select(Directive.id)) is None


def test_issue_and_sign_need_the_csrf_token(console) -> None:
    console.login("shuozhou")
    client = console.node.client
    r = client.post("/directives/new", data={"title": TITLE, "target_division": "140622"})
    assert r.status_code == 403
    uid = _issue(console, target_division="140622").headers["location"].split("/")[2].split("?")[0]
    console.login("yingxian")
    r = client.post(f"/directives/{uid}/sign", data={"csrf": "forged"})
    assert r.status_code == 403
    assert f'action="/directives/{uid}/sign"' in client.get(f"/directives/{uid}").text


# --- records of other nodes are read-only --------------------------------------------------------


def test_a_record_from_another_node_is_read_only(console) -> None:
    ent = console.node.enterprises["ying_mine"]
    with console.node.db() as s:
        s.get(Enterprise, ent).origin_node = "node-140622"
    console.login("yingxian")
    client = console.node.client
    detail = client.get(f"/enterprises/{ent}").text
    assert "由节点 node-140622 维护，本节点只读" in detail
    assert f'href="/enterprises/{ent}/edit"' not in detail
    edit = client.get(f"/enterprises/{ent}/edit")
    assert "由节点 node-140622 维护，本节点只读" in edit.text
    assert 'id="enterprise-form"' not in edit.text
    csrf = console.csrf(f"/enterprises/{ent}")
    r = client.post(f"/enterprises/{ent}/edit", data={"employees": "5", "csrf": csrf})
    assert r.status_code == 403 and "本节点只读" in r.text
    # A record of this node keeps its edit button.
    with console.node.db() as s:
        s.get(Enterprise, ent).origin_node = "node-140000"
    assert f'href="/enterprises/{ent}/edit"' in client.get(f"/enterprises/{ent}").text


# --- no external URLs ----------------------------------------------------------------------------


def test_node_and_directive_pages_contain_no_external_urls(console) -> None:
    with console.node.db() as s:
        link_child(s, SYSTEM, "140600")
    console.login("shuozhou")
    r = _issue(console, target_division="140622")
    uid = r.headers["location"].split("/")[2].split("?")[0]
    for path in (
        "/nodes",
        "/nodes/140600/records",
        "/directives",
        "/directives?show=pending",
        "/directives/new",
        f"/directives/{uid}",
    ):
        r = console.node.client.get(path)
        assert r.status_code == 200, path
        assert '<html lang="zh-CN">' in r.text, path
        assert not EXTERNAL.findall(r.text), (path, EXTERNAL.findall(r.text))


def test_an_administrator_asks_the_forwarder_to_sync_now(console) -> None:
    with console.node.db() as s:
        set_parent(s, SYSTEM, "http://10.0.0.1:8000", "k" * 43, "000000")
    console.login("sheng")  # an official sees the link, not the button
    assert 'id="sync-now-button"' not in console.node.client.get("/nodes").text
    console.login("admin")
    assert 'id="sync-now-button"' in console.node.client.get("/nodes").text
    r = console.node.client.post(
        "/nodes/sync-now", data={"csrf": console.csrf("/nodes")}, follow_redirects=False
    )
    assert r.status_code == 303 and r.headers["location"].startswith("/nodes?done=sync-now")
    assert 'id="sync-requested"' in console.node.client.get(r.headers["location"]).text
    forged = console.node.client.post("/nodes/sync-now", data={"csrf": "x"})
    assert forged.status_code == 403
