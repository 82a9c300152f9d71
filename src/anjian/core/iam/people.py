"""People as others read them: the names and organisations behind login names.

Histories (隐患闭环, 报送环节, 结案), exports and the audit view store who acted by login name; a
county official reading them wants 姓名（机构）. One query resolves a whole page's names."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import column, select, table
from sqlalchemy.orm import Session

from anjian.core.iam.models import User
from anjian.core.iam.rules import person_label
from anjian.core.orgs.models import Organisation
from anjian.core.scope import unscoped

# An enterprise user belongs to no organisation but to an enterprise: its name is read from the
# registry's table by name, since the kernel imports no domain.
_ENTERPRISES = table("enterprises", column("id"), column("name"))
_CHUNK = 500  # bound parameters per IN list


@unscoped("names of the people a record in scope already shows by login name")
def display_names(session: Session, usernames: Iterable[str]) -> dict[str, str]:
    """Each of ``usernames`` as 姓名（机构）, in one query (per 500 names); a login name no user
    of this node holds (deleted, or of another node) stays the login name."""
    wanted = sorted({u for u in usernames if u})
    out = {u: person_label(u, None, None) for u in wanted}
    for i in range(0, len(wanted), _CHUNK):
        rows = session.execute(
            select(User.username, User.display_name, Organisation.name, _ENTERPRISES.c.name)
            .outerjoin(Organisation, Organisation.id == User.org_id)
            .outerjoin(_ENTERPRISES, _ENTERPRISES.c.id == User.enterprise_id)
            .where(User.username.in_(wanted[i : i + _CHUNK]))
        )
        for username, display, org, unit in rows:
            out[username] = person_label(username, display, org or unit)
    return out
