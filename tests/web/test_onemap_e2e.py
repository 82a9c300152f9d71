"""End to end: the one map (一张图) in Debian's chromium on the demo province. The province
official opens /onemap: the enterprises are drawn from the features API once the map has
settled, the legend counts what was drawn; switching the risk layer on draws the enterprises'
risk rings and fills its legend, switching the enterprises off removes their markers, a
filter narrows them; a marker's popup links to the record's page; nothing outside the node
is loaded and the browser reports no error."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from test_console_e2e import CHROMIUM, CHROMIUM_ARGS, _uvicorn, require_browser, sign_in, watch

SETTLED = '#onemap[data-pending="0"]'


def _counts(page: Any, layer: str) -> dict[str, int]:
    """The legend's counts of ``layer`` by kind, as the panel shows them."""
    out = {}
    for row in page.locator(f"#legend-{layer} .onemap-legend-row").all():
        text = row.locator(".onemap-count").inner_text().strip()
        out[row.get_attribute("data-kind")] = int(text) if text else 0
    return out


@pytest.mark.e2e
@pytest.mark.parametrize("demo", ["sqlite"], indirect=True)
def test_the_province_official_switches_layers_on_the_one_map(demo: Any, shots: Path) -> None:
    require_browser(assets=True)
    from playwright.sync_api import expect, sync_playwright
    from sqlalchemy import func, select

    from anjian.core.iam.accounts import field_cipher
    from anjian.core.iam.models import User
    from anjian.demo import DEMO_PASSWORD
    from anjian.enterprises.models import Enterprise

    with demo.db() as s:
        sheng = s.scalars(select(User).where(User.username == "sheng")).one()
        secret = field_cipher().decrypt(sheng.totp_secret_enc)
        located = s.scalar(
            select(func.count()).select_from(Enterprise).where(Enterprise.lng.isnot(None))
        )
        coal = s.scalar(
            select(func.count())
            .select_from(Enterprise)
            .where(Enterprise.lng.isnot(None), Enterprise.supervision_category == "coal_mine")
        )
    assert 0 < coal < located <= 2000  # single features at the province's zoom

    outside: list[str] = []
    problems: list[str] = []
    with _uvicorn(demo) as server, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 900}, locale="zh-CN")
            watch(page, server, outside, problems)
            page.goto(f"{server}/login?next=/onemap")
            sign_in(page, "sheng", DEMO_PASSWORD, totp_secret=secret)
            expect(page).to_have_url(f"{server}/onemap")
            page.wait_for_selector(SETTLED)

            enterprises = page.locator("path.onemap-point-enterprises")
            expect(enterprises).to_have_count(located)
            expect(page.locator("#total-enterprises")).to_have_text(f"共 {located}")
            assert sum(_counts(page, "enterprises").values()) == located
            assert page.locator(".onemap-cluster-icon").count() == 0
            page.screenshot(path=str(shots / "onemap-enterprises.png"))

            # the risk layer: rings round the graded enterprises, its legend filled
            risk = page.locator("path.onemap-point-risk")
            expect(risk).to_have_count(0)
            page.check("#layer-risk")
            expect(page.locator("#total-risk")).to_have_text(re.compile(r"共 \d+"))
            page.wait_for_selector(SETTLED)
            graded = int(page.locator("#total-risk").inner_text().split()[1])
            assert graded > 0
            expect(risk).to_have_count(graded)
            assert sum(_counts(page, "risk").values()) == graded
            expect(page.locator("#legend-risk")).to_be_visible()

            # the enterprises off: their markers and counts gone; on again, coal mines only
            page.uncheck("#layer-enterprises")
            expect(enterprises).to_have_count(0)
            expect(page.locator("#total-enterprises")).to_have_text("")
            expect(page.locator("#legend-enterprises")).to_be_hidden()
            page.check("#layer-enterprises")
            expect(enterprises).to_have_count(located)
            page.select_option('[data-layer-filter="enterprises"][name="category"]', "coal_mine")
            expect(enterprises).to_have_count(coal)
            page.wait_for_selector(SETTLED)
            assert _counts(page, "enterprises") == {
                "coal_mine": coal,
                "non_coal_mine": 0,
                "hazardous_chemicals": 0,
                "fireworks": 0,
                "metallurgy_trade": 0,
                "other": 0,
            }

            # zoomed in twice in a row: the first answer is dropped for the second, no error
            page.click(".leaflet-control-zoom-in")
            page.click(".leaflet-control-zoom-in")
            page.wait_for_timeout(600)  # the debounce, then the answers
            page.wait_for_selector(SETTLED)
            assert 0 < enterprises.count() <= coal

            # a marker's popup links to the enterprise's file
            page.uncheck("#layer-risk")
            enterprises.first.dispatch_event("click")
            link = page.locator(".leaflet-popup-content a")
            expect(link).to_have_text("查看详情")
            assert re.fullmatch(r"/enterprises/\d+", link.get_attribute("href") or "")
            page.wait_for_timeout(300)  # the popup fades in
            page.screenshot(path=str(shots / "onemap-popup.png"))
        finally:
            browser.close()
    assert not outside, f"pages loaded external URLs: {outside}"
    assert not problems, f"browser errors: {problems}"
