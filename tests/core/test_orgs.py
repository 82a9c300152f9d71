"""Organisations: agencies per tier, inspection bureaus across borders, scoped listing."""

from __future__ import annotations


def test_bureau_area_crosses_division_borders(personas) -> None:
    headers = personas.login("admin")
    r = personas.client.post(
        "/api/v1/organisations",
        headers=headers,
        json={
            "name": "大同朔州煤矿安全监察分局",
            "kind": "coal_inspection",
            "division_code": "140200",
            "area_codes": ["140200", "140622"],
        },
    )  # 大同市 and 朔州市's 应县
    assert r.status_code == 201, r.text
    assert r.json()["area_codes"] == ["140200", "140622"]
    assert r.json()["version"] == 1 and r.json()["origin_node"] == "node-140000"


def test_org_create_validation_names_the_field(personas) -> None:
    headers = personas.login("admin")
    cases = [
        ({"name": "x", "kind": "agency", "division_code": "149999"}, 422, "division_code"),
        (
            {"name": "x", "kind": "agency", "division_code": "140600", "area_codes": ["140622"]},
            422,
            "area_codes",
        ),
        ({"name": "x", "kind": "club", "division_code": "140600"}, 422, "kind"),
        (
            {
                "name": "x",
                "kind": "coal_inspection",
                "division_code": "140600",
                "area_codes": ["149999"],
            },
            422,
            "area_codes",
        ),
        (
            {"name": "x", "kind": "agency", "division_code": "140600", "parent_id": 9999},
            422,
            "parent_id",
        ),
        ({"name": "x", "kind": "agency", "division_code": "150000"}, 403, None),  # 内蒙古
    ]
    for body, status, field in cases:
        r = personas.client.post("/api/v1/organisations", headers=headers, json=body)
        assert r.status_code == status, (body, r.text)
        if field:
            assert r.json()["field"] == field


def test_only_admins_create_orgs(personas) -> None:
    r = personas.client.post(
        "/api/v1/organisations",
        headers=personas.login("sheng"),
        json={"name": "x", "kind": "agency", "division_code": "140600"},
    )
    assert r.status_code == 403


def test_org_listing_is_scoped(personas) -> None:
    names = {
        o["name"]
        for o in personas.client.get(
            "/api/v1/organisations", headers=personas.login("yingxian")
        ).json()
    }
    assert names == {"应县应急管理局"}
    city = {
        o["name"]
        for o in personas.client.get(
            "/api/v1/organisations", headers=personas.login("shuozhou")
        ).json()
    }
    assert {
        "朔州市应急管理局",
        "应县应急管理局",
        "山阴县应急管理局",
        "朔州煤矿安全监察分局",
    } <= city
    assert "山西省应急管理厅" not in city
    prov_id = next(
        o["id"]
        for o in personas.client.get(
            "/api/v1/organisations", headers=personas.login("sheng")
        ).json()
        if o["name"] == "山西省应急管理厅"
    )
    assert (
        personas.client.get(
            f"/api/v1/organisations/{prov_id}", headers=personas.login("yingxian")
        ).status_code
        == 404
    )


def test_org_cli_add_and_list(node, monkeypatch) -> None:
    from typer.testing import CliRunner

    from anjian.cli import app as cli
    from anjian.core import cli as cli_kit

    monkeypatch.setattr(cli_kit.console, "width", 200)  # a wide terminal: no wrapped names

    runner = CliRunner()
    ok = runner.invoke(
        cli,
        [
            "org",
            "add",
            "晋北煤矿安全监察分局",
            "--kind",
            "coal_inspection",
            "--division",
            "140600",
            "--area",
            "140622",
            "--area",
            "140200",
        ],
    )
    assert ok.exit_code == 0, ok.output
    bad_kind = runner.invoke(cli, ["org", "add", "x", "--kind", "club", "--division", "140600"])
    assert bad_kind.exit_code == 1 and "机构类型" in bad_kind.output
    outside = runner.invoke(cli, ["org", "add", "x", "--kind", "agency", "--division", "150000"])
    assert outside.exit_code == 1 and "管辖" in outside.output  # the node is 山西 (140000)
    listing = runner.invoke(cli, ["org", "list"])
    assert "晋北煤矿安全监察分局" in listing.output and "140622 140200" in listing.output
