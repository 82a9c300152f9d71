"""End to end (uvicorn and Debian's chromium): a county official with MFA and an enterprise
user log in and find their inbox on the home page, each item one click from the page that
deals with it; the enterprise's alarm section takes a new alarm live from the board's stream;
neither is offered nor served the administration pages. (The administrator's inbox and pages:
``test_admin_e2e.py``.)"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from inbox_world import alarm, build
from test_console_e2e import CHROMIUM, CHROMIUM_ARGS, _require, server, sign_in_home  # noqa: F401

from anjian.core.sync.outbox import record_change
from anjian.db import utcnow


@pytest.mark.e2e
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_official_and_enterprise_see_their_inbox_and_follow_its_links(
    personas: Any,
    server: str,  # noqa: F811
    shots: Path,
) -> None:
    _require(CHROMIUM.exists(), f"{CHROMIUM} missing: apt-get install -y chromium")
    from playwright.sync_api import expect, sync_playwright

    ids = build(personas).ids
    secret, _codes = personas.enrol_mfa("yingxian")

    def login(browser: Any, username: str, otp: bool) -> Any:
        page = browser.new_page(viewport={"width": 1440, "height": 1000}, locale="zh-CN")
        sign_in_home(page, server, username, totp_secret=secret if otp else None)
        return page

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            county = login(browser, "yingxian", otp=True)
            register = county.locator("#inbox-hazards-register")
            expect(register.locator(".inbox-count")).to_have_text("2")
            expect(register.locator("a.inbox-item")).to_have_count(2)
            expect(register.locator("a.inbox-item").first).to_contain_text("H1处")
            expect(county.locator("#inbox-hazards-deadline")).to_contain_text("逾期 2 天")
            expect(county.locator("#inbox-directives-sign a.inbox-item")).to_have_count(2)
            county.screenshot(path=str(shots / "inbox-county.png"), full_page=True)
            register.locator("a.inbox-item").first.click()
            expect(county).to_have_url(f"{server}/hazards/{ids['H1']}")
            county.go_back()
            county.locator("#inbox-accidents-report_up a.inbox-item").first.click()
            expect(county).to_have_url(f"{server}/accidents/{ids['AC1']}#chain")
            # the accounts' upkeep is the administrators': neither offered nor served
            expect(county.locator("#inbox-accounts-locked")).to_have_count(0)
            expect(county.get_by_role("link", name="用户管理")).to_have_count(0)
            county.goto(f"{server}/admin/users")
            expect(county.locator("body")).to_contain_text("需要管理员权限")

            firm = login(browser, "qiye", otp=False)
            tasks = firm.locator("#inbox-inspections-due")
            expect(tasks.locator("a.inbox-item")).to_have_count(2)
            expect(tasks).to_contain_text("今天到期")
            expect(firm.locator("#inbox-hazards-register")).to_have_count(0)
            alarms = firm.locator("#inbox-alarms-unacknowledged")
            expect(alarms.locator(".inbox-count")).to_have_text("2")
            expect(alarms.locator(".inbox-live")).to_have_class("badge bg-green-lt ms-2 inbox-live")
            # an alarm raised now arrives over the stream, without a reload
            with personas.db() as s:
                new = alarm(personas, "ying_mine", "raised", utcnow(), value=1.8)
                record_change(s, new, entity="alarm")
                new_id = new.id
            expect(alarms.locator(".inbox-count")).to_have_text("3", timeout=15_000)
            arrived = alarms.locator(f'a.inbox-item[href="/monitoring/alarms/{new_id}"]')
            expect(arrived).to_contain_text("高高报")
            expect(arrived).not_to_contain_text("一级")
            firm.screenshot(path=str(shots / "inbox-enterprise.png"), full_page=True)
            tasks.locator("a.inbox-item").last.click()
            expect(firm).to_have_url(f"{server}/inspections/{ids['T_today']}")
            firm.fill("#f-note", "顶板完好")
            firm.click("#complete-button")
            expect(firm.locator("#done")).to_contain_text("已完成自查")
            firm.goto(f"{server}/")
            expect(tasks.locator("a.inbox-item")).to_have_count(1)
            expect(firm.get_by_role("link", name="用户管理")).to_have_count(0)
            firm.goto(f"{server}/admin/settings")
            expect(firm.locator("body")).to_contain_text("需要管理员权限")
        finally:
            browser.close()
