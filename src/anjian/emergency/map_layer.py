"""The emergency layers of the one map (一张图): the resources by kind (救援队伍 … 医疗救护点,
their status a property), the events by response level (in progress unless ``state`` says
otherwise), and the threat zones (威胁区域) of the latest dispersion analysis (扩散分析) kept
with each event in progress — polygons, drawn in full. Staff layers: the records' pages are
the agencies'."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Select, String, and_, case, cast
from sqlalchemy.orm import Session

from anjian.core.listing import in_state
from anjian.core.map_features import Layer, ShapeLayer, choice
from anjian.core.mapgrid import BBox, outline_meets
from anjian.core.scope import Scope, division_filter
from anjian.emergency.labels import RESOURCE_COLOURS, ZONE_COLOURS
from anjian.emergency.models import EmergencyEvent, EmergencyResource
from anjian.emergency.rules.events import EVENT_TYPES, LEVEL_LABELS, STATES
from anjian.emergency.rules.resources import KIND_LABELS, STATUS_LABELS
from anjian.enterprises.models import Enterprise
from anjian.web.colours import UNGRADED, by_grade

ACTIVE = "active"
ALL = "all"
UNLEVELLED = "none"
# Events in progress whose analysis is read for one answer, the latest received first: a
# province has a handful at a time; this bounds the JSON read on a bad day.
MAX_ANALYSED_EVENTS = 100

# --- resources -----------------------------------------------------------------------------------


def _resources(session: Session, scope: Scope, params: Mapping[str, str]) -> Select[Any]:
    stmt = scope.select(
        EmergencyResource,
        EmergencyResource.id.label("id"),
        EmergencyResource.name.label("name"),
        EmergencyResource.lng.label("lng"),
        EmergencyResource.lat.label("lat"),
        EmergencyResource.kind.label("kind"),
        EmergencyResource.status.label("status"),
        EmergencyResource.owner.label("owner"),
        EmergencyResource.specialty.label("specialty"),
        EmergencyResource.headcount.label("headcount"),
        EmergencyResource.capacity.label("capacity"),
    ).where(EmergencyResource.lng.isnot(None), EmergencyResource.lat.isnot(None))
    if params.get("division"):
        stmt = stmt.where(division_filter(EmergencyResource.division_code, params["division"]))
    kind, status = params.get("kind"), params.get("status")
    stmt = in_state(
        stmt, EmergencyResource.kind, kind, KIND_LABELS, f"未知资源类别: {kind} (unknown kind)"
    )
    return in_state(
        stmt,
        EmergencyResource.status,
        status,
        STATUS_LABELS,
        f"未知资源状态: {status} (unknown status)",
    )


RESOURCES = Layer(
    name="emergency_resources",
    label="应急资源",
    rows=_resources,
    kinds={kind.value: label for kind, label in KIND_LABELS.items()},
    colours=RESOURCE_COLOURS,
    href="/emergency/resources?kind={kind}#resource-{id}",
    filters=("division", "kind", "status"),
    staff_only=True,
    labels={"status": STATUS_LABELS},
    details=(
        ("状态", "status_label"),
        ("所属单位", "owner"),
        ("专业", "specialty"),
        ("人数", "headcount"),
        ("容量", "capacity"),
    ),
)

# --- events --------------------------------------------------------------------------------------


def _events(session: Session, scope: Scope, params: Mapping[str, str]) -> Select[Any]:
    own = and_(EmergencyEvent.lng.isnot(None), EmergencyEvent.lat.isnot(None))
    lng = case((own, EmergencyEvent.lng), else_=Enterprise.lng)
    lat = case((own, EmergencyEvent.lat), else_=Enterprise.lat)
    level = case(
        (EmergencyEvent.level.is_(None), UNLEVELLED), else_=cast(EmergencyEvent.level, String)
    )
    # The event's enterprise (if any) is read for its place only: the event is in scope by its
    # own division.
    stmt = (
        scope.select(
            EmergencyEvent,
            EmergencyEvent.id.label("id"),
            EmergencyEvent.title.label("name"),
            lng.label("lng"),
            lat.label("lat"),
            level.label("kind"),
            EmergencyEvent.event_type.label("event_type"),
            EmergencyEvent.state.label("state"),
            EmergencyEvent.place.label("place"),
            EmergencyEvent.received_at.label("received_at"),
        )
        .outerjoin(Enterprise, Enterprise.id == EmergencyEvent.enterprise_id)
        .where(lng.isnot(None), lat.isnot(None))
    )
    if params.get("division"):
        stmt = stmt.where(division_filter(EmergencyEvent.division_code, params["division"]))
    state = params.get("state") or ACTIVE
    if state != ALL:
        stmt = in_state(
            stmt,
            EmergencyEvent.state,
            state,
            STATES,
            f"未知事件状态: {state} (state must be one of {', '.join([*STATES, ALL])})",
        )
    if wanted := choice(params, "level", {**LEVEL_LABELS, UNLEVELLED: ""}, "响应级别"):
        stmt = stmt.where(level == wanted)
    if kind := choice(params, "event_type", EVENT_TYPES, "事件类型"):
        stmt = stmt.where(EmergencyEvent.event_type == kind)
    return stmt


EVENTS = Layer(
    name="emergency_events",
    label="突发事件",
    rows=_events,
    kinds={**{str(k): v for k, v in LEVEL_LABELS.items()}, UNLEVELLED: "未定级"},
    colours={**by_grade(), UNLEVELLED: UNGRADED},
    href="/emergency/events/{id}",
    filters=("division", "state", "level", "event_type"),
    staff_only=True,
    labels={"event_type": EVENT_TYPES, "state": STATES},
    details=(
        ("类型", "event_type_label"),
        ("地点", "place"),
        ("状态", "state_label"),
        ("接报时间", "received_at"),
    ),
)

# --- threat zones --------------------------------------------------------------------------------


def _zones(
    session: Session, scope: Scope, box: BBox, zoom: int, params: Mapping[str, str]
) -> list[dict[str, Any]]:
    stmt = scope.select(
        EmergencyEvent, EmergencyEvent.id, EmergencyEvent.title, EmergencyEvent.analysis
    ).where(EmergencyEvent.state == ACTIVE)
    if params.get("division"):
        stmt = stmt.where(division_filter(EmergencyEvent.division_code, params["division"]))
    stmt = stmt.order_by(EmergencyEvent.received_at.desc(), EmergencyEvent.id.desc())
    out = []
    for event_id, title, analysis in session.execute(stmt.limit(MAX_ANALYSED_EVENTS)):
        zones = ((analysis or {}).get("answer") or {}).get("zones") or {}
        features = list(enumerate(zones.get("features") or []))
        for i, zone in reversed(features):  # the widest first, so the deadliest is drawn on top
            geometry = zone.get("geometry") or {}
            rings = geometry.get("coordinates") or []
            if geometry.get("type") != "Polygon" or not rings or not outline_meets(rings[0], box):
                continue
            p = zone.get("properties") or {}
            out.append(
                {
                    "type": "Feature",
                    "geometry": geometry,
                    "properties": {
                        "id": event_id,
                        "name": title,
                        "kind": str(min(i + 1, len(ZONE_COLOURS))),
                        "zone": p.get("label", ""),
                        "length_m": p.get("length_m"),
                        "target_count": p.get("target_count"),
                        "population_total": p.get("population_total"),
                        "analysed_at": analysis.get("at", ""),
                    },
                }
            )
    return out


ZONE_KINDS = {
    str(i + 1): f"{name}（{note}）"
    for i, (name, note) in enumerate(
        [
            ("一区", "阈值最高"),
            ("二区", "次高阈值"),
            ("三区", "第三阈值"),
            ("四区", "第四阈值"),
            ("五区", "第五及以下阈值"),
        ]
    )
}

THREAT_ZONES = ShapeLayer(
    name="threat_zones",
    label="扩散威胁区",
    shapes=_zones,
    kinds=ZONE_KINDS,
    colours={str(i + 1): colour for i, colour in enumerate(ZONE_COLOURS)},
    href="/emergency/events/{id}",
    filters=("division",),
    staff_only=True,
    details=(
        ("区域", "zone"),
        ("下风向距离 (m)", "length_m"),
        ("防护目标", "target_count"),
        ("人口", "population_total"),
    ),
)
