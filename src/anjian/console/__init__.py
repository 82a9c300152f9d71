"""The console (控制台): the pages that gather several domains or administer the node — home
and its inbox, the audit view, the dual-prevention overview, node status, administration —
and :func:`mount_console`, which serves them with every domain's own ``pages.py``.

It sits above the domains and below the application: it may import any domain and the page
kit (:mod:`anjian.web`); no domain and nothing in the kit imports it."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from anjian.accidents.pages import router as accident_pages
from anjian.accidents.statistics_pages import router as accident_statistics_pages
from anjian.console.admin_orgs import router as admin_orgs
from anjian.console.admin_settings import router as admin_settings
from anjian.console.admin_users import router as admin_users
from anjian.console.audit import router as audit_pages
from anjian.console.home import router as home_pages
from anjian.console.nodes import router as node_pages
from anjian.console.onemap.pages import router as onemap_pages
from anjian.console.overview import router as overview_pages
from anjian.console.screen.pages import router as screen_pages
from anjian.directives.pages import router as directive_pages
from anjian.emergency.duty.pages import router as emergency_duty_pages
from anjian.emergency.pages import router as emergency_pages
from anjian.emergency.plans.pages import router as emergency_plan_pages
from anjian.emergency.resource_pages import router as emergency_resource_pages
from anjian.emergency.targets.pages import router as emergency_target_pages
from anjian.enforcement.case_pages import router as enforcement_case_pages
from anjian.enforcement.inspection_pages import router as enforcement_inspection_pages
from anjian.enforcement.public_pages import router as public_draw_pages
from anjian.enforcement.terminal_pages import router as terminal_pages
from anjian.enterprises.pages import router as enterprise_pages
from anjian.hidden_hazards.pages import router as hazard_pages
from anjian.major_hazards.pages import router as major_hazard_pages
from anjian.monitoring.pages import router as monitoring_pages
from anjian.ops.desk.pages import router as desk_pages
from anjian.ops.pages import router as cmdb_pages
from anjian.risk.pages import router as risk_pages
from anjian.web import mount_kit
from anjian.web.auth_pages import router as auth_pages
from anjian.web.render import add_template_dir

add_template_dir(Path(__file__).parent / "templates")


def mount_console(app: FastAPI) -> None:
    """Serve the console: the page kit (static assets, login, page errors), every domain's
    pages and the console's own."""
    mount_kit(app)
    for router in (
        auth_pages,
        home_pages,
        screen_pages,
        audit_pages,
        enterprise_pages,
        onemap_pages,
        directive_pages,
        node_pages,
        hazard_pages,
        risk_pages,
        major_hazard_pages,
        monitoring_pages,
        accident_statistics_pages,  # before any /accidents/{id} page
        accident_pages,
        enforcement_case_pages,
        public_draw_pages,  # 双随机一公开: no login
        overview_pages,
        enforcement_inspection_pages,
        emergency_pages,
        emergency_resource_pages,
        emergency_plan_pages,
        emergency_duty_pages,
        emergency_target_pages,
        desk_pages,
        cmdb_pages,
        admin_users,
        admin_orgs,
        admin_settings,
        terminal_pages,
    ):
        app.include_router(router)
