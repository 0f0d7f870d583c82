"""API tokens: creating, listing and revoking them, and finding the viewer behind one.

The per-process token cache lives here and nowhere else."""

from __future__ import annotations

import datetime
import uuid

from fuwu.clock import now
from fuwu.db import atomic, fetch, fetchrow
from fuwu.errors import not_found
from fuwu.security import new_token, token_hash
from fuwu.services import audit
from fuwu.services.accounts.viewer import Viewer
from fuwu.tables import ApiToken

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
