"""The board of a jurisdiction (监测看板): live risk (动态风险) of its monitored enterprises and
major hazard sources, the alarm board's figures, and "which alarms changed since" for the
board's live feed (the console's server-sent events, :mod:`anjian.monitoring.pages.board`)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from anjian.core.scope import Scope, division_filter
from anjian.core.sync.models import OutboxEntry
from anjian.enterprises.service import enterprises_by_id
from anjian.major_hazards.service import list_sources
from anjian.monitoring.models import ALARM_ENTITY, Alarm, MonitoringPoint
from anjian.monitoring.rules import GRADE_LEVELS, AlarmStateName, PointStatus, live_level
from anjian.monitoring.schemas import LiveRiskBoard, LiveRiskRow
from anjian.risk.rules import RiskLevel
from anjian.risk.service import enterprise_levels


def live_risk(
    session: Session, scope: Scope, *, division: str | None = None, limit: int = 5_000
) -> LiveRiskBoard:
    """The live risk level (动态风险) of every monitored major hazard source and enterprise in
    scope (those with monitoring points or a major hazard source), worst first, by the model
    of :func:`anjian.monitoring.rules.live_level`: inherent level raised by open alarms and
    unwatched points."""
    points = scope.select(
        MonitoringPoint,
        MonitoringPoint.enterprise_id,
        MonitoringPoint.major_hazard_id,
        func.count().filter(MonitoringPoint.status != PointStatus.OK.value),
        func.count(),
    )
    alarms = scope.select(
        Alarm, Alarm.enterprise_id, Alarm.major_hazard_id, Alarm.level, func.count()
    ).where(Alarm.ended_at.is_(None))
    if division:
        points = points.where(division_filter(MonitoringPoint.division_code, division))
        alarms = alarms.where(division_filter(Alarm.division_code, division))
    # (enterprise, source) → [level-1 alarms, level-2 alarms, unwatched points, points]
    tally: dict[tuple[int, int | None], list[int]] = {}
    for ent, src, degraded, n in session.execute(
        points.group_by(MonitoringPoint.enterprise_id, MonitoringPoint.major_hazard_id)
    ):
        t = tally.setdefault((ent, src), [0, 0, 0, 0])
        t[2] += degraded
        t[3] += n
    for ent, src, level, n in session.execute(
        alarms.group_by(Alarm.enterprise_id, Alarm.major_hazard_id, Alarm.level)
    ):
        tally.setdefault((ent, src), [0, 0, 0, 0])[0 if level == 1 else 1] += n
    sources, _ = list_sources(session, scope, division=division, major=True, limit=limit)
    enterprise_ids = {ent for ent, _src in tally} | {s.enterprise_id for s in sources}
    inherent = {e: lv.value for e, lv in enterprise_levels(session, scope, enterprise_ids).items()}
    rows: list[LiveRiskRow] = []
    by_enterprise: dict[int, list[int]] = {}
    for src in sources:
        grade_level = GRADE_LEVELS.get(src.grade or 0)
        held = inherent.get(src.enterprise_id)
        if grade_level and (held is None or RiskLevel(grade_level).rank > RiskLevel(held).rank):
            inherent[src.enterprise_id] = grade_level
        t = tally.get((src.enterprise_id, src.id), [0, 0, 0, 0])
        rows.append(_live_row("major_hazard", src.id, src.name, src.enterprise_id, grade_level, t))
    for (ent, _src), t in tally.items():
        acc = by_enterprise.setdefault(ent, [0, 0, 0, 0])
        for i in range(4):
            acc[i] += t[i]
    ents = enterprises_by_id(session, enterprise_ids)
    for ent_id in sorted(enterprise_ids):
        t = by_enterprise.get(ent_id, [0, 0, 0, 0])
        e = ents.get(ent_id)
        rows.append(
            _live_row("enterprise", ent_id, e.name if e else "", ent_id, inherent.get(ent_id), t)
        )
    names = {i: e.name for i, e in ents.items()}
    for row in rows:
        row.enterprise_name = names.get(row.enterprise_id, "")
        e = ents.get(row.enterprise_id)
        if e is not None:
            row.lng, row.lat, row.division_code = e.lng, e.lat, e.division_code
    rows.sort(key=lambda r: (-r.level.rank, r.kind != "enterprise", r.name))
    return LiveRiskBoard(
        enterprises=[r for r in rows if r.kind == "enterprise"][:limit],
        major_hazards=[r for r in rows if r.kind == "major_hazard"][:limit],
    )


def _live_row(
    kind: str, unit_id: int, name: str, enterprise_id: int, inherent: str | None, t: list[int]
) -> LiveRiskRow:
    risk = live_level(inherent, level1_alarms=t[0], level2_alarms=t[1], degraded_points=t[2])
    level = RiskLevel(risk.level)
    return LiveRiskRow(
        kind=kind,
        id=unit_id,
        name=name,
        enterprise_id=enterprise_id,
        inherent=RiskLevel(risk.inherent),
        level=level,
        level_label=level.label,
        colour=level.colour,
        raised_by=risk.raised_by,
        reasons=list(risk.reasons),
        alarms_level1=t[0],
        alarms_level2=t[1],
        points_degraded=t[2],
        points=t[3],
    )


# --- the alarm board (报警看板) -------------------------------------------------------------------


def board_counts(
    session: Session, scope: Scope, *, enterprise_id: int | None = None
) -> dict[str, int]:
    """The board's figures in scope: alarms not closed by level (``level1``, ``level2``),
    ``unacknowledged``, ``escalated`` (已上报值班, not closed), ``active`` (not yet ended);
    points ``offline`` and ``fault`` of ``points``."""
    not_closed = Alarm.state != AlarmStateName.CLOSED.value
    alarms = scope.select(
        Alarm,
        func.count().filter(not_closed, Alarm.level == 1),
        func.count().filter(not_closed, Alarm.level != 1),
        func.count().filter(Alarm.state == AlarmStateName.RAISED.value),
        func.count().filter(not_closed, Alarm.escalated_at.isnot(None)),
        func.count().filter(not_closed, Alarm.ended_at.is_(None)),
    )
    points = scope.select(
        MonitoringPoint,
        func.count().filter(MonitoringPoint.status == PointStatus.OFFLINE.value),
        func.count().filter(MonitoringPoint.status == PointStatus.FAULT.value),
        func.count(),
    )
    if enterprise_id is not None:
        alarms = alarms.where(Alarm.enterprise_id == enterprise_id)
        points = points.where(MonitoringPoint.enterprise_id == enterprise_id)
    a = session.execute(alarms).one()
    p = session.execute(points).one()
    names = ("level1", "level2", "unacknowledged", "escalated", "active")
    return {
        **{name: int(n or 0) for name, n in zip(names, a, strict=True)},
        **{name: int(n or 0) for name, n in zip(("offline", "fault", "points"), p, strict=True)},
    }


def change_position(session: Session) -> int:
    """The newest change this node has stored (its outbox sequence): where a live view starts
    watching for alarm changes."""
    return int(session.scalar(select(func.max(OutboxEntry.seq))) or 0)


def alarms_changed_after(
    session: Session, scope: Scope, position: int, *, limit: int = 500
) -> list[Alarm]:
    """Alarms in scope changed after outbox position ``position``, newest first (at most
    ``limit``). The outbox, not ``updated_at``, tells what changed: it also holds the alarms
    received from the nodes below, whose ``updated_at`` is their origin's and may lag."""
    changed = select(OutboxEntry.uid).where(
        OutboxEntry.entity == ALARM_ENTITY, OutboxEntry.seq > position
    )
    stmt = scope.select(Alarm).where(Alarm.uid.in_(changed))
    return list(
        session.scalars(stmt.order_by(Alarm.raised_at.desc(), Alarm.id.desc()).limit(limit))
    )
