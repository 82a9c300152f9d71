"""Going down: what a child pulls from its parent (directives, and records made above about a
division in the child's area) and applies."""

from __future__ import annotations

import orjson
from sqlalchemy.orm import Session

from anjian.core.divisions.rules import prefix_of
from anjian.core.errors import Unauthorized
from anjian.core.sync.apply import apply_batch
from anjian.core.sync.guard import Source
from anjian.core.sync.links import (
    DOWN_SOURCES,
    PULL_BATCH,
    link_cipher,
    link_key,
)
from anjian.core.sync.models import SyncLink
from anjian.core.sync.outbox import outbox_counter, settled_head
from anjian.core.sync.protocol import (
    SealError,
    check_fresh,
    message_id,
    open_sealed,
    seal,
)
from anjian.core.sync.push import (
    changes_for,
    child_for,
    decryptor,
    message_header,
    refuse,
    resend_from,
    transport_form,
)
from anjian.core.sync.registry import spec_for
from anjian.db import utcnow

# --- downward: directives pulled by children -----------------------------------------------------


def relevant_to(target: str, child_division: str) -> bool:
    """A directive addressed above, at or below the child's division reaches the child."""
    return child_division.startswith(prefix_of(target)) or target.startswith(
        prefix_of(child_division)
    )


def within_area(division: str, child_division: str) -> bool:
    """A record placed in ``division`` lies in the child's area (at or below its division):
    where a record made above about a lower division goes down (``also_down``). Unlike
    :func:`relevant_to`, never to a child below the record's division: a provincial inspection
    of a city-level enterprise concerns the city, not its counties."""
    return division.startswith(prefix_of(child_division))


def _goes_down(entity: str, payload: str, child_division: str) -> bool:
    """Whether the change of ``entity`` (its payload as JSON text) is served to the child."""
    spec = spec_for(entity)
    if spec is None or not (spec.downward or spec.also_down):
        return False
    division = str(orjson.loads(payload).get(spec.division_attr) or "")
    if spec.downward:
        return relevant_to(division, child_division)
    return within_area(division, child_division)


def build_pull(link: SyncLink) -> bytes:
    # ``stored``: how far the parent acknowledged our changes; more than it now holds means it
    # was restored from a backup (see serve_pull).
    return seal(
        link_key(link),
        message_header(
            "pull", to_division=link.division_code, since=link.down_seq, stored=link.up_seq
        ),
        {},
    )


def serve_pull(session: Session, message: bytes, source: Source | None = None) -> bytes:
    """Directives (and other downward records) for one child after its cursor. A pull
    accepted before (see :func:`receive_push`) is answered without counting as contact.

    Only changes made here or received from our parent (``DOWN_SOURCES``) go down: what a
    child sent up never goes back down, to it or to a sibling."""
    link, header, _body = child_for(session, message, source)
    try:
        check_fresh(header, utcnow())
    except SealError as exc:
        raise refuse(session, link, header, str(exc), source, Unauthorized(str(exc))) from None
    if source is None or not source.guard.replayed(message_id(message)):
        link.last_contact_at = utcnow()
    if source is not None:
        source.guard.accepted(message_id(message))
    since = int(header.get("since", 0))
    head = settled_head(session)
    if head is None:  # writers held the outbox too long: nothing this time, the child asks again
        return seal(
            link_key(link),
            message_header("down", to_division=link.division_code),
            {"entries": [], "last_seq": since, "head_seq": since, "stored_seq": link.up_seq},
        )
    if since > outbox_counter(session) or int(header.get("stored", 0)) > link.up_seq:
        # Our database was restored from a backup: sequence numbers the child has passed may
        # be reused, so it starts over (applying is idempotent). A cursor above the newest row
        # that is left (the upkeep deleted the newest) is no restore: nothing new, same cursor.
        since = 0
    rows = changes_for(session, since, head, DOWN_SOURCES, PULL_BATCH)
    decrypt = decryptor(link_cipher())
    out = []
    for row in rows:
        if _goes_down(row.entity, row.payload, link.division_code):
            out.append(transport_form(row, decrypt))
    last = rows[-1].seq if len(rows) == PULL_BATCH else max(head, since)
    return seal(
        link_key(link),
        message_header("down", to_division=link.division_code),
        {"entries": out, "last_seq": last, "head_seq": max(head, since), "stored_seq": link.up_seq},
    )


def apply_pull(session: Session, link: SyncLink, message: bytes) -> tuple[int, bool]:
    """Apply what the parent sent down; returns how many records changed here, and whether
    the parent has more after this batch."""
    try:
        _, body = open_sealed(link_key(link), message)
    except SealError as exc:
        raise Unauthorized(f"上级节点下发数据校验失败: {exc}") from None
    report = apply_batch(
        session, body["entries"], source="parent", cipher=link_cipher(), allowed_prefix=None
    )
    link.down_seq = int(body["last_seq"])
    link.last_contact_at, link.last_error = utcnow(), None
    stored = body.get("stored_seq")
    if stored is not None and int(stored) < link.up_seq:
        # The parent holds less of ours than it acknowledged (restored from a backup): resend
        # from there, even if we have nothing new to push.
        resend_from(session, link, int(stored))
    return report.applied, int(body["last_seq"]) < int(body.get("head_seq", body["last_seq"]))
