"""How online monitoring's records cross nodes (DESIGN.md §2): points, alarms and the per-minute
summaries travel up; a request for raw readings travels down to the access node, which answers
it as it is applied there, and the answer travels up.

Imported where the domain is wired (``anjian.models``, the app, the MQTT worker) so that the
sync registry knows these entities before the sync engine or the ingest writes any of them."""

from __future__ import annotations

from anjian.core.sync.registry import SyncSpec, register
from anjian.monitoring.fetch import answer_requests
from anjian.monitoring.models import (
    ALARM_ENTITY,
    MINUTE_ENTITY,
    POINT_ENTITY,
    READINGS_REQUEST_ENTITY,
    READINGS_RESPONSE_ENTITY,
    Alarm,
    MinuteSummary,
    MonitoringPoint,
    ReadingsRequest,
    ReadingsResponse,
)

_PLACE = {"enterprise_id": "enterprise", "major_hazard_id": "major_hazard_source"}

register(SyncSpec(POINT_ENTITY, MonitoringPoint, division_attr="division_code", refs=_PLACE))
register(
    SyncSpec(
        MINUTE_ENTITY,
        MinuteSummary,
        division_attr="division_code",
        refs={"enterprise_id": "enterprise"},
    )
)
register(
    SyncSpec(
        ALARM_ENTITY,
        Alarm,
        division_attr="division_code",
        refs={**_PLACE, "point_id": POINT_ENTITY},
    )
)
register(SyncSpec(READINGS_RESPONSE_ENTITY, ReadingsResponse, division_attr="division_code"))
register(
    SyncSpec(
        READINGS_REQUEST_ENTITY,
        ReadingsRequest,
        division_attr="division_code",
        downward=True,
        on_applied=answer_requests,
    )
)
