"""People as histories, exports and the audit view name them: 姓名（机构）."""

from __future__ import annotations

from typing import Any

import pytest

from anjian.core.iam.rules import SYSTEM_LABEL, person_label


@pytest.mark.parametrize(
    ("username", "display", "org", "shown"),
    [
        ("yingxian", "王明", "应县应急管理局", "王明（应县应急管理局）"),
        ("qiye", "李安全", "应县金鼎煤业有限公司", "李安全（应县金鼎煤业有限公司）"),
        ("admin", "系统管理员", None, "系统管理员"),  # no organisation: the name alone
        ("yingxian", "", "应县应急管理局", "yingxian（应县应急管理局）"),  # no name: the login
        ("yingxian", "  ", None, "yingxian"),
        ("gone", None, None, "gone"),  # not a user here: deleted, or of another node
        ("cli:root", None, None, "cli:root"),
        ("system", None, None, SYSTEM_LABEL),  # the platform's own jobs
        ("system", "张系统", None, "张系统"),  # a person who happens to log in as "system"
    ],
)
def test_person_label(username: str, display: str | None, org: str | None, shown: str) -> None:
    assert person_label(username, display, org) == shown


def test_display_names_resolve_a_set_in_one_query(personas: Any) -> None:
    from sqlalchemy import event, update

    from anjian.core.iam.models import User
    from anjian.core.iam.people import display_names

    node = personas
    with node.db() as s:
        s.execute(update(User).where(User.username == "yingxian").values(display_name="王明"))
    statements: list[str] = []

    def seen(*args: Any) -> None:
        statements.append(args[2])

    with node.db() as s:
        event.listen(node.engine, "before_cursor_execute", seen)
        try:
            names = display_names(s, ["yingxian", "qiye", "jianchaju", "gone", "", "qiye"])
        finally:
            event.remove(node.engine, "before_cursor_execute", seen)
        assert display_names(s, []) == {}
    assert names == {
        "yingxian": "王明（应县应急管理局）",
        "qiye": "qiye（应县金鼎煤业有限公司）",  # an enterprise user: its unit
        "jianchaju": "jianchaju（朔州煤矿安全监察分局）",
        "gone": "gone",
    }
    assert len([s for s in statements if s.startswith("SELECT")]) == 1
