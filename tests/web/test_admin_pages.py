"""系统管理 pages: users, organisations and the node's settings through their forms, as an
administrator meets them; refusals outside the jurisdiction, hostile input, and the audit of
every change. The TOTP enrolment page's QR code."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import func, select

from anjian.core.iam.models import User
from anjian.core.orgs.models import Organisation

PASSWORD = "Anjian#2026"
NEW = "Fresh#Pass2026"


def _user(node: Any, name: str) -> User | None:
    with node.db() as s:
        user = s.scalar(select(User).where(User.username == name))
        if user is not None:
            s.expunge(user)
        return user


def _users(node: Any) -> int:
    with node.db() as s:
        return int(s.scalar(select(func.count()).select_from(User)) or 0)


def _row(page: str, user_id: int) -> str:
    match = re.search(rf'<tr id="user-{user_id}">.*?</tr>', page, re.S)
    assert match, f"no row of user {user_id}"
    return match.group(0)


def _new_user(console: Any, **fields: str):  # type: ignore[no-untyped-def]
    data = {
        "csrf": console.csrf("/admin/users/new"),
        "username": "zhaoliu",
        "display_name": "赵六",
        "role": "official",
        "division_code": "140622",
        "org_id": "",
        "enterprise_uscc": "",
        "password": NEW,
        "password2": NEW,
        **fields,
    }
    return console.node.client.post("/admin/users/new", data=data, follow_redirects=False)


def _post(console: Any, user_id: int, action: str, **fields: str):  # type: ignore[no-untyped-def]
    data = {"csrf": console.csrf(f"/admin/users/{user_id}"), **fields}
    return console.node.client.post(f"/admin/users/{user_id}/{action}", data=data)


def test_the_nav_entry_is_for_administrators_only(console) -> None:
    console.login("admin")
    home = console.node.client.get("/").text
    assert 'href="/admin/users"' in home and 'href="/admin/settings"' in home
    console.login("shuozhou")
    assert 'href="/admin/users"' not in console.node.client.get("/").text
    for path in ("/admin/users", "/admin/users/new", "/admin/orgs", "/admin/settings"):
        assert console.node.client.get(path).status_code == 403, path
    console.login("qiye")
    assert console.node.client.get("/admin/users").status_code == 403


def test_the_list_shows_who_where_and_in_what_state(console) -> None:
    node = console.node
    console.login("yingxian")  # a last login to show
    with node.db() as s:
        s.get(User, node.users["shanyin"]).locked_by_admin = True
    node.enrol_mfa("yingxian")
    console.login("admin")
    page = node.client.get("/admin/users").text
    row = _row(page, node.users["yingxian"])
    assert "应县应急管理局" in row and "应县" in row and "监管人员" in row
    assert "已绑定" in row and "正常" in row and "从未登录" not in row
    shan = _row(page, node.users["shanyin"])
    assert "管理员锁定" in shan and "从未登录" in shan
    locked = node.client.get("/admin/users?locked=yes").text
    assert "shanyin" in locked and "yingxian" not in locked
    only = node.client.get("/admin/users?role=enterprise&division=140622").text
    assert "qiye" in only and "yingxian" not in only
    bad = node.client.get("/admin/users?division=14x")
    assert bad.status_code == 422 and "行政区划代码应为 6 位数字" in bad.text
    assert node.client.get("/admin/users?locked=maybe").status_code == 422
    assert node.audits("user.read")  # names of people: the read is audited


def test_an_administrator_creates_a_user(console) -> None:
    console.login("admin")
    form = console.node.client.get("/admin/users/new").text
    # only grantable roles, organisations in scope
    assert '<option value="admin"' in form and "朔州市应急管理局" in form
    r = _new_user(console)
    assert r.status_code == 303, r.text
    user = _user(console.node, "zhaoliu")
    assert user is not None and user.display_name == "赵六" and user.role == "official"
    assert r.headers["location"] == f"/admin/users/{user.id}?done=created"
    created = console.node.audits("user.create")[-1]
    assert created.actor_name == "admin" and created.object_id == str(user.id)
    page = console.node.client.get(r.headers["location"]).text
    assert "用户已创建" in page and 'id="btn-lock"' in page and 'id="btn-unlock"' not in page
    assert 'id="btn-mfa-reset"' not in page  # nothing bound yet


def test_an_enterprise_user_is_created_with_the_enterprises_credit_code(console) -> None:
    console.login("admin")
    from anjian.enterprises.rules import compose_uscc

    uscc = compose_uscc("140622", "MA0K0001")
    missing = _new_user(console, username="kuang", role="enterprise", enterprise_uscc="")
    assert missing.status_code == 422 and 'id="err-enterprise_id"' in missing.text
    r = _new_user(console, username="kuang", role="enterprise", enterprise_uscc=uscc.lower())
    assert r.status_code == 303, r.text
    assert _user(console.node, "kuang").enterprise_id == console.node.enterprises["ying_mine"]  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"password": "weak", "password2": "weak"}, "password", "密码长度至少"),
        ({"password2": "Other#Pass2026"}, "password2", "两次输入的密码不一致"),
        ({"username": "赵六"}, "username", "用户名只能包含"),
        ({"username": "a" * 65}, "username", "用户名只能包含"),
        ({"username": "yingxian"}, "username", "用户名已存在"),
        ({"username": ""}, "username", "用户名只能包含"),
        ({"division_code": "1406"}, "division_code", "6 位数字"),
        ({"division_code": "149999"}, "division_code", "行政区划代码不存在"),
        ({"role": "root"}, "role", "请从列表中选择"),
        ({"org_id": "99999999999999999999"}, "org_id", "不能大于"),
        ({"org_id": "abc"}, "org_id", "请输入整数"),
        ({"org_id": "9999"}, "org_id", "机构不存在"),
        ({"enterprise_uscc": "9" * 19}, "enterprise_id", "18 位"),
        ({"enterprise_uscc": "911406220000000000"}, "enterprise_id", "企业不存在"),
        ({"display_name": "名" * 65}, "display_name", "不能超过 64 字"),
    ],
)
@pytest.mark.one_backend
def test_bad_input_is_shown_at_its_field_and_nothing_is_written(
    console: Any, fields: dict[str, str], field: str, message: str
) -> None:
    console.login("admin")
    before = _users(console.node)
    r = _new_user(console, **fields)
    assert r.status_code in (409, 422), r.text
    err = re.search(rf'id="err-{field}">([^<]*)<', r.text)
    assert err and message in err.group(1), r.text[:2000]
    assert "尚未保存任何内容" in r.text
    assert _users(console.node) == before
    assert 'value="赵六"' in r.text or fields.get("display_name")  # what was typed is kept
    assert NEW not in r.text  # the password is never sent back


def test_control_characters_are_refused(console) -> None:
    console.login("admin")
    before = _users(console.node)
    r = _new_user(console, display_name="赵\x07六")
    assert r.status_code == 422 and "输入有误" in r.text
    assert _users(console.node) == before
    assert console.node.client.get("/admin/users/99999999999").status_code == 422
    assert console.node.client.get("/admin/users/999999").status_code == 404


def test_csrf_is_required(console) -> None:
    console.login("admin")
    ying = console.node.users["yingxian"]
    r = console.node.client.post(f"/admin/users/{ying}/lock", data={"csrf": "forged"})
    assert r.status_code == 403 and not _user(console.node, "yingxian").locked_by_admin  # type: ignore[union-attr]
    r = console.node.client.post("/admin/users/new", data={"username": "x"})
    assert r.status_code == 403


def test_lock_unlock_reset_password_and_mfa(console) -> None:
    node = console.node
    ying = node.users["yingxian"]
    node.enrol_mfa("yingxian")
    console.login("admin")
    page = node.client.get(f"/admin/users/{ying}").text
    assert (
        'id="btn-lock"' in page and 'id="btn-unlock"' not in page and 'id="btn-mfa-reset"' in page
    )
    locked = _post(console, ying, "lock")
    assert "已锁定该用户" in locked.text and 'id="btn-unlock"' in locked.text
    assert 'id="btn-lock"' not in locked.text
    assert _user(node, "yingxian").locked_by_admin  # type: ignore[union-attr]
    again = _post(console, ying, "lock")  # a stale page: refused, said at the top
    assert again.status_code == 409 and "该用户已被锁定" in again.text
    unlocked = _post(console, ying, "unlock")
    assert "已解锁该用户" in unlocked.text and 'id="btn-lock"' in unlocked.text
    weak = _post(console, ying, "password", password="weak", password2="weak")
    assert weak.status_code == 422 and 'id="err-password"' in weak.text
    done = _post(console, ying, "password", password=NEW, password2=NEW)
    assert "已重置密码" in done.text
    reset = _post(console, ying, "mfa-reset")
    assert "已重置动态口令" in reset.text and 'id="btn-mfa-reset"' not in reset.text
    assert not _user(node, "yingxian").mfa_enabled  # type: ignore[union-attr]
    assert [a.detail for a in node.audits("user.reset")] == [
        {"mfa_reset": False},
        {"mfa_reset": True, "password_reset": False},
    ]
    assert len(node.audits("user.lock")) == 1 and len(node.audits("user.unlock")) == 1
    # the new password works, and the user enrols again
    assert console.submit_login("yingxian", NEW).headers["location"] == "/"


def test_the_edit_form_saves_role_and_place(console) -> None:
    node = console.node
    ying = node.users["yingxian"]
    console.login("admin")
    page = node.client.get(f"/admin/users/{ying}").text
    orgs = dict(re.findall(r'<option value="(\d+)"[^>]*>([^<（]+)（', page))
    shan_org = next(k for k, v in orgs.items() if v == "山阴县应急管理局")
    data = {
        "role": "official",
        "division_code": "140621",
        "org_id": shan_org,
        "display_name": "老王",
    }
    r = _post(console, ying, "edit", **data)
    assert "已保存" in r.text
    user = _user(node, "yingxian")
    assert user is not None and (user.division_code, user.org_id) == ("140621", int(shan_org))
    assert set(node.audits("user.update")[-1].detail["changes"]) == {
        "division_code",
        "org_id",
        "display_name",
    }
    bad = _post(console, ying, "edit", role="enterprise", division_code="140621")
    assert bad.status_code == 422 and 'id="err-enterprise_id"' in bad.text
    assert _user(node, "yingxian").role == "official"  # type: ignore[union-attr]


def test_an_administrator_cannot_manage_their_own_account(console) -> None:
    console.login("admin")
    me = console.node.users["admin"]
    page = console.node.client.get(f"/admin/users/{me}").text
    assert 'id="no-actions"' in page and "不能在用户管理中修改自己的账户" in page
    assert 'id="btn-lock"' not in page and 'id="user-form"' not in page
    r = _post(console, me, "lock")
    assert r.status_code == 403 and not _user(console.node, "admin").locked_by_admin  # type: ignore[union-attr]
    assert console.node.audits("access.denied")


def test_out_of_jurisdiction_is_refused_and_audited(county_admin, console) -> None:
    node = county_admin
    console.login("xianadmin")
    listing = node.client.get("/admin/users").text
    assert "yingxian" in listing and "qiye" in listing and "shanyin" not in listing
    shanyin = node.users["shanyin"]
    assert node.client.get(f"/admin/users/{shanyin}").status_code == 404
    csrf = console.csrf("/admin/users")
    for action in ("lock", "unlock", "mfa-reset", "edit", "password"):
        r = node.client.post(f"/admin/users/{shanyin}/{action}", data={"csrf": csrf})
        assert r.status_code == 404, action
    assert len(node.audits("access.denied")) == 5
    before = _users(node)
    r = _new_user(console, division_code="140621")
    assert r.status_code == 403 and "不在您的管辖范围内" in r.text
    assert 'id="err-division_code"' in r.text and _users(node) == before
    assert len(node.audits("access.denied")) == 6
    # only organisations in scope are offered, and a forged one reads as missing
    form = node.client.get("/admin/users/new").text
    assert "应县应急管理局" in form and "山阴县应急管理局" not in form
    with node.db() as s:
        shan_org = s.scalar(select(Organisation.id).where(Organisation.name == "山阴县应急管理局"))
    r = _new_user(console, org_id=str(shan_org))
    assert r.status_code == 422 and "机构不存在或不在管辖范围内" in r.text


def test_organisations_are_listed_created_and_edited_in_scope(county_admin, console) -> None:
    node = county_admin
    console.login("xianadmin")
    listing = node.client.get("/admin/orgs").text
    assert "应县应急管理局" in listing and "山阴县应急管理局" not in listing
    csrf = console.csrf("/admin/orgs/new")
    base = {
        "csrf": csrf,
        "name": "应县矿山救护队",
        "kind": "rescue_team",
        "division_code": "140622",
    }
    outside = node.client.post("/admin/orgs/new", data={**base, "division_code": "140621"})
    assert outside.status_code == 403 and 'id="err-division_code"' in outside.text
    for bad, field in (
        ({"name": "名" * 129}, "name"),
        ({"name": ""}, "name"),
        ({"kind": "club"}, "kind"),
        ({"division_code": "abc"}, "division_code"),
        ({"area_codes": "140622"}, "area_codes"),  # a rescue team has no area
        ({"area_codes": "12,x"}, "area_codes"),
        ({"parent_id": "99999999999"}, "parent_id"),
    ):
        r = node.client.post("/admin/orgs/new", data={**base, **bad})
        assert r.status_code in (403, 422) and f'id="err-{field}"' in r.text, (bad, r.text[:500])
    r = node.client.post("/admin/orgs/new", data=base, follow_redirects=False)
    assert r.status_code == 303
    with node.db() as s:
        team = s.scalar(select(Organisation).where(Organisation.name == "应县矿山救护队"))
        assert team is not None and team.division_code == "140622"
        team_id = team.id
    assert node.audits("org.create")[-1].actor_name == "xianadmin"
    edit = node.client.get(f"/admin/orgs/{team_id}/edit").text
    assert 'value="应县矿山救护队"' in edit
    r = node.client.post(
        f"/admin/orgs/{team_id}/edit",
        data={**base, "csrf": console.csrf(f"/admin/orgs/{team_id}/edit"), "name": "应县救护大队"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert node.audits("org.update")[-1].detail["changes"]["name"]["to"] == "应县救护大队"
    with node.db() as s:
        shan = s.scalar(select(Organisation.id).where(Organisation.name == "山阴县应急管理局"))
    assert node.client.get(f"/admin/orgs/{shan}/edit").status_code == 404
    r = node.client.post(f"/admin/orgs/{shan}/edit", data={**base, "csrf": csrf})
    assert r.status_code == 404
    assert node.client.get("/admin/orgs/99999999999/edit").status_code == 422


def _setting_row(page: str, key: str) -> str:
    match = re.search(rf'<tr id="setting-{key}">.*?</tr>', page, re.S)
    assert match, f"no row of {key}"
    return match.group(0)


def test_settings_are_shown_with_their_source(console, monkeypatch) -> None:
    console.login("admin")
    page = console.node.client.get("/admin/settings")
    assert page.status_code == 200
    row = _setting_row(page.text, "session_idle_minutes")
    assert (
        "默认值" in row
        and "运行时修改" in row
        and 'action="/admin/settings/session_idle_minutes"' in row
    )
    division = _setting_row(page.text, "node_division")
    assert "环境变量 ANJIAN_NODE_DIVISION" in division and "须重启" in division


def test_a_setting_is_changed_and_reset_in_the_console(console, monkeypatch) -> None:
    console.login("admin")
    client = console.node.client
    csrf = console.csrf("/admin/settings")
    r = client.post(
        "/admin/settings/lockout_threshold",
        data={"csrf": csrf, "value": "4"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    page = client.get("/admin/settings").text
    row = _setting_row(page, "lockout_threshold")
    assert 'value="4"' in row and "控制台（admin" in row and "恢复默认" in row
    refused = client.post("/admin/settings/lockout_threshold", data={"csrf": csrf, "value": "9"})
    assert refused.status_code == 422
    row = _setting_row(refused.text, "lockout_threshold")
    assert 'id="err-lockout_threshold"' in row and "3 到 5" in row and 'value="9"' in row
    hostile = client.post(
        "/admin/settings/map_attribution", data={"csrf": csrf, "value": "<b>\x01</b>"}
    )
    assert hostile.status_code == 422
    assert client.post("/admin/settings/lockout_threshold", data={"value": "3"}).status_code == 403
    r = client.post(
        "/admin/settings/lockout_threshold/reset", data={"csrf": csrf}, follow_redirects=False
    )
    assert r.status_code == 303
    row = _setting_row(client.get("/admin/settings").text, "lockout_threshold")
    assert 'value="5"' in row and "默认值" in row and "恢复默认" not in row
    assert [a.detail["to"] for a in console.node.audits("node.setting")] == ["4", None]


def test_a_setting_pinned_by_the_environment_is_read_only(console, monkeypatch) -> None:
    from anjian.config import get_settings

    monkeypatch.setenv("ANJIAN_SESSION_IDLE_MINUTES", "15")
    get_settings.cache_clear()
    console.login("admin")
    row = _setting_row(console.node.client.get("/admin/settings").text, "session_idle_minutes")
    assert "由环境变量 ANJIAN_SESSION_IDLE_MINUTES 固定" in row and "<form" not in row
    csrf = console.csrf("/admin/settings")
    r = console.node.client.post(
        "/admin/settings/session_idle_minutes", data={"csrf": csrf, "value": "10"}
    )
    assert r.status_code == 409 and "ANJIAN_SESSION_IDLE_MINUTES" in r.text


def test_a_county_administrator_sees_the_settings_but_cannot_change_them(
    county_admin, console
) -> None:
    console.login("xianadmin")
    page = console.node.client.get("/admin/settings")
    assert page.status_code == 200 and 'action="/admin/settings/' not in page.text
    csrf = console.csrf("/admin/settings")
    r = console.node.client.post(
        "/admin/settings/lockout_threshold", data={"csrf": csrf, "value": "3"}
    )
    assert r.status_code == 403
    console.login("sheng")
    assert console.node.client.get("/admin/settings").status_code == 403


def test_settings_hide_credentials_in_urls(console, monkeypatch) -> None:
    from anjian.config import get_settings

    monkeypatch.setenv("ANJIAN_MQTT_URL", "mqtt://gw:s3cret@broker.example:1883")
    get_settings.cache_clear()
    console.login("admin")
    page = console.node.client.get("/admin/settings").text
    assert "s3cret" not in page and "mqtt://***@broker.example:1883" in page


def test_the_enrolment_page_shows_a_qr_code(console, monkeypatch) -> None:
    console.login("shuozhou")
    client = console.node.client
    start = client.get("/mfa/enrol")
    csrf = re.search(r'name="csrf" value="([^"]+)"', start.text).group(1)  # type: ignore[union-attr]
    shown = client.post("/mfa/enrol", data={"csrf": csrf})
    assert shown.status_code == 200
    qr = re.search(
        r'<div class="text-center mb-3 totp-qr" id="totp-qr"><svg [^>]*class="segno">.*?</svg>',
        shown.text,
        re.S,
    )
    assert qr is not None and 'id="totp-secret"' in shown.text  # the secret as the fallback
    assert "img-src 'self' data:" in shown.headers["content-security-policy"]
    # and after a reload, the pending secret's code again
    assert 'class="segno"' in client.get("/mfa/enrol").text


def test_organisations_filter_by_division_and_kind(console) -> None:
    console.login("admin")
    client = console.node.client
    county = client.get("/admin/orgs?division=140622").text
    assert "应县应急管理局" in county and "朔州煤矿安全监察分局" not in county
    bureaus = client.get("/admin/orgs?kind=coal_inspection").text
    assert "朔州煤矿安全监察分局" in bureaus and "应县应急管理局" not in bureaus
    bad = client.get("/admin/orgs?division=14x")
    assert bad.status_code == 422 and "6 位数字" in bad.text
    assert client.get("/admin/orgs?kind=club").status_code == 422
