"""Errors a user can cause, as problem details (RFC 9457).

Every domain raises these with its own code; the app maps them onto Litestar's
ProblemDetailsException so that every 4xx body has a `type`, `title`, `status`,
`detail` (what to do about it) and the domain `code`.
"""

from __future__ import annotations

from typing import Any

from fuwu.i18n import N_, Term


class FuwuError(Exception):
    """`detail` is an English message id; values in it are {name} placeholders filled
    from `params` after translation, so that every reader gets the whole sentence in
    their own language (`localised`). `extra` fields go into the problem body."""

    status_code = 400
    title = "Bad request"

    def __init__(self, code: str, detail: str, *, params: dict[str, Any] | None = None, **extra: Any) -> None:
        self.code = code
        self.template = detail
        self.params = params
        self.detail = _format(detail, params)
        self.extra = extra
        super().__init__(self.detail)

    def localised(self) -> str:
        from fuwu.i18n import gettext, translate_format

        return translate_format(self.template, self.params) if self.params is not None else gettext(self.template)


def _format(text: str, params: dict[str, Any] | None) -> str:
    if params is None:
        return text
    try:
        return text.format(**params)
    except (KeyError, IndexError, ValueError):
        return text


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
    """The same answer whether the thing does not exist or the caller may not see it.
    `what` is one of THINGS."""
    return NotFound(f"{what.lower().replace(' ', '_')}_not_found", N_("{what} not found. Check the link or id."),
                    params={"what": Term(what)})


# The things not_found names, marked for translation.
THINGS = (
    N_("API token"), N_("Award"), N_("Bid"), N_("File"), N_("Invitation"), N_("Member"), N_("Notification"),
    N_("Organisation"), N_("Page"), N_("Provider"), N_("Question"), N_("Round"), N_("Slot"), N_("Tender"), N_("User"),
)
