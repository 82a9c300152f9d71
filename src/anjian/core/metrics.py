"""The node's own metrics (运行指标) in the Prometheus conventions: one registry per process, the
HTTP requests answered (by route template, so the number of series stays bounded) and the MQTT
ingest's work. What the database holds (backlogs, sizes, backups) is read when scraped
(:mod:`anjian.ops.metrics`); ``GET /metrics`` shows both, ``anjian ingest --metrics-port`` an
ingest process's own."""

from __future__ import annotations

import time
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

# Custom collectors are not described at registration (that would read the database then).
REGISTRY = CollectorRegistry(auto_describe=False)

HTTP_REQUESTS = Counter(
    "anjian_http_requests",
    "HTTP requests answered, by method, route template and status code",
    ["method", "route", "status"],
    registry=REGISTRY,
)
HTTP_SECONDS = Histogram(
    "anjian_http_request_duration_seconds",
    "Time to answer an HTTP request, by method and route template",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
    registry=REGISTRY,
)
INGEST_MESSAGES = Counter(
    "anjian_ingest_messages",
    "MQTT messages applied and acknowledged by this process's ingest worker",
    registry=REGISTRY,
)
INGEST_READINGS = Counter(
    "anjian_ingest_readings",
    "Readings stored by ingest, by path (setwise: one statement a transaction; reading: one by "
    "one)",
    ["path"],
    registry=REGISTRY,
)
INGEST_REFUSED = Counter(
    "anjian_ingest_refused_readings",
    "Readings refused by ingest, by reason",
    ["reason"],
    registry=REGISTRY,
)
INGEST_FALLBACKS = Counter(
    "anjian_ingest_setwise_fallbacks",
    "Transactions the set-wise path gave back to the reading-by-reading path",
    registry=REGISTRY,
)
INGEST_SECONDS = Histogram(
    "anjian_ingest_transaction_seconds",
    "Time of one ingest transaction of the MQTT worker (up to 200 messages)",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
    registry=REGISTRY,
)
INGEST_QUEUED = Counter(
    "anjian_ingest_received_messages",
    "MQTT messages received by this process's ingest worker (applied or not yet)",
    registry=REGISTRY,
)
LIVE_STREAMS = Gauge(
    "anjian_live_streams",
    "Live pages (server-sent events: alarm board, inbox, event page…) open on this process",
    registry=REGISTRY,
)


class RequestMetrics:
    """ASGI middleware counting each HTTP request by the template of the route that answered
    it (``/api/v1/enterprises/{enterprise_id}``), or ``unmatched``."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = [500]

        async def sending(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            method = scope.get("method", "")
            HTTP_REQUESTS.labels(method, route, str(status[0])).inc()
            HTTP_SECONDS.labels(method, route).observe(time.perf_counter() - started)
