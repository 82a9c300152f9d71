"""Inbox sources of the major hazard source register (重大危险源备案, see
``anjian.core.inbox``): for agencies the filings submitted and waiting for review (予以备案 or
退回), for enterprises the filings the agency returned, to correct and submit again. The
oldest first, in the register's own scope."""

from __future__ import annotations

from anjian.core.divisions.service import division_names
from anjian.core.iam.deps import Context
from anjian.core.inbox import AGENCY, ENTERPRISE, Found, InboxItem, source
from anjian.core.paging import paged
from anjian.enterprises.service import enterprise_names
from anjian.major_hazards.models import MajorHazardSource
from anjian.major_hazards.rules import GRADE_LABELS
from anjian.major_hazards.schemas import FilingState


def _filings(ctx: Context, limit: int, state: str) -> Found:
    # No column keeps when the filing moved: the record's last change is that move (a change
    # of its units afterwards resets the filing to 未备案).
    stmt = ctx.scope.select(MajorHazardSource).where(MajorHazardSource.filing_state == state)
    found, total = paged(
        ctx.db, stmt, (MajorHazardSource.updated_at, MajorHazardSource.id), limit=limit
    )
    names = enterprise_names(ctx.db, {s.enterprise_id for s in found})
    divisions = division_names(ctx.db, {s.division_code for s in found})
    items = []
    for s in found:
        parts = [f"{GRADE_LABELS[s.grade]}重大危险源" if s.grade else ""]
        if state == FilingState.RETURNED:
            parts.append(f"退回原因：{s.filing_note}")
        else:
            parts += [names.get(s.enterprise_id, ""), divisions.get(s.division_code, "")]
        items.append(
            InboxItem(
                title=s.name,
                detail=" · ".join(p for p in parts if p),
                url=f"/major-hazards/{s.id}",
                since=s.updated_at,
            )
        )
    return Found(total, items)


@source(
    "major_hazards.filings",
    "待审核的重大危险源备案",
    AGENCY,
    order=80,
    empty="没有待审核的备案：企业提交重大危险源备案后会出现在这里。",
    link="/major-hazards?filing_state=submitted",
)
def filings_to_review(ctx: Context, limit: int) -> Found:
    """Major hazard sources submitted for filing (备案) and not yet filed or returned."""
    return _filings(ctx, limit, FilingState.SUBMITTED)


@source(
    "major_hazards.returned",
    "被退回的重大危险源备案",
    ENTERPRISE,
    order=40,
    empty="没有被退回的备案。",
    link="/major-hazards?filing_state=returned",
)
def filings_returned(ctx: Context, limit: int) -> Found:
    """The enterprise's filings the agency returned (退回), to correct and submit again."""
    return _filings(ctx, limit, FilingState.RETURNED)
