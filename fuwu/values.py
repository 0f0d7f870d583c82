"""The lists of stored values the whole marketplace shares, each value with its label.

A list is defined here once, in display order, each value beside the English message
id of its label (translated when shown). Schemas take their Literal types from these
lists (`Values.literal()`), forms their choices, pages and templates their labels
(`label(kind, value)`). Lists that belong to one domain live in that domain's
`states.py` (tender statuses in tenders, bid statuses in bids) and are built the same
way.

Organisation kinds and roles keep their constants and rules in `fuwu.roles`; their
labels are here.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Iterator, Literal

from fuwu import i18n, roles
from fuwu.i18n import N_


class Labels(dict):
    """Labels of a list's values in the reader's language, by value; an unknown value
    is shown as it is. For a page that shows many (`labels[value]` in a template is a
    lookup, where `label(kind, value)` is a call through Jinja's machinery each time)."""

    def __missing__(self, value: Any) -> str:
        return "" if value is None else str(value)


class Values:
    """An ordered list of stored values with the message id of each one's label."""

    def __init__(self, *pairs: tuple[str, str]) -> None:
        self.labels: dict[str, str] = dict(pairs)
        self.values: tuple[str, ...] = tuple(self.labels)

    def __iter__(self) -> Iterator[str]:
        return iter(self.values)

    def __contains__(self, value: object) -> bool:
        return value in self.labels

    def __len__(self) -> int:
        return len(self.values)

    def __getitem__(self, index: int) -> str:
        return self.values[index]

    def literal(self) -> Any:
        """The Literal type a msgspec schema validates these values with."""
        return Literal[self.values]  # type: ignore[valid-type]

    def label(self, value: Any) -> str:
        """The translated label of a value; an unknown value is shown as it is."""
        text = self.labels.get(value)
        return i18n.gettext(text) if text else ("" if value is None else str(value))

    def translated(self) -> Labels:
        """Every value's label, in the reader's language."""
        return Labels((value, i18n.gettext(text)) for value, text in self.labels.items())


# --- organisations -------------------------------------------------------------------

ORG_KINDS = Values(
    (roles.MERCHANT, N_("Merchant")),
    (roles.PROVIDER, N_("Provider")),
    (roles.PLATFORM, N_("Platform")),
)
ROLES = Values(
    (roles.OWNER, N_("Owner")),
    (roles.OPERATOR, N_("Operator")),
    (roles.EVALUATOR, N_("Evaluator")),
    (roles.MANAGER, N_("Manager")),
    (roles.AGENT, N_("Agent")),
    (roles.ADMIN, N_("Administrator")),
)
MERCHANT_SIZES = Values(
    ("small", N_("Small")),
    ("medium", N_("Medium")),
    ("large", N_("Large")),
    ("key_account", N_("Key account")),
)

# Service categories: providers are listed in them, tenders are posted in one.
CATEGORIES = Values(
    ("cs_presales", N_("Customer service (pre-sales)")),
    ("cs_postsales", N_("Customer service (post-sales)")),
    ("photography", N_("Photography")),
    ("design", N_("Design")),
    ("consulting", N_("Consulting and training")),
    ("video", N_("Video")),
    ("other", N_("Other services")),
)

# --- terms of service ----------------------------------------------------------------

PRICING_MODELS = Values(
    ("periodic_fee", N_("Periodic fee")),
    ("per_order", N_("Per order or deliverable")),
    ("metered", N_("Metered")),
    ("pay_after_delivery", N_("Pay after delivery")),
)

# SLA metrics (DESIGN.md section 4). Each is measured in one unit, stored as it is
# measured: durations in seconds, rates as a fraction (0.54), service attitude as the
# mean buyer rating (1 to 5). Forms and pages show rates as percent.
SLA_METRICS = Values(
    ("first_response_time", N_("First response time")),
    ("next_response_time", N_("Next response time")),
    ("inquiry_conversion_rate", N_("Inquiry conversion rate")),
    ("service_attitude", N_("Service attitude")),
    ("resolution_time", N_("Resolution time")),
    ("milestone_on_time_rate", N_("Milestone on-time rate")),
    ("first_pass_acceptance_rate", N_("First-pass acceptance rate")),
)
DURATION = "duration"  # seconds
RATE = "rate"  # a fraction from 0 to 1, entered and shown as percent
RATING = "rating"  # a mean buyer rating from 0 to 5
METRIC_UNITS = {
    "first_response_time": DURATION,
    "next_response_time": DURATION,
    "inquiry_conversion_rate": RATE,
    "service_attitude": RATING,
    "resolution_time": DURATION,
    "milestone_on_time_rate": RATE,
    "first_pass_acceptance_rate": RATE,
}
RATING_MAX = 5
DURATION_MAX_SECONDS = 30 * 24 * 3600  # a target beyond a month measures nothing a contract can hold
SLA_STATISTICS = Values(
    ("mean", N_("mean")),
    ("median", N_("median")),
    ("p90", N_("90th percentile")),
    ("rate", N_("rate")),
)
SLA_WINDOWS = Values(
    ("day", N_("per day")),
    ("week", N_("per week")),
    ("month", N_("per month")),
)
SLA_COMPARATORS = ("<=", ">=")
# Units a duration target is entered in.
DURATION_UNITS = Values(
    ("seconds", N_("seconds")),
    ("minutes", N_("minutes")),
    ("hours", N_("hours")),
)
DURATION_SECONDS = {"seconds": 1, "minutes": 60, "hours": 3600}


class TargetError(ValueError):
    """An SLA target outside its metric's bounds; `detail` is an English message id
    with {metric}, {max} and {unit} to fill in."""

    def __init__(self, detail: str, params: dict) -> None:
        super().__init__(detail.format(**params))
        self.detail = detail
        self.params = params


def check_target(metric: str, target: float) -> None:
    """Bounds of a stored target: a rate is a fraction from 0 to 1, a rating is from 0
    to 5, a duration from 0 seconds to 30 days. Raises TargetError."""
    unit = METRIC_UNITS.get(metric)
    if unit == RATE and not 0 <= target <= 1:
        raise TargetError(N_("{metric} is a rate: send a fraction from 0 to 1 (0.3 for 30 %)."),
                          {"metric": metric})
    if unit == RATING and not 0 <= target <= RATING_MAX:
        raise TargetError(N_("{metric} is a rating from 0 to {max}."), {"metric": metric, "max": RATING_MAX})
    if unit == DURATION and not 0 <= target <= DURATION_MAX_SECONDS:
        raise TargetError(N_("{metric} is a time in seconds, from 0 to {max} (30 days)."),
                          {"metric": metric, "max": DURATION_MAX_SECONDS})


def _plain(value: Decimal) -> str:
    """A number as people write it: 30, 54.5, 0.25 (no exponent, no trailing zeros)."""
    text = f"{value.normalize():f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def target_input(metric: str, target: float | None) -> tuple[str, str]:
    """A stored target as the form shows it: (number, duration unit). A rate in
    percent, a duration in the largest unit that holds it whole."""
    if target is None or target == "":
        return "", "seconds"
    value = Decimal(str(target))
    unit = METRIC_UNITS.get(metric)
    if unit == RATE:
        return _plain(value * 100), "seconds"
    if unit == DURATION:
        for name in ("hours", "minutes"):
            size = DURATION_SECONDS[name]
            if value >= size and value % size == 0:
                return _plain(value / size), name
    return _plain(value), "seconds"


def target_from_input(metric: str, text: str, duration_unit: str = "seconds") -> float:
    """A typed target in the unit the form asks for (percent for rates, the chosen
    unit for durations) as it is stored. Raises TargetError for a number outside
    the metric's bounds and ValueError for text that is not a number."""
    value = Decimal((text or "").strip().replace(",", ".").rstrip("%").strip())
    if not value.is_finite():
        raise ValueError(text)
    unit = METRIC_UNITS.get(metric)
    if unit == RATE:
        if not 0 <= value <= 100:
            raise TargetError(N_("{metric} is a percentage from 0 to 100."), {"metric": metric})
        return float(value / 100)
    if unit == DURATION:
        seconds = value * DURATION_SECONDS.get(duration_unit, 1)
        if not 0 <= seconds <= DURATION_MAX_SECONDS:
            raise TargetError(N_("{metric} must be from 0 seconds to 30 days."), {"metric": metric})
        return float(seconds)
    if unit == RATING and not 0 <= value <= RATING_MAX:
        raise TargetError(N_("{metric} is a rating from 0 to {max}."), {"metric": metric, "max": RATING_MAX})
    return float(value)


def format_target(metric: str, target: float | None) -> str:
    """A stored target as a page shows it: '30 %', '25 s', '5 min', '4.8 of 5'."""
    if target is None or target == "":
        return ""
    number, duration_unit = target_input(metric, target)
    unit = METRIC_UNITS.get(metric)
    if unit == RATE:
        return i18n.translate_format(N_("{number} %"), {"number": number})
    if unit == RATING:
        return i18n.translate_format(N_("{number} of {max}"), {"number": number, "max": RATING_MAX})
    if unit == DURATION:
        words = {"seconds": N_("{number} s"), "minutes": N_("{number} min"), "hours": N_("{number} h")}
        return i18n.translate_format(words[duration_unit], {"number": number})
    return number


def format_measured(metric: str, value: float | None) -> str:
    """A measured figure as a page shows it, rounded as a person reads it: '24.8 s',
    '54.4 %', '4.72 of 5'; a long duration in minutes or hours."""
    if value is None:
        return ""
    unit = METRIC_UNITS.get(metric)
    if unit == RATE:
        return i18n.translate_format(N_("{number} %"), {"number": f"{value * 100:.1f}"})
    if unit == RATING:
        return i18n.translate_format(N_("{number} of {max}"), {"number": f"{value:.2f}", "max": RATING_MAX})
    if unit == DURATION:
        if value >= 3600:
            return i18n.translate_format(N_("{number} h"), {"number": f"{value / 3600:.1f}"})
        if value >= 600:
            return i18n.translate_format(N_("{number} min"), {"number": f"{value / 60:.1f}"})
        return i18n.translate_format(N_("{number} s"), {"number": f"{value:.1f}"})
    return f"{value:.2f}"


# --- the audit log -------------------------------------------------------------------

# What the shell's audit events record; domains list theirs in their states.py.
AUDIT_ACTIONS = Values(
    ("signed_up", N_("signed up")),
    ("created", N_("created")),
    ("updated", N_("updated")),
    ("revoked", N_("revoked")),
    ("role_changed", N_("role changed")),
    ("removed", N_("removed")),
    ("joined", N_("joined")),
    ("admin_created", N_("admin created")),
    ("profile_updated", N_("profile updated")),
    ("suspended", N_("suspended")),
    ("reinstated", N_("reinstated")),
    ("verified", N_("verified")),
    ("unverified", N_("verification withdrawn")),
)
AUDIT_OBJECTS = Values(
    ("user", N_("user")),
    ("organisation", N_("organisation")),
    ("membership", N_("membership")),
    ("invitation", N_("invitation")),
    ("api_token", N_("API token")),
)


def humanised(code: str) -> str:
    """The English words of a code: 'bid_scored' -> 'bid scored'. A domain's audit
    actions are labelled with these words (see `audit_label`)."""
    return str(code).replace("_", " ").strip()


def audit_label(values: Values, code: Any) -> str:
    """An audit action's or object's label. The shell shows events of every domain but
    imports none: a code not in its own list is shown as its words, translated (each
    domain marks those words for translation in its states.py, and a test checks that
    each domain's labels are exactly those words)."""
    if code in values:
        return values.label(code)
    return i18n.gettext(humanised(code)) if code else ""


LISTS: dict[str, Values] = {
    "kind": ORG_KINDS,
    "role": ROLES,
    "size": MERCHANT_SIZES,
    "category": CATEGORIES,
    "pricing": PRICING_MODELS,
    "metric": SLA_METRICS,
    "statistic": SLA_STATISTICS,
    "window": SLA_WINDOWS,
    "duration_unit": DURATION_UNITS,
}


def label(kind: str, value: Any) -> str:
    """The translated label of a stored value of one of the shared lists, or of an
    audit action ("action") or audited object ("object"); an unknown value is shown
    as it is."""
    if kind == "action":
        return audit_label(AUDIT_ACTIONS, value)
    if kind == "object":
        return audit_label(AUDIT_OBJECTS, value)
    values = LISTS.get(kind)
    if values is None:
        return "" if value is None else str(value)
    return values.label(value)
