"""The FastAPI application: routers of the core and every domain, error handling, console."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import import_module
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from psycopg.errors import NumericValueOutOfRange, StringDataRightTruncation
from sqlalchemy import text
from sqlalchemy.exc import DataError, OperationalError
from starlette.concurrency import run_in_threadpool

import anjian.models  # noqa: F401  (every table, and every synced entity registered)
from anjian import __version__
from anjian.accidents.api import router as accidents_router
from anjian.config import get_settings
from anjian.console import mount_console
from anjian.console.onemap.api import router as map_router
from anjian.core.audit.api import router as audit_router
from anjian.core.audit.jobs import seal_watch
from anjian.core.audit.service import audit
from anjian.core.divisions.api import router as divisions_router
from anjian.core.errors import AnjianError
from anjian.core.iam.api import router as auth_router
from anjian.core.iam.guard import LoginGuard
from anjian.core.inbox.api import router as inbox_router
from anjian.core.inputs import field_beyond_int32, refuse_hostile_input
from anjian.core.metrics import RequestMetrics
from anjian.core.node_settings.api import router as node_settings_router
from anjian.core.orgs.api import router as orgs_router
from anjian.core.replay import ReplayOnFailover, mark_failed
from anjian.core.sync.api import router as sync_router
from anjian.core.sync.forwarder import Forwarder
from anjian.core.sync.guard import SyncGuard
from anjian.core.sync.node_api import router as node_router
from anjian.core.transport import BodyLimit, SecurityHeaders, scope_is_https, security_headers
from anjian.db import unit_of_work
from anjian.directives.api import router as directives_router
from anjian.emergency.api import router as emergency_router
from anjian.emergency.duty.api import router as emergency_duty_router
from anjian.emergency.plans.api import router as emergency_plans_router
from anjian.emergency.targets.api import router as emergency_targets_router
from anjian.enforcement.api import router as enforcement_router
from anjian.enforcement.terminal_api import router as terminal_router
from anjian.enterprises.api import router as enterprises_router
from anjian.hidden_hazards.api import router as hidden_hazards_router
from anjian.hidden_hazards.checklists.api import router as checklists_router
from anjian.hidden_hazards.checklists.api import tasks_router as inspection_tasks_router
from anjian.hidden_hazards.jobs import overdue_watch
from anjian.major_hazards.api import router as major_hazards_router
from anjian.monitoring.api import alarms_router
from anjian.monitoring.api import router as monitoring_router
from anjian.monitoring.jobs import monitoring_watch
from anjian.monitoring.mqtt import start_ingest
from anjian.ops.api import router as ops_router
from anjian.ops.desk.api import router as desk_router
from anjian.ops.jobs import ops_watch
from anjian.ops.metrics import router as metrics_router
from anjian.risk.api import router as risk_router

# The domains' inbox sources (待办) register themselves with anjian.core.inbox when imported.
INBOX_SOURCES = (
    "anjian.core.iam.inbox",
    "anjian.hidden_hazards.inbox",
    "anjian.hidden_hazards.checklists.inbox",
    "anjian.accidents.inbox",
    "anjian.monitoring.inbox",
    "anjian.directives.inbox",
    "anjian.major_hazards.inbox",
    "anjian.enforcement.inbox",
)
for _module in INBOX_SOURCES:
    import_module(_module)

log = logging.getLogger("anjian")
# Swagger UI starts itself with an inline script; everything else it loads is local.
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; object-src 'none'; base-uri 'self'; frame-ancestors 'none'"
)


def _field_of(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "cookie")]
    return ".".join(parts) or "body"


_WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def _audit_refused_write(request: Request, exc: AnjianError) -> None:
    """A write refused for lack of rights (a 403, or a 404 hiding a record out of scope) is a
    security event: record it in its own transaction, since the request's own transaction was
    rolled back."""
    actor = getattr(request.state, "actor", None)
    if actor is None:
        return
    with unit_of_work() as session:
        audit(
            session,
            actor,
            "access.denied",
            result="denied",
            detail={"method": request.method, "path": request.url.path, "reason": exc.message},
        )


@asynccontextmanager
async def _lifespan(_app: FastAPI) -> AsyncIterator[None]:
    """Start the background threads (forwarder to the parent node, overdue watch, audit seals,
    MQTT broker and ingest) for the life of the server, each if enabled."""
    settings = get_settings()
    threads: list[Any] = []
    if settings.sync_forwarder:
        threads.append(
            Forwarder(interval=settings.sync_interval_s, max_backoff=settings.sync_max_backoff_s)
        )
    if settings.background_jobs:
        threads += [
            overdue_watch(),
            monitoring_watch(),
            ops_watch(),
            seal_watch(interval=settings.audit_seal_minutes * 60),
        ]
    for thread in threads:
        thread.start()
    if settings.mqtt_ingest:
        try:
            threads += start_ingest(settings)
        except (OSError, RuntimeError, ValueError) as exc:
            # HTTP ingest and everything else still work; say loudly what to change.
            log.error(
                "MQTT ingest not started: %s (set ANJIAN_MQTT_URL to an external broker or "
                "ANJIAN_MQTT_EMBEDDED_PORT to a free port)",
                exc,
            )
    try:
        yield
    finally:
        # Last started, first stopped: the ingest worker leaves before its broker goes.
        for thread in reversed(threads):
            thread.stop()
            thread.join(timeout=10)


def create_app() -> FastAPI:
    """Build the application for the configured node."""
    settings = get_settings()
    app = FastAPI(
        lifespan=_lifespan,
        # Every route, API and console, now and later: no overflowing integer, control
        # character or overlong search text reaches an endpoint (anjian.core.inputs).
        dependencies=[Depends(refuse_hostile_input)],
        docs_url=None,  # served below from local assets: intranets have no CDN
        redoc_url=None,
        title="安监云 Anjian Cloud API",
        version=__version__,
        description="安全生产监管监察与应急管理平台 — work-safety supervision and emergency "
        f"management. Node {settings.effective_node_id} ({settings.node_division}).",
    )

    # In-memory limits live with the application (one per process; a fresh app starts afresh).
    app.state.login_guard = LoginGuard.from_settings(settings)
    app.state.sync_guard = SyncGuard.from_settings(settings)

    @app.exception_handler(AnjianError)
    async def _anjian_error(request: Request, exc: AnjianError) -> JSONResponse:
        if exc.denies_access and request.method in _WRITE_METHODS:
            # in a worker thread: the audit write may wait for another (SQLite's write lock,
            # the audit chain's head) and the event loop must not wait with it
            await run_in_threadpool(_audit_refused_write, request, exc)
        body: dict[str, Any] = {"detail": exc.message}
        if exc.field:
            body["field"] = exc.field
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else {}
        return JSONResponse(body, status_code=exc.status, headers={**headers, **exc.headers})

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"field": _field_of(e.get("loc", ())), "message": e.get("msg", "")}
            for e in exc.errors()
        ]
        first = errors[0] if errors else {"field": "body", "message": "invalid"}
        return JSONResponse(
            {
                "detail": f"字段 {first['field']} 无效: {first['message']} (invalid field)",
                "field": first["field"],
                "errors": errors,
            },
            status_code=422,
        )

    @app.exception_handler(DataError)
    async def _out_of_range(request: Request, exc: DataError) -> JSONResponse:
        # A value its column cannot take (an id beyond a 32-bit key, text beyond a column's
        # length) is bad input, not a fault of the server: the request was rolled back.
        if isinstance(exc.orig, NumericValueOutOfRange):
            field = field_beyond_int32(request)
            message = "数值超出范围 (number out of range)"
        elif isinstance(exc.orig, StringDataRightTruncation):
            field, message = "body", "文本过长 (text too long for its field)"
        else:
            raise exc
        return JSONResponse(
            {
                "detail": f"字段 {field} 无效: {message} (invalid field)",
                "field": field,
                "errors": [{"field": field, "message": message}],
            },
            status_code=422,
        )

    @app.get("/healthz", tags=["ops 运维"])
    def healthz() -> dict[str, Any]:
        """Liveness and database reachability (a read: it answers while any write runs)."""
        with unit_of_work(read_only=True) as db:
            db.execute(text("SELECT 1"))
        return {
            "status": "ok",
            "node": settings.effective_node_id,
            "division": settings.node_division,
            "version": __version__,
        }

    @app.exception_handler(OperationalError)
    async def _database_away(request: Request, _exc: OperationalError) -> JSONResponse:
        # The database went away (a failover, a restart): the request was rolled back and
        # the pool drops the dead connection. ReplayOnFailover sends it again when it can;
        # otherwise the client may, in a moment.
        mark_failed()
        headers = security_headers(request.url.path, scope_is_https(request.scope))
        return JSONResponse(
            {"detail": "数据库暂时不可用，请稍后重试 (database unavailable: retry shortly)"},
            status_code=503,
            headers={**headers, "Retry-After": "1"},
        )

    @app.exception_handler(Exception)
    async def _server_error(request: Request, _exc: Exception) -> JSONResponse:
        # Sent by the outermost middleware, past SecurityHeaders: the headers are set here.
        headers = security_headers(request.url.path, scope_is_https(request.scope))
        return JSONResponse(
            {"detail": "服务器内部错误 (internal server error)"}, status_code=500, headers=headers
        )

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        """Interactive API documentation (Swagger UI from /static/vendor)."""
        page = get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="安监云 API 文档",
            swagger_js_url="/static/vendor/swagger-ui/swagger-ui-bundle.js",
            swagger_css_url="/static/vendor/swagger-ui/swagger-ui.css",
            swagger_favicon_url="/static/favicon.svg",
        )
        page.headers["Content-Security-Policy"] = DOCS_CSP
        return page

    for router in (
        auth_router,
        divisions_router,
        orgs_router,
        audit_router,
        inbox_router,
        enterprises_router,
        hidden_hazards_router,
        checklists_router,
        inspection_tasks_router,
        major_hazards_router,
        directives_router,
        risk_router,
        monitoring_router,
        alarms_router,
        accidents_router,
        enforcement_router,
        terminal_router,
        emergency_router,
        emergency_plans_router,
        emergency_duty_router,
        emergency_targets_router,
        map_router,
        sync_router,
        node_router,
        node_settings_router,
        ops_router,
        desk_router,
        metrics_router,
    ):
        app.include_router(router)
    mount_console(app)
    app.add_middleware(ReplayOnFailover, window_s=settings.db_retry_seconds)
    app.add_middleware(
        BodyLimit, max_bytes=settings.max_request_bytes, exempt=(sync_router.prefix + "/",)
    )
    app.add_middleware(SecurityHeaders)
    app.add_middleware(RequestMetrics)
    return app
