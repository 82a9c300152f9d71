"""Scheduled work of ``anjian serve``: each job at its own interval, a failure logged and the
other jobs (and the next turn) going on, the thread ending when stopped."""

from __future__ import annotations

import threading

import pytest

from anjian.core.periodic import Job, Periodic


def test_jobs_run_at_start_each_at_its_interval_and_survive_failures(
    caplog: pytest.LogCaptureFixture,
) -> None:
    runs = {"often": 0, "failing": 0, "rarely": 0}
    enough = threading.Event()

    def often() -> None:
        runs["often"] += 1
        if runs["often"] >= 4:
            enough.set()

    def failing() -> None:
        runs["failing"] += 1
        raise RuntimeError("boom")

    def rarely() -> None:
        runs["rarely"] += 1

    watch = Periodic(
        "test-periodic",
        [Job("often", often, 0.01), Job("failing job", failing, 0.01), Job("rare", rarely, 3600)],
    )
    watch.start()
    try:
        assert enough.wait(10)
    finally:
        watch.stop()
        watch.join(10)
    assert not watch.is_alive()
    assert runs["failing"] >= 2  # a failure does not stop its job's next turns
    assert runs["rarely"] == 1  # at start, then not again within the hour
    assert "failing job failed" in caplog.text and "boom" in caplog.text
