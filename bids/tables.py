"""Bids and their revisions and files; evaluation rounds, scores, presentations,
site inspections; the award."""

from piccolo.columns import JSON, UUID, BigInt, Boolean, Float, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from fuwu.tables import Organisation, User
from tenders.tables import Tender


class Bid(Table, tablename="bids_bid"):
    id = UUID(primary_key=True)
    tender = ForeignKey(references=Tender, index=True)
    provider = ForeignKey(references=Organisation, index=True)
    submitted_by = ForeignKey(references=User)
    status = Varchar(length=20, default="submitted", index=True)
    # "<tender>:<provider>" while the bid is live, NULL after withdrawal: one live bid
    # per provider and tender, enforced by the database even under concurrency.
    live_key = Varchar(length=80, unique=True, null=True, default=None)
    price_amount = BigInt()  # minor units
    pricing_model = Varchar(length=20)
    price_unit = Varchar(length=40, default="")  # for metered prices, e.g. "conversation"
    currency = Varchar(length=3, default="CNY")
    proposal = Text(default="")
    sla_commitment = JSON(default=[])
    team = JSON(default={})  # {seats, agents: [names]}
    valid_until = Timestamptz()
    version = Integer(default=1)
    first_submitted_at = Timestamptz()
    submitted_at = Timestamptz()  # server time of the latest submission, revision or confirmation
    withdrawn_at = Timestamptz(null=True, default=None)
    result = Varchar(length=20, default="")  # bids.states results
    rank = Integer(null=True, default=None)


class BidRevision(Table, tablename="bids_revision"):
    id = UUID(primary_key=True)
    bid = ForeignKey(references=Bid, index=True)
    version = Integer()
    action = Varchar(length=20)  # submitted, revised, confirmed, withdrawn
    at = Timestamptz(default=TimestamptzNow())
    by = ForeignKey(references=User)
    snapshot = JSON(default={})


class BidAttachment(Table, tablename="bids_attachment"):
    id = UUID(primary_key=True)
    bid = ForeignKey(references=Bid, index=True)
    filename = Varchar(length=200)
    content_type = Varchar(length=100)
    size_bytes = BigInt()
    sha256 = Varchar(length=64)
    stored_name = Varchar(length=80)
    uploaded_by = ForeignKey(references=User)
    uploaded_at = Timestamptz(default=TimestamptzNow())
    removed_at = Timestamptz(null=True, default=None)


class EvaluationRound(Table, tablename="bids_round"):
    id = UUID(primary_key=True)
    tender = ForeignKey(references=Tender, index=True)
    number = Integer()
    kind = Varchar(length=20)
    criteria = JSON(default=[])
    status = Varchar(length=10, default="open")
    pair = Varchar(length=60, unique=True)  # "<tender>:<number>"
    opened_at = Timestamptz(default=TimestamptzNow())
    closed_at = Timestamptz(null=True, default=None)
    shortlisted_at = Timestamptz(null=True, default=None)


class RoundEntry(Table, tablename="bids_round_entry"):
    id = UUID(primary_key=True)
    round = ForeignKey(references=EvaluationRound, index=True)
    bid = ForeignKey(references=Bid, index=True)
    pair = Varchar(length=80, unique=True)  # "<round>:<bid>"
    score = Float(null=True, default=None)  # 0–100, once the round closes
    rank = Integer(null=True, default=None)
    details = JSON(default={})  # per criterion: points and mean
    shortlisted = Boolean(null=True, default=None)


class Score(Table, tablename="bids_score"):
    id = UUID(primary_key=True)
    round = ForeignKey(references=EvaluationRound, index=True)
    bid = ForeignKey(references=Bid)
    criterion = Integer()  # index into the round's criteria
    evaluator = ForeignKey(references=User)
    value = Float()  # 0–10
    comment = Text(default="")
    at = Timestamptz(default=TimestamptzNow())
    key = Varchar(length=160, unique=True)  # "<round>:<bid>:<criterion>:<evaluator>"


class PresentationSlot(Table, tablename="bids_presentation_slot"):
    id = UUID(primary_key=True)
    round = ForeignKey(references=EvaluationRound, index=True)
    bid = ForeignKey(references=Bid)
    pair = Varchar(length=80, unique=True)
    starts_at = Timestamptz()
    ends_at = Timestamptz()
    place = Varchar(length=300, default="")
    confirmed_at = Timestamptz(null=True, default=None)


class SiteFinding(Table, tablename="bids_site_finding"):
    id = UUID(primary_key=True)
    round = ForeignKey(references=EvaluationRound, index=True)
    bid = ForeignKey(references=Bid)
    pair = Varchar(length=80, unique=True)
    visited_at = Timestamptz()
    finding = Text()
    recorded_by = ForeignKey(references=User)
    recorded_at = Timestamptz(default=TimestamptzNow())


class Award(Table, tablename="bids_award"):
    id = UUID(primary_key=True)
    tender = ForeignKey(references=Tender, unique=True)  # one award per tender, even under concurrency
    bid = ForeignKey(references=Bid)
    reason = Text(default="")
    awarded_by = ForeignKey(references=User)
    at = Timestamptz(default=TimestamptzNow())
