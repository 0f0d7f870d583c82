"""Ratings, reviews, disputes, scorecards and admin grading under /api/v1."""

from __future__ import annotations

import uuid
from typing import Annotated

from litestar import Controller, Request, get, post
from litestar.params import FromPath, JSONBody, QueryParameter

from fuwu import api_contract, roles
from fuwu.api import MEMBER, VIEWER, Cursor, IdempotencyKey, Limit, once, page_of, to
from fuwu.auth import MemberDep, ViewerDep, requires_admin, requires_user
from fuwu.errors import Forbidden, InvalidInput
from fuwu.i18n import N_
from fuwu.pagination import DEFAULT_LIMIT, Page
from ratings import states
from ratings.errors import RatingsError
from ratings.schemas import (
    BrandGradeCreate,
    BrandGradeRead,
    DisputeCreate,
    DisputeDecision,
    DisputeRead,
    RatingCreate,
    RatingRead,
    ReplyCreate,
    ReviewKind,
    ScorecardRead,
    TierApprovalRead,
    TierDecision,
    TierRequestCreate,
    scorecard_read,
)
from ratings.services import grading, reviews, scorecards
from ratings.services.reviews import Scores


def _scores(data: RatingCreate) -> Scores:
    return Scores(data.overall, data.quality, data.communication, data.timeliness, data.comment)


class ContractRatingController(Controller):
    """Both sides' reviews of one contract."""

    path = "/api/v1/orgs/{org_id:uuid}/contracts/{contract_id:uuid}"
    tags = ["ratings"]
    guards = [requires_user]
    dependencies = MEMBER

    @get("/ratings")
    async def list_contract_ratings(self, member: MemberDep, contract_id: FromPath[uuid.UUID], cursor: Cursor = None,
                                    limit: Limit = DEFAULT_LIMIT,
                                    kind: Annotated[ReviewKind, QueryParameter(
                                        description="rating (of the provider) or provider_review (of the "
                                                    "merchant).")] = "rating") -> Page[RatingRead]:
        """The contract's ratings (or, with kind=provider_review, reviews), oldest first.

        One per month or milestone; a blind one shows its scores only to its author's side."""
        return page_of(RatingRead, await reviews.contract_reviews(member, contract_id, kind, cursor, limit))

    @post("/ratings", status_code=201)
    async def rate_provider(self, request: Request, viewer: ViewerDep, member: MemberDep,
                            contract_id: FromPath[uuid.UUID], data: JSONBody[RatingCreate],
                            idempotency_key: IdempotencyKey = None) -> RatingRead:
        """The merchant (owner or operator) rates the provider for one contract month that has started or one
        accepted milestone.

        Once per month or milestone (409 `rating_duplicate` after); blind until the provider reviews the merchant
        for the same occasion, or for 14 days. Send an Idempotency-Key to retry safely."""

        async def create() -> RatingRead:
            return to(RatingRead, await reviews.rate_provider(viewer, member, contract_id, _scores(data),
                                                              period=data.period, milestone_id=data.milestone_id))

        return await once(request, viewer, idempotency_key, create, RatingRead)

    @post("/reviews", status_code=201)
    async def review_merchant(self, request: Request, viewer: ViewerDep, member: MemberDep,
                              contract_id: FromPath[uuid.UUID], data: JSONBody[RatingCreate],
                              idempotency_key: IdempotencyKey = None) -> RatingRead:
        """The provider (owner or manager) reviews the merchant for one contract month or accepted milestone: the
        mirror of a rating, by the same rules. Send an Idempotency-Key to retry safely."""

        async def create() -> RatingRead:
            return to(RatingRead, await reviews.review_merchant(viewer, member, contract_id, _scores(data),
                                                                period=data.period, milestone_id=data.milestone_id))

        return await once(request, viewer, idempotency_key, create, RatingRead)


class RatingController(Controller):
    """Replies and disputes by the parties: ratings of providers under /ratings, reviews of merchants under
    /reviews."""

    path = "/api/v1/orgs/{org_id:uuid}"
    tags = ["ratings"]
    guards = [requires_user]
    dependencies = MEMBER

    @post("/ratings/{rating_id:uuid}/reply", status_code=200)
    async def reply_to_rating(self, viewer: ViewerDep, member: MemberDep, rating_id: FromPath[uuid.UUID],
                              data: JSONBody[ReplyCreate]) -> RatingRead:
        """The provider (owner or manager) replies once to a published rating of it; 409 after the first reply."""
        return to(RatingRead, await reviews.reply(viewer, member, states.RATING, rating_id, data.text))

    @post("/reviews/{review_id:uuid}/reply", status_code=200)
    async def reply_to_review(self, viewer: ViewerDep, member: MemberDep, review_id: FromPath[uuid.UUID],
                              data: JSONBody[ReplyCreate]) -> RatingRead:
        """The merchant (owner or operator) replies once to the provider's published review of it."""
        return to(RatingRead, await reviews.reply(viewer, member, states.PROVIDER_REVIEW, review_id, data.text))

    @post("/ratings/{rating_id:uuid}/dispute", status_code=201)
    async def dispute_rating(self, viewer: ViewerDep, member: MemberDep, rating_id: FromPath[uuid.UUID],
                             data: JSONBody[DisputeCreate]) -> DisputeRead:
        """Either party disputes a published rating to an admin.

        With a written reason; once per party (409 after)."""
        return to(DisputeRead, await reviews.dispute(viewer, member, states.RATING, rating_id, data.reason))

    @post("/reviews/{review_id:uuid}/dispute", status_code=201)
    async def dispute_review(self, viewer: ViewerDep, member: MemberDep, review_id: FromPath[uuid.UUID],
                             data: JSONBody[DisputeCreate]) -> DisputeRead:
        """Either party disputes a published review of the merchant to an admin.

        With a written reason; once per party (409 after)."""
        return to(DisputeRead, await reviews.dispute(viewer, member, states.PROVIDER_REVIEW, review_id, data.reason))


class ScorecardController(Controller):
    path = "/api/v1/orgs/{org_id:uuid}/scorecard"
    tags = ["ratings"]
    guards = [requires_user]
    dependencies = MEMBER

    @get()
    async def read_scorecard(self, member: MemberDep) -> ScorecardRead:
        """The provider's own scorecard: its tier, each dimension's score, weight and contribution (they add up to
        the composite) with the figures it came from, and the history of its composite and tier."""
        if member.kind != roles.PROVIDER:
            raise Forbidden("role_not_allowed", N_("Scorecards are kept for providers."))
        return scorecard_read(await scorecards.scorecard(member.organisation_id))


class PublicRatingController(Controller):
    path = "/api/v1/providers/{provider_id:uuid}/ratings"
    tags = ["ratings"]

    @get()
    async def list_provider_ratings(self, provider_id: FromPath[uuid.UUID], cursor: Cursor = None,
                                    limit: Limit = DEFAULT_LIMIT) -> Page[RatingRead]:
        """A provider's published ratings with their replies, newest first; hidden ones are listed as hidden,
        with the admin's reason and no scores."""
        return page_of(RatingRead, await reviews.provider_ratings(provider_id, cursor, limit))


class AdminRatingController(Controller):
    path = "/api/v1/admin/ratings"
    tags = ["admin"]
    guards = [requires_admin]
    dependencies = VIEWER

    @get("/disputes")
    async def list_disputes(self, cursor: Cursor = None, limit: Limit = DEFAULT_LIMIT) -> Page[DisputeRead]:
        """Open disputes, oldest first (platform admins)."""
        return page_of(DisputeRead, await reviews.open_disputes(cursor, limit))

    @post("/disputes/{dispute_id:uuid}/decide", status_code=200)
    async def decide_dispute(self, viewer: ViewerDep, dispute_id: FromPath[uuid.UUID],
                             data: JSONBody[DisputeDecision]) -> DisputeRead:
        """Upholds or hides a disputed rating with a written reason (platform admins); 409 once decided."""
        return to(DisputeRead, await reviews.decide_dispute(viewer, dispute_id, data.hide, data.reason))


class AdminTierController(Controller):
    path = "/api/v1/admin"
    tags = ["admin"]
    guards = [requires_admin]
    dependencies = VIEWER

    @post("/providers/{provider_id:uuid}/brand-grades", status_code=201)
    async def grade_brand(self, viewer: ViewerDep, provider_id: FromPath[uuid.UUID],
                          data: JSONBody[BrandGradeCreate]) -> BrandGradeRead:
        """Grades a provider's brand capability 0-100 with evidence until an expiry (platform admins)."""
        return to(BrandGradeRead, await grading.grade_brand(
            viewer, provider_id, score=data.score, evidence=data.evidence, expires_at=data.expires_at,
            brands_served=data.brands_served, key_accounts_served=data.key_accounts_served))

    @post("/providers/{provider_id:uuid}/tier-requests", status_code=201)
    async def request_tier(self, viewer: ViewerDep, provider_id: FromPath[uuid.UUID],
                           data: JSONBody[TierRequestCreate]) -> TierApprovalRead:
        """Asks for a tier change that a second admin must approve (platform admins): an override (tier, reason,
        expiry) or the endorsement of an earned 6-star promotion; 409 while one of the kind waits."""
        if data.kind == states.OVERRIDE:
            if data.tier is None or data.expires_at is None:
                raise InvalidInput(RatingsError.TIER, N_("An override needs a tier and an expiry."))
            row = await grading.request_override(viewer, provider_id, tier=data.tier, reason=data.reason,
                                                 expires_at=data.expires_at)
        else:
            row = await grading.request_promotion(viewer, provider_id, data.reason)
        return to(TierApprovalRead, row)

    @get("/tier-requests")
    async def list_tier_requests(self, viewer: ViewerDep, cursor: Cursor = None,
                                 limit: Limit = DEFAULT_LIMIT) -> Page[TierApprovalRead]:
        """Tier changes waiting for a second admin, oldest first (platform admins)."""
        return page_of(TierApprovalRead, await grading.pending_approvals(viewer, cursor, limit))

    @post("/tier-requests/{approval_id:uuid}/approve", status_code=200)
    async def approve_tier(self, viewer: ViewerDep, approval_id: FromPath[uuid.UUID],
                           data: JSONBody[TierDecision]) -> TierApprovalRead:
        """A second admin, not the one who asked, approves a tier change (403 `second_admin_required` for the
        same admin; 409 once decided)."""
        return to(TierApprovalRead, await grading.decide(viewer, approval_id, True, data.reason))

    @post("/tier-requests/{approval_id:uuid}/reject", status_code=200)
    async def reject_tier(self, viewer: ViewerDep, approval_id: FromPath[uuid.UUID],
                          data: JSONBody[TierDecision]) -> TierApprovalRead:
        """A second admin rejects a tier change (403 for the admin who asked; 409 once decided)."""
        return to(TierApprovalRead, await grading.decide(viewer, approval_id, False, data.reason))


ADMIN_CONFLICTS = {name: (409,) for name in ("decide_dispute", "request_tier", "approve_tier", "reject_tier")}
ROUTES = api_contract.document([ContractRatingController, RatingController, ScorecardController,
                                PublicRatingController, AdminRatingController, AdminTierController],
                               extra=ADMIN_CONFLICTS)
