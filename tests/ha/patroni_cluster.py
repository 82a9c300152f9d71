"""一主两备 with automatic failover, on one machine: three Patroni members (``p``, ``s1``,
``s2``) from ``deploy/ha/patroni.yml`` over one etcd, for ``tests/ha/failover.py``.

Patroni bootstraps ``p`` and clones ``s1`` and ``s2`` from it; ``s2`` carries ``nosync`` (the
remote, asynchronous standby), so ``s1`` is the synchronous one. Killing a member kills its
Patroni and its PostgreSQL, as a lost machine; nobody promotes anything by hand: the leader key
expires and Patroni on the synchronous standby takes over. A member started again rejoins as a
standby (pg_rewind)."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import yaml
from cluster import NAMES, Cluster

TEMPLATE = Path(__file__).resolve().parents[2] / "deploy" / "ha" / "patroni.yml"


def available() -> str | None:
    """What is missing to run this cluster, or None."""
    missing = [p for p in ("patroni", "etcd") if shutil.which(p) is None]
    if missing:
        return f"{' and '.join(missing)} not installed (apt-get install patroni etcd-server)"
    return None


class PatroniCluster(Cluster):
    """Members on ``base_port`` … ``base_port + 2``; their REST APIs on ``api_port`` …;
    etcd's client port at ``etcd_port``."""

    def __init__(
        self, base_port: int = 55431, api_port: int = 58008, etcd_port: int = 52379
    ) -> None:
        super().__init__(base_port)
        self.api = {name: api_port + i for i, name in enumerate(NAMES)}
        self.etcd_port = etcd_port
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.etcd: subprocess.Popen[bytes] | None = None

    def _config(self, name: str) -> Path:
        conf: dict[str, Any] = yaml.safe_load(TEMPLATE.read_text())
        conf["name"] = name
        conf["namespace"] = f"/anjian-ha-{os.getpid()}/"
        conf["restapi"] = {
            "listen": f"127.0.0.1:{self.api[name]}",
            "connect_address": f"127.0.0.1:{self.api[name]}",
        }
        conf["etcd3"] = {"hosts": f"127.0.0.1:{self.etcd_port}"}
        conf["log"] = {"dir": str(self.root / f"{name}-log"), "level": "INFO"}
        pg = conf["postgresql"]
        pg.update(
            {
                "listen": f"127.0.0.1:{self.ports[name]}",
                "connect_address": f"127.0.0.1:{self.ports[name]}",
                "data_dir": str(self.root / name),
                "bin_dir": str(self.bin),
                "pgpass": str(self.root / f"{name}.pgpass"),
                # one machine, one user: trust on loopback instead of the template's passwords
                "pg_hba": [
                    "local all all trust",
                    "host replication all 127.0.0.1/32 trust",
                    "host all all 127.0.0.1/32 trust",
                ],
                "parameters": {"unix_socket_directories": str(self.root)},
            }
        )
        conf["bootstrap"]["initdb"] = [
            i for i in conf["bootstrap"]["initdb"] if i != "data-checksums"
        ]  # wal_log_hints is enough for pg_rewind and initdb is quicker without
        conf["tags"]["nosync"] = name == "s2"
        (self.root / f"{name}-log").mkdir(exist_ok=True)
        path = self.root / f"{name}.yml"
        path.write_text(yaml.safe_dump(conf))
        if os.geteuid() == 0:
            shutil.chown(self.root / f"{name}-log", "postgres")
        return path

    def _start_etcd(self) -> None:
        peer = self.etcd_port + 1
        with open(self.root / "etcd.log", "w") as log:
            self.etcd = subprocess.Popen(
                [
                    "etcd",
                    "--name",
                    "e",
                    "--data-dir",
                    str(self.root / "etcd"),
                    "--listen-client-urls",
                    f"http://127.0.0.1:{self.etcd_port}",
                    "--advertise-client-urls",
                    f"http://127.0.0.1:{self.etcd_port}",
                    "--listen-peer-urls",
                    f"http://127.0.0.1:{peer}",
                    "--initial-advertise-peer-urls",
                    f"http://127.0.0.1:{peer}",
                    "--initial-cluster",
                    f"e=http://127.0.0.1:{peer}",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self._until(lambda: self._get(f"http://127.0.0.1:{self.etcd_port}/health"), "etcd up")

    def start(self, name: str) -> None:
        """Start member ``name``'s Patroni (which starts its PostgreSQL)."""
        user = {"user": "postgres", "group": "postgres"} if os.geteuid() == 0 else {}
        env = {k: v for k, v in os.environ.items() if not k.startswith("PATRONI_")}
        env["HOME"] = str(self.root)
        with open(self.root / f"{name}.out", "ab") as out:
            self.procs[name] = subprocess.Popen(
                ["patroni", str(self._config(name))],
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=self.root,
                env=env,
                **user,  # type: ignore[arg-type]
            )

    def up(self) -> None:
        self._start_etcd()
        self.start("p")
        self._until(lambda: self.role("p") == "primary", "p bootstrapped", 120)
        for name in ("s1", "s2"):
            self.start(name)
        for name in ("s1", "s2"):
            self._until(lambda n=name: self.streaming(n), f"{name} streaming", 120)  # type: ignore[misc]
        self.wait_sync("p", "s1")

    @staticmethod
    def _get(url: str) -> dict[str, Any] | None:
        try:
            r = httpx.get(url, timeout=1.0)
        except httpx.HTTPError:
            return None
        try:
            body = r.json()
        except ValueError:
            body = {}
        return body if isinstance(body, dict) else {}

    def _until(self, ready: Any, what: str, timeout: float = 30.0) -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if ready():
                return
            time.sleep(0.1)
        raise RuntimeError(f"timed out waiting for {what}\n{self.logs()}")

    def logs(self, lines: int = 15) -> str:
        """The last lines of each member's and etcd's logs (the folder goes with :meth:`down`)."""
        found = sorted(self.root.glob("*.out")) + sorted(self.root.glob("*-log/*"))
        found += [self.root / "etcd.log"]
        tails = []
        for path in found:
            try:
                text = path.read_text(errors="replace").splitlines()[-lines:]
            except OSError:
                continue
            tails.append(f"--- {path.relative_to(self.root)}\n" + "\n".join(text))
        return "\n".join(tails)

    def status(self, name: str) -> dict[str, Any] | None:
        """Member ``name``'s own account of itself (Patroni's ``GET /patroni``)."""
        return self._get(f"http://127.0.0.1:{self.api[name]}/patroni")

    def role(self, name: str) -> str | None:
        state = self.status(name) or {}
        if state.get("state") != "running":
            return None
        return {"master": "primary"}.get(state.get("role", ""), state.get("role"))

    def streaming(self, name: str) -> bool:
        state = self.status(name) or {}
        return (
            state.get("role") == "replica"
            and state.get("state") == "running"
            and bool((state.get("xlog") or {}).get("received_location"))
        )

    def leader(self) -> str | None:
        """The member that is primary now, by its own account."""
        return next((n for n in NAMES if self.role(n) == "primary"), None)

    def kill(self, name: str) -> None:
        """SIGKILL the member's Patroni, then its PostgreSQL: a lost machine."""
        proc = self.procs.pop(name, None)
        if proc is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
        super().kill(name)

    def down(self) -> None:
        for name in list(self.procs):
            self.procs[name].terminate()
        for proc in self.procs.values():
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        for name in NAMES:
            super().kill(name)
        if self.etcd is not None:
            self.etcd.terminate()
            self.etcd.wait(timeout=10)
        shutil.rmtree(self.root, ignore_errors=True)
