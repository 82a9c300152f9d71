"""An enterprise's enforcement history (一企一档 · 行政执法): its inspections and penalty cases in
the user's scope, the latest first, each with its documents to download. The enterprise's page
links to it (``web.dossier``) for agencies; enterprise users do not see enforcement pages."""

from __future__ import annotations

from fastapi import Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from anjian.core.divisions.service import division_names
from anjian.core.scope import Scope
from anjian.enforcement import inspections, penalties
from anjian.enforcement.page_kit import STATE_BADGES
from anjian.enterprises.service import enterprise_in_scope
from anjian.web import dossier
from anjian.web.layout import page
from anjian.web.offloop import page_routes
from anjian.web.session import StaffPageCtx

router = page_routes()

HISTORY_LIMIT = 100  # of each kind, as the API's history


@router.get("/enforcement/enterprises/{enterprise_id:int}")
def enterprise_history(request: Request, enterprise_id: int, ctx: StaffPageCtx) -> Response:
    """行政执法 of one enterprise: inspections and penalty cases with their documents."""
    ent = enterprise_in_scope(ctx.db, ctx.scope, enterprise_id)
    found, found_total = inspections.list_inspections(
        ctx.db, ctx.scope, enterprise_id=ent.id, limit=HISTORY_LIMIT
    )
    cases, cases_total = penalties.list_cases(
        ctx.db, ctx.scope, enterprise_id=ent.id, limit=HISTORY_LIMIT
    )
    agencies = {i.agency_division for i in found} | {c.agency_division for c in cases}
    return page(
        request,
        ctx,
        "enforcement/history.html",
        {
            "e": ent,
            "inspections": inspections.present(ctx.db, found),
            "inspections_total": found_total,
            "cases": penalties.present(ctx.db, cases),
            "cases_total": cases_total,
            "agencies": division_names(ctx.db, agencies),
            "state_badges": STATE_BADGES,
        },
        active="enforcement",
    )


def _cases(db: Session, scope: Scope, eid: int) -> str:
    n = penalties.list_cases(db, scope, enterprise_id=eid, limit=0)[1]
    return f"处罚案件 {n}" if n else ""


dossier.register(
    dossier.RecordLink(
        "enforcement",
        "执法检查",
        70,
        count=lambda db, scope, eid: inspections.list_inspections(
            db, scope, enterprise_id=eid, limit=0
        )[1],
        href=lambda eid: f"/enforcement/enterprises/{eid}",
        note=_cases,
        staff_only=True,
    )
)
