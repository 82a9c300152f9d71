"""The risk layer of the one map (一张图): the located enterprises in scope with graded risk
points, each coloured by its worst risk point (重大 red, 较大 orange, 一般 yellow, 低 blue) — the
level kept on the enterprise by :mod:`anjian.risk.levels` whenever its risk points change, so a
box of 100,000 enterprises is read from the enterprises' covering index alone — with filters
(division, supervision category, level)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Select
from sqlalchemy.orm import Session

from anjian.core.map_features import Layer, choice
from anjian.core.scope import Scope
from anjian.enterprises.models import Enterprise
from anjian.enterprises.rules import SUPERVISION_CATEGORIES
from anjian.enterprises.service import filtered
from anjian.risk.labels import LEVEL_HEX
from anjian.risk.rules import LEVEL_LABELS, LEVELS_WORST_FIRST

FILTERS = ("division", "category", "level")


def _rows(session: Session, scope: Scope, params: Mapping[str, str]) -> Select[Any]:
    stmt = scope.select(
        Enterprise,
        Enterprise.id.label("id"),
        Enterprise.name.label("name"),
        Enterprise.lng.label("lng"),
        Enterprise.lat.label("lat"),
        Enterprise.risk_level.label("kind"),
        Enterprise.risk_points.label("points"),
    ).where(
        Enterprise.risk_level.isnot(None), Enterprise.lng.isnot(None), Enterprise.lat.isnot(None)
    )
    if level := choice(params, "level", LEVEL_HEX, "风险等级"):
        stmt = stmt.where(Enterprise.risk_level == level)
    choice(params, "category", SUPERVISION_CATEGORIES, "监管类别")
    # the enterprise list's own filters: the layer's rows are enterprises
    return filtered(stmt, **{k: params[k] for k in ("division", "category") if params.get(k)})


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
