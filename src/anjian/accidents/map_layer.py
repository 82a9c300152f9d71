"""The accidents layer of the one map (一张图): the accidents (and 较大涉险事故) in scope that
happened in one year — this year unless ``year`` says another, in Beijing time — by grade
(特别重大 red … 一般 blue), at their own place or else their enterprise's, with the list's
filters (division, grade, type, report kind)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import Select, String, and_, case, cast
from sqlalchemy.orm import Session

from anjian.accidents.models import Accident
from anjian.accidents.rules import ACCIDENT_TYPES, GRADE_LABELS, KINDS
from anjian.accidents.statistics import MIN_YEAR, utc_bounds
from anjian.core.clock import today_in_china
from anjian.core.errors import Invalid
from anjian.core.map_features import Layer, choice
from anjian.core.scope import Scope, division_filter
from anjian.enterprises.models import Enterprise
from anjian.web.colours import by_grade

FILTERS = ("year", "division", "grade", "accident_type", "report_kind")


def _year(params: Mapping[str, str]) -> int:
    this_year = today_in_china().year
    text = params.get("year", "")
    if not text:
        return this_year
    if not text.isdigit() or not MIN_YEAR <= int(text) <= this_year:
        raise Invalid(
            f"年份应为 {MIN_YEAR}–{this_year}: {text[:20]} (year must be {MIN_YEAR} to "
            f"{this_year})",
            field="year",
        )
    return int(text)


def _rows(session: Session, scope: Scope, params: Mapping[str, str]) -> Select[Any]:
    year = _year(params)
    own = and_(Accident.lng.isnot(None), Accident.lat.isnot(None))
    lng = case((own, Accident.lng), else_=Enterprise.lng)
    lat = case((own, Accident.lat), else_=Enterprise.lat)
    start, end = utc_bounds(date(year, 1, 1), date(year, 12, 31))
    stmt = scope.select(
        Accident,
        Accident.id.label("id"),
        case((Accident.unit_name != "", Accident.unit_name), else_=Accident.place).label("name"),
        lng.label("lng"),
        lat.label("lat"),
        cast(Accident.grade, String).label("kind"),
        Accident.occurred_at.label("occurred_at"),
        Accident.place.label("place"),
        Accident.accident_type.label("accident_type"),
        Accident.kind.label("report_kind"),
        Accident.deaths.label("deaths"),
    ).outerjoin(Enterprise, Enterprise.id == Accident.enterprise_id)
    # An accident's enterprise (if any) is read for its place only: the accident is in scope by
    # its own division (where it happened), even when its enterprise is registered elsewhere.
    stmt = stmt.where(
        Accident.occurred_at >= start,
        Accident.occurred_at < end,
        lng.isnot(None),
        lat.isnot(None),
    )
    if params.get("division"):
        stmt = stmt.where(division_filter(Accident.division_code, params["division"]))
    if grade := choice(params, "grade", GRADE_LABELS, "事故等级"):
        stmt = stmt.where(Accident.grade == int(grade))
    if kind := choice(params, "accident_type", ACCIDENT_TYPES, "事故类别"):
        stmt = stmt.where(Accident.accident_type == kind)
    if report := choice(params, "report_kind", KINDS, "报告类别"):
        stmt = stmt.where(Accident.kind == report)
    return stmt


LAYER = Layer(
    name="accidents",
    label="事故",
    rows=_rows,
    kinds={str(int(grade)): label for grade, label in GRADE_LABELS.items()},
    colours=by_grade(),
    href="/accidents/{id}",
    filters=FILTERS,
    labels={"accident_type": ACCIDENT_TYPES, "report_kind": KINDS},
    details=(
        ("发生时间", "occurred_at"),
        ("地点", "place"),
        ("类别", "accident_type_label"),
        ("报告", "report_kind_label"),
        ("死亡", "deaths"),
    ),
)
