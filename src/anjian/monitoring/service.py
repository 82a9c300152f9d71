"""Online monitoring use cases (在线监测预警): the point registry, alarms through their closed
loop, trends, ingest rejections and the gateways' credentials.

The only place that writes points and alarm dispositions. Every write stamps a new version into
the outbox and appends an audit record in the caller's transaction; nothing here commits. Every
read goes through :meth:`Scope.apply`, and a record outside the scope is reported as not
found. Readings and the alarms they raise are written by :mod:`anjian.monitoring.ingest`."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from anjian.config import get_settings
from anjian.core.audit.service import Actor, audit
from anjian.core.crypto import hmac_sm3
from anjian.core.errors import Conflict, Invalid, NotFound
from anjian.core.paging import paged
from anjian.core.scope import Scope, division_filter, not_found
from anjian.core.sync.models import OutboxEntry
from anjian.core.sync.outbox import ensure_writable_here, record_change
from anjian.db import utcnow
from anjian.enterprises.models import Enterprise
from anjian.enterprises.service import enterprise_in_scope, enterprise_names
from anjian.major_hazards.service import get_source, list_sources
from anjian.monitoring.ingest import now_ms
from anjian.monitoring.models import (
    ALARM_ENTITY,
    POINT_ENTITY,
    Alarm,
    GatewayCredential,
    IngestRejection,
    MinuteSummary,
    MonitoringPoint,
    PointLive,
    Reading,
)
from anjian.monitoring.presets import PRESETS
from anjian.monitoring.rules import (
    ALARM_STATES,
    GRADE_LEVELS,
    KINDS,
    STATUSES,
    TRANSITIONS,
    AlarmStateName,
    Thresholds,
    live_level,
    threshold_problem,
    transition_problem,
)
from anjian.monitoring.schemas import (
    AlarmRead,
    Disposition,
    LiveRiskBoard,
    LiveRiskRow,
    PointCreate,
    PointRead,
    PointUpdate,
    Series,
    SeriesPoint,
    Token,
)
from anjian.risk.rules import RiskLevel
from anjian.risk.service import enterprise_levels

_SET_POINTS = ("ll", "l", "h", "hh", "dead_band", "delay_s")
MAX_BUCKETS = 5_000
OPEN = "open"  # the state filter for alarms not closed yet  # a trend query returns at most this many buckets


def _scoped_points(stmt: Select[Any], scope: Scope) -> Select[Any]:
    return scope.apply(
        stmt.where(MonitoringPoint.deleted.is_(False)),
        division=MonitoringPoint.division_code,
        enterprise=MonitoringPoint.enterprise_id,
        category=MonitoringPoint.supervision_category,
    )


def _scoped_alarms(stmt: Select[Any], scope: Scope) -> Select[Any]:
    return scope.apply(
        stmt.where(Alarm.deleted.is_(False)),
        division=Alarm.division_code,
        enterprise=Alarm.enterprise_id,
        category=Alarm.supervision_category,
    )


# --- points (监测点) ---------------------------------------------------------------------------


def _check(p: MonitoringPoint) -> None:
    """Refuse set points out of order or a range upside down, naming the field."""
    problem = threshold_problem(
        Thresholds(p.ll, p.l, p.h, p.hh, p.dead_band, p.delay_s),
    )
    if problem is not None:
        raise Invalid(problem[1], field=problem[0])
    if p.range_low is not None and p.range_high is not None and p.range_low >= p.range_high:
        raise Invalid(
            f"量程下限须小于上限: {p.range_low} ≥ {p.range_high} (range_low must be below "
            "range_high)",
            field="range_high",
        )


def _major_hazard(session: Session, scope: Scope, p: MonitoringPoint, source_id: int) -> int:
    src = get_source(session, scope, source_id)
    if src.enterprise_id != p.enterprise_id:
        raise Invalid(
            f"重大危险源 {source_id} 不属于该企业 (the major hazard source belongs to another "
            "enterprise)",
            field="major_hazard_id",
        )
    return src.id


def _audit_point(
    session: Session, actor: Actor, action: str, p: MonitoringPoint, **detail: Any
) -> None:
    audit(
        session,
        actor,
        f"monitoring_point.{action}",
        object_type="monitoring_point",
        object_id=str(p.id),
        division_code=p.division_code,
        detail={"code": p.code, "enterprise_id": p.enterprise_id, **detail},
    )


def create_point(
    session: Session, actor: Actor, scope: Scope, data: PointCreate
) -> MonitoringPoint:
    """Register a point of an enterprise in scope. A ``preset`` supplies kind, unit and set
    points; whatever is sent explicitly wins (audited, synced)."""
    ent = enterprise_in_scope(session, scope, data.enterprise_id, field="enterprise_id")
    values: dict[str, Any] = {}
    if data.preset is not None:
        preset = PRESETS.get(data.preset)
        if preset is None:
            raise Invalid(
                f"阈值预设不存在: {data.preset} (unknown preset; see /api/v1/monitoring/presets)",
                field="preset",
            )
        values = {
            "kind": preset.kind,
            "unit": preset.unit,
            **{name: getattr(preset, name) for name in _SET_POINTS},
            "restore": preset.restore,
            "power_cut": preset.power_cut,
            "name": preset.name,
        }
    values.update({k: v for k, v in data.changes().items() if v is not None})
    if not values.get("kind"):
        raise Invalid("须填写监测类型 kind 或阈值预设 preset (kind is required)", field="kind")
    exists = session.scalar(
        select(MonitoringPoint.id).where(
            MonitoringPoint.enterprise_id == ent.id, MonitoringPoint.code == data.code
        )
    )
    if exists is not None:
        raise Conflict(
            f"该企业已有测点编码 {data.code} (point code already used in this enterprise)",
            field="code",
        )
    p = MonitoringPoint(
        enterprise_id=ent.id,
        division_code=ent.division_code,
        supervision_category=ent.supervision_category,
        code=data.code,
        name=values.get("name") or "",
        kind=values["kind"],
        unit=values.get("unit") or KINDS[values["kind"]][1],
        range_low=values.get("range_low"),
        range_high=values.get("range_high"),
        period_s=values.get("period_s") or 60,
        dead_band=values.get("dead_band") or 0.0,
        delay_s=values.get("delay_s") or 0.0,
        preset=data.preset or "",
        restore=values.get("restore"),
        power_cut=bool(values.get("power_cut")),
        location=values.get("location") or "",
        status="ok",
        created_at=utcnow(),
        origin_node="",
    )
    for name in ("ll", "l", "h", "hh"):
        setattr(p, name, values.get(name))
    _check(p)
    if data.major_hazard_id is not None:
        p.major_hazard_id = _major_hazard(session, scope, p, data.major_hazard_id)
    record_change(session, p, entity=POINT_ENTITY)
    _audit_point(
        session, actor, "create", p, kind=p.kind, **{n: getattr(p, n) for n in _SET_POINTS}
    )
    return p


def get_point(session: Session, scope: Scope, point_id: int) -> MonitoringPoint:
    """One point in scope; absent and out of scope are the same 404."""
    found = session.scalars(
        _scoped_points(select(MonitoringPoint), scope).where(MonitoringPoint.id == point_id)
    ).first()
    if found is None:
        raise not_found(
            session,
            MonitoringPoint.id,
            point_id,
            f"监测点不存在或不在管辖范围内: {point_id} (no such monitoring point in your "
            "jurisdiction)",
        )
    return found


def update_point(
    session: Session, actor: Actor, scope: Scope, point_id: int, data: PointUpdate
) -> MonitoringPoint:
    """Change the fields sent (a set point sent as null is removed); audited with the set
    points before and after, synced. A no-op writes nothing."""
    p = get_point(session, scope, point_id)
    ensure_writable_here(p)
    changes = data.changes()
    for required in ("kind", "unit", "period_s", "name", "location"):
        if required in changes and changes[required] is None:
            changes.pop(required)
    for name in ("dead_band", "delay_s"):
        if name in changes and changes[name] is None:
            changes[name] = 0.0
    if "major_hazard_id" in changes and changes["major_hazard_id"] is not None:
        changes["major_hazard_id"] = _major_hazard(session, scope, p, changes["major_hazard_id"])
    changed = {k: v for k, v in changes.items() if getattr(p, k) != v}
    if not changed:
        return p
    before = {k: getattr(p, k) for k in changed}
    for name, value in changed.items():
        setattr(p, name, value)
    _check(p)
    record_change(session, p, entity=POINT_ENTITY)
    _audit_point(session, actor, "update", p, before=before, after=changed)
    return p


def list_points(
    session: Session,
    scope: Scope,
    *,
    enterprise_id: int | None = None,
    division: str | None = None,
    kind: str | None = None,
    status: str | None = None,
    major_hazard_id: int | None = None,
    q: str | None = None,
    limit: int | None = 50,
    offset: int = 0,
) -> tuple[list[MonitoringPoint], int]:
    """Points in scope matching the filters (``q``: code, name or location contain), by
    enterprise and code, with the number of matches."""
    stmt = _scoped_points(select(MonitoringPoint), scope)
    if enterprise_id is not None:
        stmt = stmt.where(MonitoringPoint.enterprise_id == enterprise_id)
    if division:
        stmt = stmt.where(division_filter(MonitoringPoint.division_code, division))
    if kind:
        if kind not in KINDS:
            raise Invalid(f"监测类型无效: {kind} (unknown kind)", field="kind")
        stmt = stmt.where(MonitoringPoint.kind == kind)
    if status:
        if status not in STATUSES:
            raise Invalid(f"状态无效: {status} (unknown status)", field="status")
        stmt = stmt.where(MonitoringPoint.status == status)
    if major_hazard_id is not None:
        stmt = stmt.where(MonitoringPoint.major_hazard_id == major_hazard_id)
    if q and q.strip():
        term = q.strip()
        stmt = stmt.where(
            or_(
                MonitoringPoint.code.contains(term, autoescape=True),
                MonitoringPoint.name.contains(term, autoescape=True),
                MonitoringPoint.location.contains(term, autoescape=True),
            )
        )
    order = (MonitoringPoint.enterprise_id, MonitoringPoint.code, MonitoringPoint.id)
    return paged(session, stmt, order, limit=limit, offset=offset)


def present_points(session: Session, points: list[MonitoringPoint]) -> list[PointRead]:
    """The user-facing views of ``points`` with their enterprise and live value."""
    names = enterprise_names(session, (p.enterprise_id for p in points))
    ids = [p.id for p in points]
    lives = (
        {
            lv.point_id: lv
            for lv in session.scalars(select(PointLive).where(PointLive.point_id.in_(ids)))
        }
        if ids
        else {}
    )
    out = []
    for p in points:
        lv = lives.get(p.id)
        out.append(
            PointRead.of(
                p,
                enterprise_name=names.get(p.enterprise_id, ""),
                last_ts=lv.last_ts if lv else None,
                last_value=lv.last_value if lv else None,
                alarm_bound=lv.active_bound if lv else None,
            )
        )
    return out


# --- alarms (报警) -----------------------------------------------------------------------------


def get_alarm(session: Session, scope: Scope, alarm_id: int) -> Alarm:
    """One alarm in scope; absent and out of scope are the same 404."""
    found = session.scalars(
        _scoped_alarms(select(Alarm), scope).where(Alarm.id == alarm_id)
    ).first()
    if found is None:
        raise not_found(
            session,
            Alarm.id,
            alarm_id,
            f"报警不存在或不在管辖范围内: {alarm_id} (no such alarm in your jurisdiction)",
        )
    return found


def list_alarms(
    session: Session,
    scope: Scope,
    *,
    enterprise_id: int | None = None,
    point_id: int | None = None,
    division: str | None = None,
    level: int | None = None,
    state: str | None = None,
    kind: str | None = None,
    active: bool | None = None,
    escalated: bool | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int | None = 50,
    offset: int = 0,
) -> tuple[list[Alarm], int]:
    """Alarms in scope matching the filters, newest first, with the number of matches.
    ``state="open"``: every alarm not closed yet (待确认, 已确认, 已处置).
    ``active``: only those whose condition has (not) ended; ``escalated``: those escalated for
    want of acknowledgement (the duty desk's list); ``since``/``until`` bound the time they were
    raised."""
    stmt = _scoped_alarms(select(Alarm), scope)
    if enterprise_id is not None:
        stmt = stmt.where(Alarm.enterprise_id == enterprise_id)
    if point_id is not None:
        stmt = stmt.where(Alarm.point_id == point_id)
    if division:
        stmt = stmt.where(division_filter(Alarm.division_code, division))
    if level is not None:
        if level not in (1, 2):
            raise Invalid(f"报警级别应为 1 或 2: {level} (level must be 1 or 2)", field="level")
        stmt = stmt.where(Alarm.level == level)
    if state == OPEN:
        stmt = stmt.where(Alarm.state != AlarmStateName.CLOSED.value)
    elif state:
        if state not in ALARM_STATES:
            choices = ", ".join([*(s.value for s in AlarmStateName), OPEN])
            raise Invalid(f"报警状态无效: {state} (state must be one of {choices})", field="state")
        stmt = stmt.where(Alarm.state == state)
    if kind:
        stmt = stmt.where(Alarm.kind == kind)
    if active is not None:
        stmt = stmt.where(Alarm.ended_at.is_(None) if active else Alarm.ended_at.isnot(None))
    if escalated is not None:
        stmt = stmt.where(
            Alarm.escalated_at.isnot(None) if escalated else Alarm.escalated_at.is_(None)
        )
    if since is not None:
        stmt = stmt.where(Alarm.raised_at >= since)
    if until is not None:
        stmt = stmt.where(Alarm.raised_at < until)
    return paged(
        session, stmt, (Alarm.raised_at.desc(), Alarm.id.desc()), limit=limit, offset=offset
    )


def present_alarms(session: Session, alarms: list[Alarm]) -> list[AlarmRead]:
    """The user-facing views of ``alarms`` with their enterprise and point."""
    names = enterprise_names(session, (a.enterprise_id for a in alarms))
    pids = sorted({a.point_id for a in alarms if a.point_id is not None})
    points = (
        {
            pid: (code, name, unit, kind)
            for pid, code, name, unit, kind in session.execute(
                select(
                    MonitoringPoint.id,
                    MonitoringPoint.code,
                    MonitoringPoint.name,
                    MonitoringPoint.unit,
                    MonitoringPoint.kind,
                ).where(MonitoringPoint.id.in_(pids))
            )
        }
        if pids
        else {}
    )
    out = []
    for a in alarms:
        code, name, unit, kind = points.get(a.point_id or 0, ("", "", "", ""))
        out.append(
            AlarmRead.of(
                a,
                enterprise_name=names.get(a.enterprise_id, ""),
                point_code=code,
                point_name=name,
                point_kind=kind,
                unit=unit,
            )
        )
    return out


def _take(
    session: Session, actor: Actor, scope: Scope, alarm_id: int, verb: str, **detail: Any
) -> Alarm:
    alarm = get_alarm(session, scope, alarm_id)
    ensure_writable_here(alarm)
    problem = transition_problem(verb, alarm.state, ended=alarm.ended_at is not None)
    if problem is not None:
        raise Conflict(problem, field="state")
    before = alarm.state
    alarm.state = TRANSITIONS[verb][1].value
    now = utcnow()
    if verb == "acknowledge":
        alarm.acknowledged_at, alarm.acknowledged_by = now, actor.username
    elif verb == "handle":
        alarm.handled_at, alarm.handled_by = now, actor.username
        alarm.cause, alarm.action, alarm.handler = (
            detail["cause"],
            detail["action"],
            detail["handler"],
        )
    else:
        alarm.closed_at, alarm.closed_by = now, actor.username
    record_change(session, alarm, entity=ALARM_ENTITY)
    audit(
        session,
        actor,
        f"alarm.{verb}",
        object_type="alarm",
        object_id=str(alarm.id),
        division_code=alarm.division_code,
        detail={"from": before, "to": alarm.state, "enterprise_id": alarm.enterprise_id, **detail},
    )
    return alarm


def acknowledge(session: Session, actor: Actor, scope: Scope, alarm_id: int) -> Alarm:
    """Acknowledge an alarm (确认): someone has seen it (audited, synced)."""
    return _take(session, actor, scope, alarm_id, "acknowledge")


def handle(session: Session, actor: Actor, scope: Scope, alarm_id: int, data: Disposition) -> Alarm:
    """Record how an acknowledged alarm was dealt with (处置: cause, action, person)."""
    return _take(
        session,
        actor,
        scope,
        alarm_id,
        "handle",
        cause=data.cause,
        action=data.action,
        handler=data.handler,
    )


def close(session: Session, actor: Actor, scope: Scope, alarm_id: int) -> Alarm:
    """Close a handled alarm whose condition has ended (关闭)."""
    return _take(session, actor, scope, alarm_id, "close")


# --- trends (趋势) -----------------------------------------------------------------------------


def series(
    session: Session, scope: Scope, point_id: int, from_ms: int, to_ms: int, step_s: int | None
) -> Series:
    """A point's readings in [from, to) in buckets of ``step_s`` seconds (chosen to give about
    500 buckets when not given), each with mean, min, max and count. At an upper node, and for
    windows older than the raw readings' retention, the trend comes from the per-minute
    summaries (buckets of a minute at least)."""
    p = get_point(session, scope, point_id)
    if to_ms <= from_ms:
        raise Invalid("结束时间须晚于开始时间 (to must be after from)", field="to")
    if step_s is None:
        step_s = max(1, (to_ms - from_ms) // 1000 // 500)
    if step_s < 1:
        raise Invalid("step 须为正整数秒 (step must be a positive number of seconds)", field="step")
    if (to_ms - from_ms) / 1000 / step_s > MAX_BUCKETS:
        raise Invalid(
            f"时间段内分桶过多（最多 {MAX_BUCKETS}），请加大 step (too many buckets; raise step)",
            field="step",
        )
    step_ms = step_s * 1000
    settings = get_settings()
    kept_from = now_ms() - settings.monitoring_retention_days * 86_400_000
    if (p.origin_node and p.origin_node != settings.effective_node_id) or from_ms < kept_from:
        # A copy from a node below (its raw readings stay there; the minute summaries came
        # up), or a window reaching back past the raw readings' retention.
        return _series_from_minutes(session, p, from_ms, to_ms, max(step_ms, 60_000))
    bucket = (Reading.ts - from_ms) // step_ms
    rows = session.execute(
        select(
            bucket.label("b"),
            func.avg(Reading.value),
            func.min(Reading.value),
            func.max(Reading.value),
            func.count(),
        )
        .where(
            Reading.point_id == p.id,
            Reading.ts >= from_ms,
            Reading.ts < to_ms,
            Reading.status == 0,
        )
        .group_by("b")
        .order_by("b")
    )
    items = [
        SeriesPoint(
            ts=from_ms + int(b) * step_ms, avg=float(avg), min=float(lo), max=float(hi), n=int(n)
        )
        for b, avg, lo, hi, n in rows
    ]
    return Series(
        point_id=p.id, unit=p.unit, from_ms=from_ms, to_ms=to_ms, step_s=step_s, items=items
    )


def _series_from_minutes(
    session: Session, p: MonitoringPoint, from_ms: int, to_ms: int, step_ms: int
) -> Series:
    """A trend from the per-minute summaries of the point (at least a minute per bucket)."""
    buckets: dict[int, list[float]] = {}  # start → [n, min, max, sum]
    rows = session.execute(
        select(MinuteSummary.minute, MinuteSummary.points).where(
            MinuteSummary.enterprise_id == p.enterprise_id,
            MinuteSummary.minute >= from_ms,
            MinuteSummary.minute < to_ms,
            MinuteSummary.deleted.is_(False),
        )
    )
    for minute, points in rows:
        agg = points.get(p.uid)
        if not agg:
            continue
        n, lo, hi, mean = agg
        start = from_ms + (minute - from_ms) // step_ms * step_ms
        b = buckets.setdefault(start, [0, lo, hi, 0.0])
        b[0] += n
        b[1], b[2] = min(b[1], lo), max(b[2], hi)
        b[3] += mean * n
    items = [
        SeriesPoint(ts=start, avg=b[3] / b[0], min=b[1], max=b[2], n=int(b[0]))
        for start, b in sorted(buckets.items())
        if b[0]
    ]
    return Series(
        point_id=p.id,
        unit=p.unit,
        from_ms=from_ms,
        to_ms=to_ms,
        step_s=step_ms // 1000,
        items=items,
    )


# --- ingest rejections (坏数据计数) --------------------------------------------------------------


def rejections(
    session: Session, scope: Scope, enterprise_id: int | None = None
) -> list[IngestRejection]:
    """Readings refused by enterprise and reason, for the enterprises in scope."""
    stmt = scope.apply(
        select(IngestRejection).join(Enterprise, Enterprise.id == IngestRejection.enterprise_id),
        division=Enterprise.division_code,
        enterprise=Enterprise.id,
        category=Enterprise.supervision_category,
    )
    if enterprise_id is not None:
        stmt = stmt.where(IngestRejection.enterprise_id == enterprise_id)
    return list(
        session.scalars(stmt.order_by(IngestRejection.enterprise_id, IngestRejection.reason))
    )


# --- gateway credentials (接入凭证) ------------------------------------------------------------


def _token_hash(token: str) -> str:
    return hmac_sm3(get_settings().key_file("gateway"), token.encode())


def local_enterprise_by_uscc(session: Session, uscc: str) -> Enterprise:
    """The enterprise of this node (not a copy from a child) with ``uscc``; gateways connect to
    the node of their own jurisdiction."""
    node = get_settings().effective_node_id
    ent = session.scalars(
        select(Enterprise).where(
            Enterprise.uscc == uscc.strip().upper(),
            Enterprise.deleted.is_(False),
            Enterprise.origin_node == node,
        )
    ).first()
    if ent is None:
        raise NotFound(
            f"本节点没有统一社会信用代码为 {uscc} 的企业 (no enterprise with this USCC at this node)",
            field="uscc",
        )
    return ent


def issue_token(session: Session, actor: Actor, uscc: str) -> Token:
    """A new ingest token for the enterprise ``uscc`` (any earlier one stops working); only its
    SM3-HMAC is kept, so it is shown once (audited)."""
    ent = local_enterprise_by_uscc(session, uscc)
    token = "ajg_" + secrets.token_urlsafe(32)
    cred = session.get(GatewayCredential, ent.id)
    if cred is None:
        cred = GatewayCredential(enterprise_id=ent.id, token_hash="", created_at=utcnow())
        session.add(cred)
    cred.token_hash, cred.created_at, cred.created_by = _token_hash(token), utcnow(), actor.username
    audit(
        session,
        actor,
        "gateway.token",
        object_type="enterprise",
        object_id=str(ent.id),
        division_code=ent.division_code,
        detail={"uscc": ent.uscc},
    )
    return Token(
        uscc=ent.uscc,
        token=token,
        mqtt_username=ent.uscc,
        topic_readings=f"anjian/v1/{ent.uscc}/readings",
        topic_status=f"anjian/v1/{ent.uscc}/status",
    )


def enterprise_of_token(session: Session, token: str) -> int | None:
    """The enterprise whose gateway holds ``token``, or None."""
    return session.scalar(
        select(GatewayCredential.enterprise_id).where(
            GatewayCredential.token_hash == _token_hash(token)
        )
    )


def check_gateway(session: Session, uscc: str, token: str) -> int | None:
    """The enterprise when ``token`` is the current token of the enterprise ``uscc`` (the MQTT
    username and password of its gateway), else None."""
    ent_id = enterprise_of_token(session, token)
    if ent_id is None:
        return None
    ent = session.get(Enterprise, ent_id)
    return ent_id if ent is not None and ent.uscc == uscc and not ent.deleted else None


# --- live risk (动态风险) -----------------------------------------------------------------------


def live_risk(
    session: Session, scope: Scope, *, division: str | None = None, limit: int = 5_000
) -> LiveRiskBoard:
    """The live risk level (动态风险) of every monitored major hazard source and enterprise in
    scope (those with monitoring points or a major hazard source), worst first, by the model
    of :func:`anjian.monitoring.rules.live_level`: inherent level raised by open alarms and
    unwatched points."""
    points = _scoped_points(
        select(
            MonitoringPoint.enterprise_id,
            MonitoringPoint.major_hazard_id,
            func.count().filter(MonitoringPoint.status != "ok"),
            func.count(),
        ),
        scope,
    )
    alarms = _scoped_alarms(
        select(Alarm.enterprise_id, Alarm.major_hazard_id, Alarm.level, func.count()),
        scope,
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
    ents = {
        e.id: e
        for e in session.scalars(
            select(Enterprise).where(Enterprise.id.in_(sorted(enterprise_ids)))
        )
    }
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


# --- console helpers ---------------------------------------------------------------------------
# Read-only queries the console pages need beyond the API's: the alarm board's figures and the
# live stream's "which alarms changed since".


def board_counts(
    session: Session, scope: Scope, *, enterprise_id: int | None = None
) -> dict[str, int]:
    """The board's figures in scope: alarms not closed by level (``level1``, ``level2``),
    ``unacknowledged``, ``escalated`` (已上报值班, not closed), ``active`` (not yet ended);
    points ``offline`` and ``fault`` of ``points``."""
    not_closed = Alarm.state != AlarmStateName.CLOSED.value
    alarms = _scoped_alarms(
        select(
            func.count().filter(not_closed, Alarm.level == 1),
            func.count().filter(not_closed, Alarm.level != 1),
            func.count().filter(Alarm.state == AlarmStateName.RAISED.value),
            func.count().filter(not_closed, Alarm.escalated_at.isnot(None)),
            func.count().filter(not_closed, Alarm.ended_at.is_(None)),
        ),
        scope,
    )
    points = _scoped_points(
        select(
            func.count().filter(MonitoringPoint.status == "offline"),
            func.count().filter(MonitoringPoint.status == "fault"),
            func.count(),
        ),
        scope,
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
    stmt = _scoped_alarms(select(Alarm), scope).where(Alarm.uid.in_(changed))
    return list(
        session.scalars(stmt.order_by(Alarm.raised_at.desc(), Alarm.id.desc()).limit(limit))
    )
