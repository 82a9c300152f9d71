"""Login throttling kept in memory (one per application): rate limits per client address and
per user name, and the failure record of user names that do not exist, so that an unknown name
answers exactly like a real one (same remaining attempts, same lockout)."""

from __future__ import annotations

import threading
import time

from anjian.config import Settings
from anjian.core.errors import TooManyRequests
from anjian.core.iam.rules import FailureState
from anjian.core.ratelimit import MAX_KEYS, Clock, RateLimiter
from anjian.db import utcnow


class LoginGuard:
    """Per-process login limits; see :meth:`admit` and :meth:`failures_of`."""

    def __init__(self, per_ip: int, per_account: int, *, clock: Clock = time.monotonic) -> None:
        self.per_ip = RateLimiter(per_ip, 60.0, clock=clock)
        self.per_account = RateLimiter(per_account, 60.0, clock=clock)
        self._unknown: dict[str, FailureState] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> LoginGuard:
        return cls(settings.login_rate_per_ip, settings.login_rate_per_account)

    def admit(self, username: str, ip: str | None) -> None:
        """Count one login attempt; raise 429 when the address or the name has made too many
        in the last minute (nothing is written for it: a flood must not fill the audit log)."""
        wait = self.per_ip.hit(f"ip:{ip or '?'}")
        if wait is None:
            wait = self.per_account.hit(f"user:{username}")
        if wait is not None:
            raise TooManyRequests(
                wait, "登录尝试过于频繁，请稍后再试 (too many login attempts, try again later)"
            )

    def failures_of(self, username: str) -> FailureState:
        """The failed-login record of a user name that does not exist."""
        with self._lock:
            return self._unknown.get(username, FailureState())

    def remember(self, username: str, state: FailureState) -> None:
        """Keep the record of an unknown name after one more failure."""
        with self._lock:
            if username not in self._unknown and len(self._unknown) >= MAX_KEYS:
                self._forget_settled()
            self._unknown[username] = state

    def _forget_settled(self) -> None:
        # Names no longer locked go first; a flood of fresh names then loses its oldest.
        now = utcnow()
        settled = [
            k for k, s in self._unknown.items() if s.locked_until is None or s.locked_until <= now
        ]
        for key in settled or list(self._unknown)[: MAX_KEYS // 10]:
            del self._unknown[key]
