"""What the tenders domain asks of higher domains, wired by fuwu.app at start-up.

Tenders cannot import bids (imports run one way), yet closing, amending and
cancelling a tender must act on its bids in the same transaction. The bids domain
registers these functions; each runs inside the caller's transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field


async def _unwired(tender_id: uuid.UUID):
    # Counting zero bids would make a tender with bids unsuccessful: refuse instead.
    raise RuntimeError("the bids domain is not wired: call fuwu.app.wire_domains() at start-up")


@dataclass
class TenderHooks:
    # Bids that count at the deadline (submitted and confirmed, not withdrawn).
    count_valid_bids: Callable[[uuid.UUID], Awaitable[int]] = _unwired
    # Provider organisations with a live bid, to tell them of closures and cancellations.
    bidder_org_ids: Callable[[uuid.UUID], Awaitable[list]] = _unwired
    # Called after an amendment: every submitted bid needs its provider's confirmation.
    on_amended: list[Callable[[uuid.UUID, uuid.UUID], Awaitable[None]]] = field(default_factory=list)
    # Called on cancellation, with whether the bid deadline had passed.
    on_cancelled: list[Callable[[uuid.UUID, bool], Awaitable[None]]] = field(default_factory=list)
    # Whether a provider has (or had) a bid on the tender: it keeps seeing the tender
    # even if it left the category or the invitation changed.
    provider_has_bid: Callable[[uuid.UUID, uuid.UUID], Awaitable[bool]] | None = None
    # Tier of a provider for recommendations (the ratings domain): 0 = unrated, else 3-6 stars.
    provider_tier: Callable[[uuid.UUID], Awaitable[int]] | None = None


HOOKS = TenderHooks()
