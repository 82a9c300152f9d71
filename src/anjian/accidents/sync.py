"""How accident records cross nodes (DESIGN.md §2): the report and each agency's step of its
chain travel up, as do the investigation and its corrective measures. A report that reaches a
node from below starts that node's own steps of the chain (:func:`steps_on_arrival`).

Imported where the domain is wired (``anjian.models``), so the registry is filled before the
sync engine runs; kept apart from the models so that they need not import the service."""

from __future__ import annotations

from anjian.accidents.models import (
    ACCIDENT_ENTITY,
    INVESTIGATION_ENTITY,
    MEASURE_ENTITY,
    STEP_ENTITY,
    Accident,
    AccidentStep,
    CorrectiveMeasure,
    Investigation,
)
from anjian.accidents.reporting import steps_on_arrival
from anjian.core.sync.registry import SyncSpec, register
from anjian.enterprises.sync import ENTERPRISE_ENTITY

register(SyncSpec(STEP_ENTITY, AccidentStep, division_attr="division_code"))
register(
    SyncSpec(
        ACCIDENT_ENTITY,
        Accident,
        division_attr="division_code",
        refs={"enterprise_id": ENTERPRISE_ENTITY},
        encrypted=("reporter_phone_enc",),
        on_applied=steps_on_arrival,
    )
)
register(SyncSpec(INVESTIGATION_ENTITY, Investigation, division_attr="division_code"))
register(SyncSpec(MEASURE_ENTITY, CorrectiveMeasure, division_attr="division_code"))
