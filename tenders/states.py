"""Tender statuses and the transitions allowed between them (DESIGN.md section 2), and
the tenders' own lists of values with their labels (see fuwu.values)."""

from fuwu import values
from fuwu.i18n import N_
from fuwu.values import Values

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


STATUSES = Values(
    (DRAFT, N_("Draft")),
    (PUBLISHED, N_("Published")),
    (BIDDING_CLOSED, N_("Bidding closed")),
    (EVALUATING, N_("Evaluating")),
    (AWARDED, N_("Awarded")),
    (CONTRACTED, N_("Contracted")),
    (CANCELLED, N_("Cancelled")),
    (UNSUCCESSFUL, N_("Unsuccessful")),
)

# The shared lists a tender is written in.
CATEGORIES = values.CATEGORIES
PRICING_MODELS = values.PRICING_MODELS
SLA_METRICS = values.SLA_METRICS

VISIBILITIES = Values(
    ("public", N_("Public to the category")),  # every provider listed in the tender's category
    ("invited", N_("Invited providers only")),
)
# Evaluation rounds a tender may ask for, in the order they run.
ROUND_KINDS = Values(
    ("proposal_review", N_("Proposal review")),
    ("presentation", N_("Presentation")),
    ("site_inspection", N_("Site inspection")),
)
# A provider's invitation to a tender.
INVITATION_STATUSES = Values(
    ("invited", N_("Invited")),
    ("declined", N_("Declined")),
)

# What the tenders' audit events record. The shell's audit pages show an action it
# does not know as its words (fuwu.values.audit_label): these labels are those words.
AUDIT_ACTIONS = Values(
    ("created", N_("created")),
    ("draft_updated", N_("draft updated")),
    ("amended", N_("amended")),
    ("asked", N_("asked")),
    ("answered", N_("answered")),
    ("provider_invited", N_("provider invited")),
    ("invitation_declined", N_("invitation declined")),
    *((f"status_{status}", label) for status, label in (
        (PUBLISHED, N_("status published")),
        (BIDDING_CLOSED, N_("status bidding closed")),
        (EVALUATING, N_("status evaluating")),
        (AWARDED, N_("status awarded")),
        (CONTRACTED, N_("status contracted")),
        (CANCELLED, N_("status cancelled")),
        (UNSUCCESSFUL, N_("status unsuccessful")),
    )),
)
AUDIT_OBJECTS = Values(
    ("tender", N_("tender")),
    ("question", N_("question")),
)
