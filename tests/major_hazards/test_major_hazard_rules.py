"""GB 18218-2018 rules by table: α and grade on the tables' boundaries, chemical lookups (names,
aliases, CAS numbers, the mislabelled-row trap), and whole units worked out by hand."""

from __future__ import annotations

import csv
import math
from importlib import resources
from typing import Any

import pytest

from anjian.core.errors import Invalid
from anjian.major_hazards import reference
from anjian.major_hazards.rules import (
    ChemicalInput,
    UnitInput,
    alpha_for,
    assess_unit,
    assess_units,
    grade_for,
)


def unit(*chemicals: ChemicalInput, people: int = 60, kind: str = "storage") -> UnitInput:
    return UnitInput(name="罐区", kind=kind, people_within_500m=people, chemicals=chemicals)


def chem(quantity: float, name: str | None = None, **kw: Any) -> ChemicalInput:
    return ChemicalInput(quantity_t=quantity, name=name, **kw)


# --- Table 5 and 6 -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("people", "alpha"),
    [
        (0, 0.5),
        (1, 1.0),
        (29, 1.0),
        (30, 1.2),
        (49, 1.2),
        (50, 1.5),
        (99, 1.5),
        (100, 2.0),
        (100_000, 2.0),
    ],
)
def test_alpha_by_people_within_500m(people: int, alpha: float) -> None:
    assert alpha_for(people) == alpha


def test_alpha_refuses_a_negative_head_count() -> None:
    with pytest.raises(Invalid) as info:
        alpha_for(-1)
    assert info.value.field == "people_within_500m"


@pytest.mark.parametrize(
    ("r", "grade"),
    [(0, 4), (9.99, 4), (10, 3), (49.99, 3), (50, 2), (99.99, 2), (100, 1), (1e6, 1)],
)
def test_grade_by_r(r: float, grade: int) -> None:
    assert grade_for(r) == grade


def test_grade_refuses_non_finite_r() -> None:
    with pytest.raises(ValueError, match="finite"):
        grade_for(math.inf)


# --- lookups -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "name", "q"),
    [
        ({"name": "碳酰氯"}, "碳酰氯", 0.3),
        ({"name": "光气"}, "碳酰氯", 0.3),
        ({"name": "液氯"}, "氯", 5),
        ({"name": "液氨"}, "氨", 10),
        ({"name": "天然气"}, "甲烷,天然气", 50),
        ({"name": "甲烷"}, "甲烷,天然气", 50),
        ({"name": "LPG"}, "液化石油气(含丙烷、丁烷及其混合物)", 50),
        ({"name": "lpg"}, "液化石油气(含丙烷、丁烷及其混合物)", 50),
        ({"name": " 液 氯 "}, "氯", 5),
        ({"name": "氧"}, "氧(压缩的或液化的)", 200),  # without its qualifier
        ({"name": "氯化氢（无水）"}, "氯化氢(无水)", 20),  # full-width brackets
        ({"cas": "7664-41-7"}, "氨", 10),
        ({"cas": "8006-14-2"}, "甲烷,天然气", 50),  # second CAS of a row
        ({"cas": "106-97-8"}, "液化石油气(含丙烷、丁烷及其混合物)", 50),
        ({"cas": "７７８２－５０－５"}, "氯", 5),  # full-width digits and dash
        ({"name": "液氯", "cas": "7782-50-5"}, "氯", 5),
        ({"name": "硝化纤维素(含水≥25%)", "cas": "9004-70-0"}, "硝化纤维素(含水≥25%)", 50),
        ({"name": "硝酸铵(含可燃物≤0.2%)"}, "硝酸铵(含可燃物≤0.2%)", 50),
        ({"name": "硝酸铵肥料"}, "硝酸铵肥料(含可燃物≤0.4%)", 200),
        ({"name": "未知的东西", "cas": "7782-50-5"}, "氯", 5),  # a free-form name, known CAS
        # carbon monoxide is the 煤气 row (Q 20 t), by either name and by its CAS number
        ({"name": "一氧化碳"}, "煤气(CO,CO和H₂、CH₄的混合物等)", 20),
        ({"name": "煤气"}, "煤气(CO,CO和H₂、CH₄的混合物等)", 20),
        ({"cas": "630-08-0"}, "煤气(CO,CO和H₂、CH₄的混合物等)", 20),
    ],
)
def test_find_chemical(query: dict[str, str], name: str, q: float) -> None:
    found = reference.find_chemical(**query)
    assert found is not None
    assert (found.name, float(found.critical_quantity)) == (name, q)


@pytest.mark.parametrize(
    ("cas", "name", "q"),
    [
        ("1333-74-0", "氢", 5),
        ("7782-44-7", "氧(压缩的或液化的)", 200),
        ("50-00-0", "甲醛(含量>90%)", 5),
        ("7783-06-4", "硫化氢", 5),
    ],
)
def test_rows_mislabelled_elsewhere_are_keyed_by_cas(cas: str, name: str, q: float) -> None:
    """Another public dataset labels 1333-74-0 氟, 7782-44-7 氢, 50-00-0 甲醇, 7783-06-4 磷化氢."""
    found = reference.find_chemical(cas=cas)
    assert found is not None
    assert (found.name, float(found.critical_quantity), found.key) == (name, q, cas)


def test_unknown_chemical_is_none() -> None:
    assert reference.find_chemical(name="丙烯") is None
    assert reference.find_chemical(cas="115-07-1") is None  # propylene: not in Table 1


@pytest.mark.parametrize(
    ("query", "field", "candidates"),
    [
        ({"cas": "9004-70-0"}, "cas", 6),
        ({"cas": "6484-52-2"}, "cas", 2),
        ({"name": "硝化棉"}, "name", 5),
        ({"name": "硝酸铵"}, "name", 2),
        ({"name": "硝化纤维素"}, "name", 5),
    ],
)
def test_ambiguous_lookup_names_the_candidates(
    query: dict[str, str], field: str, candidates: int
) -> None:
    with pytest.raises(Invalid) as info:
        reference.find_chemical(**query)
    assert info.value.field == field
    assert "无法确定" in info.value.message
    assert info.value.message.count("「") == candidates


@pytest.mark.parametrize(
    ("query", "field", "words"),
    [
        ({"cas": "1333-74-1"}, "cas", "校验位"),
        ({"cas": "1333740"}, "cas", "校验位"),
        ({"name": "氢", "cas": "7782-44-7"}, "cas", "不符"),  # hydrogen named, oxygen's CAS
        ({}, "name", "名称或 CAS"),
    ],
)
def test_bad_lookups(query: dict[str, str], field: str, words: str) -> None:
    with pytest.raises(Invalid) as info:
        reference.find_chemical(**query)
    assert info.value.field == field
    assert words in info.value.message


@pytest.mark.parametrize(
    ("cas", "valid"),
    [
        ("7732-18-5", True),
        ("64-17-5", True),
        ("7732-18-4", False),
        ("64175", False),
        ("", False),
        ("1-23-4", False),
        ("12345678-12-3", False),
    ],
)
def test_cas_check_digit(cas: str, valid: bool) -> None:
    assert reference.cas_valid(cas) is valid


def _data(name: str) -> list[dict[str, str]]:
    path = resources.files("anjian.major_hazards") / "data" / name
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def test_every_cas_of_table1_is_valid_and_keys_its_row() -> None:
    rows = _data("gb18218-2018-table1.csv")
    assert len(rows) == len(reference.table1()) == 85
    for row in rows:
        for cas in filter(None, row["cas"].split(";")):
            assert reference.cas_valid(cas), (row["name"], cas)
            assert row["name"] in {c.name for c in reference.by_cas(cas)}
        assert reference.find_chemical(name=row["name"]).name == row["name"]  # type: ignore[union-attr]


def test_every_table1_chemical_has_beta_from_table3_or_a_recorded_row() -> None:
    recorded = {r["name"]: r for r in _data("table1-categories.csv")}
    for chemical in reference.table1():
        in_table3 = reference.table3_beta([chemical.name]) is not None
        assert in_table3 != (chemical.name in recorded), chemical.name
        if chemical.name in recorded:
            symbol = recorded[chemical.name]["category"]
            assert recorded[chemical.name]["source"], chemical.name
            assert symbol == "" or reference.category(symbol) is not None, symbol
    assert set(recorded) <= {c.name for c in reference.table1()}


def test_every_table3_gas_but_carbon_monoxide_is_a_table1_row() -> None:
    matched = {reference.table3_beta([c.name]) for c in reference.table1()} - {None}
    assert {name for name, _beta in matched} == set(reference.table3()) - {"一氧化碳"}


def test_table2_and_table4_agree() -> None:
    cats = reference.categories()
    assert len(cats) == 24
    assert (float(cats["W2"].critical_quantity), float(cats["W2"].beta)) == (10, 1.5)
    assert float(cats["W4"].critical_quantity) == 50  # often misquoted as 200
    assert reference.category("w5.3") is cats["W5.3"]
    assert reference.category("X9") is None


# --- units -------------------------------------------------------------------------------------


def test_worked_example_liquid_chlorine_and_ammonia() -> None:
    """液氯 8 t (Q 5, β 4) + 液氨 5 t (Q 10, β 2), 60 people: S = 1.6 + 0.5 = 2.1, major;
    R = 1.5 × (4 × 1.6 + 2 × 0.5) = 1.5 × 7.4 = 11.1 → 三级."""
    result = assess_unit(unit(chem(8, "液氯"), chem(5, "液氨")))
    assert result.is_major
    assert result.sum_q_over_Q == pytest.approx(2.1)
    assert result.alpha == 1.5
    assert math.isclose(result.R, 11.1)
    assert (result.grade, result.grade_label, result.kind_label) == (3, "三级", "储存单元")
    chlorine, ammonia = result.chemicals
    assert (chlorine.name, chlorine.cas, chlorine.critical_quantity_t) == ("氯", "7782-50-5", 5)
    assert (chlorine.q_over_Q, chlorine.beta, chlorine.beta_source) == (1.6, 4, "table3")
    assert (ammonia.name, ammonia.q_over_Q, ammonia.beta) == ("氨", 0.5, 2)
    assert result.warnings == ()


def test_not_major_has_no_grade() -> None:
    result = assess_unit(unit(chem(2, "液氯"), chem(100, "甲醇"), kind="production"))
    assert result.sum_q_over_Q == pytest.approx(0.6)  # 2/5 + 100/500
    assert not result.is_major
    assert (result.grade, result.grade_label) == (None, None)
    assert math.isclose(result.R, 1.5 * (4 * 0.4 + 1 * 0.2))
    assert result.kind_label == "生产单元"


@pytest.mark.parametrize(
    "chemicals",
    [
        [chem(0.3, "光气")],  # 0.3 / 0.3: float division happens to be exact too
        [chem(0.6, "乙炔"), chem(0.3, "乙炔"), chem(0.1, "乙炔")],  # float sum 0.9999999999999999
        [chem(15, "甲醇"), chem(30, "甲苯"), chem(455, "乙醇")],  # 0.03 + 0.06 + 0.91
    ],
)
def test_s_exactly_one_is_major(chemicals: list[ChemicalInput]) -> None:
    result = assess_unit(unit(*chemicals))
    assert result.sum_q_over_Q == 1
    assert result.is_major


def test_r_exactly_on_a_grade_bound() -> None:
    """液氯 6.25 t: q/Q = 1.25, β·q/Q = 5, α = 2 (100 people) → R = 10 exactly: 三级."""
    result = assess_unit(unit(chem(6.25, "氯"), people=100))
    assert result.R == 10
    assert result.grade == 3


def test_table2_category_chemical() -> None:
    """Propylene is not in Table 1: flammable gas W2, Q 10, β 1.5."""
    result = assess_unit(unit(chem(15, "丙烯", categories=("W2",)), people=0))
    (propylene,) = result.chemicals
    assert (propylene.source_table, propylene.category) == (2, "W2")
    assert (propylene.critical_quantity_t, propylene.beta, propylene.beta_source) == (
        10,
        1.5,
        "table4",
    )
    assert result.is_major
    assert math.isclose(result.R, 0.5 * 1.5 * 1.5)
    assert result.grade == 4


def test_several_categories_take_the_lowest_q_and_the_highest_beta() -> None:
    """A substance not in Table 1 given W2 and J3: Q = min(10, 50) = 10, β the higher of
    Table 4's (J3: 2). (Every gas Table 3 names is now a Table 1 row: CO is 煤气.)"""
    result = assess_unit(unit(chem(5, "某工艺混合气", categories=("J3", "W2"))))
    (gas,) = result.chemicals
    assert (gas.critical_quantity_t, gas.q_over_Q, gas.source_table) == (10, 0.5, 2)
    assert (gas.beta, gas.beta_source, gas.category) == (2, "table4", "J3;W2")


def test_carbon_monoxide_is_the_coal_gas_row() -> None:
    """GB 18218 Table 1 序号 13 煤气 (CO, and CO/H₂/CH₄ mixtures): Q = 20 t, β = 2 as 一氧化碳 in
    Table 3 — by its name, 一氧化碳 or CAS 630-08-0, even with categories given."""
    for query in ({"name": "一氧化碳"}, {"cas": "630-08-0"}, {"name": "煤气"}):
        result = assess_unit(unit(chem(20, categories=("J3", "W2"), **query)))
        (co,) = result.chemicals
        assert (co.source_table, co.critical_quantity_t, co.q_over_Q) == (1, 20, 1), query
        assert (co.beta, co.beta_source) == (2, "table3"), query
        assert result.is_major  # S = 20 / 20 = 1


def test_table1_first_even_with_a_category() -> None:
    """A Table 1 chemical keeps its Table 1 Q; a category given only sets β."""
    result = assess_unit(unit(chem(100, "苯", categories=("W5.1",))))
    (benzene,) = result.chemicals
    assert (benzene.source_table, benzene.critical_quantity_t) == (1, 50)
    assert (benzene.beta, benzene.beta_source) == (1.5, "table4")
    assert any("W5.1" in w for w in result.warnings)


def test_recorded_category_sets_beta_of_table1_chemicals() -> None:
    result = assess_unit(unit(chem(5, "氢气"), chem(100, "甲苯"), chem(1, cas="118-96-7")))
    hydrogen, toluene, tnt = result.chemicals
    assert (hydrogen.name, hydrogen.category, hydrogen.beta) == ("氢", "W2", 1.5)
    assert (toluene.category, toluene.beta) == ("W5.3", 1)
    assert (tnt.name, tnt.category, tnt.beta) == ("2,4,6-三硝基甲苯", "W1.1", 2)
    assert {c.beta_source for c in result.chemicals} == {"table4"}


def test_no_recorded_category_defaults_beta_with_a_warning() -> None:
    result = assess_unit(unit(chem(75, "三氧化硫")))
    (so3,) = result.chemicals
    assert (so3.beta, so3.beta_source, so3.q_over_Q) == (1, "default", 1)
    assert result.is_major
    assert any("β 按 1 计" in w for w in result.warnings)


def test_qualifier_and_duplicates_are_warned() -> None:
    result = assess_unit(unit(chem(1, "甲醛"), chem(1, cas="50-00-0")))
    assert any("甲醛(含量>90%)" in w and "限定条件" in w for w in result.warnings)
    assert any("多次" in w for w in result.warnings)
    assert result.sum_q_over_Q == pytest.approx(0.4)


@pytest.mark.parametrize(
    ("chemicals", "field", "words"),
    [
        ([chem(1, "液氯"), chem(1, "某某")], "chemicals.1.name", "未知化学品: 某某"),
        ([chem(1, cas="115-07-1")], "chemicals.0.cas", "未知化学品: 115-07-1"),
        ([chem(-1, "液氯")], "chemicals.0.quantity_t", "非负"),
        ([chem(math.nan, "液氯")], "chemicals.0.quantity_t", "非负"),
        ([chem(math.inf, "液氯")], "chemicals.0.quantity_t", "非负"),
        ([chem(1, "丙烯", categories=("W12",))], "chemicals.0.category", "未知危险性类别"),
        ([chem(1, cas="9004-70-0")], "chemicals.0.cas", "无法确定"),
        ([chem(1, "硝化棉", cas="9004-70-0")], "chemicals.0.name", "无法确定"),
        ([chem(1)], "chemicals.0.name", "名称或 CAS"),
    ],
)
def test_refusals_name_the_field(chemicals: list[ChemicalInput], field: str, words: str) -> None:
    with pytest.raises(Invalid) as info:
        assess_unit(unit(*chemicals))
    assert info.value.field == field
    assert words in info.value.message


def test_unit_refusals() -> None:
    with pytest.raises(Invalid) as info:
        assess_unit(unit(chem(1, "液氯"), kind="warehouse"))
    assert info.value.field == "kind"
    with pytest.raises(Invalid) as info:
        assess_unit(unit(chem(1, "液氯"), people=-3))
    assert info.value.field == "people_within_500m"


def test_assess_units_prefixes_the_unit() -> None:
    good = unit(chem(1, "液氯"))
    with pytest.raises(Invalid) as info:
        assess_units([good, good, unit(chem(1, "液氯"), chem(2, "某某"))])
    assert info.value.field == "units.2.chemicals.1.name"
    assert [u.sum_q_over_Q for u in assess_units([good])] == [0.2]
