"""Request and response bodies of protection targets (防护目标)."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from anjian.core.fields import PatchModel, one_of, text
from anjian.core.paging import PageOut
from anjian.core.records import RecordRead
from anjian.emergency.targets.rules import KIND_LABELS, MAX_POPULATION
from anjian.enterprises.schemas import DivisionCode, Lat, Lng, Phone

Kind = Annotated[str, AfterValidator(one_of(KIND_LABELS, "目标类别", "kind"))]
Population = Annotated[
    int | None, Field(ge=0, le=MAX_POPULATION, description="人数（师生、床位、居民、高峰人流）")
]
Name = Annotated[str, AfterValidator(text(200, required=True))]
Address = Annotated[str, AfterValidator(text(300))]
Person = Annotated[str, AfterValidator(text(64))]
Note = Annotated[str, AfterValidator(text(2000))]


class TargetCreate(BaseModel):
    """A protection target in a division of your jurisdiction; its position is both
    coordinates or neither."""

    model_config = ConfigDict(extra="forbid")

    kind: Kind = Field(description="类别: " + ", ".join(KIND_LABELS))
    name: Name
    division_code: DivisionCode
    address: Address = ""
    lng: Lng = None
    lat: Lat = None
    population: Population = None
    contact_name: Person = ""
    contact_phone: Phone = None
    note: Note = ""


class TargetUpdate(PatchModel):
    """The fields sent change; the division stays (a target in another division is another
    target). Clearing the position clears both coordinates."""

    model_config = ConfigDict(extra="forbid")
    not_null = ("kind", "name", "address", "contact_name", "note")

    kind: Kind | None = None
    name: Name | None = None
    address: Address | None = None
    lng: Lng = None
    lat: Lat = None
    population: Population = None
    contact_name: Person | None = None
    contact_phone: Phone = None
    note: Note | None = None


class TargetRead(RecordRead):
    """A protection target as users see it: names for codes, the phone masked."""

    kind: str
    kind_label: str
    name: str
    division_code: str
    division_name: str = ""
    address: str
    lng: float | None
    lat: float | None
    population: int | None
    contact_name: str
    contact_phone: str | None
    note: str
    created_by: str


class TargetPage(PageOut):
    items: list[TargetRead]
