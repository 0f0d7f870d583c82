"""What the bids domain asks of higher domains (its hook set).

`on_award`: called inside the award's transaction with (tender_id, bid_id, actor);
the contracts domain (sla) provides the function that opens the contract. Until one
is provided the tender stays `awarded`. Read the set with `hooks()`.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from fuwu.wiring import wiring


@dataclass
class BidHooks:
    on_award: list[Callable[[uuid.UUID, uuid.UUID, uuid.UUID], Awaitable[None]]] = field(default_factory=list)
    # Promise against delivery (the sla domain): what a batch of providers measurably
    # delivered per metric on their contracts, {(provider, metric, statistic): {windows,
    # met, share_met, median, contracts, ...}}; one statement for the batch. Unwired: nothing.
    track_records: Callable[[list[uuid.UUID], list[str]], Awaitable[dict[tuple, dict]]] | None = None


def hooks() -> BidHooks:
    return wiring().hooks(BidHooks)
