"""Pure rules of the enterprise registry: the unified social credit code (GB 32100-2015) and
the registry's code lists."""

from __future__ import annotations

# GB 32100-2015 §4: 31 characters (no I, O, Z, S, V), weights 3^(i) mod 31 for positions 1–17.
USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def uscc_check_char(first17: str) -> str:
    """The 18th (check) character for the first 17 characters of a credit code."""
    total = sum(USCC_CHARSET.index(c) * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_CHARSET[(31 - total % 31) % 31]


def compose_uscc(division_code: str, body: str, kind: str = "91") -> str:
    """A credit code from its parts: registration-authority and entity kind (``91`` = company),
    the division of registration and the 9-character entity body; the check character added."""
    first17 = f"{kind}{division_code}{body}"
    if len(first17) != 17:
        raise ValueError("kind (2) + division (6) + body (9) must make 17 characters")
    return first17 + uscc_check_char(first17)


def uscc_problem(code: str) -> str | None:
    """Why ``code`` is not a valid unified social credit code (统一社会信用代码), or None."""
    if len(code) != 18:
        return f"统一社会信用代码应为 18 位，实为 {len(code)} 位 (must have 18 characters)"
    bad = [c for c in code if c not in USCC_CHARSET]
    if bad:
        return (
            f"统一社会信用代码含非法字符 {''.join(bad)} (allowed: digits and {USCC_CHARSET[10:]})"
        )
    if not code[2:8].isdigit():
        return "统一社会信用代码第 3–8 位应为行政区划码 (positions 3–8 are a division code)"
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

STATUSES: dict[str, str] = {
    "operating": "正常生产",
    "suspended": "停产停业",
    "construction": "在建",
    "closed": "关闭",
}

# GB/T 4754-2017 sections (门类); an industry code is a section letter optionally followed by
# the division (大类) digits, e.g. "B06" 煤炭开采和洗选业, "C26" 化学原料和化学制品制造业.
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
    """Why ``code`` is not a GB/T 4754 section letter with optional two-to-four digits."""
    if not code:
        return None
    if code[0] not in INDUSTRY_SECTIONS or not (
        len(code) == 1 or (code[1:].isdigit() and 2 <= len(code) - 1 <= 4)
    ):
        return f"行业代码应为 GB/T 4754 门类字母加 2–4 位数字，如 B06、C26: {code} (e.g. B06)"
    return None
