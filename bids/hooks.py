"""What bids exposes to higher domains and registers with tenders.

`ON_AWARD`: called inside the award's transaction with (tender_id, bid_id, actor);
the contracts capability (sla) registers the function that opens the contract.
Until one is registered the tender stays `awarded`.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

from piccolo.columns.combination import WhereRaw

from bids import states
from bids.tables import Bid

ON_AWARD: list[Callable[[uuid.UUID, uuid.UUID, uuid.UUID], Awaitable[None]]] = []


async def count_valid_bids(tender_id: uuid.UUID) -> int:
    return await Bid.count().where((Bid.tender == tender_id) & (Bid.status == states.SUBMITTED))


async def bidder_org_ids(tender_id: uuid.UUID) -> list[uuid.UUID]:
    rows = await Bid.select(Bid.provider).where((Bid.tender == tender_id) & Bid.status.is_in(list(states.LIVE)))
    return [r["provider"] for r in rows]


async def provider_has_bid(tender_id: uuid.UUID, provider_id: uuid.UUID) -> bool:
    return await Bid.exists().where((Bid.tender == tender_id) & (Bid.provider == provider_id))


async def bids_need_confirmation(tender_id: uuid.UUID, actor: uuid.UUID) -> None:
    """After an amendment every submitted bid must be confirmed or revised. One
    statement whatever the number of bids, so the merchant's request takes the same
    time either way."""
    await Bid.update({Bid.status: states.NEEDS_CONFIRMATION}).where(
        (Bid.tender == tender_id) & (Bid.status == states.SUBMITTED))


async def discard_bids(tender_id: uuid.UUID, after_deadline: bool) -> None:
    """A tender cancelled before its deadline discards its bids unread."""
    if not after_deadline:
        await Bid.update({Bid.status: states.DISCARDED, Bid.live_key: None}).where(
            (Bid.tender == tender_id) & Bid.status.is_in(list(states.LIVE)))


# Bid events stay off the platform's timeline while their tender is open: even the
# platform operator learns nothing of sealed bids, not their number.
SEALED_BID_EVENTS = WhereRaw(
    "NOT (fuwu_audit_event.object_type = 'bid' AND fuwu_audit_event.object_id IN "
    "(SELECT CAST(b.id AS TEXT) FROM bids_bid b JOIN tenders_tender t ON t.id = b.tender "
    "WHERE t.status = 'published'))"
)


def register_with_tenders() -> None:
    from fuwu.services.audit import hide_from_platform

    hide_from_platform(SEALED_BID_EVENTS)
    from tenders.hooks import HOOKS

    HOOKS.count_valid_bids = count_valid_bids
    HOOKS.bidder_org_ids = bidder_org_ids
    HOOKS.provider_has_bid = provider_has_bid
    if bids_need_confirmation not in HOOKS.on_amended:
        HOOKS.on_amended.append(bids_need_confirmation)
    if discard_bids not in HOOKS.on_cancelled:
        HOOKS.on_cancelled.append(discard_bids)
