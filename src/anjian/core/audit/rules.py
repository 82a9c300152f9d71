"""Pure rules of the audit chain: canonical form and link hash."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from anjian.core.crypto import hmac_sm3

GENESIS = "0" * 64


def canonical(fields: dict[str, Any]) -> bytes:
    """Stable bytes for hashing: sorted keys, no whitespace, UTC ISO times."""

    def default(v: Any) -> Any:
        if isinstance(v, datetime):
            return v.isoformat()
        raise TypeError(f"cannot hash {type(v).__name__}")

    return json.dumps(
        fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=default
    ).encode()


def link_hash(key: bytes, prev_hash: str, fields: dict[str, Any]) -> str:
    """HMAC-SM3 of the previous hash and this record's canonical fields."""
    return hmac_sm3(key, prev_hash.encode() + b"|" + canonical(fields))


def seal_mac(key: bytes, node: str, seq: int, head_hash: str, sealed_at: datetime) -> str:
    """HMAC-SM3 of a seal: the node, the head's seq and hash, and when it was sealed."""
    return hmac_sm3(
        key,
        b"seal|" + canonical({"node": node, "seq": seq, "hash": head_hash, "sealed_at": sealed_at}),
    )


def seal_regressions(seals: list[tuple[str, int, str, datetime]]) -> list[str]:
    """Problems in the seals of other nodes as received here, in the order received, each
    ``(node, seq, hash, sealed_at)``: a node's chain only grows, so a seal lower than an earlier
    one of the same node means records below the earlier seal were cut (or the node's database
    restored from a backup), and two seals of one record with different hashes mean the chain
    was rewritten."""
    highest: dict[str, tuple[int, datetime]] = {}
    hashes: dict[tuple[str, int], str] = {}
    problems: list[str] = []
    for node, seq, head_hash, sealed_at in seals:
        top = highest.get(node)
        if top is not None and seq < top[0]:
            problems.append(
                f"节点 {node} 的审计链被截断: {top[1]:%Y-%m-%d %H:%M} 封印至第 {top[0]} 条, "
                f"{sealed_at:%Y-%m-%d %H:%M} 只到第 {seq} 条 (node {node}'s audit chain went "
                f"back from {top[0]} to {seq}: records {seq + 1}–{top[0]} were cut)"
            )
        elif top is None or seq > top[0]:
            highest[node] = (seq, sealed_at)
        known = hashes.setdefault((node, seq), head_hash)
        if known != head_hash:
            problems.append(
                f"节点 {node} 第 {seq} 条审计记录的两次封印不一致 (node {node} sealed record "
                f"{seq} twice with different hashes: its chain was rewritten)"
            )
    return problems
