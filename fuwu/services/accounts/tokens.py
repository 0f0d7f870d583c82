"""API tokens: creating, listing and revoking them, and finding the viewer behind one.

No cache: every request reads its token from the database (one indexed statement),
so a revoked token or a deactivated person stops working in every process at once."""

from __future__ import annotations

import datetime
import uuid

from fuwu import sql
from fuwu.clock import now
from fuwu.db import atomic, fetch, fetchrow
from fuwu.errors import not_found
from fuwu.security import new_token, token_hash
from fuwu.services import audit
from fuwu.services.accounts.viewer import Viewer
from fuwu.tables import ApiToken



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


async def viewer_from_token(token: str) -> Viewer | None:
    """The person behind a token, or None for an unknown, revoked or deactivated one.
    Every API request runs it: one hand-written statement (see fuwu.sql)."""
    row = await fetchrow(sql.VIEWER_BY_TOKEN_HASH, token_hash(token))
    viewer = None
    if row is not None and row["revoked_at"] is None and row["is_active"]:
        viewer = Viewer(
            user_id=row["user_id"], email=row["email"], display_name=row["display_name"], locale=row["locale"],
            timezone=row["timezone"], via="token",
        )
        last = row["last_used_at"]
        if last is None or now() - last > datetime.timedelta(minutes=10):
            await fetch(sql.TOUCH_TOKEN, row["id"], now())
    return viewer
