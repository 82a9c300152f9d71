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


class NotFound(AnjianError):
    status = 404


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
