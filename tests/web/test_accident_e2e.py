"""End to end across real tiered nodes: a county official files the quick report (事故快报)
through the console of the county's node in Debian's chromium, and the officials of the city
and the province see it, with the county's step of the reporting chain, in the consoles of their
own nodes — three ``anjian serve`` processes (tests/sync/harness.py) linked county → city →
province, the report travelling up through the real sync links."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

# The real-node harness lives with the sync tests (not a package: put its folder on the path).
SYNC_TESTS = Path(__file__).resolve().parents[1] / "sync"
if str(SYNC_TESTS) not in sys.path:
    sys.path.insert(0, str(SYNC_TESTS))

from harness import CITY, COUNTY_A, PASSWORD, PROVINCE, console_network, wait_until  # noqa: E402
from test_console_e2e import CHROMIUM, CHROMIUM_ARGS, _require, sign_in  # noqa: E402

PLACE = "应县金鼎煤业 1201 工作面回风巷"
TOPOLOGY = ((PROVINCE, None), (CITY, PROVINCE), (COUNTY_A, CITY))
# An official of each tier (the harness's defaults have none at the city).
OFFICIALS = {division: [("official", "official")] for division, _ in TOPOLOGY}
SYNC_S = 60  # each hop forwards within a second or two; generous for a loaded CI machine


@pytest.mark.e2e
@pytest.mark.slow
def test_a_report_filed_at_the_county_is_seen_at_the_city_and_the_province(
    sqlite_template: Path, tmp_path: Path, shots: Path
) -> None:
    _require(CHROMIUM.exists(), f"{CHROMIUM} missing: apt-get install -y chromium")
    from playwright.sync_api import Browser, Page, expect, sync_playwright

    problems: list[str] = []
    outside: list[str] = []

    with console_network(tmp_path / "net", sqlite_template, TOPOLOGY, OFFICIALS) as net:
        net.start()
        county, city, province = (net.node(d) for d in (COUNTY_A, CITY, PROVINCE))
        bases = (county.url, city.url, province.url)

        def login(browser: Browser, base: str) -> Page:
            """A fresh browser session at one node's console, on its accidents list."""
            page = browser.new_context(
                viewport={"width": 1440, "height": 1000}, locale="zh-CN"
            ).new_page()
            page.on("pageerror", lambda exc: problems.append(f"{base}: {exc}"))
            page.on(
                "console",
                lambda msg: problems.append(msg.text) if msg.type == "error" else None,
            )
            page.on(
                "response",
                lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None,
            )
            page.on(
                "request",
                lambda req: (
                    None if req.url.startswith((*bases, "data:")) else outside.append(req.url)
                ),
            )
            page.goto(f"{base}/accidents")
            expect(page).to_have_url(f"{base}/login?next=/accidents")
            sign_in(page, "official", PASSWORD)
            expect(page).to_have_url(f"{base}/accidents")
            return page

        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
                try:
                    # --- the county files the quick report and passes it up -------------------
                    page = login(browser, county.url)
                    page.click("#quick-report-button")
                    expect(page).to_have_url(f"{county.url}/accidents/new")
                    # the few required fields: time, county and reporter are filled in already
                    expect(page.locator("#f-division_code")).to_have_value(COUNTY_A)
                    expect(page.locator("#f-reporter")).to_have_value("official")
                    page.fill("#f-place", PLACE)
                    page.select_option("#f-accident_type", "roof_fall")
                    page.fill("#f-reporter_phone", "13698765432")
                    page.click("#more-info summary")  # what is known of the casualties
                    page.fill("#f-deaths", "3")
                    expect(page.locator("#grade-preview")).to_contain_text("较大事故")
                    page.fill("#f-summary", "顶板来压，支架失稳，3 人被困遇难")
                    page.click("#submit-report")
                    expect(page.locator("#done")).to_contain_text("事故快报已报送")
                    expect(page.locator("#accident-grade")).to_have_text("较大事故")
                    expect(page.locator("#accident-report-to")).to_have_text("省级")
                    step = page.locator("#step-county")
                    expect(step).to_contain_text("待上报")
                    # both clocks count down live (the script's h:mm:ss, not the server's
                    # text): the county's own 2 h and the statutory time to pass it on
                    for kind in ("own", "statutory"):
                        expect(step.locator(f".step-clock-{kind} .accident-clock")).to_have_text(
                            re.compile(r"剩余 \d+:\d\d:\d\d")
                        )
                    accident_id = int(page.url.split("/accidents/")[1].split("?")[0])
                    page.click("#report-up-button")
                    expect(page.locator("#done")).to_contain_text("已上报")
                    expect(step).to_contain_text("已上报")
                    expect(page.locator("#report-up-button")).to_have_count(0)
                    page.screenshot(path=str(shots / "accident-county.png"), full_page=True)
                    uid = (
                        county.api("official")
                        .call("GET", f"/api/v1/accidents/{accident_id}")
                        .json()["uid"]
                    )

                    # --- the city: the report and the county's step have come up --------------
                    wait_until(
                        lambda: (
                            (a := city.api("official").find_detail("/api/v1/accidents", uid))
                            and any(s["tier"] == "county" and s["reported_at"] for s in a["chain"])
                        ),
                        timeout=SYNC_S,
                        what="the report and the county's step at the city",
                    )
                    page = login(browser, city.url)
                    row = page.locator("#accident-table tr.accident-row", has_text=PLACE)
                    expect(row).to_contain_text("较大")
                    row.get_by_role("link", name="详情").click()
                    expect(page.locator("#accident-grade")).to_have_text("较大事故")
                    expect(page.locator("#step-county")).to_contain_text("县级 · 应县")
                    expect(page.locator("#step-county")).to_contain_text("已上报")
                    expect(page.locator("#step-city")).to_contain_text("待上报")
                    # the county's record: read-only here
                    expect(page.locator("#follow-up")).to_contain_text("本节点只读")
                    page.click("#report-up-button")
                    expect(page.locator("#step-city")).to_contain_text("已上报")
                    page.screenshot(path=str(shots / "accident-city.png"), full_page=True)

                    # --- the province: every step so far, each from its own node --------------
                    wait_until(
                        lambda: (
                            (a := province.api("official").find_detail("/api/v1/accidents", uid))
                            and [s["tier"] for s in a["chain"]] == ["county", "city", "province"]
                            and all(s["reported_at"] for s in a["chain"][:2])
                        ),
                        timeout=SYNC_S,
                        what="the chain's steps at the province",
                    )
                    page = login(browser, province.url)
                    row = page.locator("#accident-table tr.accident-row", has_text=PLACE)
                    expect(row).to_contain_text("应县")
                    row.get_by_role("link", name="详情").click()
                    expect(page.locator("#accident-grade")).to_have_text("较大事故")
                    expect(page.locator("#accident-summary")).to_contain_text("顶板来压")
                    expect(page.locator("#step-county")).to_contain_text("已上报")
                    expect(page.locator("#step-county")).to_contain_text(f"node-{COUNTY_A}")
                    expect(page.locator("#step-city")).to_contain_text("已上报")
                    expect(page.locator("#step-province")).to_contain_text("已接收")
                    expect(page.locator("#report-up-button")).to_have_count(0)  # the top
                    page.screenshot(path=str(shots / "accident-province.png"), full_page=True)
                finally:
                    browser.close()
        except Exception:
            print(net.report())
            raise
    assert not outside, f"pages loaded external URLs: {outside}"
    assert not problems, f"browser errors: {problems}"
