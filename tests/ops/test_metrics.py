"""``GET /metrics``: the Prometheus text format, readable by Prometheus's own parser, with the
requests the node answered (by route template), the backlog and lag toward its parent, open
alarms, database size and pool, free disk and last good backup; open to the machine itself, or to whoever sends
``ANJIAN_METRICS_TOKEN``, and to nobody else."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from typer.testing import CliRunner

from anjian.cli import app

TOKEN = "s3cret-scrape-token"


def _families(text: str) -> dict[str, Any]:
    return {f.name: f for f in text_string_to_metric_families(text)}


def _value(families: dict[str, Any], name: str, **labels: str) -> float | None:
    """The first sample named ``name`` (a counter's ``_total``, a histogram's ``_count``…) with
    ``labels``."""
    for family in families.values():
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return float(sample.value)
    return None


def test_metrics_show_requests_sync_alarms_database_and_backups(
    personas: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from anjian.config import get_settings

    node = personas
    monkeypatch.setenv("ANJIAN_METRICS_TOKEN", TOKEN)
    get_settings.cache_clear()
    official = node.login("yingxian")
    for _ in range(3):
        assert node.client.get("/api/v1/enterprises", headers=official).status_code == 200
    enterprise = node.enterprises["ying_mine"]
    assert node.client.get(f"/api/v1/enterprises/{enterprise}", headers=official).status_code == 200
    from anjian.monitoring.batch import now_ms
    from anjian.monitoring.ingest import ingest

    node.add_points("ying_mine", {"code": "LT-1", "kind": "tank_level", "h": 8, "hh": 9})
    with node.db() as s:  # a reading past HH: one alarm of level 1 open
        out = ingest(s, enterprise, {"readings": [{"point": "LT-1", "value": 9.5, "ts": now_ms()}]})
        assert out.raised == 1
    from anjian.core.audit.service import SYSTEM
    from anjian.core.orgs.models import OrgKind
    from anjian.core.orgs.service import create_org
    from anjian.core.sync.links import set_parent

    with node.db() as s:  # a parent that has heard nothing yet, and a change to send it
        set_parent(s, SYSTEM, "https://nation.example", "k" * 40, "000000")
    with node.db() as s:
        create_org(s, SYSTEM, name="新单位", kind=OrgKind.AGENCY, division_code="140000")
    key = tmp_path / "k"
    runner = CliRunner()
    assert runner.invoke(app, ["backup", "--new-key", str(key)]).exit_code == 0
    made = runner.invoke(app, ["backup", "--to", str(tmp_path / "b.bak"), "--key-file", str(key)])
    assert made.exit_code == 0, made.output

    r = node.client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain")
    families = _families(r.text)
    listed = _value(
        families,
        "anjian_http_requests_total",
        method="GET",
        route="/api/v1/enterprises",
        status="200",
    )
    assert listed is not None and listed >= 3
    # one series for every enterprise read: the template, not the id
    one = _value(
        families,
        "anjian_http_requests_total",
        method="GET",
        route="/api/v1/enterprises/{enterprise_id}",
        status="200",
    )
    assert one is not None and one >= 1
    assert not any(
        s.labels.get("route", "").endswith(f"/enterprises/{enterprise}")
        for s in families["anjian_http_requests"].samples
    )
    timed = _value(
        families, "anjian_http_request_duration_seconds_count", route="/api/v1/enterprises"
    )
    assert timed is not None and timed >= 3
    assert _value(families, "anjian_node_info", division="140000") == 1
    assert (_value(families, "anjian_database_bytes") or 0) > 100_000
    assert (_value(families, "anjian_disk_free_bytes") or 0) > 0
    assert _value(families, "anjian_db_pool_connections", state="checked_out") is not None
    assert _value(families, "anjian_alarms_open", level="1") == 1
    backlog = _value(families, "anjian_sync_backlog", role="parent", division="000000")
    assert backlog is not None and backlog >= 1
    lag = _value(families, "anjian_sync_lag_seconds", role="parent", division="000000")
    assert lag is not None and lag >= 0
    backed = _value(families, "anjian_backup_last_success_timestamp_seconds")
    assert backed is not None and backed > 1.7e9


def test_metrics_are_for_the_machine_itself_or_a_token(
    node: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from anjian.config import get_settings

    def scrape(client: tuple[str, int], headers: dict[str, str] | None = None) -> int:
        async def go() -> int:
            transport = httpx.ASGITransport(app=node.client.app, client=client)
            async with httpx.AsyncClient(transport=transport, base_url="https://node") as c:
                return (await c.get("/metrics", headers=headers or {})).status_code

        return asyncio.run(go())

    # no token configured: the machine itself only
    assert scrape(("127.0.0.1", 5000)) == 200
    assert scrape(("::1", 5000)) == 200
    assert scrape(("10.1.2.3", 5000)) == 403
    assert scrape(("not-an-address", 5000)) == 403
    # a token configured: it is needed from everywhere, the machine too
    monkeypatch.setenv("ANJIAN_METRICS_TOKEN", TOKEN)
    get_settings.cache_clear()
    assert scrape(("127.0.0.1", 5000)) == 401
    assert scrape(("10.1.2.3", 5000), {"Authorization": "Bearer wrong"}) == 401
    assert scrape(("10.1.2.3", 5000), {"Authorization": TOKEN}) == 401
    assert scrape(("10.1.2.3", 5000), {"Authorization": "Bearer " + "x" * 100_000}) in (401, 431)
    assert scrape(("10.1.2.3", 5000), {"Authorization": f"Bearer {TOKEN}"}) == 200


def test_the_grafana_dashboard_asks_only_for_metrics_the_node_exposes(node: Any) -> None:
    """deploy/grafana/anjian-node.json: each panel's queries name metrics /metrics serves (a
    renamed metric would leave a panel empty without a word)."""
    import json
    import re

    from anjian.core.metrics import REGISTRY

    exposed: set[str] = set()
    for family in REGISTRY.collect():
        suffixes = {
            "counter": ("_total",),
            "histogram": ("_bucket", "_count", "_sum"),
        }.get(family.type, ("",))
        exposed |= {family.name + s for s in suffixes}
    dashboard = json.loads(
        (Path(__file__).parents[2] / "deploy" / "grafana" / "anjian-node.json").read_text()
    )
    asked = {
        name
        for panel in dashboard["panels"]
        for target in panel["targets"]
        for name in re.findall(r"anjian_[a-z0-9_]+", target["expr"])
    }
    asked |= set(re.findall(r"anjian_[a-z0-9_]+", json.dumps(dashboard["templating"])))
    assert len(asked) >= 12
    assert asked <= exposed, asked - exposed
