"""What the ratings API reads and writes."""

from __future__ import annotations

import datetime
import uuid
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from ratings import states

Score = Annotated[int, Meta(ge=1, le=5, description="A whole number from 1 (poor) to 5 (excellent).")]
ReviewKind = Literal["rating", "provider_review"]
Reason = Annotated[str, Meta(min_length=10, max_length=2000, description="Written reason, 10 to 2,000 characters.")]


class RatingCreate(msgspec.Struct, forbid_unknown_fields=True):
    """One contract month (`period`, 1 for the first) or one accepted milestone (`milestone_id`): one of the two."""

    overall: Score
    quality: Score
    communication: Score
    timeliness: Score
    comment: Annotated[str, Meta(max_length=2000)] = ""
    period: Annotated[int, Meta(ge=1, le=1200, description="The contract month, 1 for the first.")] | None = None
    milestone_id: uuid.UUID | None = None


class RatingRead(msgspec.Struct):
    id: uuid.UUID
    kind: Annotated[ReviewKind, Meta(description="rating: the merchant's of the provider; provider_review: the "
                                                 "provider's of the merchant.")]
    contract_id: uuid.UUID
    merchant_id: uuid.UUID
    merchant_name: str
    provider_id: uuid.UUID
    provider_name: str
    occasion: Annotated[str, Meta(description='"period:<n>" or "milestone:<id>".')]
    status: Annotated[str, Meta(description="blind (seen only by its author until the other side writes or 14 days "
                                            "pass), published, or hidden (by an admin: no scores, the reason).")]
    overall: int | None
    quality: int | None
    communication: int | None
    timeliness: int | None
    comment: str
    author_name: str | None
    created_at: datetime.datetime
    publish_after: datetime.datetime
    published_at: datetime.datetime | None
    reply: str
    replied_at: datetime.datetime | None
    hidden_reason: str = ""


class ReplyCreate(msgspec.Struct, forbid_unknown_fields=True):
    text: Annotated[str, Meta(min_length=1, max_length=2000)]


class DisputeCreate(msgspec.Struct, forbid_unknown_fields=True):
    reason: Reason


class DisputeDecision(msgspec.Struct, forbid_unknown_fields=True):
    hide: Annotated[bool, Meta(description="true hides the review (listed as hidden, never counted); false "
                                           "upholds it.")]
    reason: Reason


class DisputeRead(msgspec.Struct):
    id: uuid.UUID
    review_kind: ReviewKind
    review_id: uuid.UUID
    organisation_id: uuid.UUID
    reason: str
    raised_at: datetime.datetime
    status: Annotated[str, Meta(description="open, upheld or hidden.")]
    decision_reason: str
    decided_at: datetime.datetime | None


class BrandGradeCreate(msgspec.Struct, forbid_unknown_fields=True):
    score: Annotated[int, Meta(ge=0, le=100, description="Brand capability, 0 to 100.")]
    evidence: Reason
    expires_at: Annotated[datetime.datetime, Meta(tz=True, description="Within two years from now.")]
    brands_served: Annotated[int, Meta(ge=0, le=100_000)] = 0
    key_accounts_served: Annotated[int, Meta(ge=0, le=100_000)] = 0


class BrandGradeRead(msgspec.Struct):
    id: uuid.UUID
    provider_id: uuid.UUID
    provider_name: str
    score: int
    brands_served: int
    key_accounts_served: int
    evidence: str
    graded_at: datetime.datetime
    expires_at: datetime.datetime


class TierRequestCreate(msgspec.Struct, forbid_unknown_fields=True):
    """kind override: `tier` and `expires_at` are needed; kind promotion endorses the 6 stars an evaluation earned."""

    kind: Literal["override", "promotion"]
    reason: Reason
    tier: Annotated[int, Meta(ge=0, le=6, description="0 for unrated, or 3 to 6 stars.")] | None = None
    expires_at: Annotated[datetime.datetime, Meta(tz=True)] | None = None


class TierApprovalRead(msgspec.Struct):
    id: uuid.UUID
    provider_id: uuid.UUID
    provider_name: str
    kind: Literal["override", "promotion"]
    tier: int
    reason: str
    expires_at: datetime.datetime | None
    requested_by: uuid.UUID
    requested_by_name: str
    requested_at: datetime.datetime
    status: Annotated[str, Meta(description="pending (waits for a second admin), approved or rejected.")]
    approved_by: uuid.UUID | None
    decided_at: datetime.datetime | None


class TierDecision(msgspec.Struct, forbid_unknown_fields=True):
    reason: Annotated[str, Meta(max_length=2000)] = ""


class DimensionRead(msgspec.Struct):
    dimension: str
    label: str
    score: Annotated[float, Meta(description="0 to 100.")]
    weight: Annotated[float, Meta(description="The dimension's weight in the composite, in points of the total "
                                              "weight (the settings').")]
    contribution: Annotated[float, Meta(description="score x weight / total weight; the contributions add up to "
                                                    "the composite.")]
    figures: dict


class EvaluationRead(msgspec.Struct):
    as_of: datetime.datetime
    composite: float
    tier_before: int
    tier_after: int
    at_risk: bool


class ScorecardRead(msgspec.Struct):
    provider_id: uuid.UUID
    tier: Annotated[int, Meta(description="0 unrated, else 3 to 6 stars (an approved override wins).")]
    at_risk: bool
    pending_tier: int | None
    composite: float | None
    as_of: datetime.datetime | None
    dimensions: list[DimensionRead]
    history: list[EvaluationRead]


def scorecard_read(card: dict) -> ScorecardRead:
    latest, standing = card["latest"], card["standing"] or {}
    dimensions = []
    if latest:
        for dimension in states.DIMENSIONS:
            part = latest["explanation"][dimension]
            dimensions.append(DimensionRead(dimension, states.DIMENSIONS.label(dimension), part["score"],
                                            part["weight"], part["contribution"], part["figures"]))
    return ScorecardRead(
        provider_id=card["provider_id"], tier=card["tier"], at_risk=bool(standing.get("at_risk")),
        pending_tier=standing.get("pending_tier"), composite=latest["composite"] if latest else None,
        as_of=latest["as_of"] if latest else None, dimensions=dimensions,
        history=[EvaluationRead(row["as_of"], row["composite"], row["tier_before"], row["tier_after"],
                                bool(row["at_risk"])) for row in card["history"]])
