"""Tenders, invitations, questions and amendments."""

from piccolo.columns import JSON, UUID, BigInt, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from fuwu.tables import Organisation, User


class Tender(Table, tablename="tenders_tender"):
    id = UUID(primary_key=True)
    merchant = ForeignKey(references=Organisation, index=True)
    created_by = ForeignKey(references=User)
    category = Varchar(length=20, index=True)
    title = Varchar(length=200)
    brief = Text(default="")
    # Category-specific: customer service {seats, coverage_hours, time_zone,
    # daily_conversations, languages}; photography {skus, models, location};
    # design {deliverables}; consulting {topics, sessions}; video {videos, length_seconds}.
    requirements = JSON(default={})
    budget_min = BigInt(default=0)  # minor units
    budget_max = BigInt(default=0)
    currency = Varchar(length=3, default="CNY")
    pricing_models = JSON(default=[])
    sla_targets = JSON(default=[])  # [{metric, statistic, comparator, target, window, weight, service_credit_percent}]
    rounds = JSON(default=[])  # [{kind, criteria: [{name, weight, price?}]}]
    visibility = Varchar(length=10, default="public")
    min_bids = Integer(default=1)
    region = Varchar(length=64, default="")  # the merchant's province, for browsing
    questions_deadline = Timestamptz(null=True, default=None)
    bid_deadline = Timestamptz(null=True, default=None, index=True)
    evaluation_end = Timestamptz(null=True, default=None)
    status = Varchar(length=20, default="draft", index=True)
    status_reason = Text(default="")
    amendment_count = Integer(default=0)
    published_at = Timestamptz(null=True, default=None, index=True)
    created_at = Timestamptz(default=TimestamptzNow())
    # Changed only by the merchant's own edits and status changes: never by a bid,
    # so that it reveals nothing of the bidding.
    updated_at = Timestamptz(default=TimestamptzNow())


class TenderInvitation(Table, tablename="tenders_invitation"):
    id = UUID(primary_key=True)
    tender = ForeignKey(references=Tender, index=True)
    provider = ForeignKey(references=Organisation, index=True)
    pair = Varchar(length=80, unique=True)  # "<tender>:<provider>"
    status = Varchar(length=12, default="invited")  # invited, declined
    invited_by = ForeignKey(references=User)
    created_at = Timestamptz(default=TimestamptzNow())
    declined_at = Timestamptz(null=True, default=None)
    decline_reason = Text(default="")


class Question(Table, tablename="tenders_question"):
    id = UUID(primary_key=True)
    tender = ForeignKey(references=Tender, index=True)
    provider = ForeignKey(references=Organisation)  # never shown: the asker is a pseudonym
    pseudonym = Varchar(length=20)
    text = Text()
    asked_at = Timestamptz(default=TimestamptzNow(), index=True)
    answer = Text(null=True, default=None)
    answered_by = ForeignKey(references=User, null=True, default=None)
    answered_at = Timestamptz(null=True, default=None)


class Amendment(Table, tablename="tenders_amendment"):
    id = UUID(primary_key=True)
    tender = ForeignKey(references=Tender, index=True)
    number = Integer()
    changed_by = ForeignKey(references=User)
    at = Timestamptz(default=TimestamptzNow())
    reason = Text(default="")
    changes = JSON(default={})  # {field: {"before": …, "after": …}}
