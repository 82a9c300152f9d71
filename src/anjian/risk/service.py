"""Risk point use cases (风险点, 风险分级管控): the register, the four-colour summary and map.

The only place that writes risk points. The score and the level are computed here from the
factors, with the rules and the node's configured conventions, never taken from the client.
Every write stamps a new version into the outbox and appends an audit record in the caller's
transaction; nothing here commits. Every read goes through the user's scope
(``scope.select``/``scope.one``), and a record outside the scope is reported as not found."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, case, func, or_
from sqlalchemy.orm import Session

from anjian.config import get_settings
from anjian.core.audit.service import Actor, audit_record
from anjian.core.divisions.rules import prefix_of
from anjian.core.divisions.service import children_with_zeros
from anjian.core.errors import Invalid
from anjian.core.paging import paged
from anjian.core.scope import Scope, breakdown, division_filter
from anjian.core.sync.outbox import ensure_writable_here, record_change
from anjian.db import utcnow
from anjian.enterprises.service import enterprise_in_scope, enterprise_names, located
from anjian.risk.levels import refresh_levels
from anjian.risk.models import RiskPoint
from anjian.risk.rules import (
    LEVELS_WORST_FIRST,
    Assessment,
    RiskLevel,
    assess_lec,
    assess_ls,
    worst,
)
from anjian.risk.schemas import (
    KINDS,
    LevelCounts,
    RiskMap,
    RiskMapEnterprise,
    RiskMapPoint,
    RiskPointCreate,
    RiskPointRead,
    RiskPointUpdate,
    RiskSummary,
)
from anjian.risk.sync import RISK_POINT_ENTITY

MAP_LIMIT = 20_000
# The factors each method uses, in the order they are reported missing.
FACTORS: dict[str, tuple[str, ...]] = {"LEC": ("L", "E", "C"), "LS": ("L", "S")}
_COLUMNS = {"L": "factor_l", "E": "factor_e", "C": "factor_c", "S": "factor_s"}
_ASSESSMENT_FIELDS = {"method", *_COLUMNS}


def assess(method: str, factors: dict[str, float | None]) -> Assessment:
    """Grade ``factors`` by ``method`` under the node's convention; a missing factor, or one
    the method does not use, is refused naming it (as is a value outside its table)."""
    used = FACTORS[method]
    for name in used:
        if factors.get(name) is None:
            raise Invalid(f"{method} 法须填写 {name} ({name} is required for {method})", field=name)
    for name in _COLUMNS:
        if name not in used and factors.get(name) is not None:
            raise Invalid(f"{method} 法不使用 {name} ({name} is not used by {method})", field=name)
    settings = get_settings()
    if method == "LEC":
        return assess_lec(
            factors["L"],  # type: ignore[arg-type]
            factors["E"],  # type: ignore[arg-type]
            factors["C"],  # type: ignore[arg-type]
            settings.risk_lec_convention,
        )
    return assess_ls(factors["L"], factors["S"], settings.risk_ls_convention)  # type: ignore[arg-type]


def _apply_assessment(
    pt: RiskPoint, method: str, factors: dict[str, float | None], a: Assessment
) -> None:
    pt.method = method
    for name, column in _COLUMNS.items():
        setattr(pt, column, factors.get(name) if name in FACTORS[method] else None)
    pt.score = float(a.score)
    pt.convention = a.convention
    pt.level = str(a.level)
    pt.assessed_at = utcnow()


def _audit(session: Session, actor: Actor, action: str, pt: RiskPoint, **detail: Any) -> None:
    audit_record(
        session,
        actor,
        f"risk_point.{action}",
        "risk_point",
        pt,
        detail={"name": pt.name, "enterprise_id": pt.enterprise_id, **detail},
    )


def create_point(session: Session, actor: Actor, scope: Scope, data: RiskPointCreate) -> RiskPoint:
    """Register a risk point of an enterprise in scope, graded on the server (audited, synced)."""
    ent = enterprise_in_scope(session, scope, data.enterprise_id, field="enterprise_id")
    factors = {name: getattr(data, name) for name in _COLUMNS}
    a = assess(data.method, factors)
    pt = RiskPoint(
        enterprise_id=ent.id,
        division_code=ent.division_code,
        supervision_category=ent.supervision_category,
        name=data.name,
        kind=data.kind,
        location=data.location,
        lng=data.lng,
        lat=data.lat,
        hazards=data.hazards,
        control_measures=data.control_measures,
        control_level=data.control_level,
        responsible=data.responsible,
        created_at=utcnow(),
        origin_node="",
    )
    _apply_assessment(pt, data.method, factors, a)
    record_change(session, pt, entity=RISK_POINT_ENTITY)
    refresh_levels(session, [pt.enterprise_id])
    _audit(
        session,
        actor,
        "create",
        pt,
        method=pt.method,
        score=a.score,
        level=pt.level,
        convention=pt.convention,
    )
    return pt


def get_point(session: Session, scope: Scope, point_id: int) -> RiskPoint:
    """One risk point in scope; absent and out of scope are the same 404."""
    return scope.one(session, RiskPoint, point_id)


def update_point(
    session: Session, actor: Actor, scope: Scope, point_id: int, data: RiskPointUpdate
) -> RiskPoint:
    """Change the fields sent; a new method or factor grades the point again (audited by
    field name, synced). A no-op change writes nothing."""
    pt = get_point(session, scope, point_id)
    ensure_writable_here(pt)
    changes = data.changes()
    changed = [
        name
        for name, value in changes.items()
        if name not in _ASSESSMENT_FIELDS and getattr(pt, name) != value
    ]
    detail: dict[str, Any] = {}
    assessment: tuple[str, dict[str, float | None], Assessment] | None = None
    if _ASSESSMENT_FIELDS & set(changes):
        method = changes.get("method", pt.method)
        if method == pt.method:
            factors = {name: getattr(pt, column) for name, column in _COLUMNS.items()}
            factors.update({k: v for k, v in changes.items() if k in _COLUMNS})
        else:  # another method: only the factors sent count
            factors = {k: v for k, v in changes.items() if k in _COLUMNS}
        a = assess(method, factors)
        new = tuple(factors.get(n) if n in FACTORS[method] else None for n in _COLUMNS)
        old = tuple(getattr(pt, column) for column in _COLUMNS.values())
        if (method, new, float(a.score), a.level.value, a.convention) != (
            pt.method,
            old,
            pt.score,
            pt.level,
            pt.convention,
        ):
            assessment = (method, factors, a)
            changed.append("assessment")
            detail = {
                "method": method,
                "score": a.score,
                "level": a.level.value,
                "level_before": pt.level,
                "convention": a.convention,
            }
    if not changed:
        return pt
    for name in changed:
        if name != "assessment":
            setattr(pt, name, changes[name])
    if assessment is not None:
        _apply_assessment(pt, *assessment)
    record_change(session, pt, entity=RISK_POINT_ENTITY)
    refresh_levels(session, [pt.enterprise_id])
    _audit(session, actor, "update", pt, fields=sorted(changed), **detail)
    return pt


def delete_point(session: Session, actor: Actor, scope: Scope, point_id: int) -> RiskPoint:
    """Remove a risk point: a tombstone, so the deletion travels to the other nodes."""
    pt = get_point(session, scope, point_id)
    ensure_writable_here(pt)
    pt.deleted = True
    record_change(session, pt, entity=RISK_POINT_ENTITY)
    refresh_levels(session, [pt.enterprise_id])
    _audit(session, actor, "delete", pt, level=pt.level)
    return pt


def _level(value: str | None) -> RiskLevel | None:
    if not value:
        return None
    try:
        return RiskLevel(value)
    except ValueError:
        choices = ", ".join(LEVELS_WORST_FIRST)
        raise Invalid(
            f"风险等级无效: {value} (level must be one of {choices})", field="level"
        ) from None


_RANK = case(
    *[(RiskPoint.level == level.value, level.rank) for level in LEVELS_WORST_FIRST], else_=0
)


def list_points(
    session: Session,
    scope: Scope,
    *,
    enterprise_id: int | None = None,
    division: str | None = None,
    level: str | None = None,
    kind: str | None = None,
    q: str | None = None,
    limit: int | None = 50,
    offset: int = 0,
) -> tuple[list[RiskPoint], int]:
    """Risk points in scope matching the filters (``q``: name, location or hazards contain),
    worst level first, with the number of matches. ``limit=None``: all."""
    stmt = scope.select(RiskPoint)
    if enterprise_id is not None:
        stmt = stmt.where(RiskPoint.enterprise_id == enterprise_id)
    if division:
        stmt = stmt.where(division_filter(RiskPoint.division_code, division))
    wanted = _level(level)
    if wanted is not None:
        stmt = stmt.where(RiskPoint.level == wanted.value)
    if kind:
        if kind not in KINDS:
            raise Invalid(
                f"风险点类型无效: {kind} (kind must be area, facility or job)", field="kind"
            )
        stmt = stmt.where(RiskPoint.kind == kind)
    if q and q.strip():
        term = q.strip()
        stmt = stmt.where(
            or_(
                RiskPoint.name.contains(term, autoescape=True),
                RiskPoint.location.contains(term, autoescape=True),
                RiskPoint.hazards.contains(term, autoescape=True),
            )
        )
    order = (RiskPoint.enterprise_id, _RANK.desc(), RiskPoint.name, RiskPoint.id)
    return paged(session, stmt, order, limit=limit, offset=offset)


def present(session: Session, points: list[RiskPoint]) -> list[RiskPointRead]:
    """The user-facing views of ``points``, with their enterprises' names."""
    names = enterprise_names(session, (p.enterprise_id for p in points))
    return [RiskPointRead.of(p, enterprise_name=names.get(p.enterprise_id, "")) for p in points]


def enterprise_levels(
    session: Session, scope: Scope, enterprise_ids: Iterable[int]
) -> dict[int, RiskLevel]:
    """The worst level of each enterprise's risk points in scope (an enterprise without risk
    points is absent from the answer)."""
    wanted = sorted(set(enterprise_ids))
    if not wanted:
        return {}
    return _worst_levels(session, scope, RiskPoint.enterprise_id.in_(wanted))


def division_levels(session: Session, scope: Scope, division: str) -> dict[int, RiskLevel]:
    """:func:`enterprise_levels` of every enterprise in scope in ``division`` or below it."""
    return _worst_levels(session, scope, division_filter(RiskPoint.division_code, division))


def _worst_levels(
    session: Session, scope: Scope, condition: ColumnElement[bool]
) -> dict[int, RiskLevel]:
    rows = session.execute(
        scope.select(RiskPoint, RiskPoint.enterprise_id, RiskPoint.level)
        .where(condition)
        .group_by(RiskPoint.enterprise_id, RiskPoint.level)
    )
    grouped: dict[int, list[str]] = {}
    for ent_id, level in rows:
        grouped.setdefault(ent_id, []).append(level)
    out: dict[int, RiskLevel] = {}
    for ent_id, levels in grouped.items():
        level = worst(levels)
        if level is not None:
            out[ent_id] = level
    return out


_LEVEL_CODES = frozenset(level.value for level in LEVELS_WORST_FIRST)


def _count(counts: LevelCounts, level: str, n: int = 1) -> None:
    if level in _LEVEL_CODES:
        setattr(counts, level, getattr(counts, level) + n)
        counts.total += n


def summary(session: Session, scope: Scope, division: str | None = None) -> list[RiskSummary]:
    """Risk points by level and enterprises by their worst level, one row per division one
    tier below ``division`` (default: the scope's own jurisdiction) — every one of them, a
    division without risk points as zeros — and a total row first."""
    root, _width = breakdown(scope, division)
    prefix = prefix_of(root)
    base = scope.select(
        RiskPoint, RiskPoint.division_code, RiskPoint.enterprise_id, RiskPoint.level, func.count()
    )
    if prefix:
        base = base.where(division_filter(RiskPoint.division_code, root))
    rows = session.execute(
        base.group_by(RiskPoint.division_code, RiskPoint.enterprise_id, RiskPoint.level)
    ).all()
    children = children_with_zeros(session, root, scope.overlaps)
    points: dict[str, LevelCounts] = {}
    levels_of: dict[tuple[str, int], list[str]] = {}
    for code, ent_id, level, n in rows:
        key = children.child_of(str(code))
        _count(points.setdefault(key, LevelCounts()), level, int(n))
        levels_of.setdefault((key, ent_id), []).append(level)
    enterprises: dict[str, LevelCounts] = {}
    for (key, _ent_id), levels in levels_of.items():
        level = worst(levels)
        if level is not None:
            _count(enterprises.setdefault(key, LevelCounts()), level.value)
    total_points, total_enterprises = LevelCounts(), LevelCounts()
    out: list[RiskSummary] = []
    for code, name in children.rows(session, points):
        p, e = points.get(code, LevelCounts()), enterprises.get(code, LevelCounts())
        for total, part in ((total_points, p), (total_enterprises, e)):
            for field_name in (*(lv.value for lv in LEVELS_WORST_FIRST), "total"):
                setattr(total, field_name, getattr(total, field_name) + getattr(part, field_name))
        out.append(RiskSummary(division_code=code, division_name=name, points=p, enterprises=e))
    head = RiskSummary(
        division_code=root,
        division_name=children.names.get(root, "合计") + "（合计）",
        points=total_points,
        enterprises=total_enterprises,
    )
    return [head, *out]


def risk_map(
    session: Session, scope: Scope, enterprise_id: int | None = None, *, limit: int = MAP_LIMIT
) -> RiskMap:
    """The four-colour map: the located risk points in scope (of one enterprise if given) and
    the located enterprises at their worst level (just that one when an enterprise is given)."""
    stmt = scope.select(RiskPoint).where(RiskPoint.lng.isnot(None), RiskPoint.lat.isnot(None))
    if enterprise_id is not None:
        enterprise_in_scope(session, scope, enterprise_id, field="enterprise_id")
        stmt = stmt.where(RiskPoint.enterprise_id == enterprise_id)
    pts = list(session.scalars(stmt.order_by(RiskPoint.id).limit(limit)))
    ents = located(session, scope, enterprise_id, limit=limit)
    names = {e.id: e.name for e in ents} | enterprise_names(
        session, {p.enterprise_id for p in pts} - {e.id for e in ents}
    )
    levels = enterprise_levels(session, scope, [e.id for e in ents])
    return RiskMap(
        points=[
            RiskMapPoint(
                id=p.id,
                name=p.name,
                kind=p.kind,
                kind_label=KINDS.get(p.kind, p.kind),
                enterprise_id=p.enterprise_id,
                enterprise_name=names.get(p.enterprise_id, ""),
                lng=p.lng,  # type: ignore[arg-type]
                lat=p.lat,  # type: ignore[arg-type]
                level=RiskLevel(p.level),
                level_label=RiskLevel(p.level).label,
                colour=RiskLevel(p.level).colour,
            )
            for p in pts
        ],
        enterprises=[
            RiskMapEnterprise(
                id=e.id,
                name=e.name,
                lng=e.lng,  # type: ignore[arg-type]
                lat=e.lat,  # type: ignore[arg-type]
                level=levels.get(e.id),
                level_label=levels[e.id].label if e.id in levels else "未评估",
                colour=levels[e.id].colour if e.id in levels else None,
            )
            for e in ents
        ],
    )
