"""Pure rules of enforcement documents (执法文书): their kinds and their numbers.

A number reads ``{agency prefix}{kind word}〔{year}〕{n}号`` — e.g. 晋朔应急罚〔2026〕3号 — and runs
per agency, kind and year from 1 without gaps (the service takes the next number under a lock).
The prefix is the agency's own (configurable); the kind words below are this platform's defaults
in the usual style of 安全生产执法文书, not a national list."""

from __future__ import annotations

from datetime import date, timedelta
from enum import StrEnum

from anjian.core.errors import Invalid


class DocumentKind(StrEnum):
    """The enforcement documents the platform issues."""

    INSPECTION_RECORD = "inspection_record"  # 现场检查记录
    RECTIFICATION_ORDER = "rectification_order"  # 责令限期整改指令书
    REVIEW_OPINION = "review_opinion"  # 整改复查意见书
    COMPULSORY_MEASURE = "compulsory_measure"  # 强制措施决定书
    PENALTY_NOTICE = "penalty_notice"  # 行政处罚告知书
    PENALTY_DECISION = "penalty_decision"  # 行政处罚决定书

    @property
    def label(self) -> str:
        """The document's Chinese title."""
        return KIND_LABELS[self]

    @property
    def word(self) -> str:
        """The word of the kind in the document number, e.g. 罚 for a 行政处罚决定书."""
        return KIND_WORDS[self]


KIND_LABELS: dict[DocumentKind, str] = {
    DocumentKind.INSPECTION_RECORD: "现场检查记录",
    DocumentKind.RECTIFICATION_ORDER: "责令限期整改指令书",
    DocumentKind.REVIEW_OPINION: "整改复查意见书",
    DocumentKind.COMPULSORY_MEASURE: "强制措施决定书",
    DocumentKind.PENALTY_NOTICE: "行政处罚告知书",
    DocumentKind.PENALTY_DECISION: "行政处罚决定书",
}

KIND_WORDS: dict[DocumentKind, str] = {
    DocumentKind.INSPECTION_RECORD: "检记",
    DocumentKind.RECTIFICATION_ORDER: "责改",
    DocumentKind.REVIEW_OPINION: "复查",
    DocumentKind.COMPULSORY_MEASURE: "强措",
    DocumentKind.PENALTY_NOTICE: "罚告",
    DocumentKind.PENALTY_DECISION: "罚",
}

MAX_PREFIX_LENGTH = 20


def document_number(prefix: str, kind: DocumentKind, year: int, serial: int) -> str:
    """The printed number of the ``serial``-th document of a kind in a year, e.g.
    ``document_number("晋朔应急", DocumentKind.PENALTY_DECISION, 2026, 3)`` → 晋朔应急罚〔2026〕3号."""
    if serial < 1:
        raise Invalid("文书序号从 1 开始 / serial starts at 1", field="serial")
    if not 1900 <= year <= 9999:
        raise Invalid("年份无效 / invalid year", field="year")
    return f"{prefix}{kind.word}〔{year}〕{serial}号"


def check_prefix(prefix: str) -> str:
    """An agency's document prefix, trimmed; printable and short, as it is printed on paper."""
    value = prefix.strip()
    if not value or len(value) > MAX_PREFIX_LENGTH or not value.isprintable():
        raise Invalid(
            f"文书编号前缀须为 1–{MAX_PREFIX_LENGTH} 个可打印字符 / invalid document prefix",
            field="document_prefix",
        )
    return value


class CompulsoryMeasure(StrEnum):
    """The administrative compulsory measures (行政强制措施) an inspecting agency may take on
    site (安全生产法 2021 Art. 65(1)(3)–(4); the article number is not verified against the
    official text here)."""

    SEAL = "seal"  # 查封 facilities, equipment, sites
    SEIZE = "seize"  # 扣押 equipment, dangerous goods
    SUSPEND = "suspend"  # 责令暂时停产停业或者停止使用相关设施、设备

    @property
    def label(self) -> str:
        """The measure's Chinese name."""
        return MEASURE_LABELS[self]


MEASURE_LABELS: dict[CompulsoryMeasure, str] = {
    CompulsoryMeasure.SEAL: "查封",
    CompulsoryMeasure.SEIZE: "扣押",
    CompulsoryMeasure.SUSPEND: "责令暂时停产停业或者停止使用相关设施、设备",
}

# 行政强制法 Art. 25: a seal or seizure lasts at most 30 days (extendable once by 30 with the
# head of the agency's approval — an extension is a new decision here).
SEAL_DAYS = 30


def measure_last_day(measure: CompulsoryMeasure, decided_on: date) -> date | None:
    """The last day of a seal or seizure decided on ``decided_on`` (30 days, the day of the
    decision not counted, as the statutory periods here are), or None for a suspension, which
    lasts until the major hazard is removed."""
    if measure is CompulsoryMeasure.SUSPEND:
        return None
    return decided_on + timedelta(days=SEAL_DAYS)
