"""Log-in and web sessions, and the housekeeping that purges what has expired."""

from __future__ import annotations

import datetime
import uuid

from fuwu.clock import now
from fuwu.errors import InvalidInput, NotAuthenticated, TooManyRequests
from fuwu.security import new_token, token_hash, verify_password
from fuwu.services.accounts.members import membership
from fuwu.services.accounts.people import _normalise_email, get_user
from fuwu.services.accounts.viewer import Viewer
from fuwu.settings import get_settings
from fuwu.tables import LoginAttempt, User, WebSession

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
