"""Chat over HTTP: the widget's visitor token, conversation lists and transcripts,
agents' seats. Live messages go over the WebSocket (chat/socket.py, chat/PROTOCOL.md)."""

from __future__ import annotations

import os
import uuid
from typing import Annotated

from litestar import Controller, Request, delete, get, post, put
from litestar.datastructures import ResponseHeader
from litestar.params import FromPath, JSONBody, QueryParameter

from chat import limits, visitors
from chat.errors import ChatError
from chat.schemas import (CannedReplyCreate, CannedReplyRead, ConversationRead, MessagePage, SeatRead, SeatUpdate,
                          VisitorToken)
from chat.services import canned, conversations, presence
from fuwu import api_contract
from fuwu.api import MEMBER, Cursor, IdempotencyKey, Limit, page_of, to
from fuwu.auth import MemberDep, ViewerDep, requires_user
from fuwu.errors import InvalidInput, TooManyRequests, not_found
from fuwu.i18n import N_
from fuwu.pagination import DEFAULT_LIMIT, Page

from fuwu.services import accounts, idempotency



def tokens_per_minute() -> int:
    """Visitor tokens an address may get a minute (FUWU_VISITOR_TOKENS_PER_MINUTE, 30)."""
    return int(os.environ.get("FUWU_VISITOR_TOKENS_PER_MINUTE", "30"))


# Public and without credentials: the widget on a shop's own site may fetch it from any origin.
@get("/api/v1/shops/{shop_id:uuid}/visitor-token", tags=["chat"],
     response_headers=[ResponseHeader(name="Access-Control-Allow-Origin", value="*")])
async def visitor_token(request: Request, shop_id: FromPath[uuid.UUID],
                        visitor: Annotated[str | None, QueryParameter(min_length=8, max_length=64)] = None,
                        ) -> VisitorToken:
    """A signed, expiring token for a buyer of the shop to chat (the widget asks for it with the visitor id it
    keeps in the browser). Public; at most 30 a minute per address."""
    wait = await limits.hit(f"visitor:{request.client.host if request.client else '-'}", tokens_per_minute(), 60)
    if wait is not None:
        raise TooManyRequests("too_many_requests", N_("Too many chats opened from here. Try again in a minute."),
                              retry_after=wait)
    visitor = visitor or f"v-{uuid.uuid4().hex}"  # a new visitor: the widget keeps the id it is given
    if not visitors.valid_visitor_id(visitor):
        raise InvalidInput(ChatError.VISITOR, N_("The visitor id is 8 to 64 letters, digits, - or _."))
    shop = await accounts.get_organisation(shop_id)
    if shop["kind"] != "merchant":
        raise not_found("Shop")
    token, expires = visitors.issue(shop_id, visitor)
    return VisitorToken(token=token, expires_at=expires, websocket=f"/ws/chat?visitor_token={token}", visitor=visitor)


class ConversationController(Controller):
    path = "/api/v1/orgs/{org_id:uuid}/conversations"
    tags = ["chat"]
    guards = [requires_user]
    dependencies = MEMBER

    @get()
    async def list_conversations(self, viewer: ViewerDep, member: MemberDep, cursor: Cursor = None,
                                 limit: Limit = DEFAULT_LIMIT,
                                 status: Annotated[str | None, QueryParameter(max_length=20)] = None,
                                 mine: Annotated[bool, QueryParameter()] = False,
                                 buyer: Annotated[str | None, QueryParameter(max_length=100)] = None,
                                 ) -> Page[ConversationRead]:
        """The organisation's conversations, newest first (a merchant's shop conversations; those a provider
        serves; `mine` for your own), by status and buyer, each with its unread count."""
        page = await conversations.list_for(member, status=status, mine_only_for=viewer.user_id if mine else None,
                                            buyer=buyer, cursor=cursor, limit=limit)
        return page_of(ConversationRead, page)

    @get("/{conversation_id:uuid}")
    async def read_conversation(self, viewer: ViewerDep, member: MemberDep,
                                conversation_id: FromPath[uuid.UUID]) -> ConversationRead:
        """One conversation of the organisation."""
        row = await conversations.visible(conversations.participant_for(viewer, member), conversation_id)
        return to(ConversationRead, {**row, "unread": max(0, int(row["seq"]) - int(row["agent_read"]))})

    @get("/{conversation_id:uuid}/messages")
    async def transcript(self, viewer: ViewerDep, member: MemberDep, conversation_id: FromPath[uuid.UUID],
                         cursor: Cursor = None, limit: Limit = 50) -> MessagePage:
        """A page of the transcript, oldest first within the page; pass next_cursor as cursor for the page before."""
        before_seq = None
        if cursor is not None:
            if not cursor.isdigit():
                raise InvalidInput("invalid_cursor", N_("This cursor is not valid: start again from the first page."))
            before_seq = int(cursor)
        rows, before = await conversations.messages_before(conversations.participant_for(viewer, member),
                                                           conversation_id, before_seq, limit)
        return MessagePage(items=[to_message(row) for row in rows],
                           next_cursor=str(before) if before is not None else None)


def to_message(row: dict):
    from chat.schemas import MessageRead

    return to(MessageRead, conversations.frame(row))


class SeatController(Controller):
    path = "/api/v1/orgs/{org_id:uuid}/seats"
    tags = ["chat"]
    guards = [requires_user]
    dependencies = MEMBER

    @get()
    async def list_seats(self, member: MemberDep) -> list[SeatRead]:
        """The organisation's agents' chat seats: capacity, load and presence (a bounded list: one per member)."""
        return [to(SeatRead, row) for row in await presence.seats(member.organisation_id)]

    @put("/{user_id:uuid}")
    async def set_capacity(self, viewer: ViewerDep, member: MemberDep, user_id: FromPath[uuid.UUID],
                           data: JSONBody[SeatUpdate]) -> SeatRead:
        """The owner or a manager sets how many conversations an agent serves at once (0 to 50)."""
        await presence.set_capacity(viewer.user_id, member, user_id, data.capacity)
        rows = [row for row in await presence.seats(member.organisation_id) if row["user"] == user_id]
        return to(SeatRead, rows[0])


class CannedReplyController(Controller):
    path = "/api/v1/orgs/{org_id:uuid}/canned-replies"
    tags = ["chat"]
    guards = [requires_user]
    dependencies = MEMBER

    @get()
    async def list_canned_replies(self, member: MemberDep) -> list[CannedReplyRead]:
        """The organisation's canned replies by title (at most 200), for every member."""
        return [to(CannedReplyRead, row) for row in await canned.list_replies(member)]

    @post()
    async def add_canned_reply(self, request: Request, viewer: ViewerDep, member: MemberDep,
                               data: JSONBody[CannedReplyCreate],
                               idempotency_key: IdempotencyKey = None) -> CannedReplyRead:
        """The owner or a manager (an operator for a merchant) adds a canned reply. Send an Idempotency-Key
        to retry safely."""
        body = await request.body()

        async def create() -> CannedReplyRead:
            return to(CannedReplyRead, await canned.add_reply(viewer.user_id, member, data.title, data.text))

        result, _ = await idempotency.run_once(viewer.user_id, idempotency_key,
                                               idempotency.fingerprint("POST", request.url.path, body), create,
                                               CannedReplyRead)
        return result

    @delete("/{reply_id:uuid}")
    async def remove_canned_reply(self, viewer: ViewerDep, member: MemberDep, reply_id: FromPath[uuid.UUID]) -> None:
        """The owner or a manager removes a canned reply."""
        await canned.remove_reply(viewer.user_id, member, reply_id)


ROUTES = api_contract.document([visitor_token, ConversationController, SeatController, CannedReplyController],
                               extra={"visitor_token": (429,)})  # the per-address limit



# --- a buyer's transcripts on request: export and erasure (chat.services.retention) ---------

import datetime  # noqa: E402
from typing import Literal  # noqa: E402

import msgspec  # noqa: E402
from litestar.params import Parameter  # noqa: E402
from msgspec import Meta  # noqa: E402

from chat.services import retention  # noqa: E402


class ExportedMessage(msgspec.Struct):
    seq: int
    sender: Literal["buyer", "agent", "member", "system"]
    text: Annotated[str, Meta(description="As typed; `[erased]` once erased.")]
    at: datetime.datetime
    erased: bool


class ExportedConversation(msgspec.Struct):
    id: uuid.UUID
    status: Literal["queued", "assigned", "closed"]
    opened_at: datetime.datetime
    closed_at: datetime.datetime | None
    rating: int | None
    rating_comment: str
    messages: list[ExportedMessage]


class BuyerExport(msgspec.Struct):
    shop: uuid.UUID
    buyer: str
    exported_at: datetime.datetime
    conversations: list[ExportedConversation]


class BuyerErasure(msgspec.Struct):
    buyer: str
    conversations: Annotated[int, Meta(description="The buyer's conversations with the shop.")]
    erased: Annotated[int, Meta(description="Message texts erased now (those erased before are not counted).")]


VisitorPath = Annotated[str, Parameter(min_length=8, max_length=64)]


def _visitor(visitor: str) -> str:
    if not visitors.valid_visitor_id(visitor):
        raise InvalidInput(ChatError.VISITOR, N_("The visitor id is 8 to 64 letters, digits, - or _."))
    return visitor


class BuyerMessagesController(Controller):
    """A buyer's transcripts with the shop, on request: exported or erased."""

    path = "/api/v1/orgs/{org_id:uuid}/buyers/{visitor:str}/messages"
    tags = ["chat"]
    guards = [requires_user]
    dependencies = MEMBER

    @get()
    async def export_buyer_messages(self, member: MemberDep, visitor: FromPath[VisitorPath]) -> BuyerExport:
        """Every conversation of the buyer (by visitor id) with this shop and all its messages, as JSON, for a
        buyer who asks for their data. The shop's owner or an operator."""
        return to(BuyerExport, await retention.export_buyer(member, _visitor(visitor)))

    @delete(status_code=200)
    async def erase_buyer_messages(self, viewer: ViewerDep, member: MemberDep,
                                   visitor: FromPath[VisitorPath]) -> BuyerErasure:
        """Erases the buyer's transcripts with this shop on request: every message text (the buyer's and the
        replies) and rating comment becomes `[erased]`; the messages' order and times, the ratings and the SLA
        figures stay. Audited. The shop's owner or an operator."""
        return to(BuyerErasure, await retention.erase_buyer(viewer.user_id, member, _visitor(visitor)))


ROUTES = [*ROUTES, *api_contract.document([BuyerMessagesController])]
