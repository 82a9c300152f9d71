"""Online monitoring API (在线监测预警): point registry, HTTP ingest for gateways, trends, alarms
and their closed loop, ingest rejections."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Request, Response, UploadFile
from fastapi.responses import JSONResponse

from anjian.core.api_kit import (
    IMPORT_REFUSED,
    JurisdictionFilters,
    import_answer,
    list_page,
    read_upload,
)
from anjian.core.clock import BeijingDateTime, beijing_if_naive
from anjian.core.downloads import xlsx_response
from anjian.core.errors import Invalid, Unauthorized
from anjian.core.iam.deps import DB, Ctx
from anjian.core.inputs import checks_own_body
from anjian.core.paging import Paging
from anjian.core.xlsx import ImportResult
from anjian.monitoring import alarms, board, excel, gateways, points, trends
from anjian.monitoring.batch import REASONS
from anjian.monitoring.fetch import fetch_readings
from anjian.monitoring.ingest import ingest
from anjian.monitoring.presets import PRESETS
from anjian.monitoring.schemas import (
    AlarmPage,
    AlarmRead,
    DispositionCreate,
    IngestResult,
    LiveRiskBoard,
    PointCreate,
    PointPage,
    PointRead,
    PointUpdate,
    PresetRead,
    ReadingsRead,
    RejectionRead,
    SeriesRead,
)

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
router = APIRouter(prefix="/api/v1/monitoring", tags=["monitoring 在线监测"])
alarms_router = APIRouter(prefix="/api/v1/alarms", tags=["monitoring 在线监测"])


@router.get("/presets", response_model=list[PresetRead])
def presets(ctx: Ctx) -> list[PresetRead]:
    """Threshold presets (阈值预设): coal-mine methane by sensor location, gas detectors
    (GB/T 50493), tank farms, tailings ponds. ``verified=false`` marks values the reference
    could not confirm; every value can be changed per point."""
    return [PresetRead.model_validate(p, from_attributes=True) for p in PRESETS.values()]


@dataclass(frozen=True)
class PointFilters(JurisdictionFilters):
    """The filters of the point list."""

    kind: Annotated[str | None, Query(description="监测类型")] = None
    status: Annotated[str | None, Query(description="设备状态 ok|fault|offline|…")] = None
    major_hazard_id: Annotated[int | None, Query(description="重大危险源 ID")] = None
    q: Annotated[str | None, Query(description="编码、名称或位置包含")] = None


@router.get("/points", response_model=PointPage)
def list_points(ctx: Ctx, filters: Annotated[PointFilters, Depends()], paging: Paging) -> PointPage:
    """Monitoring points in your jurisdiction (or of your enterprise), with live values."""
    return list_page(PointPage, points.list_points, ctx, filters, paging, points.present_points)


@router.post("/points", response_model=PointRead, status_code=201)
def create_point(body: PointCreate, ctx: Ctx) -> PointRead:
    """Register a monitoring point: ``enterprise_id``, ``code`` (unique within the enterprise),
    ``kind``, ``unit``, set points ``ll``/``l``/``h``/``hh`` (any may be null), optional
    ``major_hazard_id``, ``period_s``; or a ``preset`` (audited, synced)."""
    p = points.create_point(ctx.db, ctx.actor, ctx.scope, body)
    return points.present_points(ctx.db, [p])[0]


@router.get("/points/template.xlsx", response_class=Response)
def points_template(ctx: Ctx) -> Response:
    """The Excel template of the point-list import (测点清单导入模板)."""
    return xlsx_response(excel.template(), "monitoring-points-template", "测点清单导入模板")


@router.post("/points/import", response_model=ImportResult, responses=IMPORT_REFUSED)
def import_points(
    file: UploadFile,
    ctx: Ctx,
    enterprise_id: Annotated[int, Query(description="企业 ID")],
) -> Any:
    """Register an enterprise's points from the template layout: all rows or none, with a
    row-by-row report (each point audited and synced like one registered through the API)."""
    sheet = excel.read_file(read_upload(file, MAX_UPLOAD_BYTES))
    outcome = excel.import_points(
        ctx.db, ctx.actor, ctx.scope, enterprise_id, sheet, source=file.filename or ""
    )
    return import_answer(outcome, lambda: ImportResult(imported=len(outcome.ids), ids=outcome.ids))


@router.get("/points/{point_id}", response_model=PointRead)
def get_point(point_id: int, ctx: Ctx) -> PointRead:
    """One monitoring point in your jurisdiction."""
    return points.present_points(ctx.db, [points.get_point(ctx.db, ctx.scope, point_id)])[0]


@router.patch("/points/{point_id}", response_model=PointRead)
def update_point(point_id: int, body: PointUpdate, ctx: Ctx) -> PointRead:
    """Change set points or details of a point (audited with before and after, synced)."""
    p = points.update_point(ctx.db, ctx.actor, ctx.scope, point_id, body)
    return points.present_points(ctx.db, [p])[0]


def _epoch_ms(value: str, field: str) -> int:
    """Epoch milliseconds, or an ISO 8601 time (Beijing time when it names no zone)."""
    text = value.strip()
    if text.lstrip("-").isdigit():
        return int(text)
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise Invalid(
            f"时间格式无效: {value} (epoch milliseconds or ISO 8601)", field=field
        ) from None
    return int(beijing_if_naive(at).timestamp() * 1000)


@router.get("/points/{point_id}/series", response_model=SeriesRead)
def series(
    point_id: int,
    ctx: Ctx,
    from_: Annotated[str, Query(alias="from", description="开始 (epoch ms 或 ISO 8601)")],
    to: Annotated[str, Query(description="结束 (epoch ms 或 ISO 8601)")],
    step: Annotated[int | None, Query(description="分桶秒数 (默认约 500 桶)")] = None,
) -> SeriesRead:
    """A point's trend (趋势) in [from, to), downsampled to buckets of ``step`` seconds with
    mean, min, max and count (readings reported with a fault status are left out)."""
    return trends.series(
        ctx.db, ctx.scope, point_id, _epoch_ms(from_, "from"), _epoch_ms(to, "to"), step
    )


@router.get(
    "/points/{point_id}/readings",
    response_model=ReadingsRead,
    responses={202: {"description": "已向接入节点调取，稍后重试 (requested from the access node)"}},
)
def raw_readings(
    point_id: int,
    ctx: Ctx,
    from_: Annotated[str, Query(alias="from", description="开始 (epoch ms 或 ISO 8601)")],
    to: Annotated[str, Query(description="结束 (epoch ms 或 ISO 8601)")],
) -> Any:
    """A point's raw readings in [from, to) (at most 20,000; ``truncated`` says when more).
    At an upper node the readings stay at the access node: the first call sends the request
    down the tiers and answers 202; once the access node's answer has come up, 200."""
    from_ms, to_ms = _epoch_ms(from_, "from"), _epoch_ms(to, "to")
    if to_ms <= from_ms:
        raise Invalid("结束时间须晚于开始时间 (to must be after from)", field="to")
    got = fetch_readings(ctx.db, ctx.actor, ctx.scope, point_id, from_ms, to_ms)
    if got is None:
        return JSONResponse(
            {
                "detail": "已向接入节点调取原始数据，请稍后重试 (requested from the access node; "
                "ask again shortly)",
                "status": "requested",
            },
            status_code=202,
            headers={"Retry-After": "2"},
        )
    return got


@router.get("/live-risk", response_model=LiveRiskBoard)
def live_risk(
    ctx: Ctx,
    division: Annotated[str | None, Query(description="行政区划代码，含下级")] = None,
) -> LiveRiskBoard:
    """Live risk (动态风险) of the monitored enterprises and major hazard sources in your
    jurisdiction, worst first: the inherent level (major hazard grade, worst risk point) raised
    two levels by an open 一级 alarm, one by 二级 alarms or faulty/offline points, never above
    red."""
    return board.live_risk(ctx.db, ctx.scope, division=division)


@router.get("/rejections", response_model=list[RejectionRead])
def rejections(
    ctx: Ctx, enterprise_id: Annotated[int | None, Query(description="企业 ID")] = None
) -> list[RejectionRead]:
    """Readings refused (坏数据) by enterprise and reason, with the last message."""
    rows = gateways.rejections(ctx.db, ctx.scope, enterprise_id)
    return [
        RejectionRead(
            enterprise_id=r.enterprise_id,
            reason=r.reason,
            reason_label=REASONS.get(r.reason, r.reason),
            count=r.count,
            last_at=r.last_at,
            last_detail=r.last_detail,
        )
        for r in rows
    ]


def _gateway(request: Request, db: DB) -> int:
    header = request.headers.get("authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else ""
    enterprise_id = gateways.enterprise_of_token(db, token) if token else None
    if enterprise_id is None:
        raise Unauthorized(
            "接入凭证无效 (invalid gateway token: anjian gateway token <USCC> issues one)"
        )
    return enterprise_id


@router.post(
    "/readings",
    response_model=IngestResult,
    responses={401: {"description": "no or wrong gateway token"}, 422: {"model": IngestResult}},
)
@checks_own_body  # a bad reading is refused alone, the others stored (batch.parse)
def post_readings(
    db: DB,
    enterprise_id: Annotated[int, Depends(_gateway)],
    body: Annotated[
        Any,
        Body(
            examples=[{"ts": 1764400000000, "readings": [{"point": "LT-101", "value": 3.2}]}],
            description='{"ts": <epoch ms>, "readings": [{"point", "value", "ts"?, "status"?}]}',
        ),
    ],
) -> Any:
    """HTTP ingest for a gateway, authenticated by its enterprise's token (Bearer): the same
    batch as on MQTT. Good readings are stored even when others are refused (listed in
    ``rejected`` and counted); 422 when nothing in the batch could be used."""
    out = ingest(db, enterprise_id, body if isinstance(body, dict) else {"readings": body})
    result = out.result()
    if out.rejected and not out.accepted and not out.duplicates:
        first = out.rejected[0]
        where = "body" if first.index is None else f"readings.{first.index}"
        return JSONResponse(
            {"detail": first.message, "field": where, **result.model_dump()}, status_code=422
        )
    return result


# --- alarms (报警) -----------------------------------------------------------------------------


@dataclass(frozen=True)
class AlarmFilters(JurisdictionFilters):
    """The filters of the alarm list."""

    level: Annotated[int | None, Query(description="1 (一级) | 2 (二级)")] = None
    state: Annotated[
        str | None, Query(description="raised | acknowledged | handled | closed | open (未关闭)")
    ] = None
    kind: Annotated[str | None, Query(description="threshold | power_cut | status | system")] = None
    active: Annotated[bool | None, Query(description="true: 尚未恢复; false: 已恢复")] = None
    escalated: Annotated[bool | None, Query(description="true: 超时未确认、已上报上级值班")] = None
    since: Annotated[
        BeijingDateTime | None, Query(description="报警时间不早于 (ISO 8601; 无时区为北京时间)")
    ] = None
    until: Annotated[
        BeijingDateTime | None, Query(description="报警时间早于 (ISO 8601; 无时区为北京时间)")
    ] = None


@alarms_router.get("", response_model=AlarmPage)
def list_alarms(ctx: Ctx, filters: Annotated[AlarmFilters, Depends()], paging: Paging) -> AlarmPage:
    """Alarms in your jurisdiction (or of your enterprise), newest first."""
    return list_page(AlarmPage, alarms.list_alarms, ctx, filters, paging, alarms.present_alarms)


@alarms_router.get("/{alarm_id}", response_model=AlarmRead)
def get_alarm(alarm_id: int, ctx: Ctx) -> AlarmRead:
    """One alarm in your jurisdiction."""
    return alarms.present_alarms(ctx.db, [alarms.get_alarm(ctx.db, ctx.scope, alarm_id)])[0]


@alarms_router.post("/{alarm_id}/acknowledge", response_model=AlarmRead)
def acknowledge(alarm_id: int, ctx: Ctx) -> AlarmRead:
    """Acknowledge a raised alarm (确认); 409 in any other state (audited, synced)."""
    alarm = alarms.acknowledge(ctx.db, ctx.actor, ctx.scope, alarm_id)
    return alarms.present_alarms(ctx.db, [alarm])[0]


@alarms_router.post("/{alarm_id}/handle", response_model=AlarmRead)
def handle(alarm_id: int, body: DispositionCreate, ctx: Ctx) -> AlarmRead:
    """Record the disposition of an acknowledged alarm (处置: cause, action, person)."""
    alarm = alarms.handle(ctx.db, ctx.actor, ctx.scope, alarm_id, body)
    return alarms.present_alarms(ctx.db, [alarm])[0]


@alarms_router.post("/{alarm_id}/close", response_model=AlarmRead)
def close(alarm_id: int, ctx: Ctx) -> AlarmRead:
    """Close a handled alarm whose value is back inside its band (关闭); 409 otherwise."""
    alarm = alarms.close(ctx.db, ctx.actor, ctx.scope, alarm_id)
    return alarms.present_alarms(ctx.db, [alarm])[0]
