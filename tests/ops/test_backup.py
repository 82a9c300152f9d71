"""Backup and restore (``anjian backup``, ``anjian restore``): a node backed up while it is being
written to, restored into another data directory and database, has every record committed
before the backup began, its keys and uploads, and an audit chain that verifies against its
seals. A wrong key, a changed byte, a file cut short or padded, a member outside the manifest
and a node that is not empty are refused with a message and exit code 1, restoring nothing.
SQLite and PostgreSQL."""

from __future__ import annotations

import io
import json
import tarfile
import threading
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from anjian.cli import app
from anjian.core.audit.service import SYSTEM
from anjian.ops.rules import backup_due
from node_env import in_process

runner = CliRunner()


def _cli(*args: str) -> Any:
    return runner.invoke(app, list(args))


def _org_ids() -> set[int]:
    from sqlalchemy import select

    from anjian.core.orgs.models import Organisation
    from anjian.db import unit_of_work

    with unit_of_work(read_only=True) as db:
        return set(db.scalars(select(Organisation.id).where(Organisation.name.like("负载%"))))


def test_a_node_backed_up_under_write_load_is_restored_whole(
    node: Any, elsewhere: dict[str, str], tmp_path: Path
) -> None:
    from anjian.core.orgs.models import OrgKind
    from anjian.core.orgs.service import create_org
    from anjian.db import unit_of_work

    key = tmp_path / "backup.key"
    assert _cli("backup", "--new-key", str(key)).exit_code == 0
    assert len(key.read_text().strip()) == 32 and key.stat().st_mode & 0o077 == 0
    upload = node.data_dir / "uploads" / "photo.jpg"
    upload.parent.mkdir(parents=True, exist_ok=True)
    upload.write_bytes(b"\xff\xd8photo")

    committed: list[int] = []
    stop = threading.Event()

    def write() -> None:  # an organisation a commit, each audited, until told to stop
        i = 0
        while not stop.is_set():
            with unit_of_work() as db:
                org = create_org(
                    db, SYSTEM, name=f"负载{i}", kind=OrgKind.AGENCY, division_code="140000"
                )
                db.flush()
                org_id = org.id
            committed.append(org_id)
            i += 1

    writer = threading.Thread(target=write)
    writer.start()
    try:
        while len(committed) < 20:
            stop.wait(0.01)
        assert _cli("audit", "checkpoint").exit_code == 0  # a seal the chain must reach
        before = list(committed)  # committed before the backup began
        out = tmp_path / "node.bak"
        result = _cli("backup", "--to", str(out), "--key-file", str(key))
        assert result.exit_code == 0, result.output
        during = len(committed) - len(before)
    finally:
        stop.set()
        writer.join()
    assert during > 0  # the writes went on while the backup ran
    assert "备份完成" in result.output
    assert _cli("backup", "--verify", str(out), "--key-file", str(key)).exit_code == 0
    backed_up = node.audits("backup.create")
    assert backed_up and backed_up[-1].detail["size"] == out.stat().st_size

    env = elsewhere
    with in_process(env):
        result = _cli("restore", str(out), "--key-file", str(key))
        assert result.exit_code == 0, result.output
        restored = _org_ids()
        assert set(before) <= restored  # every record committed before the backup
        assert restored <= set(committed)
        assert (Path(env["ANJIAN_DATA_DIR"]) / "uploads" / "photo.jpg").read_bytes() == (
            b"\xff\xd8photo"
        )
        verified = _cli("audit", "verify")
        assert verified.exit_code == 0 and "审计链完整" in verified.output, verified.output
        assert "封印" in verified.output
        # the restore itself is audited, in the restored chain
        from sqlalchemy import select

        from anjian.core.audit.models import AuditRecord

        with unit_of_work(read_only=True) as db:
            last = db.scalars(select(AuditRecord).order_by(AuditRecord.seq.desc())).first()
            assert last is not None and last.action == "backup.restore"
        # and a second restore into the now full node is refused
        again = _cli("restore", str(out), "--key-file", str(key))
        assert again.exit_code == 1 and "不为空" in again.output


@pytest.mark.one_backend
def test_a_wrong_key_a_changed_byte_or_a_cut_file_restores_nothing(
    node: Any, elsewhere: dict[str, str], tmp_path: Path
) -> None:
    key, other = tmp_path / "k1", tmp_path / "k2"
    _cli("backup", "--new-key", str(key))
    _cli("backup", "--new-key", str(other))
    good = tmp_path / "good.bak"
    assert _cli("backup", "--to", str(good), "--key-file", str(key)).exit_code == 0
    data = good.read_bytes()

    def variant(name: str, content: bytes) -> Path:
        path = tmp_path / name
        path.write_bytes(content)
        return path

    flipped = bytearray(data)
    flipped[len(data) // 2] ^= 0x01
    header_end = data.index(b"}") + 1
    cases = {
        "wrong key": (good, other, "密钥与备份不符"),
        "changed byte": (variant("flip.bak", bytes(flipped)), key, "已被改动"),
        "changed header": (
            variant("head.bak", data.replace(b'"node-', b'"nodX-', 1)),
            key,
            "已被改动",
        ),
        "cut short": (variant("cut.bak", data[: len(data) - 100]), key, "不完整"),
        "padded": (variant("pad.bak", data + b"\0" * 10), key, "多余数据"),
        "header only": (variant("hdr.bak", data[:header_end]), key, "不完整"),
        "not a backup": (variant("junk.bak", b"PK\x03\x04 a zip"), key, "不是安监云备份文件"),
        "empty": (variant("empty.bak", b""), key, "不是安监云备份文件"),
        "huge header": (variant("huge.bak", b"ANJIANBK\x01\xff\xff\xff\xff"), key, "文件头"),
        "a folder": (tmp_path, key, "目录"),
        "missing": (tmp_path / "nope.bak", key, "不存在"),
    }
    for label, (path, key_file, message) in cases.items():
        result = _cli("backup", "--verify", str(path), "--key-file", str(key_file))
        assert result.exit_code == 1 and message in result.output, (label, result.output)
    env = elsewhere
    with in_process(env):
        for label, (path, key_file, message) in cases.items():
            result = _cli("restore", str(path), "--key-file", str(key_file))
            assert result.exit_code == 1 and message in result.output, (label, result.output)
        assert not Path(env["ANJIAN_DATA_DIR"]).exists() or not any(
            Path(env["ANJIAN_DATA_DIR"]).iterdir()
        )
        assert not (tmp_path / "elsewhere.db").exists()


@pytest.mark.one_backend
def test_bad_key_files_and_options_are_refused(node: Any, tmp_path: Path) -> None:
    key = tmp_path / "k"
    assert _cli("backup", "--new-key", str(key)).exit_code == 0
    before = key.read_text()
    again = _cli("backup", "--new-key", str(key))
    assert again.exit_code == 1 and "已存在" in again.output and key.read_text() == before
    bad = {
        "short.key": b"0123456789abcdef0123456789abcde",
        "long.key": b"0123456789abcdef0123456789abcdef0",
        "letters.key": b"0123456789abcdef0123456789abcdeg",
        "binary.key": bytes(range(32)),
        "utf8.key": "密钥".encode() * 8,
    }
    for name, content in bad.items():
        (tmp_path / name).write_bytes(content)
        result = _cli("backup", "--to", str(tmp_path / "x.bak"), "--key-file", str(tmp_path / name))
        assert result.exit_code == 1 and "key_file" in result.output, (name, result.output)
    for args in (
        [],
        ["--to", str(tmp_path / "x.bak")],
        [
            "--to",
            str(tmp_path / "x.bak"),
            "--verify",
            str(tmp_path / "x.bak"),
            "--key-file",
            str(key),
        ],
        ["--to", str(tmp_path), "--key-file", str(key)],
        ["--to", str(tmp_path / "x.bak"), "--key-file", str(tmp_path / "missing.key")],
    ):
        result = _cli("backup", *args)
        assert result.exit_code == 1 and "错误" in result.output, (args, result.output)
    assert not (tmp_path / "x.bak").exists()


@pytest.mark.one_backend
def test_a_member_outside_the_manifest_or_the_data_directory_is_refused(
    node: Any, elsewhere: dict[str, str], tmp_path: Path
) -> None:
    """A file sealed with the right key but not made by ``anjian backup`` (the key leaked, or a
    tool wrote it): a member not listed, or named to climb out of the data directory, is
    refused before anything is restored."""
    from anjian.ops.backup import MANIFEST, read_key
    from anjian.ops.sealed import SealedWriter

    key_file = tmp_path / "k"
    _cli("backup", "--new-key", str(key_file))
    key = read_key(key_file)

    def sealed(members: dict[str, bytes], listed: dict[str, bytes], first: bool = True) -> Path:
        """A sealed file of ``members``, whose manifest lists ``listed`` (name: the content
        its size and digest are taken from), first in the archive or (``first`` False) last."""
        import gzip

        from anjian.core.crypto import sm3

        manifest = {
            "database": {"kind": "sqlite", "member": "database/anjian.db"},
            "files": [{"name": n, "size": len(c), "sm3": sm3(c)} for n, c in listed.items()],
        }
        raw = io.BytesIO()
        with tarfile.open(fileobj=raw, mode="w") as tar:
            listing = [(MANIFEST, json.dumps(manifest).encode())]
            ordered = [*listing, *members.items()] if first else [*members.items(), *listing]
            for name, content in ordered:
                info = tarfile.TarInfo(name)
                info.size = len(content)
                tar.addfile(info, io.BytesIO(content))
        path = tmp_path / f"{uuid.uuid4().hex[:6]}.bak"
        with open(path, "wb") as out:
            writer = SealedWriter(out, key, {"node_id": "x"})
            writer.write(gzip.compress(raw.getvalue()))
            writer.close()
        return path

    db = {"database/anjian.db": b"db"}
    cases = {
        "climbing": (
            sealed({**db, "data/../../evil": b"x"}, {**db, "data/../../evil": b"x"}),
            "清单无效",
        ),
        "unlisted": (
            sealed({**db, "data/a": b"a", "data/extra": b"e"}, {**db, "data/a": b"a"}),
            "清单外",
        ),
        "missing": (sealed({}, db), "缺少"),
        "swapped": (sealed({**db, "data/f": b"two"}, {**db, "data/f": b"one"}), "校验失败"),
        "no database": (sealed({"data/f": b"f"}, {"data/f": b"f"}), "清单无效"),
        "manifest last": (sealed(db, db, first=False), "缺少清单"),
    }
    for label, (path, message) in cases.items():
        result = _cli("backup", "--verify", str(path), "--key-file", str(key_file))
        assert result.exit_code == 1 and message in result.output, (label, result.output)
    env = elsewhere
    with in_process(env):
        for label, (path, message) in cases.items():
            result = _cli("restore", str(path), "--key-file", str(key_file))
            assert result.exit_code == 1 and message in result.output, (label, result.output)
        assert not any(Path(env["ANJIAN_DATA_DIR"]).iterdir())
    assert not (tmp_path.parent / "evil").exists() and not (tmp_path / "evil").exists()


def test_scheduled_backups_keep_their_number(
    node: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from anjian.config import get_settings
    from anjian.db import unit_of_work
    from anjian.ops.service import last_backup, scheduled_backup

    key = tmp_path / "k"
    _cli("backup", "--new-key", str(key))
    monkeypatch.setenv("ANJIAN_BACKUP_DIR", str(tmp_path / "bk"))
    monkeypatch.setenv("ANJIAN_BACKUP_KEY_FILE", str(key))
    monkeypatch.setenv("ANJIAN_BACKUP_KEEP", "2")
    get_settings.cache_clear()
    made = [scheduled_backup(get_settings(), SYSTEM) for _ in range(3)]
    kept = sorted(p.name for p in (tmp_path / "bk").iterdir())
    assert kept == sorted(m.path.name for m in made[1:] if m is not None)
    with unit_of_work(read_only=True) as db:
        last = last_backup(db)
        assert last is not None and last.kind == "scheduled" and last.sm3 == made[2].sm3
    assert len(node.audits("backup.create")) == 3


def test_scheduled_backups_are_due_by_the_rules() -> None:
    now = datetime(2026, 12, 7, 12, tzinfo=UTC)
    hour = timedelta(hours=1)
    table = [
        (None, None, 24, True),  # never backed up
        (now - 2 * hour, now - 2 * hour, 24, False),  # a good one two hours ago
        (now - 25 * hour, now - 25 * hour, 24, True),  # the last good one is a day old
        (now - 25 * hour, now - 0.5 * hour, 24, False),  # it failed half an hour ago: wait
        (now - 25 * hour, now - 1.5 * hour, 24, True),  # failed an hour and a half ago: again
        (None, now - 0.3 * hour, 0.25, True),  # every quarter hour, tried 18 minutes ago
    ]
    for last_ok, last_try, every, due in table:
        assert backup_due(now, last_ok, last_try, every) is due, (last_ok, last_try, every)


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_a_node_on_a_multi_host_url_is_backed_up_from_its_primary(
    node: Any, tmp_path: Path
) -> None:
    """The 一主两备 node's URL lists every host (``?host=…&host=…``); pg_dump must be given
    libpq's own form of it, or it reads "127.0.0.1:5432" as a host name."""
    from sqlalchemy.engine import make_url

    from anjian.config import get_settings
    from anjian.ops.backup import make_backup, open_backup, read_key

    url = make_url(node.url)
    # the first host refuses (a lost primary); the second is the real server
    multi = (
        f"postgresql+psycopg://{url.username}@/{url.database}"
        f"?host=127.0.0.1:1&host={url.host}:{url.port or 5432}&target_session_attrs=read-write"
    )
    settings = get_settings().model_copy(update={"database_url": multi})
    key = tmp_path / "k"
    assert _cli("backup", "--new-key", str(key)).exit_code == 0
    made = make_backup(settings, tmp_path / "multi.bak", read_key(key))
    manifest = open_backup(made.path, read_key(key))
    assert manifest["database"]["kind"] == "postgresql"
    assert manifest["files"][0]["size"] > 10_000  # a real dump of the node's schema
