"""Error codes of the chat domain (also the `code` of error frames)."""

from enum import StrEnum


class ChatError(StrEnum):
    MALFORMED = "malformed_frame"
    UNKNOWN_TYPE = "unknown_frame_type"
    EMPTY = "empty_message"
    TOO_LONG = "message_too_long"
    RATE_LIMITED = "rate_limited"
    CLOSED = "conversation_closed"
    RATED = "already_rated"
    RATING = "rating_invalid"
    NO_CAPACITY = "no_capacity"
    VISITOR = "visitor_token_invalid"
    SEAT = "seat_invalid"
    BUSINESS = "business_conversation"
