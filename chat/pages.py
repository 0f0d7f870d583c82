"""Chat pages: a sample shop page with the buyer widget, the agent console, and the
list and transcripts of an organisation's conversations. Live traffic goes over the
WebSocket (chat/PROTOCOL.md); the pages' scripts are chat/static/*.js (no inline
script: the pages run under a Content-Security-Policy with script-src 'self')."""

from __future__ import annotations

import datetime
import uuid
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from litestar import Request, get, post
from litestar.response import Redirect
from litestar.params import FromPath, QueryParameter
from litestar.response import Template

from chat import states
from chat.errors import ChatError
from chat.services import browse, business, canned, conversations
from chat.services.presence import SEAT_ROLES
from fuwu.errors import FuwuError, InvalidInput, not_found
from fuwu.i18n import N_
from fuwu.pages import page_viewer, render, require_member
from fuwu.services import accounts
from bids.services import evaluation
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
        kind: Annotated[str | None, QueryParameter(name="kind", max_length=20)] = None,
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
                                      kind=kind or None, cursor=cursor, limit=PAGE_SIZE)
    filters = {"status": status or "", "agent": agent or "", "from": opened_from or "", "to": opened_to or "",
               "kind": kind or ""}
    return await render(request, "chat/conversations.html", page=page, filters=filters,
                        agents=await browse.agents(member.organisation_id),
                        statuses=states.CONVERSATION_STATUSES, status_label=states.CONVERSATION_STATUSES.label,
                        kinds=states.CONVERSATION_KINDS, kind_label=states.CONVERSATION_KINDS.label,
                        org_id=member.organisation_id)


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
    live = conversation["kind"] == states.BUSINESS and before_seq is None
    return await render(request, "chat/transcript.html", conversation=conversation, messages=rows, older=older,
                        newer=before_seq is not None, status_label=states.CONVERSATION_STATUSES.label,
                        live=live, side=business.side(conversation, member.organisation_id),
                        last_seq=int(rows[-1]["seq"]) if rows else 0)


# --- business conversations: opened from the tender page and the contract page -----------


@post("/tenders/{tender_id:uuid}/conversations", include_in_schema=False)
async def open_tender_conversation(request: Request, tender_id: FromPath[uuid.UUID]) -> Redirect:
    """Opens (or finds) the conversation about the tender between its merchant and one
    provider in its evaluation (the form names it from the merchant's side), and shows it."""
    viewer = page_viewer(request)
    member = await require_member(viewer)
    form = await request.form()
    provider = form.get("provider") or None
    try:
        provider_id = uuid.UUID(str(provider)) if provider else None
    except ValueError:
        raise not_found("Conversation") from None
    conversation = await business.open_for_tender(member, tender_id, provider_id)
    return Redirect(f"/conversations/{conversation['id']}", status_code=303)


@post("/contracts/{contract_id:uuid}/conversation", include_in_schema=False)
async def open_contract_conversation(request: Request, contract_id: FromPath[uuid.UUID]) -> Redirect:
    """Opens (or finds) the conversation of the contract's two parties, and shows it."""
    viewer = page_viewer(request)
    member = await require_member(viewer)
    conversation = await business.open_for_contract(member, contract_id)
    return Redirect(f"/conversations/{conversation['id']}", status_code=303)


async def tender_panel(request: Request, viewer, member, tender: dict) -> dict | None:
    """On a tender's page: its merchant sees a conversation (or the way to open one)
    with each provider in the evaluation; such a provider sees its own. Nothing shows
    before evaluation (bids are sealed) or to a provider not in it."""
    if member is None:
        return None
    if tender.get("merchant_id") == member.organisation_id:
        providers = await evaluation.providers_in_evaluation(tender["id"])
    elif member.kind == "provider" and await evaluation.in_evaluation(tender["id"], member.organisation_id):
        providers = [{"provider_id": member.organisation_id, "provider_name": member.name}]
    else:
        return None
    existing = {row["provider_id"]: row for row in await business.of_tender(member, tender["id"])}
    if not providers and not existing:
        return None
    rows = []
    for provider in providers:
        conversation = existing.pop(provider["provider_id"], None)
        rows.append({**provider, "conversation": conversation,
                     "unread": conversations.unread(conversation, member.organisation_id) if conversation else 0})
    for conversation in existing.values():  # a provider dropped since: the conversation stays readable
        rows.append({"provider_id": conversation["provider_id"], "provider_name": conversation["provider_name"],
                     "conversation": conversation,
                     "unread": conversations.unread(conversation, member.organisation_id)})
    return {"template": "chat/_tender_panel.html", "tender_id": tender["id"], "rows": rows,
            "merchant_side": tender.get("merchant_id") == member.organisation_id,
            "merchant_name": tender.get("merchant_name")}


async def contract_panel(request: Request, viewer, member, contract: dict) -> dict | None:
    """On a contract's page, for its two parties: their conversation, or the way to open it."""
    if member is None or member.organisation_id not in (contract["merchant_id"], contract["provider_id"]):
        return None
    try:
        conversation = await business.of_contract(member, contract["id"])
    except FuwuError:
        return None
    return {"template": "chat/_contract_panel.html", "contract_id": contract["id"], "conversation": conversation,
            "unread": conversations.unread(conversation, member.organisation_id) if conversation else 0,
            "other": contract["provider_name"] if member.organisation_id == contract["merchant_id"]
            else contract["merchant_name"]}


ROUTES: list = [shop_page, console_page, conversations_page, transcript_page, open_tender_conversation,
                open_contract_conversation]
