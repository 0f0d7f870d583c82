"""Error codes of the sla domain."""

from enum import StrEnum


class SlaError(StrEnum):
    CALENDAR = "calendar_invalid"
    TIME_ZONE = "time_zone_invalid"
    WINDOW = "window_invalid"
    EVENT = "service_event_invalid"
    HISTORY_LINE = "history_line_invalid"
    ORDER = "order_invalid"
    RANGE = "report_range_invalid"
    CONTRACT = "contract_invalid"
    CONTRACT_STATE = "contract_state"
    REASON = "reason_required"
    DATES = "contract_dates_invalid"
    ATTRIBUTION = "attribution_window_invalid"
    MILESTONE = "milestone_invalid"
    MILESTONE_STATE = "milestone_state"
