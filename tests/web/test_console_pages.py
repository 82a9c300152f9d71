"""The console (zh-CN) page by page, as the personas meet it: login with cookie and CSRF, MFA,
timeouts, jurisdiction scope on every page, the audit view, and no external URLs."""

from __future__ import annotations

import json
import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyotp
import pytest
from sqlalchemy import select, update

from anjian.config import get_settings
from anjian.core.audit.models import AuditRecord
from anjian.core.iam.deps import SESSION_COOKIE
from anjian.core.iam.models import AuthSession, User
from anjian.web import STATIC_DIR
from anjian.web.render import cst

MINE = "应县金鼎煤业有限公司"
CHEM = "山阴县晋北化工有限公司"
EXTERNAL = re.compile(r"""(?:https?:)?//(?!testserver)[a-z0-9.-]+\.[a-z]{2,}""", re.IGNORECASE)


def _set_cookie_header(r) -> str:  # type: ignore[no-untyped-def]
    return "; ".join(v for k, v in r.headers.multi_items() if k.lower() == "set-cookie")


# --- login -------------------------------------------------------------------------------------


def test_login_form_sets_the_session_cookie(console) -> None:
    r = console.submit_login("yingxian")
    assert r.status_code == 303
    assert r.headers["location"] == "/"
    cookie = _set_cookie_header(r)
    assert f"{SESSION_COOKIE}=" in cookie
    session_part = next(c for c in cookie.split(", ") if c.startswith(f"{SESSION_COOKIE}="))
    assert "HttpOnly" in session_part
    assert "SameSite=strict" in session_part or "SameSite=Strict" in session_part
    assert "Secure" in session_part
    home = console.node.client.get("/")
    assert home.status_code == 200
    assert '<html lang="zh-CN">' in home.text
    assert "监管人员" in home.text and "应县应急管理局" in home.text
    # The cookie holds the same session token the API accepts.
    token = console.node.client.cookies[SESSION_COOKIE]
    me = console.node.client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json()["username"] == "yingxian"


def test_wrong_password_shows_a_chinese_error_and_is_audited(console) -> None:
    r = console.submit_login("yingxian", "Wrong#Password1")
    assert r.status_code == 401
    assert "用户名或密码错误" in r.text
    assert "wrong username" not in r.text  # the page speaks Chinese only
    assert SESSION_COOKIE not in console.node.client.cookies
    with console.node.db() as s:
        failures = s.scalars(
            select(AuditRecord).where(
                AuditRecord.action == "auth.login", AuditRecord.result == "failure"
            )
        ).all()
        assert [f.actor_name for f in failures] == ["yingxian"]
        assert s.get(User, console.node.users["yingxian"]).failed_attempts == 1


def test_lockout_message_after_too_many_failures(console) -> None:
    for _ in range(get_settings().lockout_threshold):
        r = console.submit_login("yingxian", "Wrong#Password1")
    assert r.status_code == 403
    assert "锁定" in r.text
    r = console.submit_login("yingxian")  # even the right password is refused now
    assert r.status_code == 403
    assert "账户已锁定" in r.text


def test_login_without_csrf_token_is_refused(console) -> None:
    console.node.client.get("/login")
    r = console.node.client.post(
        "/login", data={"username": "yingxian", "password": "Anjian#2026"}, follow_redirects=False
    )
    assert r.status_code == 403
    assert "页面已过期" in r.text
    assert SESSION_COOKIE not in console.node.client.cookies


def test_password_only_login_of_an_mfa_user_asks_for_the_code(console) -> None:
    node = console.node
    secret, _codes = node.enrol_mfa("yingxian")
    first = console.submit_login("yingxian")
    assert first.status_code == 200
    assert 'name="otp"' in first.text and "动态口令" in first.text
    assert "Anjian#2026" not in first.text  # the password is never echoed into the page
    assert SESSION_COOKIE not in node.client.cookies
    # Second step: only the code (the verified password is sealed in a short-lived cookie).
    bad = node.client.post(
        "/login",
        data={"step": "otp", "otp": "000000", "csrf": _csrf_from(first.text)},
        follow_redirects=False,
    )
    assert bad.status_code == 401
    assert "动态口令错误" in bad.text
    ok = node.client.post(
        "/login",
        data={"step": "otp", "otp": pyotp.TOTP(secret).now(), "csrf": _csrf_from(bad.text)},
        follow_redirects=False,
    )
    assert ok.status_code == 303, ok.text
    assert node.client.get("/enterprises").status_code == 200


def _csrf_from(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]


def test_role_that_requires_mfa_must_enrol_first(console, monkeypatch) -> None:
    monkeypatch.setenv("ANJIAN_MFA_REQUIRED_ROLES", '["official"]')
    get_settings.cache_clear()
    node = console.node
    r = console.submit_login("shuozhou")
    assert r.headers["location"] == "/mfa/enrol"
    page = node.client.get("/enterprises", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"] == "/mfa/enrol"
    start = node.client.get("/mfa/enrol")
    assert "根据等级保护要求" in start.text
    shown = node.client.post("/mfa/enrol", data={"csrf": _csrf_from(start.text)})
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', shown.text).group(1)  # type: ignore[union-attr]
    assert "otpauth://totp/" in shown.text
    wrong = node.client.post("/mfa/verify", data={"otp": "000000", "csrf": _csrf_from(shown.text)})
    assert wrong.status_code == 422
    assert "动态口令错误" in wrong.text and secret in wrong.text
    done = node.client.post(
        "/mfa/verify", data={"otp": pyotp.TOTP(secret).now(), "csrf": _csrf_from(wrong.text)}
    )
    assert done.status_code == 200
    codes = re.findall(r"<code>([0-9a-f]{5}-[0-9a-f]{5})</code>", done.text)
    assert len(codes) == 10
    assert node.client.get("/enterprises").status_code == 200


def test_unauthenticated_pages_redirect_to_login(personas) -> None:
    client = personas.client
    for path in (
        "/",
        "/enterprises",
        "/map",
        "/audit",
        f"/enterprises/{personas.enterprises['ying_mine']}",
    ):
        r = client.get(path, follow_redirects=False)
        assert r.status_code == 303, path
        assert r.headers["location"].startswith("/login")
    r = client.get("/enterprises?category=coal_mine", follow_redirects=False)
    assert r.headers["location"] == "/login?next=/enterprises%3Fcategory%3Dcoal_mine"
    assert client.get(r.headers["location"]).status_code == 200
    # htmx fragments get a client-side redirect instead of the login page inside a fragment.
    r = client.get("/tree/140600", headers={"HX-Request": "true"}, follow_redirects=False)
    assert r.headers["HX-Redirect"].startswith("/login")


def test_expired_session_redirects_with_timeout_message(console) -> None:
    console.login("yingxian")
    idle = timedelta(minutes=get_settings().session_idle_minutes + 1)
    with console.node.db() as s:
        s.execute(update(AuthSession).values(last_seen_at=datetime.now(UTC) - idle))
    r = console.node.client.get("/enterprises", follow_redirects=False)
    assert r.status_code == 303
    assert "reason=timeout" in r.headers["location"]
    page = console.node.client.get(r.headers["location"])
    assert "会话已超时" in page.text


def test_logout_ends_the_session(console) -> None:
    console.login("yingxian")
    token = console.node.client.cookies[SESSION_COOKIE]
    r = console.node.client.post("/logout", data={"csrf": console.csrf()}, follow_redirects=False)
    assert r.status_code == 303
    assert "安全退出" in console.node.client.get(r.headers["location"]).text
    with console.node.db() as s:
        assert all(a.revoked for a in s.scalars(select(AuthSession)))
    api = console.node.client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 401


def test_logout_needs_the_sessions_csrf_token(console) -> None:
    console.login("yingxian")
    r = console.node.client.post("/logout", data={"csrf": "forged"}, follow_redirects=False)
    assert r.status_code == 403
    assert console.node.client.get("/", follow_redirects=False).status_code == 200


# --- scope on every page -----------------------------------------------------------------------


def test_county_official_sees_only_their_enterprise_in_the_list(console) -> None:
    console.login("yingxian")
    r = console.node.client.get("/enterprises")
    assert r.status_code == 200
    assert MINE in r.text
    assert CHEM not in r.text
    console.login("shuozhou")  # the city sees both counties
    r = console.node.client.get("/enterprises")
    assert MINE in r.text and CHEM in r.text
    # Filters: category, q, division (the tree's links), paging info.
    r = console.node.client.get("/enterprises?category=hazardous_chemicals")
    assert CHEM in r.text and MINE not in r.text
    r = console.node.client.get("/enterprises?q=金鼎")
    assert MINE in r.text and CHEM not in r.text
    r = console.node.client.get("/enterprises?division=140621")
    assert CHEM in r.text and MINE not in r.text
    assert "所属区划：山阴县" in r.text
    # the export form carries the filters (and a 含完整电话 box, unticked)
    export = r.text[
        r.text.index('id="export-link"') : r.text.index("</form>", r.text.index('id="export-link"'))
    ]
    assert '<input type="hidden" name="division" value="140621">' in export
    assert 'name="full_numbers" value="true"' in export and "checked" not in export
    # The export link works with the console's cookie (the API reads the same session).
    xlsx = console.node.client.get("/api/v1/enterprises/export.xlsx?division=140621")
    assert xlsx.status_code == 200
    assert xlsx.headers["content-type"].startswith("application/vnd.openxmlformats")


def test_other_countys_enterprise_detail_is_404(console) -> None:
    console.login("yingxian")
    client = console.node.client
    assert client.get(f"/enterprises/{console.node.enterprises['shan_chem']}").status_code == 404
    assert (
        client.get(f"/enterprises/{console.node.enterprises['shan_chem']}/edit").status_code == 404
    )
    r = client.get(f"/enterprises/{console.node.enterprises['ying_mine']}")
    assert r.status_code == 200
    assert MINE in r.text
    assert "139****5678" in r.text and "13912345678" not in r.text  # phones masked
    assert "leaflet.js" in r.text


def test_home_counts_enterprises_in_scope(console) -> None:
    console.login("yingxian")
    r = console.node.client.get("/")
    assert re.search(r'id="total-enterprises">1<', r.text)
    console.login("sheng")
    assert re.search(r'id="total-enterprises">2<', console.node.client.get("/").text)


def test_map_page_has_the_enterprises_in_scope(console) -> None:
    console.login("yingxian")
    r = console.node.client.get("/map")
    assert r.status_code == 200
    assert "leaflet.js" in r.text
    points = _map_data(r.text)["points"]
    assert [p["name"] for p in points] == [MINE]
    assert points[0]["id"] == console.node.enterprises["ying_mine"]
    assert (points[0]["lng"], points[0]["lat"]) == (113.19, 39.55)
    console.login("shuozhou")
    data = _map_data(console.node.client.get("/map").text)
    assert {p["name"] for p in data["points"]} == {MINE, CHEM}
    assert len({p["colour"] for p in data["points"]}) == 2  # coloured by category
    assert data["tiles"] is None and "应县" in {p["name"] for p in data["places"]}


def _map_data(html: str) -> dict:
    raw = re.search(r'<script type="application/json" id="map-data">(.*?)</script>', html, re.S)
    assert raw
    return json.loads(raw.group(1))


def test_jurisdiction_tree_lazy_loads_children_in_scope(console) -> None:
    console.login("shuozhou")
    page = console.node.client.get("/")
    assert 'hx-get="/tree/140600' in page.text
    r = console.node.client.get("/tree/140600")
    assert "应县" in r.text and "山阴县" in r.text
    assert "/enterprises?division=140622" in r.text
    console.login("yingxian")
    assert console.node.client.get("/tree/140600").status_code == 404


def test_enterprise_user_sees_only_their_own_file_and_no_tree(console) -> None:
    console.login("qiye")
    r = console.node.client.get("/enterprises")
    assert MINE in r.text and CHEM not in r.text
    assert "jtree" not in r.text
    assert "/audit" not in r.text  # no menu entry


# --- audit view --------------------------------------------------------------------------------


def test_audit_page_is_forbidden_to_enterprise_users(console) -> None:
    console.login("qiye")
    r = console.node.client.get("/audit")
    assert r.status_code == 403
    assert "企业用户无权访问" in r.text


def test_audit_page_lists_records_in_scope_with_filters(console) -> None:
    console.submit_login("shanyin", "Wrong#Password1")  # a failure in 山阴县
    console.login("yingxian")
    console.node.client.get(f"/enterprises/{console.node.enterprises['ying_mine']}")
    r = console.node.client.get("/audit")
    assert r.status_code == 200
    assert 'title="enterprise.read">查阅企业档案' in r.text
    assert "shanyin" not in r.text  # another county's record is out of scope
    r = console.node.client.get("/audit?action=auth.login&user=yingxian")
    assert 'title="auth.login">登录' in r.text and 'title="enterprise.read"' not in r.text
    records = console.node.audits(actor_name="yingxian")
    assert records
    assert cst(records[0].ts) in r.text  # shown in Beijing time


def test_times_are_shown_in_beijing_time() -> None:
    assert cst(datetime(2026, 1, 1, 16, 30, tzinfo=UTC)) == "2026-01-02 00:30:00"


# --- edit form ---------------------------------------------------------------------------------


def test_edit_form_shows_errors_next_to_the_field_and_saves(console) -> None:
    console.login("yingxian")
    client, ent = console.node.client, console.node.enterprises["ying_mine"]
    form = client.get(f"/enterprises/{ent}/edit")
    assert form.status_code == 200
    csrf = _csrf_from(form.text)
    fields = dict(re.findall(r'name="([a-z_]+)"[^>]*?value="([^"]*)"', form.text))
    fields.pop("csrf", None)
    bad = client.post(
        f"/enterprises/{ent}/edit",
        data={**fields, "lat": "139.5", "employees": "abc", "csrf": csrf},
    )
    assert bad.status_code == 422
    assert re.search(r'id="err-lat">纬度应在 3–54 之间', bad.text)
    assert re.search(r'id="err-employees">请输入整数<', bad.text)
    ok = client.post(
        f"/enterprises/{ent}/edit",
        data={**fields, "employees": "321", "safety_manager_phone": "13600001111", "csrf": csrf},
        follow_redirects=False,
    )
    assert ok.status_code == 303, ok.text
    detail = client.get(ok.headers["location"])
    assert "已保存" in detail.text and "321" in detail.text and "136****1111" in detail.text
    # The legal representative's phone was left blank: unchanged.
    assert "139****5678" in detail.text


def test_edit_outside_the_jurisdiction_is_refused_at_the_field(console) -> None:
    console.login("yingxian")
    client, ent = console.node.client, console.node.enterprises["ying_mine"]
    csrf = console.csrf(f"/enterprises/{ent}/edit")
    r = client.post(f"/enterprises/{ent}/edit", data={"division_code": "140621", "csrf": csrf})
    assert r.status_code == 403
    assert re.search(r'id="err-division_code">行政区划 140621 不在您的管辖范围内', r.text)


def test_edit_without_csrf_is_refused(console) -> None:
    console.login("yingxian")
    ent = console.node.enterprises["ying_mine"]
    r = console.node.client.post(f"/enterprises/{ent}/edit", data={"employees": "5"})
    assert r.status_code == 403


# --- assets and URLs ---------------------------------------------------------------------------


def _pages(node) -> list[str]:  # type: ignore[no-untyped-def]
    ent = node.enterprises["ying_mine"]
    return [
        "/",
        "/enterprises",
        f"/enterprises/{ent}",
        f"/enterprises/{ent}/edit",
        "/map",
        "/audit",
    ]


def test_pages_contain_no_external_urls(console) -> None:
    client = console.node.client
    client.cookies.clear()
    login = client.get("/login")
    assert not EXTERNAL.findall(login.text)
    console.login("sheng")
    for path in _pages(console.node):
        r = client.get(path)
        assert r.status_code == 200, path
        assert '<html lang="zh-CN">' in r.text, path
        assert not EXTERNAL.findall(r.text), (path, EXTERNAL.findall(r.text))
        assert "script-src 'self'" in r.headers["content-security-policy"]
    for own in ("console.css", "console.js", "map.js", "home.js"):
        assert not EXTERNAL.findall((STATIC_DIR / own).read_text(encoding="utf-8")), own


def test_vendor_assets_are_served_locally(console) -> None:
    vendor = STATIC_DIR / "vendor"
    if not (vendor / "htmx" / "htmx.min.js").is_file():
        why = "vendor assets missing: run `npm ci && python3 scripts/assets.py`"
        if os.environ.get("CI"):
            pytest.fail(why)
        pytest.skip(why)
    console.login("sheng")
    html = console.node.client.get("/map").text
    for src in re.findall(r'(?:src|href)="(/static/[^"]+)"', html):
        assert console.node.client.get(src).status_code == 200, src
    for asset in (
        "tabler/tabler.min.css",
        "tabler/tabler.min.js",
        "leaflet/leaflet.js",
        "htmx/htmx.min.js",
        "echarts/echarts.min.js",
    ):
        assert console.node.client.get(f"/static/vendor/{asset}").status_code == 200, asset


def test_map_tiles_come_from_the_configured_url(console, monkeypatch) -> None:
    from anjian.config import get_settings

    monkeypatch.setenv("ANJIAN_MAP_TILE_URL", "http://t{s}.tiles.example.cn/{z}/{x}/{y}.png")
    get_settings.cache_clear()
    console.login("yingxian")
    r = console.node.client.get("/map")
    assert "tiles.example.cn/{z}/{x}/{y}.png" in r.text
    assert "img-src 'self' data: http://*.tiles.example.cn" in r.headers["content-security-policy"]


def test_assets_script_lists_only_files_that_exist() -> None:
    root = Path(__file__).resolve().parents[2]
    assert (root / "package.json").is_file() and (root / "package-lock.json").is_file()


def test_refused_page_writes_are_audited(console) -> None:
    console.login("yingxian")
    client, ent = console.node.client, console.node.enterprises["ying_mine"]
    csrf = console.csrf(f"/enterprises/{ent}/edit")
    client.post(f"/enterprises/{ent}/edit", data={"division_code": "140621", "csrf": csrf})
    client.post(f"/enterprises/{ent}/edit", data={"employees": "5", "csrf": "forged"})
    console.login("qiye")
    r = client.post(
        "/enterprises/import", data={"csrf": console.csrf()}, files={"file": ("a.xlsx", b"x")}
    )
    assert r.status_code == 403
    denied = console.node.audits("access.denied")
    assert [(d.actor_name, d.result) for d in denied] == [
        ("yingxian", "denied"),
        ("yingxian", "denied"),
        ("qiye", "denied"),
    ]


def _workbook(rows: list[dict[str, object]]) -> bytes:
    from io import BytesIO

    from openpyxl import Workbook

    from anjian.enterprises.excel import COLUMNS

    wb = Workbook()
    ws = wb.active
    ws.append([c.header for c in COLUMNS])
    for row in rows:
        ws.append([row.get(c.field) for c in COLUMNS])
    buf = BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_import_form_reports_problems_or_imports(console) -> None:
    from anjian.enterprises.rules import compose_uscc

    good = {
        "uscc": compose_uscc("140622", "MA0K0009"),
        "name": "应县新材料有限公司",
        "division_code": "140622",
        "supervision_category": "metallurgy_trade",
    }
    console.login("yingxian")
    client = console.node.client
    bad = client.post(
        "/enterprises/import",
        data={"csrf": console.csrf("/enterprises")},
        files={"file": ("企业.xlsx", _workbook([{**good, "division_code": "140621"}]))},
    )
    assert bad.status_code == 422
    assert "未导入任何数据" in bad.text and 'id="import-errors"' in bad.text
    assert "管辖范围" in bad.text
    ok = client.post(
        "/enterprises/import",
        data={"csrf": console.csrf("/enterprises")},
        files={"file": ("企业.xlsx", _workbook([good]))},
        follow_redirects=False,
    )
    assert ok.status_code == 303, ok.text
    page = client.get(ok.headers["location"])
    assert "已导入 1 家企业" in page.text and "应县新材料有限公司" in page.text


def test_console_cookie_reads_the_api_but_cannot_write_it(console) -> None:
    """The cookie is enough for the export link, but an API write needs the Bearer header, so a
    forged cross-site request carrying the cookie changes nothing."""
    console.login("yingxian")
    client = console.node.client
    mine = console.node.enterprises["ying_mine"]
    assert client.get(f"/api/v1/enterprises/{mine}").status_code == 200
    r = client.patch(f"/api/v1/enterprises/{mine}", json={"address": "伪造的地址"})
    assert r.status_code == 401
    assert "伪造的地址" not in client.get(f"/api/v1/enterprises/{mine}").text
