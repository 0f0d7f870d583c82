"""Bid and evaluation schemas in and out."""

from __future__ import annotations

import datetime
import uuid
from typing import Annotated

import msgspec
from msgspec import Meta

from fuwu import values
from tenders.schemas import MONEY, CriterionId, MinorOut, SLATarget

PricingModel = values.PRICING_MODELS.literal()


class Team(msgspec.Struct, forbid_unknown_fields=True):
    seats: Annotated[int, Meta(ge=0, le=10_000)] = 0
    agents: Annotated[list[Annotated[str, Meta(min_length=1, max_length=100)]], Meta(max_length=200)] = []
    lead: Annotated[str, Meta(max_length=100)] = ""


class BidSubmit(msgspec.Struct, forbid_unknown_fields=True):
    price_amount: Annotated[int, Meta(ge=1, le=10**13, description=MONEY)]
    pricing_model: PricingModel
    valid_until: datetime.datetime
    price_unit: Annotated[str, Meta(max_length=40)] = ""
    currency: Annotated[str, Meta(pattern=r"^[A-Z]{3}$")] = "CNY"
    proposal: Annotated[str, Meta(max_length=50_000)] = ""
    sla_commitment: Annotated[list[SLATarget], Meta(max_length=20)] = []
    team: Team = msgspec.field(default_factory=Team)


class BidRead(msgspec.Struct):
    id: uuid.UUID
    tender_id: uuid.UUID
    provider_id: uuid.UUID
    provider_name: str
    status: str
    price_amount: MinorOut
    pricing_model: str
    price_unit: str
    currency: str
    proposal: str
    sla_commitment: list[dict]
    team: dict
    valid_until: datetime.datetime
    version: int
    first_submitted_at: datetime.datetime
    submitted_at: datetime.datetime
    withdrawn_at: datetime.datetime | None
    result: str
    rank: int | None
    attachments: list[dict] = []


class BidRevisionRead(msgspec.Struct):
    version: int
    action: str
    at: datetime.datetime
    snapshot: dict


class AttachmentRead(msgspec.Struct):
    id: uuid.UUID
    filename: str
    content_type: str
    size_bytes: Annotated[int, Meta(description="Size of the file in bytes.")]
    sha256: str
    uploaded_at: datetime.datetime


class CriterionScore(msgspec.Struct, forbid_unknown_fields=True):
    value: Annotated[float, Meta(ge=0, le=10, description="The score, from 0 to 10 points.")]
    criterion_id: CriterionId | None = None
    criterion: Annotated[int, Meta(ge=0, le=19, description=(
        "Deprecated: the criterion's position in the round (0 first). Send criterion_id."))] | None = None
    comment: Annotated[str, Meta(max_length=2000)] = ""


class ScoresRecorded(msgspec.Struct):
    """What a scoring stored: one evaluator's scores of one bid in one round."""

    round: int
    bid_id: uuid.UUID
    scored: int
    criterion_ids: list[str]


class FindingRead(msgspec.Struct):
    id: uuid.UUID
    bid_id: uuid.UUID
    finding: str


class CriterionRead(msgspec.Struct):
    id: str
    name: str
    weight: Annotated[int, Meta(description="Points this criterion gives at most.")]
    price: bool = False


class ScoreSubmit(msgspec.Struct, forbid_unknown_fields=True):
    bid_id: uuid.UUID
    scores: Annotated[list[CriterionScore], Meta(min_length=1, max_length=20)]


class ShortlistRequest(msgspec.Struct, forbid_unknown_fields=True):
    top: Annotated[int, Meta(ge=1, le=100)] | None = None
    bid_ids: Annotated[list[uuid.UUID], Meta(max_length=100)] | None = None


class SlotCreate(msgspec.Struct, forbid_unknown_fields=True):
    bid_id: uuid.UUID
    starts_at: datetime.datetime
    ends_at: datetime.datetime
    place: Annotated[str, Meta(max_length=300)] = ""


class FindingCreate(msgspec.Struct, forbid_unknown_fields=True):
    bid_id: uuid.UUID
    visited_at: datetime.datetime
    finding: Annotated[str, Meta(min_length=3, max_length=20_000)]


class AwardRequest(msgspec.Struct, forbid_unknown_fields=True):
    bid_id: uuid.UUID
    reason: Annotated[str, Meta(max_length=4000)] = ""


class RoundRead(msgspec.Struct):
    id: uuid.UUID
    number: int
    kind: str
    criteria: list[CriterionRead]
    status: str
    opened_at: datetime.datetime
    closed_at: datetime.datetime | None
    shortlisted_at: datetime.datetime | None
    entries: list[dict] = []


class AwardRead(msgspec.Struct):
    tender_id: uuid.UUID
    bid_id: uuid.UUID
    provider_id: uuid.UUID
    provider_name: str
    reason: str
    at: datetime.datetime


class MyBidTender(msgspec.Struct):
    """The tender a bid is on, as its bidder sees it."""

    id: uuid.UUID
    title: str
    category: str
    merchant_name: str
    bid_deadline: datetime.datetime | None
    status: Annotated[str, Meta(description="The tender's status; `bidding_closed` once its bid deadline has passed.")]


class MyBidRound(msgspec.Struct):
    """The evaluation round the bid is in now (or last took part in)."""

    number: int
    of: Annotated[int, Meta(description="How many rounds the tender's evaluation has.")]
    kind: str
    status: str


class MyBidRead(msgspec.Struct):
    """One bid of the organisation in its pipeline."""

    id: uuid.UUID
    tender: MyBidTender
    status: str
    result: Annotated[str, Meta(description="How the bid ended; empty while it is still in play.")]
    round: MyBidRound | None
    rank: Annotated[int | None, Meta(description="The rank the provider was told (at a shortlist or the award); "
                                                 "null until then.")]
    rank_of: Annotated[int | None, Meta(description="How many bids that rank is out of.")]
    rank_round: Annotated[int | None, Meta(description="The round of that rank.")]
    open_for_bids: bool
    price_amount: MinorOut
    currency: str
    pricing_model: str
    price_unit: str
    version: int
    first_submitted_at: datetime.datetime
    submitted_at: datetime.datetime
