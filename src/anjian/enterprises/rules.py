"""Pure rules of the enterprise registry: the unified social credit code (GB 32100-2015) and
the registry's code lists."""

from __future__ import annotations

from enum import StrEnum

from anjian.enterprises import reference

# GB 32100-2015 §4: 31 characters (no I, O, Z, S, V), weights 3^(i) mod 31 for positions 1–17.
USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)

# GB 32100-2015 表 1 (登记管理部门代码 and 机构类别代码, character 1 and character 2), with the
# later additions A (中央军委改革和编制办公室) and N (农业) as the table is published today.
# Source: the standard's table as reproduced in public copies, e.g.
# https://osuse.cn/post/10002590.html and https://blog.csdn.net/lh1424573495/article/details/108776492
# (the two agree; re-check against the SAC text before relying on a rarely used row).
USCC_AUTHORITIES: dict[str, tuple[str, dict[str, str]]] = {
    "1": (
        "机构编制",
        {"1": "机关", "2": "事业单位", "3": "中央编办直接管理机构编制的群众团体", "9": "其他"},
    ),
    "2": ("外交", {"1": "外国常驻新闻机构", "9": "其他"}),
    "3": (
        "司法行政",
        {
            "1": "律师执业机构",
            "2": "公证处",
            "3": "基层法律服务所",
            "4": "司法鉴定机构",
            "5": "仲裁委员会",
            "9": "其他",
        },
    ),
    "4": ("文化", {"1": "外国在华文化中心", "9": "其他"}),
    "5": ("民政", {"1": "社会团体", "2": "民办非企业单位", "3": "基金会", "9": "其他"}),
    "6": (
        "旅游",
        {
            "1": "外国旅游部门常驻代表机构",
            "2": "港澳台地区旅游部门常驻内地（大陆）代表机构",
            "9": "其他",
        },
    ),
    "7": ("宗教", {"1": "宗教活动场所", "2": "宗教院校", "9": "其他"}),
    "8": ("工会", {"1": "基层工会", "9": "其他"}),
    "9": ("工商", {"1": "企业", "2": "个体工商户", "3": "农民专业合作社"}),
    "A": ("中央军委改革和编制办公室", {"1": "军队事业单位", "9": "其他"}),
    "N": (
        "农业",
        {
            "1": "组级集体经济组织",
            "2": "村级集体经济组织",
            "3": "乡镇级集体经济组织",
            "9": "其他",
        },
    ),
    "Y": ("其他", {"1": "其他（不再划分机构类别）"}),
}

# GB 11714-1997 §2.1.2: characters 9–17 are an organisation code (组织机构代码), eight body
# characters and a check character C9 = 11 − (Σ Ci·Wi mod 11), 10 written X and 11 written 0;
# Ci is the character's value in Annex A (0–9, then A = 10 … Z = 35).
ORG_CODE_CHARSET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
ORG_CODE_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def uscc_check_char(first17: str) -> str:
    """The 18th (check) character for the first 17 characters of a credit code."""
    total = sum(USCC_CHARSET.index(c) * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_CHARSET[(31 - total % 31) % 31]


def org_code_check_char(body: str) -> str:
    """The 9th (check) character of an organisation code (GB 11714) for its 8 body characters."""
    total = sum(ORG_CODE_CHARSET.index(c) * w for c, w in zip(body, ORG_CODE_WEIGHTS, strict=True))
    c9 = 11 - total % 11
    return {10: "X", 11: "0"}.get(c9, str(c9))


def compose_uscc(division_code: str, body: str, kind: str = "91") -> str:
    """A credit code from its parts: registration authority and entity category (``91`` =
    工商·企业), the division of registration and the 8-character body of the organisation code;
    the organisation code's check character (GB 11714) and the code's own (GB 32100) added."""
    if len(kind) != 2 or len(division_code) != 6 or len(body) != 8:
        raise ValueError("kind (2) + division (6) + organisation-code body (8) characters")
    first17 = f"{kind}{division_code}{body}{org_code_check_char(body)}"
    return first17 + uscc_check_char(first17)


def uscc_problem(code: str) -> str | None:
    """Why ``code`` is not a valid unified social credit code (统一社会信用代码), or None; the
    parts are checked in order, so the message names the first wrong one."""
    if len(code) != 18:
        return f"统一社会信用代码应为 18 位，实为 {len(code)} 位 (must have 18 characters)"
    bad = [c for c in code if c not in USCC_CHARSET]
    if bad:
        return (
            f"统一社会信用代码含非法字符 {''.join(bad)} (allowed: digits and {USCC_CHARSET[10:]})"
        )
    authority = USCC_AUTHORITIES.get(code[0])
    if authority is None:
        return (
            f"统一社会信用代码第 1 位登记管理部门代码 {code[0]} 不存在，应为 "
            f"{'、'.join(USCC_AUTHORITIES)} 之一 (character 1 is not a registration authority)"
        )
    name, categories = authority
    if code[1] not in categories:
        return (
            f"统一社会信用代码第 2 位机构类别代码 {code[1]} 不属于登记管理部门 {code[0]}（{name}），"
            f"应为 {'、'.join(categories)} 之一 (character 2 is not a category of that authority)"
        )
    if not code[2:8].isdigit():
        return "统一社会信用代码第 3–8 位应为行政区划码 (positions 3–8 are a division code)"
    org_check = org_code_check_char(code[8:16])
    if code[16] != org_check:
        return (
            f"统一社会信用代码第 9–17 位组织机构代码校验位错误，第 17 位应为 {org_check} "
            f"(characters 9–17 fail the GB 11714 check: character 17 should be {org_check})"
        )
    expected = uscc_check_char(code[:17])
    if code[17] != expected:
        return f"统一社会信用代码校验位错误，应为 {expected} (check character should be {expected})"
    return None


SUPERVISION_CATEGORIES: dict[str, str] = {
    "coal_mine": "煤矿",
    "non_coal_mine": "非煤矿山",
    "hazardous_chemicals": "危险化学品",
    "fireworks": "烟花爆竹",
    "metallurgy_trade": "冶金工贸",
    "other": "其他",
}

SCALES: dict[str, str] = {"large": "大型", "medium": "中型", "small": "小型", "micro": "微型"}


class EnterpriseStatus(StrEnum):
    """An enterprise's operating status (经营状态); its label is in :data:`STATUSES`."""

    OPERATING = "operating"
    SUSPENDED = "suspended"
    CONSTRUCTION = "construction"
    CLOSED = "closed"


STATUSES: dict[str, str] = {
    "operating": "正常生产",
    "suspended": "停产停业",
    "construction": "在建",
    "closed": "关闭",
}

# GB/T 4754-2017 sections (门类); an industry code is a section letter optionally followed by
# the major class (大类) digits and finer ones, e.g. "B06" 煤炭开采和洗选业, "C2672" 焰火、鞭炮
# 产品制造; the 97 major classes are in data/gb-t-4754-2017-divisions.csv (reference.py).
INDUSTRY_SECTIONS: dict[str, str] = {
    "A": "农、林、牧、渔业",
    "B": "采矿业",
    "C": "制造业",
    "D": "电力、热力、燃气及水生产和供应业",
    "E": "建筑业",
    "F": "批发和零售业",
    "G": "交通运输、仓储和邮政业",
    "H": "住宿和餐饮业",
    "I": "信息传输、软件和信息技术服务业",
    "J": "金融业",
    "K": "房地产业",
    "L": "租赁和商务服务业",
    "M": "科学研究和技术服务业",
    "N": "水利、环境和公共设施管理业",
    "O": "居民服务、修理和其他服务业",
    "P": "教育",
    "Q": "卫生和社会工作",
    "R": "文化、体育和娱乐业",
    "S": "公共管理、社会保障和社会组织",
    "T": "国际组织",
}


def industry_problem(code: str) -> str | None:
    """Why ``code`` is not a GB/T 4754 section letter with optional two-to-four digits whose
    first two are a major class (大类) of that section."""
    if not code:
        return None
    if code[0] not in INDUSTRY_SECTIONS or not (
        len(code) == 1 or (code[1:].isdigit() and 2 <= len(code) - 1 <= 4)
    ):
        return f"行业代码应为 GB/T 4754 门类字母加 2–4 位数字，如 B06、C26: {code} (e.g. B06)"
    if len(code) == 1:
        return None
    division = reference.industry_divisions().get(code[1:3])
    if division is None:
        return f"行业代码 {code} 的大类 {code[1:3]} 不存在于 GB/T 4754-2017 (no such major class)"
    if division[0] != code[0]:
        return (
            f"行业代码 {code} 的大类 {code[1:3]}（{division[1]}）属门类 {division[0]}，"
            f"不属门类 {code[0]} (major class {code[1:3]} is in section {division[0]})"
        )
    return None


def industry_label(code: str) -> str:
    """An industry code with its name: a section letter as its name (``采矿业``), a major
    class or finer by the major class's name (``B06 煤炭开采和洗选业``,
    ``C2672（化学原料和化学制品制造业）``); a code outside the tables as it is."""
    if len(code) == 1:
        return INDUSTRY_SECTIONS.get(code, code)
    division = reference.industry_divisions().get(code[1:3])
    if division is None:
        return code
    return f"{code} {division[1]}" if len(code) == 3 else f"{code}（{division[1]}）"
