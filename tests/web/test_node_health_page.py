"""The node page shows the health of the node's subtree: each node's last report, red where it
is silent or late, orange where it was not backed up for two days, in the user's jurisdiction."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from anjian.db import utcnow
from anjian.ops.health import report
from anjian.ops.models import NodeHealth


def test_the_node_page_shows_the_subtree_health(console: Any) -> None:
    node = console.node
    with node.db() as s:
        report(s)  # this node (the province)
        s.add(
            NodeHealth(
                origin_node="node-140622",
                node_id="node-140622",
                division_code="140622",
                reported_at=utcnow() - timedelta(minutes=15),
                every_s=60.0,
                backlog=40,
                lag_s=5.0,
                last_backup_at=utcnow() - timedelta(hours=2),
                figures={"points_reporting": 7, "database_bytes": 1_400_000_000},
                version=3,
            )
        )
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
    # the county's official sees the county's node only
    console.login("yingxian")
    page = node.client.get("/nodes").text
    assert 'id="health-140622"' in page and 'id="health-140000"' not in page
