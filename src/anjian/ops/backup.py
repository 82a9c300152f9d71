"""Backup and restore of a node (备份与恢复): its database and its data directory (keys, uploads,
audit seals, settings) in one sealed file (:mod:`anjian.ops.sealed`) under the operator's SM4
key, which is kept apart from the node.

Inside the seal, a gzip-compressed tar stream: ``manifest.json`` first (what the backup holds:
node, database kind and schema revision, each member's size and SM3 digest), then the database —
an SQLite online backup (a consistent copy while the node runs) or a ``pg_dump`` in its custom
format (one snapshot) — then the data directory's files. Reading a backup checks every chunk's
tag and every member's digest against the manifest before anything is restored."""

from __future__ import annotations

import gzip
import io
import json
import os
import re
import secrets
import shutil
import sqlite3
import subprocess
import tarfile
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext, suppress
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote, urlencode

from cryptography.hazmat.primitives import hashes
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url

from anjian.config import Settings, config_path, private_dir
from anjian.core.crypto import sm3_file
from anjian.core.errors import AnjianError
from anjian.db import database_hosts, utcnow
from anjian.ops.sealed import SealedReader, SealedWriter, read_header

MANIFEST = "manifest.json"
_HEX_KEY = re.compile(r"[0-9a-fA-F]{32}")
_SQLITE_SIDE = ("", "-wal", "-shm", "-journal")
_BLOCK = 1 << 20


def new_key(path: Path) -> None:
    """Write a new backup key (32 hex digits, readable by its owner only) to ``path``; an
    existing file is never overwritten."""
    private_dir(path.parent)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise AnjianError(
            f"密钥文件已存在, 未覆盖: {path} (the key file exists; it is never overwritten)",
            field="new_key",
        ) from None
    with os.fdopen(fd, "w") as f:
        f.write(secrets.token_hex(16) + "\n")


def read_key(path: Path) -> bytes:
    """The 128-bit SM4 key in ``path`` (32 hex digits, surrounding blanks ignored)."""
    try:
        raw = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        raise AnjianError(f"密钥文件不存在: {path} (no such key file)", field="key_file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise AnjianError(f"无法读取密钥文件: {path} ({exc})", field="key_file") from None
    if not _HEX_KEY.fullmatch(raw):
        raise AnjianError(
            f"密钥文件应为 32 位十六进制数字: {path} (a key file holds 32 hex digits)",
            field="key_file",
        )
    return bytes.fromhex(raw)


@dataclass(frozen=True)
class Member:
    """A file in the backup: its name there, size and SM3 digest."""

    name: str
    size: int
    sm3: str


@dataclass(frozen=True)
class Made:
    """A backup written: where, its size and the SM3 digest of the whole file."""

    path: Path
    size: int
    sm3: str
    manifest: dict[str, Any]


# --- the database ------------------------------------------------------------------------------


def _kind(url: URL) -> str:
    name = url.get_backend_name()
    if name not in ("sqlite", "postgresql"):
        raise AnjianError(f"不支持备份此数据库: {name} (unsupported database)", field="database")
    return name


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise AnjianError("SQLite 数据库须为文件 (an SQLite database file is needed)")
    return Path(url.database).resolve()


def _libpq(url: URL) -> tuple[str, dict[str, str]]:
    """A libpq URI without the password, and the environment that carries it (a password on
    the command line would be visible to every user of the machine). A multi-host URL
    (``?host=a:5432&host=b:5432``, the 一主两备 node's) becomes libpq's ``a:5432,b:5432``: the
    programs then reach whichever host its other parameters pick (read-write: the primary)."""
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    if not url.query.get("host"):
        plain = url.set(drivername="postgresql", password=None)
        return plain.render_as_string(hide_password=False), env
    listed = database_hosts(url)
    user = f"{quote(url.username, safe='')}@" if url.username else ""
    rest = [
        (key, value)
        for key, values in url.query.items()
        if key != "host"
        for value in ([values] if isinstance(values, str) else values)
    ]
    query = f"?{urlencode(rest)}" if rest else ""
    return f"postgresql://{user}{','.join(listed)}/{quote(url.database or '')}{query}", env


def _run(args: list[str], env: dict[str, str], what: str) -> None:
    try:
        done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise AnjianError(
            f"未找到 {args[0]}: 请安装 PostgreSQL 客户端 (install postgresql-client)",
            field="database",
        ) from None
    if done.returncode != 0:
        raise AnjianError(f"{what}失败 ({args[0]}): {done.stderr.strip()[-500:]}")


def _revision(url: URL) -> str | None:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except Exception:
        return None
    finally:
        engine.dispose()


def _dump(url: URL, into: Path) -> Path:
    """The node's database copied into ``into``: one consistent snapshot."""
    if _kind(url) == "sqlite":
        out = into / "anjian.db"
        source = sqlite3.connect(f"file:{_sqlite_path(url)}?mode=ro", uri=True)
        target = sqlite3.connect(out)
        try:
            with target:
                source.backup(target)  # all pages in one step: one read transaction
        finally:
            source.close()
            target.close()
        return out
    out = into / "anjian.dump"
    uri, env = _libpq(url)
    _run(
        ["pg_dump", "--format=custom", "--no-owner", "--no-privileges", "--file", str(out), uri],
        env,
        "导出数据库",
    )
    return out


# --- the data directory ------------------------------------------------------------------------


def _skipped(settings: Settings, url: URL, extra: list[Path]) -> set[Path]:
    """Paths of the data directory not copied as files: the SQLite database (copied online),
    caches, and backup or archive folders that happen to lie inside it."""
    skip = {settings.data_dir.resolve() / "cache"}
    if _kind(url) == "sqlite":
        db = _sqlite_path(url)
        skip |= {db.with_name(db.name + side) for side in _SQLITE_SIDE}
    for folder in (settings.backup_dir, settings.monitoring_archive_dir, *extra):
        if folder:
            skip.add(Path(folder).resolve())
    return skip


def _files(settings: Settings, url: URL, extra: list[Path]) -> Iterator[tuple[str, Path]]:
    """(name in the backup, path) of the data directory's regular files, in a stable order."""
    root = settings.data_dir.resolve()
    if not root.is_dir():
        return
    skip = _skipped(settings, url, extra)
    for folder, dirs, names in os.walk(root):
        here = Path(folder)
        dirs[:] = sorted(d for d in dirs if (here / d) not in skip)
        for name in sorted(names):
            path = here / name
            if path in skip or name.endswith(".tmp") or not path.is_file() or path.is_symlink():
                continue
            yield "data/" + path.relative_to(root).as_posix(), path


# --- writing -----------------------------------------------------------------------------------


def make_backup(settings: Settings, to: Path, key: bytes, *, kind: str = "manual") -> Made:
    """Write a backup of the node to ``to`` (written under a temporary name and renamed, so a
    file named ``to`` is always whole)."""
    url = make_url(settings.effective_database_url)
    database = _kind(url)
    to = to.resolve()
    if to.is_dir():
        raise AnjianError(f"备份目标是目录: {to} (give a file name)", field="to")
    private_dir(to.parent)
    work = Path(private_dir(to.parent / f".{to.name}.{secrets.token_hex(6)}.work"))
    partial = to.with_name(f".{to.name}.{secrets.token_hex(6)}.part")
    try:
        dump = _dump(url, work)
        members = [(f"database/{dump.name}", dump)]
        members += list(_files(settings, url, [work, partial, to]))
        created = utcnow().isoformat()
        manifest: dict[str, Any] = {
            "format": 1,
            "kind": kind,
            "created_at": created,
            "node_id": settings.effective_node_id,
            "division": settings.node_division,
            "database": {"kind": database, "member": members[0][0], "revision": _revision(url)},
            "files": [
                {"name": name, "size": path.stat().st_size, "sm3": sm3_file(path)}
                for name, path in members
            ],
        }
        header = {
            "created_at": created,
            "node_id": settings.effective_node_id,
            "division": settings.node_division,
            "database": database,
        }
        with open(partial, "wb") as out:
            sealed = SealedWriter(out, key, header)
            with (
                gzip.GzipFile(fileobj=sealed, mode="wb", compresslevel=1, mtime=0) as gz,
                tarfile.open(fileobj=gz, mode="w|", format=tarfile.PAX_FORMAT) as tar,
            ):
                _add_bytes(tar, MANIFEST, json.dumps(manifest, ensure_ascii=False).encode())
                for entry, (name, path) in zip(manifest["files"], members, strict=True):
                    _add_file(tar, name, path, entry["size"])
            sealed.close()
            out.flush()
            os.fsync(out.fileno())
        os.chmod(partial, 0o600)
        os.replace(partial, to)
        return Made(to, to.stat().st_size, sm3_file(to), manifest)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        partial.unlink(missing_ok=True)


def _info(name: str, size: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = size, 0o600, 0
    return info


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    tar.addfile(_info(name, len(data)), io.BytesIO(data))


def _add_file(tar: tarfile.TarFile, name: str, path: Path, size: int) -> None:
    """Add exactly the ``size`` bytes the manifest measured (a file that grows meanwhile — a log
    appended to — is cut at that size, so its digest still holds)."""
    with open(path, "rb") as f:
        tar.addfile(_info(name, size), _Exact(f, size))


class _Exact:
    """A reader of the first ``size`` bytes of ``f``, refusing a file that shrank."""

    def __init__(self, f: IO[bytes], size: int) -> None:
        self._f, self._left = f, size

    def read(self, n: int = -1) -> bytes:
        n = self._left if n < 0 else min(n, self._left)
        data = self._f.read(n)
        if len(data) < n:
            raise AnjianError(f"备份期间文件变短: {self._f.name} (a file shrank during backup)")
        self._left -= len(data)
        return data


# --- reading -----------------------------------------------------------------------------------


def peek(path: Path) -> dict[str, Any]:
    """The clear header of a backup file (no key needed): when, where and what."""
    with _opened(path) as f:
        return read_header(f)[0]


@contextmanager
def _opened(path: Path) -> Iterator[IO[bytes]]:
    try:
        with open(path, "rb") as f:
            yield f
    except FileNotFoundError:
        raise AnjianError(f"备份文件不存在: {path} (no such file)", field="file") from None
    except IsADirectoryError:
        raise AnjianError(f"备份文件是目录: {path} (a directory)", field="file") from None


def _safe(name: str) -> bool:
    parts = name.split("/")
    return not name.startswith("/") and all(p not in ("", ".", "..") for p in parts)


def _check_member(src: IO[bytes], entry: dict[str, Any], target: Path | None) -> None:
    """Read a member whole, writing it to ``target`` if given; its size and SM3 digest must be
    the manifest's."""
    digest = hashes.Hash(hashes.SM3())
    size = 0
    if target is not None:
        private_dir(target.parent)
    with open(target, "wb") if target is not None else nullcontext() as out:
        while block := src.read(_BLOCK):
            digest.update(block)
            size += len(block)
            if out is not None:
                out.write(block)
    if size != entry["size"] or digest.finalize().hex() != entry["sm3"]:
        raise AnjianError(
            f"备份成员校验失败: {entry['name']} (digest does not match the manifest)", field="file"
        )


def open_backup(path: Path, key: bytes, into: Path | None = None) -> dict[str, Any]:
    """Check a backup whole — every chunk's tag, every member's size and digest against the
    manifest, nothing missing or extra — and return its manifest; with ``into``, its members are
    written there as they are checked (a failed check leaves ``into`` to the caller to remove)."""
    with _opened(path) as f:
        reader = SealedReader(f, key)
        try:
            with (
                gzip.GzipFile(fileobj=reader, mode="rb") as gz,  # type: ignore[arg-type]
                tarfile.open(fileobj=gz, mode="r|") as tar,
            ):
                manifest = _read_members(tar, into)
                while gz.read(_BLOCK):  # the archive's padding, and gzip's own check at its end
                    pass
            if reader.read(1):
                raise AnjianError("备份文件末尾有多余数据 (data after the archive)", field="file")
        except (OSError, EOFError, tarfile.TarError, ValueError, KeyError, TypeError) as exc:
            raise AnjianError(
                f"备份内容无法读取 (unreadable backup): {exc}", field="file"
            ) from None
        return manifest


_SM3_HEX = re.compile(r"[0-9a-f]{64}")


def _checked_manifest(manifest: Any) -> dict[str, Any]:
    """The manifest, if it is one: its files well formed, named safely, listing the database."""
    bad = AnjianError("备份清单无效 (the manifest is not valid)", field="file")
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), list):
        raise bad
    database = manifest.get("database")
    if not isinstance(database, dict) or database.get("kind") not in ("sqlite", "postgresql"):
        raise bad
    names = set()
    for entry in manifest["files"]:
        if not (
            isinstance(entry, dict)
            and isinstance(entry.get("name"), str)
            and _safe(entry["name"])
            and type(entry.get("size")) is int
            and entry["size"] >= 0
            and isinstance(entry.get("sm3"), str)
            and _SM3_HEX.fullmatch(entry["sm3"])
        ):
            raise bad
        names.add(entry["name"])
    if database.get("member") not in names or len(names) != len(manifest["files"]):
        raise bad
    return manifest


def _read_members(tar: tarfile.TarFile, into: Path | None) -> dict[str, Any]:
    manifest: dict[str, Any] | None = None
    expected: dict[str, dict[str, Any]] = {}
    seen: set[str] = set()
    for info in tar:
        src = tar.extractfile(info) if info.isfile() else None
        if manifest is None:
            if info.name != MANIFEST or src is None:
                raise AnjianError("备份缺少清单 (the backup has no manifest)", field="file")
            manifest = _checked_manifest(json.loads(src.read()))
            expected = {m["name"]: m for m in manifest["files"]}
            continue
        entry = expected.get(info.name)
        if entry is None or src is None or not _safe(info.name) or info.name in seen:
            raise AnjianError(
                f"备份含清单外的内容: {info.name} (not in the manifest)", field="file"
            )
        seen.add(info.name)
        _check_member(src, entry, into / info.name if into is not None else None)
    if manifest is None:
        raise AnjianError("备份缺少清单 (the backup has no manifest)", field="file")
    missing = sorted(set(expected) - seen)
    if missing:
        raise AnjianError(f"备份缺少文件: {', '.join(missing[:5])}", field="file")
    return manifest


# --- restoring ---------------------------------------------------------------------------------


def _restorable(settings: Settings, url: URL) -> None:
    """Refuse to restore over a node that holds anything: its data directory must be empty
    (but for its settings file) and its database empty."""
    root = settings.data_dir.resolve()
    settings_file = config_path().resolve()
    if root.is_dir():
        present = sorted(p.name for p in root.iterdir() if p.resolve() != settings_file)
        if present:
            raise AnjianError(
                f"数据目录不为空: {root} ({', '.join(present[:5])}); 只能恢复到空节点 "
                "(restore needs an empty data directory)",
                field="data_dir",
            )
    if _kind(url) == "sqlite":
        db = _sqlite_path(url)
        if db.exists() and db.stat().st_size > 0:
            raise AnjianError(f"数据库文件已存在: {db} (restore needs an empty database)")
        return
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            count = conn.execute(
                text(
                    "SELECT count(*) FROM pg_class c JOIN pg_namespace n "
                    "ON n.oid = c.relnamespace WHERE n.nspname = 'public'"
                )
            ).scalar()
    except Exception as exc:
        raise AnjianError(
            f"无法连接目标数据库: {exc} (create it first)", field="database"
        ) from None
    finally:
        engine.dispose()
    if count:
        raise AnjianError(
            f"目标数据库不为空 ({count} 个对象) (restore needs an empty database)",
            field="database",
        )


def restore_backup(settings: Settings, path: Path, key: bytes) -> dict[str, Any]:
    """Check ``path`` whole, then restore it into this node's (empty) data directory and
    database; the manifest. Nothing is put in place unless the whole backup checks out."""
    url = make_url(settings.effective_database_url)
    _restorable(settings, url)
    root = settings.data_dir.resolve()
    private_dir(root)
    work = Path(private_dir(root.parent / f".{root.name}.restore.{secrets.token_hex(6)}"))
    try:
        manifest = open_backup(path, key, into=work)
        kind = manifest["database"]["kind"]
        if kind != _kind(url):
            raise AnjianError(
                f"备份的数据库为 {kind}, 本节点配置为 {_kind(url)} "
                "(the backup's database is of another kind than this node's)",
                field="database",
            )
        dump = work / manifest["database"]["member"]
        if kind == "sqlite":
            db = _sqlite_path(url)
            private_dir(db.parent)
            staged = db.with_name(f".{db.name}.{secrets.token_hex(6)}.tmp")
            shutil.copyfile(dump, staged)
            os.chmod(staged, 0o600)
            os.replace(staged, db)
        else:
            uri, env = _libpq(url)
            _run(
                [
                    "pg_restore",
                    "--no-owner",
                    "--no-privileges",
                    "--exit-on-error",
                    "--single-transaction",
                    "--dbname",
                    uri,
                    str(dump),
                ],
                env,
                "恢复数据库",
            )
        files = work / "data"
        if files.is_dir():
            for entry in sorted(files.iterdir()):
                target = root / entry.name
                if target.resolve() == config_path().resolve() and target.exists():
                    continue  # this node's own settings file stays
                os.replace(entry, target)
        return manifest
    finally:
        shutil.rmtree(work, ignore_errors=True)


def described(manifest: dict[str, Any]) -> str:
    """One line on what a backup holds, for the operator."""
    files = manifest.get("files", [])
    size = sum(int(f.get("size", 0)) for f in files)
    created = manifest.get("created_at", "")
    with suppress(TypeError, ValueError):
        created = datetime.fromisoformat(created).strftime("%Y-%m-%d %H:%M:%S UTC")
    return (
        f"节点 {manifest.get('node_id')} ({manifest.get('division')}), {created}, "
        f"数据库 {manifest.get('database', {}).get('kind')}, {len(files)} 个文件, "
        f"{size / 1e6:.1f} MB"
    )
