"""The ratings domain's authorisation matrix (see tests/authz.py; the tenders
domain's matrix supplies the entry and runner).

Who may do what (ratings/services/reviews.py, grading.py, scorecards.py):

* every member of either party reads a contract's ratings;
* the merchant's owner and operator rate the provider, the provider's owner and
  manager review the merchant — the other party gets 403;
* the reviewed side's signers reply once (the provider to a rating: the merchant
  gets 403); either party's signers dispute;
* a provider's members read its scorecard (a merchant gets 403);
* a provider's ratings are public;
* platform admins decide disputes, grade brands and ask for and approve tier changes
  (a second admin approves); others get 404;
* anyone else gets 404.
"""

from __future__ import annotations

import datetime
import uuid

import pytest

from fuwu import roles
from fuwu.clock import now
from fuwu.services import accounts
from ratings.services import grading, reviews
from ratings.services.reviews import Scores
from ratings.tables import Standing
from sla.tables import Contract
from tests.authz import ADMIN, ORG, PUBLIC, Call, Target
from tests.conftest import PASSWORD, unique
from tests.integration.tenders.test_authz_matrix import (
    BOTH,
    EVERY_MEMBER,
    MERCHANT,
    PROVIDER,
    WRITERS,
    Entry,
    acted_on,
    cases,
    member_of,
    merchant,
    provider,
    shared,
)
from tests.integration.ratings.conftest import UNRECOMMENDED

SIGNERS = (roles.OWNER, roles.OPERATOR, roles.MANAGER)
PROVIDER_SIGNERS = (roles.OWNER, roles.MANAGER)
SCORES = {"overall": 4, "quality": 4, "communication": 5, "timeliness": 4, "comment": "Good month.", "period": 1}


def _parties(t: Target):
    if t.owner.org_kind == MERCHANT:
        return t.owner, provider(t)
    if t.owner.org_kind == PROVIDER:
        return merchant(t), t.owner
    return merchant(t), provider(t)  # an admin acts on the cast's contract


async def _new_contract(t: Target) -> uuid.UUID:
    m, p = _parties(t)
    starts = now() - datetime.timedelta(days=10)
    row = Contract(merchant=m.org_id, provider=p.org_id, category="cs_presales", status="active", starts_at=starts,
                   ends_at=starts + datetime.timedelta(days=365), currency="CNY", pricing_model="periodic_fee",
                   pricing_terms={}, period_fee=0, time_zone="Asia/Shanghai", calendar={},
                   merchant_signed_at=starts, provider_signed_at=starts)
    await row.save()
    return row.id


async def _published(t: Target) -> tuple[uuid.UUID, uuid.UUID]:
    """A contract whose month 1 both sides reviewed: the rating is published."""
    async def make():
        cid = await _new_contract(t)
        m, p = _parties(t)
        rating = await reviews.rate_provider(m.viewer, await member_of(m), cid, Scores(4, 4, 4, 4), period=1)
        await reviews.review_merchant(p.viewer, await member_of(p), cid, Scores(4, 4, 4, 4), period=1)
        return cid, rating["id"]

    return await acted_on(("published", t.kind), make)


async def _published_review(t: Target) -> tuple[uuid.UUID, uuid.UUID]:
    """A contract whose month 1 both sides reviewed: the provider's review is published."""
    async def make():
        cid = await _new_contract(t)
        m, p = _parties(t)
        await reviews.rate_provider(m.viewer, await member_of(m), cid, Scores(4, 4, 4, 4), period=1)
        review = await reviews.review_merchant(p.viewer, await member_of(p), cid, Scores(4, 4, 4, 4), period=1)
        return cid, review["id"]

    return await acted_on(("published review", t.kind), make)


async def _api_rate(t: Target, suffix: str) -> Call:
    cid = await acted_on(("contract", t.kind, suffix), lambda: _new_contract(t))
    return Call(f"/api/v1/orgs/{t.org_id}/contracts/{cid}/{suffix}", json=SCORES)


async def _api_list(t: Target) -> Call:
    cid = await shared(("rated", t.kind, t.org_id), lambda: _new_contract(t))
    return Call(f"/api/v1/orgs/{t.org_id}/contracts/{cid}/ratings")


async def _api_review_reply(t: Target) -> Call:
    _, review = await _published_review(t)
    return Call(f"/api/v1/orgs/{t.org_id}/reviews/{review}/reply", json={"text": "Thank you."})


async def _api_review_dispute(t: Target) -> Call:
    _, review = await _published_review(t)
    return Call(f"/api/v1/orgs/{t.org_id}/reviews/{review}/dispute",
                json={"reason": "The scores do not match the record."})


async def _api_reply(t: Target) -> Call:
    _, rating = await _published(t)
    return Call(f"/api/v1/orgs/{t.org_id}/ratings/{rating}/reply", json={"text": "Thank you."})


async def _api_dispute(t: Target) -> Call:
    _, rating = await _published(t)
    return Call(f"/api/v1/orgs/{t.org_id}/ratings/{rating}/dispute",
                json={"reason": "The scores do not match the record."})


async def _other_admin() -> accounts.Viewer:
    email = f"{unique('admin')}@example.test"
    user = await accounts.create_admin(email, PASSWORD, "Second admin")
    return accounts.Viewer(user_id=user["id"], email=email, display_name="Second admin", locale="en",
                           timezone="Asia/Shanghai", via="token")


async def _admin_dispute(t: Target) -> Call:
    async def make():
        _, rating = await _published(t)
        p = provider(t)
        return (await reviews.dispute(p.viewer, await member_of(p), "rating", rating,
                                      "The scores do not match the record."))["id"]

    dispute = await acted_on(("dispute",), make)
    return Call(f"/api/v1/admin/ratings/disputes/{dispute}/decide",
                json={"hide": True, "reason": "The record shows otherwise."})


async def _admin_grade(t: Target) -> Call:
    expires = (now() + datetime.timedelta(days=90)).isoformat()
    return Call(f"/api/v1/admin/providers/{provider(t).org_id}/brand-grades",
                json={"score": 70, "evidence": "Three key accounts served.", "expires_at": expires})


async def _admin_request(t: Target) -> Call:
    async def make():
        from tests.conftest import new_actor

        return (await new_actor("provider", categories=UNRECOMMENDED)).org_id

    provider_id = await acted_on(("tier provider",), make)
    expires = (now() + datetime.timedelta(days=30)).isoformat()
    return Call(f"/api/v1/admin/providers/{provider_id}/tier-requests",
                json={"kind": "override", "tier": 4, "reason": "Audited delivery records.", "expires_at": expires})


async def _admin_decide(t: Target, action: str) -> Call:
    async def make():
        from tests.conftest import new_actor

        target = await new_actor("provider", categories=UNRECOMMENDED)
        await Standing(provider=target.org_id, tier=5, pending_tier=6, composite=90.0).save()
        asked = await grading.request_promotion(await _other_admin(), target.org_id, "Excellent for a year.")
        return asked["id"]

    approval = await acted_on(("approval", action), make)
    return Call(f"/api/v1/admin/tier-requests/{approval}/{action}", json={"reason": ""})


async def _page_grade(t: Target) -> Call:
    day = (now() + datetime.timedelta(days=90)).date().isoformat()
    return Call(f"/admin/providers/{provider(t).org_id}/brand-grade",
                form={"score": "70", "evidence": "Three key accounts served.", "expires_on": day})


async def _page_request(t: Target) -> Call:
    call = await _admin_request(t)
    provider_id = call.url.split("/")[5]
    day = (now() + datetime.timedelta(days=30)).date().isoformat()
    return Call(f"/admin/providers/{provider_id}/tier-request",
                form={"kind": "override", "tier": "4", "reason": "Audited delivery records.", "expires_on": day})


async def _page_decide(t: Target, action: str) -> Call:
    call = await _admin_decide(t, action)
    approval = call.url.split("/")[5]
    return Call(f"/admin/tiers/{approval}/{action}", form={"reason": ""})


async def _page_dispute(t: Target) -> Call:
    call = await _admin_dispute(t)
    dispute = call.url.split("/")[6]
    return Call(f"/admin/disputes/{dispute}/decide", form={"decision": "uphold", "reason": "The rating is genuine."})


async def _page_rate(t: Target) -> Call:
    cid = await acted_on(("page contract", t.kind), lambda: _new_contract(t))
    return Call(f"/contracts/{cid}/ratings", form={key: str(value) for key, value in SCORES.items()})


async def _page_reply(t: Target) -> Call:
    cid, rating = await _published(t)
    return Call(f"/contracts/{cid}/ratings/rating/{rating}/reply", form={"reply": "Thank you."})


ONE = "/api/v1/orgs/{org_id:uuid}/contracts/{contract_id:uuid}"
RATING = "/api/v1/orgs/{org_id:uuid}/ratings/{rating_id:uuid}"
REVIEW = "/api/v1/orgs/{org_id:uuid}/reviews/{review_id:uuid}"

MATRIX = [
    Entry("GET", ONE + "/ratings", ORG, setup=_api_list, kinds=BOTH, roles=EVERY_MEMBER),
    Entry("POST", ONE + "/ratings", ORG, setup=lambda t: _api_rate(t, "ratings"), kinds=(MERCHANT,), roles=WRITERS,
          other_kind=403, ok=(201,)),
    Entry("POST", ONE + "/reviews", ORG, setup=lambda t: _api_rate(t, "reviews"), kinds=(PROVIDER,),
          roles=PROVIDER_SIGNERS, other_kind=403, ok=(201,)),
    Entry("POST", RATING + "/reply", ORG, setup=_api_reply, kinds=(PROVIDER,), roles=PROVIDER_SIGNERS,
          other_kind=403, ok=(200,)),
    Entry("POST", RATING + "/dispute", ORG, setup=_api_dispute, kinds=BOTH, roles=SIGNERS, ok=(201,)),
    Entry("POST", REVIEW + "/reply", ORG, setup=_api_review_reply, kinds=(MERCHANT,), roles=WRITERS,
          other_kind=403, ok=(200,)),
    Entry("POST", REVIEW + "/dispute", ORG, setup=_api_review_dispute, kinds=BOTH, roles=SIGNERS, ok=(201,)),
    Entry("GET", "/api/v1/orgs/{org_id:uuid}/scorecard", ORG, kinds=(PROVIDER,), roles=EVERY_MEMBER, other_kind=403,
          setup=lambda t: Call(f"/api/v1/orgs/{t.org_id}/scorecard")),
    Entry("GET", "/api/v1/providers/{provider_id:uuid}/ratings", PUBLIC,
          setup=lambda t: Call(f"/api/v1/providers/{provider(t).org_id}/ratings")),
    Entry("GET", "/api/v1/admin/ratings/disputes", ADMIN),
    Entry("POST", "/api/v1/admin/ratings/disputes/{dispute_id:uuid}/decide", ADMIN, setup=_admin_dispute,
          ok=(200,)),
    Entry("POST", "/api/v1/admin/providers/{provider_id:uuid}/brand-grades", ADMIN, setup=_admin_grade, ok=(201,)),
    Entry("POST", "/api/v1/admin/providers/{provider_id:uuid}/tier-requests", ADMIN, setup=_admin_request,
          ok=(201,)),
    Entry("GET", "/api/v1/admin/tier-requests", ADMIN),
    Entry("POST", "/api/v1/admin/tier-requests/{approval_id:uuid}/approve", ADMIN, ok=(200,),
          setup=lambda t: _admin_decide(t, "approve")),
    Entry("POST", "/api/v1/admin/tier-requests/{approval_id:uuid}/reject", ADMIN, ok=(200,),
          setup=lambda t: _admin_decide(t, "reject")),
    # pages
    Entry("GET", "/scorecard", ORG, kinds=(PROVIDER,), roles=EVERY_MEMBER, other_kind=403, outsider=None),
    Entry("GET", "/providers/{provider_id:uuid}/ratings", PUBLIC,
          setup=lambda t: Call(f"/providers/{provider(t).org_id}/ratings")),
    Entry("GET", "/admin/tiers", ADMIN),
    Entry("POST", "/admin/providers/{provider_id:uuid}/brand-grade", ADMIN, setup=_page_grade),
    Entry("POST", "/admin/providers/{provider_id:uuid}/tier-request", ADMIN, setup=_page_request),
    Entry("POST", "/admin/tiers/{approval_id:uuid}/approve", ADMIN, setup=lambda t: _page_decide(t, "approve")),
    Entry("POST", "/admin/tiers/{approval_id:uuid}/reject", ADMIN, setup=lambda t: _page_decide(t, "reject")),
    Entry("POST", "/admin/disputes/{dispute_id:uuid}/decide", ADMIN, setup=_page_dispute),
    # A contract's page: its parties rate (the merchant) or review (the provider) and reply.
    Entry("POST", "/contracts/{contract_id:uuid}/ratings", ORG, setup=_page_rate, kinds=BOTH, roles=SIGNERS),
    Entry("POST", "/contracts/{contract_id:uuid}/ratings/{kind:str}/{review_id:uuid}/reply", ORG,
          setup=_page_reply, kinds=(PROVIDER,), roles=PROVIDER_SIGNERS, other_kind=403),
]


@pytest.mark.parametrize("case", cases(MATRIX))
async def test_authz(case, make_client):
    await case.entry.run(case, make_client)
