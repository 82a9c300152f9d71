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
