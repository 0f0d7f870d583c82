"""Contract and milestone statuses with their transitions and labels, the service
event kinds, and the SLA value lists the sla domain measures by (DESIGN.md section 4;
the shared lists of metrics, statistics and windows live in fuwu.values)."""

from fuwu import values
from fuwu.i18n import N_
from fuwu.values import Values

# Contract status: pending_signature -> active -> completed | terminated.
PENDING_SIGNATURE = "pending_signature"  # opened by the award; waits for both parties' signatures
ACTIVE = "active"  # signed by both; its SLA is measured and its periods billed
COMPLETED = "completed"  # ran to its end date
TERMINATED = "terminated"  # ended early by a party, with a reason

CONTRACT_STATUSES = Values(
    (PENDING_SIGNATURE, N_("Pending signature")),
    (ACTIVE, N_("Active")),
    (COMPLETED, N_("Completed")),
    (TERMINATED, N_("Terminated")),
)
# Categories whose contracts are staffed by agents and served through the live chat.
CUSTOMER_SERVICE_CATEGORIES = ("cs_presales", "cs_postsales")

CONTRACT_TRANSITIONS = {
    PENDING_SIGNATURE: (ACTIVE, TERMINATED),
    ACTIVE: (COMPLETED, TERMINATED),
    COMPLETED: (),
    TERMINATED: (),
}

# Milestone status.
MILESTONE_PENDING = "pending"  # created, nothing submitted yet
MILESTONE_SUBMITTED = "submitted"  # delivered, waiting for the merchant's decision
MILESTONE_REJECTED = "rejected"  # sent back with a reason; the provider may resubmit
MILESTONE_ACCEPTED = "accepted"  # final: its staged payment is released

MILESTONE_STATUSES = Values(
    (MILESTONE_PENDING, N_("Pending")),
    (MILESTONE_SUBMITTED, N_("Submitted")),
    (MILESTONE_REJECTED, N_("Rejected")),
    (MILESTONE_ACCEPTED, N_("Accepted")),
)

# Service-event sources: live events count toward a contract; imported history only
# gives the shop's baseline.
LIVE = "live"
HISTORY = "history"
SOURCES = (LIVE, HISTORY)

# Service-event kinds, the inputs of every metric.
CONVERSATION_OPENED = "conversation_opened"
BUYER_MESSAGE = "buyer_message"
AGENT_REPLY = "agent_reply"  # a message by a member of the contracted provider
NOTICE = "notice"  # an automatic notice or system message: never a reply
CONVERSATION_CLOSED = "conversation_closed"
CHAT_RATED = "chat_rated"
ORDER_PLACED = "order_placed"
MILESTONE_CREATED = "milestone_created"  # carries the milestone's due time
MILESTONE_SUBMITTED_EVENT = "milestone_submitted"
MILESTONE_ACCEPTED_EVENT = "milestone_accepted"
MILESTONE_REJECTED_EVENT = "milestone_rejected"

EVENT_KINDS = (
    CONVERSATION_OPENED, BUYER_MESSAGE, AGENT_REPLY, NOTICE, CONVERSATION_CLOSED, CHAT_RATED, ORDER_PLACED,
    MILESTONE_CREATED, MILESTONE_SUBMITTED_EVENT, MILESTONE_ACCEPTED_EVENT, MILESTONE_REJECTED_EVENT,
)
# The kinds a shop's history file may hold.
HISTORY_KINDS = (CONVERSATION_OPENED, BUYER_MESSAGE, AGENT_REPLY, NOTICE, CONVERSATION_CLOSED, CHAT_RATED, ORDER_PLACED)

# SLA metrics: the shared list, and each metric's name for the engine's dispatch.
SLA_METRICS = values.SLA_METRICS
FIRST_RESPONSE_TIME, NEXT_RESPONSE_TIME, INQUIRY_CONVERSION_RATE, SERVICE_ATTITUDE, RESOLUTION_TIME, \
    MILESTONE_ON_TIME_RATE, FIRST_PASS_ACCEPTANCE_RATE = SLA_METRICS.values
SLA_STATISTICS = values.SLA_STATISTICS
# The statistics each metric can be measured by, from its unit; the first is its
# default in reports.
METRIC_STATISTICS = {
    metric: ("rate",) if unit == values.RATE else ("mean", "median", "p90")
    for metric, unit in values.METRIC_UNITS.items()
}
SLA_WINDOWS = values.SLA_WINDOWS
DAY, WEEK, MONTH = SLA_WINDOWS.values  # a week is ISO, from Monday 00:00
SLA_COMPARATORS = values.SLA_COMPARATORS

# A measurement's outcome.
MET = "met"
BREACHED = "breached"
NO_SAMPLES = "none"  # the window had no samples: neither met nor breached

# What the sla domain's audit events record (labels are the actions' own words: the
# shell shows them so on its timelines).
AUDIT_ACTIONS = Values(
    ("opened", N_("opened")),
    ("signed_by_merchant", N_("signed by merchant")),
    ("signed_by_provider", N_("signed by provider")),
    ("terms_changed", N_("terms changed")),
    ("status_active", N_("status active")),
    ("status_completed", N_("status completed")),
    ("status_terminated", N_("status terminated")),
    ("milestone_added", N_("milestone added")),
    ("milestone_submitted", N_("milestone submitted")),
    ("milestone_accepted", N_("milestone accepted")),
    ("milestone_rejected", N_("milestone rejected")),
    ("history_imported", N_("history imported")),
)
AUDIT_OBJECTS = Values(
    ("contract", N_("contract")),
)

WEEKDAYS = Values(
    ("mon", N_("Monday")), ("tue", N_("Tuesday")), ("wed", N_("Wednesday")), ("thu", N_("Thursday")),
    ("fri", N_("Friday")), ("sat", N_("Saturday")), ("sun", N_("Sunday")),
)
