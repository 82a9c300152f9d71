"""Division bodies."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class DivisionBrief(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str
    tier: str
    lng: float | None = None
    lat: float | None = None


class DivisionRead(DivisionBrief):
    parent: DivisionBrief | None
    ancestors: list[DivisionBrief]
    children: list[DivisionBrief]
