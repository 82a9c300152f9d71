"""Fixtures shared by the MQTT tests: the machine's Mosquitto and an in-process ingest worker."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture
def mosquitto() -> int:
    """The machine's Mosquitto port (required in CI, the test skipped locally when absent)."""
    try:
        socket.create_connection(("127.0.0.1", 1883), timeout=2).close()
    except OSError:
        if os.environ.get("CI"):
            pytest.fail("Mosquitto is required in CI but 127.0.0.1:1883 is unreachable")
        pytest.skip("Mosquitto unreachable at 127.0.0.1:1883: MQTT tests skipped locally")
    return 1883


@pytest.fixture
def worker(personas: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Starts an in-process ingest worker with the settings of the test (torn down after)."""
    started: list[Any] = []

    def start(**env: str) -> Any:
        from anjian.config import get_settings
        from anjian.monitoring.mqtt import start_ingest

        for key, value in env.items():
            monkeypatch.setenv(key, value)
        get_settings.cache_clear()
        threads = start_ingest(get_settings())
        started.extend(threads)
        ingest = threads[-1]
        assert ingest.connected.wait(15), "ingest worker did not connect"
        return ingest

    yield start
    for thread in reversed(started):
        thread.stop()
        thread.join(timeout=10)
    for thread in started:
        if getattr(thread, "broker", None) is not None and thread.broker.shared:
            _forget_session(thread.broker, thread.client_id)


def _forget_session(broker: Any, client_id: str) -> None:
    """Drop a worker's persistent session on the machine's broker (a clean-session connect
    under its client id), so test runs do not leave sessions that queue messages forever."""
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=True)
    if broker.username:
        client.username_pw_set(broker.username, broker.password)
    client.connect(broker.host, broker.port)
    client.loop_start()
    client.disconnect()
    client.loop_stop()
