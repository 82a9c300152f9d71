"""`anjian serve` as an operator starts it: health, OpenAPI, a clear error on bad settings."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ANJIAN = str(Path(sys.executable).parent / "anjian")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANJIAN_")}
    env.update({"ANJIAN_DATA_DIR": str(tmp_path / "data"), **extra})
    return env


def _init(tmp_path: Path, division: str, timeout: float) -> subprocess.CompletedProcess[str]:
    """``anjian init`` for a node of ``division`` in ``tmp_path``, as an operator runs it."""
    return subprocess.run(
        [ANJIAN, "init"],
        env=_env(tmp_path, ANJIAN_NODE_DIVISION=division),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_serve_answers_healthz_and_openapi(tmp_path: Path) -> None:
    port = _free_port()
    proc = subprocess.Popen(
        [ANJIAN, "serve", "--port", str(port)],
        env=_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except httpx.TransportError:
                assert proc.poll() is None, proc.stdout.read().decode() if proc.stdout else ""
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.3)
        assert r.status_code == 200
        assert r.json()["status"] == "ok"
        spec = httpx.get(f"http://127.0.0.1:{port}/openapi.json", timeout=5).json()
        assert "/api/v1/auth/login" in spec["paths"]
        assert "/api/v1/divisions/{code}" in spec["paths"]
        assert "/api/v1/enterprises" in spec["paths"]
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_bad_setting_is_a_message_not_a_traceback(tmp_path: Path) -> None:
    result = _init(tmp_path, "14", timeout=60)
    assert result.returncode != 0
    assert "ANJIAN_NODE_DIVISION" in result.stderr
    assert "Traceback" not in result.stderr


def test_init_twice_is_safe(tmp_path: Path) -> None:
    counts = []
    for _ in range(2):
        result = _init(tmp_path, "140000", timeout=120)
        assert result.returncode == 0, result.stderr
        match = re.search(r"行政区划 (\d+) 条", result.stdout)
        assert match, result.stdout
        counts.append(int(match.group(1)))
    assert counts[0] == counts[1] > 3000


def test_api_docs_use_only_local_assets(node) -> None:
    html = node.client.get("/docs").text
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in html
    assert re.findall(r"(?:src|href)=['\"]https?://", html) == []
    assert node.client.get("/static/vendor/swagger-ui/swagger-ui-bundle.js").status_code == 200
