"""Each enterprise's worst risk level (企业风险等级) and number of live risk points, kept on the
enterprise row whenever its risk points change at this node — written by the risk service, or
arriving by sync (the risk points' ``on_applied``) — so the one map's risk layer reads the
enterprises' covering index alone instead of grouping 500,000 risk points per answer."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session

from anjian.core.scope import unscoped
from anjian.enterprises.models import Enterprise
from anjian.risk.models import RiskPoint
from anjian.risk.rules import worst


@unscoped("the enterprises whose risk points changed: every live point of theirs counts")
def refresh_levels(session: Session, enterprise_ids: Iterable[int]) -> None:
    """Recompute ``risk_level`` and ``risk_points`` of the enterprises ``enterprise_ids`` from
    their live risk points (None and 0 when they have none)."""
    ids = sorted(set(enterprise_ids))
    if not ids:
        return
    session.flush()
    rows = session.execute(
        select(RiskPoint.enterprise_id, RiskPoint.level, func.count())
        .where(RiskPoint.enterprise_id.in_(ids), RiskPoint.deleted.is_(False))
        .group_by(RiskPoint.enterprise_id, RiskPoint.level)
    )
    levels: dict[int, list[str]] = {}
    counts: dict[int, int] = {}
    for enterprise_id, level, n in rows:
        counts[enterprise_id] = counts.get(enterprise_id, 0) + n
        if level:
            levels.setdefault(enterprise_id, []).append(level)
    table = Enterprise.__table__
    values = []
    for enterprise_id in ids:
        level = worst(levels.get(enterprise_id, []))
        values.append(
            {
                "_id": enterprise_id,
                "_level": level.value if level is not None else None,
                "_points": counts.get(enterprise_id, 0),
            }
        )
    session.execute(
        update(table)
        .where(table.c.id == bindparam("_id"))
        .values(risk_level=bindparam("_level"), risk_points=bindparam("_points")),
        values,
    )


@unscoped("risk points that arrived by sync: their enterprises")
def levels_on_arrival(session: Session, uids: list[str]) -> None:
    """The risk points' ``on_applied`` hook: refresh the enterprises of those that arrived."""
    refresh_levels(
        session, session.scalars(select(RiskPoint.enterprise_id).where(RiskPoint.uid.in_(uids)))
    )
