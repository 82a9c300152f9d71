"""系统管理 (administration) in the console: users (:mod:`anjian.console.admin_users`),
organisations (:mod:`anjian.console.admin_orgs`) and the node's settings
(:mod:`anjian.console.admin_settings`), for the node's administrators, within their jurisdiction.
This module holds what the three share: the administrators-only page context, the posted form,
names by id and the menu's icons.

Every write goes through the same service functions as the API (``anjian.core.iam.service``,
``anjian.core.orgs.service``) with the administrator's scope, so the rules are the API's: no
role above one's own, nothing outside one's jurisdiction, not one's own account. A button is
offered only when the service would accept it (:func:`anjian.core.iam.service.allowed_actions`)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any

from fastapi import Depends
from sqlalchemy import select
from sqlalchemy.orm import Session

from anjian.core.divisions.models import Division
from anjian.core.errors import Forbidden
from anjian.core.iam.deps import Context
from anjian.core.iam.rules import may_administer
from anjian.core.orgs.models import Organisation
from anjian.web.render import ICONS
from anjian.web.session import page_context

# Tabler Icons (MIT): users, building-community, settings.
ICONS.update(
    {
        "admin_users": '<path d="M9 7m-4 0a4 4 0 1 0 8 0a4 4 0 1 0 -8 0"/>'
        '<path d="M3 21v-2a4 4 0 0 1 4 -4h4a4 4 0 0 1 4 4v2"/><path d="M16 3.13a4 4 0 0 1 0 7.75"/>'
        '<path d="M21 21v-2a4 4 0 0 0 -3 -3.85"/>',
        "admin_orgs": '<path d="M8 9l5 5v7h-5v-4m0 4h-5v-7l5 -5m1 1v-6a1 1 0 0 1 1 -1h10a1 1 0 0 1 1 1'
        'v17h-8"/><path d="M13 7l0 .01"/><path d="M17 7l0 .01"/><path d="M17 11l0 .01"/>'
        '<path d="M17 15l0 .01"/>',
        "admin_settings": '<path d="M10.325 4.317c.426 -1.756 2.924 -1.756 3.35 0a1.724 1.724 0 0 0 2.573 '
        "1.066c1.543 -.94 3.31 .826 2.37 2.37a1.724 1.724 0 0 0 1.065 2.572c1.756 .426 1.756 2.924 0 "
        "3.35a1.724 1.724 0 0 0 -1.066 2.573c.94 1.543 -.826 3.31 -2.37 2.37a1.724 1.724 0 0 0 -2.572 "
        "1.065c-.426 1.756 -2.924 1.756 -3.35 0a1.724 1.724 0 0 0 -2.573 -1.066c-1.543 .94 -3.31 -.826 "
        "-2.37 -2.37a1.724 1.724 0 0 0 -1.065 -2.572c-1.756 -.426 -1.756 -2.924 0 -3.35a1.724 1.724 0 0 0 "
        '1.066 -2.573c-.94 -1.543 .826 -3.31 2.37 -2.37c1 .608 2.296 .07 2.572 -1.065z"/>'
        '<path d="M9 12a3 3 0 1 0 6 0a3 3 0 0 0 -6 0"/>',
    }
)


def admin_page_context(ctx: Annotated[Context, Depends(page_context)]) -> Context:
    """The node's administrators only (:func:`anjian.core.iam.rules.may_administer`)."""
    if not may_administer(ctx.user.role):
        raise Forbidden("需要管理员权限 (administrators only)")
    return ctx


AdminPageCtx = Annotated[Context, Depends(admin_page_context)]


def _names(db: Session, model: Any, key: Any, values: Iterable[Any]) -> dict[Any, str]:
    wanted = {v for v in values if v is not None}
    if not wanted:
        return {}
    return {k: name for k, name in db.execute(select(key, model.name).where(key.in_(wanted)))}


def division_names(db: Session, codes: Iterable[str | None]) -> dict[str, str]:
    """The names of the divisions of ``codes`` (those that exist), by code."""
    return _names(db, Division, Division.code, codes)


def org_names(db: Session, ids: Iterable[int | None]) -> dict[int, str]:
    """The names of the organisations of ``ids`` (those that exist), by id."""
    return _names(db, Organisation, Organisation.id, ids)


def choice_errors(form: dict[str, str], **choices: Iterable[str]) -> dict[str, str]:
    """A select whose value is none of its choices (a tampered form) named at its field."""
    return {
        name: "请从列表中选择" for name, allowed in choices.items() if form.get(name) not in allowed
    }
