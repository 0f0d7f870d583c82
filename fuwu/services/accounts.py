"""Accounts, organisations, memberships, invitations, web sessions and API tokens."""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass

import msgspec

from fuwu import roles
from fuwu.clock import now, valid_timezone
from fuwu.db import atomic, fetch, fetchrow, is_unique_violation
from fuwu.errors import Conflict, Forbidden, InvalidInput, NotAuthenticated, TooManyRequests, not_found
from fuwu.i18n import N_, Term, Terms
from fuwu.security import hash_password, new_token, token_hash, verify_password
from fuwu.services import audit, notifications
from fuwu.settings import get_settings
from fuwu.tables import ApiToken, Invitation, LoginAttempt, Membership, Organisation, User, WebSession

INVITATION_DAYS = 7


@dataclass(frozen=True)
class Viewer:
    """Who is making a request: a signed-in person, by web session or API token."""

    user_id: uuid.UUID
    email: str
    display_name: str
    locale: str
    timezone: str
    via: str  # "session" or "token"
    session_id: uuid.UUID | None = None
    current_organisation: uuid.UUID | None = None


@dataclass(frozen=True)
class Member:
    """A viewer's membership of one organisation, as the guards see it."""

    membership_id: uuid.UUID
    organisation_id: uuid.UUID
    kind: str
    role: str
    name: str

    def has_role(self, *allowed: str) -> bool:
        return self.role in allowed


ORG_COLUMNS = (
    Organisation.id,
    Organisation.kind,
    Organisation.name,
    Organisation.size,
    Organisation.province,
    Organisation.city,
    Organisation.categories,
    Organisation.profile,
    Organisation.currency,
    Organisation.timezone,
    Organisation.created_at,
)


def _normalise_email(email: str) -> str:
    return email.strip().lower()


def _check_organisation(kind: str, size: str | None, timezone: str, categories: list[str]) -> None:
    if kind == roles.MERCHANT and size is None:
        raise InvalidInput("size_required", "A merchant organisation needs a size: small, medium, large or key_account.")
    if kind != roles.MERCHANT and size is not None:
        raise InvalidInput("size_not_allowed", "Only merchant organisations have a size.")
    if kind != roles.PROVIDER and categories:
        raise InvalidInput("categories_not_allowed", "Only provider organisations are listed in service categories.")
    if not valid_timezone(timezone):
        raise InvalidInput("invalid_timezone",
                           "Unknown time zone {timezone!r}. Use an IANA name such as Asia/Shanghai.",
                           params={"timezone": timezone})


# --- sign-up and organisations -------------------------------------------------------


async def sign_up(email: str, password: str, display_name: str, locale: str, organisation) -> tuple[dict, dict]:
    """Creates a user and their first organisation, the user as its owner.

    Checks: the e-mail is free, the organisation's fields fit its kind. Audits the
    user's and the organisation's creation. Raises Conflict for a taken e-mail.
    """
    email = _normalise_email(email)
    _check_organisation(organisation.kind, organisation.size, organisation.timezone, organisation.categories)
    password_hash = hash_password(password)
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


async def _create_organisation(user_id: uuid.UUID, data) -> dict:
    org = Organisation(
        kind=data.kind,
        name=data.name.strip(),
        size=data.size,
        province=data.province.strip(),
        city=data.city.strip(),
        categories=list(dict.fromkeys(data.categories)),
        profile=data.profile,
        currency=data.currency,
        timezone=data.timezone,
    )
    await org.save()
    await _add_member(org.id, user_id, roles.TOP_ROLE[data.kind])
    snapshot = await get_organisation(org.id)
    await audit.record(
        actor=user_id, organisation=org.id, object_type="organisation", object_id=org.id, action="created",
        after=snapshot,
    )
    return snapshot


async def _add_member(org_id: uuid.UUID, user_id: uuid.UUID, role: str) -> uuid.UUID:
    membership = Membership(user=user_id, organisation=org_id, role=role, pair=f"{user_id}:{org_id}")
    await membership.save()
    return membership.id


async def create_organisation(viewer: Viewer, data) -> dict:
    """Creates another organisation with the viewer as its owner (audited)."""
    _check_organisation(data.kind, data.size, data.timezone, data.categories)
    async with atomic():
        return await _create_organisation(viewer.user_id, data)


async def get_organisation(org_id: uuid.UUID) -> dict:
    row = await Organisation.select(*ORG_COLUMNS).where(Organisation.id == org_id).output(load_json=True).first()
    if row is None:
        raise not_found("Organisation")
    return row


async def update_organisation(viewer: Viewer, member: Member, data) -> dict:
    """Changes an organisation's profile. Owner (or platform admin) only; audited with
    before and after."""
    _require_top_role(member)
    changes = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not None}
    if not changes:
        return await get_organisation(member.organisation_id)
    before = await get_organisation(member.organisation_id)
    merged = {**before, **changes}
    _check_organisation(member.kind, merged["size"], merged["timezone"], merged["categories"])
    if member.kind != roles.MERCHANT:
        changes.pop("size", None)
    async with atomic():
        await Organisation.update({getattr(Organisation, k): v for k, v in changes.items()}).where(
            Organisation.id == member.organisation_id
        )
        after = await get_organisation(member.organisation_id)
        await audit.record(
            actor=viewer.user_id, organisation=member.organisation_id, object_type="organisation",
            object_id=member.organisation_id, action="updated",
            before={k: before[k] for k in changes}, after={k: after[k] for k in changes},
        )
    return after


def _require_top_role(member: Member) -> None:
    if member.role != roles.TOP_ROLE[member.kind]:
        raise Forbidden("owner_only", "Only the organisation's owner can do this. Ask your owner.")


# --- users ---------------------------------------------------------------------------


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
        # The person's tokens carry the old name and language: this process forgets them now.
        _forget_tokens_of(viewer.user_id)
    return await get_user(viewer.user_id)


async def set_locale(user_id: uuid.UUID, locale: str) -> None:
    if locale not in roles.LOCALES:
        raise InvalidInput("invalid_locale", "Choose English (en) or Simplified Chinese (zh_Hans).")
    await User.update({User.locale: locale}).where(User.id == user_id)
    _forget_tokens_of(user_id)


# --- log-in and sessions -------------------------------------------------------------


async def authenticate(email: str, password: str, ip: str) -> dict:
    """Checks a password. Failed attempts are stored and counted per e-mail and per
    address across all processes; past the limit a minute, log-in answers 429."""
    email = _normalise_email(email)
    limit = get_settings().login_attempts_per_minute
    since = now() - datetime.timedelta(minutes=1)
    recent = await LoginAttempt.count().where(
        ((LoginAttempt.email == email) | (LoginAttempt.ip == ip)) & (LoginAttempt.at > since)
    )
    if recent >= limit:
        raise TooManyRequests(
            "too_many_login_attempts", "Too many failed log-ins. Wait a minute, then try again.", retry_after=60
        )
    user = await User.select(User.id, User.password_hash, User.is_active).where(User.email == email).first()
    if not verify_password(user["password_hash"] if user else None, password) or not user["is_active"]:
        await LoginAttempt.insert(LoginAttempt(email=email[:254], ip=ip[:64]))
        raise NotAuthenticated("wrong_credentials", "Wrong e-mail or password. Check both and try again.")
    return await get_user(user["id"])


async def start_session(user: dict) -> str:
    """Opens a web session for a user; returns the cookie value (only its hash is kept)."""
    token, hashed = new_token("s")
    memberships = user.get("memberships") or []
    current = memberships[0]["organisation"]["id"] if memberships else None
    await WebSession.insert(
        WebSession(
            token_hash=hashed,
            user=user["id"],
            current_organisation=current,
            expires_at=now() + datetime.timedelta(days=get_settings().session_days),
        )
    )
    return token


async def end_session(session_id: uuid.UUID) -> None:
    await WebSession.delete().where(WebSession.id == session_id)


_VIEWER_COLUMNS = (
    User.id.as_alias("user_id"),
    User.email,
    User.display_name,
    User.locale,
    User.timezone,
    User.is_active,
)


async def viewer_from_session(token: str) -> Viewer | None:
    row = await WebSession.select(
        WebSession.id,
        WebSession.expires_at,
        WebSession.current_organisation,
        *(getattr(WebSession.user, c._meta.name).as_alias(c._meta.name if c._meta.name != "id" else "user_id")
          for c in (User.id, User.email, User.display_name, User.locale, User.timezone, User.is_active)),
    ).where(WebSession.token_hash == token_hash(token)).first()
    if row is None or row["expires_at"] <= now() or not row["is_active"]:
        return None
    return Viewer(
        user_id=row["user_id"], email=row["email"], display_name=row["display_name"], locale=row["locale"],
        timezone=row["timezone"], via="session", session_id=row["id"],
        current_organisation=row["current_organisation"],
    )


async def switch_organisation(viewer: Viewer, org_id: uuid.UUID) -> None:
    """Makes another of the viewer's organisations the current one of this session."""
    if viewer.session_id is None:
        raise InvalidInput("no_session", "Switching organisation is for web sessions.")
    await membership(viewer.user_id, org_id)  # raises not found if not a member
    await WebSession.update({WebSession.current_organisation: org_id}).where(WebSession.id == viewer.session_id)


# --- API tokens ----------------------------------------------------------------------

# Token look-ups are cached for a few seconds per process: an API client sends many
# requests a second, and a database round trip on each is most of their cost. A
# revocation is seen at once by the process that makes it and within this many
# seconds by the others.
TOKEN_CACHE_SECONDS = 5.0
_token_cache: dict[str, tuple[float, Viewer | None]] = {}


async def create_token(viewer: Viewer, name: str) -> dict:
    """Creates an API token for the viewer. The plain token is returned once."""
    token, hashed = new_token("fw")
    row = ApiToken(user=viewer.user_id, name=name.strip(), token_hash=hashed, prefix=token[:10])
    async with atomic():
        await row.save()
        await audit.record(
            actor=viewer.user_id, organisation=None, object_type="api_token", object_id=row.id, action="created",
            after={"name": row.name, "prefix": row.prefix},
        )
    return {"id": row.id, "name": row.name, "prefix": row.prefix, "created_at": row.created_at, "token": token}


async def list_tokens(viewer: Viewer) -> list[dict]:
    return await ApiToken.select(
        ApiToken.id, ApiToken.name, ApiToken.prefix, ApiToken.created_at, ApiToken.last_used_at, ApiToken.revoked_at
    ).where(ApiToken.user == viewer.user_id).order_by(ApiToken.created_at, ascending=False)


async def revoke_token(viewer: Viewer, token_id: uuid.UUID) -> None:
    """Revokes one of the viewer's tokens (audited); unknown or foreign ids are 404."""
    async with atomic():
        row = await ApiToken.select(ApiToken.token_hash, ApiToken.revoked_at).where(
            (ApiToken.id == token_id) & (ApiToken.user == viewer.user_id)
        ).first()
        if row is None:
            raise not_found("API token")
        if row["revoked_at"] is None:
            await ApiToken.update({ApiToken.revoked_at: now()}).where(ApiToken.id == token_id)
            await audit.record(
                actor=viewer.user_id, organisation=None, object_type="api_token", object_id=token_id,
                action="revoked",
            )
    _token_cache.pop(row["token_hash"], None)


# Every API request runs these two: hand-written (see fuwu.db.fetch).
_TOKEN_SQL = (
    'SELECT t.id, t.revoked_at, t.last_used_at, u.id AS user_id, u.email, u.display_name, u.locale, u.timezone, '
    'u.is_active FROM fuwu_api_token t JOIN fuwu_user u ON u.id = t."user" WHERE t.token_hash = $1'
)
_TOUCH_TOKEN_SQL = "UPDATE fuwu_api_token SET last_used_at = $2 WHERE id = $1"
_MEMBERSHIP_SQL = (
    "SELECT m.id, m.role, o.kind, o.name FROM fuwu_membership m JOIN fuwu_organisation o ON o.id = m.organisation "
    "WHERE m.pair = $1"
)


def _forget_tokens_of(user_id: uuid.UUID) -> None:
    for hashed, (_, cached) in list(_token_cache.items()):
        if cached is not None and cached.user_id == user_id:
            _token_cache.pop(hashed, None)


async def viewer_from_token(token: str) -> Viewer | None:
    import time

    hashed = token_hash(token)
    cached = _token_cache.get(hashed)
    moment = time.monotonic()
    if cached and cached[0] > moment:
        return cached[1]
    row = await fetchrow(_TOKEN_SQL, hashed)
    viewer = None
    if row is not None and row["revoked_at"] is None and row["is_active"]:
        viewer = Viewer(
            user_id=row["user_id"], email=row["email"], display_name=row["display_name"], locale=row["locale"],
            timezone=row["timezone"], via="token",
        )
        last = row["last_used_at"]
        if last is None or now() - last > datetime.timedelta(minutes=10):
            await fetch(_TOUCH_TOKEN_SQL, row["id"], now())
    if len(_token_cache) > 10_000:
        _token_cache.clear()
    _token_cache[hashed] = (moment + TOKEN_CACHE_SECONDS, viewer)
    return viewer


# --- memberships ---------------------------------------------------------------------


async def membership(user_id: uuid.UUID, org_id: uuid.UUID) -> Member:
    """The user's membership of an organisation; 404 (not 403) when there is none, so
    that outsiders cannot tell which organisations exist."""
    row = await fetchrow(_MEMBERSHIP_SQL, f"{user_id}:{org_id}")
    if row is None:
        raise not_found("Organisation")
    return Member(membership_id=row["id"], organisation_id=org_id, kind=row["kind"], role=row["role"], name=row["name"])


async def is_platform_admin(user_id: uuid.UUID) -> bool:
    return await Membership.exists().where(
        (Membership.user == user_id)
        & (Membership.organisation.kind == roles.PLATFORM)
        & (Membership.role == roles.ADMIN)
    )


async def list_members(org_id: uuid.UUID) -> list[dict]:
    return await Membership.select(
        Membership.id,
        Membership.user.as_alias("user_id"),
        Membership.user.email.as_alias("email"),
        Membership.user.display_name.as_alias("display_name"),
        Membership.role,
        Membership.created_at,
    ).where(Membership.organisation == org_id).order_by(Membership.created_at)


async def member_user_ids(org_id: uuid.UUID | list, *allowed_roles: str) -> list[uuid.UUID]:
    """The people of one organisation (or of several, in one query) with these roles."""
    org_ids = org_id if isinstance(org_id, list) else [org_id]
    if not org_ids:
        return []
    query = Membership.select(Membership.user).where(Membership.organisation.is_in(org_ids))
    if allowed_roles:
        query = query.where(Membership.role.is_in(list(allowed_roles)))
    return list(dict.fromkeys(row["user"] for row in await query))


def _check_role_for_kind(kind: str, role: str) -> None:
    if role not in roles.ROLES_BY_KIND[kind]:
        raise InvalidInput("role_not_in_kind", "A {kind} organisation's roles are: {roles}.",
                           params={"kind": Term(kind), "roles": Terms(roles.ROLES_BY_KIND[kind])})


async def change_member_role(viewer: Viewer, member: Member, membership_id: uuid.UUID, role: str) -> dict:
    """Owner changes a member's role; the last owner cannot be demoted. Audited."""
    _require_top_role(member)
    _check_role_for_kind(member.kind, role)
    async with atomic():
        target = await _member_row(member.organisation_id, membership_id)
        if target["role"] == role:
            return target
        await _keep_an_owner(member, target)
        await Membership.update({Membership.role: role}).where(Membership.id == membership_id)
        await audit.record(
            actor=viewer.user_id, organisation=member.organisation_id, object_type="membership",
            object_id=membership_id, action="role_changed", before={"role": target["role"]}, after={"role": role},
        )
        target["role"] = role
    return target


async def remove_member(viewer: Viewer, member: Member, membership_id: uuid.UUID) -> None:
    """Owner removes a member (or a member leaves); the last owner cannot. Audited."""
    async with atomic():
        target = await _member_row(member.organisation_id, membership_id)
        if target["user_id"] != viewer.user_id:
            _require_top_role(member)
        await _keep_an_owner(member, target)
        await Membership.delete().where(Membership.id == membership_id)
        await WebSession.update({WebSession.current_organisation: None}).where(
            (WebSession.user == target["user_id"]) & (WebSession.current_organisation == member.organisation_id)
        )
        await audit.record(
            actor=viewer.user_id, organisation=member.organisation_id, object_type="membership",
            object_id=membership_id, action="removed", before={"user": target["email"], "role": target["role"]},
        )


async def _member_row(org_id: uuid.UUID, membership_id: uuid.UUID) -> dict:
    row = await Membership.select(
        Membership.id, Membership.user.as_alias("user_id"), Membership.user.email.as_alias("email"),
        Membership.user.display_name.as_alias("display_name"), Membership.role, Membership.created_at,
    ).where((Membership.id == membership_id) & (Membership.organisation == org_id)).first()
    if row is None:
        raise not_found("Member")
    return row


async def _keep_an_owner(member: Member, target: dict) -> None:
    top = roles.TOP_ROLE[member.kind]
    if target["role"] == top:
        owners = await Membership.count().where(
            (Membership.organisation == member.organisation_id) & (Membership.role == top)
        )
        if owners <= 1:
            raise Conflict("last_owner", "An organisation needs at least one owner. Make someone else owner first.")


# --- invitations ---------------------------------------------------------------------

_INVITATION_COLUMNS = (
    Invitation.id, Invitation.email, Invitation.role, Invitation.created_at, Invitation.expires_at,
    Invitation.accepted_at, Invitation.revoked_at,
)


async def invite(viewer: Viewer, member: Member, email: str, role: str) -> dict:
    """Owner invites a person by e-mail with a role. Returns the invitation with its
    one-time accept link; an existing user is also notified in Fuwu. Audited."""
    _require_top_role(member)
    _check_role_for_kind(member.kind, role)
    email = _normalise_email(email)
    token, hashed = new_token("inv")
    async with atomic():
        invited = await User.select(User.id).where(User.email == email).first()
        if invited and await Membership.exists().where(
            (Membership.user == invited["id"]) & (Membership.organisation == member.organisation_id)
        ):
            raise Conflict("already_member", "This person is already a member of the organisation.")
        row = Invitation(
            organisation=member.organisation_id, email=email, role=role, token_hash=hashed,
            invited_by=viewer.user_id, expires_at=now() + datetime.timedelta(days=INVITATION_DAYS),
        )
        await row.save()
        await audit.record(
            actor=viewer.user_id, organisation=member.organisation_id, object_type="invitation", object_id=row.id,
            action="created", after={"email": email, "role": role},
        )
        if invited:
            await notifications.notify(
                [invited["id"]], kind="invitation", title=N_("You are invited to join {org} as {role}"),
                params={"org": member.name, "role": role}, link=f"/invitations/{token}",
                organisation=member.organisation_id,
            )
    result = await Invitation.select(*_INVITATION_COLUMNS).where(Invitation.id == row.id).first()
    result["accept_url"] = f"/invitations/{token}"
    return result


async def list_invitations(member: Member) -> list[dict]:
    _require_top_role(member)
    return await Invitation.select(*_INVITATION_COLUMNS).where(
        Invitation.organisation == member.organisation_id
    ).order_by(Invitation.created_at, ascending=False)


async def revoke_invitation(viewer: Viewer, member: Member, invitation_id: uuid.UUID) -> None:
    _require_top_role(member)
    async with atomic():
        row = await Invitation.select(Invitation.accepted_at, Invitation.revoked_at).where(
            (Invitation.id == invitation_id) & (Invitation.organisation == member.organisation_id)
        ).first()
        if row is None:
            raise not_found("Invitation")
        if row["accepted_at"] is not None:
            raise Conflict("invitation_accepted", "This invitation was already accepted; remove the member instead.")
        if row["revoked_at"] is None:
            await Invitation.update({Invitation.revoked_at: now()}).where(Invitation.id == invitation_id)
            await audit.record(
                actor=viewer.user_id, organisation=member.organisation_id, object_type="invitation",
                object_id=invitation_id, action="revoked",
            )


async def invitation_by_token(token: str) -> dict:
    row = await Invitation.select(
        *_INVITATION_COLUMNS, Invitation.organisation.as_alias("organisation_id"),
        Invitation.organisation.name.as_alias("organisation_name"),
    ).where(Invitation.token_hash == token_hash(token)).first()
    if row is None or row["revoked_at"] is not None or row["expires_at"] <= now():
        raise not_found("Invitation")
    return row


async def accept_invitation(viewer: Viewer, token: str) -> dict:
    """The signed-in person accepts an invitation sent to their e-mail and becomes a
    member with its role. Audited; the inviter is notified."""
    async with atomic():
        row = await invitation_by_token(token)
        if row["accepted_at"] is not None:
            raise Conflict("invitation_accepted", "This invitation was already accepted.")
        if row["email"] != viewer.email:
            raise Forbidden(
                "invitation_for_other_email",
                "This invitation was sent to another e-mail address. Log in with that address to accept it.",
            )
        if await Membership.exists().where(
            (Membership.user == viewer.user_id) & (Membership.organisation == row["organisation_id"])
        ):
            raise Conflict("already_member", "You are already a member of this organisation.")
        membership_id = await _add_member(row["organisation_id"], viewer.user_id, row["role"])
        await Invitation.update({Invitation.accepted_at: now()}).where(Invitation.id == row["id"])
        await audit.record(
            actor=viewer.user_id, organisation=row["organisation_id"], object_type="membership",
            object_id=membership_id, action="joined", after={"user": viewer.email, "role": row["role"]},
        )
        owners = await member_user_ids(row["organisation_id"], roles.OWNER, roles.ADMIN)
        await notifications.notify(
            owners, kind="member_joined", title=N_("{name} joined {org}"),
            params={"name": viewer.display_name, "org": row["organisation_name"]}, link="/org",
            organisation=row["organisation_id"],
        )
    return {"organisation_id": row["organisation_id"], "role": row["role"], "membership_id": membership_id}


# --- platform ------------------------------------------------------------------------

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
            row = User(email=email, display_name=display_name, password_hash=hash_password(password))
            await row.save()
            user_id = row.id
        else:
            user_id = user["id"]
            await User.update({User.password_hash: hash_password(password)}).where(User.id == user_id)
        if not await Membership.exists().where((Membership.user == user_id) & (Membership.organisation == platform_id)):
            await _add_member(platform_id, user_id, roles.ADMIN)
            await audit.record(
                actor=None, organisation=platform_id, object_type="membership", object_id=user_id,
                action="admin_created", after={"email": email},
            )
    return await get_user(user_id)


async def list_organisations(kind: str | None, cursor: str | None, limit: int):
    from fuwu.pagination import paginate

    query = Organisation.select(*ORG_COLUMNS).output(load_json=True)
    if kind:
        query = query.where(Organisation.kind == kind)
    return await paginate(query, Organisation.created_at, Organisation.id, cursor, limit)


async def list_providers(category: str | None, province: str | None, cursor: str | None, limit: int):
    """The public directory of providers, newest first, by category and province."""
    from fuwu.pagination import paginate

    query = Organisation.select(
        Organisation.id, Organisation.name, Organisation.province, Organisation.city, Organisation.categories,
        Organisation.profile, Organisation.created_at,
    ).where(Organisation.kind == roles.PROVIDER).output(load_json=True)
    if province:
        query = query.where(Organisation.province == province)
    if category:
        # Categories are a short JSON list; a LIKE on its text works on both engines.
        query = query.where(category_filter(category))
    return await paginate(query, Organisation.created_at, Organisation.id, cursor, limit)


def category_filter(category: str):
    """Providers listed in a category. Categories are a short JSON list; its text is
    matched on both engines (PostgreSQL needs the cast from json)."""
    from piccolo.columns.combination import WhereRaw

    return WhereRaw("CAST(fuwu_organisation.categories AS TEXT) LIKE {}", f'%"{category}"%')


async def provider_profile(org_id: uuid.UUID) -> dict:
    row = await Organisation.select(
        Organisation.id, Organisation.name, Organisation.province, Organisation.city, Organisation.categories,
        Organisation.profile,
    ).where((Organisation.id == org_id) & (Organisation.kind == roles.PROVIDER)).output(load_json=True).first()
    if row is None:
        raise not_found("Provider")
    return row


async def purge_expired() -> dict:
    """Scheduled: deletes expired sessions, old failed log-ins and day-old idempotency
    records. Safe to run twice."""
    from fuwu.tables import IdempotencyRecord

    moment = now()
    sessions = await WebSession.delete().where(WebSession.expires_at < moment).returning(WebSession.id)
    attempts = await LoginAttempt.delete().where(LoginAttempt.at < moment - datetime.timedelta(hours=1)).returning(
        LoginAttempt.id
    )
    keys = await IdempotencyRecord.delete().where(
        IdempotencyRecord.created_at < moment - datetime.timedelta(days=1)
    ).returning(IdempotencyRecord.id)
    return {"sessions": len(sessions), "login_attempts": len(attempts), "idempotency_keys": len(keys)}
