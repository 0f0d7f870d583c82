"""Statuses of the ratings domain with their labels and transitions, the tiers, and
the audit actions it records (DESIGN.md section 6)."""

from fuwu.i18n import N_
from fuwu.values import Values

# What is rated: a month of the contract, or an accepted milestone.
PERIOD = "period"
MILESTONE = "milestone"
OCCASIONS = Values((PERIOD, N_("Contract month")), (MILESTONE, N_("Accepted milestone")))

# Which way a review goes.
RATING = "rating"  # a merchant rates the provider
PROVIDER_REVIEW = "provider_review"  # the provider reviews the merchant
REVIEW_KINDS = Values((RATING, N_("Rating of the provider")), (PROVIDER_REVIEW, N_("Review of the merchant")))

# A rating's (and a provider review's) status:
#   blind -> published -> hidden;  blind -> hidden
BLIND = "blind"  # written; unseen until the other side reviewed the same occasion or 14 days passed
PUBLISHED = "published"  # shown to everyone and counted
HIDDEN = "hidden"  # an admin upheld a dispute against it: still listed as hidden, never counted

REVIEW_STATUSES = Values((BLIND, N_("Blind")), (PUBLISHED, N_("Published")), (HIDDEN, N_("Hidden")))
REVIEW_TRANSITIONS = {BLIND: (PUBLISHED, HIDDEN), PUBLISHED: (HIDDEN,), HIDDEN: ()}

# How long a review stays blind when the other side writes nothing.
BLIND_DAYS = 14

# A dispute's status: open -> upheld | hidden.
OPEN = "open"  # waits for an admin
UPHELD = "upheld"  # the admin kept the review as it is, with a written reason
DISPUTE_HIDDEN = "hidden"  # the admin hid the review, with a written reason
DISPUTE_STATUSES = Values((OPEN, N_("Open")), (UPHELD, N_("Upheld")), (DISPUTE_HIDDEN, N_("Hidden")))
DISPUTE_TRANSITIONS = {OPEN: (UPHELD, DISPUTE_HIDDEN), UPHELD: (), DISPUTE_HIDDEN: ()}

# Tiers: 0 is unrated (a new provider, or one short of the lowest tier's gates).
UNRATED = 0
TIERS = (6, 5, 4, 3)
TIER_LABELS = Values(
    ("6", N_("6 stars")), ("5", N_("5 stars")), ("4", N_("4 stars")), ("3", N_("3 stars")), ("0", N_("Unrated")),
)

# Standings from the lowest: unrated, then 3, 4, 5 and 6 stars (DESIGN.md section 6:
# "6, 5, 4 and 3 stars, else unrated"). The lowest cannot be invited to tenders (it
# may still bid on tenders public to its category: one completed contract earns a
# tier); the one above it is shown to merchants with a warning.
STANDINGS = (UNRATED, 3, 4, 5, 6)
NOT_INVITABLE = STANDINGS[0]
WARNED = STANDINGS[1]
NOT_INVITABLE_REASON = N_("unrated: no tier yet, so it cannot be invited")
WARNING = N_("3 stars, the lowest tier: read its scorecard and ratings before you invite it")

# Scorecard dimensions, in the order pages show them.
OPERATING = "operating"
BRAND = "brand"
SERVICE = "service"
GROWTH = "growth"
DIMENSIONS = Values(
    (OPERATING, N_("Operating capability")),
    (BRAND, N_("Brand capability")),
    (SERVICE, N_("Service evaluation")),
    (GROWTH, N_("Growth")),
)

# Tier changes that need a second admin.
PROMOTION = "promotion"  # a 6-star promotion an evaluation earned
OVERRIDE = "override"  # an admin sets the tier, with a reason and an expiry
APPROVAL_KINDS = Values((PROMOTION, N_("6-star promotion")), (OVERRIDE, N_("Tier override")))
PENDING = "pending"  # waits for a second admin
APPROVED = "approved"  # in effect (an override until it expires)
REJECTED = "rejected"  # the second admin refused it
APPROVAL_STATUSES = Values((PENDING, N_("Pending")), (APPROVED, N_("Approved")), (REJECTED, N_("Rejected")))
APPROVAL_TRANSITIONS = {PENDING: (APPROVED, REJECTED), APPROVED: (), REJECTED: ()}

# What the ratings domain's audit events record (labels are the actions' own words).
AUDIT_ACTIONS = Values(
    ("rated", N_("rated")),
    ("reviewed", N_("reviewed")),
    ("published", N_("published")),
    ("replied", N_("replied")),
    ("disputed", N_("disputed")),
    ("dispute_upheld", N_("dispute upheld")),
    ("dispute_hidden", N_("dispute hidden")),
    ("brand_graded", N_("brand graded")),
    ("tier_requested", N_("tier requested")),
    ("tier_approved", N_("tier approved")),
    ("tier_rejected", N_("tier rejected")),
    ("tier_changed", N_("tier changed")),
)
AUDIT_OBJECTS = Values(
    ("rating", N_("rating")),
    ("provider_review", N_("provider review")),
    ("provider", N_("provider")),
)
