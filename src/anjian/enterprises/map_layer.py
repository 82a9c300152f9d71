"""The enterprises layer of the one map (一张图): located enterprises in scope, by supervision
category, with the list's filters (name, division, category, status; an unknown category or
status is refused, not answered with nothing)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Select
from sqlalchemy.orm import Session

from anjian.core.map_features import Layer, choice
from anjian.core.scope import Scope
from anjian.enterprises.labels import CATEGORY_COLOURS
from anjian.enterprises.models import Enterprise
from anjian.enterprises.rules import STATUSES, SUPERVISION_CATEGORIES
from anjian.enterprises.service import filtered

FILTERS = ("q", "division", "category", "status")


def _rows(session: Session, scope: Scope, params: Mapping[str, str]) -> Select[Any]:
    choice(params, "category", SUPERVISION_CATEGORIES, "监管类别")
    choice(params, "status", STATUSES, "经营状态")
    stmt = scope.select(
        Enterprise,
        Enterprise.id.label("id"),
        Enterprise.name.label("name"),
        Enterprise.lng.label("lng"),
        Enterprise.lat.label("lat"),
        Enterprise.supervision_category.label("kind"),
        Enterprise.status.label("status"),
        Enterprise.division_code.label("division_code"),
    ).where(Enterprise.lng.isnot(None), Enterprise.lat.isnot(None))
    return filtered(stmt, **{k: params[k] for k in FILTERS if params.get(k)})


LAYER = Layer(
    name="enterprises",
    label="企业",
    rows=_rows,
    kinds=SUPERVISION_CATEGORIES,
    colours=CATEGORY_COLOURS,
    href="/enterprises/{id}",
    filters=FILTERS,
    labels={"status": STATUSES},
    details=(("类别", "kind_label"), ("状态", "status_label")),
)
