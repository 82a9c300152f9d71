"""``anjian demo``: a realistic 山西 loaded through the services, in one unit of work, once.

The ``demo`` fixture (tests/conftest.py) runs ``anjian demo`` once per backend and worker and
gives each test a copy of that database; the tests of a failing or refused demo start empty."""

from __future__ import annotations

import math
import re
from collections import Counter

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from anjian.cli import app as cli
from anjian.config import get_settings
from anjian.core.audit.models import AuditRecord
from anjian.core.audit.service import SYSTEM, verify_chain
from anjian.core.clock import CST
from anjian.core.divisions.models import Division
from anjian.core.divisions.service import read_reference
from anjian.core.iam.models import RecoveryCode, User
from anjian.core.iam.service import current_totp
from anjian.core.orgs.models import Organisation, OrgKind
from anjian.core.sync.models import OutboxEntry
from anjian.demo import DEMO_PASSWORD, load_demo
from anjian.demo.generate import (
    Div,
    build_places,
    plan_enterprises,
    province_abbr,
    resolve_preset,
)
from anjian.enterprises.models import Enterprise
from anjian.enterprises.rules import uscc_problem
from anjian.hidden_hazards.models import Checklist, HiddenHazard, InspectionTask
from anjian.major_hazards.models import MajorHazardSource
from anjian.monitoring.models import MonitoringPoint
from anjian.risk.models import RiskPoint

N = 300
USERNAMES = ["admin", "sheng", "shuozhou", "yingxian", "shanyin", "jianchaju", "qiye"]
INDUSTRY = {
    "coal_mine": ("B06",),
    "non_coal_mine": ("B08", "B09", "B10"),
    "hazardous_chemicals": ("C25", "C26"),
    "fireworks": ("C2672",),
    "metallurgy_trade": ("C14", "C30", "C31", "C32", "C33", "C34"),
    "other": ("D44", "E47", "G54"),
}
LICENCE = {"coal_mine": "MK", "non_coal_mine": "FM", "hazardous_chemicals": "WH", "fireworks": "YH"}


def _flat(text: str) -> str:
    """CLI output without whitespace: Rich wraps long lines at the terminal width."""
    return "".join(text.split())


def _run_demo(*args: str):  # type: ignore[no-untyped-def]
    result = CliRunner().invoke(cli, ["demo", *args])
    assert result.exit_code == 0, result.output
    return result


def _login(node, username: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    with node.db() as s:
        user = s.scalar(select(User).where(User.username == username))
        otp = current_totp(s, user) if user.mfa_enabled else None
    return node.login(username, DEMO_PASSWORD, otp)


def _counts(node) -> dict[str, int]:  # type: ignore[no-untyped-def]
    with node.db() as s:
        return {
            model.__tablename__: s.scalar(select(func.count()).select_from(model))
            for model in (
                Enterprise,
                Organisation,
                User,
                AuditRecord,
                OutboxEntry,
                RecoveryCode,
                Checklist,
                InspectionTask,
            )
        }


def _check_output(demo) -> None:  # type: ignore[no-untyped-def]
    """The console URL and every login, password included, are printed."""
    out = _flat(demo.output)
    assert "http://127.0.0.1:8000/" in out
    for name in USERNAMES:
        assert name in out
    assert DEMO_PASSWORD in out
    assert "anjianuserotp<username>" in out
    assert "演示数据已载入" in out and f"企业{N}家" in out


def _check_enterprises(demo) -> None:  # type: ignore[no-untyped-def]
    """Valid credit codes, real counties, coordinates near them, codes matching categories."""
    with demo.db() as s:
        ents = list(s.scalars(select(Enterprise)))
        counties = {
            d.code: d
            for d in s.scalars(
                select(Division).where(Division.code.like("14%"), Division.tier == "county")
            )
        }
    assert len(ents) == N
    assert len({e.uscc for e in ents}) == N and len({e.name for e in ents}) == N
    for e in ents:
        assert uscc_problem(e.uscc) is None, e.uscc
        assert e.uscc[:2] == "91" and e.uscc[2:8] == e.division_code
        assert e.division_code in counties, e.division_code
        assert 110.0 < e.lng < 114.8 and 34.4 < e.lat < 40.9, (e.name, e.lng, e.lat)
        county = counties[e.division_code]
        if county.lng is not None:
            assert math.hypot(e.lng - county.lng, e.lat - county.lat) < 0.08, e.name
        assert e.industry_code.startswith(INDUSTRY[e.supervision_category]), e.name
        assert e.legal_rep and e.safety_manager and e.legal_rep_phone_enc
        assert county.name in e.address and e.address.startswith("山西省")
        code = LICENCE.get(e.supervision_category)
        if code is None or e.status == "construction":
            assert e.licence_no is None
        else:
            match = re.fullmatch(rf"\(晋\){code}安许证字〔(20\d\d)〕\d{{4}}", e.licence_no)
            assert match, e.licence_no
            issued = int(match.group(1))
            assert e.licence_valid_until.year in (issued + 2, issued + 3)  # three years
    categories = Counter(e.supervision_category for e in ents)
    assert set(categories) == set(INDUSTRY)
    assert categories.most_common(1)[0][0] == "coal_mine"  # 山西: coal first
    statuses = Counter(e.status for e in ents)
    assert statuses["operating"] > 0.8 * N and statuses["suspended"] and statuses["construction"]
    assert len({e.division_code for e in ents}) > 80  # spread over the province
    coal = [e for e in ents if e.supervision_category == "coal_mine"]
    assert not any(e.division_code.startswith("1408") for e in coal)  # 运城 has no coal mines
    assert any(e.name.startswith("朔州市平鲁区") or e.name.startswith("应县") for e in coal)


def _check_agencies(demo) -> None:  # type: ignore[no-untyped-def]
    """An agency for the province, every city and every county, in a tree."""
    with demo.db() as s:
        divisions = {
            d.code: d.name for d in s.scalars(select(Division).where(Division.code.like("14%")))
        }
        orgs = list(s.scalars(select(Organisation)))
    agencies = {o.division_code: o for o in orgs if o.kind == OrgKind.AGENCY}
    assert set(agencies) == set(divisions)  # the province, 11 cities and 117 counties
    assert agencies["140000"].name == "山西省应急管理厅"
    assert agencies["140600"].name == "朔州市应急管理局"
    assert agencies["140622"].name == "应县应急管理局"
    assert agencies["140603"].name == "朔州市平鲁区应急管理局"
    assert agencies["140311"].name == "阳泉市郊区应急管理局"
    assert agencies["140622"].parent_id == agencies["140600"].id
    assert agencies["140600"].parent_id == agencies["140000"].id
    assert sum(o.kind == OrgKind.RESCUE_TEAM for o in orgs) == 2


def _check_bureaus(demo) -> None:  # type: ignore[no-untyped-def]
    """Coal-mine inspection 分局 whose areas cross city borders."""
    with demo.db() as s:
        bureaus = list(
            s.scalars(select(Organisation).where(Organisation.kind == OrgKind.COAL_INSPECTION))
        )
    top = next(b for b in bureaus if b.name == "国家矿山安全监察局山西局")
    branches = [b for b in bureaus if b.parent_id == top.id]
    assert len(branches) >= 2
    assert all(b.name.endswith("分局") for b in branches)
    assert any(len({code[:4] for code in b.area_codes}) >= 2 for b in branches)
    jinbei = next(b for b in branches if "晋北" in b.name)
    assert {"140622", "140621", "140225"} <= set(jinbei.area_codes)  # 应县, 山阴, 大同 浑源


def _check_logins(demo) -> dict[str, dict[str, str]]:  # type: ignore[no-untyped-def]
    """Every demo user logs in (with a one-time code where MFA is on); returns the headers."""
    with demo.db() as s:
        users = {u.username: u for u in s.scalars(select(User).where(User.is_demo.is_(True)))}
    assert sorted(users) == sorted(USERNAMES)
    assert all(users[n].mfa_enabled for n in USERNAMES if n != "qiye")
    assert not users["qiye"].mfa_enabled and users["qiye"].enterprise_id is not None
    headers = {name: _login(demo, name) for name in USERNAMES}
    for name in USERNAMES:
        me = demo.client.get("/api/v1/auth/me", headers=headers[name])
        assert me.status_code == 200, me.text
        assert me.json()["username"] == name
    # A wrong password is still wrong: the demo does not weaken login.
    bad = demo.client.post(
        "/api/v1/auth/login", json={"username": "sheng", "password": "Wrong#Pass1"}
    )
    assert bad.status_code == 401
    return headers


def _listed(node, headers: dict[str, str]):  # type: ignore[no-untyped-def]
    r = node.client.get("/api/v1/enterprises", params={"limit": 500}, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


def _check_jurisdictions(demo, headers) -> None:  # type: ignore[no-untyped-def]
    """GET /api/v1/enterprises shows each demo user exactly their jurisdiction."""
    with demo.db() as s:
        by_county = Counter(s.scalars(select(Enterprise.division_code)))
        bureau = s.scalar(select(Organisation).where(Organisation.name.contains("晋北监察分局")))
        area = set(bureau.area_codes)
        coal_in_area = s.scalar(
            select(func.count()).where(
                Enterprise.division_code.in_(area), Enterprise.supervision_category == "coal_mine"
            )
        )
    ying = _listed(demo, headers["yingxian"])
    assert ying["total"] == by_county["140622"] > 0
    assert {e["division_code"] for e in ying["items"]} == {"140622"}
    shan = _listed(demo, headers["shanyin"])
    assert {e["division_code"] for e in shan["items"]} <= {"140621"}
    assert shan["total"] == by_county["140621"]
    city = _listed(demo, headers["shuozhou"])
    assert city["total"] == sum(n for code, n in by_county.items() if code.startswith("1406"))
    assert _listed(demo, headers["sheng"])["total"] == N
    inspector = _listed(demo, headers["jianchaju"])
    assert inspector["total"] == coal_in_area > 0
    assert {e["supervision_category"] for e in inspector["items"]} == {"coal_mine"}
    assert {e["division_code"] for e in inspector["items"]} <= area
    own = _listed(demo, headers["qiye"])
    assert own["total"] == 1
    assert own["items"][0]["supervision_category"] == "coal_mine"
    assert own["items"][0]["division_code"] == "140622"


def test_demo_loads_a_realistic_shanxi(demo) -> None:
    _check_output(demo)
    _check_enterprises(demo)
    _check_agencies(demo)
    _check_bureaus(demo)
    _check_hazards(demo)
    _check_monitoring(demo)
    _check_accidents(demo)
    _check_checklists(demo)


def _check_checklists(demo) -> None:  # type: ignore[no-untyped-def]
    """Checklists of the industry with their basis at the demo enterprise user's mine and at
    enterprises of both demo counties; a record of self-inspection tasks done on time, late
    and missed, and the current ones open — seen through qiye's own API and inbox."""
    from anjian.core.clock import today_in_china

    today = today_in_china()
    with demo.db() as s:
        qiye = s.scalar(select(User).where(User.username == "qiye"))
        lists = s.scalars(select(Checklist)).all()
        tasks = s.scalars(select(InspectionTask)).all()
        category = dict(s.execute(select(Enterprise.id, Enterprise.supervision_category)).all())
        county = dict(s.execute(select(Enterprise.id, Enterprise.division_code)).all())
        status = dict(s.execute(select(Enterprise.id, Enterprise.status)).all())
    own = [c for c in lists if c.enterprise_id == qiye.enterprise_id]
    assert {c.frequency for c in own} == {"daily", "weekly", "monthly"}
    assert all(item["basis"] for c in own for item in c.items)
    assert any("煤矿安全规程" in item["basis"] for c in own for item in c.items)
    chemical = [c for c in lists if category[c.enterprise_id] == "hazardous_chemicals"]
    assert any("GB 30871" in item["basis"] for c in chemical for item in c.items)
    with_lists = {c.enterprise_id for c in lists}
    for code in ("140622", "140621"):  # 应县, 山阴县: their working enterprises (four at least)
        working = sum(county[e] == code and status[e] == "operating" for e in county)
        assert sum(county[e] == code for e in with_lists) >= min(working, 4) > 0, code
    assert 10 < len(with_lists) < N / 2  # a share of the enterprises, not all
    done = [t for t in tasks if t.done_at is not None]
    on_time = [t for t in done if t.done_at.astimezone(CST).date() <= t.due_date]
    missed = [t for t in tasks if t.done_at is None and t.due_date < today]
    assert on_time and missed and len(done) > len(on_time)  # some late too
    assert len(on_time) > len(missed)  # most enterprises keep up
    assert all(t.done_at.astimezone(CST).date() <= today for t in done)
    mine = [t for t in tasks if t.enterprise_id == qiye.enterprise_id]
    assert any(t.done_at is None and t.due_date >= today for t in mine)  # open now
    assert any(t.done_at is None and t.due_date < today for t in mine)  # one missed
    # qiye sees them: the open tasks through the API and in the home page's inbox
    headers = _login(demo, "qiye")
    r = demo.client.get("/api/v1/inspection-tasks", params={"state": "pending"}, headers=headers)
    assert r.status_code == 200 and r.json()["total"] >= 3, r.text
    demo.client.cookies.clear()
    form = demo.client.get("/login").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', form).group(1)
    page = demo.client.post(
        "/login",
        data={"username": "qiye", "password": DEMO_PASSWORD, "next": "/", "csrf": csrf},
        follow_redirects=True,
    )
    assert page.status_code == 200
    assert 'id="inbox-inspections-due"' in page.text and "/inspections/" in page.text


def _check_accidents(demo) -> None:  # type: ignore[no-untyped-def]
    """Accidents this year and last (so statistics have a 同比), most reported in time and a
    few late, investigations closed in time and some still open, one under 挂牌督办 with its
    corrective measures."""
    from anjian.accidents.models import Accident, AccidentStep, CorrectiveMeasure, Investigation
    from anjian.directives.models import Directive

    with demo.db() as s:
        accidents = s.scalars(select(Accident)).all()
        steps = s.scalars(select(AccidentStep)).all()
        investigations = s.scalars(select(Investigation)).all()
        orders = s.scalars(select(Directive).where(Directive.subject_entity == "accident")).all()
        measures = s.scalars(select(CorrectiveMeasure)).all()
    years = {a.occurred_at.year for a in accidents}
    assert len(years) >= 2 and len(accidents) == 72
    assert {a.grade for a in accidents} >= {3, 4}
    late = [st for st in steps if st.reported_at and st.reported_at > st.report_due_at]
    assert 0 < len(late) < len(steps) / 3
    assert all(st.received_at is not None for st in steps)
    assert len(investigations) == sum(1 for a in accidents if a.deaths)
    closed = [i for i in investigations if i.closed_at is not None]
    assert closed and all(i.closed_at <= i.due_at for i in closed)
    assert any(i.closed_at is None for i in investigations)
    assert len(orders) == 1 and orders[0].kind == "supervision" and len(measures) == 2


def _check_monitoring(demo) -> None:  # type: ignore[no-untyped-def]
    """A few hundred monitoring points with presets that fit: tanks and gas detectors on the
    chemical plants' major hazard sources, methane by location at coal mines, tailings ponds
    with their own set points; the demo enterprise user's mine among them."""
    with demo.db() as s:
        points = s.scalars(select(MonitoringPoint)).all()
        sources = dict(
            s.execute(select(MajorHazardSource.id, MajorHazardSource.enterprise_id)).all()
        )
        qiye = s.scalar(select(User).where(User.username == "qiye"))
    assert 150 <= len(points) <= 500
    by = {c: [p for p in points if p.supervision_category == c] for c in INDUSTRY}
    assert {p.preset for p in by["hazardous_chemicals"]} >= {"tank_level_pct", "gas_combustible"}
    assert all(sources[p.major_hazard_id] == p.enterprise_id for p in by["hazardous_chemicals"])
    assert {p.preset for p in by["coal_mine"] if p.kind == "ch4"} >= {
        "coal_ch4_t0_upper_corner",
        "coal_ch4_t1_face",
        "coal_ch4_heading_face",
    }
    assert all(p.power_cut and p.preset.startswith("coal_ch4_") for p in points if p.kind == "ch4")
    assert {p.kind for p in by["coal_mine"]} >= {"ch4", "co", "o2", "wind_speed"}
    tailings = [p for p in by["non_coal_mine"] if p.preset.startswith("tailings_")]
    assert tailings and all(p.h is not None or p.l is not None for p in tailings)
    assert any(p.enterprise_id == qiye.enterprise_id for p in points)


def _check_hazards(demo) -> None:  # type: ignore[no-untyped-def]
    """A lived-in ledger: every stage of the loop, major hazards with plans, some overdue, and
    some at the demo enterprise user's own enterprise."""
    with demo.db() as s:
        hazards = s.scalars(select(HiddenHazard)).all()
        qiye = s.scalar(select(User).where(User.username == "qiye"))
    assert {h.state for h in hazards} == {
        "found",
        "registered",
        "rectifying",
        "rectified",
        "closed",
    }
    assert any(h.overdue for h in hazards)
    assert all(h.plan for h in hazards if h.grade == "major" and h.state != "found")
    assert any(h.enterprise_id == qiye.enterprise_id for h in hazards)
    with demo.db() as s:
        levels = set(s.scalars(select(RiskPoint.level)))
        sources = s.scalars(select(MajorHazardSource)).all()
    assert levels == {"major", "significant", "general", "low"}  # a four-colour map
    # varied sources: every grade 一级…四级 and many substances, not one source copied
    assert {src.grade for src in sources if src.is_major} == {1, 2, 3, 4}
    assert len({src.name for src in sources}) >= 8
    assert {src.filing_state for src in sources} >= {"filed", "submitted"}
    # every date pair in order: a rectification is never due before the hazard was found
    for h in hazards:
        found = h.found_at.astimezone(CST).date()
        if h.deadline is not None:
            assert h.deadline > found, (h.number, found, h.deadline)
        for later in (h.registered_at, h.closed_at):
            assert later is None or later >= h.found_at, h.number
    with demo.db() as s:
        counties = {
            d.code
            for d in s.scalars(select(Division).where(Division.code.like("14%")))
            if d.tier == "county"
        }
        with_enterprises = set(s.scalars(select(Enterprise.division_code)))
    assert counties <= with_enterprises, sorted(counties - with_enterprises)  # none left empty


def test_demo_users_log_in_and_see_only_their_jurisdiction(demo) -> None:
    _check_jurisdictions(demo, _check_logins(demo))


def test_rerun_adds_nothing_and_keeps_the_authenticators(demo) -> None:
    before = _counts(demo)
    with demo.db() as s:
        secrets = dict(s.execute(select(User.username, User.totp_secret_enc)).all())
    again = _run_demo()
    out = _flat(again.output)
    assert "演示数据已存在" in out
    for name in USERNAMES:
        assert name in out
    assert _counts(demo) == before
    with demo.db() as s:
        assert dict(s.execute(select(User.username, User.totp_secret_enc)).all()) == secrets
        assert verify_chain(s).ok


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_demo_loaded_before_monitoring_gets_its_points_once(personas) -> None:
    """What ``anjian demo`` does on a rerun over a demo that has no monitoring points yet."""
    from anjian.core.scope import Scope
    from anjian.demo.monitoring import top_up_monitoring

    scope = Scope.for_division(None, "admin", ["140000"])
    mine, chem = personas.enterprises["ying_mine"], personas.enterprises["shan_chem"]
    with personas.db() as s:
        added = top_up_monitoring(s, scope, "140000", mine, {"140622"}, seed=1)
    with personas.db() as s:
        assert top_up_monitoring(s, scope, "140000", mine, {"140622"}, seed=1) == 0
        where = Counter(s.scalars(select(MonitoringPoint.enterprise_id)))
    assert added == where[mine] + where[chem] and where[mine] >= 9 and where[chem] >= 5


def test_a_failure_leaves_nothing_loaded(node, monkeypatch) -> None:
    def boom(*_args, **_kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("disk full")

    monkeypatch.setenv("ANJIAN_MFA_REQUIRED_ROLES", '["admin"]')
    get_settings.cache_clear()
    monkeypatch.setattr("anjian.demo.loader.enrol_totp_directly", boom)
    result = CliRunner().invoke(cli, ["demo", "--enterprises", "20"])
    assert result.exit_code != 0
    counts = _counts(node)
    assert counts["enterprises"] == counts["organisations"] == counts["users"] == 0
    assert counts["outbox"] == counts["audit_records"] == 0


def test_real_user_with_a_demo_name_stops_the_demo(node) -> None:
    node.add_user("sheng", "official", "140000", password="Real#User2026")
    result = CliRunner().invoke(cli, ["demo", "--enterprises", "10"])
    assert result.exit_code == 1
    assert "sheng" in result.output and "新的数据库" in _flat(result.output)
    assert _counts(node)["enterprises"] == 0


@pytest.mark.parametrize(
    ("node_division", "args"),
    [("140600", []), ("140622", []), ("130000", []), ("140000", ["--province", "130000"])],
)
def test_demo_outside_the_nodes_jurisdiction_is_refused(
    node, monkeypatch, node_division: str, args: list[str]
) -> None:
    monkeypatch.setenv("ANJIAN_NODE_DIVISION", node_division)
    get_settings.cache_clear()
    result = CliRunner().invoke(cli, ["demo", *args])
    assert result.exit_code == 1
    out = _flat(result.output)
    assert "不包含" in out and "ANJIAN_NODE_DIVISION" in out
    assert _counts(node)["organisations"] == 0


def test_not_a_province_is_refused(node) -> None:
    result = CliRunner().invoke(cli, ["demo", "--province", "140600"])
    assert result.exit_code == 1
    assert "省级" in result.output


def test_a_national_node_loads_another_province_generically(node, monkeypatch) -> None:
    monkeypatch.setenv("ANJIAN_NODE_DIVISION", "000000")
    get_settings.cache_clear()
    with node.db() as s:
        result = load_demo(s, SYSTEM, province="440000", enterprises=40)
    assert result.created and result.enterprises == 40
    assert [login.username for login in result.logins][:2] == ["admin", "sheng"]
    with node.db() as s:
        codes = set(s.scalars(select(Enterprise.division_code)))
        agencies = set(
            s.scalars(select(Organisation.name).where(Organisation.kind == OrgKind.AGENCY))
        )
        names = list(s.scalars(select(Enterprise.licence_no)))
    assert all(code.startswith("44") for code in codes)
    assert {"广东省应急管理厅", "广州市应急管理局", "东莞市应急管理局"} <= agencies
    assert any(n and n.startswith("(粤)") for n in names)


# --- pure generation ------------------------------------------------------------------------------


def _shanxi():  # type: ignore[no-untyped-def]
    divs = [
        Div(d.code, d.name, d.tier, d.parent_code, d.lng, d.lat)
        for d in read_reference()
        if d.code.startswith("14")
    ]
    prov = next(d for d in divs if d.code == "140000")
    cities, places = build_places(prov, divs, {})
    return prov, cities, places, resolve_preset(prov, cities, places)


def test_same_seed_same_province_other_seed_other_province() -> None:
    prov, _cities, places, preset = _shanxi()

    def plan(seed: int):  # type: ignore[no-untyped-def]
        return plan_enterprises(
            places,
            preset,
            province_name=prov.name,
            abbr=province_abbr(prov),
            count=50,
            seed=seed,
            anchor_code="140622",
        )

    assert plan(7) == plan(7)
    assert plan(7) != plan(8)
    first = plan(7)[0]
    assert first["division_code"] == "140622" and first["supervision_category"] == "coal_mine"


def test_a_small_demo_still_fills_every_county_of_the_demo_officials_city() -> None:
    """With ``--enterprises 30`` every county of 朔州市 (the city official's; 应县 and 山阴县 are
    the county officials') has an enterprise: no demo official opens an empty county."""
    prov, _cities, places, preset = _shanxi()
    plan = plan_enterprises(
        places,
        preset,
        province_name=prov.name,
        abbr=province_abbr(prov),
        count=30,
        seed=2026,
        anchor_code="140622",
    )
    shuozhou = {p.code for p in places if p.city_code == "140600"}
    assert len(shuozhou) == 6 and shuozhou <= {e["division_code"] for e in plan}
    mines = {"coal_mine", "non_coal_mine", "fireworks"}
    for e in plan:  # no mine in a city core
        assert not (e["supervision_category"] in mines and e["division_code"] in preset.urban_cores)


def test_shanxi_preset_names_real_places() -> None:
    _prov, cities, places, preset = _shanxi()
    codes = {p.code for p in places}
    assert len(cities) == 11 and len(places) == 117
    for bureau in preset.bureaus:
        assert set(bureau.area_codes) <= codes, bureau.name
    assert {code for _name, code in preset.rescue_teams} <= {c.code for c in cities}
    assert set(preset.county_codes) <= codes
    by_code = {p.code: p for p in places}
    assert by_code["140603"].region == "朔州市平鲁区"
    assert by_code["140621"].region_short == "山阴"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_demo_loaded_before_checklists_gets_them_once(personas) -> None:
    """What ``anjian demo`` does on a rerun over a demo that has no checklists yet."""
    from anjian.core.scope import Scope
    from anjian.demo.checklists import choose, load_checklists

    scope = Scope.for_division(None, "admin", ["140000"])
    mine = personas.enterprises["ying_mine"]
    with personas.db() as s:
        ents = s.scalars(select(Enterprise).order_by(Enterprise.id)).all()
        lists, tasks = load_checklists(
            s, scope, choose(ents, mine, {"140622"}, 1), 1, anchor_id=mine
        )
    with personas.db() as s:
        assert load_checklists(s, scope, ents, 1, anchor_id=mine) == (0, 0)
        assert s.scalar(select(func.count()).select_from(Checklist)) == lists >= 3
        assert s.scalar(select(func.count()).select_from(InspectionTask)) == tasks > lists
