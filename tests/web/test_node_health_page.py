"""The node page shows the health of the node's subtree: each node's last report, red where it
is silent or late, orange where it was not backed up for two days, in the user's jurisdiction."""

from __future__ import annotations

import re
from typing import Any

from anjian.ops.health import report
from samples import node_health


def test_the_node_page_shows_the_subtree_health(console: Any) -> None:
    node = console.node
    with node.db() as s:
        report(s)  # this node (the province)
        s.add(
            node_health(
                "140622",
                ago_s=15 * 60,
                lag_s=5.0,
                backlog=40,
                backup_ago_h=2,
                figures={"points_reporting": 7, "database_bytes": 1_400_000_000},
            )
        )
        standbys = [
            {"name": "s1", "state": "streaming", "sync": "sync", "lag_s": 0.0},
            {"name": "s2", "state": "streaming", "sync": "async", "lag_s": 0.2},
        ]
        # 朔州 on 一主两备 in good order; 山阴 with its synchronous standby gone
        s.add(node_health("140600", figures={"standbys_expected": 2, "standbys": standbys}))
        s.add(node_health("140621", figures={"standbys_expected": 2, "standbys": standbys[1:]}))
    console.login("sheng")
    page = node.client.get("/nodes").text
    county = re.search(r'<tr id="health-140622">.*?</tr>', page, re.S)
    assert county, page
    row = county.group(0)
    assert "应县" in row and "15 分钟前" in row and "40 条" in row and "2 小时前" in row
    assert "1.4 GB" in row and 'bg-red-lt me-1">失联' in row
    # this node, never backed up: orange
    own = re.search(r'<tr id="health-140000">.*?</tr>', page, re.S)
    assert own and "刚刚" in own.group(0) and "从未备份" in own.group(0)
    assert 'bg-orange-lt me-1">未备份' in own.group(0)
    city = re.search(r'<tr id="health-140600">.*?</tr>', page, re.S)
    assert city and "2/2 备库在线，同步 s1" in city.group(0)
    assert "备库 " not in city.group(0) and "无同步备库" not in city.group(0)
    shanyin = re.search(r'<tr id="health-140621">.*?</tr>', page, re.S)
    assert shanyin and "1/2 备库在线" in shanyin.group(0)
    assert 'bg-orange-lt me-1">备库 1/2' in shanyin.group(0)
    assert 'bg-orange-lt me-1">无同步备库' in shanyin.group(0)
    # the county's official sees the county's node only
    console.login("yingxian")
    page = node.client.get("/nodes").text
    assert 'id="health-140622"' in page and 'id="health-140000"' not in page


def test_the_cmdb_page_answers_what_an_outage_hits(console: Any) -> None:
    from anjian.core.audit.service import SYSTEM
    from anjian.monitoring.gateways import issue_token
    from samples import mine_enterprise

    node = console.node
    with node.db() as s:
        for division in ("140600", "140622", "140100"):
            s.add(node_health(division, ago_s=0))
        issue_token(s, SYSTEM, mine_enterprise().uscc)
    console.login("sheng")
    assert 'id="cmdb-link"' in node.client.get("/nodes").text
    page = node.client.get("/cmdb").text
    assert 'id="cmdb-node"' in page and 'id="cmdb-gateway"' in page and "应县节点" in page
    hit = node.client.get("/cmdb", params={"item": "link:140600"}).text
    affected = set(re.findall(r'class="badge [^"]+ impact-item" data-id="([^"]+)"', hit))
    assert affected == {"node:140600", "node:140622"}
    broker = node.client.get("/cmdb", params={"item": "service:140000:broker"}).text
    mine = node.enterprises["ying_mine"]
    assert set(re.findall(r'impact-item" data-id="([^"]+)"', broker)) == {f"gateway:{mine}"}
    unknown = node.client.get("/cmdb", params={"item": "link:999999"})
    assert unknown.status_code == 200 and "没有此配置项" in unknown.text
    huge = node.client.get("/cmdb", params={"item": "x" * 10_000})
    assert huge.status_code < 500
