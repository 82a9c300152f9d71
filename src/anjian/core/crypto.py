"""Commercial cryptography (商用密码, GB/T 39786-2021): SM3 hashing and HMAC, SM4 field
encryption, and masking of personal information for display."""

from __future__ import annotations

import base64
import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as crypto_hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

_FIELD_PREFIX = "sm4gcm:"


def sm3(data: bytes) -> str:
    """SM3 digest as lowercase hex."""
    h = hashes.Hash(hashes.SM3())
    h.update(data)
    return h.finalize().hex()


def sm3_file(path: os.PathLike[str] | str, chunk: int = 1 << 20) -> str:
    """SM3 digest of a file's bytes as lowercase hex, read a chunk at a time."""
    h = hashes.Hash(hashes.SM3())
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.finalize().hex()


def hmac_sm3(key: bytes, data: bytes) -> str:
    """HMAC-SM3 as lowercase hex."""
    h = crypto_hmac.HMAC(key, hashes.SM3())
    h.update(data)
    return h.finalize().hex()


def constant_time_equal(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


class FieldCipher:
    """SM4-GCM encryption of single values (phone numbers, ID numbers, TOTP secrets).

    A fresh 96-bit nonce per value; the 128-bit tag detects any change of the ciphertext."""

    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise ValueError("SM4 needs a 128-bit key")
        self._key = key[:16]

    def encrypt(self, plaintext: str | None) -> str | None:
        if plaintext is None or plaintext == "":
            return plaintext
        nonce = os.urandom(12)
        enc = Cipher(algorithms.SM4(self._key), modes.GCM(nonce)).encryptor()
        body = enc.update(plaintext.encode()) + enc.finalize()
        return _FIELD_PREFIX + base64.b64encode(nonce + enc.tag + body).decode()

    def decrypt(self, token: str | None) -> str | None:
        if token is None or token == "":
            return token
        if not token.startswith(_FIELD_PREFIX):
            raise ValueError("value is not SM4-encrypted")
        raw = base64.b64decode(token[len(_FIELD_PREFIX) :])
        nonce, tag, body = raw[:12], raw[12:28], raw[28:]
        dec = Cipher(algorithms.SM4(self._key), modes.GCM(nonce, tag)).decryptor()
        try:
            return (dec.update(body) + dec.finalize()).decode()
        except InvalidTag as exc:
            raise ValueError("encrypted value was altered or the key is wrong") from exc


def _mask(value: str | None, head: int, tail: int) -> str | None:
    """``value`` with all but its first ``head`` and last ``tail`` characters starred; one no
    longer than those, all but its first."""
    if not value:
        return value
    if len(value) <= head + tail:
        return value[:1] + "*" * (len(value) - 1)
    return value[:head] + "*" * (len(value) - head - tail) + value[-tail:]


def mask_phone(phone: str | None) -> str | None:
    """138****5678: keep the first three and last four digits."""
    return _mask(phone, 3, 4)


def mask_id_number(value: str | None) -> str | None:
    """Resident ID (身份证号): keep the first six (division) and last four characters."""
    return _mask(value, 6, 4)


def mask_name(value: str | None) -> str | None:
    """张*明 / 王*: keep the family name and, for names of three or more, the last character."""
    if not value:
        return value
    if len(value) == 1:
        return value
    if len(value) == 2:
        return value[0] + "*"
    return value[0] + "*" * (len(value) - 2) + value[-1]
