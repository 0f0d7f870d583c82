"""Errors a user can cause, as problem details (RFC 9457).

Every domain raises these with its own code; the app maps them onto Litestar's
ProblemDetailsException so that every 4xx body has a `type`, `title`, `status`,
`detail` (what to do about it) and the domain `code`.
"""

from __future__ import annotations

from typing import Any


class FuwuError(Exception):
    status_code = 400
    title = "Bad request"

    def __init__(self, code: str, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.extra = extra


class InvalidInput(FuwuError):
    status_code = 422
    title = "Invalid input"


class NotAuthenticated(FuwuError):
    status_code = 401
    title = "Not signed in"


class Forbidden(FuwuError):
    status_code = 403
    title = "Not allowed"


class NotFound(FuwuError):
    status_code = 404
    title = "Not found"


class Conflict(FuwuError):
    status_code = 409
    title = "Conflict"


class TooManyRequests(FuwuError):
    status_code = 429
    title = "Too many requests"


def not_found(what: str) -> NotFound:
    """The same answer whether the thing does not exist or the caller may not see it."""
    return NotFound(f"{what.lower().replace(' ', '_')}_not_found", f"{what} not found. Check the link or id.")
