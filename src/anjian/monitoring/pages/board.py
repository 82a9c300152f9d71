"""报警看板 and 动态风险一张图: the alarms in scope, updated live over server-sent events, with the
jurisdiction's figures; and the map of the monitored enterprises coloured by live risk."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse, StreamingResponse
from sqlalchemy.exc import OperationalError
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from anjian.core.iam.deps import SESSION_COOKIE
from anjian.core.paging import PageNumber
from anjian.core.scope import Scope
from anjian.db import unit_of_work
from anjian.monitoring import alarms
from anjian.monitoring.board import alarms_changed_after, board_counts, change_position, live_risk
from anjian.monitoring.inbox import item_json as inbox_item_json
from anjian.monitoring.pages.labels import DONE_MESSAGES, PAGE_SIZE, STATE_CHOICES, labels
from anjian.monitoring.rules import AlarmStateName
from anjian.monitoring.schemas import AlarmRead, LiveRiskRow
from anjian.risk.labels import LEVEL_BADGES, LEVEL_HEX, LEVELS
from anjian.web.layout import division_name, jurisdiction_map, page, pager_of
from anjian.web.offloop import page_routes
from anjian.web.render import count, query, templates
from anjian.web.session import PageCtx, login_url, safe_next, session_csrf, stream_scope
from anjian.web.streams import HEADERS as STREAM_HEADERS
from anjian.web.streams import sse

log = logging.getLogger("anjian.monitoring.pages")
router = page_routes()

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


# --- the board's filters -----------------------------------------------------------------------


@dataclass(frozen=True)
class BoardFilter:
    """What the board shows: a level, a state (``open``: not closed; ``all``), whether the
    condition still lasts, whether escalated to the duty desk (已上报值班)."""

    level: int | None = None
    state: str = alarms.OPEN
    active: bool | None = None
    escalated: bool | None = None

    @classmethod
    def parse(cls, level: str, state: str, active: str, escalated: str) -> BoardFilter:
        """The filter of the page's query parameters; a value not offered means no filter."""
        return cls(
            level=int(level) if level in ("1", "2") else None,
            state=state if state in STATE_CHOICES else alarms.OPEN,
            active={"1": True, "0": False}.get(active),
            escalated=True if escalated == "1" else None,
        )

    def params(self) -> dict[str, str]:
        """The filter as query parameters (for links, the pager and the stream)."""
        return {
            "level": str(self.level or ""),
            "state": "" if self.state == alarms.OPEN else self.state,
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
        if self.state == alarms.OPEN and a.state == AlarmStateName.CLOSED.value:
            return False
        if self.state not in (alarms.OPEN, "all") and a.state != self.state:
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
    board = BoardFilter.parse(level, state or alarms.OPEN, active, escalated)
    found, total = alarms.list_alarms(
        ctx.db,
        ctx.scope,
        **board.service_args(),
        limit=PAGE_SIZE,
        offset=(page_no - 1) * PAGE_SIZE,
    )
    params = board.params()
    stream = query(params, after=change_position(ctx.db))
    return page(
        request,
        ctx,
        "monitoring/board.html",
        {
            "alarms": alarms.present_alarms(ctx.db, found),
            **pager_of(total, page_no, PAGE_SIZE),
            "counts": board_counts(ctx.db, ctx.scope),
            "board": board,
            "filters": params,
            "states": STATE_CHOICES,
            "back": _board_url(board),
            "stream_url": f"/monitoring/alarms/stream?{stream}",
            "done": DONE_MESSAGES.get(request.query_params.get("done", ""), ""),
            **labels(),
        },
        active="monitoring",
    )


# --- the live stream (server-sent events) -----------------------------------------------------


def _row_html(view: AlarmRead, csrf: str, back: str) -> str:
    """One row of the board, rendered by the same template as the page (autoescaped)."""
    tpl = templates.env.get_template("monitoring/partials/alarm_row.html")
    return tpl.render(a=view, csrf=csrf, back=back, **labels())


def _position() -> int:
    with unit_of_work(read_only=True) as db:
        return change_position(db)


def _poll(
    scope: Scope, after: int, board: BoardFilter, csrf: str, sent: dict[int, int]
) -> tuple[int, list[str], dict[int, int]]:
    """One look for alarms changed after outbox position ``after``, in a fresh read-only unit
    of work: the position now, the events to send (alarms not yet sent in this version, oldest
    first, so the newest ends on top; then the board's figures), and the alarms seen. Events
    carry ``after`` as their id: a browser that reconnects looks back as far again (what it
    receives twice just replaces its row)."""
    with unit_of_work(read_only=True) as db:
        head = change_position(db)
        changed = alarms_changed_after(db, scope, after)
        seen = {a.id: a.version for a in changed}
        fresh = [a for a in reversed(changed) if sent.get(a.id) != a.version]
        if not fresh:
            return head, [], seen
        views = alarms.present_alarms(db, fresh)
        # The board's total under its filters, sent with the figures: the page shows it in
        # the header and the pager, both from this one number (as text: 约 N past the count
        # limit, as the page first showed it).
        _, total = alarms.list_alarms(db, scope, **board.service_args(), limit=0)
        counts = {**board_counts(db, scope), "total": count(total)}
    back = _board_url(board)
    events = [
        sse(
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
    events.append(sse("counts", json.dumps(counts)))
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
    logout = sse("logout", login_url(back, "timeout"))
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
    board = BoardFilter.parse(level, state or alarms.OPEN, active, escalated)
    # A reconnecting browser says where it got to; a fresh page says where it was rendered.
    resume = request.headers.get("last-event-id", "").strip() or after.strip()
    start = int(resume) if resume.isdigit() else None
    return StreamingResponse(
        _alarm_events(
            request, token, scope, board, start, safe_next(back) if back else _board_url(board)
        ),
        media_type="text/event-stream",
        headers=STREAM_HEADERS,
    )


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
    live = live_risk(ctx.db, ctx.scope, division=division.strip() or None)
    located = [r for r in live.enterprises if r.lng is not None and r.lat is not None]
    counts = {lv["code"]: 0 for lv in LEVELS}
    for r in live.enterprises:
        counts[r.level.value] += 1
    return page(
        request,
        ctx,
        "monitoring/map.html",
        {
            "data": jurisdiction_map(ctx.db, ctx.scope, [_map_point(r) for r in located]),
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
