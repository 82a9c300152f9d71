"""A node whose database is away — a failover in progress, a restart — answers 503 with
``Retry-After`` (the request was rolled back; the client sends it again), not a 500."""

from __future__ import annotations

from pathlib import Path

from node_env import in_process


def test_a_request_while_the_database_is_away_gets_a_503(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from anjian.app import create_app

    env = {
        "ANJIAN_DATA_DIR": str(tmp_path / "data"),
        # nothing listens on port 1: every connection is refused, as during a failover
        "ANJIAN_DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1:1/anjian?connect_timeout=2",
        "ANJIAN_NODE_DIVISION": "140000",
        "ANJIAN_BACKGROUND_JOBS": "false",
        "ANJIAN_SYNC_FORWARDER": "false",
        "ANJIAN_MQTT_INGEST": "false",
        # replays off (0): the 503 at once; tests/ops/test_replay.py has the window
        "ANJIAN_DB_RETRY_SECONDS": "0",
    }
    with in_process(env), TestClient(create_app(), base_url="https://testserver") as client:
        r = client.post("/api/v1/auth/login", json={"username": "a", "password": "b"})
        assert r.status_code == 503, r.text
        assert r.headers["retry-after"] == "1" and "retry" in r.json()["detail"]
        assert client.get("/healthz").status_code != 500
