"""Node links and the exchange of changes (分级接入，逐级转发), one door for callers: links
(``links``), changes going up (``push``), directives coming down (``pull``), the outbox's
upkeep (``upkeep``) and the node's status (``status``)."""

from __future__ import annotations

from anjian.core.sync.links import (
    DOWN_SOURCES,
    PULL_BATCH,
    PUSH_BATCH,
    UP_SOURCES,
    child_links,
    link_child,
    link_cipher,
    link_key,
    node_actor,
    parent_link,
    revoke_child,
    set_parent,
)
from anjian.core.sync.pull import (
    apply_pull,
    build_pull,
    relevant_to,
    serve_pull,
)
from anjian.core.sync.push import (
    PushResult,
    accept_ack,
    build_push,
    changes_for,
    child_for,
    decryptor,
    message_header,
    pending_up,
    push_response,
    receive_push,
    refuse,
    resend_from,
    transport_form,
)
from anjian.core.sync.status import (
    LinkStatus,
    check_parent_division,
    node_status,
)
from anjian.core.sync.upkeep import (
    _PRUNE_CHUNK,
    backlog,
    prunable,
    prune_outbox,
)

__all__ = [
    "DOWN_SOURCES",
    "PULL_BATCH",
    "PUSH_BATCH",
    "UP_SOURCES",
    "_PRUNE_CHUNK",
    "LinkStatus",
    "PushResult",
    "accept_ack",
    "apply_pull",
    "backlog",
    "build_pull",
    "build_push",
    "changes_for",
    "check_parent_division",
    "child_for",
    "child_links",
    "decryptor",
    "link_child",
    "link_cipher",
    "link_key",
    "message_header",
    "node_actor",
    "node_status",
    "parent_link",
    "pending_up",
    "prunable",
    "prune_outbox",
    "push_response",
    "receive_push",
    "refuse",
    "relevant_to",
    "resend_from",
    "revoke_child",
    "serve_pull",
    "set_parent",
    "transport_form",
]
