"""Monitoring points (监测点): registered by hand or from a preset (阈值预设), changed, listed
and shown with their live value. The only place that writes a point's set points; every write
stamps a new version into the outbox and appends an audit record in the caller's transaction,
nothing here commits. A point outside the scope is reported as not found. The Excel import
(:mod:`anjian.monitoring.excel`) registers each row through :func:`create_point`."""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from anjian.core.audit.service import Actor, audit_record
from anjian.core.errors import Conflict, Invalid
from anjian.core.paging import paged
from anjian.core.scope import Scope, division_filter, unscoped
from anjian.core.sync.outbox import ensure_writable_here, record_change
from anjian.db import utcnow
from anjian.enterprises.service import enterprise_in_scope, enterprise_names
from anjian.major_hazards.service import get_source
from anjian.monitoring.models import POINT_ENTITY, MonitoringPoint, PointLive
from anjian.monitoring.presets import PRESETS
from anjian.monitoring.rules import KINDS, STATUSES, PointStatus, Thresholds, threshold_problem
from anjian.monitoring.schemas import PointCreate, PointRead, PointUpdate

_SET_POINTS = ("ll", "l", "h", "hh", "dead_band", "delay_s")


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
    audit_record(
        session,
        actor,
        f"monitoring_point.{action}",
        "monitoring_point",
        p,
        detail={"code": p.code, "enterprise_id": p.enterprise_id, **detail},
    )


@unscoped("a point code is unique in its enterprise, over every point it ever had")
def _code_taken(session: Session, enterprise_id: int, code: str) -> bool:
    return (
        session.scalar(
            select(MonitoringPoint.id).where(
                MonitoringPoint.enterprise_id == enterprise_id, MonitoringPoint.code == code
            )
        )
        is not None
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
    if _code_taken(session, ent.id, data.code):
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
        status=PointStatus.OK.value,
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
    return scope.one(session, MonitoringPoint, point_id)


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
    stmt = scope.select(MonitoringPoint)
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
