"""一主两备 on one machine, for the failover test (``tests/ha/failover.py``): a PostgreSQL
primary, a synchronous standby (``s1``) and an asynchronous one (``s2``) by streaming
replication, each its own instance on a port of its own under a temporary directory; the
primary killed like a lost machine; ``s1`` promoted and ``s2`` re-pointed at it — the documented
promote of the README's operations chapter, done here by the test as the operator's runbook (or
a monitor) would."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

NAMES = ("p", "s1", "s2")


def _bindir() -> Path:
    found = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True)
    candidates = [Path(found.stdout.strip())] if found.returncode == 0 else []
    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    for folder in candidates:
        if (folder / "initdb").exists():
            return folder
    raise RuntimeError("PostgreSQL server programs (initdb, pg_ctl) not found")


class Cluster:
    """Three instances on ``base_port`` … ``base_port + 2``."""

    def __init__(self, base_port: int = 55431) -> None:
        self.bin = _bindir()
        self.root = Path(tempfile.mkdtemp(prefix="anjian-ha-"))
        self.ports = {name: base_port + i for i, name in enumerate(NAMES)}
        self.primary = "p"
        os.chmod(self.root, 0o777)

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        cmd = [str(self.bin / args[0]), *args[1:]]
        if os.geteuid() == 0:  # the server programs refuse to run as root
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        done = subprocess.run(cmd, capture_output=True, text=True)
        if check and done.returncode != 0:
            raise RuntimeError(f"{' '.join(args[:2])}: {done.stderr.strip()[-800:]}")
        return done

    def dsn(self, name: str, db: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.ports[name]}/{db}"

    def _conf(self, name: str, lines: list[str], file: str = "postgresql.conf") -> None:
        with open(self.root / name / file, "a") as f:
            f.write("\n".join(lines) + "\n")

    def _start(self, name: str) -> None:
        self._run(
            "pg_ctl",
            "-D",
            str(self.root / name),
            "-l",
            str(self.root / f"{name}.log"),
            "-w",
            "-t",
            "60",
            "start",
        )

    def up(self) -> None:
        self._run(
            "initdb",
            "-D",
            str(self.root / "p"),
            "-A",
            "trust",
            "-U",
            "postgres",
            "--no-sync",
            "-E",
            "UTF8",
            "--locale=C",
        )
        self._conf(
            "p",
            [
                f"port = {self.ports['p']}",
                "listen_addresses = '127.0.0.1'",
                f"unix_socket_directories = '{self.root}'",
                "wal_level = replica",
                "max_wal_senders = 10",
                "hot_standby = on",
                "wal_keep_size = '256MB'",
                "synchronous_standby_names = 'FIRST 1 (s1)'",  # a commit waits for s1
                "synchronous_commit = on",
            ],
        )
        self._start("p")
        for name in ("s1", "s2"):
            self._run(
                "pg_basebackup",
                "-h",
                "127.0.0.1",
                "-p",
                str(self.ports["p"]),
                "-U",
                "postgres",
                "-D",
                str(self.root / name),
                "-R",
                "-X",
                "stream",
                "-c",
                "fast",
            )
            self._conf(name, [f"port = {self.ports[name]}"])
            # after the line pg_basebackup -R wrote there, so that this one wins
            conninfo = (
                f"host=127.0.0.1 port={self.ports['p']} user=postgres application_name={name}"
            )
            self._conf(name, [f"primary_conninfo = '{conninfo}'"], "postgresql.auto.conf")
            self._start(name)
        self.wait_sync("p", "s1")

    def wait_sync(self, primary: str, standby: str, timeout: float = 30.0) -> None:
        """Until ``standby`` is the synchronous standby of ``primary``."""
        import psycopg

        end = time.monotonic() + timeout
        while time.monotonic() < end:
            with psycopg.connect(self.dsn(primary), autocommit=True) as conn:
                row = conn.execute(
                    "SELECT sync_state FROM pg_stat_replication WHERE application_name = %s",
                    (standby,),
                ).fetchone()
            if row and row[0] in ("sync", "quorum"):
                return
            time.sleep(0.2)
        raise RuntimeError(f"{standby} did not become synchronous")

    def pid(self, name: str) -> int | None:
        try:
            return int((self.root / name / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def kill(self, name: str) -> None:
        """SIGKILL the instance and every process of it, as if its machine were lost."""
        pid = self.pid(name)
        if pid is None:
            return
        children = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True)
        for child in [pid, *map(int, children.stdout.split())]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signal.SIGKILL)

    def alive(self, name: str) -> bool:
        pid = self.pid(name)
        if pid is None:
            return False
        try:  # a killed postmaster may linger as a zombie until its parent reaps it
            state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
        except OSError:
            return False
        return state != "Z"

    def promote(self, name: str = "s1", follower: str = "s2") -> None:
        """Promote ``name``; the other standby follows it. The promoted primary commits without
        waiting for a standby until the follower has caught up (availability first: the
        runbook then sets synchronous_standby_names again)."""
        import psycopg

        self._run("pg_ctl", "-D", str(self.root / name), "-w", "-t", "60", "promote")
        with psycopg.connect(self.dsn(name), autocommit=True) as conn:
            conn.execute("ALTER SYSTEM SET synchronous_standby_names = ''")
            conn.execute("SELECT pg_reload_conf()")
        with psycopg.connect(self.dsn(follower), autocommit=True) as conn:
            conn.execute(
                "ALTER SYSTEM SET primary_conninfo = "
                f"'host=127.0.0.1 port={self.ports[name]} user=postgres "
                f"application_name={follower}'"
            )
            conn.execute("SELECT pg_reload_conf()")
        self.primary = name

    def down(self) -> None:
        for name in NAMES:
            if self.alive(name):
                self._run(
                    "pg_ctl", "-D", str(self.root / name), "-m", "immediate", "stop", check=False
                )
        shutil.rmtree(self.root, ignore_errors=True)
