"""Evidence of findings: the place on the map, photos of the problem and signatures of those who
confirmed it on site — attached by the inspecting agency in the console or by the officer's
terminal after the finding itself went up; kept once however often sent; refused clearly when
not an image, too large, unsigned, out of scope or from a terminal off the team."""

from __future__ import annotations

import struct
import uuid
import zlib
from datetime import UTC, datetime
from typing import Any

import pytest

from enforcement_world import API, officer, plan_inspection

TERMINAL = "/api/v1/terminal"


def _png(seed: int = 0) -> bytes:
    """A real 2×2 PNG (different pixels for different seeds)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\0" + bytes([seed % 256, 0, 0] * 2) for _ in range(2))
    header = struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


@pytest.fixture
def site(personas: Any) -> Any:
    """yingxian and zf1 on site at the 应县 mine with one finding; zf1's tablet bound."""
    node = personas
    node.headers = node.login("yingxian")
    node.officers = [officer(node, "yingxian", "C1"), officer(node, "zf1", "C2")]
    node.inspection = plan_inspection(node).json()
    iid = node.inspection["id"]
    node.client.post(f"{API}/inspections/{iid}/start", headers=node.headers)
    r = node.client.post(
        f"{API}/inspections/{iid}/findings",
        headers=node.headers,
        json={
            "place": "北翼回风巷",
            "description": "风门损坏",
            "lng": 113.19,
            "lat": 39.56,
        },
    )
    assert r.status_code == 201, r.text
    node.finding = r.json()
    r = node.client.post(
        f"{API}/inspectors/{node.officers[1]}/terminals",
        headers=node.headers,
        json={"name": "平板 A"},
    )
    node.tablet = {"Authorization": f"Bearer {r.json()['token']}"}
    return node


def _photo(
    node: Any, data: bytes, headers: dict[str, str] | None = None, name: str = "a.png"
) -> Any:
    return node.client.post(
        f"{API}/findings/{node.finding['id']}/photos",
        headers=headers or node.headers,
        files={"file": (name, data, "image/png")},
    )


def _sign(node: Any, signer: str, role: str, data: bytes) -> Any:
    return node.client.post(
        f"{API}/findings/{node.finding['id']}/signatures",
        headers=node.headers,
        data={"signer": signer, "role": role},
        files={"file": ("sig.png", data, "image/png")},
    )


def test_a_finding_keeps_its_place_photos_and_signatures(site: Any) -> None:
    assert (site.finding["lng"], site.finding["lat"]) == (113.19, 39.56)
    assert site.finding["photos"] == [] and site.finding["signatures"] == []

    r = _photo(site, _png(1), name="风门.png")
    assert r.status_code == 201, r.text
    [photo] = r.json()["photos"]
    assert photo["name"] == "风门.png" and photo["type"] == "image/png"
    assert photo["by"] == "yingxian"
    assert len(_photo(site, _png(1)).json()["photos"]) == 1  # the same photo is kept once

    r = _sign(site, "张矿长", "enterprise", _png(2))
    assert r.status_code == 201, r.text
    [signature] = r.json()["signatures"]
    assert (signature["signer"], signature["role"]) == ("张矿长", "enterprise")

    for kind, entry, data in (("photos", photo, _png(1)), ("signatures", signature, _png(2))):
        got = site.client.get(
            f"{API}/findings/{site.finding['id']}/{kind}/{entry['sm3']}", headers=site.headers
        )
        assert got.status_code == 200 and got.content == data
        assert got.headers["content-type"] == "image/png"
    # A photo's digest is not a signature of the finding.
    r = site.client.get(
        f"{API}/findings/{site.finding['id']}/signatures/{photo['sm3']}", headers=site.headers
    )
    assert r.status_code == 404

    # The inspection shows its finding with the evidence; both steps are audited.
    insp = site.client.get(f"{API}/inspections/{site.inspection['id']}", headers=site.headers)
    [finding] = insp.json()["findings"]
    assert len(finding["photos"]) == 1 and finding["signatures"][0]["signer"] == "张矿长"
    assert [a.detail["signer"] for a in site.audits("enforcement.finding.signature")] == ["张矿长"]
    assert len(site.audits("enforcement.finding.photo")) == 1
    # The 现场检查记录 says who confirmed the finding on site.
    r = site.client.post(
        f"{API}/inspections/{site.inspection['id']}/documents",
        headers=site.headers,
        json={"kind": "inspection_record"},
    )
    confirmed = "发现问题：北翼回风巷，风门损坏（被检查单位张矿长现场签字确认，现场照片 1 张）"
    assert confirmed in r.json()["content"]["body"]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (b"%PDF-1.7 not a photo", "file"),
        (b"", "file"),
        (b"\x89PNG\r\n\x1a\n" + b"\0" * (10 * 1024 * 1024), "file"),  # over 10 MB
    ],
)
def test_what_is_not_an_image_or_too_large_is_refused(site: Any, data: bytes, field: str) -> None:
    r = _photo(site, data)
    assert r.status_code == 422 and r.json()["field"] == field
    assert (
        site.client.get(f"{API}/inspections/{site.inspection['id']}", headers=site.headers).json()[
            "findings"
        ][0]["photos"]
        == []
    )


@pytest.mark.parametrize(
    ("signer", "role", "field"),
    [
        ("张矿长", "boss", "role"),
        ("   ", "enterprise", "signer"),
        ("张" * 51, "enterprise", "signer"),
        ("张\x00矿长", "enterprise", "signer"),
    ],
)
def test_a_signature_names_its_signer_and_role(
    site: Any, signer: str, role: str, field: str
) -> None:
    r = _sign(site, signer, role, _png(3))
    assert r.status_code == 422 and r.json()["field"] == field, r.text
    assert site.audits("enforcement.finding.signature") == []


@pytest.mark.parametrize(("lng", "lat", "field"), [(200.0, 39.5, "lng"), (113.2, -91.0, "lat")])
def test_a_finding_place_off_the_earth_is_refused(
    site: Any, lng: float, lat: float, field: str
) -> None:
    r = site.client.post(
        f"{API}/inspections/{site.inspection['id']}/findings",
        headers=site.headers,
        json={"place": "井口", "description": "无", "lng": lng, "lat": lat},
    )
    assert r.status_code == 422 and r.json()["field"] == field


def test_only_the_inspecting_agency_attaches_evidence(site: Any) -> None:
    sibling = site.login("shanyin")  # a county that does not see the 应县 mine
    assert _photo(site, _png(4), headers=sibling).status_code == 404
    city = site.login("shuozhou")  # sees it, but did not inspect it
    assert _photo(site, _png(4), headers=city).status_code == 403
    assert (
        site.client.get(
            f"{API}/findings/{site.finding['id']}/photos/{'0' * 64}", headers=sibling
        ).status_code
        == 404
    )


def _terminal_finding(site: Any) -> str:
    """A finding recorded on zf1's tablet and uploaded; its uid."""
    uid = str(uuid.uuid4())
    r = site.client.post(
        f"{TERMINAL}/changes",
        headers=site.tablet,
        json={
            "changes": [
                {
                    "change_id": f"c-{uid[:8]}",
                    "entity": "finding",
                    "action": "create",
                    "uid": uid,
                    "base_version": 0,
                    "at": datetime.now(UTC).isoformat(),
                    "inspection_uid": site.inspection["uid"],
                    "place": "主井口",
                    "description": "未设置警示标志",
                    "lng": 113.2,
                    "lat": 39.5,
                }
            ]
        },
    )
    assert r.status_code == 200, r.text
    return uid


def test_the_terminal_sends_photos_and_signatures_after_the_finding(site: Any) -> None:
    uid = _terminal_finding(site)
    url = f"{TERMINAL}/findings/{uid}/photos"
    png = {**site.tablet, "Content-Type": "image/png"}
    first = site.client.post(url, headers=png, content=_png(5))
    assert first.status_code == 201, first.text
    again = site.client.post(url, headers=png, content=_png(5))  # a retry after a lost answer
    assert again.json()["photos"] == first.json()["photos"]
    assert (first.json()["lng"], first.json()["lat"]) == (113.2, 39.5)

    r = site.client.post(
        f"{TERMINAL}/findings/{uid}/signatures",
        headers=png,
        params={"signer": "李安全员", "role": "enterprise"},
        content=_png(6),
    )
    assert r.status_code == 201, r.text
    assert r.json()["signatures"][0]["signer"] == "李安全员"
    assert r.json()["signatures"][0]["by"] == "zf1"


def test_the_terminal_upload_is_refused_clearly(site: Any) -> None:
    uid = _terminal_finding(site)
    url = f"{TERMINAL}/findings/{uid}/photos"
    png = {**site.tablet, "Content-Type": "image/png"}
    assert site.client.post(url, content=_png(7)).status_code == 401  # no token
    r = site.client.post(
        url, headers={**png, "Content-Length": str(20 * 1024 * 1024)}, content=_png(7)
    )
    assert r.status_code == 422 and r.json()["field"] == "file"  # declared too large
    r = site.client.post(
        url, headers={**png, "Content-Length": str(50 * 1024 * 1024)}, content=_png(7)
    )
    assert r.status_code == 413 and r.json()["field"] == "body"  # past any request's limit
    big = b"\x89PNG\r\n\x1a\n" + b"\0" * (10 * 1024 * 1024)
    r = site.client.post(url, headers=png, content=big)
    assert r.status_code == 422 and r.json()["field"] == "file"
    r = site.client.post(f"{TERMINAL}/findings/{uuid.uuid4()}/photos", headers=png, content=_png(7))
    assert r.status_code == 404
    assert (
        site.client.post(
            f"{TERMINAL}/findings/not-a-uid/photos", headers=png, content=_png(7)
        ).status_code
        == 422
    )
    r = site.client.post(
        f"{TERMINAL}/findings/{uid}/signatures",
        headers=png,
        params={"signer": "李安全员", "role": "boss"},
        content=_png(8),
    )
    assert r.status_code == 422 and r.json()["field"] == "role"


def test_a_terminal_off_the_team_cannot_add_evidence(site: Any) -> None:
    uid = _terminal_finding(site)
    third = officer(site, "zf2", "C3")
    r = site.client.post(
        f"{API}/inspectors/{third}/terminals", headers=site.headers, json={"name": "平板 B"}
    )
    other = {"Authorization": f"Bearer {r.json()['token']}", "Content-Type": "image/png"}
    r = site.client.post(f"{TERMINAL}/findings/{uid}/photos", headers=other, content=_png(9))
    assert r.status_code == 403
