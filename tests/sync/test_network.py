"""Real nodes talking over real sockets (issue 3): county → city → province → national as
separate ``anjian serve`` processes with their own databases, on SQLite and on PostgreSQL.

- the chaos test writes at two counties through their APIs while nodes are killed (SIGKILL),
  restarted and their links cut at random; a directive issued at the province meanwhile must
  reach both counties and their receipts come back. Afterwards every node above holds exactly
  the counties' latest versions, and every version passed through each tier exactly once
  (nothing lost, nothing applied twice). The county writers also file accident reports and
  follow-ups that raise some of them a grade or two: the nation holds each county's latest
  report, every version once, and the whole reporting chain its grade requires, each step the
  record of the node that keeps that agency;
- a parent's database restored from a backup (the city: a parent of the counties and a child of
  the province) loses nothing either: the children resend what it lost, and what it sends up
  under reused sequence numbers is not mistaken for what its parent already has;
- in process: two PostgreSQL writers that commit out of order are not shipped out of order
  (the forwarder would skip the later-committed one), and the forwarder thread joins cleanly.

The multi-process tests are marked ``slow`` (they run in CI too). Each test prints what it did (``pytest -s``). ``ANJIAN_CHAOS_SEED`` replays a chaos run,
``ANJIAN_CHAOS_SECONDS`` changes its length.
"""

from __future__ import annotations

import os
import random
import shutil
import threading
import time
from collections import Counter
from typing import Any

import orjson
import pytest
from harness import (
    CHAIN_TOPOLOGY,
    CITY,
    COUNTY_A,
    COUNTY_B,
    NATIONAL,
    PROVINCE,
    Api,
    HarnessError,
    wait_until,
)
from network_world import (
    ACCIDENTS,
    CHAOS_SECONDS,
    CONVERGE_S,
    ENTERPRISES_PER_COUNTY,
    Chaos,
    CountyWriter,
    accident_truth,
    accidents_at,
    chain_wanted,
    chains_at,
    check_every_version_once,
    converged,
    county_truth,
    fields,
    hazard_truth,
    hazards_at,
    issue_directive,
    receipts,
    steps_made,
    versions_seen,
)

from anjian.accidents.rules import Grade
from anjian.enterprises.rules import compose_uscc


@pytest.mark.slow
def test_chaos_nothing_lost_nothing_twice(make_network) -> None:
    seed = int(os.environ.get("ANJIAN_CHAOS_SEED", random.randrange(1_000_000)))
    print(f"\nchaos seed {seed} (ANJIAN_CHAOS_SEED={seed} replays the faults)")
    rng = random.Random(seed)
    net = make_network()
    t_setup = time.monotonic()
    net.start()
    setup_s = time.monotonic() - t_setup
    stop = threading.Event()
    directive: dict[str, str] = {}
    writers = [
        CountyWriter(net.node(div), seed=seed + i, stop=stop, directive=directive)
        for i, div in enumerate((COUNTY_A, COUNTY_B))
    ]
    chaos = Chaos(net, rng)
    t_chaos = time.monotonic()
    try:
        for w in writers:
            w.start()
        issued = False
        while time.monotonic() - t_chaos < CHAOS_SECONDS:
            if not issued and time.monotonic() - t_chaos > CHAOS_SECONDS / 3:
                directive["uid"] = issue_directive(net.node(PROVINCE), f"煤矿安全专项检查 {seed}")
                chaos.note(f"directive {directive['uid']} issued at {PROVINCE}")
                issued = True
            chaos.step()
        if not issued:
            directive["uid"] = issue_directive(net.node(PROVINCE), f"煤矿安全专项检查 {seed}")
        # The faults end; the writers go on until the directive is signed at both counties and
        # each county's reports have grown a chain past the city (a short or slow run may not
        # have raised a grade by chance).
        net.ensure_running()
        for w in writers:
            w.wrap_up = True
        wait_until(
            lambda: all(w.signed and w.grown for w in writers) or any(w.errors for w in writers),
            timeout=CONVERGE_S,
            what="both counties to sign the directive and to raise an accident's grade",
        )
    except BaseException:
        print("\n".join(chaos.log))
        for w in writers:
            print(f"writer {w.node.division}: signed={w.signed} acked={w.acked} errors={w.errors}")
        print(net.report())
        raise
    finally:
        stop.set()
        for w in writers:
            w.join(timeout=30)
    chaos_s = time.monotonic() - t_chaos
    for w in writers:
        assert not w.errors, w.errors
        assert len(w.records) == ENTERPRISES_PER_COUNTY

    # The county is the single writer: what it holds now is the truth, and it must hold every
    # write it acknowledged.
    t_converge = time.monotonic()
    truth = county_truth(net, [COUNTY_A, COUNTY_B])
    hazards = hazard_truth(net, [COUNTY_A, COUNTY_B])
    assert all(hazards.values()) and sum(w.hazard_steps for w in writers) > 0
    for w in writers:
        for rec in w.records.values():
            now = truth[rec.uid]
            assert now["version"] >= rec.version
            if rec.fields is not None and now["version"] == rec.version:
                assert now == rec.fields
    accidents = accident_truth(net, [COUNTY_A, COUNTY_B])
    assert accidents and all(w.accident_reports for w in writers)
    for acc in accidents.values():
        assert acc["version"] == 1 + acc["follow_ups"], acc  # the first report, then one each
    assert min(a["grade"] for a in accidents.values()) < Grade.ORDINARY  # some chains grew
    for w in writers:
        for uid, acked in w.accidents.items():
            if acked is not None:
                now = {k: v for k, v in accidents[uid].items() if k != "version"}
                assert now["follow_ups"] >= acked["follow_ups"]
                if now["follow_ups"] == acked["follow_ups"]:
                    assert now == acked
    reports = {uid: {k: v for k, v in a.items() if k != "version"} for uid, a in accidents.items()}
    chains = {uid: chain_wanted(a) for uid, a in accidents.items()}
    national = Api(net.node(NATIONAL).url, "admin")
    try:
        try:
            wait_until(
                lambda: converged(national, truth),
                timeout=CONVERGE_S,
                interval=0.5,
                what="the national node to hold the counties' latest versions",
            )
            wait_until(
                lambda: hazards_at(national) == hazards,
                timeout=CONVERGE_S,
                interval=0.5,
                what="the national node to hold the counties' hidden hazards",
            )
            wait_until(
                lambda: accidents_at(national) == reports,
                timeout=CONVERGE_S,
                interval=0.5,
                what="the national node to hold the counties' latest accident reports",
            )
            # Each node made its steps of the chain as the latest report reached it (in the
            # same transaction): all of them, at their latest versions, reach the nation too.
            steps = steps_made(net)
            all_steps = {uid: s["version"] for made in steps.values() for uid, s in made.items()}
            wait_until(
                lambda: (
                    dict(net.node(NATIONAL).query("SELECT uid, version FROM accident_steps"))
                    == all_steps
                ),
                timeout=CONVERGE_S,
                interval=0.5,
                what="every node's accident steps at the nation",
            )
            assert chains_at(national, chains) == chains
            wait_until(
                lambda: (
                    receipts(net.node(PROVINCE), directive["uid"]) == {COUNTY_A, COUNTY_B}
                    and receipts(net.node(NATIONAL), directive["uid"]) == {COUNTY_A, COUNTY_B}
                ),
                timeout=CONVERGE_S,
                what="both receipts at the province and the nation",
            )
        except HarnessError:
            print("\n".join(chaos.log))
            print(net.report())
            raise
        converge_s = time.monotonic() - t_converge
        at_national = national.all_enterprises()
        accidents_at_national = national.call("GET", ACCIDENTS, params={"size": 500}).json()
    finally:
        national.close()

    # Exactly one row per county record at the nation, nothing else, nothing twice.
    uids = Counter(item["uid"] for item in at_national)
    assert set(uids) == set(truth) and max(uids.values()) == 1
    assert len({item["uscc"] for item in at_national}) == len(truth)
    for item in at_national:
        assert fields(item) == truth[item["uid"]]
    # One row per county accident report at the nation, at the county's version.
    uids = Counter(a["uid"] for a in accidents_at_national["items"])
    assert accidents_at_national["total"] == len(accidents) and max(uids.values()) == 1
    assert dict(net.node(NATIONAL).query("SELECT uid, version FROM accidents")) == {
        uid: a["version"] for uid, a in accidents.items()
    }
    # Every version passed each tier exactly once: none lost on the way, none applied twice.
    # (Accident steps: those made at the node and below it.)
    made_below = [COUNTY_A, COUNTY_B]
    for div in (CITY, PROVINCE, NATIONAL):
        check_every_version_once(net.node(div), truth)
        for entity, records in hazards.items():
            check_every_version_once(
                net.node(div), {uid: {"version": v} for uid, (v, _) in records.items()}, entity
            )
        check_every_version_once(net.node(div), accidents, "accident")
        made_below.append(div)
        check_every_version_once(
            net.node(div),
            {uid: s for d in made_below for uid, s in steps[d].items()},
            "accident_step",
        )
    # The directive reached both counties once (a copy there, read-only) and the nation.
    for div in (COUNTY_A, COUNTY_B, CITY, NATIONAL):
        seen = versions_seen(net.node(div), "directive")
        assert seen == Counter({(directive["uid"], 1): 1}), (div, seen)

    changes = sum(w.acked for w in writers)
    kills = sum(n.kills for n in net.nodes.values())
    cuts = sum(p.cuts for p in net.proxies.values())
    print("\n".join(chaos.log))
    print(
        f"{net.backend}: setup {setup_s:.1f}s, chaos {chaos_s:.1f}s ({len(chaos.log)} events, "
        f"{kills} kills, {cuts} cuts), {changes} acknowledged writes + "
        f"{sum(w.unknown for w in writers)} cut off, {len(truth)} enterprises at "
        f"{sum(t['version'] for t in truth.values())} versions, "
        f"{', '.join(f'{len(v)} {k}' for k, v in hazards.items())} "
        f"({sum(w.hazard_steps for w in writers)} steps), {len(accidents)} accidents "
        f"(grades {sorted(Counter(a['grade'] for a in accidents.values()).items())}, "
        f"{sum(a['follow_ups'] for a in accidents.values())} follow-ups, "
        f"{sum(len(c) for c in chains.values())} chain steps); converged "
        f"{converge_s:.1f}s after the faults"
    )


# --- a parent restored from a backup -----------------------------------------------------------


def _write_batch(api: Api, division: str, start: int, count: int) -> list[str]:
    """``count`` new enterprises, each changed twice; their uids."""
    uids = []
    for i in range(start, start + count):
        body = {
            "uscc": compose_uscc(division, f"MAR{i:05d}"),
            "name": f"备份测试企业{i}",
            "division_code": division,
            "supervision_category": "hazardous_chemicals",
        }
        r = api.call_until("POST", "/api/v1/enterprises", json=body)
        assert r.status_code == 201, r.text
        item = r.json()
        for n in (1, 2):
            r = api.call_until(
                "PATCH", f"/api/v1/enterprises/{item['id']}", json={"address": f"第{n}次变更"}
            )
            assert r.status_code == 200, r.text
        uids.append(item["uid"])
    return uids


@pytest.mark.slow
def test_parent_restored_from_a_backup_loses_nothing(make_network) -> None:
    """The city is restored by ``anjian restore`` from an ``anjian backup`` taken before it
    forwarded 30 changes: the county resends what the city lost; the city's own new records, which it numbers with sequence
    numbers the province has already acknowledged, still reach the nation; a directive issued
    afterwards comes down to the county although the city's sequence numbers went back."""
    net = make_network(topology=CHAIN_TOPOLOGY)
    net.start()
    county, city = net.node(COUNTY_A), net.node(CITY)
    api = Api(county.url, "admin")
    city_api = Api(city.url, "admin")
    national = Api(net.node(NATIONAL).url, "admin")

    def truth() -> dict[str, dict[str, Any]]:
        at_city = {
            uid: rec
            for uid, rec in county_truth(net, [CITY]).items()
            if rec["origin_node"] == f"node-{CITY}"
        }
        return county_truth(net, [COUNTY_A]) | at_city

    try:
        _write_batch(api, COUNTY_A, 0, 10)
        want = truth()
        wait_until(lambda: converged(national, want), timeout=60, what="first batch at nation")
        # Back up the city as its operator does, while it runs (anjian backup, SM4-sealed), then
        # let it receive (and forward) more, so that the province has acknowledged city
        # sequence numbers the backup does not have.
        key, archive = net.root / "backup.key", net.root / "city.bak"
        city.cli("backup", "--new-key", str(key))
        city.cli("backup", "--to", str(archive), "--key-file", str(key))
        _write_batch(api, COUNTY_A, 10, 10)
        want = truth()
        wait_until(lambda: converged(national, want), timeout=60, what="second batch at nation")
        # The city's disk is lost: a new machine with an empty database and data directory
        # (but its settings file), restored with anjian restore while the county is cut off;
        # it records changes of its own first.
        city.stop()
        net.dbs.empty(city.database_url)
        city.log_path.rename(net.root / "city-before-the-restore.log")
        for entry in city.data_dir.iterdir():
            if entry.is_dir():
                shutil.rmtree(entry)
            elif entry.name != "anjian.toml":
                entry.unlink()
        city.cli("restore", str(archive), "--key-file", str(key))
        county.proxy.cut()
        city.start()
        _write_batch(city_api, CITY, 100, 5)
        county.proxy.restore()
        _write_batch(api, COUNTY_A, 20, 10)
        directive_uid = issue_directive(net.node(PROVINCE), "备份恢复后的通知")
        official = Api(county.url, "official")
        try:
            wait_until(
                lambda: (
                    official.call("GET", f"/api/v1/directives/{directive_uid}").status_code == 200
                ),
                timeout=60,
                what="the directive at the county",
            )
            r = official.call_until("POST", f"/api/v1/directives/{directive_uid}/receipts", json={})
            assert r.status_code == 201, r.text
        finally:
            official.close()
        want = truth()
        assert len(want) == 35
        try:
            wait_until(
                lambda: converged(national, want),
                timeout=90,
                interval=0.5,
                what="everything at the nation after the city's restore",
            )
            wait_until(
                lambda: receipts(net.node(NATIONAL), directive_uid) == {COUNTY_A},
                timeout=60,
                what="the receipt at the nation",
            )
        except HarnessError:
            print(net.report())
            raise
        for div in (PROVINCE, NATIONAL):
            check_every_version_once(net.node(div), want)
        # The restored city got back what it lost, each version once (its backup plus the resend).
        check_every_version_once(city, want)
        assert len(national.all_enterprises()) == 35
    finally:
        api.close()
        city_api.close()
        national.close()


# --- commit order on PostgreSQL ------------------------------------------------------------------


def test_changes_committed_out_of_order_are_not_skipped(node) -> None:
    """Two writers draw outbox seqs 1 and 2 and commit in the order 2, 1 (PostgreSQL lets them):
    the forwarder must not ship 2 and move its cursor past 1 while 1 is still uncommitted."""
    if not node.url.startswith("postgresql"):
        pytest.skip("SQLite lets one writer at a time in (BEGIN IMMEDIATE)")
    from anjian.core.sync.outbox import record_change, settled_head
    from anjian.core.sync.service import pending_up
    from anjian.db import utcnow
    from anjian.directives.models import Directive

    def directive(title: str) -> Directive:
        return Directive(
            title=title,
            issuer_division=PROVINCE,
            issuer_name="山西省应急管理厅",
            target_division=CITY,
            issued_at=utcnow(),
            origin_node="",
        )

    with node.db() as first:
        record_change(first, directive("先开始、后提交"), entity="directive")
        first.flush()  # seq 1 drawn, not committed
        with node.db() as second:
            record_change(second, directive("后开始、先提交"), entity="directive")
        # seq 2 is committed; a reader must wait for seq 1 to settle.
        result: list[int | None] = []
        with node.db() as reader:
            thread = threading.Thread(target=lambda: result.append(settled_head(reader)))
            thread.start()
            thread.join(timeout=1.0)
            assert thread.is_alive() and not result, "shipped past an uncommitted change"
    thread.join(timeout=10)
    assert result and result[0] is not None
    with node.db() as s:
        entries = pending_up(s, 0, None)
        assert [e.seq for e in entries][-2:] == sorted(e.seq for e in entries)[-2:]
        assert {orjson.loads(e.payload)["title"] for e in entries} >= {
            "先开始、后提交",
            "后开始、先提交",
        }
        assert result[0] >= max(e.seq for e in entries)


def test_a_committed_change_goes_up_at_once_not_at_the_next_poll(make_network) -> None:
    """The forwarder is woken by the commit that queued a change: with a 30-second poll, an
    enterprise registered at the county is at the city within seconds."""
    net = make_network(topology=[(CITY, None), (COUNTY_A, CITY)], interval=30.0)
    net.start()
    county = Api(net.node(COUNTY_A).url, "admin")
    try:
        # A first round that failed while the city was starting backs off for a whole poll
        # (30 s), deaf to commits: end that wait as an operator does (立即同步), then the county
        # reaches its parent once, and from then on waits for its next poll.
        county.call_until("POST", "/api/v1/node/sync-now", ok=(200,))
        wait_until(
            lambda: net.node(COUNTY_A).query(
                "SELECT last_contact_at FROM sync_links WHERE role = 'parent'"
            )[0][0],
            timeout=60,
            what="the county's first contact with the city",
        )
        time.sleep(0.5)
        county.call_until(
            "POST",
            "/api/v1/enterprises",
            json={
                "uscc": compose_uscc(COUNTY_A, "MA0W0001"),
                "name": "应县即时上报测试有限公司",
                "division_code": COUNTY_A,
                "supervision_category": "coal_mine",
            },
        )
        wait_until(  # far sooner than the 30 s poll
            lambda: net.node(CITY).query(
                "SELECT count(*) FROM enterprises WHERE name = '应县即时上报测试有限公司'"
            )[0][0],
            timeout=10,
            what="the enterprise at the city",
        )
    finally:
        county.close()


def test_forwarder_thread_stops_and_joins(node) -> None:
    """`anjian serve` stops the forwarder in its lifespan and joins it: a clean shutdown, not
    "Application shutdown failed" (the stop event once shadowed ``Thread._stop``)."""
    from anjian.core.sync.forwarder import Forwarder

    forwarder = Forwarder(interval=0.05)
    forwarder.start()
    time.sleep(0.2)
    forwarder.stop()
    forwarder.join(timeout=10)
    assert not forwarder.is_alive()
