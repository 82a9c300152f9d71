"""Which records cross nodes, and how (DESIGN.md §2).

A domain registers each synced model once, at import: its entity name, the attribute that places
a record in a jurisdiction (so a parent can refuse a child's record outside the child's area),
references to other synced records (local ids travel as uids), encrypted columns (each node
encrypts with its own key; in transit the whole batch is encrypted under the link key), and the
direction it travels: ``up`` (child → parent, the default), ``down`` (directives), or up and
also down to the child whose area holds the record (``also_down``: what an agency above does
about a lower division's enterprise, e.g. a provincial inspection of a county mine)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from anjian.core.sync.models import SyncMixin


@dataclass(frozen=True)
class SyncSpec:
    """How one entity syncs."""

    entity: str
    model: type[SyncMixin]
    division_attr: str
    refs: dict[str, str] = field(default_factory=dict)  # local FK attribute -> entity
    encrypted: tuple[str, ...] = ()
    downward: bool = False
    # Travels up like any record and, when written at a node above its division (or received
    # there from the parent), down to the child whose area holds its division: never back to
    # the child it came from nor to another child (see :func:`~anjian.core.sync.pull.serve_pull`).
    also_down: bool = False
    # Called in the applying transaction with the uids of the records a batch changed here:
    # how a node acts on what reached it (e.g. answering a request sent down to it).
    on_applied: Callable[[Session, list[str]], None] | None = None


_SPECS: dict[str, SyncSpec] = {}


def register(spec: SyncSpec) -> SyncSpec:
    """Declare a synced entity (idempotent for the same spec)."""
    have = _SPECS.get(spec.entity)
    if have is not None and have != spec:
        raise ValueError(f"sync entity {spec.entity!r} registered twice differently")
    _SPECS[spec.entity] = spec
    return spec


def spec_for(entity: str) -> SyncSpec | None:
    """The spec of an entity, or None for an entity this node does not know."""
    return _SPECS.get(entity)


def spec_of_model(model: type) -> SyncSpec:
    """The spec of a synced model class."""
    for spec in _SPECS.values():
        if spec.model is model:
            return spec
    raise KeyError(f"{model.__name__} is not a synced model")


def all_specs() -> list[SyncSpec]:
    return list(_SPECS.values())
