"""Notifications: stored per user, pushed live to connected users after commit.

Title and body are English message ids with parameters; each reader sees them in
their own language. The live push is a hook that the chat domain wires at start-up
(a lower layer cannot import it); without it notifications are still stored and shown.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterable

from fuwu.clock import now
from fuwu.db import after_commit
from fuwu.jsonable import jsonable
from fuwu.pagination import Page, paginate
from fuwu.tables import Notification

Pusher = Callable[[uuid.UUID, dict], Awaitable[None]]
_pushers: list[Pusher] = []


def register_pusher(pusher: Pusher) -> None:
    _pushers.append(pusher)


async def notify(
    user_ids: Iterable[uuid.UUID],
    *,
    kind: str,
    title: str,
    body: str = "",
    params: dict | None = None,
    link: str = "",
    organisation: uuid.UUID | None = None,
) -> None:
    """Stores one notification per user (inside the caller's transaction) and pushes
    each live once the transaction commits."""
    rows = [
        Notification(
            user=user_id,
            organisation=organisation,
            kind=kind,
            title=title,
            body=body,
            params=jsonable(params or {}),
            link=link,
        )
        for user_id in dict.fromkeys(user_ids)
    ]
    if not rows:
        return
    await Notification.insert(*rows)
    if _pushers:
        payloads = [(row.user, {"type": "notification", "id": str(row.id), "kind": kind, "link": link}) for row in rows]

        async def push() -> None:
            for user_id, payload in payloads:
                for pusher in _pushers:
                    await pusher(user_id, payload)

        after_commit(push)


async def list_for_user(user_id: uuid.UUID, cursor: str | None, limit: int, unread_only: bool = False) -> Page:
    query = Notification.select(
        Notification.id,
        Notification.kind,
        Notification.title,
        Notification.body,
        Notification.params,
        Notification.link,
        Notification.created_at,
        Notification.read_at,
    ).where(Notification.user == user_id)
    if unread_only:
        query = query.where(Notification.read_at.is_null())
    return await paginate(query.output(load_json=True), Notification.created_at, Notification.id, cursor, limit)


async def unread_count(user_id: uuid.UUID) -> int:
    return await Notification.count().where((Notification.user == user_id) & Notification.read_at.is_null())


async def mark_read(user_id: uuid.UUID, notification_id: uuid.UUID) -> bool:
    """Marks one of the user's notifications read; False when it is not theirs."""
    exists = await Notification.exists().where((Notification.id == notification_id) & (Notification.user == user_id))
    if not exists:
        return False
    await Notification.update({Notification.read_at: now()}).where(
        (Notification.id == notification_id) & Notification.read_at.is_null()
    )
    return True


async def mark_all_read(user_id: uuid.UUID) -> int:
    count = await unread_count(user_id)
    await Notification.update({Notification.read_at: now()}).where(
        (Notification.user == user_id) & Notification.read_at.is_null()
    )
    return count
