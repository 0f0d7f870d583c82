"""The platform organisation and its admins (`fuwu create-admin`)."""

from __future__ import annotations

from fuwu import roles, security
from fuwu.db import atomic
from fuwu.services import audit
from fuwu.services.accounts.members import _add_member
from fuwu.services.accounts.people import _normalise_email, get_user
from fuwu.tables import Membership, Organisation, User

PLATFORM_NAME = "Fuwu Platform"


async def create_admin(email: str, password: str, display_name: str) -> dict:
    """Creates (or promotes) a platform admin; used by `fuwu create-admin`. Audited."""
    email = _normalise_email(email)
    async with atomic():
        platform = await Organisation.select(Organisation.id).where(Organisation.kind == roles.PLATFORM).first()
        if platform is None:
            org = Organisation(kind=roles.PLATFORM, name=PLATFORM_NAME)
            await org.save()
            platform_id = org.id
        else:
            platform_id = platform["id"]
        user = await User.select(User.id).where(User.email == email).first()
        if user is None:
            row = User(email=email, display_name=display_name, password_hash=security.hash_password(password))
            await row.save()
            user_id = row.id
        else:
            user_id = user["id"]
            await User.update({User.password_hash: security.hash_password(password)}).where(User.id == user_id)
        if not await Membership.exists().where((Membership.user == user_id) & (Membership.organisation == platform_id)):
            await _add_member(platform_id, user_id, roles.ADMIN)
            await audit.record(
                actor=None, organisation=platform_id, object_type="membership", object_id=user_id,
                action="admin_created", after={"email": email},
            )
    return await get_user(user_id)
