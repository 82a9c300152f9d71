"""事故报送 console pages, gathered: the list and the quick report (快报,
:mod:`anjian.accidents.report_pages`), and one accident with its reporting chain, follow-ups,
investigation and corrective measures (:mod:`anjian.accidents.detail_pages`). The accidents of an
enterprise are one of the records of its file (一企一档)."""

from __future__ import annotations

from pathlib import Path

from anjian.accidents import detail_pages, report_pages, reporting
from anjian.web import dossier
from anjian.web.render import pages_router

router = pages_router(Path(__file__).parent / "templates")
router.include_router(report_pages.router)
router.include_router(detail_pages.router)

dossier.register(
    dossier.RecordLink(
        "accidents",
        "事故",
        40,
        count=lambda db, scope, eid: reporting.list_accidents(
            db, scope, enterprise_id=eid, limit=0
        )[1],
        href=lambda eid: f"/accidents?enterprise={eid}",
    )
)
