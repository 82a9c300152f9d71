"""The alarms layer of the one map (一张图): the alarms in scope not closed yet (待确认, 已确认,
已处置) by level (严重 red, 预警 orange), at their enterprise's place, with the alarm list's
filters (division, level, state, kind). An enterprise user sees its own."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Select, String, cast
from sqlalchemy.orm import Session

from anjian.core.map_features import Layer, choice
from anjian.core.scope import Scope, division_filter
from anjian.enterprises.models import Enterprise
from anjian.monitoring.models import Alarm, MonitoringPoint
from anjian.monitoring.pages.labels import KIND_LABELS
from anjian.monitoring.rules import LEVEL_LABELS, AlarmStateName
from anjian.web.colours import by_grade

FILTERS = ("division", "level", "state", "kind")
OPEN_STATES = {s.value: s.label for s in AlarmStateName if s != AlarmStateName.CLOSED}


def _rows(session: Session, scope: Scope, params: Mapping[str, str]) -> Select[Any]:
    stmt = (
        scope.select(
            Alarm,
            Alarm.id.label("id"),
            Enterprise.name.label("name"),
            Enterprise.lng.label("lng"),
            Enterprise.lat.label("lat"),
            cast(Alarm.level, String).label("kind"),
            MonitoringPoint.name.label("point"),
            Alarm.kind.label("alarm_kind"),
            Alarm.state.label("state"),
            Alarm.value.label("value"),
            Alarm.raised_at.label("raised_at"),
        )
        .join(Enterprise, Enterprise.id == Alarm.enterprise_id)
        .outerjoin(MonitoringPoint, MonitoringPoint.id == Alarm.point_id)
    )
    stmt = scope.restrict(stmt, Enterprise).where(
        Alarm.state.in_(OPEN_STATES), Enterprise.lng.isnot(None), Enterprise.lat.isnot(None)
    )
    if params.get("division"):
        stmt = stmt.where(division_filter(Alarm.division_code, params["division"]))
    if level := choice(params, "level", LEVEL_LABELS, "报警级别"):
        stmt = stmt.where(Alarm.level == int(level))
    if state := choice(params, "state", OPEN_STATES, "报警状态"):
        stmt = stmt.where(Alarm.state == state)
    if kind := choice(params, "kind", KIND_LABELS, "报警类别"):
        stmt = stmt.where(Alarm.kind == kind)
    return stmt


LAYER = Layer(
    name="alarms",
    label="实时报警",
    rows=_rows,
    kinds={str(level): label for level, label in LEVEL_LABELS.items()},
    colours=by_grade(len(LEVEL_LABELS)),
    href="/monitoring/alarms/{id}",
    filters=FILTERS,
    labels={"alarm_kind": KIND_LABELS, "state": OPEN_STATES},
    details=(
        ("监测点", "point"),
        ("类别", "alarm_kind_label"),
        ("状态", "state_label"),
        ("触发值", "value"),
        ("报警时间", "raised_at"),
    ),
)
