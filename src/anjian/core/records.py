"""What the registers share about their records: the bookkeeping every synced record shows
users (for the Read schemas of enterprise files, risk points, major hazard sources), and
changing a record to wanted values with what changed, for the audit."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, TypeVar

from pydantic import BaseModel

S = TypeVar("S", bound=BaseModel)


class RecordRead(BaseModel):
    """Base of a register's Read schema: the record's local id, its uid across nodes, the node
    it was made at, its version and when it was made and last changed."""

    id: int
    uid: str
    origin_node: str
    version: int
    updated_at: datetime
    created_at: datetime


def record_fields(row: object) -> dict[str, Any]:
    """The :class:`RecordRead` fields of ``row`` (a stored record of a synced register, see
    :class:`anjian.core.sync.models.SyncMixin`), for a schema's ``of(...)`` builder."""
    return {name: getattr(row, name) for name in RecordRead.model_fields}


def copied(schema: type[S], row: object, **given: Any) -> S:
    """``schema`` built from ``row``: the ``given`` values, and for every other field the
    attribute of ``row`` of the same name (a Read schema that shows a record mostly as stored,
    so that each stored column is not copied by hand)."""
    own = {name: getattr(row, name) for name in schema.model_fields if name not in given}
    return schema(**own, **given)


def apply_changes(row: object, wanted: Mapping[str, object]) -> dict[str, dict[str, Any]]:
    """Set the ``wanted`` values on ``row`` if any differs from what it holds; return what
    changed as ``{name: {"from": old, "to": new}}`` (empty: nothing did, and nothing was set)."""
    changes = {
        name: {"from": getattr(row, name), "to": value}
        for name, value in wanted.items()
        if getattr(row, name) != value
    }
    if changes:
        for name, value in wanted.items():
            setattr(row, name, value)
    return changes
