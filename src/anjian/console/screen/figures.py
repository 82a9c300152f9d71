"""The figures of the command screen (大屏), each from its domain's own summary service in the
official's scope: open alarms by level and the monitoring online rate, hidden hazards by state,
accidents this year by month beside last year's (同比), enterprises by risk colour, emergency
events in progress. One call reads them all; :func:`revision` says when they changed."""

from __future__ import annotations

import hashlib
from datetime import date

from pydantic import BaseModel
from sqlalchemy.orm import Session

from anjian.accidents.statistics import statistics as accident_statistics
from anjian.core.clock import today_in_china
from anjian.core.divisions.service import division_names
from anjian.core.scope import Scope
from anjian.emergency import events as emergency_events
from anjian.hidden_hazards import service as hazards
from anjian.hidden_hazards.rules import STATE_LABELS
from anjian.monitoring.board import board_counts
from anjian.risk import service as risk
from anjian.risk.labels import LEVELS


class Slice(BaseModel):
    """One bar or slice: its label, value and colour."""

    label: str
    value: int
    colour: str = ""


class EventLine(BaseModel):
    id: int
    title: str
    level_label: str
    division_name: str
    received_at: str


class ScreenFigures(BaseModel):
    """Everything the screen draws, for the jurisdiction ``division_name``."""

    division_name: str
    today: date
    alarms_by_level: list[Slice]
    alarms_unacknowledged: int
    points: int
    points_online: int
    online_rate: float | None  # %, None without points
    hazards_by_state: list[Slice]
    hazards_open: int
    hazards_overdue: int
    hazards_major_open: int
    accident_months: list[str]
    accidents_this_year: list[int]
    accidents_last_year: list[int]
    accidents: int
    accidents_last: int
    deaths: int
    deaths_last: int
    accidents_change_pct: float | None
    enterprises_by_risk: list[Slice]
    events_in_progress: list[EventLine]


def figures(session: Session, scope: Scope, home: str, today: date | None = None) -> ScreenFigures:
    """The screen's figures in ``scope`` (``home``: the official's division, for its name)."""
    today = today or today_in_china()
    board = board_counts(session, scope)
    online = board["points"] - board["offline"] - board["fault"]
    states = hazards.state_counts(session, scope)
    months = accident_statistics(session, scope, by="month", today=today)
    levels = risk.summary(session, scope)[0].enterprises
    active, _ = emergency_events.list_events(session, scope, state="active", limit=8)
    views = emergency_events.present(session, active, detail=False)
    by_state = [
        Slice(label=label, value=states[state.value])
        for state, label in STATE_LABELS.items()
        if state.value != "closed"
    ]
    return ScreenFigures(
        division_name=division_names(session, [home]).get(home, home),
        today=today,
        alarms_by_level=[
            Slice(label="一级报警", value=board["level1"], colour="#d63939"),
            Slice(label="二级报警", value=board["level2"], colour="#f76707"),
        ],
        alarms_unacknowledged=board["unacknowledged"],
        points=board["points"],
        points_online=online,
        online_rate=round(online / board["points"] * 100, 1) if board["points"] else None,
        hazards_by_state=by_state,
        hazards_open=sum(x.value for x in by_state),
        hazards_overdue=states["overdue"],
        hazards_major_open=states["major_open"],
        accident_months=[r.label for r in months.rows],
        accidents_this_year=[r.count for r in months.rows],
        accidents_last_year=[r.last_year.count for r in months.rows],
        accidents=months.total.count,
        accidents_last=months.total.last_year.count,
        deaths=months.total.deaths,
        deaths_last=months.total.last_year.deaths,
        accidents_change_pct=months.total.count_change_pct,
        enterprises_by_risk=[
            Slice(label=lv["label"], value=getattr(levels, lv["code"]), colour=lv["hex"])
            for lv in LEVELS
        ],
        events_in_progress=[
            EventLine(
                id=v.id,
                title=v.title,
                level_label=v.level_label,
                division_name=v.division_name,
                received_at=v.received_at.isoformat(),
            )
            for v in views
        ],
    )


def revision(data: ScreenFigures) -> str:
    """A short digest of the figures: it changes when any figure does."""
    return hashlib.sha256(data.model_dump_json(exclude={"division_name"}).encode()).hexdigest()[:16]
