"""End to end: the real server (uvicorn) and Debian's chromium driven by Playwright. An official
with MFA logs in through the login page, finds their enterprise in the list and on the map."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pyotp
import pytest

from anjian.db import utcnow
from anjian.web import STATIC_DIR

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
MINE = "应县金鼎煤业有限公司"
PASSWORD = "Anjian#2026"  # the personas' password (tests/conftest.py)


def _require(condition: bool, why: str) -> None:
    """Skip locally, fail in CI, when the test cannot run."""
    if condition:
        return
    if os.environ.get("CI"):
        pytest.fail(f"{why} (required in CI)")
    pytest.skip(why)


def require_browser(*, assets: bool = False) -> None:
    """Debian's chromium (and, with ``assets``, the console's vendored scripts), or skip
    locally and fail in CI."""
    _require(CHROMIUM.exists(), f"{CHROMIUM} missing: apt-get install -y chromium")
    if assets:
        _require(
            (STATIC_DIR / "vendor" / "leaflet" / "leaflet.js").is_file(),
            "console assets missing: npm ci && python3 scripts/assets.py",
        )


def watch(page: Any, server: str, outside: list[str], problems: list[str], who: str = "") -> None:
    """Note in ``outside`` every URL ``page`` loads from beyond ``server``, and in ``problems``
    every error it reports (console errors, uncaught exceptions, answers ≥ 400), each marked
    with ``who`` when given."""
    mark = f"{who}: " if who else ""
    page.on(
        "request",
        lambda req: None if req.url.startswith((server, "data:")) else outside.append(req.url),
    )
    page.on(
        "console",
        lambda msg: problems.append(mark + msg.text) if msg.type == "error" else None,
    )
    page.on("pageerror", lambda exc: problems.append(f"{mark}{exc}"))
    page.on(
        "response",
        lambda r: problems.append(f"{mark}{r.status} {r.url}") if r.status >= 400 else None,
    )


def sign_in(
    page: Any, username: str, password: str = PASSWORD, totp_secret: str | None = None
) -> None:
    """Fill in and send the login form the page shows; with ``totp_secret`` (an MFA user), wait
    for the one-time code to be asked for and send the current one."""
    from playwright.sync_api import expect

    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")
    if totp_secret is not None:
        # The password was right; the MFA user is asked for the one-time code.
        expect(page.locator("#otp")).to_be_visible()
        page.fill("#otp", pyotp.TOTP(totp_secret).now())
        page.click("button[type=submit]")


def sign_in_home(page: Any, server: str, username: str, totp_secret: str | None = None) -> None:
    """Log in from the login page of ``server`` and land on the home page."""
    from playwright.sync_api import expect

    page.goto(f"{server}/login")
    sign_in(page, username, totp_secret=totp_secret)
    expect(page).to_have_url(f"{server}/")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def _uvicorn(personas, **extra_env: str) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """uvicorn in a subprocess on the personas' database and keys (plus ``extra_env``);
    yields its base URL."""
    port = _free_port()
    env = {
        **os.environ,  # the node's ANJIAN_* settings (database, data dir, division)
        "ANJIAN_COOKIE_SECURE": "false",  # plain http on localhost
        "ANJIAN_MFA_REQUIRED_ROLES": '["admin", "official"]',
        **extra_env,
    }
    env.pop("ANJIAN_MAP_TILE_URL", None)
    log = personas.data_dir / "uvicorn.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "anjian.app:create_app",
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"server did not start:\n{log.read_text(errors='replace')}")
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture
def server(personas) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """uvicorn in a subprocess on the personas' database and keys; yields its base URL."""
    with _uvicorn(personas) as base:
        yield base


@pytest.mark.e2e
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_official_with_mfa_logs_in_and_finds_the_enterprise_on_list_and_map(
    personas,  # type: ignore[no-untyped-def]
    server: str,
    shots: Path,
) -> None:
    require_browser(assets=True)
    from playwright.sync_api import expect, sync_playwright

    secret, _codes = personas.enrol_mfa("yingxian")

    outside: list[str] = []
    problems: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 900}, locale="zh-CN")
            watch(page, server, outside, problems)

            # Not logged in: the list sends us to the login page, which then sends us back.
            page.goto(f"{server}/enterprises")
            expect(page).to_have_url(f"{server}/login?next=/enterprises")
            sign_in(page, "yingxian", totp_secret=secret)
            expect(page).to_have_url(f"{server}/enterprises")
            table = page.locator("#enterprise-table")
            expect(table).to_contain_text(MINE)
            expect(table).not_to_contain_text("山阴县晋北化工有限公司")
            # headers keep their case (Tabler upper-cases them: GB 18218's q/Q read "Q/Q")
            expect(page.locator(".table thead th").first).to_have_css("text-transform", "none")
            expect(page.locator(".jtree-row a", has_text="应县")).to_be_visible()
            # Filters swap the table in place (htmx) and keep the export link in step.
            page.select_option("#category", "hazardous_chemicals")
            expect(table).to_contain_text("当前筛选条件下没有记录")
            expect(page).to_have_url(re.compile(r"category=hazardous_chemicals"))
            expect(page.locator("#export-link input[name=category]")).to_have_value(
                "hazardous_chemicals"
            )
            page.select_option("#category", "")
            expect(table).to_contain_text(MINE)
            page.screenshot(path=str(shots / "enterprises.png"), full_page=True)

            page.goto(f"{server}/map")
            markers = page.locator("path.enterprise-marker")
            expect(markers).to_have_count(1)
            markers.first.click()
            popup = page.locator(".leaflet-popup-content")
            expect(popup).to_contain_text(MINE)
            page.wait_for_timeout(300)  # the popup fades in
            page.screenshot(path=str(shots / "map.png"), full_page=True)
            popup.get_by_role("link").click()
            expect(page).to_have_url(f"{server}/enterprises/{personas.enterprises['ying_mine']}")
            expect(page.locator("h2.page-title")).to_contain_text(MINE)
        finally:
            browser.close()
    assert not outside, f"pages loaded external URLs: {outside}"
    assert not problems, f"browser errors: {problems}"


@pytest.mark.e2e
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_hidden_hazard_walks_the_whole_loop_in_the_browser(
    personas,  # type: ignore[no-untyped-def]
    server: str,
    shots: Path,
) -> None:
    """排查 → 登记 → 整改 → 验收 → 销号: the enterprise reports and rectifies, the county
    official registers and accepts, each in their own browser session."""
    _require(CHROMIUM.exists(), f"{CHROMIUM} missing: apt-get install -y chromium")
    from playwright.sync_api import expect, sync_playwright

    secret, _codes = personas.enrol_mfa("yingxian")
    problems: list[str] = []

    def login(browser, username: str, otp: bool):  # type: ignore[no-untyped-def]
        page = browser.new_context(
            viewport={"width": 1440, "height": 900}, locale="zh-CN"
        ).new_page()
        page.on("pageerror", lambda exc: problems.append(str(exc)))
        sign_in_home(page, server, username, totp_secret=secret if otp else None)
        return page

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            firm = login(browser, "qiye", otp=False)
            firm.goto(f"{server}/hazards")
            firm.click("#report-button")
            firm.fill("#f-place", "主斜井皮带机机头")
            firm.fill("#f-description", "皮带机跑偏保护失效")
            firm.click("#hazard-form button[type=submit]")
            expect(firm.locator("#hazard-state")).to_have_text("待登记")
            detail = firm.url.split("?")[0]

            county = login(browser, "yingxian", otp=True)
            county.goto(detail)
            county.fill("#f-deadline", (utcnow().date() + timedelta(days=7)).isoformat())
            county.fill("#f-responsible", "李安全")
            county.fill("#f-measures", "更换跑偏保护装置")
            county.click("#register-form button[type=submit]")
            expect(county.locator("#hazard-state")).to_have_text("已登记")

            firm.goto(detail)
            firm.click("#start-form button[type=submit]")
            expect(firm.locator("#hazard-state")).to_have_text("整改中")
            firm.fill("#f-note", "已更换并试验合格")
            firm.click("#finish-form button[type=submit]")
            expect(firm.locator("#hazard-state")).to_have_text("待验收")
            firm.click("#accept-button")  # the rectifier may not accept their own work
            expect(firm.locator("#error")).to_contain_text("验收人不能是整改人")

            county.goto(detail)
            county.fill("#f-accept-note", "现场核查合格")
            county.click("#accept-button")
            expect(county.locator("#hazard-state")).to_have_text("已销号")
            expect(county.locator("#hazard-steps .step-item")).to_have_count(5)
            county.screenshot(path=str(shots / "hazard.png"), full_page=True)
            county.goto(f"{server}/hazards")
            expect(county.locator("#stat-closed")).to_have_text("1")
            expect(county.locator("#stat-rate")).to_have_text("100.0%")
        finally:
            browser.close()
    assert not problems, f"browser errors: {problems}"


@pytest.mark.e2e
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_an_alarm_published_over_mqtt_appears_on_the_open_board(
    personas,  # type: ignore[no-untyped-def]
    shots: Path,
) -> None:
    """A county official has the alarm board open; the mine's gateway publishes a tank level
    above high-high to the machine's Mosquitto; the server's ingest worker stores it and
    raises the alarm, and the row appears on the board without a reload (server-sent events)."""
    import json
    import uuid

    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion
    from playwright.sync_api import expect, sync_playwright

    from anjian.enterprises.rules import compose_uscc
    from anjian.monitoring.models import PointLive

    _require(CHROMIUM.exists(), f"{CHROMIUM} missing: apt-get install -y chromium")
    try:
        socket.create_connection(("127.0.0.1", 1883), timeout=2).close()
        mosquitto = True
    except OSError:
        mosquitto = False
    _require(mosquitto, "Mosquitto unreachable at 127.0.0.1:1883")

    secret, _codes = personas.enrol_mfa("yingxian")
    (point_id,) = personas.add_points(
        "ying_mine", {"code": "LT-101", "name": "1#储罐液位", "kind": "tank_level", "h": 8, "hh": 9}
    )
    topic = f"anjian/v1/{compose_uscc('140622', 'MA0K0001')}/readings"
    group = f"e2e{uuid.uuid4().hex[:8]}"  # a shared subscription and session of this test's own
    problems: list[str] = []

    def live_value() -> float | None:
        with personas.db() as s:
            live = s.get(PointLive, point_id)
            return live.last_value if live is not None else None

    gateway = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"gw-{group}")
    gateway.connect("127.0.0.1", 1883)
    gateway.loop_start()

    def publish(value: float, ts: int) -> None:
        body = {"ts": ts, "readings": [{"point": "LT-101", "value": value}]}
        gateway.publish(topic, json.dumps(body), qos=1).wait_for_publish(timeout=10)

    env = {
        "ANJIAN_MQTT_INGEST": "true",
        "ANJIAN_MQTT_URL": "mqtt://127.0.0.1:1883",
        "ANJIAN_MQTT_CLIENT_ID": group,
        "ANJIAN_MQTT_SHARED_GROUP": group,
    }
    try:
        with _uvicorn(personas, **env) as server, sync_playwright() as pw:
            # A normal reading, sent again until the worker has subscribed and stored it.
            normal_ts = int(time.time() * 1000)
            deadline = time.monotonic() + 30
            while live_value() is None:
                assert time.monotonic() < deadline, "the server's ingest worker stored nothing"
                publish(5.0, normal_ts)
                time.sleep(0.5)

            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                page = browser.new_page(viewport={"width": 1440, "height": 900}, locale="zh-CN")
                page.on("pageerror", lambda exc: problems.append(str(exc)))
                page.on(
                    "console",
                    lambda msg: problems.append(msg.text) if msg.type == "error" else None,
                )
                page.goto(f"{server}/monitoring")
                sign_in(page, "yingxian", totp_secret=secret)
                expect(page).to_have_url(f"{server}/monitoring")
                rows = page.locator("#alarm-table tr.alarm-row")
                expect(rows).to_have_count(0)
                expect(page.locator("#count-level1")).to_have_text("0")
                expect(page.locator("#stream-status")).to_have_text("实时")  # the stream is open
                page.evaluate("window.__sameDocument = true")  # gone if the page reloads

                publish(9.6, int(time.time() * 1000))  # above high-high (9)

                expect(rows).to_have_count(1, timeout=15_000)
                row = rows.first
                expect(row.locator(".alarm-badge")).to_have_text("高高报")
                expect(row.locator(".alarm-badge")).to_have_class(re.compile("grade-1"))
                expect(row).to_contain_text("LT-101")
                expect(row).to_contain_text("9.6")
                expect(row.locator(".alarm-state")).to_have_text("待确认")
                expect(page.locator("#count-level1")).to_have_text("1")
                expect(page.locator("#count-unacknowledged")).to_have_text("1")
                assert page.evaluate("window.__sameDocument === true"), "the page was reloaded"
                page.screenshot(path=str(shots / "alarm-board.png"), full_page=True)
                # 确认 straight from the board
                row.locator("button.alarm-ack").click()
                expect(page.locator("#done")).to_contain_text("已确认报警")
                expect(rows.first.locator(".alarm-state")).to_have_text("已确认")
            finally:
                browser.close()
    finally:
        gateway.loop_stop()
        gateway.disconnect()
        # Drop the worker's persistent session, or the broker queues messages for it forever.
        gone = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=group, clean_session=True)
        gone.connect("127.0.0.1", 1883)
        gone.disconnect()
    assert not problems, f"browser errors: {problems}"
