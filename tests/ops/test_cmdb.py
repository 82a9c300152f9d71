"""The configuration database (CMDB): the nodes of the jurisdiction with their services and
uplinks, and this node's gateways, drawn from what the node knows; the impact queries of the
issue — which counties are blind above when a city's link is down, which enterprises' readings
stop when the broker stops — and the jurisdiction."""

from __future__ import annotations

from typing import Any

from anjian.core.audit.service import SYSTEM
from anjian.ops.cmdb import Relation, impact
from samples import node_health

API = "/api/v1/ops/cmdb"


def test_impact_follows_what_depends_on_what() -> None:
    relations = [
        Relation("node:c", "link:c", "seen_above_through"),
        Relation("link:c", "node:b", "reaches"),
        Relation("node:b", "link:b", "seen_above_through"),
        Relation("link:b", "node:a", "reaches"),
        Relation("gw:1", "svc:a:broker", "ingests_at"),
        Relation("svc:a:broker", "node:a", "runs_on"),
        Relation("node:a", "node:a", "loop"),  # a cycle ends, it does not hang
    ]
    assert impact(relations, "link:b") == {"node:b", "link:c", "node:c"}
    assert impact(relations, "link:c") == {"node:c"}
    assert impact(relations, "svc:a:broker") == {"gw:1"}
    assert impact(relations, "node:a") == {
        "link:b",
        "node:b",
        "link:c",
        "node:c",
        "gw:1",
        "svc:a:broker",
    }
    assert impact(relations, "nothing") == set()


def _reported(node: Any, *divisions: str) -> None:
    with node.db() as s:
        for division in divisions:
            s.add(node_health(division))


def test_the_inventory_and_its_impact_queries(personas: Any) -> None:
    from anjian.monitoring.gateways import issue_token
    from samples import chem_enterprise, mine_enterprise

    node = personas
    _reported(node, "140600", "140622", "140621", "140100")
    with node.db() as s:
        for sample in (mine_enterprise(), chem_enterprise()):
            issue_token(s, SYSTEM, sample.uscc)
    node.add_points("ying_mine", {"code": "CH4-1", "preset": "coal_ch4_t1_face"})
    province = node.login("sheng")
    got = node.client.get(API, headers=province).json()
    ids = {i["id"] for i in got["items"]}
    assert {"node:140000", "node:140600", "node:140622", "node:140100"} <= ids
    assert {"link:140600", "link:140622", "link:140621", "link:140100"} <= ids
    assert "link:140000" not in ids  # no parent above this node
    assert "service:140622:broker" in ids
    mine = node.enterprises["ying_mine"]
    gateway = next(i for i in got["items"] if i["id"] == f"gateway:{mine}")
    assert gateway["detail"]["points"] == 1 and gateway["kind_label"] == "企业网关"

    def hit(item: str, kind: str, headers: dict[str, str] = province) -> set[str]:
        r = node.client.get(f"{API}/impact", params={"item": item, "kind": kind}, headers=headers)
        assert r.status_code == 200, r.text
        return {i["id"] for i in r.json()["affected"]}

    # the city's link down: the city and its counties are blind above; Taiyuan is not
    assert hit("link:140600", "node") == {"node:140600", "node:140622", "node:140621"}
    assert hit("link:140622", "node") == {"node:140622"}
    # the broker stops: both enterprises' readings stop
    chem = node.enterprises["shan_chem"]
    assert hit("service:140000:broker", "gateway") == {f"gateway:{mine}", f"gateway:{chem}"}
    assert hit("service:140622:broker", "gateway") == set()
    # a city official's inventory is the city's
    city = node.login("shuozhou")
    seen = {i["id"] for i in node.client.get(API, headers=city).json()["items"]}
    assert "node:140600" in seen and "node:140100" not in seen and "node:140000" not in seen
    assert hit("link:140600", "node", city) == {"node:140600", "node:140622", "node:140621"}
    missing = node.client.get(f"{API}/impact", params={"item": "link:140100"}, headers=city)
    assert missing.status_code == 404 and "item" in missing.text
    long = node.client.get(f"{API}/impact", params={"item": "x" * 101}, headers=province)
    assert long.status_code == 422 and "item" in long.text
    assert node.client.get(API, headers=node.login("qiye")).status_code == 403
