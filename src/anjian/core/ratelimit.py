"""In-memory rate limiting and refusal tallies, keyed by any string (a client address, a user
name, a claimed node). Per process: with several server processes each counts on its own, so a
limit holds per process (a deployment behind N workers allows up to N times as much)."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

Clock = Callable[[], float]  # seconds, only differences matter (time.monotonic by default)

# Keys kept before idle ones are dropped: bounds the memory a flood of fresh keys can take.
MAX_KEYS = 100_000


def refill(tokens: float, elapsed: float, capacity: float, period_s: float) -> float:
    """Tokens in a bucket of ``capacity`` refilled evenly over ``period_s`` after ``elapsed``
    seconds."""
    return min(capacity, tokens + max(elapsed, 0.0) * capacity / period_s)


def wait_for_token(tokens: float, capacity: float, period_s: float) -> float:
    """Seconds until a bucket holding ``tokens`` has one whole token again (0 if it has)."""
    return max(0.0, (1.0 - tokens) * period_s / capacity)


@dataclass
class _Bucket:
    tokens: float
    stamp: float


class RateLimiter:
    """A token bucket per key: ``capacity`` hits at once, then ``capacity`` per ``period_s``
    (evenly refilled). Thread-safe."""

    def __init__(self, capacity: int, period_s: float, *, clock: Clock = time.monotonic) -> None:
        self.capacity, self.period_s, self.clock = max(capacity, 1), period_s, clock
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def _bucket(self, key: str, now: float) -> _Bucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= MAX_KEYS:
                self._forget_full(now)
            bucket = self._buckets[key] = _Bucket(float(self.capacity), now)
        else:
            bucket.tokens = refill(bucket.tokens, now - bucket.stamp, self.capacity, self.period_s)
            bucket.stamp = now
        return bucket

    def _forget_full(self, now: float) -> None:
        # A bucket that has refilled is the same as no bucket: drop those first, then the rest
        # (a flood of fresh keys must not grow memory without bound).
        full = [
            k
            for k, b in self._buckets.items()
            if refill(b.tokens, now - b.stamp, self.capacity, self.period_s) >= self.capacity
        ]
        for key in full or list(self._buckets)[: MAX_KEYS // 10]:
            del self._buckets[key]

    def hit(self, key: str) -> float | None:
        """Take one token for ``key``: None when allowed, else the seconds to wait (nothing is
        taken from an empty bucket, so waiting long enough always works)."""
        with self._lock:
            now = self.clock()
            bucket = self._bucket(key, now)
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return None
            return wait_for_token(bucket.tokens, self.capacity, self.period_s)

    def blocked(self, key: str) -> float | None:
        """Like :meth:`hit` without taking a token: the seconds to wait, or None."""
        with self._lock:
            now = self.clock()
            bucket = self._buckets.get(key)
            if bucket is None:
                return None
            tokens = refill(bucket.tokens, now - bucket.stamp, self.capacity, self.period_s)
            return None if tokens >= 1.0 else wait_for_token(tokens, self.capacity, self.period_s)


def retry_after_header(seconds: float) -> str:
    """The ``Retry-After`` value for a wait: whole seconds, at least 1."""
    return str(max(1, math.ceil(seconds)))


@dataclass(frozen=True)
class TallySummary:
    """What a tally counted for one key in an interval (more than the first event)."""

    key: str
    count: int  # every event of the interval, the first (reported in full) included
    started: float  # clock value of the interval's first event


@dataclass
class _Interval:
    started: float
    count: int = 1  # events in the interval, the first included


class Tally:
    """Counts events per key in fixed intervals, so that a flood is recorded as one line with
    a count rather than a line per event: the first event of a key in an interval is reported
    (to be recorded in full), the rest only counted; :meth:`due` hands out once the count of
    each finished interval that had more than its first event. Thread-safe."""

    def __init__(self, interval_s: float, *, clock: Clock = time.monotonic) -> None:
        self.interval_s, self.clock = interval_s, clock
        self._open: dict[str, _Interval] = {}
        self._done: list[TallySummary] = []  # finished intervals with counts, not handed out
        self._lock = threading.Lock()

    def add(self, key: str) -> bool:
        """Count one event; True when it is the first of its key's interval."""
        with self._lock:
            now = self.clock()
            current = self._open.get(key)
            if current is not None and now - current.started < self.interval_s:
                current.count += 1
                return False
            if current is not None and current.count > 1:
                # The finished interval's count waits for due(); this event opens a new one.
                self._done.append(TallySummary(key, current.count, current.started))
            elif current is None and len(self._open) >= MAX_KEYS:
                return False  # cannot remember more keys: nothing new in full
            self._open[key] = _Interval(now)
            return True

    def due(self) -> list[TallySummary]:
        """The counts of finished intervals not handed out yet (each once), oldest first."""
        with self._lock:
            now = self.clock()
            out, self._done = self._done, []
            for key, current in list(self._open.items()):
                if now - current.started >= self.interval_s:
                    del self._open[key]
                    if current.count > 1:
                        out.append(TallySummary(key, current.count, current.started))
            return sorted(out, key=lambda s: s.started)
