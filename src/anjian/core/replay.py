"""Replaying a request the database failed (故障切换期间的请求重放): while the primary fails over
(一主两备), a request meets the database gone and its transaction is rolled back. When nothing
of it can have been committed, the node sends it through again, after a short wait, until it
is answered or the window closes — so the client gets its 201 a few seconds late instead of a
503 to handle. Only the 503 of a database that went away is replayed, only when no
transaction of the attempt began to commit a write (:class:`anjian.db.Attempt`), and only
when the body can be given again: read whole and small enough to keep (``REPLAY_MAX_BYTES``),
or not read at all. Anything else is answered as before."""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import MutableMapping
from typing import Any

from prometheus_client import Counter

from anjian.core.metrics import REGISTRY
from anjian.db import ATTEMPT, Attempt

log = logging.getLogger(__name__)

REPLAY_MAX_BYTES = 1024 * 1024  # larger bodies (uploads) are not held for a replay
_PAUSES = (0.25, 0.5, 1.0)  # then 1 s between attempts

REPLAYS = Counter(
    "anjian_http_replays",
    "HTTP requests sent through again after the database failed them before any commit "
    "(a failover), by outcome: answered, or given up when the window closed",
    ["outcome"],
    registry=REGISTRY,
)


def mark_failed() -> None:
    """Note that the database failed the request being answered (the 503 handler calls it)."""
    attempt = ATTEMPT.get()
    if attempt is not None:
        attempt.failed = True


def replayed() -> bool:
    """Whether the request being answered is a replay: its first attempt was already counted
    (login throttling counts a request once)."""
    attempt = ATTEMPT.get()
    return attempt is not None and attempt.number > 1


class ReplayOnFailover:
    """ASGI middleware replaying, for up to ``window_s`` seconds, a request the database failed
    before anything of it was committed. ``window_s`` 0 turns it off."""

    def __init__(self, app: Any, window_s: float) -> None:
        self.app, self.window_s = app, window_s

    async def __call__(self, scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or self.window_s <= 0:
            await self.app(scope, receive, send)
            return
        deadline = time.monotonic() + self.window_s
        again: Any = receive  # what the next attempt reads its body from
        for attempt_no in itertools.count(1):
            attempt, held, source = Attempt(number=attempt_no), _Held(send), _Tee(again)
            token = ATTEMPT.set(attempt)
            try:
                await self.app(scope, source, held.send)
            finally:
                ATTEMPT.reset(token)
            again = source.again()
            replayable = (
                bool(held.messages) and attempt.failed and not attempt.wrote and again is not None
            )
            if not replayable or time.monotonic() >= deadline:
                if attempt_no > 1:
                    REPLAYS.labels("answered" if not held.messages else "given_up").inc()
                await held.release()
                return
            pause = _PAUSES[attempt_no - 1] if attempt_no <= len(_PAUSES) else 1.0
            pause = min(pause, max(deadline - time.monotonic(), 0.0))
            log.info(
                "database failed %s %s before any commit: sent again in %.2f s (attempt %d)",
                scope.get("method"),
                scope.get("path"),
                pause,
                attempt_no + 1,
            )
            if again is receive:  # its body not read yet: the client's next message is that
                await asyncio.sleep(pause)
            elif await _left(receive, pause):
                return


class _Tee:
    """One attempt's ``receive``, keeping what the app reads of the body (up to
    ``REPLAY_MAX_BYTES``) so that the next attempt can be given it again."""

    def __init__(self, receive: Any) -> None:
        self.receive, self.body = receive, bytearray()
        self.started = self.complete = self.too_large = False

    async def __call__(self) -> Any:
        message = await self.receive()
        if message["type"] == "http.request":
            self.started = True
            if not self.too_large:
                self.body += message.get("body", b"")
                self.too_large = len(self.body) > REPLAY_MAX_BYTES
                if self.too_large:
                    self.body = bytearray()
            self.complete = not message.get("more_body", False)
        return message

    def again(self) -> Any:
        """A ``receive`` for another attempt: this one's, untouched, when the app read none of
        the body; the body kept, when it read all of it; None when neither can be had."""
        if not self.started:
            return self.receive
        if self.complete and not self.too_large:
            return _Resend(bytes(self.body), _client_of(self.receive))
        return None


def _client_of(receive: Any) -> Any:
    """The client's own ``receive`` behind the attempts' wrappers."""
    return receive.receive if isinstance(receive, _Resend) else receive


class _Resend:
    """The request's ``receive`` for one attempt: the kept body first, then whatever the
    client sends next (its disconnect)."""

    def __init__(self, body: bytes, receive: Any) -> None:
        self.body, self.receive, self.sent = body, receive, False

    async def __call__(self) -> Any:
        if self.sent:
            return await self.receive()
        self.sent = True
        return {"type": "http.request", "body": self.body, "more_body": False}


class _Held:
    """The app's answer, passed on at once unless it is the database's 503, which is held
    until the middleware decides to send it or to try again."""

    def __init__(self, send: Any) -> None:
        self._send, self._passing = send, False
        self.messages: list[MutableMapping[str, Any]] = []

    async def send(self, message: MutableMapping[str, Any]) -> None:
        if self._passing:
            await self._send(message)
        elif self.messages or (
            message["type"] == "http.response.start"
            and message["status"] == 503
            and (attempt := ATTEMPT.get()) is not None
            and attempt.failed
        ):
            self.messages.append(message)
        else:
            self._passing = True
            await self._send(message)

    async def release(self) -> None:
        for message in self.messages:
            await self._send(message)


async def _left(receive: Any, seconds: float) -> bool:
    """Wait ``seconds``; whether the client disconnected meanwhile."""
    until = time.monotonic() + seconds
    try:
        message = await asyncio.wait_for(receive(), seconds)
    except TimeoutError:
        return False
    if message.get("type") == "http.disconnect":
        return True
    await asyncio.sleep(max(until - time.monotonic(), 0.0))  # not a disconnect: wait the rest
    return False
