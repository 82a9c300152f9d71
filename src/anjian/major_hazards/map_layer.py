"""The major hazard sources layer of the one map (一张图): the sources in scope that are major
(一级 … 四级), at their enterprise's place (a source has no coordinates of its own), with the
register's filters (division, grade, filing state)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Select, String, cast
from sqlalchemy.orm import Session

from anjian.core.map_features import Layer, choice
from anjian.core.scope import Scope, division_filter
from anjian.enterprises.models import Enterprise
from anjian.major_hazards.models import MajorHazardSource
from anjian.major_hazards.rules import GRADE_LABELS
from anjian.major_hazards.schemas import FILING_STATES
from anjian.web.colours import by_grade

FILTERS = ("division", "grade", "filing_state")


def _rows(session: Session, scope: Scope, params: Mapping[str, str]) -> Select[Any]:
    stmt = scope.select(
        MajorHazardSource,
        MajorHazardSource.id.label("id"),
        MajorHazardSource.name.label("name"),
        Enterprise.lng.label("lng"),
        Enterprise.lat.label("lat"),
        cast(MajorHazardSource.grade, String).label("kind"),
        Enterprise.name.label("enterprise"),
        MajorHazardSource.filing_state.label("filing_state"),
    ).join(Enterprise, Enterprise.id == MajorHazardSource.enterprise_id)
    stmt = scope.restrict(stmt, Enterprise).where(
        MajorHazardSource.is_major.is_(True),
        MajorHazardSource.grade.isnot(None),
        Enterprise.lng.isnot(None),
        Enterprise.lat.isnot(None),
    )
    if params.get("division"):
        stmt = stmt.where(division_filter(MajorHazardSource.division_code, params["division"]))
    if grade := choice(params, "grade", GRADE_LABELS, "重大危险源等级"):
        stmt = stmt.where(MajorHazardSource.grade == int(grade))
    if filing := choice(params, "filing_state", FILING_STATES, "备案状态"):
        stmt = stmt.where(MajorHazardSource.filing_state == filing)
    return stmt


LAYER = Layer(
    name="major_hazards",
    label="重大危险源",
    rows=_rows,
    kinds={str(grade): label for grade, label in GRADE_LABELS.items()},
    colours=by_grade(),
    href="/major-hazards/{id}",
    filters=FILTERS,
    labels={"filing_state": FILING_STATES},
    details=(("企业", "enterprise"), ("备案", "filing_state_label")),
)
