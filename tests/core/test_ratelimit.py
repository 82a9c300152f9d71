"""The in-memory rate limiter and refusal tally, against an injected clock."""

from __future__ import annotations

import pytest

from anjian.core.ratelimit import RateLimiter, Tally, refill, retry_after_header, wait_for_token


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(
    ("tokens", "elapsed", "expected"),
    [(0, 0, 0), (0, 6, 1), (0, 30, 5), (0, 600, 10), (9.5, 6, 10), (3, -5, 3)],
)
def test_refill_is_even_and_capped(tokens, elapsed, expected) -> None:
    assert refill(tokens, elapsed, capacity=10, period_s=60) == pytest.approx(expected)


@pytest.mark.parametrize(("tokens", "wait"), [(1, 0), (2, 0), (0, 6), (0.5, 3)])
def test_wait_for_token(tokens, wait) -> None:
    assert wait_for_token(tokens, capacity=10, period_s=60) == pytest.approx(wait)


@pytest.mark.parametrize(("seconds", "header"), [(0.01, "1"), (1.0, "1"), (5.2, "6"), (0, "1")])
def test_retry_after_is_whole_seconds(seconds, header) -> None:
    assert retry_after_header(seconds) == header


def test_bucket_allows_a_burst_then_waits_and_keys_are_separate() -> None:
    clock = Clock()
    limiter = RateLimiter(3, 60, clock=clock)
    assert [limiter.hit("a") for _ in range(3)] == [None, None, None]
    assert limiter.hit("a") == pytest.approx(20)
    assert limiter.blocked("a") == pytest.approx(20)
    assert limiter.hit("b") is None  # another key has its own bucket
    clock.now += 19
    assert limiter.hit("a") == pytest.approx(1)  # refused hits take nothing
    clock.now += 1
    assert limiter.blocked("a") is None
    assert limiter.hit("a") is None
    assert limiter.hit("a") is not None


def test_tally_reports_the_first_of_an_interval_and_counts_the_rest() -> None:
    clock = Clock()
    tally = Tally(300, clock=clock)
    assert [tally.add("k") for _ in range(4)] == [True, False, False, False]
    assert tally.add("other") is True
    assert tally.due() == []  # the interval is not over
    clock.now += 300
    due = tally.due()
    assert [(s.key, s.count) for s in due] == [("k", 4)]  # "other" had nothing after its first
    assert tally.due() == []  # handed out once
    # A new event after the interval both opens a new interval and queues the old count.
    assert [tally.add("k") for _ in range(3)] == [True, False, False]
    clock.now += 301
    assert tally.add("k") is True
    assert [(s.key, s.count) for s in tally.due()] == [("k", 3)]
