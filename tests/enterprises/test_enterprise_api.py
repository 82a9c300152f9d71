"""The enterprise registry through the API, as the personas of each tier meet it: who sees
which file, who may register or change one, and what every change leaves behind (audit record,
outbox row, encrypted phones)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from enterprise_helpers import make_uscc
from sqlalchemy import select

from anjian.core.audit.service import SYSTEM
from anjian.core.iam.service import field_cipher
from anjian.core.scope import Scope
from anjian.core.sync.models import OutboxEntry
from anjian.enterprises.models import Enterprise
from anjian.enterprises.schemas import EnterpriseCreate
from anjian.enterprises.service import create_enterprise
from samples import VISIBLE_ENTERPRISES

API = "/api/v1/enterprises"
Auth = Callable[[str], dict[str, str]]
EVERYTHING = Scope.for_division(None, "admin", ["000000"])


def body(**overrides: Any) -> dict[str, Any]:
    """A valid registration in 应县, with ``overrides``."""
    return {
        "uscc": make_uscc("140622"),
        "name": "应县宏达洗煤有限公司",
        "division_code": "140622",
        "supervision_category": "coal_mine",
        "industry_code": "B06",
        "legal_rep": "周法人",
        "legal_rep_phone": "13511112222",
        "safety_manager": "吴安全",
        "safety_manager_phone": "0349-5021234",
        "lng": 113.2,
        "lat": 39.5,
        **overrides,
    }


def outbox(node: Any, uid: str) -> list[OutboxEntry]:
    with node.db() as s:
        return list(
            s.scalars(select(OutboxEntry).where(OutboxEntry.uid == uid).order_by(OutboxEntry.seq))
        )


# --- who sees what -----------------------------------------------------------------------------


@pytest.mark.parametrize("persona", sorted(VISIBLE_ENTERPRISES))
def test_scope_of_list_and_read(personas: Any, auth: Auth, persona: str) -> None:
    headers = auth(persona)
    r = personas.client.get(API, headers=headers)
    assert r.status_code == 200, r.text
    ids = {item["id"] for item in r.json()["items"]}
    expected = {personas.enterprises[k] for k in VISIBLE_ENTERPRISES[persona]}
    assert ids == expected
    assert r.json()["total"] == len(expected)
    for key, ent_id in personas.enterprises.items():
        one = personas.client.get(f"{API}/{ent_id}", headers=headers)
        if key in VISIBLE_ENTERPRISES[persona]:
            assert one.status_code == 200, one.text
            assert one.json()["id"] == ent_id
        else:
            # Not 403: a file outside the jurisdiction must not even be confirmed to exist.
            assert one.status_code == 404
            assert "不存在或不在管辖范围内" in one.json()["detail"]


def test_missing_and_foreign_files_look_the_same(personas: Any, auth: Auth) -> None:
    foreign = personas.client.get(
        f"{API}/{personas.enterprises['shan_chem']}", headers=auth("yingxian")
    )
    missing = personas.client.get(f"{API}/999999", headers=auth("yingxian"))
    assert foreign.status_code == missing.status_code == 404
    assert foreign.json()["detail"].replace(str(personas.enterprises["shan_chem"]), "#") == (
        missing.json()["detail"].replace("999999", "#")
    )


def test_list_needs_login(personas: Any) -> None:
    assert personas.client.get(API).status_code == 401


def test_read_is_audited_with_masked_phones(personas: Any, auth: Auth) -> None:
    ent_id = personas.enterprises["ying_mine"]
    r = personas.client.get(f"{API}/{ent_id}", headers=auth("qiye"))
    assert r.status_code == 200
    data = r.json()
    assert data["legal_rep_phone_masked"] == "139****5678"
    assert data["safety_manager_phone_masked"] == "136****5432"
    assert "13912345678" not in r.text and "13698765432" not in r.text
    assert data["division_name"] == "应县"
    assert data["supervision_category_label"] == "煤矿"
    assert (data["scale_label"], data["status_label"]) == ("中型", "正常生产")
    assert data["origin_node"] == "node-140000" and data["version"] == 1
    reads = personas.audits("enterprise.read")
    assert [(a.actor_name, a.object_type, a.object_id, a.division_code) for a in reads] == [
        ("qiye", "enterprise", str(ent_id), "140622")
    ]


# --- registering -------------------------------------------------------------------------------


def test_create_stores_phones_encrypted_and_queues_the_record(personas: Any, auth: Auth) -> None:
    payload = body()
    r = personas.client.post(API, json=payload, headers=auth("yingxian"))
    assert r.status_code == 201, r.text
    data = r.json()
    assert data["legal_rep_phone_masked"] == "135****2222"
    assert data["safety_manager_phone_masked"] == "034****1234"
    assert data["version"] == 1 and data["uscc"] == payload["uscc"]
    with personas.db() as s:
        ent = s.get(Enterprise, data["id"])
        assert ent is not None
        # The raw columns hold SM4 ciphertext; only the key turns them back into numbers.
        assert ent.legal_rep_phone_enc.startswith("sm4gcm:")
        assert "13511112222" not in ent.legal_rep_phone_enc
        assert field_cipher().decrypt(ent.legal_rep_phone_enc) == "13511112222"
        assert field_cipher().decrypt(ent.safety_manager_phone_enc) == "03495021234"
    (entry,) = outbox(personas, data["uid"])
    assert (entry.entity, entry.version, entry.op) == ("enterprise", 1, "upsert")
    assert entry.payload["uscc"] == payload["uscc"]
    assert "13511112222" not in str(entry.payload)
    (rec,) = [a for a in personas.audits("enterprise.create") if a.object_id == str(data["id"])]
    assert rec.actor_name == "yingxian" and rec.division_code == "140622"
    assert "legal_rep_phone" in rec.detail["fields"]
    assert "13511112222" not in str(rec.detail)


def test_wrong_check_digit_is_a_422_naming_uscc(personas: Any, auth: Auth) -> None:
    r = personas.client.post(API, json=body(uscc="91350100M000100Y44"), headers=auth("yingxian"))
    assert r.status_code == 422
    assert r.json()["field"] == "uscc"
    assert "统一社会信用代码校验位错误" in r.json()["detail"]


def test_real_world_code_is_accepted(personas: Any, auth: Auth) -> None:
    r = personas.client.post(API, json=body(uscc="91350100m000100y43"), headers=auth("yingxian"))
    assert r.status_code == 201, r.text
    assert r.json()["uscc"] == "91350100M000100Y43"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"legal_rep_phone": "139-abc"}, "legal_rep_phone"),
        ({"safety_manager_phone": "12345"}, "safety_manager_phone"),
        ({"lng": 150.0}, "lng"),
        ({"lat": 60.0}, "lat"),
        ({"supervision_category": "bakery"}, "supervision_category"),
        ({"industry_code": "Q9"}, "industry_code"),
        ({"scale": "giant"}, "scale"),
    ],
)
@pytest.mark.one_backend
def test_bad_fields_are_422_naming_the_field(
    personas: Any, auth: Auth, overrides: dict[str, Any], field: str
) -> None:
    r = personas.client.post(API, json=body(**overrides), headers=auth("yingxian"))
    assert r.status_code == 422
    assert r.json()["field"] == field


def test_duplicate_credit_code_is_a_409(personas: Any, auth: Auth) -> None:
    payload = body()
    assert personas.client.post(API, json=payload, headers=auth("sheng")).status_code == 201
    again = personas.client.post(API, json=payload | {"name": "另一家"}, headers=auth("sheng"))
    assert again.status_code == 409
    assert again.json()["field"] == "uscc"
    assert "已登记" in again.json()["detail"]


def test_unknown_division_is_a_422(personas: Any, auth: Auth) -> None:
    r = personas.client.post(API, json=body(division_code="149999"), headers=auth("sheng"))
    assert r.status_code == 422
    assert r.json()["field"] == "division_code"
    assert "行政区划代码不存在" in r.json()["detail"]


def test_county_cannot_register_in_another_county(personas: Any, auth: Auth) -> None:
    r = personas.client.post(
        API, json=body(uscc=make_uscc("140621"), division_code="140621"), headers=auth("yingxian")
    )
    assert r.status_code == 403
    detail = r.json()["detail"]
    assert "不在您的管辖范围内" in detail and "outside your jurisdiction" in detail
    with personas.db() as s:
        assert (
            s.scalar(
                select(Enterprise)
                .where(Enterprise.division_code == "140621")
                .where(Enterprise.name == "应县宏达洗煤有限公司")
            )
            is None
        )


def test_enterprise_user_cannot_register(personas: Any, auth: Auth) -> None:
    r = personas.client.post(API, json=body(), headers=auth("qiye"))
    assert r.status_code == 403
    assert "企业用户" in r.json()["detail"]


def test_inspection_bureau_registers_coal_mines_only(personas: Any, auth: Auth) -> None:
    chem = personas.client.post(
        API, json=body(supervision_category="hazardous_chemicals"), headers=auth("jianchaju")
    )
    assert chem.status_code == 403
    assert chem.json()["field"] == "supervision_category"
    mine = personas.client.post(API, json=body(), headers=auth("jianchaju"))
    assert mine.status_code == 201, mine.text


def test_city_registers_in_its_counties(personas: Any, auth: Auth) -> None:
    for code in ("140621", "140622", "140600"):
        r = personas.client.post(
            API, json=body(uscc=make_uscc(code), division_code=code), headers=auth("shuozhou")
        )
        assert r.status_code == 201, r.text
    outside = personas.client.post(API, json=body(division_code="140100"), headers=auth("shuozhou"))
    assert outside.status_code == 403


# --- changing ----------------------------------------------------------------------------------


def test_patch_writes_audit_and_outbox_and_raises_the_version(personas: Any, auth: Auth) -> None:
    ent_id = personas.enterprises["ying_mine"]
    with personas.db() as s:
        before = s.get(Enterprise, ent_id)
        assert before is not None
        uid, updated_before, enc_before = (
            before.uid,
            before.updated_at,
            before.safety_manager_phone_enc,
        )
    r = personas.client.patch(
        f"{API}/{ent_id}",
        json={
            "address": "应县南河种镇新村",
            "safety_manager_phone": "13700001111",
            "scale": "medium",
        },
        headers=auth("yingxian"),
    )
    assert r.status_code == 200, r.text
    data = r.json()
    assert data["version"] == 2
    assert data["address"] == "应县南河种镇新村"
    assert data["safety_manager_phone_masked"] == "137****1111"
    entries = outbox(personas, uid)
    assert [e.version for e in entries] == [1, 2]
    assert entries[-1].payload["address"] == "应县南河种镇新村"
    assert "13700001111" not in str(entries[-1].payload)
    (rec,) = personas.audits("enterprise.update")
    assert (rec.actor_name, rec.object_type, rec.object_id, rec.division_code) == (
        "yingxian",
        "enterprise",
        str(ent_id),
        "140622",
    )
    # "scale" was sent but did not change: only real changes are recorded.
    assert rec.detail == {"fields": ["address", "safety_manager_phone"]}
    with personas.db() as s:
        after = s.get(Enterprise, ent_id)
        assert after is not None
        assert after.updated_at > updated_before
        assert after.safety_manager_phone_enc != enc_before
        assert field_cipher().decrypt(after.safety_manager_phone_enc) == "13700001111"


def test_patch_without_change_writes_nothing(personas: Any, auth: Auth) -> None:
    ent_id = personas.enterprises["ying_mine"]
    r = personas.client.patch(
        f"{API}/{ent_id}",
        json={"name": "应县金鼎煤业有限公司", "legal_rep_phone": "139 1234 5678"},
        headers=auth("sheng"),
    )
    assert r.status_code == 200
    assert r.json()["version"] == 1
    assert personas.audits("enterprise.update") == []


@pytest.mark.parametrize(
    ("persona", "change", "status"),
    [
        pytest.param(
            "sheng", {"uscc": "91350100M000100Y43"}, 422, id="cannot_change_the_credit_code"
        ),
        pytest.param(
            "jianchaju",
            {"supervision_category": "other"},
            403,
            id="inspection_bureau_cannot_reclassify_a_mine_out_of_view",
        ),
    ],
)
def test_a_refused_patch_names_the_field(
    personas: Any, auth: Auth, persona: str, change: dict[str, str], status: int
) -> None:
    r = personas.client.patch(
        f"{API}/{personas.enterprises['ying_mine']}", json=change, headers=auth(persona)
    )
    assert r.status_code == status
    assert r.json()["field"] == next(iter(change))


def test_patch_out_of_scope_is_404(personas: Any, auth: Auth) -> None:
    r = personas.client.patch(
        f"{API}/{personas.enterprises['shan_chem']}",
        json={"address": "x"},
        headers=auth("yingxian"),
    )
    assert r.status_code == 404


def test_moving_a_file_stays_inside_the_jurisdiction(personas: Any, auth: Auth) -> None:
    ent_id = personas.enterprises["ying_mine"]
    away = personas.client.patch(
        f"{API}/{ent_id}", json={"division_code": "140621"}, headers=auth("yingxian")
    )
    assert away.status_code == 403
    moved = personas.client.patch(
        f"{API}/{ent_id}", json={"division_code": "140621"}, headers=auth("shuozhou")
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["division_name"] == "山阴县"
    assert personas.client.get(f"{API}/{ent_id}", headers=auth("yingxian")).status_code == 404
    assert personas.client.get(f"{API}/{ent_id}", headers=auth("shanyin")).status_code == 200
    (rec,) = personas.audits("enterprise.update")
    assert rec.detail == {"fields": ["division_code"], "moved_from": "140622"}
    assert rec.division_code == "140621"


def test_enterprise_user_edits_contacts_only(personas: Any, auth: Auth) -> None:
    ent_id = personas.enterprises["ying_mine"]
    ok = personas.client.patch(
        f"{API}/{ent_id}",
        json={"safety_manager": "钱安全", "safety_manager_phone": "13600000000", "employees": 310},
        headers=auth("qiye"),
    )
    assert ok.status_code == 200, ok.text
    assert ok.json()["safety_manager"] == "钱安全"
    for change in ({"status": "closed"}, {"supervision_category": "other"}, {"name": "改名"}):
        r = personas.client.patch(f"{API}/{ent_id}", json=change, headers=auth("qiye"))
        assert r.status_code == 403, change
        assert r.json()["field"] == next(iter(change))
    other = personas.client.patch(
        f"{API}/{personas.enterprises['shan_chem']}", json={"address": "x"}, headers=auth("qiye")
    )
    assert other.status_code == 404


def test_records_of_other_nodes_are_read_only(personas: Any, auth: Auth) -> None:
    ent_id = personas.enterprises["shan_chem"]
    with personas.db() as s:
        ent = s.get(Enterprise, ent_id)
        assert ent is not None
        ent.origin_node = "node-140621"  # a copy received from the 山阴 county node
    r = personas.client.patch(f"{API}/{ent_id}", json={"address": "x"}, headers=auth("sheng"))
    assert r.status_code == 403
    assert "node-140621" in r.json()["detail"]


# --- lists, filters, paging and the map ---------------------------------------------------------


@pytest.fixture
def registry(personas: Any) -> Any:
    """Six more enterprises across 朔州, with varied categories, scales, statuses, industries."""
    extra = [
        ("140622", "应县华鑫非煤矿业", "non_coal_mine", "small", "operating", "B10"),
        ("140622", "应县红星烟花厂", "fireworks", "micro", "suspended", "C26"),
        ("140622", "应县恒通冶金", "metallurgy_trade", "large", "operating", "C31"),
        ("140621", "山阴县峰岭煤业", "coal_mine", "large", "closed", "B06"),
        ("140602", "朔城区新源化工", "hazardous_chemicals", "medium", "construction", "C26"),
        ("140602", "朔城区某贸易公司", "other", "small", "operating", "F51"),
    ]
    with personas.db() as s:
        for division, name, category, scale, status, industry in extra:
            create_enterprise(
                s,
                SYSTEM,
                EVERYTHING,
                EnterpriseCreate(
                    uscc=make_uscc(division),
                    name=name,
                    division_code=division,
                    supervision_category=category,
                    scale=scale,
                    status=status,
                    industry_code=industry,
                    lng=None if name.endswith("贸易公司") else 112.5,
                    lat=None if name.endswith("贸易公司") else 39.3,
                ),
            )
    return personas


def names(r: Any) -> set[str]:
    assert r.status_code == 200, r.text
    return {item["name"] for item in r.json()["items"]}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        (
            {"q": "应县"},
            {"应县金鼎煤业有限公司", "应县华鑫非煤矿业", "应县红星烟花厂", "应县恒通冶金"},
        ),
        ({"q": "煤业"}, {"应县金鼎煤业有限公司", "山阴县峰岭煤业"}),
        ({"division": "140621"}, {"山阴县晋北化工有限公司", "山阴县峰岭煤业"}),
        ({"division": "140602"}, {"朔城区新源化工", "朔城区某贸易公司"}),
        ({"category": "coal_mine"}, {"应县金鼎煤业有限公司", "山阴县峰岭煤业"}),
        ({"status": "suspended"}, {"应县红星烟花厂"}),
        ({"scale": "large"}, {"应县恒通冶金", "山阴县峰岭煤业"}),
        ({"industry": "B"}, {"应县金鼎煤业有限公司", "应县华鑫非煤矿业", "山阴县峰岭煤业"}),
        ({"industry": "c26"}, {"山阴县晋北化工有限公司", "应县红星烟花厂", "朔城区新源化工"}),
        ({"division": "140622", "category": "fireworks"}, {"应县红星烟花厂"}),
        ({"q": "%"}, set()),  # LIKE wildcards are literal
    ],
)
def test_list_filters(
    registry: Any, auth: Auth, params: dict[str, str], expected: set[str]
) -> None:
    r = registry.client.get(API, params=params, headers=auth("shuozhou"))
    assert names(r) == expected
    assert r.json()["total"] == len(expected)


def test_credit_code_prefix_search(registry: Any, auth: Auth) -> None:
    with registry.db() as s:
        uscc = s.get(Enterprise, registry.enterprises["shan_chem"]).uscc  # type: ignore[union-attr]
    r = registry.client.get(API, params={"q": uscc.lower()}, headers=auth("sheng"))
    assert names(r) == {"山阴县晋北化工有限公司"}


def test_filters_never_widen_the_scope(registry: Any, auth: Auth) -> None:
    r = registry.client.get(API, params={"division": "140621"}, headers=auth("yingxian"))
    assert names(r) == set()
    r = registry.client.get(API, params={"division": "140000"}, headers=auth("yingxian"))
    assert names(r) == {
        "应县金鼎煤业有限公司",
        "应县华鑫非煤矿业",
        "应县红星烟花厂",
        "应县恒通冶金",
    }


def test_paging(registry: Any, auth: Auth) -> None:
    seen: list[int] = []
    for offset in range(0, 8, 3):
        r = registry.client.get(API, params={"limit": 3, "offset": offset}, headers=auth("sheng"))
        assert r.status_code == 200
        assert r.json()["total"] == 8
        seen += [item["id"] for item in r.json()["items"]]
    assert len(seen) == len(set(seen)) == 8
    codes = [
        item["division_code"]
        for item in registry.client.get(API, params={"limit": 500}, headers=auth("sheng")).json()[
            "items"
        ]
    ]
    assert codes == sorted(codes)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 501}, "limit"),
        ({"offset": -1}, "offset"),
        ({"division": "14x"}, "division"),
    ],
)
def test_bad_paging_or_filters_are_422(
    registry: Any, auth: Auth, params: dict[str, Any], field: str
) -> None:
    r = registry.client.get(API, params=params, headers=auth("sheng"))
    assert r.status_code == 422
    assert r.json()["field"] == field


def test_map_points(registry: Any, auth: Auth) -> None:
    r = registry.client.get(f"{API}/map", headers=auth("shuozhou"))
    assert r.status_code == 200
    points = r.json()
    # The trading company has no coordinates, so it has no place on the map.
    assert {p["name"] for p in points} == {
        "应县金鼎煤业有限公司",
        "山阴县晋北化工有限公司",
        "应县华鑫非煤矿业",
        "应县红星烟花厂",
        "应县恒通冶金",
        "山阴县峰岭煤业",
        "朔城区新源化工",
    }
    mine = next(p for p in points if p["id"] == registry.enterprises["ying_mine"])
    assert mine == {
        "id": registry.enterprises["ying_mine"],
        "name": "应县金鼎煤业有限公司",
        "lng": 113.19,
        "lat": 39.55,
        "category": "coal_mine",
        "category_label": "煤矿",
        "status": "operating",
    }
    jian = registry.client.get(f"{API}/map", headers=auth("jianchaju")).json()
    assert {p["name"] for p in jian} == {"应县金鼎煤业有限公司", "山阴县峰岭煤业"}
    coal = registry.client.get(
        f"{API}/map", params={"category": "coal_mine", "division": "140622"}, headers=auth("sheng")
    ).json()
    assert [p["name"] for p in coal] == ["应县金鼎煤业有限公司"]
    mine_only = registry.client.get(f"{API}/map", headers=auth("qiye")).json()
    assert [p["id"] for p in mine_only] == [registry.enterprises["ying_mine"]]
