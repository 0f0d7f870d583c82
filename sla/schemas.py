"""What the sla API reads and writes."""

from __future__ import annotations

import datetime
import uuid
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from sla import states

ContractStatus = Literal["pending_signature", "active", "completed", "terminated"]
Minor = Annotated[int, Meta(ge=0, le=10**13, description="Money in minor units (fen for CNY) of the contract's currency.")]


class SlaTargetRead(msgspec.Struct):
    id: uuid.UUID
    metric: str
    statistic: str
    comparator: str
    target: Annotated[float, Meta(description="In the metric's unit: durations in seconds, rates as a fraction "
                                              "from 0 to 1, service attitude as a mean rating from 1 to 5.")]
    window: str
    weight: Annotated[int, Meta(description="Weight of this target among the SLA, in percent.")]
    credit_percent: Annotated[float, Meta(description="Service credit owed on a breach, in percent of the period fee.")]
    bonus_percent: Annotated[float, Meta(description="Bonus earned by beating the target by bonus_margin, in percent "
                                                     "of the period fee.")]
    bonus_margin: Annotated[float, Meta(description="How far past the target earns the bonus, in the metric's unit.")]


class ContractRead(msgspec.Struct):
    id: uuid.UUID
    merchant_id: uuid.UUID
    merchant_name: str
    provider_id: uuid.UUID
    provider_name: str
    tender_id: uuid.UUID | None
    title: str | None
    bid_id: uuid.UUID | None
    category: str
    seats: Annotated[int, Meta(ge=1, description="The people the contract takes from the provider's capacity while "
                                               "it runs (awarded or active): the winning bid's team seats, else the "
                                               "seats the tender asked for, at least 1.")]
    status: ContractStatus
    starts_at: datetime.datetime
    ends_at: datetime.datetime
    currency: str
    pricing_model: str
    pricing_terms: Annotated[dict, Meta(description="Copied from the winning bid: amount (minor units), unit (for "
                                                    "metered prices) and period of the fee.")]
    period_fee: Minor
    attribution_window_seconds: Annotated[int, Meta(description="Orders within this many seconds after a buyer's "
                                                                "first message count as converted.")]
    time_zone: str
    calendar: Annotated[dict, Meta(description='Coverage calendar: {"weekdays": {"mon": [["09:00", "18:00"]], ...}, '
                                              '"holidays": ["2026-10-01"]} in local clock times.')]
    merchant_signed_at: datetime.datetime | None
    provider_signed_at: datetime.datetime | None
    status_reason: str
    created_at: datetime.datetime
    targets: list[SlaTargetRead] = []
    side: Literal["merchant", "provider", ""] = ""


class ContractTermsUpdate(msgspec.Struct, forbid_unknown_fields=True):
    starts_at: datetime.datetime | None = None
    ends_at: datetime.datetime | None = None
    time_zone: Annotated[str, Meta(min_length=1, max_length=64)] | None = None
    calendar: dict | None = None
    attribution_window_seconds: Annotated[int, Meta(ge=60, le=30 * 86400, description="Seconds.")] | None = None


class TerminateRequest(msgspec.Struct, forbid_unknown_fields=True):
    reason: Annotated[str, Meta(min_length=10, max_length=2000)]


class MilestoneCreate(msgspec.Struct, forbid_unknown_fields=True):
    deliverable: Annotated[str, Meta(min_length=1, max_length=200)]
    due_at: datetime.datetime
    amount: Minor = 0


class MilestoneSubmit(msgspec.Struct, forbid_unknown_fields=True):
    note: Annotated[str, Meta(max_length=5000)] = ""


class MilestoneDecision(msgspec.Struct, forbid_unknown_fields=True):
    reason: Annotated[str, Meta(max_length=2000)] = ""


class SubmissionRead(msgspec.Struct):
    id: uuid.UUID
    number: int
    note: str
    files: list[dict]
    submitted_at: datetime.datetime
    submitted_by_name: str
    decision: str
    reason: str
    decided_at: datetime.datetime | None


class MilestoneRead(msgspec.Struct):
    id: uuid.UUID
    contract_id: uuid.UUID
    deliverable: str
    due_at: datetime.datetime
    amount: Minor
    status: Literal[states.MILESTONE_PENDING, states.MILESTONE_SUBMITTED, states.MILESTONE_REJECTED,
                    states.MILESTONE_ACCEPTED]
    created_at: datetime.datetime
    submissions: list[SubmissionRead] = []


class OrderCreate(msgspec.Struct, forbid_unknown_fields=True):
    order: Annotated[str, Meta(min_length=1, max_length=100, description="The shop's own order id: a repeat is "
                                                                         "answered with the first report.")]
    buyer: Annotated[str, Meta(min_length=1, max_length=100, description="The shop's buyer id, as in chat.")]
    amount: Minor
    currency: Annotated[str, Meta(pattern="^[A-Z]{3}$")] = "CNY"
    placed_at: datetime.datetime | None = None


class OrderRead(msgspec.Struct):
    id: int
    order: str
    buyer: str
    amount: Minor
    currency: str
    at: Annotated[datetime.datetime, Meta(description="Server time the order reached Fuwu: attribution uses it.")]
    created: bool


class HistoryImportRead(msgspec.Struct):
    import_id: uuid.UUID
    lines: Annotated[int, Meta(description="Lines read from the file.")]
    added: Annotated[int, Meta(description="Events added (a line imported before adds nothing).")]


class AttitudeStanding(msgspec.Struct):
    """Service attitude against the other providers with contracts in the same
    category measured in the same window (each provider's mean rating over its
    contracts in the category, each provider counted once)."""

    peers: Annotated[int, Meta(description="Other providers of the category measured in the window.")]
    peer_mean: Annotated[float, Meta(description="The mean of the peers' mean ratings.")]
    above_percent: Annotated[float, Meta(description="How far the value is above the peers' mean, in percent of "
                                                     "that mean ((value - peer_mean) / peer_mean * 100); negative "
                                                     "when below.")]
    better_than_percent: Annotated[float, Meta(description="The share of peers whose mean is below the value, "
                                                           "in percent.")]


class ReportMetric(msgspec.Struct):
    metric: str
    statistic: str
    value: Annotated[float | None, Meta(description="In the metric's unit: seconds, a fraction 0..1, a rating; "
                                                    "null without samples.")]
    sample_size: int
    target: float | None
    comparator: str | None
    target_id: uuid.UUID | None
    met: bool | None
    standing: Annotated[AttitudeStanding | None, Meta(
        description="Service attitude of a contract's live events: its standing among the category's providers "
                    "in the same window; null for other metrics, for history and without peers.")] = None


class ReportWindow(msgspec.Struct):
    start: datetime.datetime
    end: datetime.datetime
    metrics: list[ReportMetric]


class ReportRead(msgspec.Struct):
    contract_id: uuid.UUID | None
    shop_id: uuid.UUID
    source: Literal["live", "history"]
    window_size: Literal["day", "week", "month"]
    start: datetime.datetime
    end: datetime.datetime
    as_of: Annotated[datetime.datetime, Meta(description="The moment T the figures are computed as of: the range's "
                                                         "end or the present, whichever is earlier.")]
    time_zone: str
    windows: list[ReportWindow]
