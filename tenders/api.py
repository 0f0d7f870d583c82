"""Tenders under /api/v1/orgs/{org_id}/…: the acting organisation is in the path and
membership decides access (404 for others, so ids reveal nothing)."""

from __future__ import annotations

import datetime
import uuid
from typing import Annotated

import msgspec
from litestar import Controller, Request, get, patch, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from fuwu import api_contract
from fuwu.api import MEMBER, Cursor, IdempotencyKey, Limit, once, page_of, to
from fuwu.auth import MemberDep, ViewerDep, requires_user
from fuwu.errors import InvalidInput
from fuwu.i18n import N_, gettext
from fuwu.pagination import DEFAULT_LIMIT, Page
from fuwu.schemas import AuditEventRead
from fuwu.services import audit
from tenders import states
from tenders.schemas import (
    MONEY,
    AmendmentRead,
    AnswerCreate,
    CancelRequest,
    DeclineInvitation,
    InviteProviders,
    QuestionCreate,
    QuestionRead,
    Recommendation,
    TenderCreate,
    TenderInvitationRead,
    TenderRead,
    TenderSummary,
    TenderUpdate,
)
from tenders.services import invitations, lifecycle, questions


class TenderController(Controller):
    path = "/api/v1/orgs/{org_id:uuid}/tenders"
    tags = ["tenders"]
    guards = [requires_user]
    dependencies = MEMBER

    @get()
    async def list_tenders(
        self, member: MemberDep, cursor: Cursor = None, limit: Limit = DEFAULT_LIMIT,
        status: Annotated[str | None, QueryParameter(max_length=20)] = None,
    ) -> Page[TenderRead]:
        """The merchant's own tenders, newest first."""
        if status is not None and status not in states.ALL:
            # The statuses are the values to send: they stay untranslated.
            raise InvalidInput("invalid_status", "status must be one of: {statuses}.",
                               params={"statuses": ", ".join(states.ALL)})
        return page_of(TenderRead, await lifecycle.list_merchant_tenders(member, status, cursor, limit))

    @post()
    async def create_tender(self, request: Request, viewer: ViewerDep, member: MemberDep, data: JSONBody[TenderCreate],
                            idempotency_key: IdempotencyKey = None) -> TenderRead:
        """Creates a draft tender. Send an Idempotency-Key to retry safely."""

        async def create() -> TenderRead:
            return to(TenderRead, await lifecycle.create_tender(viewer, member, data))

        return await once(request, viewer, idempotency_key, create, TenderRead)

    @get("/{tender_id:uuid}")
    async def read_tender(self, member: MemberDep, tender_id: FromPath[uuid.UUID]) -> TenderRead:
        """One tender: the merchant's own, or one this provider may see."""
        return to(TenderRead, await lifecycle.get_tender(member, tender_id))

    @patch("/{tender_id:uuid}")
    async def update_tender(self, viewer: ViewerDep, member: MemberDep, tender_id: FromPath[uuid.UUID],
                            data: JSONBody[TenderUpdate]) -> TenderRead:
        """Edits a draft, or amends a published tender (bids then need confirmation)."""
        return to(TenderRead, await lifecycle.update_tender(viewer, member, tender_id, data))

    @post("/{tender_id:uuid}/publish", status_code=200)
    async def publish_tender(self, viewer: ViewerDep, member: MemberDep, tender_id: FromPath[uuid.UUID]) -> TenderRead:
        """Publishes a draft: providers can see it and bid until the bid deadline."""
        return to(TenderRead, await lifecycle.publish(viewer, member, tender_id))

    @post("/{tender_id:uuid}/cancel", status_code=200)
    async def cancel_tender(self, viewer: ViewerDep, member: MemberDep, tender_id: FromPath[uuid.UUID],
                            data: JSONBody[CancelRequest]) -> TenderRead:
        """Cancels the tender with a reason; bidders are told."""
        return to(TenderRead, await lifecycle.cancel(viewer, member, tender_id, data.reason))

    @get("/{tender_id:uuid}/amendments")
    async def list_amendments(self, member: MemberDep, tender_id: FromPath[uuid.UUID], cursor: Cursor = None,
                              limit: Limit = DEFAULT_LIMIT) -> Page[AmendmentRead]:
        """The tender's amendments, first amendment first, with what each changed."""
        await lifecycle.get_tender(member, tender_id)
        return page_of(AmendmentRead, await lifecycle.amendments_page(tender_id, cursor, limit))

    @get("/{tender_id:uuid}/questions")
    async def list_questions(self, member: MemberDep, tender_id: FromPath[uuid.UUID], cursor: Cursor = None,
                             limit: Limit = DEFAULT_LIMIT) -> Page[QuestionRead]:
        """The tender's questions and answers, oldest first (askers are pseudonyms)."""
        return page_of(QuestionRead, await questions.questions_page(member, tender_id, cursor, limit))

    @post("/{tender_id:uuid}/questions")
    async def ask_question(self, request: Request, viewer: ViewerDep, member: MemberDep, tender_id: FromPath[uuid.UUID],
                           data: JSONBody[QuestionCreate], idempotency_key: IdempotencyKey = None) -> QuestionRead:
        """A provider asks a question before the questions deadline. Send an
        Idempotency-Key to retry safely."""

        async def create() -> QuestionRead:
            return to(QuestionRead, await questions.ask_question(viewer, member, tender_id, data.text))

        return await once(request, viewer, idempotency_key, create, QuestionRead)

    @post("/{tender_id:uuid}/questions/{question_id:uuid}/answer", status_code=200)
    async def answer_question(self, request: Request, viewer: ViewerDep, member: MemberDep,
                              tender_id: FromPath[uuid.UUID], question_id: FromPath[uuid.UUID],
                              data: JSONBody[AnswerCreate], idempotency_key: IdempotencyKey = None) -> QuestionRead:
        """The merchant answers a question; every provider who can see the tender sees it.
        Send an Idempotency-Key to retry safely."""

        async def create() -> QuestionRead:
            return to(QuestionRead, await questions.answer_question(viewer, member, tender_id, question_id,
                                                                    data.answer))

        return await once(request, viewer, idempotency_key, create, QuestionRead)

    @get("/{tender_id:uuid}/invitations")
    async def list_invitations(self, member: MemberDep, tender_id: FromPath[uuid.UUID]) -> list[TenderInvitationRead]:
        """The providers invited to the tender and whether they declined."""
        return [to(TenderInvitationRead, row) for row in await invitations.list_invitations(member, tender_id)]

    @post("/{tender_id:uuid}/invitations")
    async def invite_providers(self, request: Request, viewer: ViewerDep, member: MemberDep,
                               tender_id: FromPath[uuid.UUID], data: JSONBody[InviteProviders],
                               idempotency_key: IdempotencyKey = None) -> list[TenderInvitationRead]:
        """Invites providers to the tender; each is notified. Send an Idempotency-Key to
        retry safely."""

        async def create() -> list[TenderInvitationRead]:
            rows = await invitations.invite_providers(viewer, member, tender_id, data.provider_ids)
            return [to(TenderInvitationRead, row) for row in rows]

        return await once(request, viewer, idempotency_key, create, list[TenderInvitationRead])

    @post("/{tender_id:uuid}/decline", status_code=204)
    async def decline_invitation(self, viewer: ViewerDep, member: MemberDep, tender_id: FromPath[uuid.UUID],
                                 data: JSONBody[DeclineInvitation]) -> None:
        """The invited provider declines the invitation."""
        await invitations.decline_invitation(viewer, member, tender_id, data.reason)

    @get("/{tender_id:uuid}/recommendations")
    async def recommendations(self, member: MemberDep, tender_id: FromPath[uuid.UUID]) -> list[Recommendation]:
        """Providers to invite, best first, with the reasons."""
        return [to(Recommendation, {
            **row, "warning": _translated(row.get("warning")),
            "delivered": [{"metric": d["metric"], "statistic": d["statistic"], "target": d["target"],
                           **{k: v for k, v in (d["record"] or {}).items()
                              if k in ("windows", "met", "share_met", "median", "contracts")}}
                          for d in row["delivered"]]})
            for row in await invitations.recommend(member, tender_id)]

    @get("/{tender_id:uuid}/audit")
    async def tender_audit(self, member: MemberDep, tender_id: FromPath[uuid.UUID], cursor: Cursor = None,
                           limit: Limit = 50) -> Page[AuditEventRead]:
        """The tender's timeline (merchant's team)."""
        await lifecycle.get_own_tender(member, tender_id, allowed_roles=lifecycle.MERCHANT_READERS,
                                       what=N_("read the tender's audit log"))
        return page_of(AuditEventRead, await audit.object_timeline("tender", tender_id, cursor, limit))


@get("/api/v1/orgs/{org_id:uuid}/open-tenders", tags=["tenders"], guards=[requires_user], dependencies=MEMBER)
async def browse_open_tenders(
    member: MemberDep,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
    category: Annotated[str | None, QueryParameter(max_length=20)] = None,
    q: Annotated[str | None, QueryParameter(max_length=100)] = None,
    # schema_extra: Litestar 2.25 leaves a bound of 0 out of the document.
    budget_at_least: Annotated[int | None, QueryParameter(ge=0, le=10**13, description=MONEY,
                                                          schema_extra={"minimum": 0})] = None,
    budget_at_most: Annotated[int | None, QueryParameter(ge=0, le=10**13, description=MONEY,
                                                         schema_extra={"minimum": 0})] = None,
    deadline_before: FromQuery[datetime.datetime | None] = None,
    region: Annotated[str | None, QueryParameter(max_length=64)] = None,
) -> Page[TenderSummary]:
    """Open tenders this provider may bid on: public ones in its categories and those it was invited to."""
    if category is not None and category not in states.CATEGORIES:
        # The categories are the values to send: they stay untranslated.
        raise InvalidInput("invalid_category", "category must be one of: {categories}.",
                           params={"categories": ", ".join(states.CATEGORIES)})
    page = await lifecycle.browse_open_tenders(
        member, category=category, text=q, budget_at_least=budget_at_least, budget_at_most=budget_at_most,
        deadline_before=deadline_before, region=region, cursor=cursor, limit=limit)
    return page_of(TenderSummary, page)


def _translated(message: str | None) -> str | None:
    # A message id another domain chose (ratings' warning), in the reader's language.
    return gettext(message) if message else None


ROUTES = api_contract.document([TenderController, browse_open_tenders])
__all__ = ["ROUTES", "msgspec"]
