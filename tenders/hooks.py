"""What the tenders domain asks of higher domains (its hook set).

Tenders cannot import bids (imports run one way), yet closing, amending and
cancelling a tender must act on its bids in the same transaction. The bids domain
fills in these fields in its `Domain.hooks`; the ratings domain adds provider tiers.
Each runs inside the caller's transaction. Read them with `hooks()`.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from fuwu.wiring import wiring


async def _unwired(*args):
    # Counting zero bids would make a tender with bids unsuccessful: refuse instead.
    raise RuntimeError("the bids domain is not wired: build the app with fuwu.app.create_app() first")


@dataclass(frozen=True)
class InvitationStanding:
    """Whether merchants may invite a provider, and what they are warned of when they
    may (the ratings domain decides from the provider's tier). `reason` and
    `warning` are English message ids that pages translate."""

    invitable: bool
    reason: str | None = None  # why it cannot be invited
    warning: str | None = None  # shown beside it wherever merchants pick providers to invite


@dataclass
class TenderHooks:
    # Bids that count at the deadline (submitted and confirmed, not withdrawn).
    count_valid_bids: Callable[[uuid.UUID], Awaitable[int]] = _unwired
    # Provider organisations with a live bid, to tell them of closures and cancellations.
    bidder_org_ids: Callable[[uuid.UUID], Awaitable[list[uuid.UUID]]] = _unwired
    # Called after an amendment (tender id, actor): every submitted bid needs its provider's confirmation.
    on_amended: list[Callable[[uuid.UUID, uuid.UUID], Awaitable[None]]] = field(default_factory=list)
    # Called on cancellation, with whether the bid deadline had passed.
    on_cancelled: list[Callable[[uuid.UUID, bool], Awaitable[None]]] = field(default_factory=list)
    # Whether a provider has (or had) a bid on the tender: it keeps seeing the tender
    # even if it left the category or the invitation changed.
    provider_has_bid: Callable[[uuid.UUID, uuid.UUID], Awaitable[bool]] | None = None
    # Tiers of providers for recommendations (the ratings domain), for a batch of
    # provider ids at once: 0 = unrated, else 3-6 stars; providers missing are unrated.
    provider_tiers: Callable[[list[uuid.UUID]], Awaitable[dict[uuid.UUID, int]]] | None = None
    # Promise against delivery for recommendations (the sla domain): as BidHooks.track_records.
    track_records: Callable[[list[uuid.UUID], list[str]], Awaitable[dict[tuple, dict]]] | None = None
    # The seats providers have committed on running contracts (the sla domain), as a
    # SQL fragment the recommendations' ranking statement composes: given the SQL
    # expressions of a provider's id and of "customer-service seats only", a scalar
    # subquery. Unwired, providers are ranked by their whole team.
    committed_seats: Callable[[str, str], str] | None = None
    # Whether each of a batch of providers may be invited (the ratings domain): one
    # entry per provider asked. Unwired, every provider may be invited, unwarned.
    invitation_standings: Callable[[list[uuid.UUID]], Awaitable[dict[uuid.UUID, InvitationStanding]]] | None = None


def hooks() -> TenderHooks:
    return wiring().hooks(TenderHooks)
