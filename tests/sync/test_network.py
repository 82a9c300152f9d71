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
import threading
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
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
    Network,
    Node,
    wait_until,
)

from anjian.accidents.rules import Grade, reporting_chain
from anjian.core.divisions.rules import agencies_over
from anjian.core.divisions.service import read_reference
from anjian.enterprises.rules import compose_uscc

CHAOS_SECONDS = float(os.environ.get("ANJIAN_CHAOS_SECONDS", "35"))
CONVERGE_S = 120  # a forwarder in back-off waits at most 30 s per hop
ENTERPRISES_PER_COUNTY = 12
WRITE_PAUSE_S = 0.02  # at most ~50 writes/s per county: plenty of changes, CPU left for CI
COUNTY_NAMES = {COUNTY_A: "应县", COUNTY_B: "山阴县"}
HAZARDS = "/api/v1/hidden-hazards"
RISK_POINTS = "/api/v1/risk/points"
SOURCES = "/api/v1/major-hazards"
DUAL = (  # entity, list path, the field that says where a record stands
    ("hidden_hazard", HAZARDS, "state"),
    ("risk_point", RISK_POINTS, "level"),
    ("major_hazard_source", SOURCES, "grade"),
)
HAZARDS_PER_COUNTY = 6
HAZARD_SHARE = 0.25  # of the writes once the enterprises exist
ACCIDENTS = "/api/v1/accidents"
ACCIDENTS_PER_COUNTY = 3
ACCIDENT_SHARE = 0.04  # of the writes once the enterprises exist: a report or a follow-up
# The grade each county's reports (by filing order) grow to over their follow-ups: the first
# stays 一般 (county → city), the second becomes 较大 (→ province), the third 重大 (→ nation).
ACCIDENT_GRADES = (Grade.ORDINARY, Grade.RELATIVELY_SERIOUS, Grade.SERIOUS)
DEATHS_FOR = {Grade.RELATIVELY_SERIOUS: 3, Grade.SERIOUS: 10}  # Order No. 493 Art. 3


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> tuple[str, Any]:
    """The backend of every node, with a migrated template to copy (conftest.py's fixtures:
    PostgreSQL is required in CI and skipped locally when unreachable)."""
    if request.param == "sqlite":
        return "sqlite", request.getfixturevalue("sqlite_template")
    return "postgres", request.getfixturevalue("pg_template")


@pytest.fixture
def make_network(backend: tuple[str, Any], tmp_path: Path):
    """Builds networks that are always torn down: no process, proxy or database left over."""
    built: list[Network] = []

    def make(**kwargs: Any) -> Network:
        kind, template = backend
        net = Network(tmp_path / f"net{len(built)}", kind, template=template, **kwargs)
        built.append(net)
        return net

    yield make
    for net in built:
        net.close()


# --- writing at a county, as its officials do ---------------------------------------------------


@dataclass
class Record:
    """What the writer knows of one enterprise it made: the last version the county
    acknowledged, and its fields then (None after a request whose outcome is unknown)."""

    uid: str
    id: int
    uscc: str
    version: int
    fields: dict[str, Any] | None


def _fields(item: dict[str, Any]) -> dict[str, Any]:
    keys = ("uid", "uscc", "name", "address", "employees", "division_code", "origin_node")
    return {k: item[k] for k in keys} | {"version": item["version"]}


def _accident_fields(item: dict[str, Any]) -> dict[str, Any]:
    """What must arrive of an accident report (not its local id or the enterprise's)."""
    keys = (
        "uid",
        "origin_node",
        "division_code",
        "unit_name",
        "deaths",
        "missing",
        "serious_injuries",
        "minor_injuries",
        "grade",
        "grade_criterion",
        "provisional",
        "follow_ups",
    )
    return {k: item[k] for k in keys} | {"direct_loss_cny": Decimal(item["direct_loss_cny"])}


class CountyWriter(threading.Thread):
    """Creates enterprises in its county and then changes them at random, through the county's
    API, for as long as it runs, with dual-prevention records and accident reports among them;
    retries through kills and restarts; signs the directive once it has come down."""

    def __init__(
        self, node: Node, *, seed: int, stop: threading.Event, directive: dict[str, str]
    ) -> None:
        super().__init__(name=f"writer-{node.division}", daemon=True)
        self.node, self.stop_event, self.directive = node, stop, directive
        self.rng = random.Random(seed)
        self.admin = Api(node.url, "admin", timeout=10)
        self.official = Api(node.url, "official", timeout=10)
        self.records: dict[str, Record] = {}
        self.acked = 0  # writes the county confirmed
        self.unknown = 0  # writes cut off before an answer (the county may or may not have them)
        self.errors: list[str] = []
        self.signed = False
        self.hazard_steps = 0  # hidden-hazard reports and steps the county confirmed
        # accident uid → the report as the county last confirmed it (None while a follow-up's
        # outcome is unknown)
        self.accidents: dict[str, dict[str, Any] | None] = {}
        self.accident_reports = 0  # first reports and follow-ups the county confirmed
        self._serial = 0
        self._last_sign_try = 0.0

    def run(self) -> None:
        try:
            while not self.stop_event.is_set():
                try:
                    if len(self.records) < ENTERPRISES_PER_COUNTY:
                        self._create()
                    elif self.rng.random() < HAZARD_SHARE:
                        self._hazard_step()
                    elif self.rng.random() < HAZARD_SHARE / 2:
                        self._risk_or_source()
                    elif self.rng.random() < ACCIDENT_SHARE:
                        self._accident_report()
                    else:
                        self._change(self.rng.choice(list(self.records.values())))
                    self._maybe_sign()
                    self.stop_event.wait(WRITE_PAUSE_S)
                except (httpx.TransportError, HarnessError):
                    self.unknown += 1
                    self.stop_event.wait(0.1)
        except Exception as exc:  # reported by the test
            self.errors.append(repr(exc))
        finally:
            self.admin.close()
            self.official.close()

    def _create(self) -> None:
        div = self.node.division
        uscc = compose_uscc(div, f"MAC{self._serial:05d}")
        body = {
            "uscc": uscc,
            "name": f"{COUNTY_NAMES[div]}测试企业{self._serial}",
            "division_code": div,
            "supervision_category": "coal_mine",
            "address": "初始地址",
            "legal_rep_phone": "13900001111",
        }
        r = self.admin.call("POST", "/api/v1/enterprises", json=body)
        if r.status_code == 409:  # an earlier attempt was stored although its answer was lost
            page = self.admin.call("GET", "/api/v1/enterprises", params={"q": uscc}).json()
            item = next(i for i in page["items"] if i["uscc"] == uscc)
        elif r.status_code == 201:
            item = r.json()
        else:
            self._unexpected(r)
            return
        self.records[item["uid"]] = Record(
            item["uid"], item["id"], uscc, item["version"], _fields(item)
        )
        self._serial += 1
        self.acked += 1

    def _change(self, rec: Record) -> None:
        n = self.rng.randrange(1_000_000)
        body = {"name": f"{COUNTY_NAMES[self.node.division]}企业{rec.uscc[-6:]}-{n}"}
        if self.rng.random() < 0.5:
            body["address"] = f"第{n}号"
        if self.rng.random() < 0.5:
            body["employees"] = n % 5000
        rec.fields = None  # unknown until the county answers
        r = self.admin.call("PATCH", f"/api/v1/enterprises/{rec.id}", json=body)
        if r.status_code != 200:
            self._unexpected(r)
            return
        item = r.json()
        rec.version, rec.fields = item["version"], _fields(item)
        self.acked += 1

    def _risk_or_source(self) -> None:
        """Register a risk point or a major hazard source, or re-grade one (the other records
        of dual prevention, which travel up like the hazards)."""
        ent = self.rng.choice(list(self.records.values()))
        if self.rng.random() < 0.5:
            listed = self.admin.call("GET", RISK_POINTS, params={"size": 100})
            if listed.status_code != 200:
                self._unexpected(listed)
                return
            points = listed.json()["items"]
            if len(points) < 4 or self.rng.random() < 0.3:
                body = {"enterprise_id": ent.id, "name": "综采工作面", "kind": "area"}
                body |= {"method": "LEC", "L": 3, "E": 6, "C": 40, "control_level": "company"}
                r = self.admin.call("POST", RISK_POINTS, json=body)
                ok = 201
            else:
                point = self.rng.choice(points)
                factors = {"L": self.rng.choice([1, 3, 6]), "E": 6, "C": self.rng.choice([7, 40])}
                r = self.admin.call("PATCH", f"{RISK_POINTS}/{point['id']}", json=factors)
                ok = 200
        else:
            body = {
                "enterprise_id": ent.id,
                "name": "液氨储罐区",
                "people_within_500m": self.rng.choice([0, 45, 260]),
                "units": [
                    {
                        "name": "液氨罐区",
                        "kind": "storage",
                        "chemicals": [{"name": "液氨", "quantity_t": self.rng.choice([5, 60])}],
                    }
                ],
            }
            r = self.admin.call("POST", SOURCES, json=body)
            ok = 201
        if r.status_code == ok:
            self.hazard_steps += 1
        else:
            self._unexpected(r)

    def _hazard_step(self) -> None:
        """Report a hidden hazard, or move one a step along its closed loop (the county admin
        reports, registers and rectifies; the official accepts). A step whose answer was lost
        may already be done: its retry is a 409, and the county's record stays the truth."""
        listed = self.admin.call("GET", HAZARDS, params={"size": 100})
        if listed.status_code != 200:
            self._unexpected(listed)
            return
        open_ = [h for h in listed.json()["items"] if h["state"] != "closed"]
        if listed.json()["total"] < HAZARDS_PER_COUNTY or not open_:
            ent = self.rng.choice(list(self.records.values()))
            body = {"enterprise_id": ent.id, "place": "主斜井", "description": "皮带机保护失效"}
            r = self.admin.call("POST", HAZARDS, json=body)
            if r.status_code == 201:
                self.hazard_steps += 1
            else:
                self._unexpected(r)
            return
        hz = self.rng.choice(open_)
        who, action, body = {
            "found": (
                self.admin,
                "register",
                {
                    "grade": "general",
                    "deadline": "2099-12-31",
                    "responsible": "李安全",
                    "measures": "更换保护装置",
                },
            ),
            "registered": (self.admin, "start", {}),
            "rectifying": (self.admin, "finish", {"note": "已更换"}),
            "rectified": (self.official, "accept", {"note": "合格"}),
        }[hz["state"]]
        r = who.call("POST", f"{HAZARDS}/{hz['id']}/{action}", json=body)
        if r.status_code == 200:
            self.hazard_steps += 1
        elif r.status_code != 409:
            self._unexpected(r)

    def _accident_report(self) -> None:
        """File an accident report (快报) at the county, or a follow-up (续报) on one of its
        reports with the numbers as they stand now; a follow-up raises the grade one step while
        the report is below the grade of its place in the filing order (ACCIDENT_GRADES), so
        its chain grows from the city to the province or the nation. A report whose answer was
        lost may be stored (and filed again): the county's list, not this writer, is the truth."""
        listed = self.official.call("GET", ACCIDENTS, params={"size": 100})
        if listed.status_code != 200:
            self._unexpected(listed)
            return
        filed = sorted(listed.json()["items"], key=lambda a: a["id"])
        if len(filed) < ACCIDENTS_PER_COUNTY:
            ent = self.rng.choice(list(self.records.values()))
            occurred = datetime.now(UTC) - timedelta(minutes=self.rng.randint(5, 50))
            body = {
                "occurred_at": occurred.isoformat(timespec="seconds"),
                "division_code": self.node.division,
                "enterprise_id": ent.id,
                "place": "综采工作面",
                "accident_type": self.rng.choice(["roof_fall", "machinery", "gas_explosion"]),
                "reporter": "张调度",
                "deaths": self.rng.choice([0, 1]),
                "serious_injuries": self.rng.randrange(3),
                "minor_injuries": self.rng.randrange(5),
                "direct_loss_cny": self.rng.randrange(100_000, 2_000_000),
            }
            r = self.official.call("POST", ACCIDENTS, json=body)
            ok = 201
        else:
            i = self.rng.randrange(len(filed))
            acc, target = filed[i], ACCIDENT_GRADES[i % len(ACCIDENT_GRADES)]
            body = {
                "serious_injuries": min(9, acc["serious_injuries"] + self.rng.randint(0, 1)),
                "minor_injuries": acc["minor_injuries"] + self.rng.randint(0, 2),
                "direct_loss_cny": str(Decimal(acc["direct_loss_cny"]) + self.rng.randrange(9999)),
                "note": f"续报：伤亡与损失核实 {self.rng.randrange(1_000_000)}",
            }
            if acc["grade"] > target:  # the grade rises a step: the chain reaches further up
                body["deaths"] = DEATHS_FOR[Grade(acc["grade"] - 1)]
            self.accidents[acc["uid"]] = None  # unknown until the county answers
            r = self.official.call("POST", f"{ACCIDENTS}/{acc['id']}/follow-up", json=body)
            ok = 200
        if r.status_code != ok:
            self._unexpected(r)
            return
        item = r.json()
        self.accidents[item["uid"]] = _accident_fields(item)
        self.accident_reports += 1

    def _maybe_sign(self) -> None:
        uid = self.directive.get("uid")
        if self.signed or not uid or time.monotonic() - self._last_sign_try < 0.5:
            return
        self._last_sign_try = time.monotonic()
        r = self.official.call("GET", f"/api/v1/directives/{uid}")
        if r.status_code == 404:
            return  # not come down yet
        if r.status_code != 200:
            self._unexpected(r)
            return
        r = self.official.call(
            "POST", f"/api/v1/directives/{uid}/receipts", json={"note": "已收到，立即落实"}
        )
        if r.status_code in (201, 409):  # 409: an earlier attempt was stored
            self.signed = True
        else:
            self._unexpected(r)

    def _unexpected(self, r: httpx.Response) -> None:
        if r.status_code >= 500:
            raise HarnessError(f"{r.status_code}")  # a restart under way: try again
        self.errors.append(f"{r.request.method} {r.request.url.path}: {r.status_code} {r.text}")
        self.stop_event.wait(0.2)


def _issue_directive(province: Node, title: str, timeout: float = 60) -> str:
    """Issue a directive to 朔州市 as the province official, exactly once even if the answer is
    lost on the way (look it up by its title before trying again)."""
    api = Api(province.url, "official")
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                listed = api.call("GET", "/api/v1/directives")
                if listed.status_code == 200:
                    for d in listed.json():
                        if d["title"] == title:
                            return str(d["uid"])
                r = api.call(
                    "POST",
                    "/api/v1/directives",
                    json={"kind": "directive", "title": title, "target_division": CITY},
                )
                if r.status_code == 201:
                    return str(r.json()["uid"])
                assert r.status_code >= 500, r.text
            except (httpx.TransportError, HarnessError):
                pass
            time.sleep(0.3)
        raise HarnessError("could not issue the directive")
    finally:
        api.close()


# --- checks --------------------------------------------------------------------------------------


def _county_truth(net: Network, counties: list[str]) -> dict[str, dict[str, Any]]:
    """Every enterprise as its county (the single writer) holds it now."""
    truth: dict[str, dict[str, Any]] = {}
    for div in counties:
        api = Api(net.node(div).url, "admin")
        try:
            for item in api.all_enterprises():
                truth[item["uid"]] = _fields(item)
        finally:
            api.close()
    return truth


def _hazard_truth(net: Network, counties: list[str]) -> dict[str, dict[str, tuple[int, str]]]:
    """Every dual-prevention record as its county holds it now, by entity."""
    truth: dict[str, dict[str, tuple[int, str]]] = {entity: {} for entity, _, _ in DUAL}
    for div in counties:
        api = Api(net.node(div).url, "admin")
        try:
            for entity, records in _hazards_at(api).items():
                truth[entity] |= records
        finally:
            api.close()
    return truth


def _hazards_at(api: Api) -> dict[str, dict[str, tuple[int, str]]]:
    """Hidden hazards, risk points and major hazard sources here, by entity: uid → (version,
    where it stands)."""
    out: dict[str, dict[str, tuple[int, str]]] = {}
    for entity, path, state in DUAL:
        r = api.call("GET", path, params={"size": 500})
        assert r.status_code == 200, r.text
        out[entity] = {h["uid"]: (h["version"], str(h[state])) for h in r.json()["items"]}
    return out


def _accidents_at(api: Api) -> dict[str, dict[str, Any]]:
    """Accident reports here: uid → what must arrive of each."""
    r = api.call("GET", ACCIDENTS, params={"size": 500})
    assert r.status_code == 200, r.text
    return {a["uid"]: _accident_fields(a) for a in r.json()["items"]}


def _accident_truth(net: Network, counties: list[str]) -> dict[str, dict[str, Any]]:
    """Every accident report as its county holds it now, with its version (from the database:
    the API does not show it)."""
    truth: dict[str, dict[str, Any]] = {}
    for div in counties:
        node = net.node(div)
        versions = dict(node.query("SELECT uid, version FROM accidents"))
        api = Api(node.url, "admin")
        try:
            for uid, fields in _accidents_at(api).items():
                truth[uid] = fields | {"version": int(versions[uid])}
        finally:
            api.close()
    return truth


def _chains_at(api: Api, uids: Iterable[str]) -> dict[str, list[tuple[str, str]]]:
    """The reporting chain of each accident here: (tier, the node whose record the step is)."""
    ids = {
        a["uid"]: a["id"] for a in api.call("GET", ACCIDENTS, params={"size": 500}).json()["items"]
    }
    out = {}
    for uid in uids:
        r = api.call("GET", f"{ACCIDENTS}/{ids[uid]}")
        assert r.status_code == 200, r.text
        out[uid] = [(step["tier"], step["origin_node"]) for step in r.json()["chain"]]
    return out


def _chain_wanted(accident: dict[str, Any]) -> list[tuple[str, str]]:
    """The steps an accident's grade requires, each made by the node that keeps the agency (the
    grades only rise here, so no step is left over from a lower grade's chain)."""
    codes = {d.code for d in read_reference()}
    agencies = agencies_over(accident["division_code"], codes)
    return [
        (step.tier, f"node-{step.division}")
        for step in reporting_chain(agencies, Grade(accident["grade"]))
    ]


def _steps_made(net: Network) -> dict[str, dict[str, dict[str, Any]]]:
    """The accident steps each node made (its own records): by division, uid → version."""
    return {
        div: {
            uid: {"version": int(v)}
            for uid, v in node.query(
                "SELECT uid, version FROM accident_steps WHERE origin_node = :o", o=f"node-{div}"
            )
        }
        for div, node in net.nodes.items()
    }


def _converged(api: Api, truth: dict[str, dict[str, Any]]) -> bool:
    have = {item["uid"]: _fields(item) for item in api.all_enterprises()}
    return all(have.get(uid) == want for uid, want in truth.items())


def _versions_seen(node: Node, entity: str = "enterprise") -> Counter[tuple[str, int]]:
    """How many times each (uid, version) entered this node's outbox: once per change applied
    (or made) here."""
    rows = node.query(
        "SELECT uid, version, count(*) FROM outbox WHERE entity = :e GROUP BY uid, version",
        e=entity,
    )
    return Counter({(uid, int(v)): int(n) for uid, v, n in rows})


def _check_every_version_once(
    node: Node, truth: dict[str, dict[str, Any]], entity: str = "enterprise"
) -> None:
    """Each version 1..latest of every county record reached ``node`` exactly once."""
    seen = _versions_seen(node, entity)
    twice = {k: n for k, n in seen.items() if n > 1}
    assert not twice, f"applied more than once at {node.division}: {sorted(twice)[:10]}"
    missing = [
        (uid, v)
        for uid, want in truth.items()
        for v in range(1, want["version"] + 1)
        if (uid, v) not in seen
    ]
    assert not missing, f"versions that never reached {node.division}: {missing[:10]}"


def _receipts(node: Node, directive_uid: str) -> set[str]:
    api = Api(node.url, "admin")
    try:
        r = api.call("GET", f"/api/v1/directives/{directive_uid}")
        return (
            {rc["division_code"] for rc in r.json()["receipts"]} if r.status_code == 200 else set()
        )
    finally:
        api.close()


# --- chaos ---------------------------------------------------------------------------------------


@dataclass
class Chaos:
    """Random faults on a network: each step kills (SIGKILL) or restarts a node, or cuts a link
    for a while; one step kills the city just after a backlog started to drain (mid-batch)."""

    net: Network
    rng: random.Random
    log: list[str] = field(default_factory=list)
    t0: float = field(default_factory=time.monotonic)

    def note(self, what: str) -> None:
        self.log.append(f"{time.monotonic() - self.t0:6.1f}s {what}")

    def step(self) -> None:
        kind = self.rng.choices(["kill", "cut", "restart", "mid-batch"], [4, 4, 1, 1])[0]
        nodes = list(self.net.nodes.values())
        if kind == "kill":
            node = self.rng.choice(nodes)
            down = self.rng.uniform(0.2, 2.0)
            self.note(f"kill -9 {node.division}, down {down:.1f}s")
            node.kill()
            time.sleep(down)
            node.start()
        elif kind == "restart":
            node = self.rng.choice(nodes)
            self.note(f"restart {node.division}")
            node.restart()
        elif kind == "cut":
            child = self.rng.choice(list(self.net.proxies))
            length = self.rng.uniform(0.5, 4.0)
            self.note(f"cut {child}→parent for {length:.1f}s")
            self.net.proxies[child].cut()
            time.sleep(length)
            self.net.proxies[child].restore()
        else:
            child = self.rng.choice([COUNTY_A, COUNTY_B])
            self.note(f"backlog at {child} for 2s, then kill -9 {CITY} 0.1–0.4s into the drain")
            self.net.proxies[child].cut()
            time.sleep(2.0)
            self.net.proxies[child].restore()
            time.sleep(self.rng.uniform(0.1, 0.4))
            city = self.net.node(CITY)
            city.kill()
            time.sleep(0.3)
            city.start()
        time.sleep(self.rng.uniform(0.2, 1.0))


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
                directive["uid"] = _issue_directive(net.node(PROVINCE), f"煤矿安全专项检查 {seed}")
                chaos.note(f"directive {directive['uid']} issued at {PROVINCE}")
                issued = True
            chaos.step()
        if not issued:
            directive["uid"] = _issue_directive(net.node(PROVINCE), f"煤矿安全专项检查 {seed}")
        # The faults end; the writers go on until the directive is signed at both counties.
        net.ensure_running()
        wait_until(
            lambda: all(w.signed for w in writers) or any(w.errors for w in writers),
            timeout=CONVERGE_S,
            what="both counties to sign the directive",
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
    truth = _county_truth(net, [COUNTY_A, COUNTY_B])
    hazards = _hazard_truth(net, [COUNTY_A, COUNTY_B])
    assert all(hazards.values()) and sum(w.hazard_steps for w in writers) > 0
    for w in writers:
        for rec in w.records.values():
            now = truth[rec.uid]
            assert now["version"] >= rec.version
            if rec.fields is not None and now["version"] == rec.version:
                assert now == rec.fields
    accidents = _accident_truth(net, [COUNTY_A, COUNTY_B])
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
    chains = {uid: _chain_wanted(a) for uid, a in accidents.items()}
    national = Api(net.node(NATIONAL).url, "admin")
    try:
        try:
            wait_until(
                lambda: _converged(national, truth),
                timeout=CONVERGE_S,
                interval=0.5,
                what="the national node to hold the counties' latest versions",
            )
            wait_until(
                lambda: _hazards_at(national) == hazards,
                timeout=CONVERGE_S,
                interval=0.5,
                what="the national node to hold the counties' hidden hazards",
            )
            wait_until(
                lambda: _accidents_at(national) == reports,
                timeout=CONVERGE_S,
                interval=0.5,
                what="the national node to hold the counties' latest accident reports",
            )
            # Each node made its steps of the chain as the latest report reached it (in the
            # same transaction): all of them, at their latest versions, reach the nation too.
            steps = _steps_made(net)
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
            assert _chains_at(national, chains) == chains
            wait_until(
                lambda: (
                    _receipts(net.node(PROVINCE), directive["uid"]) == {COUNTY_A, COUNTY_B}
                    and _receipts(net.node(NATIONAL), directive["uid"]) == {COUNTY_A, COUNTY_B}
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
        assert _fields(item) == truth[item["uid"]]
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
        _check_every_version_once(net.node(div), truth)
        for entity, records in hazards.items():
            _check_every_version_once(
                net.node(div), {uid: {"version": v} for uid, (v, _) in records.items()}, entity
            )
        _check_every_version_once(net.node(div), accidents, "accident")
        made_below.append(div)
        _check_every_version_once(
            net.node(div),
            {uid: s for d in made_below for uid, s in steps[d].items()},
            "accident_step",
        )
    # The directive reached both counties once (a copy there, read-only) and the nation.
    for div in (COUNTY_A, COUNTY_B, CITY, NATIONAL):
        seen = _versions_seen(net.node(div), "directive")
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


# --- 挂牌督办 across the tiers --------------------------------------------------------------------


def _hazard_at(api: Api, uid: str) -> dict[str, Any] | None:
    r = api.call("GET", HAZARDS, params={"size": 500})
    assert r.status_code == 200, r.text
    return next((h for h in r.json()["items"] if h["uid"] == uid), None)


def test_supervision_from_the_province_reaches_the_county_and_the_closure_comes_back(
    make_network,
) -> None:
    """A major hazard registered at the county is put under 挂牌督办 by the province (on its
    read-only copy); the order comes down, the county cannot write the hazard off until the
    province lifts the order after accepting the work; the closure flows back up to the nation."""
    net = make_network(topology=CHAIN_TOPOLOGY)
    net.start()
    county = Api(net.node(COUNTY_A).url, "admin")
    county_official = Api(net.node(COUNTY_A).url, "official")
    province = Api(net.node(PROVINCE).url, "official")
    national = Api(net.node(NATIONAL).url, "admin")
    city = Api(net.node(CITY).url, "admin")
    try:
        ent = county.call_until(
            "POST",
            "/api/v1/enterprises",
            json={
                "uscc": compose_uscc(COUNTY_A, "MA0D0001"),
                "name": "应县督办测试煤业有限公司",
                "division_code": COUNTY_A,
                "supervision_category": "coal_mine",
            },
        ).json()
        # Online monitoring on the way: a methane reading over the power-cut concentration at
        # the county raises alarms there that the province sees, and their handling follows.
        county.call_until(
            "POST",
            "/api/v1/monitoring/points",
            json={"enterprise_id": ent["id"], "code": "T1", "preset": "coal_ch4_t1_face"},
            ok=(201,),
        )
        token = net.node(COUNTY_A).cli("gateway", "token", ent["uscc"]).strip().splitlines()[-1]
        read_at = int(time.time() * 1000)
        r = httpx.post(
            f"{net.node(COUNTY_A).url}/api/v1/monitoring/readings",
            json={"ts": read_at, "readings": [{"point": "T1", "value": 1.8}]},
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
        assert r.status_code == 200 and r.json()["alarms_raised"] == 2, r.text
        hz = county.call_until(
            "POST",
            HAZARDS,
            json={"enterprise_id": ent["id"], "place": "回风巷", "description": "通风设施不可靠"},
        ).json()
        path = f"{HAZARDS}/{hz['id']}"
        county.call_until(
            "POST",
            f"{path}/register",
            json={
                "grade": "major",
                "major_criterion": "煤矿重大事故隐患判定标准第五项",
                "deadline": "2099-12-31",
                "responsible": "王矿长",
                "measures": "重建通风设施",
            },
            ok=(200,),
        )
        plan = {k: "已落实" for k in ("goal", "measures", "funds", "organisation", "deadline")}
        plan |= {"safety_measures": "撤人停产", "emergency_plan": "通风专项预案"}
        county.call_until("PUT", f"{path}/plan", json=plan, ok=(200,))

        copy = wait_until(
            lambda: (h := _hazard_at(province, hz["uid"])) and h["grade"] == "major" and h,
            timeout=60,
            what="the major hazard at the province",
        )
        alarms = wait_until(
            lambda: (
                (a := province.call("GET", "/api/v1/alarms?active=true").json())["total"] == 2 and a
            ),
            timeout=60,
            what="the county's alarms at the province",
        )
        assert {(a["kind"], a["level"], a["point_code"]) for a in alarms["items"]} == {
            ("threshold", 1, "T1"),
            ("power_cut", 1, "T1"),
        }
        cut = next(a for a in alarms["items"] if a["kind"] == "power_cut")
        assert cut["origin_node"] == f"node-{COUNTY_A}"
        # what raised each alarm and its peak travel up with it (columns of migration 0014)
        up = {a["kind"]: a for a in alarms["items"]}
        for a in county.call("GET", "/api/v1/alarms?active=true").json()["items"]:
            fields = ("value", "trigger_threshold", "peak", "peak_at")
            assert {k: up[a["kind"]][k] for k in fields} == {k: a[k] for k in fields}
            assert a["peak_at"] is not None and a["trigger_threshold"] is not None
        refused = province.call("POST", f"/api/v1/alarms/{cut['id']}/acknowledge")
        assert refused.status_code == 403  # the county's record: read-only above
        local = county.call("GET", "/api/v1/alarms?kind=power_cut").json()["items"][0]
        county_official.call_until("POST", f"/api/v1/alarms/{local['id']}/acknowledge", ok=(200,))
        wait_until(
            lambda: (
                province.call("GET", f"/api/v1/alarms/{cut['id']}").json()["state"]
                == "acknowledged"
            ),
            timeout=60,
            what="the acknowledgement at the province",
        )
        # an accident report filed at the county reaches the province as it is filed
        accident = county_official.call_until(
            "POST",
            "/api/v1/accidents",
            json={
                "occurred_at": "2026-11-29T06:40:00+08:00",
                "division_code": COUNTY_A,
                "place": "回风巷",
                "accident_type": "roof_fall",
                "reporter": "王矿长",
                "deaths": 3,
                "enterprise_id": ent["id"],
            },
            ok=(201,),
        ).json()
        wait_until(
            lambda: any(
                a["uid"] == accident["uid"] and a["grade_label"] == "较大"
                for a in province.call("GET", "/api/v1/accidents").json()["items"]
            ),
            timeout=60,
            what="the accident report at the province",
        )
        # each agency's step of the chain is its own node's record; the province sees them all
        acc_copy = next(
            a
            for a in province.call("GET", "/api/v1/accidents").json()["items"]
            if a["uid"] == accident["uid"]
        )
        steps = wait_until(
            lambda: (
                (c := province.call("GET", f"/api/v1/accidents/{acc_copy['id']}").json()["chain"])
                and [s["tier"] for s in c] == ["county", "city", "province"]
                and c
            ),
            timeout=60,
            what="the chain's steps at the province",
        )
        assert [s["origin_node"] for s in steps] == [
            f"node-{COUNTY_A}",
            f"node-{CITY}",
            f"node-{PROVINCE}",
        ]
        # 较大: the city investigates on its node and sets a corrective measure; the province
        # sees both and puts the case under 挂牌督办; the order comes down to the city
        at_city = wait_until(
            lambda: next(
                (
                    a
                    for a in city.call("GET", "/api/v1/accidents").json()["items"]
                    if a["uid"] == accident["uid"]
                ),
                None,
            ),
            timeout=60,
            what="the accident report at the city",
        )
        city_case = f"/api/v1/accidents/{at_city['id']}"
        city.call_until("POST", f"{city_case}/investigation", json={"team": "市调查组"}, ok=(201,))
        measure = {"content": "顶板专项整治", "responsible": "企业", "due_date": "2099-01-31"}
        city.call_until("POST", f"{city_case}/measures", json=measure, ok=(201,))
        province_case = f"/api/v1/accidents/{acc_copy['id']}"
        seen = wait_until(
            lambda: (
                (d := province.call("GET", province_case).json())["investigation"]
                and d["corrective_measures"]
                and d
            ),
            timeout=60,
            what="the city's investigation and measure at the province",
        )
        assert seen["investigation"]["origin_node"] == f"node-{CITY}"
        assert seen["corrective_measures"][0]["content"] == "顶板专项整治"
        case_order = province.call_until(
            "POST",
            f"{province_case}/supervise",
            json={"requirements": "依法从严查处", "due_date": "2099-06-30"},
            ok=(201,),
        ).json()
        assert case_order["target_division"] == CITY
        wait_until(
            lambda: (
                (city.call("GET", city_case).json()["supervision"] or {}).get("uid")
                == case_order["uid"]
            ),
            timeout=60,
            what="the 挂牌督办 of the investigation at the city",
        )
        # the raw readings stay at the county: the province asks, the county answers up
        point = province.call("GET", "/api/v1/monitoring/points?q=T1").json()["items"][0]
        url = f"/api/v1/monitoring/points/{point['id']}/readings?from={read_at}&to={read_at + 1}"
        assert province.call("GET", url).status_code == 202
        raw = wait_until(
            lambda: (r := province.call("GET", url)).status_code == 200 and r.json(),
            timeout=60,
            what="the raw readings from the county",
        )
        assert raw["readings"] == [[read_at, 1.8, 0]] and raw["source"] == f"node-{COUNTY_A}"
        order = province.call_until(
            "POST",
            f"{HAZARDS}/{copy['id']}/supervise",
            json={"requirements": "30 日内整改到位并报验收", "due_date": "2099-06-30"},
            ok=(201,),
        ).json()
        assert order["kind"] == "supervision" and order["subject_uid"] == hz["uid"]
        wait_until(
            lambda: county.call("GET", path).json()["supervision_uid"] == order["uid"],
            timeout=60,
            what="the supervision order at the county",
        )
        county.call_until("POST", f"{path}/start", json={}, ok=(200,))
        county.call_until("POST", f"{path}/finish", json={"note": "通风设施已重建"}, ok=(200,))
        refused = county_official.call("POST", f"{path}/accept", json={"note": "合格"})
        assert refused.status_code == 409 and "挂牌督办" in refused.json()["detail"]

        wait_until(
            lambda: _hazard_at(province, hz["uid"])["state"] == "rectified",
            timeout=60,
            what="the rectification at the province",
        )
        province.call_until(
            "POST", f"/api/v1/directives/{order['uid']}/close", json={"note": "验收合格"}, ok=(200,)
        )
        wait_until(
            lambda: county.call("GET", path).json()["supervision_uid"] is None,
            timeout=60,
            what="the lifted order at the county",
        )
        closed = county_official.call_until(
            "POST", f"{path}/accept", json={"note": "督办解除，同意销号"}, ok=(200,)
        ).json()
        assert closed["state"] == "closed"
        for api, where in ((province, "province"), (national, "nation")):
            wait_until(
                lambda api=api: _hazard_at(api, hz["uid"])["state"] == "closed",
                timeout=60,
                what=f"the closure at the {where}",
            )
    finally:
        for api in (county, county_official, province, national, city):
            api.close()


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
    """The city is restored from a backup taken before it forwarded 30 changes: the county
    resends what the city lost; the city's own new records, which it numbers with sequence
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
            for uid, rec in _county_truth(net, [CITY]).items()
            if rec["origin_node"] == f"node-{CITY}"
        }
        return _county_truth(net, [COUNTY_A]) | at_city

    try:
        _write_batch(api, COUNTY_A, 0, 10)
        want = truth()
        wait_until(lambda: _converged(national, want), timeout=60, what="first batch at nation")
        # Back up the city, then let it receive (and forward) more, so that the province has
        # acknowledged city sequence numbers the backup does not have.
        city.stop()
        backup = net.dbs.backup(city.database_url, "city")
        city.start()
        _write_batch(api, COUNTY_A, 10, 10)
        want = truth()
        wait_until(lambda: _converged(national, want), timeout=60, what="second batch at nation")
        # The city's disk is lost; it comes back from the backup while the county is cut off,
        # and records changes of its own first.
        city.stop()
        net.dbs.restore(city.database_url, backup)
        county.proxy.cut()
        city.start()
        _write_batch(city_api, CITY, 100, 5)
        county.proxy.restore()
        _write_batch(api, COUNTY_A, 20, 10)
        directive_uid = _issue_directive(net.node(PROVINCE), "备份恢复后的通知")
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
                lambda: _converged(national, want),
                timeout=90,
                interval=0.5,
                what="everything at the nation after the city's restore",
            )
            wait_until(
                lambda: _receipts(net.node(NATIONAL), directive_uid) == {COUNTY_A},
                timeout=60,
                what="the receipt at the nation",
            )
        except HarnessError:
            print(net.report())
            raise
        for div in (PROVINCE, NATIONAL):
            _check_every_version_once(net.node(div), want)
        # The restored city got back what it lost, each version once (its backup plus the resend).
        _check_every_version_once(city, want)
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
        # the county has reached its parent once (a first round that failed while the city
        # was starting backs off, deaf to commits): from now on it waits for its next poll
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
