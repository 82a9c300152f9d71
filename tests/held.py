"""A write held open by another connection, for the tests that the node does not stall behind
one (tests/security/test_no_stall.py, tests/web/test_form_posts_off_the_loop.py)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg


@contextmanager
def a_write_in_progress(node: Any) -> Iterator[None]:
    """Another connection in the middle of a write: on SQLite it holds the write lock, on
    PostgreSQL the audit chain's head, which every writing request needs."""
    if node.url.startswith("sqlite"):
        conn: Any = sqlite3.connect(node.url.removeprefix("sqlite:///"), isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
    else:
        conn = psycopg.connect(node.url.replace("postgresql+psycopg://", "postgresql://"))
        conn.execute("SELECT 1 FROM audit_head WHERE id = 1 FOR UPDATE")
    try:
        yield
    finally:
        conn.rollback()
        conn.close()
