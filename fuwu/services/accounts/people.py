"""People: signing up, their account and profile, their memberships."""

from __future__ import annotations

import datetime
import math
import uuid

import msgspec

from fuwu import password_rules, roles, security, sql
from fuwu.clock import now, valid_timezone
from fuwu.db import atomic, fetch, is_unique_violation, load_json
from fuwu.errors import Conflict, InvalidInput, TooManyRequests, not_found
from fuwu.services import audit
from fuwu.services.accounts.organisations import ORG_COLUMNS, _check_organisation, _create_organisation
from fuwu.services.accounts.viewer import Viewer
from fuwu.settings import get_settings
from fuwu.tables import Membership, SignUpAttempt, User

def _normalise_email(email: str) -> str:
    return email.strip().lower()


async def sign_up(email: str, password: str, display_name: str, locale: str, organisation,
                  ip: str | None = None) -> tuple[dict, dict]:
    """Creates a user and their first organisation, the user as its owner.

    Checks: the address (`ip`, for sign-ups from the web and the API) has tried fewer
    than `signups_per_address_per_hour` sign-ups in the last hour (429 with
    Retry-After otherwise; every try counts), the password is not easy to guess
    (`check_new_password`), the e-mail is free, the organisation's fields fit its
    kind. Audits the user's and the organisation's creation. Raises Conflict for a
    taken e-mail.
    """
    if ip is not None:
        await _record_sign_up_attempt(ip[:64])
    email = _normalise_email(email)
    check_new_password(password, email)
    _check_organisation(organisation.kind, organisation.size, organisation.timezone, organisation.categories)
    password_hash = await security.hash_password_off_loop(password)
    try:
        async with atomic():
            if await User.exists().where(User.email == email):
                raise _email_taken()
            user = User(email=email, display_name=display_name.strip(), password_hash=password_hash, locale=locale)
            await user.save()
            await audit.record(
                actor=user.id, organisation=None, object_type="user", object_id=user.id, action="signed_up",
                after={"email": email, "display_name": user.display_name},
            )
            org = await _create_organisation(user.id, organisation)
    except Exception as exc:
        if is_unique_violation(exc):
            raise _email_taken() from None
        raise
    return await get_user(user.id), org


SIGN_UP_WINDOW = datetime.timedelta(hours=1)


async def _record_sign_up_attempt(ip: str) -> None:
    """Counts the address's sign-ups of the last hour and writes this one, in one
    transaction holding the address, so that concurrent sign-ups (from any process)
    get exactly the limit."""
    from fuwu.services.accounts.sessions import hold_address

    limit = get_settings().signups_per_address_per_hour
    async with atomic():
        await hold_address(ip)
        recent = (SignUpAttempt.ip == ip) & (SignUpAttempt.at > now() - SIGN_UP_WINDOW)
        count = await SignUpAttempt.count().where(recent)
        if count >= limit:
            oldest = await SignUpAttempt.select(SignUpAttempt.at).where(recent).order_by(SignUpAttempt.at).offset(
                count - limit).first()
            wait = max(1, math.ceil((oldest["at"] + SIGN_UP_WINDOW - now()).total_seconds())) if oldest else 60
            raise TooManyRequests("too_many_sign_ups",
                                  "Too many sign-ups from your address. Wait {minutes} minutes, then try again.",
                                  params={"minutes": math.ceil(wait / 60)}, retry_after=wait)
        await SignUpAttempt.insert(SignUpAttempt(ip=ip, at=now()))


def check_new_password(password: str, email: str) -> None:
    """Refuses a password that is easy to guess (NIST SP 800-63B): on the list of
    common passwords, a repeated pattern, a sequence, or holding the e-mail's name."""
    weakness = password_rules.weakness(password, email)
    if weakness == password_rules.COMMON:
        raise InvalidInput("weak_password", "This password is one of the most common ones, which are tried first. "
                                            "Choose another: a few unrelated words are strong and easy to remember.")
    if weakness == password_rules.REPETITIVE:
        raise InvalidInput("weak_password", "This password repeats a short pattern. "
                                            "Choose another: a few unrelated words are strong and easy to remember.")
    if weakness == password_rules.SEQUENTIAL:
        raise InvalidInput("weak_password", "This password is a run of letters, digits or keyboard keys. "
                                            "Choose another: a few unrelated words are strong and easy to remember.")
    if weakness == password_rules.EMAIL_NAME:
        raise InvalidInput("weak_password", "This password contains the name of your e-mail address. "
                                            "Choose another: a few unrelated words are strong and easy to remember.")


def _email_taken() -> Conflict:
    return Conflict("email_taken", "An account with this e-mail already exists. Log in, or use another e-mail.")


async def get_user(user_id: uuid.UUID) -> dict:
    row = await User.select(User.id, User.email, User.display_name, User.locale, User.timezone).where(
        User.id == user_id
    ).first()
    if row is None:
        raise not_found("User")
    row["memberships"] = await memberships_of(user_id)
    return row


async def memberships_of(user_id: uuid.UUID) -> list[dict]:
    """The person's memberships with their organisations, oldest first. Every page a
    signed-in person opens runs it: one hand-written statement (see fuwu.sql)."""
    rows = await fetch(sql.MEMBERSHIPS_OF_USER, user_id)
    for row in rows:
        row["org_categories"] = load_json(row["org_categories"])
    return [
        {
            "id": row["id"],
            "role": row["role"],
            "organisation": {c._meta.name: row[f"org_{c._meta.name}"] for c in ORG_COLUMNS},
        }
        for row in rows
    ]


async def update_profile(viewer: Viewer, data) -> dict:
    """Changes the viewer's name, language or time zone (audited)."""
    changes = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not None}
    if "timezone" in changes and not valid_timezone(changes["timezone"]):
        raise InvalidInput("invalid_timezone", "Unknown time zone. Use an IANA name such as Asia/Shanghai.")
    if changes:
        async with atomic():
            before = await User.select(*(getattr(User, k) for k in changes)).where(User.id == viewer.user_id).first()
            await User.update({getattr(User, k): v for k, v in changes.items()}).where(User.id == viewer.user_id)
            await audit.record(
                actor=viewer.user_id, organisation=None, object_type="user", object_id=viewer.user_id,
                action="profile_updated", before=before, after=changes,
            )
    return await get_user(viewer.user_id)


async def set_locale(user_id: uuid.UUID, locale: str) -> None:
    if locale not in roles.LOCALES:
        raise InvalidInput("invalid_locale", "Choose English (en) or Simplified Chinese (zh_Hans).")
    await User.update({User.locale: locale}).where(User.id == user_id)
