"""Inbox source of directives (通知指令, see ``anjian.core.inbox``): the notices, directives
and 挂牌督办 orders addressed to the user's division (or above it) that the division has not
signed for (签收) yet, the oldest first. Enterprise users receive no directives (they are
addressed to agencies' jurisdictions), so the source is the agencies' only."""

from __future__ import annotations

from sqlalchemy import select

from anjian.core.clock import today_in_china
from anjian.core.iam.deps import Context
from anjian.core.inbox import AGENCY, Found, InboxItem, source
from anjian.core.paging import paged
from anjian.directives.models import KINDS, Directive
from anjian.directives.service import addressed_to, signed_by, visible_to


@source(
    "directives.sign",
    "待签收的通知指令",
    AGENCY,
    order=60,
    empty="没有待签收的通知指令。",
    link="/directives?show=pending",
)
def directives_to_sign(ctx: Context, limit: int) -> Found:
    """Directives addressed at or above the user's division, not issued by it, that it has not
    signed for, the first issued first."""
    own = ctx.user.division_code
    stmt = select(Directive).where(
        Directive.deleted.is_(False),
        visible_to(ctx.scope, ctx.user),
        addressed_to(own),
        Directive.issuer_division != own,
        Directive.uid.not_in(signed_by(own)),
    )
    found, total = paged(ctx.db, stmt, (Directive.issued_at, Directive.id), limit=limit)
    today = today_in_china()
    return Found(
        total,
        [
            InboxItem(
                title=d.title,
                detail=f"{KINDS.get(d.kind, d.kind)} · {d.issuer_name}",
                url=f"/directives/{d.uid}",
                since=d.issued_at,
                due_date=d.due_date,
                overdue=d.due_date is not None and d.due_date < today,
            )
            for d in found
        ],
    )
