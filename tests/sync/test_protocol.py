"""The sealed wire format: round trip, tamper and key checks, freshness."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from anjian.core.sync.protocol import SealError, check_fresh, open_sealed, peek_header, seal

KEY = b"k" * 43
BODY = [
    {"seq": 1, "entity": "enterprise", "payload": {"name": "应县金鼎煤业", "phone": "13912345678"}}
]


def test_round_trip_hides_the_body() -> None:
    message = seal(KEY, {"from_division": "140622", "ts": "x"}, BODY)
    assert b"13912345678" not in message
    assert "金鼎".encode() not in message
    header, body = open_sealed(KEY, message)
    assert header["from_division"] == "140622"
    assert body == BODY


@pytest.mark.parametrize("where", [20, 60, -5])
def test_any_changed_byte_is_refused(where: int) -> None:
    message = bytearray(seal(KEY, {"from_division": "140622"}, BODY))
    message[where] = ord("A") if message[where] != ord("A") else ord("B")
    with pytest.raises(SealError):
        open_sealed(KEY, bytes(message))


def test_another_key_is_refused() -> None:
    with pytest.raises(SealError, match="密钥"):
        open_sealed(b"x" * 43, seal(KEY, {}, BODY))


def test_header_changes_are_refused() -> None:
    message = seal(KEY, {"from_division": "140622", "last_seq": 5}, BODY)
    forged = message.replace(b'"last_seq":5', b'"last_seq":9')
    assert peek_header(forged)["last_seq"] == 9
    with pytest.raises(SealError):
        open_sealed(KEY, forged)


def test_garbage_is_not_a_message() -> None:
    with pytest.raises(SealError, match="不是"):
        peek_header(b"hello")


def test_freshness_window() -> None:
    now = datetime(2026, 11, 29, 8, tzinfo=UTC)
    check_fresh({"ts": (now - timedelta(minutes=5)).isoformat()}, now)
    with pytest.raises(SealError):
        check_fresh({"ts": (now - timedelta(hours=1)).isoformat()}, now)
    with pytest.raises(SealError):
        check_fresh({}, now)
