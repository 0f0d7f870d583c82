"""Organisation kinds and member roles (DESIGN.md section 1); their labels, merchant
sizes and service categories are in fuwu.values."""

MERCHANT = "merchant"  # an online shop posting tenders
PROVIDER = "provider"  # a service company bidding and delivering
PLATFORM = "platform"  # the operator of Fuwu itself
ORG_KINDS = (MERCHANT, PROVIDER, PLATFORM)

OWNER = "owner"  # merchant or provider: everything, including members and invitations
OPERATOR = "operator"  # merchant: runs tenders and contracts
EVALUATOR = "evaluator"  # merchant: scores bids
MANAGER = "manager"  # provider: bids and runs delivery
AGENT = "agent"  # provider: chats with buyers from a seat
ADMIN = "admin"  # platform: grades providers, resolves disputes

ROLES_BY_KIND = {
    MERCHANT: (OWNER, OPERATOR, EVALUATOR),
    PROVIDER: (OWNER, MANAGER, AGENT),
    PLATFORM: (ADMIN,),
}

# The role that holds every right of its organisation.
TOP_ROLE = {MERCHANT: OWNER, PROVIDER: OWNER, PLATFORM: ADMIN}

LOCALES = ("en", "zh_Hans")
