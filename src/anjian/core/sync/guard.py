"""What a stranger can make a node do through the node-to-node endpoints, bounded in memory
(one guard per application): refused messages are rate-limited per client address and per
claimed node (HTTP 429 with Retry-After), and audited as one record per claimed node and
interval (the first refusal in full, the rest as a count); online messages already accepted are
remembered for as long as they pass the freshness check, so that a replay is a no-op."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy.orm import Session

from anjian.config import Settings
from anjian.core.audit.service import Actor, audit
from anjian.core.errors import TooManyRequests
from anjian.core.ratelimit import MAX_KEYS, Clock, RateLimiter, Tally
from anjian.core.sync.protocol import MAX_CLOCK_SKEW_S

THROTTLED = "throttled"  # tally key of requests answered 429 before they were read
UNKNOWN = "unknown"  # tally key of refusals that claim no registered child


def clip(value: Any, limit: int = 64) -> str | None:
    """A value from a stranger as it may go into the audit log: text, at most ``limit``
    characters (a refusal must never copy a huge field into a record that is kept for ever)."""
    if value is None:
        return None
    text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True)
class Source:
    """Where an online message came from, and the guard that keeps its limits."""

    guard: SyncGuard
    ip: str | None


class SyncGuard:
    """Refusal limits, refusal summaries and the memory of accepted messages."""

    def __init__(self, per_minute: int, summary_s: float, *, clock: Clock = time.monotonic):
        self.per_ip = RateLimiter(per_minute, 60.0, clock=clock)
        self.per_sender = RateLimiter(per_minute, 60.0, clock=clock)
        self.tally = Tally(summary_s, clock=clock)
        self.clock = clock
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> SyncGuard:
        return cls(settings.sync_refusals_per_minute, settings.sync_refusal_summary_s)

    def admit(self, ip: str | None) -> None:
        """Before reading a request: 429 while its address is over its refusal limit (counted
        for the summary, nothing written)."""
        wait = self.per_ip.blocked(f"ip:{ip or '?'}")
        if wait is not None:
            self.tally.add(THROTTLED)
            raise TooManyRequests(wait)

    def oversized(self, ip: str | None) -> None:
        """A body over the size limit, refused unread: it counts against the address."""
        self.per_ip.hit(f"ip:{ip or '?'}")

    def refuse(
        self,
        session: Session,
        ip: str | None,
        sender: str,
        actor: Actor,
        detail: dict[str, Any],
    ) -> TooManyRequests | None:
        """Record one refused message from ``ip`` claiming to be ``sender`` (a registered child's
        division, or :data:`UNKNOWN`): audited in full when it is the first of the sender's
        interval, else counted. Returns the 429 to answer instead when the address or the
        sender is over its limit."""
        wait = self.per_ip.hit(f"ip:{ip or '?'}")
        sender_wait = self.per_sender.hit(f"sender:{sender}")
        if self.tally.add(sender):
            audit(session, replace(actor, ip=ip), "sync.refused", result="failure", detail=detail)
        self.write_summaries(session)
        longest = max(wait or 0.0, sender_wait or 0.0)
        return TooManyRequests(longest) if longest else None

    def write_summaries(self, session: Session) -> None:
        """Audit the counts of finished intervals: one record per claimed node (or for the
        requests throttled unread) with how many refusals it stood for."""
        for summary in self.tally.due():
            division = summary.key if summary.key.isdigit() else None
            audit(
                session,
                Actor(user_id=None, username=f"node:{summary.key}", division_code=division),
                "sync.refused",
                result="failure",
                detail={
                    "reason": "summary",
                    "count": summary.count,
                    "interval_s": self.tally.interval_s,
                },
            )

    def replayed(self, message_id: str) -> bool:
        """Whether an online message was accepted already (within the freshness window)."""
        with self._lock:
            self._forget_old()
            return message_id in self._seen

    def accepted(self, message_id: str) -> None:
        """Remember an accepted online message until it would be refused as stale anyway."""
        with self._lock:
            self._forget_old()
            self._seen.pop(message_id, None)  # kept in the order of acceptance
            if len(self._seen) >= MAX_KEYS:
                self._seen.popitem(last=False)
            self._seen[message_id] = self.clock()

    def _forget_old(self) -> None:
        # Twice the skew: a message is fresh for MAX_CLOCK_SKEW_S either side of our clock.
        horizon = self.clock() - 2 * MAX_CLOCK_SKEW_S
        while self._seen and next(iter(self._seen.values())) < horizon:
            self._seen.popitem(last=False)
