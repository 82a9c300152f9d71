"""The risk layer of the one map (一张图): the located enterprises in scope with risk points,
each coloured by its worst risk point (重大 red, 较大 orange, 一般 yellow, 低 blue) — the
enterprise's level of :func:`anjian.risk.service.enterprise_levels`, computed by the database
in the same query (no loop), so it holds at 100,000 enterprises — with filters (division,
supervision category, level)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Select, case, func, literal, true
from sqlalchemy.orm import Session

from anjian.core.map_features import Layer, choice
from anjian.core.scope import Scope, division_filter
from anjian.enterprises.models import Enterprise
from anjian.enterprises.rules import SUPERVISION_CATEGORIES
from anjian.risk.labels import LEVEL_HEX
from anjian.risk.models import RiskPoint
from anjian.risk.rules import LEVEL_LABELS, LEVELS_WORST_FIRST

FILTERS = ("division", "category", "level")
# A level's rank (4 for 重大 … 1 for 低): the worst level of a group is its highest rank.
_RANK = case(
    *[(RiskPoint.level == level.value, level.rank) for level in LEVELS_WORST_FIRST], else_=0
)


def _level_rank(params: Mapping[str, str]) -> int | None:
    level = choice(params, "level", LEVEL_HEX, "风险等级")
    return None if level is None else next(lv.rank for lv in LEVELS_WORST_FIRST if lv == level)


def _kind(rank: Any) -> Any:
    return case(*[(rank == level.rank, level.value) for level in LEVELS_WORST_FIRST])


def _enterprises(scope: Scope, params: Mapping[str, str], *columns: Any) -> Select[Any]:
    stmt = scope.select(Enterprise, *columns).where(
        Enterprise.lng.isnot(None), Enterprise.lat.isnot(None)
    )
    if params.get("division"):
        stmt = stmt.where(division_filter(Enterprise.division_code, params["division"]))
    if category := choice(params, "category", SUPERVISION_CATEGORIES, "监管类别"):
        stmt = stmt.where(Enterprise.supervision_category == category)
    return stmt


def _worst(scope: Scope, params: Mapping[str, str]) -> Any:
    """The enterprises' worst rank and point count, grouped over all their risk points (an
    index-only scan of their enterprise index on PostgreSQL): 500,000 points become the
    enterprises that have them before the join, not after."""
    worst_rank = func.max(_RANK)
    ranked = scope.select(
        RiskPoint, RiskPoint.enterprise_id, worst_rank.label("rank"), func.count().label("points")
    ).group_by(RiskPoint.enterprise_id)
    if (rank := _level_rank(params)) is not None:
        ranked = ranked.having(worst_rank == rank)
    return ranked.having(worst_rank > 0).subquery()


def _rows(session: Session, scope: Scope, params: Mapping[str, str]) -> Select[Any]:
    cols = (Enterprise.id.label("id"), Enterprise.name.label("name"))
    place = (Enterprise.lng.label("lng"), Enterprise.lat.label("lat"))
    if session.get_bind().dialect.name != "postgresql":
        # SQLite (a small node) has no LATERAL: the grouped join
        worst = _worst(scope, params)
        return _enterprises(
            scope, params, *cols, *place, _kind(worst.c.rank).label("kind"), worst.c.points
        ).join(worst, worst.c.enterprise_id == Enterprise.id)
    # The enterprises in the box first (their covering index), then each one's risk points
    # (an index-only probe): a county's box costs its own enterprises, not the nation's
    # 500,000 points; the answer's first 2,001 rows stop the scan.
    probe = (
        scope.select(RiskPoint, func.max(_RANK).label("rank"), func.count().label("points"))
        .where(RiskPoint.enterprise_id == Enterprise.id)
        .lateral("worst")
    )
    stmt = (
        _enterprises(scope, params, *cols, *place, _kind(probe.c.rank).label("kind"))
        .add_columns(probe.c.points)
        .join(probe, true())
        .where(probe.c.rank > 0)
    )
    if (rank := _level_rank(params)) is not None:
        stmt = stmt.where(probe.c.rank == rank)
    return stmt


def _places(session: Session, scope: Scope, params: Mapping[str, str]) -> Select[Any]:
    # Clusters are asked only when more than 2,000 fall in the box: then the grouped join,
    # which costs the same for any box, beats a probe per enterprise.
    worst = _worst(scope, params)
    return _enterprises(
        scope,
        params,
        Enterprise.lng.label("lng"),
        Enterprise.lat.label("lat"),
        _kind(worst.c.rank).label("kind"),
        literal(1).label("n"),
    ).join(worst, worst.c.enterprise_id == Enterprise.id)


LAYER = Layer(
    name="risk",
    label="企业风险等级",
    rows=_rows,
    kinds={level.value: LEVEL_LABELS[level] for level in LEVELS_WORST_FIRST},
    colours=LEVEL_HEX,
    href="/risk/enterprise/{id}",
    filters=FILTERS,
    places=_places,
    details=(("风险点", "points"),),
)
