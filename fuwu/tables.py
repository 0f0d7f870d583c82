"""Core tables: accounts, organisations, memberships, tokens, sessions, audit,
notifications and idempotency records.

Primary keys are UUIDs everywhere: sequential ids would leak counts (of bids, of
users) to anyone who can see one id and guess the next.
"""

from __future__ import annotations

from piccolo.columns import (
    JSON,
    UUID,
    Boolean,
    ForeignKey,
    Integer,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class User(Table, tablename="fuwu_user"):
    id = UUID(primary_key=True)
    email = Varchar(length=254, unique=True, index=True)
    display_name = Varchar(length=100)
    password_hash = Varchar(length=255)
    locale = Varchar(length=10, default="en")
    timezone = Varchar(length=64, default="Asia/Shanghai")
    is_active = Boolean(default=True)
    created_at = Timestamptz(default=TimestamptzNow())


class Organisation(Table, tablename="fuwu_organisation"):
    id = UUID(primary_key=True)
    kind = Varchar(length=16, index=True)  # fuwu.roles.ORG_KINDS
    name = Varchar(length=120)
    # Merchants: small, medium, large, key_account. Recommendations use it.
    size = Varchar(length=16, null=True, default=None)
    province = Varchar(length=64, default="")
    city = Varchar(length=64, default="")
    # Providers: the service categories they are listed in.
    categories = JSON(default=[])
    profile = Text(default="")  # providers' public profile
    currency = Varchar(length=3, default="CNY")
    timezone = Varchar(length=64, default="Asia/Shanghai")
    created_at = Timestamptz(default=TimestamptzNow())
    # Set by a platform admin (fuwu.services.admin): a suspended provider cannot bid, a
    # suspended merchant cannot publish; a verified provider shows a badge to merchants.
    suspended_at = Timestamptz(null=True, default=None)
    suspension_reason = Text(default="")
    verified_at = Timestamptz(null=True, default=None)


class Membership(Table, tablename="fuwu_membership"):
    id = UUID(primary_key=True)
    user = ForeignKey(references=User, index=True)
    organisation = ForeignKey(references=Organisation, index=True)
    role = Varchar(length=16)
    # "<user>:<organisation>": one membership per person and organisation.
    pair = Varchar(length=80, unique=True)
    created_at = Timestamptz(default=TimestamptzNow())


class Invitation(Table, tablename="fuwu_invitation"):
    id = UUID(primary_key=True)
    organisation = ForeignKey(references=Organisation, index=True)
    email = Varchar(length=254)
    role = Varchar(length=16)
    token_hash = Varchar(length=64, unique=True)
    invited_by = ForeignKey(references=User)
    created_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz()
    accepted_at = Timestamptz(null=True, default=None)
    revoked_at = Timestamptz(null=True, default=None)


class ApiToken(Table, tablename="fuwu_api_token"):
    id = UUID(primary_key=True)
    user = ForeignKey(references=User, index=True)
    name = Varchar(length=100)
    token_hash = Varchar(length=64, unique=True)
    prefix = Varchar(length=12)  # shown so that a person can tell tokens apart
    created_at = Timestamptz(default=TimestamptzNow())
    last_used_at = Timestamptz(null=True, default=None)
    revoked_at = Timestamptz(null=True, default=None)


class WebSession(Table, tablename="fuwu_web_session"):
    id = UUID(primary_key=True)
    token_hash = Varchar(length=64, unique=True)
    user = ForeignKey(references=User, index=True)
    current_organisation = ForeignKey(references=Organisation, null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz(index=True)


class AuditEvent(Table, tablename="fuwu_audit_event"):
    """Append-only: rows are inserted, never updated or deleted."""

    id = UUID(primary_key=True)
    at = Timestamptz(default=TimestamptzNow(), index=True)
    actor = ForeignKey(references=User, null=True, default=None)  # None: the system
    organisation = ForeignKey(references=Organisation, null=True, default=None, index=True)
    object_type = Varchar(length=40, index=True)
    object_id = Varchar(length=64, index=True)
    action = Varchar(length=60)
    before = JSON(null=True, default=None)
    after = JSON(null=True, default=None)


class Notification(Table, tablename="fuwu_notification"):
    id = UUID(primary_key=True)
    user = ForeignKey(references=User, index=True)
    organisation = ForeignKey(references=Organisation, null=True, default=None)
    kind = Varchar(length=60)
    # Title and body are stored as message ids plus parameters so that each reader
    # sees them in their own language.
    title = Varchar(length=200)
    body = Text(default="")
    params = JSON(default={})
    link = Varchar(length=300, default="")
    created_at = Timestamptz(default=TimestamptzNow(), index=True)
    read_at = Timestamptz(null=True, default=None)


class IdempotencyRecord(Table, tablename="fuwu_idempotency"):
    id = UUID(primary_key=True)
    # "<user>:<key>": a key is one user's own.
    scope_key = Varchar(length=400, unique=True)
    request_fingerprint = Varchar(length=64)
    status_code = Integer(default=0)  # 0 while the first request is still running
    response_body = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow(), index=True)


class LoginAttempt(Table, tablename="fuwu_login_attempt"):
    """Failed log-ins (and those in progress), counted per address and account across
    processes to slow guessing (fuwu.services.accounts.sessions)."""

    id = UUID(primary_key=True)
    email = Varchar(length=254, index=True)
    ip = Varchar(length=64)
    at = Timestamptz(default=TimestamptzNow(), index=True)


class SignUpAttempt(Table, tablename="fuwu_sign_up_attempt"):
    """Sign-ups tried from an address, counted across processes to slow mass sign-up
    (fuwu.services.accounts.people)."""

    id = UUID(primary_key=True)
    ip = Varchar(length=64, index=True)
    at = Timestamptz(default=TimestamptzNow(), index=True)
