"""Reading conversations for the pages: a merchant's view of every conversation of its
shop, and a provider's of those it serves, filtered by status, agent and the day they
opened (a cursor page, newest first)."""

from __future__ import annotations

import datetime
import uuid

from chat import states
from chat.errors import ChatError
from chat.services.conversations import CONVERSATION_COLUMNS, unread
from chat.tables import Conversation
from fuwu.errors import InvalidInput
from fuwu.i18n import N_
from fuwu.pagination import Page, paginate

MAX_AGENTS = 200  # the agent filter's choices


def _of(org_id: uuid.UUID):
    return (Conversation.shop == org_id) | (Conversation.provider == org_id)


async def conversations(org_id: uuid.UUID, *, status: str | None = None, agent: uuid.UUID | None = None,
                        opened_from: datetime.datetime | None = None, opened_before: datetime.datetime | None = None,
                        buyer: str | None = None, kind: str | None = None, cursor: str | None = None,
                        limit: int = 25) -> Page:
    """The organisation's conversations (its shop's, or those it serves), newest first."""
    if status and status not in states.CONVERSATION_STATUSES:
        raise InvalidInput(ChatError.MALFORMED, N_("Unknown conversation status {status}."),
                           params={"status": str(status)[:20]})
    query = Conversation.select(*CONVERSATION_COLUMNS).where(_of(org_id))
    if status:
        query = query.where(Conversation.status == status)
    if agent is not None:
        query = query.where(Conversation.agent == agent)
    if opened_from is not None:
        query = query.where(Conversation.opened_at >= opened_from)
    if opened_before is not None:
        query = query.where(Conversation.opened_at < opened_before)
    if buyer:
        query = query.where(Conversation.buyer == buyer)
    if kind:
        if kind not in states.CONVERSATION_KINDS:
            raise InvalidInput(ChatError.MALFORMED, N_("Unknown conversation kind {kind}."),
                               params={"kind": str(kind)[:20]})
        query = query.where(Conversation.kind == kind)
    page = await paginate(query, Conversation.opened_at, Conversation.id, cursor, limit)
    for row in page.items:
        row["unread"] = unread(row, org_id)
    return page


async def agents(org_id: uuid.UUID) -> list[dict]:
    """The people who served the organisation's conversations, by name (the agent filter)."""
    rows = await Conversation.select(Conversation.agent.as_alias("id"),
                                     Conversation.agent.display_name.as_alias("name")).where(
        _of(org_id) & Conversation.agent.is_not_null()).distinct().limit(MAX_AGENTS)
    return sorted(rows, key=lambda row: (row["name"] or "").lower())
