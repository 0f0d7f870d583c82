"""Chat pages: a sample shop page with the buyer widget, the agent console, and the
list and transcripts of an organisation's conversations. Live traffic goes over the
WebSocket (chat/PROTOCOL.md); the pages' scripts are chat/static/*.js (no inline
script: the pages run under a Content-Security-Policy with script-src 'self')."""

from __future__ import annotations

import datetime
import uuid
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from litestar import Request, get
from litestar.params import FromPath, QueryParameter
from litestar.response import Template

from chat import states
from chat.errors import ChatError
from chat.services import browse, canned, conversations
from chat.services.presence import SEAT_ROLES
from fuwu.errors import InvalidInput, not_found
from fuwu.i18n import N_
from fuwu.pages import page_viewer, render, require_member
from fuwu.services import accounts
from sla.services import contracts

PAGE_SIZE = 25
TRANSCRIPT_PAGE = 50

# The sample shop's products: what a shop page around the widget looks like.
SAMPLE_PRODUCTS = (
    (N_("Silk scarf, spring print"), 12900),
    (N_("Linen shirt, relaxed fit"), 25900),
    (N_("Leather card holder"), 8900),
    (N_("Ceramic tea set for two"), 19900),
)


def _zone(viewer) -> ZoneInfo:
    try:
        return ZoneInfo(viewer.timezone or "Asia/Shanghai")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("Asia/Shanghai")


@get("/shops/{shop_id:uuid}", include_in_schema=False)
async def shop_page(request: Request, shop_id: FromPath[uuid.UUID]) -> Template:
    """A sample shop page (public): the merchant's name, a few products, and the chat
    widget embedded with the one script tag a shop pastes."""
    shop = await accounts.get_organisation(shop_id)
    if shop["kind"] != "merchant":
        raise not_found("Shop")
    return await render(request, "chat/shop.html", shop=shop, products=SAMPLE_PRODUCTS)


@get("/console", include_in_schema=False)
async def console_page(request: Request) -> Template:
    """The agent console: presence, the queue, my conversations, the open one."""
    viewer = page_viewer(request)
    member = await require_member(viewer, *SEAT_ROLES)
    served_by = None
    if member.kind == "merchant":
        contract = await contracts.serving_contract(member.organisation_id)
        if contract is not None:  # the provider's agents serve the shop's buyers
            served_by = (await accounts.get_organisation(contract["provider_id"]))["name"]
    return await render(request, "chat/console.html", org_id=member.organisation_id,
                        can_edit_replies=canned.can_edit(member), served_by=served_by)


def _day(text: str | None, zone: ZoneInfo, field: str) -> datetime.datetime | None:
    if not text:
        return None
    try:
        day = datetime.date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(ChatError.MALFORMED, N_("Give the {field} date as YYYY-MM-DD."),
                           params={"field": field}) from None
    return datetime.datetime.combine(day, datetime.time(), tzinfo=zone)


@get("/conversations", include_in_schema=False)
async def conversations_page(
        request: Request,
        status: Annotated[str | None, QueryParameter(name="status", max_length=20)] = None,
        agent: Annotated[str | None, QueryParameter(name="agent", max_length=40)] = None,
        opened_from: Annotated[str | None, QueryParameter(name="from", max_length=10)] = None,
        opened_to: Annotated[str | None, QueryParameter(name="to", max_length=10)] = None,
        cursor: Annotated[str | None, QueryParameter(name="cursor", max_length=200)] = None) -> Template:
    """The organisation's conversations: a merchant's of its shop, a provider's of the
    shops it serves; filtered by status, agent and the days they opened."""
    viewer = page_viewer(request)
    member = await require_member(viewer)
    zone = _zone(viewer)
    try:
        agent_id = uuid.UUID(agent) if agent else None
    except ValueError:
        raise InvalidInput(ChatError.MALFORMED, N_("Choose an agent from the list.")) from None
    start = _day(opened_from, zone, "from")
    end = _day(opened_to, zone, "to")
    page = await browse.conversations(member.organisation_id, status=status or None, agent=agent_id,
                                      opened_from=start,
                                      opened_before=end + datetime.timedelta(days=1) if end else None,
                                      cursor=cursor, limit=PAGE_SIZE)
    filters = {"status": status or "", "agent": agent or "", "from": opened_from or "", "to": opened_to or ""}
    return await render(request, "chat/conversations.html", page=page, filters=filters,
                        agents=await browse.agents(member.organisation_id),
                        statuses=states.CONVERSATION_STATUSES, status_label=states.CONVERSATION_STATUSES.label)


@get("/conversations/{conversation_id:uuid}", include_in_schema=False)
async def transcript_page(request: Request, conversation_id: FromPath[uuid.UUID],
                          before_seq: Annotated[int | None, QueryParameter(name="before_seq", ge=1)] = None) -> Template:
    """One conversation's transcript, a page of 50 messages at a time (older pages by
    `before_seq`)."""
    viewer = page_viewer(request)
    member = await require_member(viewer)
    participant = conversations.participant_for(viewer, member)
    conversation = await conversations.visible(participant, conversation_id)
    rows, older = await conversations.messages_before(participant, conversation_id, before_seq, TRANSCRIPT_PAGE)
    return await render(request, "chat/transcript.html", conversation=conversation, messages=rows, older=older,
                        newer=before_seq is not None, status_label=states.CONVERSATION_STATUSES.label)


ROUTES: list = [shop_page, console_page, conversations_page, transcript_page]
