"""Threat-zone analysis of an event (扩散分析): the dispersion model run for the release at the
event's place (or a release point given), its answer — the zones and what lies inside them —
kept with the event, so the province sees the zones the county drew, and a line on the
timeline saying how far each zone reaches and how many people live inside it."""

from __future__ import annotations

from sqlalchemy.orm import Session

from anjian.core.audit.service import Actor
from anjian.core.errors import Invalid
from anjian.core.scope import Scope
from anjian.core.sync.outbox import record_change
from anjian.db import utcnow
from anjian.emergency import dispersion
from anjian.emergency.events import active, add_entry, audit_event
from anjian.emergency.models import EmergencyEvent
from anjian.emergency.schemas import DispersionAnswer, DispersionRequest
from anjian.emergency.sync import EVENT_ENTITY


def summary(req: DispersionRequest, answer: DispersionAnswer) -> str:
    """How an analysis reads on the timeline: what was released, in what weather, and for
    each zone its reach, the protection targets and the people inside it."""
    what = answer.chemical.name if answer.chemical else "自定阈值"
    head = (
        f"扩散分析：{what}，释放速率 {req.release_g_s:g} g/s，风速 {req.wind_speed_m_s:g} m/s，"
        f"风从 {req.wind_from_deg:g}° 吹来，稳定度 {answer.stability}"
    )
    zones = []
    for f in (answer.zones or {}).get("features", []):
        p = f["properties"]
        people = f"{p['population_total']}{'+' if p['population_unknown'] else ''}"
        zones.append(
            f"{p['label']} 区下风向 {p['length_m']:g} m，防护目标 {p['target_count']} 处、"
            f"人口 {people}"
        )
    return "；".join([head, *zones]) if zones else head + "；未达到任何阈值"


def analyse(
    session: Session, actor: Actor, scope: Scope, event_id: int, req: DispersionRequest
) -> EmergencyEvent:
    """Run the plume for an event in progress here (the release at the event's place unless
    ``lng``/``lat`` say otherwise; ``wind_from_deg`` required) and keep the answer with it."""
    ev = active(session, scope, event_id)
    lng = req.lng if req.lng is not None else ev.lng
    lat = req.lat if req.lat is not None else ev.lat
    if lng is None or lat is None:
        raise Invalid("事件没有经纬度，请给出泄漏点 lng、lat (where is the release?)", field="lng")
    if req.wind_from_deg is None:
        raise Invalid("请给出风向 wind_from_deg (wind direction needed)", field="wind_from_deg")
    req = req.model_copy(update={"lng": lng, "lat": lat})
    answer = dispersion.analyse(session, scope, req)
    ev.analysis = {
        "at": utcnow().isoformat(),
        "by": actor.username,
        "request": req.model_dump(mode="json", exclude_none=True),
        "answer": answer.model_dump(mode="json"),
    }
    record_change(session, ev, entity=EVENT_ENTITY)
    add_entry(session, actor, ev, "analysis", summary(req, answer))
    audit_event(session, actor, "analyse", ev, chemical=req.chemical or "")
    return ev
