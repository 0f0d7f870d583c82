"""Buyers' ratings of closed conversations, read in aggregate for the ratings
domain's scorecards (service evaluation)."""

from __future__ import annotations

import datetime
import uuid

from piccolo.query.functions.aggregate import Count

from chat.tables import Conversation

POSITIVE = 4  # a buyer's rating of 4 or 5 is positive


async def buyer_ratings(provider_ids: list[uuid.UUID], since: datetime.datetime,
                        until: datetime.datetime) -> dict[uuid.UUID, tuple[int, int]]:
    """Per provider, the (positive, rated) conversations it served that closed in
    [since, until) with a buyer rating (each conversation once, its latest rating),
    in one aggregate statement. Providers without any are left out."""
    if not provider_ids:
        return {}
    found: dict[uuid.UUID, list[int]] = {}
    # Grouped by the rating itself (five values at most a provider): both engines count it alike.
    for row in await Conversation.select(Conversation.provider.as_alias("provider_id"), Conversation.rating,
                                         Count()).where(
            Conversation.provider.is_in(list(provider_ids)) & Conversation.rating.is_not_null()
            & (Conversation.closed_at >= since) & (Conversation.closed_at < until)).group_by(
            Conversation.provider, Conversation.rating):
        counts = found.setdefault(row["provider_id"], [0, 0])
        counts[1] += row["count"]
        if row["rating"] >= POSITIVE:
            counts[0] += row["count"]
    return {provider_id: (positive, rated) for provider_id, (positive, rated) in found.items()}
