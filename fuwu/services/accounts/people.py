"""People: signing up, their account and profile, their memberships."""

from __future__ import annotations

import uuid

import msgspec

from fuwu import roles, security
from fuwu.clock import valid_timezone
from fuwu.db import atomic, is_unique_violation
from fuwu.errors import Conflict, InvalidInput, not_found
from fuwu.services import audit
from fuwu.services.accounts.organisations import ORG_COLUMNS, _check_organisation, _create_organisation
from fuwu.services.accounts.viewer import Viewer
from fuwu.tables import Membership, User

def _normalise_email(email: str) -> str:
    return email.strip().lower()


async def sign_up(email: str, password: str, display_name: str, locale: str, organisation) -> tuple[dict, dict]:
    """Creates a user and their first organisation, the user as its owner.

    Checks: the e-mail is free, the organisation's fields fit its kind. Audits the
    user's and the organisation's creation. Raises Conflict for a taken e-mail.
    """
    email = _normalise_email(email)
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
    rows = await Membership.select(
        Membership.id,
        Membership.role,
        *(getattr(Membership.organisation, c._meta.name).as_alias(f"org_{c._meta.name}") for c in ORG_COLUMNS),
    ).where(Membership.user == user_id).order_by(Membership.created_at).output(load_json=True)
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
