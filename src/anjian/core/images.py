"""Images attached to records (photos, signatures): recognised by their first bytes, not their
name; kept as files named by their SM3 digest in a folder of the node's data directory; described
on the record by a small entry (digest, name, type, size, who, when) that travels with the record
up the tiers while the file itself stays at the node that received it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from anjian.config import get_settings, private_dir
from anjian.core.crypto import sm3
from anjian.core.errors import Invalid, NotFound
from anjian.db import utcnow

MAX_IMAGE_BYTES = 10 * 1024 * 1024
# What a phone camera, a scanner or a signature pad (a canvas) produces.
_MAGIC = {
    b"\xff\xd8\xff": ("image/jpeg", "jpg"),
    b"\x89PNG\r\n\x1a\n": ("image/png", "png"),
}
_EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}


def image_kind(data: bytes) -> tuple[str, str] | None:
    """The media type and file extension of a JPEG, PNG or WebP image; None for anything else."""
    for magic, kind in _MAGIC.items():
        if data.startswith(magic):
            return kind
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return ("image/webp", "webp")
    return None


def upload_dir(name: str) -> Path:
    """The folder of one kind of upload (``hazards``, ``findings``) in the data directory."""
    return get_settings().data_dir / "uploads" / name


def checked_image(data: bytes, what: str = "照片", field: str = "file") -> tuple[str, str]:
    """The media type and extension of an acceptable image, or a 422 naming ``field``."""
    if len(data) > MAX_IMAGE_BYTES:
        raise Invalid(f"{what}不能超过 10 MB (image larger than 10 MB)", field=field)
    kind = image_kind(data)
    if kind is None:
        raise Invalid(f"{what}只能是 JPEG、PNG 或 WebP 图片 (JPEG, PNG or WebP only)", field=field)
    return kind


def store_image(
    folder: Path, data: bytes, filename: str, by: str, kind: tuple[str, str]
) -> dict[str, Any]:
    """Keep a checked image in ``folder`` under its digest (once, however often it comes) and
    return the entry that describes it on its record."""
    media_type, ext = kind
    digest = sm3(data)  # fast (OpenSSL): callers may hash first to refuse before storing
    target = private_dir(folder) / f"{digest}.{ext}"
    if not target.exists():
        partial = target.with_suffix(".part")
        partial.write_bytes(data)
        partial.replace(target)  # never a half-written image under its final name
    return {
        "sm3": digest,
        "name": Path(filename or f"image.{ext}").name[:200],
        "type": media_type,
        "size": len(data),
        "by": by,
        "at": utcnow().isoformat(),
    }


def image_file(
    folder: Path, entries: list[dict[str, Any]], digest: str, node: str
) -> tuple[Path, str]:
    """The file of the entry with ``digest`` and its media type; 404 when the record has no
    such image or when its file stays at another node (``node``, the record's)."""
    entry = next((e for e in entries if e.get("sm3") == digest), None)
    if entry is None:
        raise NotFound("没有该图片 (no such image)")
    media_type = str(entry["type"])
    path = folder / f"{digest}.{_EXTENSIONS[media_type]}"
    if not path.is_file():
        raise NotFound(
            f"图片保存在节点 {node}，本节点没有原图 (the file stays at the node that received it)"
        )
    return path, media_type
