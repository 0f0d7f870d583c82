"""Business conversations: a merchant and a provider talking about a tender (once the
provider is in its evaluation) or about their contract (DESIGN.md section 5, issue 10).

- One conversation per (tender, provider) and per contract: its `topic` is unique in
  the database, and opening inserts with ON CONFLICT DO NOTHING, so two members (or
  two processes) opening at the same moment get the same conversation.
- Who: the members of the two organisations, any role; anyone else gets the same 404
  as for a conversation that does not exist.
- A tender's conversation exists only with a provider whose bid is in an evaluation
  round of the tender and was not dropped (`bids.services.evaluation.in_evaluation`):
  before evaluation (bids sealed) there is none, and a provider sees only its own,
  so nothing tells one bidder about another.
- Not buyer service: never routed to agents' queues (no seat, no agent, status open
  from the start, never queued or closed), and no SLA event is appended for it
  (`conversations._sla_event` measures shop conversations only).
- Messages, sequence numbers, resend and resume are those of every conversation
  (`conversations.post`, the socket's `subscribe`): the same guarantees.
"""

from __future__ import annotations

import uuid

from bids.services import evaluation
from chat import sql, states
from chat.services import conversations
from chat.tables import Conversation
from fuwu import roles
from fuwu.clock import now
from fuwu.db import fetch
from fuwu.errors import not_found
from fuwu.services.accounts import Member
from sla.services import contracts
from tenders.services import lifecycle

LIST_LIMIT = 200  # a tender's conversations on its page (one per provider in evaluation)


def tender_topic(tender_id, provider_id) -> str:
    return f"tender:{tender_id}:{provider_id}"


def contract_topic(contract_id) -> str:
    return f"contract:{contract_id}"


async def _open(topic: str, merchant_id, provider_id, contract_id=None, tender_id=None) -> dict:
    await fetch(sql.INSERT_BUSINESS, uuid.uuid4(), merchant_id, provider_id, contract_id, tender_id, topic, now())
    row = await Conversation.select(Conversation.id).where(Conversation.topic == topic).first()
    return await conversations.read(row["id"])


async def open_for_tender(member: Member, tender_id: uuid.UUID, provider_id: uuid.UUID | None = None) -> dict:
    """The conversation between the tender's merchant and one provider in its
    evaluation: a merchant's member names the provider; a provider's member opens its
    own. 404 for a tender the member may not see and for a provider not in its
    evaluation (the same answer whether it bid or not)."""
    if member.kind == roles.MERCHANT:
        tender = await lifecycle.get_tender(member, tender_id, close_due=False)
        if provider_id is None:
            raise not_found("Conversation")
    elif member.kind == roles.PROVIDER:
        if provider_id not in (None, member.organisation_id):
            raise not_found("Conversation")
        provider_id = member.organisation_id
        tender = await lifecycle.get_tender(member, tender_id, close_due=False)
    else:
        raise not_found("Tender")
    if not await evaluation.in_evaluation(tender_id, provider_id):
        raise not_found("Conversation")
    return await _open(tender_topic(tender_id, provider_id), tender["merchant_id"], provider_id, tender_id=tender_id)


async def open_for_contract(member: Member, contract_id: uuid.UUID) -> dict:
    """The conversation of the contract's two parties (404 for anyone else)."""
    contract = await contracts.get_contract(member, contract_id)
    return await _open(contract_topic(contract_id), contract["merchant_id"], contract["provider_id"],
                       contract_id=contract_id)


async def of_tender(member: Member, tender_id: uuid.UUID) -> list[dict]:
    """The tender's conversations the member's organisation takes part in: all of
    them for its merchant, the provider's own for a provider."""
    party = (Conversation.shop == member.organisation_id) | (Conversation.provider == member.organisation_id)
    return await Conversation.select(*conversations.CONVERSATION_COLUMNS).where(
        (Conversation.tender == tender_id) & (Conversation.kind == states.BUSINESS) & party).order_by(
        Conversation.opened_at).limit(LIST_LIMIT)


async def of_contract(member: Member, contract_id: uuid.UUID) -> dict | None:
    await contracts.get_contract(member, contract_id)
    row = await Conversation.select(Conversation.id).where(Conversation.topic == contract_topic(contract_id)).first()
    return await conversations.read(row["id"]) if row else None


def side(conversation: dict, organisation_id) -> str:
    """Which party an organisation is in a business conversation."""
    return "merchant" if conversation["shop_id"] == organisation_id else "provider"
