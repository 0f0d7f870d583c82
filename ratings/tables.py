"""Tables of the ratings domain (DESIGN.md section 6): merchants' ratings of
providers and providers' reviews of merchants (blind until both sides wrote or 14
days passed), replies, disputes, admins' brand grades, and the scorecards and tier
standings the evaluation job stores."""

from piccolo.columns import JSON, UUID, Boolean, Float, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from fuwu.tables import Organisation, User
from sla.tables import Contract, Milestone


class Rating(Table, tablename="ratings_rating"):
    """A merchant's rating of the provider of one of its contracts, for one contract
    period (a month of the contract) or one accepted milestone."""

    id = UUID(primary_key=True)
    contract = ForeignKey(references=Contract, index=True)
    merchant = ForeignKey(references=Organisation, index=True)
    provider = ForeignKey(references=Organisation, index=True)
    # "period:<n>" (n = 1 for the contract's first month) or "milestone:<id>".
    occasion = Varchar(length=60)
    milestone = ForeignKey(references=Milestone, null=True, default=None)
    # "<contract>:<occasion>": once per contract period or accepted milestone.
    key = Varchar(length=120, unique=True)
    overall = Integer()  # 1..5
    quality = Integer()  # 1..5
    communication = Integer()  # 1..5
    timeliness = Integer()  # 1..5
    comment = Text(default="")
    author = ForeignKey(references=User)
    created_at = Timestamptz(default=TimestamptzNow(), index=True)
    # Blind until the provider has reviewed the merchant for the same occasion, or this moment.
    publish_after = Timestamptz()
    published_at = Timestamptz(null=True, default=None)
    status = Varchar(length=12, default="blind", index=True)  # ratings.states REVIEW_STATUSES
    reply = Text(default="")
    replied_by = ForeignKey(references=User, null=True, default=None)
    replied_at = Timestamptz(null=True, default=None)


class ProviderReview(Table, tablename="ratings_provider_review"):
    """The provider's review of the merchant for the same occasion: the mirror of a
    rating (same scale, blind by the same rule, the merchant replies once)."""

    id = UUID(primary_key=True)
    contract = ForeignKey(references=Contract, index=True)
    merchant = ForeignKey(references=Organisation, index=True)
    provider = ForeignKey(references=Organisation, index=True)
    occasion = Varchar(length=60)
    milestone = ForeignKey(references=Milestone, null=True, default=None)
    key = Varchar(length=120, unique=True)
    overall = Integer()  # 1..5
    # The merchant as a client: a clear brief, prompt answers, timely payment and acceptance.
    quality = Integer()  # 1..5
    communication = Integer()  # 1..5
    timeliness = Integer()  # 1..5
    comment = Text(default="")
    author = ForeignKey(references=User)
    created_at = Timestamptz(default=TimestamptzNow())
    publish_after = Timestamptz()
    published_at = Timestamptz(null=True, default=None)
    status = Varchar(length=12, default="blind", index=True)
    reply = Text(default="")
    replied_by = ForeignKey(references=User, null=True, default=None)
    replied_at = Timestamptz(null=True, default=None)


class Dispute(Table, tablename="ratings_dispute"):
    """A party's dispute of a rating or review, decided by a platform admin: upheld
    (it stays) or hidden (listed as hidden, never counted), with a written reason."""

    id = UUID(primary_key=True)
    review_kind = Varchar(length=16)  # rating, provider_review
    review = UUID(index=True)
    organisation = ForeignKey(references=Organisation)  # the disputing party
    # "<review>:<organisation>": each party disputes a review once.
    key = Varchar(length=120, unique=True)
    reason = Text()
    raised_by = ForeignKey(references=User)
    raised_at = Timestamptz(default=TimestamptzNow())
    status = Varchar(length=10, default="open", index=True)  # ratings.states DISPUTE_STATUSES
    decided_by = ForeignKey(references=User, null=True, default=None)
    decision_reason = Text(default="")
    decided_at = Timestamptz(null=True, default=None)


class BrandGrade(Table, tablename="ratings_brand_grade"):
    """An admin's grade of a provider's brand capability (0-100) with its evidence,
    valid until it expires."""

    id = UUID(primary_key=True)
    provider = ForeignKey(references=Organisation, index=True)
    score = Integer()  # 0..100
    brands_served = Integer(default=0)
    key_accounts_served = Integer(default=0)
    evidence = Text()
    graded_by = ForeignKey(references=User)
    graded_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz()


class TierApproval(Table, tablename="ratings_tier_approval"):
    """A tier change that needs two admins: a 6-star promotion an evaluation earned
    (kind promotion) or an admin's override of the tier with a written reason and an
    expiry (kind override). One admin requests it; it takes effect only when a
    second, different admin approves."""

    id = UUID(primary_key=True)
    provider = ForeignKey(references=Organisation, index=True)
    kind = Varchar(length=10)  # ratings.states APPROVAL_KINDS
    tier = Integer()  # 0 (unrated), 3..6
    reason = Text()
    expires_at = Timestamptz(null=True, default=None)  # overrides only
    requested_by = ForeignKey(references=User)
    requested_at = Timestamptz(default=TimestamptzNow())
    status = Varchar(length=10, default="pending", index=True)  # ratings.states APPROVAL_STATUSES
    approved_by = ForeignKey(references=User, null=True, default=None)
    decided_at = Timestamptz(null=True, default=None)


class Standing(Table, tablename="ratings_standing"):
    """A provider's tier as the evaluations left it: one row per provider."""

    id = UUID(primary_key=True)
    provider = ForeignKey(references=Organisation, unique=True)
    tier = Integer(default=0)  # 0 unrated, 3..6 stars (the evaluated tier, before any override)
    at_risk = Boolean(default=False)  # below its band at the last evaluation: demoted if it stays so
    below_count = Integer(default=0)  # consecutive evaluations below the band minus the margin
    composite = Float(null=True, default=None)
    # A 6-star promotion waiting for a second admin: the evaluation that earned it.
    pending_tier = Integer(null=True, default=None)
    pending_requested_at = Timestamptz(null=True, default=None)
    evaluated_as_of = Timestamptz(null=True, default=None)
    updated_at = Timestamptz(default=TimestamptzNow())


class Evaluation(Table, tablename="ratings_evaluation"):
    """One provider's scorecard as of one evaluation moment: its dimensions, the
    figures each came from, and the tier it left. Stored once per provider and
    moment, whichever process computed it."""

    id = UUID(primary_key=True)
    provider = ForeignKey(references=Organisation, index=True)
    as_of = Timestamptz()
    # "<provider>:<as_of us>": the unique key that makes an evaluation once only.
    key = Varchar(length=80, unique=True)
    operating = Float()
    brand = Float()
    service = Float()
    growth = Float()
    composite = Float()
    tier_before = Integer()
    tier_after = Integer()
    at_risk = Boolean(default=False)
    explanation = JSON(default={})  # every figure with what it came from
    computed_at = Timestamptz(default=TimestamptzNow())
