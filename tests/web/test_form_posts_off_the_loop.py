"""A console form post waits for the database in a worker thread, not in the server's event
loop (:mod:`anjian.web.offloop`): while another write holds the database, a posted form waits
its turn and the node still answers /healthz; then the form's write lands, once. Every console
page's form post is routed so."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

from fastapi.routing import APIRoute

from held import a_write_in_progress


def test_a_form_post_waits_for_the_database_without_stalling_the_node(console: Any) -> None:
    node = console.node
    console.login("sheng")
    form = {
        "csrf": console.csrf("/desk"),
        "kind": "incident",
        "category": "platform",
        "division_code": "140622",
        "priority": "2",
        "title": "等待写入的工单",
    }
    posted: list[Any] = []
    health: list[Any] = []
    with a_write_in_progress(node):
        poster = threading.Thread(
            target=lambda: posted.append(
                node.client.post("/desk/new", data=form, follow_redirects=False)
            ),
            daemon=True,
        )
        poster.start()
        time.sleep(0.5)  # the form is read and its write waits for the one in progress
        probe = threading.Thread(
            target=lambda: health.append(node.client.get("/healthz")), daemon=True
        )
        probe.start()
        probe.join(5)
        answered, waiting = bool(health), not posted
    # the write given up: both requests end here, whatever happened, before anything is judged
    poster.join(60)
    probe.join(60)
    assert answered and health[0].status_code == 200, "the node stalled behind a form post"
    assert waiting  # the form's write had waited for the one in progress
    assert posted and posted[0].status_code == 303, posted
    page = node.client.get(posted[0].headers["location"]).text
    assert "等待写入的工单" in page


def test_every_console_form_post_runs_off_the_loop(console: Any) -> None:
    """Found through the routers the app includes: no page answers a POST with a coroutine
    of its own on the server's loop (a new page router made without ``page_routes`` would)."""

    def routes(items: list[Any]) -> list[APIRoute]:
        found: list[APIRoute] = []
        for route in items:
            if isinstance(route, APIRoute):
                found.append(route)
            elif hasattr(route, "original_router"):
                found += routes(route.original_router.routes)
        return found

    from anjian.app import create_app

    pages = [
        r for r in routes(create_app().routes) if not r.include_in_schema and "POST" in r.methods
    ]
    assert len(pages) > 40
    on_the_loop = [
        r.path
        for r in pages
        if asyncio.iscoroutinefunction(r.endpoint)
        and not getattr(r.endpoint, "off_the_loop", False)
    ]
    assert on_the_loop == []
