"""The sealed file of a backup (备份文件): a stream encrypted with SM4-GCM in chunks under the
operator's key, readable only whole and unchanged.

Layout: the magic ``ANJIANBK``, a format byte, a header (4-byte length and JSON, in clear: when
and where it was made, what it holds, and a check value of the key — an HMAC-SM3 that tells a
wrong key from a changed file without revealing the key), then chunks, each a 4-byte length
and the SM4-GCM ciphertext of up to :data:`CHUNK` bytes with its 16-byte tag. A chunk's nonce
is the header's random prefix and the chunk's number; its associated data binds the header's
SM3 digest, the number and whether it is the last, so a chunk changed, dropped, moved or cut
off — or a header changed — fails authentication, and bytes after the last chunk are refused."""

from __future__ import annotations

import hmac
import json
import os
import struct
from typing import IO, Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from anjian.core.crypto import hmac_sm3
from anjian.core.errors import AnjianError

MAGIC = b"ANJIANBK"
FORMAT = 1
CHUNK = 1 << 20
TAG = 16
MAX_HEADER = 64 * 1024
_KEY_CHECK = b"anjian backup key check"


class SealedError(AnjianError):
    """A sealed file that cannot be opened: not one, a wrong key, or changed."""


def key_check(key: bytes) -> str:
    """The check value of a key kept in the header (an HMAC-SM3, not the key)."""
    return hmac_sm3(key, _KEY_CHECK)[:32]


def _digest(data: bytes) -> bytes:
    h = hashes.Hash(hashes.SM3())
    h.update(data)
    return h.finalize()


class SealedWriter:
    """A binary file-like object: what is written is encrypted chunk by chunk into ``out``.
    :meth:`close` writes the last chunk (it must be called for the file to be whole)."""

    def __init__(self, out: IO[bytes], key: bytes, header: dict[str, Any]) -> None:
        self._out, self._key = out, key
        self._prefix = os.urandom(8)
        head = dict(header, format=FORMAT, chunk=CHUNK, nonce=self._prefix.hex())
        head["key_check"] = key_check(key)
        raw = json.dumps(head, ensure_ascii=False, sort_keys=True).encode()
        out.write(MAGIC + bytes([FORMAT]) + struct.pack(">I", len(raw)) + raw)
        self._bound = _digest(raw)
        self._buffer = bytearray()
        self._index = 0
        self.closed = False

    def write(self, data: bytes) -> int:
        self._buffer += data
        while len(self._buffer) > CHUNK:
            self._seal(bytes(self._buffer[:CHUNK]), last=False)
            del self._buffer[:CHUNK]
        return len(data)

    def _seal(self, plain: bytes, *, last: bool) -> None:
        nonce = self._prefix + struct.pack(">I", self._index)
        enc = Cipher(algorithms.SM4(self._key), modes.GCM(nonce)).encryptor()
        enc.authenticate_additional_data(_aad(self._bound, self._index, last))
        body = enc.update(plain) + enc.finalize() + enc.tag
        self._out.write(struct.pack(">I", len(body)) + body)
        self._index += 1

    def flush(self) -> None:
        self._out.flush()

    def close(self) -> None:
        if not self.closed:
            self._seal(bytes(self._buffer), last=True)
            self._buffer.clear()
            self.closed = True


def _aad(bound: bytes, index: int, last: bool) -> bytes:
    return bound + struct.pack(">QB", index, 1 if last else 0)


def read_header(src: IO[bytes]) -> tuple[dict[str, Any], bytes]:
    """The clear header of a sealed file and its raw bytes (the reader is left at the first
    chunk); a file that is not one is refused."""
    start = src.read(len(MAGIC) + 1 + 4)
    if len(start) < len(MAGIC) + 5 or not start.startswith(MAGIC):
        raise SealedError("不是安监云备份文件 (not an Anjian backup file)", field="file")
    if start[len(MAGIC)] != FORMAT:
        raise SealedError(
            f"备份格式 {start[len(MAGIC)]} 不受支持 (unsupported backup format)", field="file"
        )
    (size,) = struct.unpack(">I", start[-4:])
    if size > MAX_HEADER:
        raise SealedError("备份文件头无效 (backup header too large)", field="file")
    raw = src.read(size)
    try:
        header = json.loads(raw)
    except ValueError:
        raise SealedError("备份文件头无效 (backup header is not JSON)", field="file") from None
    if not isinstance(header, dict) or len(raw) < size:
        raise SealedError("备份文件头无效 (backup header cut off)", field="file")
    return header, raw


class SealedReader:
    """A binary file-like object reading the plain stream of a sealed file, each chunk
    authenticated before any of its bytes is handed out."""

    def __init__(self, src: IO[bytes], key: bytes) -> None:
        self._src, self._key = src, key
        self.header, raw = read_header(src)
        if not hmac.compare_digest(str(self.header.get("key_check", "")), key_check(key)):
            raise SealedError(
                "密钥与备份不符 (the key file is not the key this backup was made with)",
                field="key_file",
            )
        try:
            self._prefix = bytes.fromhex(str(self.header["nonce"]))
            chunk = int(self.header["chunk"])
        except (KeyError, ValueError):
            raise SealedError("备份文件头无效 (backup header incomplete)", field="file") from None
        if len(self._prefix) != 8 or not 0 < chunk <= 64 * CHUNK:
            raise SealedError("备份文件头无效 (backup header incomplete)", field="file")
        self._limit = chunk + TAG
        self._bound = _digest(raw)
        self._chunk, self._pos = b"", 0  # the chunk being read and how far
        self._index = 0
        self._done = False

    def _next(self) -> bytes:
        """The next chunk's plain bytes; sets ``_done`` after the last one."""
        start = self._src.read(4)
        if len(start) < 4:
            raise SealedError(
                f"备份文件不完整: 第 {self._index} 块缺失 (the backup is cut off)", field="file"
            )
        (size,) = struct.unpack(">I", start)
        body = self._src.read(size) if TAG <= size <= self._limit else b""
        if len(body) != size or size < TAG:
            raise SealedError(
                f"备份文件不完整或已被改动: 第 {self._index} 块 (the backup is cut off or changed)",
                field="file",
            )
        nonce = self._prefix + struct.pack(">I", self._index)
        for last in (False, True):
            dec = Cipher(algorithms.SM4(self._key), modes.GCM(nonce, body[-TAG:])).decryptor()
            dec.authenticate_additional_data(_aad(self._bound, self._index, last))
            try:
                plain = dec.update(body[:-TAG]) + dec.finalize()
            except InvalidTag:
                continue
            self._index += 1
            if last:
                if self._src.read(1):
                    raise SealedError(
                        "备份文件末尾有多余数据 (bytes after the end of the backup)",
                        field="file",
                    )
                self._done = True
            return plain
        raise SealedError(
            f"备份文件已被改动: 第 {self._index} 块校验失败 (chunk {self._index} fails "
            "authentication: the file was changed)",
            field="file",
        )

    def read(self, size: int = -1) -> bytes:
        parts: list[bytes] = []
        want = size
        while want != 0:
            if self._pos >= len(self._chunk):
                if self._done:
                    break
                self._chunk, self._pos = self._next(), 0
                continue
            end = len(self._chunk) if want < 0 else min(len(self._chunk), self._pos + want)
            parts.append(self._chunk[self._pos : end])
            if want > 0:
                want -= end - self._pos
            self._pos = end
        return b"".join(parts)

    def readable(self) -> bool:
        return True
