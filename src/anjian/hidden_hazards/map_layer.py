"""The hidden hazards layer of the one map (一张图): the hazards in scope not written off yet
(待登记 … 待验收) by grade (重大 red, 一般 grey, as the ledger marks them), at their
enterprise's place, with the ledger's filters (division, grade, state, overdue)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Select, func
from sqlalchemy.orm import Session

from anjian.core.map_features import Layer, choice
from anjian.core.scope import Scope, division_filter
from anjian.enterprises.models import Enterprise
from anjian.hidden_hazards.models import HiddenHazard
from anjian.hidden_hazards.rules import GRADES, STATE_LABELS, HazardGrade, HazardState
from anjian.web.colours import FOUR_COLOURS, UNGRADED

FILTERS = ("division", "grade", "state", "overdue")
OPEN_STATES = {s.value: label for s, label in STATE_LABELS.items() if s != HazardState.CLOSED}
OVERDUE = {"true": "逾期", "false": "未逾期"}


def _filtered(stmt: Select[Any], params: Mapping[str, str]) -> Select[Any]:
    """``stmt`` (of hidden hazards) restricted to the open ones matching the filters."""
    stmt = stmt.where(HiddenHazard.state.in_(OPEN_STATES))
    if params.get("division"):
        stmt = stmt.where(division_filter(HiddenHazard.division_code, params["division"]))
    if grade := choice(params, "grade", GRADES, "隐患等级"):
        stmt = stmt.where(HiddenHazard.grade == grade)
    if state := choice(params, "state", OPEN_STATES, "隐患状态"):
        stmt = stmt.where(HiddenHazard.state == state)
    if overdue := choice(params, "overdue", OVERDUE, "逾期筛选"):
        stmt = stmt.where(HiddenHazard.overdue.is_(overdue == "true"))
    return stmt


def _located(stmt: Select[Any]) -> Select[Any]:
    """``stmt`` (joined to the enterprises) kept to enterprises with a position."""
    return stmt.where(Enterprise.lng.isnot(None), Enterprise.lat.isnot(None))


def _rows(session: Session, scope: Scope, params: Mapping[str, str]) -> Select[Any]:
    stmt = scope.select(
        HiddenHazard,
        HiddenHazard.id.label("id"),
        HiddenHazard.number.label("name"),
        Enterprise.lng.label("lng"),
        Enterprise.lat.label("lat"),
        HiddenHazard.grade.label("kind"),
        Enterprise.name.label("enterprise"),
        HiddenHazard.place.label("place"),
        HiddenHazard.state.label("state"),
        HiddenHazard.deadline.label("deadline"),
        HiddenHazard.overdue.label("overdue"),
    ).join(Enterprise, Enterprise.id == HiddenHazard.enterprise_id)
    return _located(scope.restrict(_filtered(stmt, params), Enterprise))


def _places(session: Session, scope: Scope, params: Mapping[str, str]) -> Select[Any]:
    # Counted per enterprise and grade first (an index-only scan of the open hazards' partial
    # index on PostgreSQL), then placed: at a national view, 200,000 open hazards become the
    # tens of thousands of enterprises that have them before the join.
    kind = HiddenHazard.grade.label("kind")
    counted = (
        _filtered(
            scope.select(HiddenHazard, HiddenHazard.enterprise_id, kind, func.count().label("n")),
            params,
        )
        .group_by(HiddenHazard.enterprise_id, HiddenHazard.grade)
        .subquery()
    )
    stmt = scope.select(
        Enterprise,
        Enterprise.lng.label("lng"),
        Enterprise.lat.label("lat"),
        counted.c.kind,
        counted.c.n,
    ).join(counted, counted.c.enterprise_id == Enterprise.id)
    return _located(stmt)


LAYER = Layer(
    name="hidden_hazards",
    label="未销号隐患",
    rows=_rows,
    kinds={grade.value: label for grade, label in GRADES.items()},
    colours={HazardGrade.MAJOR.value: FOUR_COLOURS[0], HazardGrade.GENERAL.value: UNGRADED},
    href="/hazards/{id}",
    filters=FILTERS,
    places=_places,
    labels={"state": OPEN_STATES},
    details=(
        ("企业", "enterprise"),
        ("部位", "place"),
        ("状态", "state_label"),
        ("整改期限", "deadline"),
    ),
)
