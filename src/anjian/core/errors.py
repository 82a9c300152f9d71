"""Errors the services raise; the API turns them into 4xx JSON, the CLI into a message and a
non-zero exit. Messages are Chinese first with the English after, for users of either."""

from __future__ import annotations


class AnjianError(Exception):
    """Base of expected, user-facing errors."""

    status = 400

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

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
