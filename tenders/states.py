"""Tender statuses and the transitions allowed between them (DESIGN.md section 2)."""

DRAFT = "draft"  # the merchant is still writing it; nobody else sees it
PUBLISHED = "published"  # open: providers who may see it ask questions and bid until the bid deadline
BIDDING_CLOSED = "bidding_closed"  # the bid deadline passed; bids are unsealed for the merchant's evaluators
EVALUATING = "evaluating"  # the merchant runs its evaluation rounds
AWARDED = "awarded"  # one bid won; the contract is being opened
CONTRACTED = "contracted"  # the contract exists (sla domain)
CANCELLED = "cancelled"  # withdrawn by the merchant before award, with a reason; bidders told
UNSUCCESSFUL = "unsuccessful"  # fewer bids than the minimum, or none qualified

ALL = (DRAFT, PUBLISHED, BIDDING_CLOSED, EVALUATING, AWARDED, CONTRACTED, CANCELLED, UNSUCCESSFUL)

TRANSITIONS: dict[str, tuple[str, ...]] = {
    DRAFT: (PUBLISHED,),
    PUBLISHED: (BIDDING_CLOSED, CANCELLED),
    BIDDING_CLOSED: (EVALUATING, CANCELLED, UNSUCCESSFUL),
    EVALUATING: (AWARDED, CANCELLED, UNSUCCESSFUL),
    AWARDED: (CONTRACTED,),
    CONTRACTED: (),
    CANCELLED: (),
    UNSUCCESSFUL: (),
}

# Statuses in which bids are unsealed for the merchant.
UNSEALED = (BIDDING_CLOSED, EVALUATING, AWARDED, CONTRACTED, UNSUCCESSFUL)
# Statuses visible to providers (a draft is the merchant's own).
VISIBLE_TO_PROVIDERS = (PUBLISHED, BIDDING_CLOSED, EVALUATING, AWARDED, CONTRACTED, CANCELLED, UNSUCCESSFUL)


def can_move(source: str, target: str) -> bool:
    return target in TRANSITIONS.get(source, ())


CATEGORIES = ("cs_presales", "cs_postsales", "photography", "design", "consulting", "video", "other")
PRICING_MODELS = ("periodic_fee", "per_order", "metered", "pay_after_delivery")
VISIBILITIES = ("public", "invited")
ROUND_KINDS = ("proposal_review", "presentation", "site_inspection")
SLA_METRICS = (
    "first_response_time", "next_response_time", "inquiry_conversion_rate", "service_attitude",
    "resolution_time", "milestone_on_time_rate", "first_pass_acceptance_rate",
)
