"""Bid and evaluation-round statuses (DESIGN.md section 3)."""

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
