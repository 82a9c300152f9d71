"""Online monitoring tables (在线监测预警): points, readings, alarms, gateway credentials.

Points and alarms cross nodes (they are forwarded up); readings, the evaluator's live state,
credentials and rejection counters stay at the access node (DESIGN.md §2). On PostgreSQL the
readings table is partitioned by day (migration 0006), so expiry drops whole partitions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Integer,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    event,
    text,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from anjian.core.scope import ScopeColumns, Scoped
from anjian.core.sync.models import SyncMixin
from anjian.db import Base
from anjian.enterprises.columns import EnterpriseColumns
from anjian.monitoring.rules import AlarmStateName, PointStatus

# The entity names the synced tables travel under (registered in :mod:`anjian.monitoring.sync`).
POINT_ENTITY = "monitoring_point"
MINUTE_ENTITY = "monitoring_minute"
ALARM_ENTITY = "alarm"
READINGS_REQUEST_ENTITY = "readings_request"
READINGS_RESPONSE_ENTITY = "readings_response"
# session.info key: the enterprises whose points an ingest transaction holds (and keeps current)
HELD_ENTERPRISES = "monitoring_held_enterprises"


class MonitoringPoint(EnterpriseColumns, SyncMixin, Scoped, Base):
    """A monitoring point (监测点) of an enterprise, optionally of one of its major hazard
    sources: what it measures, its range and sampling period, its set points (ll/l/h/hh) with
    dead band and delay, and its device status (设备状态). ``division_code`` and
    ``supervision_category`` are the enterprise's, so the scope judges the record by itself."""

    __scope__ = ScopeColumns("division_code", "enterprise_id", "supervision_category")
    __noun__ = ("监测点", "monitoring point")

    __tablename__ = "monitoring_points"
    __table_args__ = (UniqueConstraint("enterprise_id", "code", name="uq_monitoring_points_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    major_hazard_id: Mapped[int | None] = mapped_column(
        ForeignKey("major_hazard_sources.id"), index=True
    )
    code: Mapped[str] = mapped_column(String(64), nullable=False)  # the gateway's tag
    name: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    unit: Mapped[str] = mapped_column(String(16), nullable=False, default="")
    range_low: Mapped[float | None] = mapped_column(Float)
    range_high: Mapped[float | None] = mapped_column(Float)
    period_s: Mapped[int] = mapped_column(Integer, nullable=False, default=60)
    ll: Mapped[float | None] = mapped_column(Float)
    l: Mapped[float | None] = mapped_column(Float)  # noqa: E741
    h: Mapped[float | None] = mapped_column(Float)
    hh: Mapped[float | None] = mapped_column(Float)
    dead_band: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)
    delay_s: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)
    preset: Mapped[str] = mapped_column(String(48), nullable=False, default="")
    restore: Mapped[float | None] = mapped_column(Float)  # coal methane 复电浓度
    power_cut: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    location: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    status: Mapped[str] = mapped_column(String(16), nullable=False, default=PointStatus.OK.value)
    status_since: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(nullable=False)


class PointLive(Base):
    """The evaluator's memory of a point (local): its last reading and the alarm state between
    readings (open alarm bound, a crossing waiting out the delay)."""

    __tablename__ = "monitoring_point_live"

    point_id: Mapped[int] = mapped_column(ForeignKey("monitoring_points.id"), primary_key=True)
    last_ts: Mapped[int | None] = mapped_column(BigInteger)  # epoch ms of the newest reading
    last_value: Mapped[float | None] = mapped_column(Float)
    active_bound: Mapped[str | None] = mapped_column(String(4))
    pending_bound: Mapped[str | None] = mapped_column(String(4))
    pending_since: Mapped[int | None] = mapped_column(BigInteger)
    alarm_id: Mapped[int | None] = mapped_column(ForeignKey("alarms.id"))
    power_cut_alarm_id: Mapped[int | None] = mapped_column(ForeignKey("alarms.id"))


class IngestEpoch(Base):
    """Who holds an enterprise's points in memory for the ingest, and a counter raised by every
    other write that could make that memory stale (local; see
    :mod:`anjian.monitoring.ownership`)."""

    __tablename__ = "monitoring_ingest_epochs"

    enterprise_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    epoch: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    owner: Mapped[str | None] = mapped_column(String(200))  # the worker's client id


class Reading(Base):
    """One reading (实时数据) of a point: epoch milliseconds, value and a status code (0 = ok,
    see ``batch.STATUS_CODES``). (point_id, ts) is the key: the same reading delivered twice is
    stored once."""

    __tablename__ = "readings"
    __table_args__ = (PrimaryKeyConstraint("point_id", "ts", name="pk_readings"),)

    point_id: Mapped[int] = mapped_column(Integer, nullable=False)
    ts: Mapped[int] = mapped_column(BigInteger, nullable=False)
    value: Mapped[float] = mapped_column(Float, nullable=False)
    status: Mapped[int] = mapped_column(SmallInteger, nullable=False, default=0)


class Alarm(EnterpriseColumns, SyncMixin, Scoped, Base):
    """An alarm (报警): a threshold crossing (超限), a power cut of a coal-mine methane point
    (断电), a device or whole-system status (故障/离线/断电/关闭). Raised by the evaluator,
    ended when the condition is over (恢复), and taken through its closed loop by people:
    acknowledged (确认) → handled with a disposition (处置: cause, action, person) → closed."""

    __scope__ = ScopeColumns("division_code", "enterprise_id", "supervision_category")
    __noun__ = ("报警", "alarm")

    __tablename__ = "alarms"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    point_id: Mapped[int | None] = mapped_column(ForeignKey("monitoring_points.id"), index=True)
    major_hazard_id: Mapped[int | None] = mapped_column(ForeignKey("major_hazard_sources.id"))
    kind: Mapped[str] = mapped_column(
        String(16), nullable=False
    )  # threshold|power_cut|status|system
    level: Mapped[int] = mapped_column(SmallInteger, nullable=False)  # 1 一级, 2 二级
    bound: Mapped[str] = mapped_column(String(16), nullable=False)  # hh|h|l|ll or a status code
    threshold: Mapped[float | None] = mapped_column(Float)  # the set point of ``bound`` (now)
    value: Mapped[float | None] = mapped_column(Float)  # the value that raised it (触发值)
    # the set point that value crossed: ``threshold`` changes when the alarm is escalated
    trigger_threshold: Mapped[float | None] = mapped_column(Float)
    # the worst value while it lasted (峰值: highest of a high alarm, lowest of a low one), and when
    peak: Mapped[float | None] = mapped_column(Float)
    peak_at: Mapped[datetime | None] = mapped_column()
    raised_at: Mapped[datetime] = mapped_column(nullable=False, index=True)
    ended_at: Mapped[datetime | None] = mapped_column()
    state: Mapped[str] = mapped_column(
        String(16), nullable=False, default=AlarmStateName.RAISED.value, index=True
    )
    acknowledged_at: Mapped[datetime | None] = mapped_column()
    acknowledged_by: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    cause: Mapped[str] = mapped_column(Text, nullable=False, default="")
    action: Mapped[str] = mapped_column(Text, nullable=False, default="")
    handler: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    handled_at: Mapped[datetime | None] = mapped_column()
    handled_by: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    closed_at: Mapped[datetime | None] = mapped_column()
    closed_by: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    # Not acknowledged in time: escalated to the upper tier's duty desk (上报值班), travelling
    # up with the alarm itself.
    escalated_at: Mapped[datetime | None] = mapped_column(index=True)


class MinuteSummary(EnterpriseColumns, SyncMixin, Scoped, Base):
    """Per-minute aggregates (分钟统计) of an enterprise's points for one minute: for each
    point (by uid, which is the same at every node) ``[count, min, max, mean]``. Forwarded up
    at once, so that upper nodes draw trends at minute resolution while the raw readings stay at
    the access node."""

    __scope__ = ScopeColumns("division_code", "enterprise_id", "supervision_category")
    __noun__ = ("分钟汇总", "minute summary")

    __tablename__ = "monitoring_minutes"
    __table_args__ = (
        UniqueConstraint("enterprise_id", "minute", name="uq_monitoring_minutes_minute"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    minute: Mapped[int] = mapped_column(BigInteger, nullable=False, index=True)  # epoch ms
    points: Mapped[dict[str, list[float]]] = mapped_column(JSON, nullable=False, default=dict)


class ReadingsRequest(SyncMixin, Base):
    """An upper node's request for a point's raw readings in [from, to) (实时数据调阅). It
    travels down to the access node (``division_code`` routes it), which answers with a
    :class:`ReadingsResponse` travelling up."""

    __tablename__ = "readings_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    division_code: Mapped[str] = mapped_column(ForeignKey("divisions.code"), nullable=False)
    point_uid: Mapped[str] = mapped_column(String(36), nullable=False, index=True)
    from_ms: Mapped[int] = mapped_column(BigInteger, nullable=False)
    to_ms: Mapped[int] = mapped_column(BigInteger, nullable=False)
    requested_by: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    requested_at: Mapped[datetime] = mapped_column(nullable=False)


class ReadingsResponse(SyncMixin, Base):
    """The access node's answer to a :class:`ReadingsRequest`: the readings as
    ``[[ts, value, status], …]`` (at most ``fetch.MAX_FETCH``; ``truncated`` says so)."""

    __tablename__ = "readings_responses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_uid: Mapped[str] = mapped_column(String(36), nullable=False, index=True)
    division_code: Mapped[str] = mapped_column(ForeignKey("divisions.code"), nullable=False)
    point_uid: Mapped[str] = mapped_column(String(36), nullable=False)
    readings: Mapped[list[list[float]]] = mapped_column(JSON, nullable=False, default=list)
    truncated: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    answered_at: Mapped[datetime] = mapped_column(nullable=False)


class GatewayCredential(Base):
    """An enterprise's ingest credential at this node: the SM3-HMAC of its token (the Bearer
    token of HTTP ingest and the MQTT password; the MQTT username is the USCC)."""

    __tablename__ = "gateway_credentials"

    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    created_at: Mapped[datetime] = mapped_column(nullable=False)
    created_by: Mapped[str] = mapped_column(String(64), nullable=False, default="")


class IngestRejection(Base):
    """Readings refused from an enterprise, counted by reason (坏数据计数): malformed JSON,
    unknown point, non-numeric value, time far in the future, …"""

    __tablename__ = "ingest_rejections"
    __table_args__ = (PrimaryKeyConstraint("enterprise_id", "reason", name="pk_ingest_rejections"),)

    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), nullable=False)
    reason: Mapped[str] = mapped_column(String(32), nullable=False)
    count: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    last_at: Mapped[datetime] = mapped_column(nullable=False)
    last_detail: Mapped[str] = mapped_column(String(300), nullable=False, default="")


_RAISE_EPOCHS = text(
    "INSERT INTO monitoring_ingest_epochs (enterprise_id, epoch) VALUES (:e, 1) "
    "ON CONFLICT (enterprise_id) DO UPDATE SET epoch = monitoring_ingest_epochs.epoch + 1"
)


@event.listens_for(Session, "before_flush")
def _points_written(session: Session, _context: object, _instances: object) -> None:
    """A point written outside the ingest raises its enterprise's epoch, before the write: the
    ingest worker holding that enterprise in memory loads it again (:mod:`anjian.monitoring.live`).
    Epoch rows are taken in enterprise order, as the ingest takes them."""
    held = session.info.get(HELD_ENTERPRISES, ())
    written = {
        obj.enterprise_id
        for objs in (session.new, session.dirty, session.deleted)
        for obj in objs
        if isinstance(obj, MonitoringPoint)
        and obj.enterprise_id is not None
        and obj.enterprise_id not in held
    }
    if written:
        session.execute(_RAISE_EPOCHS, [{"e": eid} for eid in sorted(written)])
