"""行政执法 console pages of plans, draws, penalties and statistics, gathered
(:mod:`~anjian.enforcement.plan_pages`, :mod:`~anjian.enforcement.draw_pages`,
:mod:`~anjian.enforcement.penalty_pages`, :mod:`~anjian.enforcement.statistics_pages`); the
public page of draws, which needs no login, is :mod:`anjian.enforcement.public_pages`."""

from __future__ import annotations

from anjian.enforcement import draw_pages, penalty_pages, plan_pages, statistics_pages
from anjian.enforcement.page_common import TEMPLATES
from anjian.web.render import pages_router

router = pages_router(TEMPLATES)
for _pages in (statistics_pages, plan_pages, draw_pages, penalty_pages):
    router.include_router(_pages.router)
