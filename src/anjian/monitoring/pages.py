"""在线监测 console pages: the alarm board that updates live (server-sent events), one alarm with
its closed loop (确认 → 处置 → 关闭), a point with its trend chart, an enterprise's monitoring,
and the map of the jurisdiction coloured by live risk (动态风险一张图).

Every read and write goes through the monitoring service with the user's scope, as the API
does: a record outside the scope is the console's 404 page, every step is audited there."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, StreamingResponse
from pydantic import ValidationError
from sqlalchemy.exc import OperationalError
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from anjian.config import get_settings
from anjian.core.divisions import service as divisions
from anjian.core.errors import AnjianError, NotFound
from anjian.core.iam.deps import SESSION_COOKIE, Context
from anjian.core.iam.people import display_names
from anjian.core.paging import PageNumber
from anjian.core.scope import Scope
from anjian.db import unit_of_work
from anjian.enterprises.service import enterprise_in_scope
from anjian.major_hazards.service import get_source
from anjian.monitoring import service
from anjian.monitoring.inbox import item_json as inbox_item_json
from anjian.monitoring.ingest import REASONS
from anjian.monitoring.models import Alarm
from anjian.monitoring.rules import (
    GAS_DETECTOR_KINDS,
    LEVEL_LABELS,
    STATUSES,
    AlarmStateName,
    Bound,
    bound_label,
)
from anjian.monitoring.schemas import AlarmRead, Disposition, LiveRiskRow
from anjian.risk.pages import LEVEL_BADGES, LEVEL_HEX, LEVELS
from anjian.web import dossier
from anjian.web.forms import field_errors
from anjian.web.layout import division_name, page, scope_roots
from anjian.web.render import add_template_dir, map_tiles, query, templates
from anjian.web.session import (
    PageCtx,
    check_csrf,
    login_url,
    refused,
    safe_next,
    session_csrf,
    stream_scope,
)

add_template_dir(Path(__file__).parent / "templates")

log = logging.getLogger("anjian.monitoring.pages")
router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50
KIND_LABELS = {
    "threshold": "超限报警",
    "power_cut": "断电",
    "status": "设备状态",
    "system": "监测系统",
}
ALARM_LEVEL_BADGES = {1: "grade-1", 2: "grade-2"}  # red, orange (console.css)
STATE_BADGES = {
    "raised": "bg-red-lt",
    "acknowledged": "bg-yellow-lt",
    "handled": "bg-blue-lt",
    "closed": "bg-green-lt",
}
POINT_STATUS_BADGES = {
    "ok": "bg-green-lt",
    "fault": "bg-red-lt",
    "offline": "bg-secondary-lt",
    "power_off": "bg-red-lt",
    "shutdown": "bg-secondary-lt",
    "maintenance": "bg-yellow-lt",
}
# The board's state filter: "open" (not closed yet, the default), one state, or everything.
STATE_CHOICES = {
    service.OPEN: "未关闭",
    **{s.value: s.label for s in AlarmStateName},
    "all": "全部",
}
DONE_MESSAGES = {"acknowledge": "已确认报警。", "handle": "已记录处置。", "close": "报警已关闭。"}
REJECTION_LABELS = {**REASONS, "error": "无法处理"}
# A point's set points, worst first on each side, with the colours of their severity on the
# board (严重 red, 预警 orange); their names depend on the point's kind (rules.bound_label).
SET_POINT_COLOURS = {"hh": "#d63939", "h": "#f76707", "l": "#f76707", "ll": "#d63939"}

# The live stream (server-sent events) of the board.
STREAM_POLL_S = 1.0  # how often the stream looks for changed alarms
STREAM_SESSION_CHECK_S = 30.0  # how often it checks that the session is still valid
STREAM_HEARTBEAT_S = 15.0  # a comment now and then keeps proxies from closing a quiet stream
# A stream ends after this long and the browser reconnects at once (with Last-Event-ID, so
# nothing is missed): a server shutting down never waits on an open board for longer.
STREAM_MAX_S = 60.0
STREAM_RETRY_MS = 1000
# On PostgreSQL a transaction can commit its outbox row after a later-numbered one: every poll
# looks this far back again, and alarms already sent (same version) are not sent twice.
STREAM_OVERLAP_S = 30.0


def _labels() -> dict[str, Any]:
    return {
        "kind_labels": KIND_LABELS,
        "alarm_level_badges": ALARM_LEVEL_BADGES,
        "bound_levels": {b.value: b.level for b in Bound},
        "level_labels": LEVEL_LABELS,
        "state_badges": STATE_BADGES,
        "point_status_badges": POINT_STATUS_BADGES,
        "here": get_settings().effective_node_id,
    }


# --- the board's filters -----------------------------------------------------------------------


@dataclass(frozen=True)
class BoardFilter:
    """What the board shows: a level, a state (``open``: not closed; ``all``), whether the
    condition still lasts, whether escalated to the duty desk (已上报值班)."""

    level: int | None = None
    state: str = service.OPEN
    active: bool | None = None
    escalated: bool | None = None

    @classmethod
    def parse(cls, level: str, state: str, active: str, escalated: str) -> BoardFilter:
        """The filter of the page's query parameters; a value not offered means no filter."""
        return cls(
            level=int(level) if level in ("1", "2") else None,
            state=state if state in STATE_CHOICES else service.OPEN,
            active={"1": True, "0": False}.get(active),
            escalated=True if escalated == "1" else None,
        )

    def params(self) -> dict[str, str]:
        """The filter as query parameters (for links, the pager and the stream)."""
        return {
            "level": str(self.level or ""),
            "state": "" if self.state == service.OPEN else self.state,
            "active": {True: "1", False: "0", None: ""}[self.active],
            "escalated": "1" if self.escalated else "",
        }

    def service_args(self) -> dict[str, Any]:
        return {
            "level": self.level,
            "state": None if self.state == "all" else self.state,
            "active": self.active,
            "escalated": self.escalated,
        }

    def matches(self, a: AlarmRead) -> bool:
        """Whether an alarm (as it is now) belongs on the board."""
        if self.level is not None and a.level != self.level:
            return False
        if self.state == service.OPEN and a.state == AlarmStateName.CLOSED.value:
            return False
        if self.state not in (service.OPEN, "all") and a.state != self.state:
            return False
        if self.active is not None and (a.ended_at is None) != self.active:
            return False
        return not (self.escalated and a.escalated_at is None)


def _board_url(board: BoardFilter) -> str:
    params = query(board.params())
    return "/monitoring" + (f"?{params}" if params else "")


# --- 报警看板 -----------------------------------------------------------------------------------


@router.get("/monitoring")
def alarm_board(
    request: Request,
    ctx: PageCtx,
    level: str = "",
    state: str = "",
    active: str = "",
    escalated: str = "",
    page_no: PageNumber = 1,
) -> Response:
    """报警看板: the alarms in scope, newest first, with the figures of the jurisdiction; new
    and changed alarms arrive live over the stream below."""
    board = BoardFilter.parse(level, state or service.OPEN, active, escalated)
    alarms, total = service.list_alarms(
        ctx.db,
        ctx.scope,
        **board.service_args(),
        limit=PAGE_SIZE,
        offset=(page_no - 1) * PAGE_SIZE,
    )
    params = board.params()
    stream = query(params, after=service.change_position(ctx.db))
    return page(
        request,
        ctx,
        "monitoring/board.html",
        {
            "alarms": service.present_alarms(ctx.db, alarms),
            "total": total,
            "page_no": page_no,
            "pages": max(1, -(-total // PAGE_SIZE)),
            "counts": service.board_counts(ctx.db, ctx.scope),
            "board": board,
            "filters": params,
            "states": STATE_CHOICES,
            "back": _board_url(board),
            "stream_url": f"/monitoring/alarms/stream?{stream}",
            "done": DONE_MESSAGES.get(request.query_params.get("done", ""), ""),
            **_labels(),
        },
        active="monitoring",
    )


# --- the live stream (server-sent events) -----------------------------------------------------


def _sse(event: str, data: str, event_id: int | None = None) -> str:
    lines = [f"event: {event}"]
    if event_id is not None:
        lines.append(f"id: {event_id}")
    lines += [f"data: {line}" for line in data.splitlines() or [""]]
    return "\n".join(lines) + "\n\n"


def _row_html(view: AlarmRead, csrf: str, back: str) -> str:
    """One row of the board, rendered by the same template as the page (autoescaped)."""
    tpl = templates.env.get_template("monitoring/partials/alarm_row.html")
    return tpl.render(a=view, csrf=csrf, back=back, **_labels())


def _position() -> int:
    with unit_of_work(read_only=True) as db:
        return service.change_position(db)


def _poll(
    scope: Scope, after: int, board: BoardFilter, csrf: str, sent: dict[int, int]
) -> tuple[int, list[str], dict[int, int]]:
    """One look for alarms changed after outbox position ``after``, in a fresh read-only unit
    of work: the position now, the events to send (alarms not yet sent in this version, oldest
    first, so the newest ends on top; then the board's figures), and the alarms seen. Events
    carry ``after`` as their id: a browser that reconnects looks back as far again (what it
    receives twice just replaces its row)."""
    with unit_of_work(read_only=True) as db:
        head = service.change_position(db)
        alarms = service.alarms_changed_after(db, scope, after)
        seen = {a.id: a.version for a in alarms}
        fresh = [a for a in reversed(alarms) if sent.get(a.id) != a.version]
        if not fresh:
            return head, [], seen
        views = service.present_alarms(db, fresh)
        # The board's total under its filters, sent with the figures: the page shows it in
        # the header and the pager, both from this one number.
        _, total = service.list_alarms(db, scope, **board.service_args(), limit=0)
        counts = {**service.board_counts(db, scope), "total": total}
    back = _board_url(board)
    events = [
        _sse(
            "alarm",
            json.dumps(
                {
                    "id": v.id,
                    "match": board.matches(v),
                    "level": v.level,
                    "html": _row_html(v, csrf, back),
                    "item": inbox_item_json(v),  # for the home page's inbox (home.js)
                },
                ensure_ascii=False,
            ),
            after,
        )
        for v in views
    ]
    events.append(_sse("counts", json.dumps(counts)))
    return head, events, seen


async def _alarm_events(
    request: Request,
    token: str,
    scope: Scope | None,
    board: BoardFilter,
    start: int | None,
    back: str,
) -> AsyncIterator[str]:
    # When the session ends the page listening goes to the login, and back to itself after it.
    logout = _sse("logout", login_url(back, "timeout"))
    if scope is None:
        yield logout
        return
    csrf = session_csrf(token)
    position = start if start is not None else await run_in_threadpool(_position)
    opened = last_check = last_beat = time.monotonic()
    # (when, outbox position then): the poll reads from the newest mark at least
    # STREAM_OVERLAP_S old, so a change committed late is still seen.
    marks: deque[tuple[float, int]] = deque([(opened, position)])
    sent: dict[int, int] = {}
    yield f"retry: {STREAM_RETRY_MS}\n\n"
    while not await request.is_disconnected():
        now = time.monotonic()
        if now - opened >= STREAM_MAX_S:
            return
        if now - last_check >= STREAM_SESSION_CHECK_S:
            try:
                scope = await run_in_threadpool(stream_scope, token)
                last_check = now
            except OperationalError as exc:  # the database is away: check at the next poll
                log.warning("alarm stream could not check its session: %s", exc.orig or exc)
            if scope is None:  # logged out, locked or idle too long
                yield logout
                return
        while len(marks) > 1 and marks[1][0] <= now - STREAM_OVERLAP_S:
            marks.popleft()
        floor = marks[0][1]
        try:
            head, events, sent = await run_in_threadpool(_poll, scope, floor, board, csrf, sent)
        except OperationalError as exc:  # the database is away: try again at the next poll
            log.warning("alarm stream could not poll: %s", exc.orig or exc)
            head, events = floor, []
        marks.append((now, head))
        for event in events:
            yield event
        if events:
            last_beat = now
        elif now - last_beat >= STREAM_HEARTBEAT_S:
            yield f"id: {floor}\n: keep-alive\n\n"  # also moves the browser's Last-Event-ID
            last_beat = now
        await asyncio.sleep(STREAM_POLL_S)


@router.get("/monitoring/alarms/stream")
async def alarm_stream(
    request: Request,
    level: str = "",
    state: str = "",
    active: str = "",
    escalated: str = "",
    after: str = "",
    back: str = "",
) -> Response:
    """The board's live feed (text/event-stream): an ``alarm`` event (its row as HTML, its
    inbox item (the home page's 待办), and whether it matches the board's filters) for every
    alarm in scope raised or changed, then the board's figures (``counts``); ``logout`` with
    the login URL when the session has ended, returning to ``back`` (the page listening, a
    local path; the board under these filters by default). Authenticated by the console's
    cookie, checked again every 30 s without counting as activity."""
    token = request.cookies.get(SESSION_COOKIE, "")
    try:
        scope = await run_in_threadpool(stream_scope, token)
    except OperationalError as exc:  # the database is away: the browser comes back shortly
        log.warning("alarm stream could not check its session: %s", exc.orig or exc)
        return Response(f"retry: {STREAM_RETRY_MS}\n\n", media_type="text/event-stream")
    board = BoardFilter.parse(level, state or service.OPEN, active, escalated)
    # A reconnecting browser says where it got to; a fresh page says where it was rendered.
    resume = request.headers.get("last-event-id", "").strip() or after.strip()
    start = int(resume) if resume.isdigit() else None
    return StreamingResponse(
        _alarm_events(
            request, token, scope, board, start, safe_next(back) if back else _board_url(board)
        ),
        media_type="text/event-stream",
        headers={
            "Cache-Control": "no-store",
            "X-Accel-Buffering": "no",  # a reverse proxy must pass events on at once
            "X-Content-Type-Options": "nosniff",
        },
    )


# --- one alarm and its closed loop -------------------------------------------------------------


def _alarm_page(
    request: Request,
    ctx: Context,
    alarm: Alarm,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    back: str = "",
    status_code: int = 200,
) -> Response:
    view = service.present_alarms(ctx.db, [alarm])[0]
    people = display_names(ctx.db, [alarm.acknowledged_by, alarm.handled_by, alarm.closed_by])
    return page(
        request,
        ctx,
        "monitoring/alarm.html",
        {
            "a": view,
            "people": people,
            "errors": errors or {},
            "values": values or {},
            "back": back or f"/monitoring/alarms/{alarm.id}",  # where the step forms return
            "return_to": back or "/monitoring",
            "done": DONE_MESSAGES.get(request.query_params.get("done", ""), ""),
            **_labels(),
        },
        active="monitoring",
        status_code=status_code,
    )


@router.get("/monitoring/alarms/{alarm_id}")
def alarm_detail(request: Request, alarm_id: int, ctx: PageCtx) -> Response:
    """One alarm: what raised it, its loop so far, and the next step (确认, 处置, 关闭)."""
    alarm = service.get_alarm(ctx.db, ctx.scope, alarm_id)
    back = request.query_params.get("next")
    return _alarm_page(request, ctx, alarm, back=safe_next(back) if back else "")


@router.post("/monitoring/alarms/{alarm_id}/{verb}")
async def alarm_step(request: Request, alarm_id: int, verb: str, ctx: PageCtx) -> Response:
    """Take one step of the alarm's loop from the board or the alarm's page; refusals and
    disposition errors are shown on the alarm's page, at their fields."""
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    check_csrf(request, form.get("csrf"))
    back = safe_next(form.get("next") or f"/monitoring/alarms/{alarm_id}")
    errors: dict[str, str] = {}
    status = 422
    try:
        if verb == "acknowledge":
            service.acknowledge(ctx.db, ctx.actor, ctx.scope, alarm_id)
        elif verb == "handle":
            body = {k: form.get(k, "").strip() for k in ("cause", "action", "handler")}
            try:
                data = Disposition.model_validate(body)
            except ValidationError as exc:
                errors = field_errors(exc)
            else:
                service.handle(ctx.db, ctx.actor, ctx.scope, alarm_id, data)
        elif verb == "close":
            service.close(ctx.db, ctx.actor, ctx.scope, alarm_id)
        else:
            raise NotFound(f"未知操作: {verb} (unknown step)")
    except AnjianError as exc:
        errors, status = refused(request, ctx, exc), exc.status
    if errors:
        alarm = service.get_alarm(ctx.db, ctx.scope, alarm_id)  # out of scope: the 404 page
        return _alarm_page(
            request, ctx, alarm, errors=errors, values=form, back=back, status_code=status
        )
    joiner = "&" if "?" in back else "?"
    return RedirectResponse(f"{back}{joiner}done={verb}#alarm-{alarm_id}", status_code=303)


# --- 测点详情 -----------------------------------------------------------------------------------


@router.get("/monitoring/points/{point_id}")
def point_detail(request: Request, point_id: int, ctx: PageCtx) -> Response:
    """One monitoring point: its set points, live value and status, its alarms and its trend
    (ECharts, from the series API, with the set points drawn as lines)."""
    p = service.get_point(ctx.db, ctx.scope, point_id)
    view = service.present_points(ctx.db, [p])[0]
    alarms, total = service.list_alarms(ctx.db, ctx.scope, point_id=p.id, state=None, limit=20)
    source = None
    if p.major_hazard_id is not None:
        try:
            source = get_source(ctx.db, ctx.scope, p.major_hazard_id)
        except NotFound:
            source = None
    set_points = [
        {
            "key": b.value,
            "name": f"{bound_label(b.value, p.kind)} {b.value.upper()}",
            "value": getattr(p, b.value),
            "level": b.level,
            "colour": SET_POINT_COLOURS[b.value],
        }
        for b in (Bound.HH, Bound.H, Bound.L, Bound.LL)
    ]
    chart = {
        "point_id": p.id,
        "unit": p.unit,
        "lines": [
            {"name": s["name"], "value": s["value"], "colour": s["colour"]}
            for s in set_points
            if s["value"] is not None
        ],
    }
    return page(
        request,
        ctx,
        "monitoring/point.html",
        {
            "p": view,
            "source": source,
            "set_points": set_points,
            "gas_detector": p.kind in GAS_DETECTOR_KINDS,
            "alarms": service.present_alarms(ctx.db, alarms),
            "alarm_total": total,
            "chart": chart,
            "back": f"/monitoring/points/{p.id}",
            **_labels(),
        },
        active="monitoring",
    )


# --- 企业监测 -----------------------------------------------------------------------------------


@router.get("/monitoring/enterprise/{enterprise_id}")
def enterprise_monitoring(request: Request, enterprise_id: int, ctx: PageCtx) -> Response:
    """One enterprise's monitoring: its points with their live values, its live risk and its
    major hazard sources', its open alarms and the readings its gateway had refused."""
    ent = enterprise_in_scope(ctx.db, ctx.scope, enterprise_id)
    points, _ = service.list_points(ctx.db, ctx.scope, enterprise_id=ent.id, limit=None)
    alarms, open_total = service.list_alarms(
        ctx.db, ctx.scope, enterprise_id=ent.id, state=service.OPEN, limit=PAGE_SIZE
    )
    # The enterprise is in the user's scope (checked above): its live risk is computed over
    # the enterprise alone rather than over the whole jurisdiction.
    live = service.live_risk(ctx.db, Scope.for_enterprise(ctx.user.id, ent.id))
    mine = next((r for r in live.enterprises if r.enterprise_id == ent.id), None)
    return page(
        request,
        ctx,
        "monitoring/enterprise.html",
        {
            "ent": ent,
            "ent_division": division_name(ctx.db, ent.division_code),
            "points": service.present_points(ctx.db, points),
            "live": mine,
            "sources": [r for r in live.major_hazards if r.enterprise_id == ent.id],
            "level_badges": LEVEL_BADGES,
            "alarms": service.present_alarms(ctx.db, alarms),
            "open_total": open_total,
            "counts": service.board_counts(ctx.db, ctx.scope, enterprise_id=ent.id),
            "rejections": service.rejections(ctx.db, ctx.scope, ent.id),
            "rejection_labels": REJECTION_LABELS,
            "statuses": STATUSES,
            "back": f"/monitoring/enterprise/{ent.id}",
            **_labels(),
        },
        active="monitoring",
    )


# --- 动态风险一张图 -----------------------------------------------------------------------------


def _map_point(r: LiveRiskRow) -> dict[str, Any]:
    inherent = f"（固有：{r.inherent.label}）" if r.raised_by else ""
    return {
        "id": r.enterprise_id,
        "name": r.name,
        "lng": r.lng,
        "lat": r.lat,
        "category": f"{r.level_label}{inherent}",
        "status": f"{r.points} 个测点",
        "lines": r.reasons or ["无未恢复报警，测点正常"],
        "colour": LEVEL_HEX[r.level.value],
        "href": f"/monitoring/enterprise/{r.enterprise_id}",
        "link_label": "查看企业监测",
    }


@router.get("/monitoring/map")
def live_risk_map(request: Request, ctx: PageCtx, division: str = "") -> Response:
    """动态风险一张图: the monitored enterprises of the jurisdiction on the map, coloured by
    live risk, worst first in the lists beside it. An enterprise user goes to their own
    enterprise's monitoring."""
    if ctx.scope.is_enterprise:
        url = f"/monitoring/enterprise/{ctx.scope.enterprise_id}"
        return RedirectResponse(url, status_code=303)
    live = service.live_risk(ctx.db, ctx.scope, division=division.strip() or None)
    tiles = map_tiles()
    places = []
    if tiles is None:  # no base map: the division centroids frame the markers
        for root in scope_roots(ctx.db, ctx.scope):
            for div in [root, *divisions.children_of(ctx.db, root.code)]:
                if div.lng is not None and div.lat is not None and div.code != "000000":
                    places.append({"name": div.name, "lng": div.lng, "lat": div.lat})
    located = [r for r in live.enterprises if r.lng is not None and r.lat is not None]
    counts = {lv["code"]: 0 for lv in LEVELS}
    for r in live.enterprises:
        counts[r.level.value] += 1
    return page(
        request,
        ctx,
        "monitoring/map.html",
        {
            "data": {"tiles": tiles, "places": places, "points": [_map_point(r) for r in located]},
            "enterprises": live.enterprises,
            "sources": live.major_hazards,
            "located": len(located),
            "counts": counts,
            "levels": LEVELS,
            "level_badges": LEVEL_BADGES,
            "division": division.strip(),
            "division_label": division_name(ctx.db, division.strip()) if division.strip() else "",
        },
        active="monitoring",
    )


dossier.register(
    dossier.RecordLink(
        "monitoring_points",
        "监测点",
        50,
        count=lambda db, scope, eid: service.list_points(db, scope, enterprise_id=eid, limit=0)[1],
        href=lambda eid: f"/monitoring/enterprise/{eid}",
    )
)
dossier.register(
    dossier.RecordLink(
        "alarms",
        "未关闭的报警",
        60,
        count=lambda db, scope, eid: service.list_alarms(
            db, scope, enterprise_id=eid, state=service.OPEN, limit=0
        )[1],
        href=lambda eid: f"/monitoring/enterprise/{eid}#open-alarms",
    )
)
