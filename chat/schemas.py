"""What the chat API reads and writes."""

from __future__ import annotations

import datetime
import uuid
from typing import Annotated, Literal

import msgspec
from msgspec import Meta


class VisitorToken(msgspec.Struct):
    token: str
    expires_at: Annotated[int, Meta(description="When the token expires, in seconds since 1970 (UTC).")]
    websocket: Annotated[str, Meta(description="The path to open the chat WebSocket with this token.")]
    visitor: Annotated[str, Meta(description="The visitor id the token is for: the one sent, or a new one to keep.")]


class ConversationRead(msgspec.Struct):
    id: uuid.UUID
    kind: Annotated[Literal["shop", "business"], Meta(
        description="shop: a buyer and the shop; business: the merchant and a provider about a tender or a contract")]
    shop_id: uuid.UUID
    shop_name: str
    provider_id: uuid.UUID | None
    contract_id: uuid.UUID | None
    buyer: str | None
    agent_id: uuid.UUID | None
    agent_name: str | None
    status: Literal["queued", "assigned", "closed"]
    seq: Annotated[int, Meta(description="The last message's sequence number.")]
    epoch: int
    buyer_read: int
    agent_read: int
    opened_at: datetime.datetime
    queued_at: datetime.datetime | None
    assigned_at: datetime.datetime | None
    closed_at: datetime.datetime | None
    rating: int | None
    rating_comment: str
    unread: int = 0
    tender_id: Annotated[uuid.UUID | None, Meta(description="A business conversation's tender.")] = None


class MessageRead(msgspec.Struct):
    type: str
    conversation: uuid.UUID
    seq: int
    epoch: int
    id: uuid.UUID
    client_id: str
    sender: Literal["buyer", "agent", "member", "system", "merchant", "provider"]
    sender_id: uuid.UUID | None
    text: str
    at: datetime.datetime


class MessagePage(msgspec.Struct):
    items: list[MessageRead]
    next_cursor: Annotated[str | None, Meta(description="Pass as cursor for the older page; null at the start.")]


class SeatRead(msgspec.Struct):
    user: uuid.UUID
    name: str
    capacity: int
    load: int
    presence: Literal["online", "away", "offline"]
    last_seen: datetime.datetime | None


class SeatUpdate(msgspec.Struct, forbid_unknown_fields=True):
    capacity: Annotated[int, Meta(ge=0, le=50, description="Conversations the agent serves at once.")]


class CannedReplyCreate(msgspec.Struct, forbid_unknown_fields=True):
    title: Annotated[str, Meta(min_length=1, max_length=100, description="What agents pick it by.")]
    text: Annotated[str, Meta(min_length=1, max_length=4000, description="The reply, sent as typed.")]


class CannedReplyRead(msgspec.Struct):
    id: uuid.UUID
    title: str
    text: str
    created_at: datetime.datetime
