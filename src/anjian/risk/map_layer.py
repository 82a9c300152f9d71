"""The risk layer of the one map (一张图): the located enterprises in scope with risk points,
each coloured by its worst risk point (重大 red, 较大 orange, 一般 yellow, 低 blue) — the
enterprise's level of :func:`anjian.risk.service.enterprise_levels`, computed by the database
in the same query (a GROUP BY per enterprise, no loop), so it holds at 100,000 enterprises —
with filters (division, supervision category, level)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Select, case, func
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


def _rows(session: Session, scope: Scope, params: Mapping[str, str]) -> Select[Any]:
    # The risk points are ranked per enterprise first (an index-only scan of their enterprise
    # index on PostgreSQL), then joined to the enterprises: 500,000 points become the
    # enterprises that have them before the join, not after.
    worst_rank = func.max(_RANK)
    ranked = scope.select(
        RiskPoint,
        RiskPoint.enterprise_id,
        worst_rank.label("rank"),
        func.count().label("points"),
    ).group_by(RiskPoint.enterprise_id)
    if level := choice(params, "level", LEVEL_HEX, "风险等级"):
        ranked = ranked.having(
            worst_rank == next(lv.rank for lv in LEVELS_WORST_FIRST if lv == level)
        )
    worst = ranked.having(worst_rank > 0).subquery()
    kind = case(*[(worst.c.rank == level.rank, level.value) for level in LEVELS_WORST_FIRST])
    stmt = (
        scope.select(
            Enterprise,
            Enterprise.id.label("id"),
            Enterprise.name.label("name"),
            Enterprise.lng.label("lng"),
            Enterprise.lat.label("lat"),
            kind.label("kind"),
            worst.c.points.label("points"),
        )
        .join(worst, worst.c.enterprise_id == Enterprise.id)
        .where(Enterprise.lng.isnot(None), Enterprise.lat.isnot(None))
    )
    if params.get("division"):
        stmt = stmt.where(division_filter(Enterprise.division_code, params["division"]))
    if category := choice(params, "category", SUPERVISION_CATEGORIES, "监管类别"):
        stmt = stmt.where(Enterprise.supervision_category == category)
    return stmt


LAYER = Layer(
    name="risk",
    label="企业风险等级",
    rows=_rows,
    kinds={level.value: LEVEL_LABELS[level] for level in LEVELS_WORST_FIRST},
    colours=LEVEL_HEX,
    href="/risk/enterprise/{id}",
    filters=FILTERS,
    details=(("风险点", "points"),),
)
