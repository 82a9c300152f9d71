"""Registry rules by table, at the boundaries: GB 32100-2015 credit codes part by part
(registration authority, category, division, organisation code by GB 11714, check character) and
GB/T 4754-2017 industry codes (section and major class)."""

from __future__ import annotations

import pytest

from anjian.enterprises.reference import industry_divisions
from anjian.enterprises.rules import (
    INDUSTRY_SECTIONS,
    USCC_AUTHORITIES,
    compose_uscc,
    industry_label,
    industry_problem,
    org_code_check_char,
    uscc_check_char,
    uscc_problem,
)


def _with(first17: str) -> str:
    """``first17`` completed by its correct GB 32100 check character."""
    return first17 + uscc_check_char(first17)


@pytest.mark.parametrize(
    "kind",
    [a + c for a, (_, categories) in USCC_AUTHORITIES.items() for c in categories],
)
def test_every_authority_and_category_of_the_table_is_accepted(kind: str) -> None:
    assert uscc_problem(compose_uscc("140622", "MA0K0001", kind=kind)) is None


@pytest.mark.parametrize(
    ("kind", "fragment"),
    [
        ("01", "第 1 位登记管理部门代码 0 不存在"),  # 0 is in the alphabet, not in the table
        ("B1", "第 1 位登记管理部门代码 B 不存在"),  # just after A
        ("M1", "第 1 位登记管理部门代码 M 不存在"),  # just before N
        ("X1", "第 1 位登记管理部门代码 X 不存在"),  # just before Y
        ("90", "第 2 位机构类别代码 0 不属于登记管理部门 9（工商）"),
        ("94", "第 2 位机构类别代码 4 不属于登记管理部门 9（工商）"),  # 9 stops at 3
        ("99", "第 2 位机构类别代码 9 不属于登记管理部门 9（工商）"),  # 9 has no 其他
        ("14", "第 2 位机构类别代码 4 不属于登记管理部门 1（机构编制）"),  # 1 has 1–3 and 9
        ("54", "第 2 位机构类别代码 4 不属于登记管理部门 5（民政）"),
        ("36", "不属于登记管理部门 3（司法行政）"),  # 3 stops at 5
        ("N4", "不属于登记管理部门 N（农业）"),
        ("A2", "不属于登记管理部门 A（中央军委改革和编制办公室）"),
        ("Y2", "不属于登记管理部门 Y（其他）"),  # Y has the single category 1
        ("YA", "不属于登记管理部门 Y（其他）"),
    ],
)
def test_authority_and_category_outside_the_table_are_named(kind: str, fragment: str) -> None:
    code = _with(f"{kind}140622MA0K0001{org_code_check_char('MA0K0001')}")
    problem = uscc_problem(code)
    assert problem is not None and fragment in problem
    assert "(" in problem  # Chinese first, English after


@pytest.mark.parametrize(
    ("body", "check"),
    [
        ("M000100Y", "4"),  # GB 32100's own example 91350100M000100Y43
        ("71526726", "X"),  # Σ mod 11 = 1: C9 = 10 is written X
        ("MA1G4L1W", "0"),  # Σ mod 11 = 0: C9 = 11 is written 0
        ("60003734", "1"),  # Σ mod 11 = 10: C9 = 1
        ("00000000", "0"),
    ],
)
def test_organisation_code_check_character(body: str, check: str) -> None:
    assert org_code_check_char(body) == check


def test_letters_count_by_their_gb_11714_value_not_their_position_in_the_uscc_alphabet() -> None:
    # Y is 34 in GB 11714 (A = 10 … Z = 35) but 30 in GB 32100's 31-letter alphabet.
    assert org_code_check_char("0000000Y") == str(11 - 34 * 2 % 11)


@pytest.mark.parametrize(
    ("code", "fragment"),
    [
        # character 17 one off, character 18 recomputed: only the organisation code is wrong
        (_with("91350100M000100Y5"), "第 9–17 位组织机构代码校验位错误，第 17 位应为 4"),
        (_with("91350100M000100Y3"), "第 17 位应为 4"),
        (_with("91440300715267260"), "第 17 位应为 X"),
        # character 9 changed, 17 and 18 kept right for the old body: caught by GB 11714
        (_with("91350100N000100Y4"), "第 9–17 位组织机构代码校验位错误"),
        ("91350100M000100Y44", "校验位错误，应为 3"),  # only character 18 wrong
        ("91AB0100M000100Y43", "第 3–8 位应为行政区划码"),
        ("9114062AMA0K00013", "应为 18 位"),
    ],
)
def test_the_first_wrong_part_is_named(code: str, fragment: str) -> None:
    problem = uscc_problem(code)
    assert problem is not None and fragment in problem


@pytest.mark.parametrize(
    "code",
    [
        "91350100M000100Y43",  # GB 32100's example
        "9144030071526726XG",  # organisation code check X
        "91110000600037341L",
        "91310000MA1FL4B24G",  # an MA… body of a company registered after 2015
    ],
)
def test_valid_codes_pass(code: str) -> None:
    assert uscc_problem(code) is None


@pytest.mark.parametrize(
    ("division", "body", "kind"),
    [("14062", "MA0K0001", "91"), ("140622", "MA0K00013", "91"), ("140622", "MA0K0001", "9")],
)
def test_compose_refuses_parts_of_the_wrong_length(division: str, body: str, kind: str) -> None:
    with pytest.raises(ValueError):
        compose_uscc(division, body, kind=kind)


def test_division_digits_need_not_name_an_existing_division() -> None:
    # GB 32100 only asks for the registering authority's division code; a retired or
    # unknown one (codes are never reused) is still a valid credit code.
    assert uscc_problem(compose_uscc("999999", "MA0K0001")) is None


# --- GB/T 4754-2017 industry codes ----------------------------------------------------------


def test_the_major_class_table_has_all_97_in_their_sections() -> None:
    table = industry_divisions()
    assert len(table) == 97 and list(table) == [f"{i:02d}" for i in range(1, 98)]
    assert {section for section, _ in table.values()} == set(INDUSTRY_SECTIONS)
    # the first and last major class of a few sections
    assert table["01"] == ("A", "农业") and table["05"][0] == "A"
    assert table["06"] == ("B", "煤炭开采和洗选业") and table["12"] == ("B", "其他采矿业")
    assert table["13"][0] == "C" and table["43"] == ("C", "金属制品、机械和设备修理业")
    assert table["97"] == ("T", "国际组织")


@pytest.mark.parametrize(
    ("code", "label"),
    [
        ("B06", "B06 煤炭开采和洗选业"),
        ("B07", "B07 石油和天然气开采业"),
        ("B08", "B08 黑色金属矿采选业"),
        ("B09", "B09 有色金属矿采选业"),
        ("B10", "B10 非金属矿采选业"),
        ("C25", "C25 石油、煤炭及其他燃料加工业"),
        ("C26", "C26 化学原料和化学制品制造业"),
        ("C31", "C31 黑色金属冶炼和压延加工业"),
        ("C2672", "C2672（化学原料和化学制品制造业）"),  # a class under C26
        ("B0610", "B0610（煤炭开采和洗选业）"),
        ("A01", "A01 农业"),  # first
        ("T97", "T97 国际组织"),  # last
        ("B", "采矿业"),  # a section alone
    ],
)
def test_industry_label_names_the_major_class(code: str, label: str) -> None:
    assert industry_label(code) == label


@pytest.mark.parametrize(
    ("code", "fragment"),
    [
        ("B26", "大类 26（化学原料和化学制品制造业）属门类 C"),  # right digits, wrong section
        ("C06", "属门类 B"),
        ("A06", "属门类 B"),  # 05 is A's last, 06 B's first
        ("B05", "属门类 A"),
        ("C44", "属门类 D"),  # 43 is C's last
        ("B00", "大类 00 不存在"),
        ("T98", "大类 98 不存在"),  # 97 is the last
        ("Z99", "门类字母"),
        ("B6", "门类字母"),
        ("B06101", "门类字母"),  # five digits
    ],
)
def test_industry_codes_outside_the_table(code: str, fragment: str) -> None:
    problem = industry_problem(code)
    assert problem is not None and fragment in problem


@pytest.mark.parametrize("code", ["", "B", "A01", "A05", "B06", "B12", "C13", "C2672", "T97"])
def test_industry_codes_inside_the_table(code: str) -> None:
    assert industry_problem(code) is None
