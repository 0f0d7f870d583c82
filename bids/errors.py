"""Error codes of the bids domain."""

from enum import StrEnum


class BidError(StrEnum):
    DEADLINE_PASSED = "bid_deadline_passed"
    NOT_OPEN = "tender_not_open_for_bids"
    ALREADY_BID = "bid_already_exists"
    NO_BID = "no_live_bid"
    PRICING = "pricing_not_accepted"
    VALIDITY = "validity_too_short"
    SEALED = "bids_sealed"
    NOT_EVALUATING = "not_evaluating"
    ROUND = "round_invalid"
    UNSCORED = "bids_unscored"
    SHORTLIST = "shortlist_invalid"
    AWARD_REASON = "award_reason_required"
    ALREADY_AWARDED = "already_awarded"
    ATTACHMENT = "attachment_invalid"
    SLOT = "slot_invalid"
