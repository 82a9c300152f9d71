"""The people of an accident report (联系人): the reporter, and the registered unit's legal
representative and safety officer. Shown masked; an official who handles the accident (an
agency of its reporting chain, or the one leading its investigation) sees them in full, every
reveal audited."""

from __future__ import annotations

from sqlalchemy.orm import Session

from anjian.accidents.investigations import investigation_of, lead_of
from anjian.accidents.models import ACCIDENT_ENTITY, Accident
from anjian.accidents.reporting import chain_agency, get_accident
from anjian.accidents.rules import Grade, handles_accident, reporting_chain
from anjian.core.audit.service import Actor
from anjian.core.contacts import Contact, RevealedContacts, reveal
from anjian.core.divisions.service import agencies_over_division
from anjian.core.errors import NotFound
from anjian.core.iam.models import User
from anjian.core.iam.service import field_cipher
from anjian.core.scope import Scope
from anjian.enterprises import service as enterprises
from anjian.enterprises.models import Enterprise
from anjian.enterprises.sync import ENTERPRISE_ENTITY


def contacts_of(acc: Accident) -> list[Contact]:
    """The report's people with their full phones: the reporter (报告人)."""
    phone = field_cipher().decrypt(acc.reporter_phone_enc)
    return [Contact(field="reporter_phone", label="报告人", name=acc.reporter, phone=phone)]


def reveal_contacts(
    session: Session, actor: Actor, scope: Scope, accident_id: int, field: str | None = None
) -> RevealedContacts:
    """The reporter's full phone of an accident in scope (audited as ``accident.reveal``);
    out of scope: the same 404 as a missing accident."""
    acc = get_accident(session, scope, accident_id)
    return reveal(session, actor, ACCIDENT_ENTITY, acc, contacts_of(acc), field)


def unit_of(session: Session, scope: Scope, acc: Accident) -> Enterprise | None:
    """The registered unit of the accident, if the scope reaches its file too."""
    if acc.enterprise_id is None:
        return None
    try:
        return enterprises.enterprise_in_scope(session, scope, acc.enterprise_id)
    except NotFound:
        return None


def handles(session: Session, user: User, acc: Accident) -> bool:
    """Whether ``user`` acts for an agency that handles the accident (see
    :func:`anjian.accidents.rules.handles_accident`)."""
    agency = chain_agency(session, user)
    if agency is None:
        return False
    chain = reporting_chain(agencies_over_division(session, acc.division_code), Grade(acc.grade))
    lead, _tier = lead_of(session, acc, investigation_of(session, acc))
    return handles_accident(agency, [step.division for step in chain], lead)


def handler_contacts(
    session: Session, actor: Actor, scope: Scope, acc: Accident, unit: Enterprise | None
) -> list[Contact]:
    """Every contact of the accident in full, for an official who handles it: the reporter's
    and the unit's (法定代表人, 安全负责人), each record's reveal audited."""
    shown = reveal(session, actor, ACCIDENT_ENTITY, acc, contacts_of(acc)).contacts
    if unit is not None:
        shown += reveal(
            session, actor, ENTERPRISE_ENTITY, unit, enterprises.contacts_of(unit)
        ).contacts
    return shown
