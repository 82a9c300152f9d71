"""``GET /metrics`` (Prometheus text format): the process's own counters
(:mod:`anjian.core.metrics`) and what the node's database and disk say when scraped — sync
backlog and forwarding lag per link, ingest refusals, open alarms, database size and pool,
free disk, the last good backup.

Who may scrape: with ``ANJIAN_METRICS_TOKEN`` set, whoever sends it as a bearer token; without
one, the machine itself (loopback) only. Nothing personal is shown: counts, sizes and times."""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Iterator

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import text

from anjian import __version__
from anjian.config import get_settings
from anjian.core.errors import Forbidden, Unauthorized
from anjian.core.metrics import REGISTRY
from anjian.core.sync.status import node_status
from anjian.db import get_engine, unit_of_work
from anjian.ops.health import database_bytes, disk_free_bytes, last_good_backup

router = APIRouter(tags=["运维 operations"])


class NodeCollector(Collector):
    """Reads the node's state at each scrape (a handful of small queries)."""

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        settings = get_settings()
        info = GaugeMetricFamily(
            "anjian_node_info", "This node", labels=["node", "division", "version"]
        )
        info.add_metric([settings.effective_node_id, settings.node_division, __version__], 1)
        yield info
        backlog = GaugeMetricFamily(
            "anjian_sync_backlog",
            "Changes not yet acknowledged by the link",
            labels=["role", "division"],
        )
        lag = GaugeMetricFamily(
            "anjian_sync_lag_seconds",
            "Age of the oldest change the parent has not acknowledged",
            labels=["role", "division"],
        )
        contact = GaugeMetricFamily(
            "anjian_sync_last_contact_timestamp_seconds",
            "When the link last spoke",
            labels=["role", "division"],
        )
        refused = CounterMetricFamily(
            "anjian_ingest_refusals",
            "Readings refused since counting began, by reason",
            labels=["reason"],
        )
        alarms = GaugeMetricFamily(
            "anjian_alarms_open", "Alarms raised and not ended, by level", labels=["level"]
        )
        backup = GaugeMetricFamily(
            "anjian_backup_last_success_timestamp_seconds", "When the last good backup finished"
        )
        size = GaugeMetricFamily("anjian_database_bytes", "Size of the node's database")
        with unit_of_work(read_only=True) as db:
            _me, links = node_status(db)
            for link in links:
                labels = [link.role, link.division_code]
                if link.backlog is not None:
                    backlog.add_metric(labels, link.backlog)
                if link.lag_s is not None:
                    lag.add_metric(labels, link.lag_s)
                if link.last_contact_at is not None:
                    contact.add_metric(labels, link.last_contact_at.timestamp())
            for reason, count in db.execute(
                text("SELECT reason, sum(count) FROM ingest_rejections GROUP BY reason")
            ):
                refused.add_metric([reason], float(count or 0))
            for level, count in db.execute(
                text("SELECT level, count(*) FROM alarms WHERE ended_at IS NULL GROUP BY level")
            ):
                alarms.add_metric([str(level)], count)
            last = last_good_backup(db)
            if last is not None:
                backup.add_metric([], last.timestamp())
            size.add_metric([], float(database_bytes(db)))
        yield from (backlog, lag, contact, refused, alarms, backup, size)
        pool = get_engine().pool
        connections = GaugeMetricFamily(
            "anjian_db_pool_connections", "Database connections of this process", labels=["state"]
        )
        for state, count in (
            ("checked_out", _call(pool, "checkedout")),
            ("idle", _call(pool, "checkedin")),
        ):
            if count is not None:
                connections.add_metric([state], count)
        yield connections
        free = GaugeMetricFamily(
            "anjian_disk_free_bytes", "Free space where the data directory lies"
        )
        free.add_metric([], disk_free_bytes())
        yield free


def _call(pool: object, name: str) -> int | None:
    method = getattr(pool, name, None)
    return int(method()) if callable(method) else None


REGISTRY.register(NodeCollector())


def _allowed(request: Request) -> None:
    token = get_settings().metrics_token
    if token:
        sent = request.headers.get("authorization", "")
        if not hmac.compare_digest(sent.encode(), f"Bearer {token}".encode()):
            raise Unauthorized("需要指标令牌 (send ANJIAN_METRICS_TOKEN as a bearer token)")
        return
    host = request.client.host if request.client else ""
    try:
        local = ipaddress.ip_address(host).is_loopback
    except ValueError:
        local = False
    if not local:
        raise Forbidden("指标只对本机开放; 设置 ANJIAN_METRICS_TOKEN 以远程采集 (loopback only)")


@router.get(
    "/metrics",
    response_class=PlainTextResponse,
    summary="运行指标 (Prometheus text format)",
)
def metrics(request: Request) -> Response:
    """The node's metrics for Prometheus: requests, ingest, sync backlog and lag, database and
    disk, last backup."""
    _allowed(request)
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
