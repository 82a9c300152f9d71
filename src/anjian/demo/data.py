"""Static material of the demo: name parts, enterprise name templates by category, and the
province presets (山西 in detail; any other province gets a generic plan)."""

from __future__ import annotations

from dataclasses import dataclass, field

DEFAULT_PROVINCE = "140000"
DEFAULT_SEED = 2026

# 省级行政区简称 (used in licence numbers, e.g. "(晋)MK安许证字〔2024〕0123").
PROVINCE_ABBR: dict[str, str] = {
    "11": "京",
    "12": "津",
    "13": "冀",
    "14": "晋",
    "15": "蒙",
    "21": "辽",
    "22": "吉",
    "23": "黑",
    "31": "沪",
    "32": "苏",
    "33": "浙",
    "34": "皖",
    "35": "闽",
    "36": "赣",
    "37": "鲁",
    "41": "豫",
    "42": "鄂",
    "43": "湘",
    "44": "粤",
    "45": "桂",
    "46": "琼",
    "50": "渝",
    "51": "川",
    "52": "黔",
    "53": "云",
    "54": "藏",
    "61": "陕",
    "62": "甘",
    "63": "青",
    "64": "宁",
    "65": "新",
    "71": "台",
    "81": "港",
    "82": "澳",
}

# --- people ------------------------------------------------------------------------------------

# Common surnames, weighted towards those frequent in Shanxi (王 张 李 刘 郭 赵 杨 武 贾 …).
SURNAMES: tuple[str, ...] = (
    *("王", "张", "李", "刘") * 4,
    *("郭", "赵", "杨", "武", "贾", "梁", "韩", "田", "薛", "范", "史", "乔", "阎") * 2,
    *("陈", "孙", "周", "吴", "徐", "马", "胡", "高", "任", "宋", "郝", "白", "程", "段", "侯"),
    *("孟", "牛", "苏", "秦", "温", "霍", "卫", "原", "冯", "董", "曹", "吕", "申", "常", "崔"),
)
GIVEN_CHARS: tuple[str, ...] = tuple(
    dict.fromkeys(
        "建国志强海军文斌秀英丽华晓东永红明亮俊杰伟芳敏静磊涛鹏辉勇刚平峰波宏春霞燕玉兰凤云林宇浩"
        "晨鑫振兴福贵瑞庆德胜利忠新卫斌慧娟萍艳雪梅军红旭阳晋生斌"
    )
)

MOBILE_PREFIXES: tuple[str, ...] = (
    *("130", "131", "132", "133", "134", "135", "136", "137", "138", "139"),
    *("150", "151", "152", "155", "156", "157", "158", "159", "166", "177"),
    *("180", "181", "182", "183", "185", "186", "187", "188", "189", "199"),
)

# --- enterprise names and addresses --------------------------------------------------------------

BRAND_FIRST: tuple[str, ...] = tuple(
    "金鑫华宏瑞永恒昌兴汇泰盛德嘉天峰富聚隆鸿润安顺中元正东新晋三同广裕"
)
BRAND_SECOND: tuple[str, ...] = tuple(
    "鼎源达丰兴泰昌盛旺发润和祥瑞峰隆鑫辉宇海诚信通基业宝利华康远晟"
)

TOWN_FIRST: tuple[str, ...] = tuple("东西南北上下白黑石马高新长红杨柳桃龙凤青大小沙金铁温水王李")
TOWN_SUFFIX: tuple[str, ...] = (
    "峪",
    "沟",
    "坪",
    "庄",
    "堡",
    "窑",
    "河",
    "口",
    "营",
    "寨",
    "头",
    "泉",
)
VILLAGE_SUFFIX: tuple[str, ...] = ("家沟", "家庄", "家峪", "家坪", "家堡", "家窑", "家河")
PARKS: tuple[str, ...] = ("工业园区", "经济开发区", "循环经济园区", "产业园区", "经济技术开发区")
ROAD_SUFFIX: tuple[str, ...] = ("路", "街", "大道")


@dataclass(frozen=True)
class NameTemplate:
    """An enterprise name pattern and the GB/T 4754-2017 industry its name implies.

    Placeholders: ``{region}`` (e.g. 朔州市平鲁区, 应县), ``{region_short}`` (朔州平鲁区, 山阴),
    ``{prov}`` (山西) and ``{brand}`` (a two-character trade name)."""

    pattern: str
    industry: str
    weight: int = 1


@dataclass(frozen=True)
class CategorySpec:
    """How enterprises of one supervision category look."""

    templates: tuple[NameTemplate, ...]
    # 安全生产许可证 type code (安全生产许可证条例 Art. 2: mines, hazardous chemicals, fireworks,
    # …); None for categories that need no such licence (冶金工贸 and others).
    licence_code: str | None
    scale_weights: dict[str, int]
    mining: bool  # mines and fireworks sit in villages, away from urban districts


CATEGORY_SPECS: dict[str, CategorySpec] = {
    "coal_mine": CategorySpec(
        templates=(
            NameTemplate("{region}{brand}煤业有限公司", "B06", 5),  # 煤炭开采和洗选业
            NameTemplate("{prov}{region_short}{brand}煤业有限公司", "B06", 3),
            NameTemplate("{region}{brand}煤矿有限责任公司", "B06", 2),
        ),
        licence_code="MK",
        scale_weights={"large": 2, "medium": 5, "small": 4},
        mining=True,
    ),
    "non_coal_mine": CategorySpec(
        templates=(
            NameTemplate("{region}{brand}铁矿有限公司", "B08", 3),  # 黑色金属矿采选业
            NameTemplate("{region}{brand}铝土矿有限公司", "B09", 2),  # 有色金属矿采选业
            NameTemplate("{prov}{region_short}{brand}铜业有限公司", "B09", 1),
            NameTemplate("{region}{brand}石料有限公司", "B10", 3),  # 非金属矿采选业
            NameTemplate("{region}{brand}石膏矿业有限公司", "B10", 1),
            NameTemplate("{region}{brand}砂石有限公司", "B10", 2),
        ),
        licence_code="FM",
        scale_weights={"medium": 2, "small": 6, "micro": 2},
        mining=True,
    ),
    "hazardous_chemicals": CategorySpec(
        templates=(
            NameTemplate("{prov}{brand}化工有限公司", "C26", 4),  # 化学原料和化学制品制造业
            NameTemplate("{region}{brand}精细化工有限公司", "C26", 2),
            NameTemplate("{region}{brand}焦化有限公司", "C25", 3),  # 石油、煤炭及其他燃料加工业
            NameTemplate("{prov}{region_short}{brand}煤化工有限公司", "C25", 1),
            NameTemplate("{region}{brand}化肥有限公司", "C26", 1),
            NameTemplate("{region}{brand}工业气体有限公司", "C26", 1),
        ),
        licence_code="WH",
        scale_weights={"large": 1, "medium": 4, "small": 5},
        mining=False,
    ),
    "fireworks": CategorySpec(
        templates=(
            NameTemplate("{region}{brand}烟花爆竹有限公司", "C2672", 3),  # 焰火、鞭炮产品制造
            NameTemplate("{region}{brand}花炮制造有限公司", "C2672", 1),
        ),
        licence_code="YH",
        scale_weights={"small": 6, "micro": 4},
        mining=True,
    ),
    "metallurgy_trade": CategorySpec(
        templates=(
            NameTemplate("{prov}{brand}钢铁有限公司", "C31", 3),  # 黑色金属冶炼和压延加工业
            NameTemplate("{region}{brand}特钢有限公司", "C31", 1),
            NameTemplate("{region}{brand}铝业有限公司", "C32", 2),  # 有色金属冶炼和压延加工业
            NameTemplate("{region}{brand}镁业有限公司", "C32", 1),
            NameTemplate("{region}{brand}铸造有限公司", "C33", 2),  # 金属制品业
            NameTemplate("{region}{brand}水泥有限公司", "C30", 2),  # 非金属矿物制品业
            NameTemplate("{region}{brand}机械制造有限公司", "C34", 2),  # 通用设备制造业
            NameTemplate("{region}{brand}酿造有限公司", "C14", 1),  # 食品制造业
        ),
        licence_code=None,
        scale_weights={"large": 1, "medium": 3, "small": 5, "micro": 1},
        mining=False,
    ),
    "other": CategorySpec(
        templates=(
            NameTemplate("{region}{brand}物流有限公司", "G54", 2),  # 道路运输业
            NameTemplate("{region}{brand}建筑工程有限公司", "E47", 2),  # 房屋建筑业
            NameTemplate("{region}{brand}热力有限公司", "D44", 1),  # 电力、热力生产和供应业
            NameTemplate("{prov}{region_short}{brand}发电有限责任公司", "D44", 1),
        ),
        licence_code=None,
        scale_weights={"medium": 1, "small": 5, "micro": 3},
        mining=False,
    ),
}

STATUS_WEIGHTS: dict[str, int] = {"operating": 88, "suspended": 7, "construction": 5}

# GB/T 2000 (China's enterprise size classes for industry): employees per scale.
EMPLOYEES_BY_SCALE: dict[str, tuple[int, int]] = {
    "large": (1000, 5000),
    "medium": (300, 999),
    "small": (20, 299),
    "micro": (5, 19),
}


# --- province presets -------------------------------------------------------------------------


@dataclass(frozen=True)
class BureauSpec:
    """A coal-mine inspection 分局: its office and an area that may cross division borders."""

    name: str
    division_code: str
    area_codes: tuple[str, ...]


@dataclass(frozen=True)
class ProvincePreset:
    """What makes one province's demo look like that province."""

    category_weights: dict[str, float]
    # category -> city prefix (four digits) -> weight of that city's counties (default 1).
    city_weights: dict[str, dict[str, float]] = field(default_factory=dict)
    urban_cores: frozenset[str] = frozenset()  # no mines or fireworks here
    bureaus: tuple[BureauSpec, ...] = ()
    rescue_teams: tuple[tuple[str, str], ...] = ()  # (name, division code)
    city_code: str = ""  # the demo city official's city
    county_codes: tuple[str, ...] = ()  # the two demo county officials' counties
    # The demo enterprise user's enterprise: this category, in the first demo county.
    anchor_category: str = "hazardous_chemicals"
    usernames: dict[str, str] = field(default_factory=dict)
    coord_fallback: dict[str, tuple[float, float]] = field(default_factory=dict)


GENERIC_CATEGORY_WEIGHTS: dict[str, float] = {
    "coal_mine": 0.12,
    "non_coal_mine": 0.12,
    "hazardous_chemicals": 0.26,
    "fireworks": 0.05,
    "metallurgy_trade": 0.32,
    "other": 0.13,
}

GENERIC_USERNAMES: dict[str, str] = {
    "admin": "admin",
    "province": "sheng",
    "city": "shi",
    "county1": "xian1",
    "county2": "xian2",
    "inspection": "jianchaju",
    "enterprise": "qiye",
}

SHANXI = ProvincePreset(
    # Shanxi: coal first, then coking/chemicals, steel and other industry, iron/bauxite/limestone.
    category_weights={
        "coal_mine": 0.34,
        "hazardous_chemicals": 0.20,
        "metallurgy_trade": 0.22,
        "non_coal_mine": 0.12,
        "fireworks": 0.05,
        "other": 0.07,
    },
    city_weights={
        # 运城 has no coal; 太原's coal lies in its western mountains (西山) only.
        "coal_mine": {"1401": 0.4, "1408": 0.0, "1402": 1.5, "1404": 1.5, "1405": 1.5, "1411": 1.5},
        "hazardous_chemicals": {"1401": 2.0, "1411": 1.5, "1404": 1.5, "1405": 1.2, "1407": 1.2},
        "metallurgy_trade": {"1401": 1.5, "1408": 1.5, "1410": 1.2, "1407": 1.2},
        "non_coal_mine": {"1408": 1.5, "1409": 1.3, "1411": 1.2},
        "fireworks": {"1408": 1.5, "1410": 1.3},
    },
    urban_cores=frozenset(
        {
            *("140105", "140106", "140107", "140213", "140302", "140403", "140502", "140702"),
            *("140802", "140902", "141002", "141102"),
        }
    ),
    bureaus=(
        # 晋北: 朔州 and 大同's southern coalfield (浑源, 左云, 云冈) under one office.
        BureauSpec(
            "晋北监察分局",
            "140600",
            ("140602", "140603", "140621", "140622", "140681", "140214", "140225", "140226"),
        ),
        # 霍州: the 霍西 coalfield across 临汾, 晋中 and 吕梁.
        BureauSpec(
            "霍州监察分局",
            "141082",
            ("141082", "141034", "141033", "140729", "140781", "141181", "141130"),
        ),
        # 晋东南: the 沁水 coalfield across 晋城, 长治 and 临汾.
        BureauSpec(
            "晋东南监察分局",
            "140500",
            ("140521", "140522", "140525", "140581", "140431", "140423", "141026"),
        ),
    ),
    rescue_teams=(
        ("国家矿山应急救援大同队", "140200"),
        ("山西省危险化学品应急救援吕梁队", "141100"),
    ),
    city_code="140600",  # 朔州市
    county_codes=("140622", "140621"),  # 应县, 山阴县
    anchor_category="coal_mine",
    usernames={
        "admin": "admin",
        "province": "sheng",
        "city": "shuozhou",
        "county1": "yingxian",
        "county2": "shanyin",
        "inspection": "jianchaju",
        "enterprise": "qiye",
    },
    # Districts renamed after the packaged coordinate list was made: approximate seats.
    coord_fallback={
        "140213": (113.30, 40.08),  # 平城区
        "140214": (113.15, 40.00),  # 云冈区
        "140215": (113.61, 40.04),  # 云州区
        "140403": (113.12, 36.20),  # 潞州区
        "140404": (113.05, 36.05),  # 上党区
        "140405": (112.89, 36.32),  # 屯留区
        "140406": (113.23, 36.33),  # 潞城区
        "140681": (113.10, 39.83),  # 怀仁市
        "140703": (112.55, 37.42),  # 太谷区
    },
)

PRESETS: dict[str, ProvincePreset] = {"140000": SHANXI}
