"""Reading a text/event-stream body in tests of the console's live pages."""

from __future__ import annotations


def sse_events(body: str) -> list[tuple[str, str]]:
    """(event, data) of each event in a text/event-stream body."""
    out = []
    for block in body.split("\n\n"):
        fields = dict(
            line.split(": ", 1) for line in block.splitlines() if ": " in line and line[0] != ":"
        )
        if "event" in fields:
            out.append((fields["event"], fields.get("data", "")))
    return out
