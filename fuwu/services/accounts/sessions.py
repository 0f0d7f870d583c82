"""Log-in and web sessions, and the housekeeping that purges what has expired."""

from __future__ import annotations

import asyncio
import datetime
import hashlib
import math
import uuid

from fuwu import sql
from fuwu.clock import now
from fuwu.db import atomic, fetch, fetchrow, is_postgres
from fuwu.errors import InvalidInput, NotAuthenticated, TooManyRequests
from fuwu.security import new_token, token_hash, verify_password_off_loop
from fuwu.services.accounts.members import membership
from fuwu.services.accounts.people import _normalise_email, get_user
from fuwu.services.accounts.viewer import Viewer
from fuwu.settings import get_settings
from fuwu.tables import LoginAttempt, SignUpAttempt, User, WebSession

# Failed log-ins on one account, from any address, within this window slow its next
# log-ins down: past the first few, each failure doubles the wait.
ACCOUNT_WINDOW = datetime.timedelta(minutes=15)
FREE_FAILURES = 5
FIRST_DELAY_SECONDS = 0.25
ADDRESS_WINDOW = datetime.timedelta(minutes=1)


async def authenticate(email: str, password: str, ip: str) -> dict:
    """Checks a password; attempts are counted in the database, so every process
    sees the same counts.

    The address's recent attempts are counted and this one written in one
    transaction that holds the address (`_record_attempt`): of any number of
    concurrent attempts at most the limit get a verdict, the rest 429 with
    Retry-After (a count outside it let 17 of 30 concurrent guesses through a limit
    of 10). Limits are per (address, account) and per address, so nobody can lock
    someone else out of their account; an account failed on from many addresses is
    slowed down instead: its log-ins wait longer and longer (up to
    `login_slowdown_max_seconds`), the right password too, and then succeed. A
    successful attempt is forgotten; a failed one stays counted.
    """
    email = _normalise_email(email)[:254]
    ip = ip[:64]
    settings = get_settings()
    attempt_id = await _record_attempt(email, ip, settings)
    try:
        delay = await _slowdown(attempt_id, email, settings)
    except BaseException:
        await LoginAttempt.delete().where(LoginAttempt.id == attempt_id)
        raise
    if delay:
        await asyncio.sleep(delay)
    user = await User.select(User.id, User.password_hash, User.is_active).where(User.email == email).first()
    right = await verify_password_off_loop(user["password_hash"] if user else None, password)
    if not right or not user["is_active"]:
        raise NotAuthenticated("wrong_credentials", "Wrong e-mail or password. Check both and try again.")
    await LoginAttempt.delete().where(LoginAttempt.id == attempt_id)
    return await get_user(user["id"])


# Advisory lock space of "one address's attempts being counted" (PostgreSQL).
ADDRESS_LOCK_SPACE = 7401


def address_lock_key(ip: str) -> tuple[int, int]:
    return ADDRESS_LOCK_SPACE, int.from_bytes(hashlib.sha256(ip.encode()).digest()[:4], "big", signed=True)


async def hold_address(ip: str) -> None:
    """In a transaction: waits until no other transaction counts attempts from this
    address (SQLite's IMMEDIATE transaction already holds the whole database)."""
    if is_postgres():
        await fetch(sql.HOLD_ADDRESS, *address_lock_key(ip))


async def _record_attempt(email: str, ip: str, settings) -> uuid.UUID:
    """Counts the address's recent attempts and writes this one, in one transaction
    holding the address: of any number of concurrent attempts exactly those within
    the limits are written and judged, the others answer 429 with Retry-After."""
    async with atomic():
        await hold_address(ip)
        since = now() - ADDRESS_WINDOW
        recent = (LoginAttempt.ip == ip) & (LoginAttempt.at > since)
        for where, limit in ((recent & (LoginAttempt.email == email), settings.login_attempts_per_minute),
                             (recent, settings.login_attempts_per_address_per_minute)):
            count = await LoginAttempt.count().where(where)
            if count >= limit:
                wait = await _seconds_until_free(where, count, limit)
                raise TooManyRequests(
                    "too_many_login_attempts",
                    "Too many failed log-ins from your address. Wait {seconds} seconds, then try again.",
                    params={"seconds": wait}, retry_after=wait)
        rows = await LoginAttempt.insert(LoginAttempt(email=email, ip=ip, at=now())).returning(LoginAttempt.id)
    return rows[0]["id"]


async def _seconds_until_free(where, count: int, limit: int) -> int:
    """Seconds until enough of the counted attempts leave the window for one more."""
    row = await LoginAttempt.select(LoginAttempt.at).where(where).order_by(LoginAttempt.at).offset(
        count - limit).first()
    if row is None:
        return 1
    return max(1, math.ceil((row["at"] + ADDRESS_WINDOW - now()).total_seconds()))


async def _slowdown(attempt_id: uuid.UUID, email: str, settings) -> float:
    failures = await LoginAttempt.count().where(
        (LoginAttempt.email == email) & (LoginAttempt.at > now() - ACCOUNT_WINDOW) & (LoginAttempt.id != attempt_id))
    if failures < FREE_FAILURES:
        return 0.0
    return min(settings.login_slowdown_max_seconds, FIRST_DELAY_SECONDS * 2 ** min(failures - FREE_FAILURES, 16))


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
    """The person behind a session cookie, or None for an unknown, expired or
    deactivated one. Every page a signed-in person opens runs it: one hand-written
    statement (see fuwu.sql), where Piccolo's query builder cost more than the database."""
    row = await fetchrow(sql.VIEWER_BY_SESSION_HASH, token_hash(token))
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
    """Scheduled: deletes expired sessions, old failed log-ins and sign-up attempts, and
    day-old idempotency records. Safe to run twice."""
    from fuwu.tables import IdempotencyRecord

    moment = now()
    sessions = await WebSession.delete().where(WebSession.expires_at < moment).returning(WebSession.id)
    attempts = await LoginAttempt.delete().where(LoginAttempt.at < moment - datetime.timedelta(hours=1)).returning(
        LoginAttempt.id
    )
    sign_ups = await SignUpAttempt.delete().where(SignUpAttempt.at < moment - datetime.timedelta(hours=1)).returning(
        SignUpAttempt.id
    )
    keys = await IdempotencyRecord.delete().where(
        IdempotencyRecord.created_at < moment - datetime.timedelta(days=1)
    ).returning(IdempotencyRecord.id)
    return {"sessions": len(sessions), "login_attempts": len(attempts), "sign_up_attempts": len(sign_ups),
            "idempotency_keys": len(keys)}
