"""Keeping transcripts no longer than needed (DESIGN.md section 5, retention).

- Transcripts are kept for FUWU_CHAT_RETENTION_DAYS (365 by default); the scheduled
  job replaces the text of older messages, and the rating comments of conversations
  closed before then, with the erased marker. The rows stay: their seq and times keep
  positions contiguous for views and history pages, and the SLA service events (which
  never hold message text) keep every figure.
- A merchant's owner or operator exports a buyer's transcripts with the shop (every
  message of the buyer's conversations, as JSON) and erases them on request: every
  text of those conversations (the buyer's and the replies, which quote the buyer) and
  the rating comments are replaced by the marker, audited with how many were erased.
"""

from __future__ import annotations

import datetime
import uuid

from chat import states
from chat.tables import Conversation, Message
from fuwu import roles
from fuwu.clock import now
from fuwu.db import atomic
from fuwu.errors import Forbidden, not_found
from fuwu.i18n import N_
from fuwu.services import audit
from fuwu.settings import get_settings

# What an erased message's text becomes (kept as a row, with its seq and time).
ERASED = "[erased]"
# Messages erased in one transaction by the job (short transactions, no long locks).
BATCH = 2000
# Who may export or erase a buyer's transcripts: the merchant's owner and operators.
ERASERS = (roles.OWNER, roles.OPERATOR)


def _shop_member(member) -> None:
    if member.kind != roles.MERCHANT:
        raise not_found("Shop")
    if member.role not in ERASERS:
        raise Forbidden("role_not_allowed", N_("Only the shop's owner or an operator exports or erases a buyer's "
                                               "messages."))


async def _buyer_conversations(shop_id: uuid.UUID, buyer: str) -> list[dict]:
    return await Conversation.select(
        Conversation.id, Conversation.status, Conversation.opened_at, Conversation.closed_at, Conversation.rating,
        Conversation.rating_comment, Conversation.seq).where(
        (Conversation.shop == shop_id) & (Conversation.buyer == buyer) & (Conversation.kind == states.SHOP)
    ).order_by(Conversation.opened_at).order_by(Conversation.id)


async def export_buyer(member, buyer: str) -> dict:
    """Every conversation of the buyer with the member's shop, oldest first, each with
    all its messages in order (erased ones show the marker). 404 when the shop has
    no conversation with that visitor."""
    _shop_member(member)
    found = await _buyer_conversations(member.organisation_id, buyer)
    if not found:
        raise not_found("Buyer")
    rows = await Message.select(Message.conversation, Message.seq, Message.sender_kind, Message.text,
                                Message.at).where(
        Message.conversation.is_in([c["id"] for c in found])).order_by(Message.conversation).order_by(Message.seq)
    by_conversation: dict = {c["id"]: [] for c in found}
    for row in rows:
        by_conversation[row["conversation"]].append({
            "seq": int(row["seq"]), "sender": row["sender_kind"], "text": row["text"], "at": row["at"],
            "erased": row["text"] == ERASED})
    return {
        "shop": member.organisation_id, "buyer": buyer, "exported_at": now(),
        "conversations": [{
            "id": c["id"], "status": c["status"], "opened_at": c["opened_at"], "closed_at": c["closed_at"],
            "rating": c["rating"], "rating_comment": c["rating_comment"], "messages": by_conversation[c["id"]],
        } for c in found],
    }


async def erase_buyer(viewer_id: uuid.UUID, member, buyer: str) -> dict:
    """Replaces every text of the buyer's conversations with the shop, and their rating
    comments, by the marker in one transaction, audited (one event per conversation,
    with how many texts it erased). Idempotent: erasing again erases nothing more.
    The rows, their seq and times, the ratings and the SLA events stay."""
    _shop_member(member)
    found = await _buyer_conversations(member.organisation_id, buyer)
    if not found:
        raise not_found("Buyer")
    erased = 0
    async with atomic():
        for conversation in found:
            changed = await Message.update({Message.text: ERASED}).where(
                (Message.conversation == conversation["id"]) & (Message.text != ERASED)).returning(Message.id)
            comment = bool(conversation["rating_comment"])
            if comment:
                await Conversation.update({Conversation.rating_comment: ""}).where(
                    Conversation.id == conversation["id"])
            if changed or comment:
                await audit.record(actor=viewer_id, organisation=member.organisation_id, object_type="conversation",
                                   object_id=conversation["id"], action="erased",
                                   after={"buyer": buyer, "messages": len(changed), "rating_comment": comment})
            erased += len(changed)
    return {"buyer": buyer, "conversations": len(found), "erased": erased}


async def erase_expired(moment: datetime.datetime | None = None, days: int | None = None) -> dict:
    """The job: texts of messages older than the retention period become the marker
    (in batches, each its own short transaction), and the rating comments of
    conversations closed before then are cleared. Idempotent."""
    days = get_settings().chat_retention_days if days is None else days
    cutoff = (moment or now()) - datetime.timedelta(days=days)
    erased = 0
    while True:
        async with atomic():
            changed = await Message.update({Message.text: ERASED}).where(Message.id.is_in(
                Message.select(Message.id).where((Message.at < cutoff) & (Message.text != ERASED)).limit(BATCH)
            )).returning(Message.id)
        erased += len(changed)
        if len(changed) < BATCH:
            break
    comments = await Conversation.update({Conversation.rating_comment: ""}).where(
        (Conversation.closed_at < cutoff) & (Conversation.rating_comment != "")).returning(Conversation.id)
    return {"erased": erased, "rating_comments": len(comments), "before": cutoff.isoformat()}
