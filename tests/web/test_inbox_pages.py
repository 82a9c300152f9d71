"""The inbox on the home page and the console pages of checklists and self-inspection tasks:
each role sees its own sections with items linking to the page that deals with them; an empty
section says what it means; the enterprise reports a task done (完成自查) from its page, once."""

from __future__ import annotations

import re
from typing import Any

import pytest
from inbox_world import World, build

from anjian.hidden_hazards.models import InspectionTask


@pytest.fixture
def world(personas: Any) -> World:
    return build(personas)


def _section(html: str, key: str) -> str:
    """The HTML of one inbox section (its card)."""
    start = html.index(f'id="inbox-{key.replace(".", "-")}"')
    end = html.find('<div class="col-md-6 col-xl-4">', start)
    return html[start : end if end > 0 else len(html)]


def _links(section: str) -> list[str]:
    return re.findall(
        r'class="list-group-item list-group-item-action inbox-item" href="([^"]+)"', section
    )


def test_county_official_home_shows_the_inbox_above_the_counts(console: Any, world: World) -> None:
    ids = world.ids
    console.login("yingxian")
    html = console.node.client.get("/").text
    assert html.index('id="inbox"') < html.index('id="total-enterprises"')
    register = _section(html, "hazards.register")
    assert "待核查登记的隐患" in register
    assert _links(register) == [f"/hazards/{ids['H1']}", f"/hazards/{ids['H2']}"]
    assert "H1处：隐患H1的描述" in register and "应县金鼎煤业有限公司 · 应县" in register
    assert "3 天前" in register  # how long it has waited
    deadline = _section(html, "hazards.deadline")
    assert "逾期 2 天" in deadline and "bg-red" in deadline
    report_up = _section(html, "accidents.report_up")
    assert _links(report_up) == [f"/accidents/{ids['AC1']}#chain"]
    assert re.search(r"剩余 (29|30) 分钟", report_up)
    alarms = _section(html, "alarms.unacknowledged")
    assert 'data-stream="/monitoring/alarms/stream?state=raised&amp;after=' in alarms
    assert (
        "&amp;back=%2F" in alarms
    )  # a session ending sends the login back home, not to /monitoring
    assert "山阴县" not in html.split('id="inbox"')[1].split("辖区概况")[0]


def test_enterprise_home_shows_its_inbox_and_no_jurisdiction_counts(
    console: Any, world: World
) -> None:
    ids = world.ids
    console.login("qiye")
    html = console.node.client.get("/").text
    assert 'id="total-enterprises"' not in html and "辖区概况" not in html
    tasks = _section(html, "inspections.due")
    assert _links(tasks) == [f"/inspections/{ids['T_missed']}", f"/inspections/{ids['T_today']}"]
    assert "今天到期" in tasks and "逾期 2 天" in tasks
    assert _links(_section(html, "hazards.rectify"))[0] == f"/hazards/{ids['H4']}"
    assert "待核查登记" not in html  # an agency's section


def test_empty_sections_say_what_they_mean(console: Any) -> None:
    console.login("yingxian")
    html = console.node.client.get("/").text
    register = _section(html, "hazards.register")
    assert "没有待核查的隐患" in register and _links(register) == []
    assert re.search(r'id="inbox-total">0<', html)


def test_counts_past_the_count_limit_show_as_estimates(
    console: Any, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from anjian.config import get_settings

    monkeypatch.setenv("ANJIAN_LIST_COUNT_LIMIT", "1")
    get_settings.cache_clear()
    console.login("sheng")
    html = console.node.client.get("/").text
    register = _section(html, "hazards.register")  # three wait: past the limit of one
    assert 'data-estimate="1"' in register
    assert re.search(r'inbox-count [^"]*">约 \d+</span>', register), register
    assert re.search(r'class="inbox-more-n">约 \d+</span>', register)
    within = _section(html, "accidents.report_up")  # one or none: counted, not estimated
    assert "data-estimate" not in within and "约" not in within
    assert re.search(r'id="inbox-total">约 \d+<', html)


def test_every_inbox_link_opens_its_page(console: Any, world: World) -> None:
    for who in ("yingxian", "qiye"):
        console.login(who)
        html = console.node.client.get("/").text
        links = re.findall(r'inbox-item" href="([^"]+)"', html)
        assert len(links) >= 4, who
        for link in links:
            r = console.node.client.get(link.split("#")[0])
            assert r.status_code == 200, (who, link)


def test_checklist_and_task_pages_list_and_show(console: Any, world: World) -> None:
    ids = world.ids
    console.login("qiye")
    client = console.node.client
    home = client.get("/").text
    assert 'href="/inspections"' in home  # in the navigation
    tasks = client.get("/inspections").text
    assert f'id="task-{ids["T_today"]}"' in tasks and f'id="task-{ids["T_done"]}"' not in tasks
    missed = client.get("/inspections?state=missed").text
    assert f'id="task-{ids["T_missed"]}"' in missed and f'id="task-{ids["T_old"]}"' in missed
    assert "本月自查完成率" in tasks
    lists = client.get("/checklists").text
    assert "采煤工作面班前检查" in lists and f'href="/checklists/{ids["checklist"]}"' in lists
    detail = client.get(f"/checklists/{ids['checklist']}").text
    assert "顶板支护完好" in detail and "煤矿安全规程" in detail
    done = client.get(f"/inspections/{ids['T_done']}").text
    assert 'id="complete-form"' not in done and 'id="task-done"' in done


def test_enterprise_completes_a_task_from_its_page_once(console: Any, world: World) -> None:
    task = world.ids["T_today"]
    console.login("qiye")
    client = console.node.client
    page = client.get(f"/inspections/{task}").text
    assert 'id="complete-form"' in page
    csrf = console.csrf(f"/inspections/{task}")
    r = client.post(
        f"/inspections/{task}/complete",
        data={"csrf": csrf, "hazards_found": "1", "note": "顶板完好，一处锚杆松动已上报"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == f"/inspections/{task}?done=1"
    after = client.get(r.headers["location"]).text
    assert "已完成自查" in after and 'id="complete-form"' not in after
    with console.node.db() as s:
        row = s.get(InspectionTask, task)
        assert row is not None and row.done_by == "qiye" and row.hazards_found == 1
    # the task left the inbox
    assert f'href="/inspections/{task}"' not in client.get("/").text
    again = client.post(f"/inspections/{task}/complete", data={"csrf": csrf, "hazards_found": "0"})
    assert again.status_code == 409 and "已于" in again.text


@pytest.mark.parametrize(
    ("hazards_found", "note"),
    [("-1", ""), ("abc", ""), (str(10**30), ""), ("1", "x" * 4001), ("1", "控制\x01字符")],
)
@pytest.mark.one_backend
def test_hostile_completion_is_refused_and_nothing_written(
    console: Any, world: World, hazards_found: str, note: str
) -> None:
    task = world.ids["T_today"]
    console.login("qiye")
    csrf = console.csrf(f"/inspections/{task}")
    r = console.node.client.post(
        f"/inspections/{task}/complete",
        data={"csrf": csrf, "hazards_found": hazards_found, "note": note},
    )
    assert r.status_code == 422, r.text
    with console.node.db() as s:
        row = s.get(InspectionTask, task)
        assert row is not None and row.done_at is None


def test_other_jurisdictions_tasks_and_checklists_are_not_found(console: Any, world: World) -> None:
    ids = world.ids
    console.login("shanyin")
    client = console.node.client
    assert client.get(f"/inspections/{ids['T_today']}").status_code == 404
    assert client.get(f"/checklists/{ids['checklist']}").status_code == 404
    assert "采煤工作面班前检查" not in client.get("/checklists").text
    csrf = console.csrf("/")
    r = client.post(f"/inspections/{ids['T_today']}/complete", data={"csrf": csrf})
    assert r.status_code == 404
    console.login("yingxian")  # the county official sees the mine's tasks
    assert client.get(f"/inspections/{ids['T_today']}").status_code == 200
