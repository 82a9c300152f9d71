"""Threshold presets (阈值预设) for common monitoring points, from ``../shared/domain`` (REFERENCE
§5.3, §5.6, §5.7). A preset fills kind, unit and set points when a point is registered; anything
sent explicitly wins. Values the reference marks unverified are marked here too, and every
preset value can be overridden per point.

Coal-mine methane (煤矿甲烷传感器, 煤矿安全规程 / AQ 1029 sensor-settings table): the alarm
concentration is the H set point, the power-cut concentration (断电浓度) the HH set point, and
the power-restore concentration (复电浓度) is kept as ``restore``: a power-cut event ends when
the value falls below it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Preset:
    """Set points and metadata for one kind of point."""

    code: str
    name: str
    kind: str
    unit: str
    ll: float | None = None
    l: float | None = None  # noqa: E741
    h: float | None = None
    hh: float | None = None
    dead_band: float = 0.0
    delay_s: float = 0.0
    restore: float | None = None  # coal-mine methane: 复电浓度 (power back on below this)
    power_cut: bool = False  # coal-mine methane: HH is the power-cut (断电) concentration
    verified: bool = True
    source: str = ""


_CH4_TABLE = "REFERENCE §5.6(b) 甲烷传感器报警/断电/复电浓度"
_CH4_RULES = "REFERENCE §5.6(a) 煤矿安全规程 concentration rules"
# Rows taken from 煤矿安全规程 (2016) 第四百九十八条's sensor table by the issue, which the
# reference does not carry: editable defaults until checked against the official table.
_CH4_ART_498 = "煤矿安全规程 (2016) 第四百九十八条 表 — unverified against the official table"


def _ch4(
    code: str,
    where: str,
    alarm: float,
    cut: float | None,
    restore: float | None,
    *,
    ok: bool = True,
    source: str = _CH4_TABLE,
) -> Preset:
    """A methane-sensor preset: alarm ≥ ``alarm`` (H), power cut ≥ ``cut`` (HH; None: the
    location has no power cut), power back on below ``restore``."""
    return Preset(
        code=f"coal_ch4_{code}",
        name=f"煤矿甲烷 {where}",
        kind="ch4",
        unit="%CH4",
        h=alarm,
        hh=cut,
        restore=restore,
        power_cut=cut is not None,
        verified=ok,
        source=source,
    )


_GB50493 = "GB/T 50493-2019 §5.5.2 (REFERENCE §5.3)"

PRESETS: dict[str, Preset] = {
    p.code: p
    for p in (
        # 上隅角 T0: the retrieved table prints restore < 1.5 %; 1.0 % expected (unverified).
        _ch4("t0_upper_corner", "上隅角 T0", 1.0, 1.5, 1.0, ok=False),
        _ch4("t1_face", "采煤工作面 T1", 1.0, 1.5, 1.0),
        _ch4("t1_face_outburst", "突出矿井采煤工作面 T1", 1.0, 1.5, 1.0),
        _ch4("t2_face_return", "采煤工作面回风巷 T2", 1.0, 1.0, 1.0),
        _ch4("t3_face_intake", "高瓦斯/突出矿井工作面进风巷 T3", 0.5, 0.5, 0.5),
        _ch4("t4_series_intake", "串联通风被串工作面进风巷 T4", 0.5, 0.5, 0.5),
        _ch4("t7_drainage_roadway", "专用排瓦斯巷 T7", 2.5, 2.5, 2.5),
        _ch4("t8_mixed_return", "有专用排瓦斯巷的混合回风流 T8", 1.0, 1.0, 1.0),
        _ch4("mid_return", "高瓦斯/突出矿井回风巷中部", 1.0, 1.0, 1.0),
        _ch4("shearer", "采煤机", 1.0, 1.5, 1.0),
        _ch4("heading_face", "煤巷/半煤岩巷掘进工作面 T1", 1.0, 1.5, 1.0),
        _ch4("heading_return", "掘进工作面回风流 T2", 1.0, 1.0, 1.0),
        # 采区回风巷: CH4 > 1.0 % stops work (§5.6(a)); cut at the alarm, restore below it.
        _ch4("district_return", "采区回风巷", 1.0, 1.0, 1.0, source=_CH4_RULES),
        # 一翼回风巷 / 总回风巷: > 0.75 % means finding the cause at once (§5.6(a)); no power cut.
        _ch4("wing_return", "一翼回风巷", 0.75, None, None, source=_CH4_RULES),
        _ch4("main_return", "总回风巷", 0.75, None, None, source=_CH4_RULES),
        _ch4(
            "onboard",
            "掘进机/连续采煤机/锚杆钻车/梭车机载",
            1.0,
            1.5,
            1.0,
            ok=False,
            source=_CH4_ART_498,
        ),
        _ch4("coal_bunker", "井下煤仓", 1.5, 1.5, 1.5, ok=False, source=_CH4_ART_498),
        _ch4(
            "enclosed_belt",
            "封闭的带式输送机地点",
            1.5,
            1.5,
            1.0,
            ok=False,
            source=_CH4_ART_498,
        ),
        Preset(
            code="gas_combustible",
            name="可燃气体探测器（点型）",
            kind="combustible_gas",
            unit="%LEL",
            h=25.0,
            hh=50.0,
            source=_GB50493,
        ),
        Preset(
            code="gas_o2",
            name="氧气探测器（缺氧/富氧）",
            kind="o2",
            unit="%VOL",
            l=19.5,
            h=23.5,
            source=_GB50493,
        ),
        # Toxic gases: 100 % / 200 % of the occupational exposure limit, values in mg/m³ from a
        # single-source table (REFERENCE §5.3, "V – single source").
        *(
            Preset(
                code=f"gas_{gas}",
                name=f"有毒气体探测器 {label}",
                kind="toxic_gas",
                unit="mg/m³",
                h=h,
                hh=hh,
                verified=False,
                source=_GB50493 + "; per-gas values single-source",
            )
            for gas, label, h, hh in (
                ("h2s", "硫化氢 H2S", 10.0, 20.0),
                ("co", "一氧化碳 CO", 20.0, 40.0),
                ("cl2", "氯气 Cl2", 1.0, 2.0),
                ("nh3", "氨 NH3", 20.0, 40.0),
                ("so2", "二氧化硫 SO2", 5.0, 10.0),
                ("hcn", "氰化氢 HCN", 1.0, 2.0),
                ("cocl2", "光气 COCl2", 0.5, 1.0),
                ("benzene", "苯", 6.0, 12.0),
            )
        ),
        # Tank farms (罐区): no national numbers in the reference; a common convention of set
        # points as a share of the gauge height, to be set per tank (unverified).
        Preset(
            code="tank_level_pct",
            name="储罐液位（占罐高百分比）",
            kind="tank_level",
            unit="%",
            ll=5.0,
            l=10.0,
            h=85.0,
            hh=90.0,
            dead_band=1.0,
            delay_s=5.0,
            verified=False,
            source="common practice (AQ 3036 values unverified)",
        ),
        # Tailings ponds (尾矿库): GB 51108 sets thresholds per site, so these presets only fix
        # kind and unit; the set points are entered from the pond's design (REFERENCE §5.7).
        Preset(
            code="tailings_water_level",
            name="尾矿库库水位",
            kind="tailings_water_level",
            unit="m",
            source="GB 51108-2015 (set points per site)",
        ),
        Preset(
            code="tailings_dry_beach",
            name="尾矿库干滩长度",
            kind="dry_beach_length",
            unit="m",
            source="GB 51108-2015 (set points per site)",
        ),
        Preset(
            code="tailings_phreatic",
            name="尾矿坝浸润线埋深",
            kind="phreatic_line",
            unit="m",
            source="GB 51108-2015 (orange = 1.1 × red; set points per site)",
        ),
        Preset(
            code="tailings_displacement",
            name="尾矿坝位移",
            kind="displacement",
            unit="mm",
            source="GB 51108-2015 (set points per site)",
        ),
        Preset(
            code="tailings_rainfall",
            name="尾矿库降雨量",
            kind="rainfall",
            unit="mm",
            source="GB 51108-2015 (yellow = 暴雨 rainfall; set points per site)",
        ),
    )
}
