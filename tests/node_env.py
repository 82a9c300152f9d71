"""The process-wide state of the application under test: its settings and database engine are
cached (``lru_cache``), so a test or benchmark that switches ``ANJIAN_*`` settings in this
process must forget them. Shared by the test fixtures and the benchmarks (``bench/``)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


def reset_caches() -> None:
    """Forget the cached settings, engine and session factory (the engine's pool closed)."""
    from anjian import db
    from anjian.config import get_settings

    if db.get_engine.cache_info().currsize:
        db.get_engine().dispose()
    get_settings.cache_clear()
    db.get_engine.cache_clear()
    db._factory.cache_clear()


@contextmanager
def in_process(env: dict[str, str]) -> Iterator[None]:
    """The ``ANJIAN_*`` settings of ``env`` (and no others) in this process for the block, the
    caches reset around it; the process's own ``ANJIAN_*`` settings are put back after."""
    saved = {k: v for k, v in os.environ.items() if k.startswith("ANJIAN_")}
    for k in saved:
        del os.environ[k]
    os.environ.update({k: v for k, v in env.items() if k.startswith("ANJIAN_")})
    reset_caches()
    try:
        yield
    finally:
        reset_caches()
        for k in [k for k in os.environ if k.startswith("ANJIAN_")]:
            del os.environ[k]
        os.environ.update(saved)


def forget_session(broker: Any, client_id: str) -> None:
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
