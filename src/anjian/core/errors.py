"""Errors the services raise; the API turns them into 4xx JSON, the CLI into a message and a
non-zero exit. Messages are Chinese first with the English after, for users of either."""

from __future__ import annotations

from anjian.core.ratelimit import retry_after_header


class AnjianError(Exception):
    """Base of expected, user-facing errors."""

    status = 400

    def __init__(
        self, message: str, *, field: str | None = None, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.headers = headers or {}  # extra response headers (e.g. Retry-After)

    @property
    def denies_access(self) -> bool:
        """A refusal for lack of rights: a refused write is audited as ``access.denied``."""
        return self.status == 403


class NotFound(AnjianError):
    status = 404


class OutOfScope(NotFound):
    """A record that exists but lies outside the caller's jurisdiction. Answered exactly as a
    missing one (the same 404 and message: a 403 would confirm that it exists), but it is a
    refusal, so a write that met it is audited."""

    @property
    def denies_access(self) -> bool:
        return True


class Forbidden(AnjianError):
    status = 403


class Unauthorized(AnjianError):
    status = 401


class Conflict(AnjianError):
    status = 409


class Invalid(AnjianError):
    """Bad input naming the field."""

    status = 422


class Locked(AnjianError):
    status = 423


class TooManyRequests(AnjianError):
    """Rate limited: the answer says in ``Retry-After`` how many seconds to wait."""

    status = 429

    def __init__(
        self,
        retry_after_s: float,
        message: str = "请求过于频繁，请稍后再试 (too many requests)",
        *,
        field: str | None = None,
    ) -> None:
        self.retry_after = retry_after_header(retry_after_s)
        super().__init__(message, field=field, headers={"Retry-After": self.retry_after})
