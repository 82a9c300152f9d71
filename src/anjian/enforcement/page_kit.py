"""What the enforcement pages share: the badges of an inspection's state, service messages in
Chinese, a refused form's alert, and who may plan an inspection with which officers."""

from __future__ import annotations

import re

from anjian.core.iam.deps import Context
from anjian.core.iam.models import Role
from anjian.enforcement.inspectors import list_inspectors
from anjian.enforcement.models import Inspector
from anjian.enforcement.rules.draw import MIN_INSPECTORS
from anjian.enforcement.rules.inspections import InspectionState
from anjian.web.render import zh

STATE_BADGES = {
    InspectionState.PLANNED: "bg-blue-lt",
    InspectionState.ON_SITE: "bg-yellow-lt",
    InspectionState.FINISHED: "bg-green-lt",
}
# The rules' messages read "中文 / English": the English half after the last " / ".
_SLASH_TAIL = re.compile(r"\s+/\s+[^\u3000-\u9fff\uff00-\uffef]*$")


def chinese(message: str) -> str:
    """The Chinese part of a service message, "中文 (English)" or "中文 / English"."""
    return _SLASH_TAIL.sub("", zh(message)) or message


def labelled(errors: dict[str, str], labels: dict[str, str]) -> str:
    """The alert over a refused form: each message, after its field's label when it has one."""
    return "；".join(
        f"{labels[field]}：{message}" if field in labels else message
        for field, message in errors.items()
    )


def agency_officers(ctx: Context) -> list[Inspector]:
    """The active officers of the user's own agency (who may make up its teams)."""
    rows = list_inspectors(ctx.db, ctx.scope, division=ctx.user.division_code)
    return [i for i in rows if i.active]


def may_plan(ctx: Context) -> bool:
    """Whether the user may plan an inspection: an official whose agency has the officers a
    team needs (at least two active ones; the service checks the team itself)."""
    return ctx.user.role == Role.OFFICIAL and len(agency_officers(ctx)) >= MIN_INSPECTORS
