"""What bids does for the tenders domain, inside the tender's own transactions:
counting bids at the deadline, naming bidders, confirming after an amendment,
discarding on cancellation. Provided to tenders through `bids.domain.DOMAIN.hooks`."""

from __future__ import annotations

import uuid

from bids import states
from bids.tables import Bid


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
