"""The forwarder: pushes this node's changes to its parent and pulls what comes down, in a
background thread of ``anjian serve``. It only moves its cursor after the parent's
acknowledgement, so a crash, a restart or a cut link loses nothing; it retries with backoff."""

from __future__ import annotations

import logging
import threading
import time

import httpx
from sqlalchemy.orm import Session

from anjian.core.sync import service
from anjian.core.sync.api import SEALED
from anjian.core.sync.models import SyncLink
from anjian.core.sync.outbox import outbox_committed
from anjian.db import unit_of_work, utcnow

log = logging.getLogger("anjian.sync")
PULL_EVERY_S = 1.0  # while a backlog drains, directives still come down at least this often
# After a commit queued changes, wait this long for more before pushing: a steady write load
# goes up in a few batches a second, not one per transaction.
GATHER_S = 0.25
PRUNE_EVERY_S = 3600.0  # outbox upkeep (see service.prune_outbox)


def sync_once(client: httpx.Client) -> tuple[int, int]:
    """One round: push a batch, pull once, and again while either side had more. Returns
    (pushed, pulled) changes; raises on a transport or protocol error (the caller records it
    and retries). Pulling between batches (at least every PULL_EVERY_S) keeps directives coming
    down while a steady write load or a long backlog keeps the push side busy."""
    pushed = pulled = 0
    pulled_at = 0.0
    while True:
        with unit_of_work(read_only=True) as db:
            link = service.parent_link(db)
            if link is None or not link.url:
                return pushed, pulled
            message, count = service.build_push(db, link)
            url = link.url
        more_up = False
        if count:
            r = _post(client, f"{url}/api/v1/sync/push", message)
            with unit_of_work() as db:
                body = service.accept_ack(db, _parent(db), r.content)
            if body["status"] == "ok":
                pushed += count
            more_up = body["status"] != "ok" or count >= service.PUSH_BATCH
        if more_up and time.monotonic() - pulled_at < PULL_EVERY_S:
            continue  # draining a backlog: pull between batches, but not after every one
        pulled_at = time.monotonic()
        with unit_of_work() as db:
            message = service.build_pull(_parent(db))
        r = _post(client, f"{url}/api/v1/sync/pull", message)
        with unit_of_work() as db:
            applied, more_down = service.apply_pull(db, _parent(db), r.content)
        pulled += applied
        if not (more_up or more_down):
            return pushed, pulled


def _parent(db: Session) -> SyncLink:
    """The parent link, which this round found set up (only an operator's command removes it,
    and then the round fails and is retried)."""
    link = service.parent_link(db)
    assert link is not None
    return link


def _post(client: httpx.Client, url: str, message: bytes) -> httpx.Response:
    """Post a sealed message to the parent; its answer, or a RuntimeError when it refused."""
    r = client.post(url, content=message, headers={"content-type": SEALED})
    if r.status_code != 200:
        try:
            detail = r.json().get("detail", r.text)
        except ValueError:
            detail = r.text
        raise RuntimeError(f"上级节点拒绝 (parent answered {r.status_code}): {detail}")
    return r


# Set by :func:`request_sync`: sync at once, even in the middle of a back-off.
_wake = threading.Event()


def request_sync() -> None:
    """Have this process's forwarder sync at once and start its back-off afresh: for an
    operator who has just restored the link and will not wait out a long back-off."""
    _wake.set()
    outbox_committed.set()


def record_error(message: str) -> None:
    """Keep the last error on the link for `anjian node status` and the node page."""
    with unit_of_work() as db:
        link = service.parent_link(db)
        if link is not None:
            link.last_error, link.last_error_at = message[:500], utcnow()


class Forwarder(threading.Thread):
    """Runs :func:`sync_once` every ``interval`` seconds, and soon after a transaction queued
    changes (at once again while there is more); backs off while the parent fails. Every hour
    it deletes the outbox rows past their retention."""

    def __init__(self, interval: float = 1.0, max_backoff: float = 30.0) -> None:
        super().__init__(name="anjian-forwarder", daemon=True)
        self.interval, self.max_backoff = interval, max_backoff
        self._stopping = (
            threading.Event()
        )  # not `_stop`: threading.Thread.join() calls self._stop()

    def stop(self) -> None:
        self._stopping.set()
        _wake.set()
        outbox_committed.set()

    def run(self) -> None:
        delay = self.interval
        prune_due = 0.0
        with httpx.Client(timeout=30.0) as client:
            while not self._stopping.is_set():
                if time.monotonic() >= prune_due:
                    prune_due = time.monotonic() + PRUNE_EVERY_S
                    try:
                        if pruned := service.prune_outbox():
                            log.info("deleted %d outbox rows past their retention", pruned)
                    except Exception:
                        log.exception("outbox upkeep failed")
                try:
                    sync_once(client)
                except Exception as exc:
                    log.warning("sync with parent failed: %s", exc)
                    try:
                        record_error(str(exc))
                    except Exception:
                        log.exception("could not record the sync error")
                    delay = min(self.max_backoff, max(delay * 2, self.interval))
                    if _wake.wait(delay):  # asked to retry now: and to back off afresh
                        _wake.clear()
                        delay = self.interval
                    continue
                delay = self.interval
                _wake.clear()  # a request made while this round ran: it has been met
                outbox_committed.wait(self.interval)  # or sooner: a commit queued changes
                outbox_committed.clear()
                self._stopping.wait(min(GATHER_S, self.interval))
