"""Contracts, SLA targets, milestones, the service-event log, measurements and
breaches (DESIGN.md section 4)."""

from piccolo.columns import JSON, UUID, BigInt, BigSerial, Float, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from bids.tables import Bid
from fuwu.tables import Organisation, User
from tenders.tables import Tender


class Contract(Table, tablename="sla_contract"):
    id = UUID(primary_key=True)
    merchant = ForeignKey(references=Organisation, index=True)
    provider = ForeignKey(references=Organisation, index=True)
    # Set when an award opened the contract (always, today); nullable so that a
    # contract can stand without a tender, as a direct purchase would.
    tender = ForeignKey(references=Tender, null=True, default=None, index=True)
    bid = ForeignKey(references=Bid, null=True, default=None)
    category = Varchar(length=20, index=True)
    status = Varchar(length=20, default="pending_signature", index=True)  # sla.states
    # The people the contract takes from the provider's capacity while it runs: the
    # seats of the winning bid's team, else the seats the tender asked for, at least 1.
    seats = Integer(default=1)
    starts_at = Timestamptz()
    ends_at = Timestamptz()
    currency = Varchar(length=3, default="CNY")
    pricing_model = Varchar(length=20)
    pricing_terms = JSON(default={})  # copied from the bid: amount, unit, period
    period_fee = BigInt(default=0)  # minor units, the base of service credits and bonuses
    attribution_window_seconds = Integer(default=86400)
    time_zone = Varchar(length=64, default="Asia/Shanghai")
    # Coverage calendar: {"weekdays": {"mon": [["09:00", "18:00"], ...], ...},
    # "holidays": ["2026-10-01", ...]} in local clock times (sla.calendar validates it).
    calendar = JSON(default={})
    merchant_signed_at = Timestamptz(null=True, default=None)
    provider_signed_at = Timestamptz(null=True, default=None)
    status_reason = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())
    # When the evaluation job last went through the contract's windows; each run
    # takes the contracts that waited longest (never evaluated first).
    evaluated_at = Timestamptz(null=True, default=None)


class SlaTarget(Table, tablename="sla_target"):
    id = UUID(primary_key=True)
    contract = ForeignKey(references=Contract, index=True)
    metric = Varchar(length=40)
    statistic = Varchar(length=10)  # mean, median, p90, rate
    comparator = Varchar(length=2)  # <= or >=
    target = Float()  # in the metric's unit: seconds, a 0..1 rate, a 1..5 rating
    window = Varchar(length=5, default="month")  # day, week, month
    weight = Integer(default=0)
    credit_percent = Float(default=0)  # of the period fee, owed on breach
    bonus_percent = Float(default=0)  # of the period fee, earned by beating the target by bonus_margin
    bonus_margin = Float(default=0)  # in the metric's unit


class Milestone(Table, tablename="sla_milestone"):
    id = UUID(primary_key=True)
    contract = ForeignKey(references=Contract, index=True)
    deliverable = Varchar(length=200)
    due_at = Timestamptz()
    amount = BigInt(default=0)  # minor units, released on acceptance
    status = Varchar(length=20, default="pending")  # sla.states MILESTONE_*
    created_at = Timestamptz(default=TimestamptzNow())


class ServiceEvent(Table, tablename="sla_service_event"):
    """The append-only log every metric is computed from.

    `id` is the order in the log (an autoincrement), which breaks ties between
    events of one server time; `at_us` is `at` in microseconds since the epoch, the
    form the metric SQL computes with on both engines."""

    id = BigSerial(primary_key=True)
    contract = ForeignKey(references=Contract, null=True, default=None)
    shop = ForeignKey(references=Organisation)  # the merchant whose shop the event belongs to
    source = Varchar(length=10, default="live")  # live, history
    import_id = UUID(null=True, default=None)
    line = Integer(null=True, default=None)  # the history file's line number
    kind = Varchar(length=24)  # sla.states EVENT_KINDS
    at = Timestamptz()
    at_us = BigInt()
    conversation = Varchar(length=100, null=True, default=None)
    buyer = Varchar(length=100, null=True, default=None)
    agent = Varchar(length=100, null=True, default=None)
    order_ref = Varchar(length=100, null=True, default=None)
    milestone = Varchar(length=100, null=True, default=None)
    due_us = BigInt(null=True, default=None)  # milestone_created: the due time
    rating = Integer(null=True, default=None)
    amount = BigInt(null=True, default=None)  # minor units
    currency = Varchar(length=3, null=True, default=None)
    shop_time = Timestamptz(null=True, default=None)  # an order's own time as the shop reported it
    # "<source>:<shop>:<order>": the first report of an order wins.
    order_key = Varchar(length=200, null=True, default=None, unique=True)
    # "<shop>:<line number>:<sha256 of line number and content>" (sla.services.events.line_key):
    # re-importing a file changes nothing.
    line_key = Varchar(length=120, null=True, default=None, unique=True)


class ChatStep(Table, tablename="sla_chat_step"):
    """Derived from the log, never written by hand: a contract's chat events that the
    chat metrics start from, each with what the events around it in its conversation
    say of it (sla.sql, "chat steps"), rebuilt after appends, so that the evaluation
    reads its samples instead of ordering every conversation's events again at every
    run. `id` is the event's."""

    id = BigInt(primary_key=True)
    contract = UUID()
    conversation = Varchar(length=100)
    kind = Varchar(length=24)
    at_us = BigInt()
    # 1 a first response starts, 2 a next response starts (buyer messages),
    # 3 a close, 4 a rating (sla.metrics.METRIC_NUMBERS' chat metrics).
    step = Integer()
    first_buyer_us = BigInt(null=True, default=None)  # a close: the conversation's first buyer message
    stop_us = BigInt(null=True, default=None)  # a buyer message: the next reply or close after it
    next_us = BigInt(null=True, default=None)  # a close or rating: the next one of its kind after it
    rating = Integer(null=True, default=None)


class StaleSteps(Table, tablename="sla_stale_steps"):
    """A contract's conversation whose chat steps may miss events appended since they
    were built (sla.sql, "chat steps"): marked by whoever appends, taken by the rebuild.
    One row per conversation (a unique index on the pair)."""

    contract = UUID()
    conversation = Varchar(length=100)
    changes = Integer(default=1)  # appends since the mark: the upsert that holds the row


class Measurement(Table, tablename="sla_measurement"):
    id = UUID(primary_key=True)
    contract = ForeignKey(references=Contract, index=True)
    target = ForeignKey(references=SlaTarget, index=True)
    window_start = Timestamptz()
    window_end = Timestamptz()
    version = Integer(default=1)
    # "<target>:<window start us>:<version>": one row per version, even under concurrency.
    key = Varchar(length=120, unique=True)
    value = Float(null=True, default=None)
    sample_size = Integer(default=0)
    target_value = Float()
    outcome = Varchar(length=10)  # met, breached, none
    as_of = Timestamptz()
    computed_at = Timestamptz(default=TimestamptzNow())


class Breach(Table, tablename="sla_breach"):
    id = UUID(primary_key=True)
    contract = ForeignKey(references=Contract, index=True)
    target = ForeignKey(references=SlaTarget)
    measurement = ForeignKey(references=Measurement)
    window_start = Timestamptz()
    window_end = Timestamptz()
    # "<target>:<window start us>": one breach per target and window; a later version
    # that is met again clears it (cleared_at).
    key = Varchar(length=120, unique=True)
    value = Float()
    target_value = Float()
    credit_percent = Float(default=0)
    credit_amount = BigInt(default=0)  # minor units of the contract's currency
    raised_at = Timestamptz(default=TimestamptzNow())
    cleared_at = Timestamptz(null=True, default=None)


class MilestoneSubmission(Table, tablename="sla_milestone_submission"):
    """One delivery of a milestone and the merchant's decision on it; a rejected
    milestone is delivered again as the next number."""

    id = UUID(primary_key=True)
    milestone = ForeignKey(references=Milestone, index=True)
    number = Integer()
    # "<milestone>:<number>": two deliveries at once cannot both be the same number.
    key = Varchar(length=80, unique=True)
    note = Text(default="")
    files = JSON(default=[])  # [{"name", "content_type", "size_bytes", "sha256", "stored_name"}]
    submitted_by = ForeignKey(references=User)
    submitted_at = Timestamptz()
    decision = Varchar(length=10, default="")  # "", accepted, rejected
    reason = Text(default="")
    decided_by = ForeignKey(references=User, null=True, default=None)
    decided_at = Timestamptz(null=True, default=None)


class SlaWarning(Table, tablename="sla_warning"):
    """An early warning sent to both parties: a target at risk in its running window
    (sla.services.risk). One per target and window, whatever runs the job."""

    id = UUID(primary_key=True)
    contract = ForeignKey(references=Contract, index=True)
    target = ForeignKey(references=SlaTarget)
    window_start = Timestamptz()
    window_end = Timestamptz()
    # "<target>:<window start us>": the unique key that makes the warning once only.
    key = Varchar(length=120, unique=True)
    reason = Varchar(length=20)  # behind, out_of_reach
    value = Float(null=True, default=None)
    sample_size = Integer(default=0)
    target_value = Float()
    sent_at = Timestamptz(default=TimestamptzNow())
