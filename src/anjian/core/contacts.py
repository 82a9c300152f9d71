"""People's phone numbers (联系电话): masked wherever a record is shown, revealed in full by a
deliberate, audited request of someone whose scope reaches the record.

Every place that stores a phone (the enterprise's legal representative and safety manager, an
accident's reporter) offers the same thing: ``POST .../contacts/reveal`` answering
:class:`RevealedContacts` and writing a ``<object>.reveal`` audit record that names the fields,
and in the console a 显示号码 button that swaps the masked number for a ``tel:`` link."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel
from sqlalchemy.orm import Session

from anjian.core.audit.service import Actor, Shown, audit_reveal
from anjian.core.crypto import mask_phone
from anjian.core.errors import Invalid


class Contact(BaseModel):
    """One person's phone on a record: the field that holds it, the person's role (法定代表人),
    their name and the number (full once revealed, else masked)."""

    field: str
    label: str
    name: str | None
    phone: str | None

    def masked(self) -> Contact:
        return self.model_copy(update={"phone": mask_phone(self.phone)})


class RevealedContacts(BaseModel):
    """The full numbers of a record, as revealed (and audited) for the caller."""

    object_type: str
    object_id: int
    contacts: list[Contact]


def chosen(contacts: Sequence[Contact], field: str | None) -> list[Contact]:
    """The contacts of ``field`` (all when None); 422 naming ``field`` for an unknown one."""
    if field is None:
        return list(contacts)
    picked = [c for c in contacts if c.field == field]
    if not picked:
        names = ", ".join(c.field for c in contacts)
        raise Invalid(
            f"没有该电话字段: {field[:64]!r} (field must be one of {names})", field="field"
        )
    return picked


def reveal(
    session: Session,
    actor: Actor,
    object_type: str,
    record: Shown,
    contacts: Sequence[Contact],
    field: str | None = None,
) -> RevealedContacts:
    """The full numbers of ``record`` (one field, or all), audited as a ``.reveal`` naming the
    fields that held a number; the caller has checked that its scope reaches the record."""
    picked = chosen(contacts, field)
    audit_reveal(session, actor, object_type, record, [c.field for c in picked if c.phone])
    return RevealedContacts(object_type=object_type, object_id=record.id, contacts=picked)
