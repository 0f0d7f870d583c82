"""Error codes of the ratings domain."""

from enum import StrEnum

from fuwu.i18n import N_


class RatingsError(StrEnum):
    SCORE = "rating_score_invalid"
    COMMENT = "rating_comment_invalid"
    OCCASION = "rating_occasion_invalid"
    CONTRACT = "rating_contract_invalid"
    DUPLICATE = "rating_duplicate"
    REPLY = "rating_reply_invalid"
    REPLIED = "rating_already_replied"
    DISPUTE = "rating_dispute_invalid"
    DISPUTED = "rating_already_disputed"
    DISPUTE_STATE = "rating_dispute_state"
    REASON = "reason_required"
    BANDS = "tier_bands_invalid"
    GRADE = "brand_grade_invalid"
    TIER = "tier_invalid"
    APPROVAL = "tier_approval_invalid"
    SAME_ADMIN = "second_admin_required"


# The things the ratings domain's not-found errors name, marked for translation.
THINGS = (N_("Rating"), N_("Dispute"), N_("Milestone"), N_("Contract"))
