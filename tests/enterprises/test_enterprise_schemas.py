"""Validation of enterprise bodies, by table: credit codes, phones, coordinates, code lists."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest
from enterprise_helpers import make_uscc
from pydantic import ValidationError

from anjian.enterprises.rules import uscc_check_char
from anjian.enterprises.schemas import EnterpriseCreate, EnterpriseRead, EnterpriseUpdate

BASE: dict[str, Any] = {
    "uscc": "91350100M000100Y43",
    "name": "测试企业有限公司",
    "division_code": "140622",
    "supervision_category": "coal_mine",
}


def _errors(**overrides: Any) -> dict[str, str]:
    """Field → message of the validation errors of BASE with ``overrides``."""
    with pytest.raises(ValidationError) as info:
        EnterpriseCreate(**{**BASE, **overrides})
    return {str(e["loc"][0]): e["msg"] for e in info.value.errors()}


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("91350100M000100Y43", "91350100M000100Y43"),  # a real enterprise's code
        ("91110000600037341L", "91110000600037341L"),
        (" 91350100m000100y43 ", "91350100M000100Y43"),  # typed in lower case with spaces
        ("91310000MA1FL4B24G", "91310000MA1FL4B24G"),
    ],
)
def test_valid_credit_codes_are_normalised(given: str, stored: str) -> None:
    assert EnterpriseCreate(**{**BASE, "uscc": given}).uscc == stored


def test_generated_codes_are_valid() -> None:
    code = make_uscc("140621")
    assert EnterpriseCreate(**{**BASE, "uscc": code}).uscc == code


@pytest.mark.parametrize(
    ("code", "fragment"),
    [
        ("91350100M000100Y44", "校验位错误，应为 3"),  # wrong check character
        ("91350100M000100Y4", "应为 18 位"),  # one character short
        ("91350100M000100Y433", "应为 18 位"),
        ("91350100MO00100Y43", "非法字符 O"),  # O is not in the GB 32100 alphabet
        ("91350100MI00100Y43", "非法字符 I"),
        ("91AB0100M000100Y43", "行政区划码"),  # positions 3–8 must be digits
        ("", "应为 18 位"),
    ],
)
def test_invalid_credit_codes_name_the_field(code: str, fragment: str) -> None:
    errors = _errors(uscc=code)
    assert list(errors) == ["uscc"]
    assert fragment in errors["uscc"]
    assert "(" in errors["uscc"]  # Chinese first, English after


def test_check_character_of_the_example() -> None:
    assert uscc_check_char("91350100M000100Y4") == "3"


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("13912345678", "13912345678"),
        ("0349-5021234", "03495021234"),  # landline with area code
        ("139 1234 5678", "13912345678"),
        (13912345678, "13912345678"),  # a number cell of a spreadsheet
        ("", None),
        (None, None),
        ("1234567", "1234567"),  # seven digits: shortest accepted
    ],
)
def test_phones_are_digits(given: Any, stored: str | None) -> None:
    ent = EnterpriseCreate(**BASE, legal_rep_phone=given, safety_manager_phone=given)
    assert ent.legal_rep_phone == stored
    assert ent.safety_manager_phone == stored


@pytest.mark.parametrize("phone", ["123456", "139abc45678", "1" * 21, "+8613912345678"])
@pytest.mark.parametrize("field", ["legal_rep_phone", "safety_manager_phone"])
def test_bad_phones_name_the_field(field: str, phone: str) -> None:
    errors = _errors(**{field: phone})
    assert list(errors) == [field]
    assert "电话号码" in errors[field]


@pytest.mark.parametrize(
    ("field", "value", "ok"),
    [
        ("lng", 113.19, True),
        ("lng", 73.0, True),
        ("lng", 136.0, True),
        ("lng", 72.9, False),
        ("lng", 39.55, False),  # lat typed into lng
        ("lng", float("nan"), False),
        ("lat", 39.55, True),
        ("lat", 3.0, True),
        ("lat", 54.1, False),
        ("lat", -39.55, False),
    ],
)
def test_coordinates_lie_in_china(field: str, value: float, ok: bool) -> None:
    if ok:
        assert getattr(EnterpriseCreate(**BASE, **{field: value}), field) == value
    else:
        errors = _errors(**{field: value})
        assert list(errors) == [field]
        assert "中国境内" in errors[field]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("supervision_category", "mine"),
        ("scale", "huge"),
        ("status", "bankrupt"),
        ("industry_code", "Z99"),
        ("industry_code", "B6"),
        ("division_code", "14062"),
        ("division_code", "14062A"),
        ("name", ""),
        ("name", "   "),
        ("name", "企" * 201),
        ("employees", -1),
    ],
)
def test_other_fields_are_checked(field: str, value: Any) -> None:
    errors = _errors(**{field: value})
    assert list(errors) == [field]


def test_defaults_and_normalisation() -> None:
    ent = EnterpriseCreate(**{**BASE, "name": " 某煤业 "}, industry_code="b06", licence_no="  ")
    assert (ent.scale, ent.status, ent.address) == ("small", "operating", "")
    assert ent.industry_code == "B06"
    assert ent.licence_no is None
    assert ent.name == "某煤业"


def test_unknown_fields_are_refused() -> None:
    assert "legal_rep_phone_enc" in _errors(legal_rep_phone_enc="x")


def test_update_keeps_only_sent_fields() -> None:
    upd = EnterpriseUpdate(address="新地址", legal_rep_phone=None)
    assert upd.changes() == {"address": "新地址", "legal_rep_phone": None}
    assert EnterpriseUpdate().changes() == {}


def test_update_cannot_change_the_credit_code() -> None:
    with pytest.raises(ValidationError) as info:
        EnterpriseUpdate(uscc="91350100M000100Y43")
    assert info.value.errors()[0]["loc"] == ("uscc",)


@pytest.mark.parametrize("field", ["name", "division_code", "supervision_category", "status"])
def test_update_cannot_null_a_required_field(field: str) -> None:
    with pytest.raises(ValidationError) as info:
        EnterpriseUpdate(**{field: None})
    assert info.value.errors()[0]["loc"] == (field,)
    assert "不能为空" in info.value.errors()[0]["msg"]


def test_read_masks_phones_and_labels_codes() -> None:
    now = datetime.now(UTC)
    row = SimpleNamespace(
        id=7,
        uid="u",
        origin_node="node-140000",
        version=3,
        updated_at=now,
        created_at=now,
        uscc=BASE["uscc"],
        name="某煤业",
        division_code="140622",
        address="",
        lng=None,
        lat=None,
        industry_code="B06",
        supervision_category="coal_mine",
        scale="medium",
        employees=120,
        legal_rep="王建国",
        safety_manager="李安全",
        licence_no=None,
        licence_valid_until=None,
        status="suspended",
    )
    read = EnterpriseRead.of(
        row,  # type: ignore[arg-type]
        division_name="应县",
        legal_rep_phone="13912345678",
        safety_manager_phone=None,
    )
    body = read.model_dump()
    assert body["legal_rep_phone_masked"] == "139****5678"
    assert body["safety_manager_phone_masked"] is None
    assert "legal_rep_phone" not in body and "13912345678" not in str(body)
    assert (read.supervision_category_label, read.scale_label, read.status_label) == (
        "煤矿",
        "中型",
        "停产停业",
    )
