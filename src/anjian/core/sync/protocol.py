"""The wire format between nodes, for HTTPS and for file ferries (网闸) alike: pure functions.

A sealed message is ``MAGIC \\n header \\n mac \\n ciphertext`` where the body (JSON, zlib-
compressed) is SM4-GCM-encrypted under a key derived from the link key, and ``mac`` is
HMAC-SM3 under another derived key over the header and the ciphertext (encrypt-then-MAC). The
header names the sender, so the receiver picks the link key before checking anything else."""

from __future__ import annotations

import base64
import json
import os
import zlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from anjian.config import NODE_ID
from anjian.core.crypto import constant_time_equal, hmac_sm3

MAGIC = b"ANJIAN-SYNC/1"
MAX_CLOCK_SKEW_S = 600  # an online message older or newer than this is refused as a replay
MAX_HEADER_BYTES = 2048  # a header is a dozen short fields: anything longer is not ours
MAX_SEQ = 2**63 - 1  # sequence numbers and counts are int64 (BigId) on every backend
_KINDS = {"push", "pull", "bundle", "ack", "down"}


class SealError(Exception):
    """A message that is malformed, forged, tampered with or not for us."""


@dataclass(frozen=True)
class LinkKeys:
    """Keys derived from one link key: SM4 for confidentiality, HMAC-SM3 for integrity."""

    enc: bytes
    mac: bytes

    @classmethod
    def derive(cls, link_key: bytes) -> LinkKeys:
        return cls(
            enc=bytes.fromhex(hmac_sm3(link_key, b"anjian-sync-enc"))[:16],
            mac=bytes.fromhex(hmac_sm3(link_key, b"anjian-sync-mac")),
        )


def _canonical(header: dict[str, Any]) -> bytes:
    return json.dumps(header, sort_keys=True, ensure_ascii=True, separators=(",", ":")).encode()


def seal(link_key: bytes, header: dict[str, Any], body: Any) -> bytes:
    """Encrypt, compress and authenticate ``body`` under ``link_key``."""
    keys = LinkKeys.derive(link_key)
    nonce = os.urandom(12)
    enc = Cipher(algorithms.SM4(keys.enc), modes.GCM(nonce)).encryptor()
    # level 1: on a LAN or a ferry the link is not the bottleneck, the CPU of every hop is
    plain = zlib.compress(orjson.dumps(body), 1)
    ciphertext = nonce + enc.update(plain) + enc.finalize() + enc.tag
    head = _canonical(header)
    mac = hmac_sm3(keys.mac, head + b"\n" + ciphertext).encode()
    return b"\n".join([MAGIC, head, mac, base64.b64encode(ciphertext)])


def peek_header(message: bytes) -> dict[str, Any]:
    """The header of a sealed message, *unverified* (to choose the link key)."""
    parts = message.split(b"\n", 3)
    if len(parts) != 4 or parts[0] != MAGIC:
        raise SealError("不是安监云同步数据 (not an Anjian sync message)")
    if len(parts[1]) > MAX_HEADER_BYTES:
        raise SealError("同步数据头过长 (header too long)")
    try:
        header = json.loads(parts[1])
    except ValueError as exc:
        raise SealError("同步数据头损坏 (damaged header)") from exc
    if not isinstance(header, dict):
        raise SealError("同步数据头损坏 (damaged header)")
    return header


def _bad(field: str) -> SealError:
    # Names the field, never echoes its value (it came from a stranger).
    return SealError(f"同步数据头字段 {field} 无效 (invalid header field {field})")


def check_header(header: dict[str, Any]) -> None:
    """Bound every field a node reads from a stranger's header before anything is written:
    divisions are six digits, the sender's node id that of :data:`anjian.config.NODE_ID`,
    the timestamp an ISO time with its zone, sequence numbers and counts int64 ≥ 0."""
    division = header.get("from_division")
    if not isinstance(division, str) or len(division) != 6 or not division.isdigit():
        raise _bad("from_division")
    to = header.get("to_division")
    if to is not None and (not isinstance(to, str) or len(to) != 6 or not to.isdigit()):
        raise _bad("to_division")
    node = header.get("from_node")
    if node is not None and (not isinstance(node, str) or not NODE_ID.fullmatch(node)):
        raise _bad("from_node")
    kind = header.get("kind")
    if kind is not None and kind not in _KINDS:
        raise _bad("kind")
    if header.get("v", 1) != 1:
        raise _bad("v")
    ts = header.get("ts")
    if ts is not None:
        try:
            if not isinstance(ts, str) or len(ts) > 40 or datetime.fromisoformat(ts).tzinfo is None:
                raise _bad("ts")
        except ValueError:
            raise _bad("ts") from None
    for field in ("since", "last_seq", "stored", "count"):
        value = header.get(field)
        if value is not None and (
            type(value) is not int or not 0 <= value <= MAX_SEQ  # bool is not a number here
        ):
            raise _bad(field)


def message_id(message: bytes) -> str:
    """What tells one sealed message from every other: its MAC (only meaningful once
    :func:`open_sealed` has verified it)."""
    return message.split(b"\n", 3)[2].decode("ascii", "replace")


def open_sealed(link_key: bytes, message: bytes) -> tuple[dict[str, Any], Any]:
    """Verify and decrypt a sealed message; raises SealError when it was not sealed with
    ``link_key`` or was changed in any byte."""
    header = peek_header(message)
    _magic, head, mac, b64 = message.split(b"\n", 3)
    keys = LinkKeys.derive(link_key)
    try:
        ciphertext = base64.b64decode(b64, validate=True)
    except ValueError as exc:
        raise SealError("同步数据已被篡改 (message was altered)") from exc
    if not constant_time_equal(
        hmac_sm3(keys.mac, head + b"\n" + ciphertext), mac.decode("ascii", "replace")
    ):
        raise SealError(
            "同步数据校验失败：已被篡改或密钥不符 (signature check failed: altered "
            "or signed with another key)"
        )
    nonce, tag, body = ciphertext[:12], ciphertext[-16:], ciphertext[12:-16]
    dec = Cipher(algorithms.SM4(keys.enc), modes.GCM(nonce, tag)).decryptor()
    try:
        plain = dec.update(body) + dec.finalize()
    except InvalidTag as exc:
        raise SealError("同步数据解密失败 (decryption failed)") from exc
    try:
        return header, orjson.loads(zlib.decompress(plain))
    except (zlib.error, orjson.JSONDecodeError) as exc:
        raise SealError("同步数据已损坏 (damaged body)") from exc


def check_fresh(header: dict[str, Any], now: datetime) -> None:
    """Refuse an online message whose timestamp is far from now (a replay of an old capture)."""
    try:
        sent = datetime.fromisoformat(str(header["ts"]))
    except (KeyError, ValueError) as exc:
        raise SealError("同步数据缺少时间戳 (no timestamp)") from exc
    if abs((now - sent).total_seconds()) > MAX_CLOCK_SKEW_S:
        raise SealError("同步数据已过期或时钟不同步 (stale message or clocks out of step)")
