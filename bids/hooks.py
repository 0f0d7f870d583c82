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


def hooks() -> BidHooks:
    return wiring().hooks(BidHooks)
