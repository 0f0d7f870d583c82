"""Tender schemas in and out."""

from __future__ import annotations

import datetime
import uuid
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from fuwu import values
from fuwu.i18n import N_
from tenders import states

Category = values.CATEGORIES.literal()
PricingModel = values.PRICING_MODELS.literal()
RoundKind = states.ROUND_KINDS.literal()
Visibility = states.VISIBILITIES.literal()
SLAMetric = values.SLA_METRICS.literal()
SLAStatistic = values.SLA_STATISTICS.literal()
SLAWindow = values.SLA_WINDOWS.literal()
SLAComparator = Literal[values.SLA_COMPARATORS]
Short = Annotated[str, Meta(min_length=1, max_length=200)]
MONEY = "Money in minor units of `currency` (fen for CNY): 1234500 is 12,345.00."
Minor = Annotated[int, Meta(ge=0, le=10**13, description=MONEY)]
MinorOut = Annotated[int, Meta(description=MONEY)]
SLA_TARGET = ("In the metric's unit: durations in seconds, rates as a fraction from 0 to 1 (0.95 is 95 %), "
              "service attitude as a mean rating from 0 to 5.")


class CustomerServiceRequirements(msgspec.Struct, forbid_unknown_fields=True):
    seats: Annotated[int, Meta(ge=1, le=10_000)]
    # [0-9], not \d: Python's \d takes any Unicode digit, a JSON Schema validator's does not.
    coverage_hours: Annotated[str, Meta(
        pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]-([01][0-9]|2[0-4]):[0-5][0-9]$")] = "09:00-24:00"
    time_zone: Annotated[str, Meta(min_length=1, max_length=64)] = "Asia/Shanghai"
    daily_conversations: Annotated[int, Meta(ge=0, le=10_000_000)] = 0
    languages: Annotated[list[Annotated[str, Meta(min_length=1, max_length=40)]], Meta(max_length=20)] = msgspec.field(default_factory=lambda: ["zh"])


class PhotographyRequirements(msgspec.Struct, forbid_unknown_fields=True):
    skus: Annotated[int, Meta(ge=1, le=100_000)]
    models: Annotated[int, Meta(ge=0, le=1_000)] = 0
    location: Annotated[str, Meta(max_length=200)] = ""


class DesignRequirements(msgspec.Struct, forbid_unknown_fields=True):
    deliverables: Annotated[list[Short], Meta(min_length=1, max_length=50)]


class ConsultingRequirements(msgspec.Struct, forbid_unknown_fields=True):
    topics: Annotated[list[Short], Meta(min_length=1, max_length=30)]
    sessions: Annotated[int, Meta(ge=1, le=1_000)] = 1


class VideoRequirements(msgspec.Struct, forbid_unknown_fields=True):
    videos: Annotated[int, Meta(ge=1, le=10_000)]
    length_seconds: Annotated[int, Meta(ge=1, le=36_000, description="Length of each video in seconds.")] = 60


class OtherRequirements(msgspec.Struct, forbid_unknown_fields=True):
    notes: Annotated[str, Meta(max_length=4000)] = ""


REQUIREMENTS_BY_CATEGORY = {  # one per value of fuwu.values.CATEGORIES
    "cs_presales": CustomerServiceRequirements,
    "cs_postsales": CustomerServiceRequirements,
    "photography": PhotographyRequirements,
    "design": DesignRequirements,
    "consulting": ConsultingRequirements,
    "video": VideoRequirements,
    "other": OtherRequirements,
}


class SLATarget(msgspec.Struct, forbid_unknown_fields=True):
    metric: SLAMetric
    statistic: SLAStatistic
    comparator: SLAComparator
    target: Annotated[float, Meta(ge=0, le=10**9, description=SLA_TARGET)]
    window: SLAWindow = "month"
    weight: Annotated[int, Meta(ge=0, le=100, description="Weight of this target among the SLA, in percent.")] = 0
    service_credit_percent: Annotated[float, Meta(ge=0, le=100, description=(
        "Service credit on a breach, in percent of the period's fee."))] = 0

    def __post_init__(self) -> None:
        # Each metric has its own unit and bounds (fuwu.values): a rate is a fraction.
        # A TargetError carries its message id and parameters: the API answers it as a
        # 422 in the reader's language (fuwu.app.body_problem).
        values.check_target(self.metric, self.target)


class RuleError(ValueError):
    """A rule a Struct checks itself: `detail` is a message id, `params` its values.
    The API answers it as a 422 in the reader's language (fuwu.app.body_problem)."""

    def __init__(self, detail: str, **params) -> None:
        super().__init__(detail.format(**params))
        self.detail = detail
        self.params = params


CriterionId = Annotated[str, Meta(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_.-]+$", description=(
    "The criterion's id within its round: scores name it. Sent by the client, or given as c1, c2, ... "
    "by position when left out."))]


def criterion_id(criterion: dict, index: int) -> str:
    """A stored criterion's id; criteria stored before ids existed are c1, c2, ... by position."""
    return criterion.get("id") or f"c{index + 1}"


class Criterion(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, Meta(min_length=1, max_length=100)]
    weight: Annotated[int, Meta(ge=1, le=100, description="Points this criterion gives at most (the weights of a round "
                                                        "are compared to one another).")]
    price: bool = False  # scored automatically: weight × lowest price / bid price
    id: CriterionId | None = None


class RoundSpec(msgspec.Struct, forbid_unknown_fields=True):
    kind: RoundKind
    criteria: Annotated[list[Criterion], Meta(min_length=1, max_length=20)]

    def __post_init__(self) -> None:
        # Ids by position where the client left them out: the same list sent again
        # gets the same ids, so that resending a tender changes nothing.
        seen = set()
        for index, criterion in enumerate(self.criteria):
            if criterion.id is None:
                criterion.id = f"c{index + 1}"
            if criterion.id in seen:
                raise RuleError(N_("Each criterion of a round needs its own id: {id} is used twice."), id=criterion.id)
            seen.add(criterion.id)


class TenderCreate(msgspec.Struct, forbid_unknown_fields=True):
    category: Category
    title: Short
    brief: Annotated[str, Meta(max_length=20_000)] = ""
    requirements: dict = {}
    budget_min: Minor = 0
    budget_max: Minor = 0
    currency: Annotated[str, Meta(pattern=r"^[A-Z]{3}$")] = "CNY"
    pricing_models: Annotated[list[PricingModel], Meta(min_length=1, max_length=4)] = msgspec.field(
        default_factory=lambda: ["periodic_fee"])
    sla_targets: Annotated[list[SLATarget], Meta(max_length=20)] = []
    rounds: Annotated[list[RoundSpec], Meta(min_length=1, max_length=3)] = msgspec.field(
        default_factory=lambda: [RoundSpec(kind="proposal_review",
                                           criteria=[Criterion(name="Price", weight=40, price=True),
                                                     Criterion(name="Proposal quality", weight=60)])])
    visibility: Visibility = "public"
    min_bids: Annotated[int, Meta(ge=1, le=100)] = 1
    questions_deadline: datetime.datetime | None = None
    bid_deadline: datetime.datetime | None = None
    evaluation_end: datetime.datetime | None = None


class TenderUpdate(msgspec.Struct, forbid_unknown_fields=True):
    """Changes to a draft, or an amendment of a published tender (with a reason)."""

    title: Short | None = None
    brief: Annotated[str, Meta(max_length=20_000)] | None = None
    requirements: dict | None = None
    budget_min: Minor | None = None
    budget_max: Minor | None = None
    currency: Annotated[str, Meta(pattern=r"^[A-Z]{3}$")] | None = None
    pricing_models: Annotated[list[PricingModel], Meta(min_length=1, max_length=4)] | None = None
    sla_targets: Annotated[list[SLATarget], Meta(max_length=20)] | None = None
    rounds: Annotated[list[RoundSpec], Meta(min_length=1, max_length=3)] | None = None
    visibility: Visibility | None = None
    min_bids: Annotated[int, Meta(ge=1, le=100)] | None = None
    questions_deadline: datetime.datetime | None = None
    bid_deadline: datetime.datetime | None = None
    evaluation_end: datetime.datetime | None = None
    reason: Annotated[str, Meta(max_length=2000)] = ""


class TenderRead(msgspec.Struct):
    id: uuid.UUID
    merchant_id: uuid.UUID
    merchant_name: str
    category: str
    title: str
    brief: str
    requirements: dict
    budget_min: MinorOut
    budget_max: MinorOut
    currency: str
    pricing_models: list[str]
    sla_targets: list[dict]
    rounds: list[dict]
    visibility: str
    min_bids: int
    region: str
    questions_deadline: datetime.datetime | None
    bid_deadline: datetime.datetime | None
    evaluation_end: datetime.datetime | None
    status: str
    status_reason: str
    amendment_count: int
    published_at: datetime.datetime | None
    created_at: datetime.datetime
    updated_at: datetime.datetime


class TenderSummary(msgspec.Struct):
    id: uuid.UUID
    merchant_name: str
    category: str
    title: str
    budget_min: MinorOut
    budget_max: MinorOut
    currency: str
    region: str
    bid_deadline: datetime.datetime | None
    status: str
    published_at: datetime.datetime | None


class CancelRequest(msgspec.Struct, forbid_unknown_fields=True):
    reason: Annotated[str, Meta(min_length=3, max_length=2000)]


class QuestionCreate(msgspec.Struct, forbid_unknown_fields=True):
    text: Annotated[str, Meta(min_length=3, max_length=4000)]


class AnswerCreate(msgspec.Struct, forbid_unknown_fields=True):
    answer: Annotated[str, Meta(min_length=1, max_length=8000)]


class QuestionRead(msgspec.Struct):
    id: uuid.UUID
    pseudonym: str
    text: str
    asked_at: datetime.datetime
    answer: str | None
    answered_at: datetime.datetime | None
    mine: bool = False


class AmendmentRead(msgspec.Struct):
    id: uuid.UUID
    number: int
    at: datetime.datetime
    reason: str
    changes: dict


class InviteProviders(msgspec.Struct, forbid_unknown_fields=True):
    provider_ids: Annotated[list[uuid.UUID], Meta(min_length=1, max_length=50)]


class DeclineInvitation(msgspec.Struct, forbid_unknown_fields=True):
    reason: Annotated[str, Meta(max_length=2000)] = ""


class TenderInvitationRead(msgspec.Struct):
    id: uuid.UUID
    provider_id: uuid.UUID
    provider_name: str
    status: str
    created_at: datetime.datetime
    declined_at: datetime.datetime | None
    decline_reason: str


class DeliveredRecord(msgspec.Struct):
    """What a recommended provider measurably delivered on its contracts for one SLA
    target the tender asks for: `windows` 0 (and the rest null) without measured history."""

    metric: str
    statistic: str | None
    target: float | None
    windows: int = 0
    met: int = 0
    share_met: float | None = None  # 0..1
    median: float | None = None  # in the metric's unit: seconds, a 0..1 rate, a 1..5 rating
    contracts: int = 0


class Recommendation(msgspec.Struct):
    provider_id: uuid.UUID
    name: str
    province: str
    city: str
    categories: list[str]
    score: float
    reasons: Annotated[list[str], Meta(description=(
        "Why it is recommended, as codes: `category` (serves the tender's category); `capacity:N` (a team of N, "
        "all free: agents for customer service, members otherwise) or `capacity:F/N` (F of N free, the rest on "
        "running contracts); `region` (the merchant's province); `tier:S` (S stars)."))]
    # Verified by the platform (a badge).
    verified: bool = False
    # Its tier: 0 unrated, else 3-6 stars.
    tier: int = 0
    # Its team (agents for customer service, all members otherwise), the seats its
    # running contracts hold (awarded or active), and what is left: the capacity ranked.
    capacity: int = 0
    committed: int = 0
    free_capacity: int = 0
    # What merchants should know before inviting it (its tier is just above the lowest), or null.
    warning: str | None = None
    # Promise against delivery: per SLA target of the tender, its measured record.
    delivered: list[DeliveredRecord] = []
