"""Scheduled work inside ``anjian serve``: one thread per domain runs its jobs, each at its own
interval, until the server stops."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

log = logging.getLogger("anjian.jobs")


@dataclass(frozen=True)
class Job:
    """A piece of scheduled work: ``run`` every ``every`` seconds (the first time at start).
    ``run`` logs what it did; a failure is logged as ``what`` failed and tried again at its
    next turn, so one bad run never stops the others."""

    what: str
    run: Callable[[], object]
    every: float


class Periodic(threading.Thread):
    """A daemon thread that runs its :class:`Job` list, each when it is due."""

    def __init__(self, name: str, jobs: Sequence[Job]) -> None:
        super().__init__(name=name, daemon=True)
        self.jobs = tuple(jobs)
        self._stopping = threading.Event()

    def stop(self) -> None:
        self._stopping.set()

    def run(self) -> None:
        due = [0.0] * len(self.jobs)
        while not self._stopping.is_set():
            for i, job in enumerate(self.jobs):
                if time.monotonic() < due[i]:
                    continue
                try:
                    job.run()
                except Exception:
                    log.exception("%s failed", job.what)
                due[i] = time.monotonic() + job.every
            self._stopping.wait(max(0.0, min(due) - time.monotonic()))
