"""Contract and milestone statuses, and the SLA value lists (DESIGN.md section 4).

The metric, statistic, window and comparator lists are kept here until the shared
value lists (fuwu/values.py) exist; they are the same values tenders and bids store.
"""

# Contract status: pending_signature -> active -> completed | terminated.
PENDING_SIGNATURE = "pending_signature"  # opened by the award; waits for both parties' signatures
ACTIVE = "active"  # signed by both; its SLA is measured and its periods billed
COMPLETED = "completed"  # ran to its end date
TERMINATED = "terminated"  # ended early by a party, with a reason

CONTRACT_STATUSES = (PENDING_SIGNATURE, ACTIVE, COMPLETED, TERMINATED)
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

MILESTONE_STATUSES = (MILESTONE_PENDING, MILESTONE_SUBMITTED, MILESTONE_REJECTED, MILESTONE_ACCEPTED)

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

# SLA metrics (to move to fuwu/values.py with their labels).
FIRST_RESPONSE_TIME = "first_response_time"  # seconds of business time
NEXT_RESPONSE_TIME = "next_response_time"  # seconds of business time
INQUIRY_CONVERSION_RATE = "inquiry_conversion_rate"  # fraction 0..1
SERVICE_ATTITUDE = "service_attitude"  # mean buyer rating 1..5
RESOLUTION_TIME = "resolution_time"  # seconds of business time
MILESTONE_ON_TIME_RATE = "milestone_on_time_rate"  # fraction 0..1
FIRST_PASS_ACCEPTANCE_RATE = "first_pass_acceptance_rate"  # fraction 0..1

SLA_METRICS = (
    FIRST_RESPONSE_TIME, NEXT_RESPONSE_TIME, INQUIRY_CONVERSION_RATE, SERVICE_ATTITUDE, RESOLUTION_TIME,
    MILESTONE_ON_TIME_RATE, FIRST_PASS_ACCEPTANCE_RATE,
)
DURATION_METRICS = (FIRST_RESPONSE_TIME, NEXT_RESPONSE_TIME, RESOLUTION_TIME)
RATE_METRICS = (INQUIRY_CONVERSION_RATE, MILESTONE_ON_TIME_RATE, FIRST_PASS_ACCEPTANCE_RATE)

SLA_STATISTICS = ("mean", "median", "p90", "rate")
# The statistics each metric can be measured by; the first is its default in reports.
METRIC_STATISTICS = {
    FIRST_RESPONSE_TIME: ("mean", "median", "p90"),
    NEXT_RESPONSE_TIME: ("mean", "median", "p90"),
    RESOLUTION_TIME: ("mean", "median", "p90"),
    SERVICE_ATTITUDE: ("mean", "median", "p90"),
    INQUIRY_CONVERSION_RATE: ("rate",),
    MILESTONE_ON_TIME_RATE: ("rate",),
    FIRST_PASS_ACCEPTANCE_RATE: ("rate",),
}

DAY = "day"
WEEK = "week"  # ISO week, from Monday 00:00
MONTH = "month"
SLA_WINDOWS = (DAY, WEEK, MONTH)

SLA_COMPARATORS = ("<=", ">=")

# A measurement's outcome.
MET = "met"
BREACHED = "breached"
NO_SAMPLES = "none"  # the window had no samples: neither met nor breached
