"""Request and response bodies of the enterprise registry (一企一档).

Validators raise :class:`PydanticCustomError` with Chinese-first messages, so a bad value comes
back from the API as a 422 that names the field (``{"field": "uscc", ...}``) and the Excel
import can report the same message against the column."""

from __future__ import annotations

import re
from datetime import date
from typing import TYPE_CHECKING, Annotated, Any, TypedDict

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from anjian.core.crypto import mask_phone
from anjian.core.fields import (
    LAT_RANGE,
    LNG_RANGE,
    PatchModel,
    blank_is_none,
    invalid,
    one_of,
    text,
    within,
)
from anjian.core.paging import PageOut
from anjian.core.records import RecordRead, record_fields
from anjian.enterprises.rules import (
    SCALES,
    STATUSES,
    SUPERVISION_CATEGORIES,
    industry_label,
    industry_problem,
    uscc_problem,
)

if TYPE_CHECKING:
    from anjian.enterprises.models import Enterprise

PHONE_LENGTH = (7, 20)
# Separators people type in landline numbers (0349-5021234, 139 1234 5678); dropped on input.
_PHONE_SEPARATORS = re.compile(r"[\s\-()（）]")


def normalise_uscc(value: Any) -> Any:
    """Upper-case and strip a credit code, then check it (GB 32100-2015)."""
    if not isinstance(value, str):
        return value
    code = value.strip().upper()
    problem = uscc_problem(code)
    if problem:
        raise invalid("uscc", problem)
    return code


def normalise_phone(value: Any) -> Any:
    """Digits only, 7–20 of them; separators dropped; blank means none."""
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)  # Excel stores a mobile number typed as digits as a number
    if not isinstance(value, str):
        raise invalid("phone", "电话号码应为文本 (phone must be text)")
    phone = _PHONE_SEPARATORS.sub("", value)
    if phone == "":
        return None
    low, high = PHONE_LENGTH
    if not phone.isdigit() or not low <= len(phone) <= high:
        raise invalid(
            "phone",
            f"电话号码应为 {low}–{high} 位数字: {value} (phone must be {low}–{high} digits)",
        )
    return phone


def _check_industry(value: str) -> str:
    code = value.upper()
    problem = industry_problem(code)
    if problem:
        raise invalid("industry_code", problem)
    return code


def _division(value: str) -> str:
    if len(value) != 6 or not value.isdigit():
        raise invalid(
            "division_code",
            f"行政区划代码应为 6 位数字: {value} (a GB/T 2260 division code has six digits)",
        )
    return value


def _not_negative(value: int | None) -> int | None:
    if value is not None and value < 0:
        raise invalid("employees", f"从业人数不能为负数: {value} (employees cannot be negative)")
    return value


Uscc = Annotated[str, BeforeValidator(normalise_uscc)]
Phone = Annotated[str | None, BeforeValidator(normalise_phone)]
DivisionCode = Annotated[str, AfterValidator(_division)]
IndustryCode = Annotated[str, AfterValidator(text(8)), AfterValidator(_check_industry)]
Category = Annotated[
    str, AfterValidator(one_of(SUPERVISION_CATEGORIES, "监管类别", "supervision category"))
]
Scale = Annotated[str, AfterValidator(one_of(SCALES, "企业规模", "scale"))]
Status = Annotated[str, AfterValidator(one_of(STATUSES, "经营状态", "status"))]
Lng = Annotated[float | None, AfterValidator(within(*LNG_RANGE, "经度", "lng"))]
Lat = Annotated[float | None, AfterValidator(within(*LAT_RANGE, "纬度", "lat"))]
Employees = Annotated[int | None, AfterValidator(_not_negative)]
Name = Annotated[str, AfterValidator(text(200, required=True))]
Address = Annotated[str, AfterValidator(text(300))]
Person = Annotated[str, AfterValidator(text(64))]
LicenceNo = Annotated[str | None, BeforeValidator(blank_is_none), AfterValidator(text(64))]

# Fields whose column is NOT NULL: PATCH may change them but never set them to null.
REQUIRED_ON_PATCH = (
    "name",
    "division_code",
    "address",
    "industry_code",
    "supervision_category",
    "scale",
    "legal_rep",
    "safety_manager",
    "status",
)


class EnterpriseCreate(BaseModel):
    """A new enterprise file (一企一档)."""

    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")

    uscc: Uscc = Field(description="统一社会信用代码 (GB 32100), 18 characters")
    name: Name = Field(description="企业名称")
    division_code: DivisionCode = Field(description="行政区划代码 (GB/T 2260)")
    address: Address = ""
    lng: Lng = Field(default=None, description="经度 (GCJ-02 or CGCS2000)")
    lat: Lat = Field(default=None, description="纬度")
    industry_code: IndustryCode = Field(default="", description="行业代码 (GB/T 4754), e.g. B06")
    supervision_category: Category = Field(
        description="监管类别: " + ", ".join(SUPERVISION_CATEGORIES)
    )
    scale: Scale = Field(default="small", description="规模: " + ", ".join(SCALES))
    employees: Employees = Field(default=None, description="从业人数")
    legal_rep: Person = Field(default="", description="法定代表人")
    legal_rep_phone: Phone = Field(default=None, description="法定代表人电话 (stored encrypted)")
    safety_manager: Person = Field(default="", description="安全负责人")
    safety_manager_phone: Phone = Field(default=None, description="安全负责人电话 (encrypted)")
    licence_no: LicenceNo = Field(default=None, description="安全生产许可证编号")
    licence_valid_until: date | None = Field(default=None, description="许可证有效期至")
    status: Status = Field(default="operating", description="状态: " + ", ".join(STATUSES))


class EnterpriseUpdate(PatchModel):
    """A change to an enterprise file: only the fields sent are changed. The credit code is the
    enterprise's identity and cannot be changed (sending it is a 422)."""

    not_null = REQUIRED_ON_PATCH

    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")

    name: Name | None = None
    division_code: DivisionCode | None = None
    address: Address | None = None
    lng: Lng = None
    lat: Lat = None
    industry_code: IndustryCode | None = None
    supervision_category: Category | None = None
    scale: Scale | None = None
    employees: Employees = None
    legal_rep: Person | None = None
    legal_rep_phone: Phone = None
    safety_manager: Person | None = None
    safety_manager_phone: Phone = None
    licence_no: LicenceNo = None
    licence_valid_until: date | None = None
    status: Status | None = None


class EnterpriseRead(RecordRead):
    """An enterprise file as shown to users: phone numbers only masked."""

    uscc: str
    name: str
    division_code: str
    division_name: str = ""
    address: str
    lng: float | None
    lat: float | None
    industry_code: str
    industry_label: str = Field(default="", description="行业代码及其 GB/T 4754-2017 大类名称")
    supervision_category: str
    supervision_category_label: str
    scale: str
    scale_label: str
    employees: int | None
    legal_rep: str
    legal_rep_phone_masked: str | None
    safety_manager: str
    safety_manager_phone_masked: str | None
    licence_no: str | None
    licence_valid_until: date | None
    status: str
    status_label: str

    @classmethod
    def of(
        cls,
        ent: Enterprise,
        *,
        division_name: str,
        legal_rep_phone: str | None,
        safety_manager_phone: str | None,
    ) -> EnterpriseRead:
        """Build the view from a row and its decrypted phones (masked here, never returned)."""
        return cls(
            **record_fields(ent),
            uscc=ent.uscc,
            name=ent.name,
            division_code=ent.division_code,
            division_name=division_name,
            address=ent.address,
            lng=ent.lng,
            lat=ent.lat,
            industry_code=ent.industry_code,
            industry_label=industry_label(ent.industry_code) if ent.industry_code else "",
            supervision_category=ent.supervision_category,
            supervision_category_label=SUPERVISION_CATEGORIES.get(
                ent.supervision_category, ent.supervision_category
            ),
            scale=ent.scale,
            scale_label=SCALES.get(ent.scale, ent.scale),
            employees=ent.employees,
            legal_rep=ent.legal_rep,
            legal_rep_phone_masked=mask_phone(legal_rep_phone),
            safety_manager=ent.safety_manager,
            safety_manager_phone_masked=mask_phone(safety_manager_phone),
            licence_no=ent.licence_no,
            licence_valid_until=ent.licence_valid_until,
            status=ent.status,
            status_label=STATUSES.get(ent.status, ent.status),
        )


class EnterprisePage(PageOut):
    """One page of a filtered enterprise list and the total number of matches."""

    items: list[EnterpriseRead]


class EnterpriseFilters(TypedDict, total=False):
    """The filters shared by the list, the map and the Excel export (see ``list_enterprises``)."""

    q: str | None
    division: str | None
    category: str | None
    status: str | None
    scale: str | None
    industry: str | None


class MapPoint(BaseModel):
    """An enterprise on the console map."""

    id: int
    name: str
    lng: float
    lat: float
    category: str
    category_label: str
    status: str


class CodeConflictItem(BaseModel):
    """One of the records sharing a credit code."""

    id: int
    name: str
    division_code: str
    origin_node: str


class CodeConflict(BaseModel):
    """A credit code registered by more than one node (to be resolved by the officials)."""

    uscc: str
    records: list[CodeConflictItem]
