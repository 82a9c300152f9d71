"""End to end, in every role of the demo province: the one map (一张图) and the command screen
(大屏) in Debian's chromium. Each official, the administrator and the enterprise user opens
/onemap: it settles on their jurisdiction with the enterprises they may see — as many as the
database holds in their scope — and the outlines of their divisions from the packaged data (no
tiles, nothing outside the node loaded); each official and the administrator opens /screen and
sees their own division's name, its charts and its map (enterprises over the outlines); the
enterprise user is refused the screen. The
browser reports no error in any role."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from test_console_e2e import CHROMIUM, CHROMIUM_ARGS, _uvicorn, require_browser, sign_in, watch
from test_onemap_e2e import SETTLED

# username → (division name on the screen, outlines the map starts with at least / exactly)
ROLES = {
    "sheng": ("山西省", None),
    "shuozhou": ("朔州市", None),
    "yingxian": ("应县", 1),  # a county official: the county's own outline, whatever the zoom
    "jianchaju": ("朔州市", None),
    "admin": ("山西省", None),
    "qiye": (None, None),  # an enterprise user: no outlines layer, no screen
}


def _expected(demo: Any) -> dict[str, tuple[int, str | None]]:
    """For each role: the located enterprises its scope holds, and its TOTP secret if MFA."""
    from sqlalchemy import func, select

    from anjian.core.iam.accounts import field_cipher, scope_of
    from anjian.core.iam.models import User
    from anjian.enterprises.models import Enterprise

    out = {}
    with demo.db() as s:
        for name in ROLES:
            user = s.scalars(select(User).where(User.username == name)).one()
            scope = scope_of(s, user)
            located = scope.select(Enterprise, func.count()).where(Enterprise.lng.isnot(None))
            secret = field_cipher().decrypt(user.totp_secret_enc) if user.totp_secret_enc else None
            out[name] = (s.scalar(located), secret)
    return out


@pytest.mark.e2e
@pytest.mark.parametrize("demo", ["sqlite"], indirect=True)
def test_every_role_opens_the_one_map_and_the_screen(demo: Any, shots: Path) -> None:
    require_browser(assets=True)
    from playwright.sync_api import expect, sync_playwright

    from anjian.demo import DEMO_PASSWORD

    expected = _expected(demo)
    outside: list[str] = []
    problems: list[str] = []
    with _uvicorn(demo) as server, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            for who, (division, outlines) in ROLES.items():
                located, secret = expected[who]
                assert located > 0, who
                context = browser.new_context(viewport={"width": 1440, "height": 900})
                page = context.new_page()
                watch(page, server, outside, problems, who)
                page.goto(f"{server}/login?next=/onemap")
                sign_in(page, who, DEMO_PASSWORD, totp_secret=secret)
                expect(page).to_have_url(f"{server}/onemap")
                page.wait_for_selector(SETTLED)
                expect(page.locator("#total-enterprises")).to_have_text(f"共 {located}")
                drawn = page.locator("path.onemap-point-enterprises")
                expect(drawn).to_have_count(located)
                zones = page.locator(".leaflet-onemap-divisions-pane path")
                if division is None:
                    expect(page.locator("#layer-divisions")).to_have_count(0)
                else:
                    assert zones.count() >= 1, who
                    total = page.locator("#total-divisions").inner_text()
                    assert total == f"共 {zones.count()}", (who, total)
                    if outlines is not None:
                        assert zones.count() == outlines, who
                page.screenshot(path=str(shots / f"onemap-{who}.png"))

                if division is None:  # asked, not opened: a refused page is no browser error
                    assert page.request.get(f"{server}/screen").status == 403, who
                else:
                    answer = page.goto(f"{server}/screen")
                    assert answer is not None and answer.status == 200, who
                    expect(page.locator("#division-name")).to_have_text(division)
                    page.wait_for_function("window.AnjianScreen !== undefined")
                    assert page.locator("#screen canvas").count() >= 3, who
                    # the map: its enterprises drawn over the outlines of its divisions
                    page.wait_for_selector("#screen-map[data-drawn]")
                    assert int(page.get_attribute("#screen-map", "data-drawn") or 0) > 0, who
                    assert page.locator("#screen-map path.screen-outline").count() >= 1, who
                    page.wait_for_timeout(1200)  # the charts' opening animation
                    page.screenshot(path=str(shots / f"screen-{who}.png"))
                context.close()
        finally:
            browser.close()
    assert not outside, f"pages loaded external URLs: {outside}"
    assert not problems, f"browser errors: {problems}"
