"""Translations: English message ids, Simplified Chinese from a gettext catalog.

Catalogs are `.po` files under fuwu/locale (extracted with Babel from the templates and
code); they are compiled in memory at start-up, so there is no build step.
"""

from __future__ import annotations

import contextvars
import datetime
import gettext as _gettext
import io
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_skeleton, format_time
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALE_DIR = Path(__file__).parent / "locale"
SUPPORTED = ("en", "zh_Hans")
LANGUAGE_NAMES = {"en": "English", "zh_Hans": "简体中文"}

current_locale: contextvars.ContextVar[str] = contextvars.ContextVar("fuwu_locale", default="en")
# The reader's time zone (an IANA name), set per request with the language; moments in
# messages are shown in it.
current_timezone: contextvars.ContextVar[str | None] = contextvars.ContextVar("fuwu_timezone", default=None)


@lru_cache(maxsize=None)
def translations(locale: str) -> _gettext.NullTranslations:
    path = LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po"
    if locale == "en" or not path.exists():
        return _gettext.NullTranslations()
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=locale)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return _gettext.GNUTranslations(buffer)


def gettext(message: str, **params) -> str:
    text = translations(current_locale.get()).gettext(message)
    return text % params if params else text


def ngettext(singular: str, plural: str, n: int, **params) -> str:
    text = translations(current_locale.get()).ngettext(singular, plural, n)
    params.setdefault("num", n)
    return text % params


class Term(str):
    """A parameter value that is itself a message id (a status, a role, a thing's
    name): translate_format translates it before putting it in the sentence."""

    __slots__ = ()


class Terms(str):
    """A list of Terms as one parameter value ("periodic_fee, metered"): each item is
    translated, and so is the separator (", " becomes "、", " or " becomes "或")."""

    def __new__(cls, items, separator: str = ", ") -> "Terms":
        items = tuple(items)
        value = super().__new__(cls, separator.join(items))
        value.items = items
        value.separator = separator
        return value


class Phrase(str):
    """A parameter value that is itself a message with parameters ("{count} days"):
    translated and filled in before it goes into the sentence."""

    def __new__(cls, message: str, **params) -> "Phrase":
        value = super().__new__(cls, message.format(**params))
        value.message = message
        value.params = params
        return value


class Moment(str):
    """A parameter value that is a moment (an aware datetime, kept as ISO 8601): shown
    in the reader's time zone and language. Stored parameters (notifications) lose the
    type in JSON; there a parameter whose name ends in `_at` is read as a Moment."""

    def __new__(cls, moment: datetime.datetime | str) -> "Moment":
        return super().__new__(cls, moment.isoformat() if isinstance(moment, datetime.datetime) else moment)


def format_moment(moment: datetime.datetime | str, zone: str | None = None) -> str:
    """A moment as the reader reads it: 'Dec 8, 2026 18:00' in English, '2026年12月8日
    18:00' in Chinese, in the reader's zone (UTC when none is known). Text that is not
    a moment is returned as it is."""
    if isinstance(moment, str):
        try:
            moment = datetime.datetime.fromisoformat(moment)
        except ValueError:
            return moment
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.timezone.utc)
    try:
        tzinfo = ZoneInfo(zone or current_timezone.get() or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        tzinfo = ZoneInfo("UTC")
    locale = "zh_Hans_CN" if current_locale.get() == "zh_Hans" else "en"
    day = format_skeleton("yMMMd", moment, tzinfo=tzinfo, locale=locale, fuzzy=True)
    return f"{day} {format_time(moment, 'HH:mm', tzinfo=tzinfo, locale=locale)}"


_PLAIN = frozenset({str, int, float, bool, type(None)})


def _translated(catalog: _gettext.NullTranslations, value, name: str = ""):
    if isinstance(value, Moment) or (name.endswith("_at") and isinstance(value, str)):
        return format_moment(value)
    if isinstance(value, Phrase):
        return translate_format(value.message, value.params)
    if isinstance(value, Terms):
        return catalog.gettext(value.separator).join(catalog.gettext(item) for item in value.items)
    if isinstance(value, Term):
        return catalog.gettext(value)
    return value


def translate_format(message: str, params: dict | None) -> str:
    """Translates a message id with {name} placeholders (notifications, error details);
    Term, Terms and Phrase values are translated too."""
    catalog = translations(current_locale.get())
    text = catalog.gettext(message)
    try:
        # Plain values (most, and all of a stored notification's but its moments) go in
        # as they are: this runs for every row of every notification list.
        return text.format(**{k: v if type(v) in _PLAIN and not k.endswith("_at") else _translated(catalog, v, k)
                              for k, v in (params or {}).items()})
    except (KeyError, IndexError, ValueError):
        return text


def negotiate(accept_language: str | None) -> str:
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.startswith("zh"):
            return "zh_Hans"
        if tag.startswith("en"):
            return "en"
    return "en"


def N_(message: str) -> str:
    """Marks a message id for extraction where it is translated later (labels, states)."""
    return message


# Words that error details translate from data (kinds, roles: see Term) and the shell's
# own words; the labels of stored values are in fuwu.values.
_MARKED = [
    N_("merchant"), N_("provider"), N_("platform"),
    N_("owner"), N_("operator"), N_("evaluator"), N_("manager"), N_("agent"), N_("admin"),
    N_("Dashboard"), N_("Providers"), N_("Organisation"), N_("Audit log"), N_("Admin"),
    N_("signed_up"), N_("created"), N_("updated"), N_("revoked"), N_("role_changed"), N_("removed"),
    N_("joined"), N_("admin_created"), N_("profile_updated"),
    N_("user"), N_("organisation"), N_("membership"), N_("invitation"), N_("api_token"),
    N_("Bad request"), N_("Invalid input"), N_("Not signed in"), N_("Not allowed"), N_("Not found"),
    N_("Conflict"), N_("Too many requests"), N_("Server error"), N_("Form expired"), N_("Method not allowed"),
    N_("Request too large"),
    N_("Nothing is here. Check the address."), N_("Sign in first."),
    N_("Something went wrong on our side. Try again later."),
    N_("The form expired or came from another site. Reload the page and try again."),
    N_("You are invited to join {org} as {role}"), N_("{name} joined {org}"),
    # the separators Terms are joined with
    N_(", "), N_(" or "),
]
