"""Schemathesis over the whole OpenAPI, in process: every operation with a bounded number of
generated requests, valid ones and invalid ones (derandomized, so a run is repeatable), logged in
as an official (on PostgreSQL) and as an enterprise user (on SQLite); no answer may be a
server error. A failure lists every operation that
answered 5xx with the request that reproduces it (as curl)."""

from __future__ import annotations

import contextlib
import traceback
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.python import asgi

# Requests per operation and persona, valid and invalid (about 20 s a persona on SQLite;
# the operations grow with every domain, so keep the total within the CI budget).
EXAMPLES = {GenerationMode.POSITIVE: 5, GenerationMode.NEGATIVE: 3}

# A raw e-mail message (POST /api/v1/ops/tickets/mail) is bytes, sent as they are.
schemathesis.serializer.alias("message/rfc822", "application/octet-stream")

# Logging out would end the session the rest of the run is logged in with.
SKIPPED = {("POST", "/api/v1/auth/logout")}


def _describe(case: schemathesis.Case, exc: Exception) -> str:
    """One failure: the operation, the error, where it was raised and the request (curl)."""
    curl = [n.strip().splitlines()[-1] for n in getattr(exc, "__notes__", []) if "curl" in n]
    where = traceback.extract_tb(exc.__traceback__)[-1]
    first = str(exc).splitlines()[0] if str(exc) else ""
    return (
        f"{case.operation.label}: {type(exc).__name__}: {first} "
        f"at {where.filename}:{where.lineno} | {curl[-1] if curl else ''}"
    )


def _fuzz_operation(
    operation: Any, mode: GenerationMode, client: Any, headers: dict[str, str]
) -> list[str]:
    failures: list[str] = []

    @settings(
        max_examples=EXAMPLES[mode],
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],  # no shrinking: report, do not minimise
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def check(case: schemathesis.Case) -> None:
        try:
            case.call_and_validate(session=client, headers=headers, checks=[not_a_server_error])
        except Exception as exc:  # collected, so that one run reports every server error
            failures.append(_describe(case, exc))

    # Unsatisfiable: an operation with nothing to make invalid (no parameters, no body).
    with contextlib.suppress(Unsatisfiable):
        check()
    return failures


# Each persona on one backend (both backends, both personas): the CI budget.
@pytest.mark.parametrize(
    ("database_url", "username"),
    [("postgres", "sheng"), ("sqlite", "qiye")],
    indirect=["database_url"],
)
def test_no_server_error(personas: Any, username: str) -> None:
    headers = personas.login(username)
    app = personas.client.app
    schema = schemathesis.openapi.from_dict(app.openapi())  # type: ignore[attr-defined]
    failures: list[str] = []
    with asgi.get_client(app) as client:
        for result in schema.get_all_operations():
            operation = result.ok()
            if (operation.method.upper(), operation.path) in SKIPPED:
                continue
            for mode in EXAMPLES:
                failures += _fuzz_operation(operation, mode, client, headers)
    assert not failures, "\n".join(failures)
