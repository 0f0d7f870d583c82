"""Bid and evaluation-round statuses (DESIGN.md section 3), with their labels."""

from fuwu.i18n import N_
from fuwu.values import Values

SUBMITTED = "submitted"  # live and counting
NEEDS_CONFIRMATION = "needs_confirmation"  # the tender was amended after it; does not count until confirmed or revised
WITHDRAWN = "withdrawn"  # taken back by its provider before the deadline
DISCARDED = "discarded"  # the tender was cancelled before the deadline; never read

LIVE = (SUBMITTED, NEEDS_CONFIRMATION)

# A bid's result once evaluation moves on.
NOT_CONFIRMED = "not_confirmed"  # still needed confirmation at the deadline: not evaluated
ELIMINATED = "eliminated"  # not shortlisted after a round
AWARDED = "awarded"
NOT_AWARDED = "not_awarded"

ROUND_OPEN = "open"  # evaluators score
ROUND_CLOSED = "closed"  # scores and ranks are final

# --- labels (see fuwu.values) ---------------------------------------------------------

BID_STATUSES = Values(
    (SUBMITTED, N_("Submitted")),
    (NEEDS_CONFIRMATION, N_("Needs confirmation")),
    (WITHDRAWN, N_("Withdrawn")),
    (DISCARDED, N_("Discarded")),
)
RESULTS = Values(
    (NOT_CONFIRMED, N_("Not confirmed in time")),
    (ELIMINATED, N_("Not shortlisted")),
    (AWARDED, N_("Awarded")),
    (NOT_AWARDED, N_("Not awarded")),
)
ROUND_STATUSES = Values(
    (ROUND_OPEN, N_("Open")),
    (ROUND_CLOSED, N_("Closed")),
)
# What a bid's revision history records.
REVISION_ACTIONS = Values(
    ("submitted", N_("Submitted")),
    ("revised", N_("Revised")),
    ("confirmed", N_("Confirmed")),
    ("withdrawn", N_("Withdrawn")),
)

# What the bids' audit events record. The shell's audit pages show an action it does
# not know as its words (fuwu.values.audit_label): these labels are those words.
AUDIT_ACTIONS = Values(
    ("submitted", N_("submitted")),
    ("revised", N_("revised")),
    ("confirmed", N_("confirmed")),
    ("withdrawn", N_("withdrawn")),
    ("file_added", N_("file added")),
    ("bid_scored", N_("bid scored")),
    ("round_closed", N_("round closed")),
    ("shortlisted", N_("shortlisted")),
    ("presentation_scheduled", N_("presentation scheduled")),
    ("presentation_confirmed", N_("presentation confirmed")),
    ("site_finding_recorded", N_("site finding recorded")),
    ("awarded", N_("awarded")),
)
AUDIT_OBJECTS = Values(
    ("bid", N_("bid")),
)
