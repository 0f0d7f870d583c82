"""Shell schemas in and out (msgspec Structs)."""

from __future__ import annotations

import datetime
import uuid
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from fuwu import roles, values

# Patterns use explicit classes, not \s or \d: Python's match Unicode spaces and digits
# that a JSON Schema (ECMA-262) validator does not, and the document must mean what
# the server does.
Email = Annotated[str, Meta(min_length=3, max_length=254,
                            pattern=r"^[^@\x00-\x20\x7f]+@[^@\x00-\x20\x7f]+\.[^@\x00-\x20\x7f]+$")]
Password = Annotated[str, Meta(min_length=8, max_length=200)]
Name = Annotated[str, Meta(min_length=1, max_length=100)]
OrgName = Annotated[str, Meta(min_length=1, max_length=120)]
Place = Annotated[str, Meta(max_length=64)]
Locale = Literal["en", "zh_Hans"]
OrgKind = Literal[roles.MERCHANT, roles.PROVIDER]  # a platform is made by `fuwu create-admin`
MerchantSize = values.MERCHANT_SIZES.literal()
Category = values.CATEGORIES.literal()
Role = values.ROLES.literal()
TimeZoneName = Annotated[str, Meta(min_length=1, max_length=64)]


class OrganisationCreate(msgspec.Struct, forbid_unknown_fields=True):
    kind: OrgKind
    name: OrgName
    size: MerchantSize | None = None
    province: Place = ""
    city: Place = ""
    categories: Annotated[list[Category], Meta(max_length=7)] = []
    profile: Annotated[str, Meta(max_length=4000)] = ""
    currency: Annotated[str, Meta(pattern=r"^[A-Z]{3}$")] = "CNY"
    timezone: TimeZoneName = "Asia/Shanghai"


class OrganisationUpdate(msgspec.Struct, forbid_unknown_fields=True):
    name: OrgName | None = None
    size: MerchantSize | None = None
    province: Place | None = None
    city: Place | None = None
    categories: Annotated[list[Category], Meta(max_length=7)] | None = None
    profile: Annotated[str, Meta(max_length=4000)] | None = None
    currency: Annotated[str, Meta(pattern=r"^[A-Z]{3}$")] | None = None
    timezone: TimeZoneName | None = None


class OrganisationRead(msgspec.Struct):
    id: uuid.UUID
    kind: str
    name: str
    size: str | None
    province: str
    city: str
    categories: list[str]
    profile: str
    currency: str
    timezone: str
    created_at: datetime.datetime


class SignUp(msgspec.Struct, forbid_unknown_fields=True):
    email: Email
    password: Password
    display_name: Name
    organisation: OrganisationCreate
    locale: Locale = "en"


class LogIn(msgspec.Struct, forbid_unknown_fields=True):
    email: Annotated[str, Meta(min_length=1, max_length=254)]
    password: Annotated[str, Meta(min_length=1, max_length=200)]


class MembershipRead(msgspec.Struct):
    id: uuid.UUID
    organisation: OrganisationRead
    role: str


class UserRead(msgspec.Struct):
    id: uuid.UUID
    email: str
    display_name: str
    locale: str
    timezone: str
    memberships: list[MembershipRead] = []


class UserUpdate(msgspec.Struct, forbid_unknown_fields=True):
    display_name: Name | None = None
    locale: Locale | None = None
    timezone: TimeZoneName | None = None


class MemberRead(msgspec.Struct):
    id: uuid.UUID
    user_id: uuid.UUID
    email: str
    display_name: str
    role: str
    created_at: datetime.datetime


class MemberUpdate(msgspec.Struct, forbid_unknown_fields=True):
    role: Role


class InvitationCreate(msgspec.Struct, forbid_unknown_fields=True):
    email: Email
    role: Role


class InvitationRead(msgspec.Struct):
    id: uuid.UUID
    email: str
    role: str
    created_at: datetime.datetime
    expires_at: datetime.datetime
    accepted_at: datetime.datetime | None
    revoked_at: datetime.datetime | None
    # Only in the answer to the create call: the link is sent to the invitee once.
    accept_url: str | None = None


class InvitationAccept(msgspec.Struct, forbid_unknown_fields=True):
    token: Annotated[str, Meta(min_length=10, max_length=200)]


class TokenCreate(msgspec.Struct, forbid_unknown_fields=True):
    name: Name


class TokenRead(msgspec.Struct):
    id: uuid.UUID
    name: str
    prefix: str
    created_at: datetime.datetime
    last_used_at: datetime.datetime | None
    revoked_at: datetime.datetime | None


class TokenCreated(msgspec.Struct):
    id: uuid.UUID
    name: str
    prefix: str
    created_at: datetime.datetime
    # Shown once: Fuwu keeps only its hash.
    token: str


class SignUpCreated(msgspec.Struct):
    """A new account: the person, their first organisation (they own it) and an API
    token, shown in this answer only."""

    user: UserRead
    organisation: OrganisationRead
    token: TokenCreated


class NotificationRead(msgspec.Struct):
    id: uuid.UUID
    kind: str
    title: str
    body: str
    link: str
    created_at: datetime.datetime
    read_at: datetime.datetime | None


class AuditEventRead(msgspec.Struct):
    id: uuid.UUID
    at: datetime.datetime
    actor: uuid.UUID | None
    actor_name: str | None
    object_type: str
    object_id: str
    action: str
    before: dict | list | str | int | None
    after: dict | list | str | int | None


class ProviderRead(msgspec.Struct):
    id: uuid.UUID
    name: str
    province: str
    city: str
    categories: list[str]
    profile: str
    # Verified by the platform (a badge merchants see).
    verified: bool = False


class AdminOrganisationRead(OrganisationRead):
    """An organisation as platform admins see it: with its suspension and verification."""

    suspended_at: datetime.datetime | None = None
    suspension_reason: str = ""
    verified_at: datetime.datetime | None = None


class AdminOrganisationDetail(AdminOrganisationRead):
    members: list[MemberRead] = []


class AdminReason(msgspec.Struct, forbid_unknown_fields=True):
    """Why: the organisation's owners read it."""

    reason: Annotated[str, msgspec.Meta(min_length=3, max_length=2000)]


class Health(msgspec.Struct):
    status: str
