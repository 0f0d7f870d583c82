"""The shell's JSON API under /api/v1: thin controllers over fuwu.services."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

import msgspec
from litestar import Controller, Request, delete, get, patch, post
from litestar.di import Provide
from litestar.params import FromPath, FromQuery, HeaderParameter, JSONBody, QueryParameter

from fuwu import api_contract, db, roles, security, values
from fuwu.auth import MemberDep, ViewerDep, provide_member, provide_viewer, require_role, requires_admin, requires_user
from fuwu.errors import FuwuError
from fuwu.pagination import DEFAULT_LIMIT, Page
from fuwu.schemas import (
    AdminOrganisationDetail,
    AdminOrganisationRead,
    AdminReason,
    AuditEventRead,
    Health,
    InvitationAccept,
    InvitationCreate,
    InvitationRead,
    MemberRead,
    MemberUpdate,
    NotificationRead,
    OrganisationCreate,
    OrganisationRead,
    OrganisationUpdate,
    ProviderRead,
    SignUp,
    SignUpCreated,
    TokenCreate,
    TokenCreated,
    TokenRead,
    UserRead,
    UserUpdate,
)
from fuwu.services import accounts, admin, audit, idempotency, notifications
from fuwu.services.accounts import Viewer

Cursor = Annotated[str | None, QueryParameter(max_length=200)]
Limit = Annotated[int, QueryParameter(ge=1, le=100)]
IdempotencyKey = Annotated[str | None, HeaderParameter(name="Idempotency-Key", max_length=200)]

T = TypeVar("T")

VIEWER = {"viewer": Provide(provide_viewer)}
MEMBER = {"viewer": Provide(provide_viewer), "member": Provide(provide_member)}


async def once(request: Request, viewer: Viewer, key: str | None, create: Callable[[], Awaitable[T]],
               answer: type[T]) -> T:
    """Runs a create at most once per (person, Idempotency-Key): a retry with the key,
    sent again or at the same time, gets the first answer and creates nothing (see
    fuwu.services.idempotency). Without a key the create simply runs."""
    if key is None:
        return await create()
    fingerprint = idempotency.fingerprint(request.method, request.url.path, await request.body())
    result, _ = await idempotency.run_once(viewer.user_id, key, fingerprint, create, answer)
    return result


def to(struct_type, value):
    return msgspec.convert(value, struct_type)


def page_of(struct_type, page: Page) -> Page:
    return Page(items=[to(struct_type, item) for item in page.items], next_cursor=page.next_cursor)


@get("/healthz", tags=["health"], sync_to_thread=False)
def healthz() -> Health:
    """The process is up."""
    return Health(status="ok")


@get("/readyz", tags=["health"])
async def readyz() -> Health:
    """The process can reach its database."""
    try:
        await db.ping()
    except Exception:
        raise FuwuError("database_unavailable", "The database does not answer; try again shortly.") from None
    return Health(status="ready")


class MeController(Controller):
    path = "/api/v1/me"
    tags = ["accounts"]
    guards = [requires_user]
    dependencies = VIEWER

    @get()
    async def read_me(self, viewer: ViewerDep) -> UserRead:
        """The signed-in person with their memberships."""
        return to(UserRead, await accounts.get_user(viewer.user_id))

    @patch()
    async def update_me(self, viewer: ViewerDep, data: JSONBody[UserUpdate]) -> UserRead:
        """Changes display name, language or time zone."""
        return to(UserRead, await accounts.update_profile(viewer, data))


class TokenController(Controller):
    path = "/api/v1/tokens"
    tags = ["accounts"]
    guards = [requires_user]
    dependencies = VIEWER

    @get()
    async def list_tokens(self, viewer: ViewerDep) -> list[TokenRead]:
        """Your API tokens (their prefixes, never the tokens themselves)."""
        return [to(TokenRead, row) for row in await accounts.list_tokens(viewer)]

    @post()
    async def create_token(self, viewer: ViewerDep, data: JSONBody[TokenCreate]) -> TokenCreated:
        """Creates an API token. The token is shown in this answer only."""
        return to(TokenCreated, await accounts.create_token(viewer, data.name))

    @delete("/{token_id:uuid}")
    async def revoke_token(self, viewer: ViewerDep, token_id: FromPath[uuid.UUID]) -> None:
        """Revokes one of your API tokens; it stops working at once."""
        await accounts.revoke_token(viewer, token_id)


class OrganisationController(Controller):
    path = "/api/v1/orgs"
    tags = ["organisations"]
    guards = [requires_user]
    dependencies = MEMBER

    @get()
    async def list_my_organisations(self, viewer: ViewerDep) -> list[OrganisationRead]:
        """The organisations you are a member of."""
        return [to(OrganisationRead, m["organisation"]) for m in await accounts.memberships_of(viewer.user_id)]

    @post()
    async def create_organisation(
        self, request: Request, viewer: ViewerDep, data: JSONBody[OrganisationCreate],
        idempotency_key: IdempotencyKey = None,
    ) -> OrganisationRead:
        """Creates an organisation with you as owner. Send an Idempotency-Key to retry safely."""
        body = await request.body()
        result, _ = await idempotency.run_once(
            viewer.user_id,
            idempotency_key,
            idempotency.fingerprint("POST", request.url.path, body),
            lambda: _create_org(viewer, data),
            OrganisationRead,
        )
        return result

    @get("/{org_id:uuid}")
    async def read_organisation(self, member: MemberDep) -> OrganisationRead:
        """One organisation you are a member of."""
        return to(OrganisationRead, await accounts.get_organisation(member.organisation_id))

    @patch("/{org_id:uuid}")
    async def update_organisation(self, viewer: ViewerDep, member: MemberDep,
                                  data: JSONBody[OrganisationUpdate]) -> OrganisationRead:
        """Changes the organisation's profile (owners and admins)."""
        return to(OrganisationRead, await accounts.update_organisation(viewer, member, data))

    @get("/{org_id:uuid}/members")
    async def list_members(self, member: MemberDep) -> list[MemberRead]:
        """The organisation's members and their roles."""
        return [to(MemberRead, row) for row in await accounts.list_members(member.organisation_id)]

    @patch("/{org_id:uuid}/members/{membership_id:uuid}")
    async def change_member_role(
        self, viewer: ViewerDep, member: MemberDep, membership_id: FromPath[uuid.UUID], data: JSONBody[MemberUpdate]
    ) -> MemberRead:
        """Gives a member another role (owners); the last owner stays owner."""
        return to(MemberRead, await accounts.change_member_role(viewer, member, membership_id, data.role))

    @delete("/{org_id:uuid}/members/{membership_id:uuid}")
    async def remove_member(self, viewer: ViewerDep, member: MemberDep, membership_id: FromPath[uuid.UUID]) -> None:
        """Removes a member from the organisation (owners); the last owner cannot be removed."""
        await accounts.remove_member(viewer, member, membership_id)

    @get("/{org_id:uuid}/invitations")
    async def list_invitations(self, member: MemberDep) -> list[InvitationRead]:
        """The organisation's invitations, open and past."""
        return [to(InvitationRead, row) for row in await accounts.list_invitations(member)]

    @post("/{org_id:uuid}/invitations")
    async def create_invitation(self, request: Request, viewer: ViewerDep, member: MemberDep,
                                data: JSONBody[InvitationCreate], idempotency_key: IdempotencyKey = None) -> InvitationRead:
        """Invites a person by e-mail; the answer carries the one-time accept link. Send an
        Idempotency-Key to retry safely."""

        async def create() -> InvitationRead:
            return to(InvitationRead, await accounts.invite(viewer, member, data.email, data.role))

        return await once(request, viewer, idempotency_key, create, InvitationRead)

    @delete("/{org_id:uuid}/invitations/{invitation_id:uuid}")
    async def revoke_invitation(self, viewer: ViewerDep, member: MemberDep, invitation_id: FromPath[uuid.UUID]) -> None:
        """Revokes an open invitation; its link stops working."""
        await accounts.revoke_invitation(viewer, member, invitation_id)

    @get("/{org_id:uuid}/audit")
    async def organisation_audit(
        self, member: MemberDep, cursor: Cursor = None, limit: Limit = 50
    ) -> Page[AuditEventRead]:
        """The organisation's audit timeline, newest first."""
        require_role(member, roles.OWNER, roles.OPERATOR, roles.MANAGER, roles.ADMIN)
        return page_of(AuditEventRead, await audit.organisation_timeline(member.organisation_id, cursor, limit))


@post("/api/v1/signup", tags=["accounts"])
async def sign_up(request: Request, data: JSONBody[SignUp]) -> SignUpCreated:
    """Creates an account, its first organisation (you as its owner) and an API token.

    The rules of the sign-up page: a free e-mail, a password of at least 8 characters
    that is not a common one, a repeated pattern, a run of letters, digits or keys, or
    the e-mail's name (422, `weak_password`), an organisation whose fields fit its kind
    (merchant or provider). An address may try FUWU_SIGNUPS_PER_ADDRESS_PER_HOUR
    sign-ups an hour (429 with Retry-After). The token is in this answer only; send it
    as `Authorization: Bearer <token>`."""
    user, organisation = await accounts.sign_up(
        data.email, data.password, data.display_name, data.locale, data.organisation,
        ip=security.client_address(request.client.host if request.client else None,
                                   request.headers.getall("x-forwarded-for", [])))
    viewer = Viewer(user_id=user["id"], email=user["email"], display_name=user["display_name"],
                    locale=user["locale"], timezone=user["timezone"], via="token")
    token = await accounts.create_token(viewer, "Sign-up")
    return SignUpCreated(user=to(UserRead, user), organisation=to(OrganisationRead, organisation),
                         token=to(TokenCreated, token))


async def _create_org(viewer: Viewer, data: OrganisationCreate) -> OrganisationRead:
    return to(OrganisationRead, await accounts.create_organisation(viewer, data))


@post("/api/v1/invitations/accept", tags=["organisations"], guards=[requires_user], dependencies=VIEWER)
async def accept_invitation(viewer: ViewerDep, data: JSONBody[InvitationAccept]) -> MemberRead:
    """Accepts an invitation sent to your e-mail."""
    result = await accounts.accept_invitation(viewer, data.token)
    members = await accounts.list_members(result["organisation_id"])
    return to(MemberRead, next(m for m in members if m["id"] == result["membership_id"]))


class NotificationController(Controller):
    path = "/api/v1/notifications"
    tags = ["notifications"]
    guards = [requires_user]
    dependencies = VIEWER

    @get()
    async def list_notifications(
        self, viewer: ViewerDep, cursor: Cursor = None, limit: Limit = DEFAULT_LIMIT, unread: FromQuery[bool] = False
    ) -> Page[NotificationRead]:
        """Your notifications, newest first, in your language."""
        from fuwu.i18n import translate_format

        page = await notifications.list_for_user(viewer.user_id, cursor, limit, unread_only=unread)
        for item in page.items:
            item["title"] = translate_format(item["title"], item["params"])
            item["body"] = translate_format(item["body"], item["params"]) if item["body"] else ""
        return page_of(NotificationRead, page)

    @post("/{notification_id:uuid}/read", status_code=204)
    async def mark_read(self, viewer: ViewerDep, notification_id: FromPath[uuid.UUID]) -> None:
        """Marks one of your notifications read."""
        if not await notifications.mark_read(viewer.user_id, notification_id):
            from fuwu.errors import not_found

            raise not_found("Notification")

    @post("/read-all", status_code=204)
    async def mark_all_read(self, viewer: ViewerDep) -> None:
        """Marks all your notifications read."""
        await notifications.mark_all_read(viewer.user_id)


class ProviderDirectoryController(Controller):
    path = "/api/v1/providers"
    tags = ["providers"]

    @get()
    async def list_providers(
        self,
        cursor: Cursor = None,
        limit: Limit = DEFAULT_LIMIT,
        category: Annotated[str | None, QueryParameter(max_length=20)] = None,
        province: Annotated[str | None, QueryParameter(max_length=64)] = None,
    ) -> Page[ProviderRead]:
        """The public directory of service providers."""
        if category is not None and category not in values.CATEGORIES:
            from fuwu.errors import InvalidInput

            # The categories are the values to send: they stay untranslated.
            raise InvalidInput("invalid_category", "Unknown category. Use one of: {categories}.",
                               params={"categories": ", ".join(values.CATEGORIES)})
        return page_of(ProviderRead, await accounts.list_providers(category, province, cursor, limit))

    @get("/{provider_id:uuid}")
    async def read_provider(self, provider_id: FromPath[uuid.UUID]) -> ProviderRead:
        """One provider's public profile."""
        profile = await accounts.provider_profile(provider_id)
        return to(ProviderRead, {**profile, "verified": await admin.is_verified(provider_id)})


class AdminController(Controller):
    path = "/api/v1/admin"
    tags = ["admin"]
    guards = [requires_admin]
    dependencies = VIEWER

    @get("/organisations")
    async def list_organisations(
        self,
        cursor: Cursor = None,
        limit: Limit = 50,
        kind: Annotated[str | None, QueryParameter(max_length=16)] = None,
        q: Annotated[str | None, QueryParameter(max_length=120, description="A part of the name, any case.")] = None,
        verified: FromQuery[bool | None] = None,
        suspended: FromQuery[bool | None] = None,
    ) -> Page[AdminOrganisationRead]:
        """Organisations newest first, by name, kind, verified and suspended (platform admins)."""
        if kind is not None and kind not in roles.ORG_KINDS:
            from fuwu.errors import InvalidInput

            raise InvalidInput("invalid_kind", "kind must be merchant, provider or platform.")
        return page_of(AdminOrganisationRead,
                       await admin.search_organisations(q, kind, verified, suspended, cursor, limit))

    @get("/organisations/{org_id:uuid}")
    async def read_organisation(self, org_id: FromPath[uuid.UUID]) -> AdminOrganisationDetail:
        """One organisation with its suspension, verification and members (platform admins)."""
        return to(AdminOrganisationDetail, await admin.organisation(org_id))

    @post("/organisations/{org_id:uuid}/suspend", status_code=200)
    async def suspend_organisation(self, viewer: ViewerDep, org_id: FromPath[uuid.UUID],
                                   data: JSONBody[AdminReason]) -> AdminOrganisationDetail:
        """Suspends a merchant or provider with a written reason (platform admins).

        A suspended provider cannot bid (403 `organisation_suspended`), a suspended
        merchant cannot publish. Audited; the organisation's owners are notified with
        the reason. 409 when it is already suspended or is the platform itself."""
        return to(AdminOrganisationDetail, await admin.suspend(viewer, org_id, data.reason))

    @post("/organisations/{org_id:uuid}/reinstate", status_code=200)
    async def reinstate_organisation(self, viewer: ViewerDep, org_id: FromPath[uuid.UUID],
                                     data: JSONBody[AdminReason]) -> AdminOrganisationDetail:
        """Lifts a suspension with a written reason (platform admins).

        Audited; the owners are notified. 409 when it is not suspended."""
        return to(AdminOrganisationDetail, await admin.reinstate(viewer, org_id, data.reason))

    @post("/organisations/{org_id:uuid}/verify", status_code=200)
    async def verify_provider(self, viewer: ViewerDep, org_id: FromPath[uuid.UUID]) -> AdminOrganisationDetail:
        """Verifies a provider: merchants see a badge on its profile, in the directory and in recommendations.

        Audited; the owners are notified. 409 for an organisation that is not a provider."""
        return to(AdminOrganisationDetail, await admin.set_verified(viewer, org_id, True))

    @delete("/organisations/{org_id:uuid}/verify", status_code=200)
    async def unverify_provider(self, viewer: ViewerDep, org_id: FromPath[uuid.UUID]) -> AdminOrganisationDetail:
        """Withdraws a provider's verification (platform admins). Audited."""
        return to(AdminOrganisationDetail, await admin.set_verified(viewer, org_id, False))

    @get("/audit")
    async def platform_audit(
        self,
        cursor: Cursor = None,
        limit: Limit = 50,
        actor: Annotated[str | None, QueryParameter(max_length=254,
                                                    description="An e-mail address or a person's id.")] = None,
        organisation: FromQuery[uuid.UUID | None] = None,
        object_type: Annotated[str | None, QueryParameter(max_length=40)] = None,
        object_id: Annotated[str | None, QueryParameter(max_length=80)] = None,
        action: Annotated[str | None, QueryParameter(max_length=60)] = None,
        since: Annotated[datetime.datetime | None, QueryParameter(description="From this time (with a zone).")] = None,
        until: Annotated[datetime.datetime | None, QueryParameter(description="Before this time (with a zone).")] = None,
    ) -> Page[AuditEventRead]:
        """The whole platform's audit log, newest first (platform admins).

        Searchable by actor (an e-mail address or a person's id), organisation, object
        type and id, action and a time range [since, until). Events of sealed bids stay
        hidden until their tender's bidding closes."""
        return page_of(AuditEventRead, await admin.search_audit(
            actor=actor, organisation=organisation, object_type=object_type, object_id=object_id, action=action,
            since=since, until=until, cursor=cursor, limit=limit))


ROUTES = api_contract.document([
    healthz,
    readyz,
    sign_up,
    MeController,
    TokenController,
    OrganisationController,
    accept_invitation,
    NotificationController,
    ProviderDirectoryController,
    AdminController,
], extra={"sign_up": (409, 429), "accept_invitation": (404, 409)})
