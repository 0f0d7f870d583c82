"""Error codes of the tenders domain."""

from enum import StrEnum


class TenderError(StrEnum):
    NOT_DRAFT = "tender_not_draft"
    NOT_PUBLISHED = "tender_not_published"
    BAD_TRANSITION = "tender_bad_transition"
    DEADLINES_OUT_OF_ORDER = "deadlines_out_of_order"
    DEADLINE_IN_PAST = "deadline_in_past"
    BIDDING_TOO_SHORT = "bidding_period_too_short"
    BUDGET_RANGE = "budget_range_invalid"
    WEIGHTS = "criteria_weights_not_100"
    ROUNDS = "rounds_invalid"
    REQUIREMENTS = "requirements_invalid"
    QUESTIONS_CLOSED = "questions_closed"
    ALREADY_ANSWERED = "question_already_answered"
    NOT_A_PROVIDER = "not_a_provider"
    INVITATION = "invitation_invalid"
    NOT_INVITABLE = "provider_not_invitable"  # its standing (tier) is the lowest
    REASON_REQUIRED = "reason_required"
    NOTHING_CHANGED = "nothing_changed"
