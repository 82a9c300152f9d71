"""What the real-node network tests do at the counties and what they check everywhere else:
the county writers (enterprises, dual-prevention records, accident reports written through each
county's API, as its officials do), the chaos that kills nodes and cuts links meanwhile, and the
truths (each county's latest records) that every node above must converge on."""

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
from typing import Any

import httpx
from harness import (
    CITY,
    COUNTY_A,
    COUNTY_B,
    Api,
    HarnessError,
    Network,
    Node,
)

from anjian.accidents.rules import Grade, reporting_chain
from anjian.core.divisions.rules import agencies_over
from anjian.core.divisions.service import read_reference
from anjian.enterprises.rules import compose_uscc

CHAOS_SECONDS = float(os.environ.get("ANJIAN_CHAOS_SECONDS", "25"))
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


def fields(item: dict[str, Any]) -> dict[str, Any]:
    keys = ("uid", "uscc", "name", "address", "employees", "division_code", "origin_node")
    return {k: item[k] for k in keys} | {"version": item["version"]}


def accident_fields(item: dict[str, Any]) -> dict[str, Any]:
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
    retries through kills and restarts; signs the directive once it has come down. Once told to
    wrap up (``wrap_up``), it files follow-ups until one has raised a report's grade (``grown``:
    a chain reaching past the city), if its share of random writes has not done so yet."""

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
        self.grown = False  # a follow-up confirmed a grade above 一般
        self.wrap_up = False
        self._serial = 0
        self._last_sign_try = 0.0

    def run(self) -> None:
        try:
            while not self.stop_event.is_set():
                try:
                    if len(self.records) < ENTERPRISES_PER_COUNTY:
                        self._create()
                    elif self.wrap_up and not self.grown:
                        self._accident_report()
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
            item["uid"], item["id"], uscc, item["version"], fields(item)
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
        rec.version, rec.fields = item["version"], fields(item)
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
        self.accidents[item["uid"]] = accident_fields(item)
        self.accident_reports += 1
        self.grown = self.grown or item["grade"] < Grade.ORDINARY

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


def issue_directive(province: Node, title: str, timeout: float = 60) -> str:
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


def county_truth(net: Network, counties: list[str]) -> dict[str, dict[str, Any]]:
    """Every enterprise as its county (the single writer) holds it now."""
    truth: dict[str, dict[str, Any]] = {}
    for div in counties:
        api = Api(net.node(div).url, "admin")
        try:
            for item in api.all_enterprises():
                truth[item["uid"]] = fields(item)
        finally:
            api.close()
    return truth


def hazard_truth(net: Network, counties: list[str]) -> dict[str, dict[str, tuple[int, str]]]:
    """Every dual-prevention record as its county holds it now, by entity."""
    truth: dict[str, dict[str, tuple[int, str]]] = {entity: {} for entity, _, _ in DUAL}
    for div in counties:
        api = Api(net.node(div).url, "admin")
        try:
            for entity, records in hazards_at(api).items():
                truth[entity] |= records
        finally:
            api.close()
    return truth


def hazards_at(api: Api) -> dict[str, dict[str, tuple[int, str]]]:
    """Hidden hazards, risk points and major hazard sources here, by entity: uid → (version,
    where it stands)."""
    out: dict[str, dict[str, tuple[int, str]]] = {}
    for entity, path, state in DUAL:
        r = api.call("GET", path, params={"size": 500})
        assert r.status_code == 200, r.text
        out[entity] = {h["uid"]: (h["version"], str(h[state])) for h in r.json()["items"]}
    return out


def accidents_at(api: Api) -> dict[str, dict[str, Any]]:
    """Accident reports here: uid → what must arrive of each."""
    r = api.call("GET", ACCIDENTS, params={"size": 500})
    assert r.status_code == 200, r.text
    return {a["uid"]: accident_fields(a) for a in r.json()["items"]}


def accident_truth(net: Network, counties: list[str]) -> dict[str, dict[str, Any]]:
    """Every accident report as its county holds it now, with its version (from the database:
    the API does not show it)."""
    truth: dict[str, dict[str, Any]] = {}
    for div in counties:
        node = net.node(div)
        versions = dict(node.query("SELECT uid, version FROM accidents"))
        api = Api(node.url, "admin")
        try:
            for uid, fields in accidents_at(api).items():
                truth[uid] = fields | {"version": int(versions[uid])}
        finally:
            api.close()
    return truth


def chains_at(api: Api, uids: Iterable[str]) -> dict[str, list[tuple[str, str]]]:
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


def chain_wanted(accident: dict[str, Any]) -> list[tuple[str, str]]:
    """The steps an accident's grade requires, each made by the node that keeps the agency (the
    grades only rise here, so no step is left over from a lower grade's chain)."""
    codes = {d.code for d in read_reference()}
    agencies = agencies_over(accident["division_code"], codes)
    return [
        (step.tier, f"node-{step.division}")
        for step in reporting_chain(agencies, Grade(accident["grade"]))
    ]


def steps_made(net: Network) -> dict[str, dict[str, dict[str, Any]]]:
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


def converged(api: Api, truth: dict[str, dict[str, Any]]) -> bool:
    have = {item["uid"]: fields(item) for item in api.all_enterprises()}
    return all(have.get(uid) == want for uid, want in truth.items())


def versions_seen(node: Node, entity: str = "enterprise") -> Counter[tuple[str, int]]:
    """How many times each (uid, version) entered this node's outbox: once per change applied
    (or made) here."""
    rows = node.query(
        "SELECT uid, version, count(*) FROM outbox WHERE entity = :e GROUP BY uid, version",
        e=entity,
    )
    return Counter({(uid, int(v)): int(n) for uid, v, n in rows})


def check_every_version_once(
    node: Node, truth: dict[str, dict[str, Any]], entity: str = "enterprise"
) -> None:
    """Each version 1..latest of every county record reached ``node`` exactly once."""
    seen = versions_seen(node, entity)
    twice = {k: n for k, n in seen.items() if n > 1}
    assert not twice, f"applied more than once at {node.division}: {sorted(twice)[:10]}"
    missing = [
        (uid, v)
        for uid, want in truth.items()
        for v in range(1, want["version"] + 1)
        if (uid, v) not in seen
    ]
    assert not missing, f"versions that never reached {node.division}: {missing[:10]}"


def receipts(node: Node, directive_uid: str) -> set[str]:
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
