"""End to end (uvicorn and Debian's chromium): the administrator, with MFA, creates a user,
finds it in the inbox once locked and unlocks it from there, resets its MFA and changes a
node setting through the console; the new user's first login asks for enrolment, and the
enrolment page shows the QR code drawn by the server. (Officials and enterprise users are
refused these pages: ``test_inbox_e2e.py``.)"""

from __future__ import annotations

from pathlib import Path

import pyotp
import pytest
from test_console_e2e import CHROMIUM, CHROMIUM_ARGS, _require, _uvicorn

NEW = "Fresh#Pass2026"


@pytest.mark.e2e
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_an_administrator_creates_locks_unlocks_and_resets_a_user(personas, shots: Path) -> None:  # type: ignore[no-untyped-def]
    _require(CHROMIUM.exists(), f"{CHROMIUM} missing: apt-get install -y chromium")
    from playwright.sync_api import expect, sync_playwright

    secret, _codes = personas.enrol_mfa("admin")
    problems: list[str] = []
    with _uvicorn(personas) as server, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 900}, locale="zh-CN")
            page.on("pageerror", lambda exc: problems.append(str(exc)))
            # (the refused weak password is a 422 the browser logs: expected, not a problem)
            page.on(
                "console",
                lambda m: (
                    problems.append(m.text)
                    if m.type == "error" and "status of 422" not in m.text
                    else None
                ),
            )

            def login(name: str, password: str, otp: str | None = None) -> None:
                page.goto(f"{server}/login")
                page.fill("#username", name)
                page.fill("#password", password)
                page.click("button[type=submit]")
                if otp is not None:
                    page.fill("#otp", otp)
                    page.click("button[type=submit]")

            login("admin", "Anjian#2026", pyotp.TOTP(secret).now())
            page.get_by_role("link", name="用户管理").click()
            expect(page.locator("#user-table")).to_contain_text("yingxian")
            page.click("#new-user")
            page.fill("#f-username", "zhaoliu")
            page.fill("#f-display_name", "赵六")
            page.select_option("#f-role", "official")
            page.fill("#f-division_code", "140622")
            page.select_option("#f-org_id", label="应县应急管理局（140622）")
            page.fill("#f-password", "weak")
            page.fill("#f-password2", "weak")
            page.click("#user-form button[type=submit]")
            expect(page.locator("#err-password")).to_contain_text("密码长度至少")
            page.fill("#f-password", NEW)
            page.fill("#f-password2", NEW)
            page.click("#user-form button[type=submit]")
            expect(page.locator("#done")).to_contain_text("用户已创建")
            expect(page.locator("#btn-mfa-reset")).to_have_count(0)

            page.click("#btn-lock")
            expect(page.locator("#lock-state")).to_contain_text("管理员锁定")
            expect(page.locator("#btn-lock")).to_have_count(0)
            # the administrator's inbox: the locked account, and the officials yet to enrol
            page.goto(f"{server}/")
            locked = page.locator("#inbox-accounts-locked")
            expect(locked.locator(".inbox-count")).to_have_text("1")
            expect(page.locator("#inbox-accounts-mfa_pending")).to_contain_text("赵六（zhaoliu）")
            expect(page.locator("#inbox-hazards-register")).to_be_visible()  # the agency's work
            page.screenshot(path=str(shots / "admin-inbox.png"), full_page=True)
            locked.locator("a.inbox-item", has_text="zhaoliu").click()
            expect(page.locator("#lock-state")).to_contain_text("管理员锁定")
            page.click("#btn-unlock")
            expect(page.locator("#lock-state")).to_contain_text("正常")
            page.screenshot(path=str(shots / "admin-user.png"), full_page=True)

            # The new user enrols (the QR code is drawn by the server), then the admin resets it.
            page.context.clear_cookies()
            login("zhaoliu", NEW)
            expect(page).to_have_url(f"{server}/mfa/enrol")
            page.get_by_role("button", name="生成绑定密钥").click()
            qr = page.locator("#totp-qr svg.segno")
            expect(qr).to_be_visible()
            box = qr.bounding_box()
            assert box is not None and box["width"] > 100
            page.screenshot(path=str(shots / "mfa-enrol.png"), full_page=True)
            user_secret = page.locator("#totp-secret").inner_text()
            page.fill("#otp", pyotp.TOTP(user_secret).now())
            page.get_by_role("button", name="确认绑定").click()
            expect(page.locator("#recovery-codes")).to_be_visible()

            page.context.clear_cookies()
            # the admin's last code was spent: wait for the next step
            login("admin", "Anjian#2026", pyotp.TOTP(secret).at(_next_step()))
            page.goto(f"{server}/admin/users?division=140622")
            page.get_by_role("link", name="zhaoliu").click()
            expect(page.locator("#mfa-state")).to_contain_text("已绑定")
            page.click("#btn-mfa-reset")
            expect(page.locator("#done")).to_contain_text("已重置动态口令")
            expect(page.locator("#mfa-state")).to_contain_text("未绑定")

            # the node's settings: a value outside 等保 level 3 is refused at its field, one
            # inside takes effect at once (the login page's idle notice reads it)
            page.get_by_role("link", name="节点设置").click()
            form = page.locator("#form-session_idle_minutes")
            form.locator("input[name=value]").fill("90")
            form.get_by_role("button", name="保存").click()
            expect(page.locator("#err-session_idle_minutes")).to_contain_text("5 到 30")
            page.locator("#form-session_idle_minutes input[name=value]").fill("15")
            page.locator("#form-session_idle_minutes").get_by_role("button", name="保存").click()
            expect(page.locator("#settings-done")).to_contain_text("设置已保存")
            expect(page.locator("#setting-session_idle_minutes")).to_contain_text("控制台（admin")
            page.screenshot(path=str(shots / "admin-settings.png"), full_page=True)
            page.locator("#reset-session_idle_minutes button").click()
            expect(page.locator("#settings-done")).to_contain_text("已恢复默认")
        finally:
            browser.close()
    assert not problems, problems
    actions = [r.action for r in personas.audits(actor_name="admin")]
    for action in ("user.create", "user.lock", "user.unlock", "user.reset", "node.setting"):
        assert action in actions


def _next_step() -> float:
    """A time in the next 30-second TOTP step, after waiting for it to begin."""
    import time

    now = time.time()
    wait = 30 - now % 30 + 0.5
    time.sleep(wait)
    return time.time()
