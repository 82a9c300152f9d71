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
    worst_rank = func.max(_RANK)
    worst = case(*[(worst_rank == level.rank, level.value) for level in LEVELS_WORST_FIRST])
    stmt = (
        scope.select(
            Enterprise,
            Enterprise.id.label("id"),
            Enterprise.name.label("name"),
            Enterprise.lng.label("lng"),
            Enterprise.lat.label("lat"),
            worst.label("kind"),
            func.count(RiskPoint.id).label("points"),
        )
        .join(RiskPoint, RiskPoint.enterprise_id == Enterprise.id)
        .where(Enterprise.lng.isnot(None), Enterprise.lat.isnot(None))
    )
    stmt = scope.restrict(stmt, RiskPoint)
    if params.get("division"):
        stmt = stmt.where(division_filter(Enterprise.division_code, params["division"]))
    if category := choice(params, "category", SUPERVISION_CATEGORIES, "监管类别"):
        stmt = stmt.where(Enterprise.supervision_category == category)
    stmt = stmt.group_by(Enterprise.id, Enterprise.name, Enterprise.lng, Enterprise.lat)
    if level := choice(params, "level", LEVEL_HEX, "风险等级"):
        stmt = stmt.having(worst_rank == next(lv.rank for lv in LEVELS_WORST_FIRST if lv == level))
    return stmt.having(worst_rank > 0)


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
