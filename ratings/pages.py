"""Ratings pages: the provider's scorecard explaining its tier dimension by
dimension, a provider's ratings with replies on its public profile (a panel of the
shell's provider page) and their full list, and the admins' grading: the brand
grade and tier requests on an organisation's admin page (a panel), and the tier
requests and disputes waiting for a decision."""

from __future__ import annotations

import datetime
import uuid

from litestar import Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from fuwu import roles
from fuwu.errors import FuwuError, InvalidInput, not_found
from fuwu.i18n import N_, translate_format
from fuwu.pages import form_errors, page_viewer, render, require_member
from fuwu.services.accounts import Viewer, is_platform_admin
from ratings import states
from ratings.errors import RatingsError
from ratings.scorecard_pages import scorecard_context
from ratings.services import grading, reviews, scorecards

PAGE_SIZE = 20


async def _admin(request: Request) -> Viewer:
    viewer = page_viewer(request)
    if not await is_platform_admin(viewer.user_id):
        raise not_found("Page")
    return viewer


def _explained(card: dict) -> list[dict]:
    latest = card["latest"]
    if not latest:
        return []
    return [{"dimension": d, **latest["explanation"][d]} for d in states.DIMENSIONS]


@get("/scorecard", include_in_schema=False)
async def scorecard_page(request: Request) -> Template:
    """The provider's tier explained: each dimension's score, weight and
    contribution (adding up to the composite), the figures behind each, the gates,
    and the history of its composite and tier."""
    viewer = page_viewer(request)
    member = await require_member(viewer)
    if member.kind != roles.PROVIDER:
        from fuwu.errors import Forbidden

        raise Forbidden("role_not_allowed", N_("Scorecards are kept for providers."))
    return await render(request, "ratings/scorecard.html", **await scorecard_context(request, member.organisation_id))


async def provider_panel(request: Request, provider_id: uuid.UUID) -> dict | None:
    """The "provider" slot of the shell's public provider page: tier badge and the
    latest ratings with their replies."""
    tier = (await scorecards.provider_tiers([provider_id])).get(provider_id, 0)
    page = await reviews.provider_ratings(provider_id, None, 5)
    return {"template": "ratings/_provider_panel.html", "tier": tier, "tiers": states.TIER_LABELS,
            "provider_id": provider_id,
            "ratings": page.items, "more": f"/providers/{provider_id}/ratings" if page.next_cursor else None}


@get("/providers/{provider_id:uuid}/ratings", include_in_schema=False)
async def provider_ratings_page(request: Request, provider_id: FromPath[uuid.UUID]) -> Template:
    page = await reviews.provider_ratings(provider_id, request.query_params.get("cursor"), PAGE_SIZE)
    more = f"/providers/{provider_id}/ratings?cursor={page.next_cursor}" if page.next_cursor else None
    return await render(request, "ratings/provider_ratings.html", provider_id=provider_id, ratings=page.items,
                        more=more, tiers=states.TIER_LABELS,
                        tier=(await scorecards.provider_tiers([provider_id])).get(provider_id, 0))


async def admin_panel(org: dict) -> dict | None:
    """The "admin_organisation" slot: a provider's tier and composite, the brand grade
    form and the tier request forms."""
    if org.get("kind") != roles.PROVIDER:
        return None
    card = await scorecards.scorecard(org["id"])
    return {"template": "ratings/_admin_panel.html", "card": card, "rows": _explained(card),
            "tiers": states.TIER_LABELS}


@get("/admin/tiers", include_in_schema=False)
async def admin_tiers_page(request: Request) -> Template:
    viewer = await _admin(request)
    return await _admin_tiers(request, viewer)


async def _admin_tiers(request: Request, viewer: Viewer, error: str = "", status_code: int = 200) -> Template:
    approvals = await grading.pending_approvals(viewer, None, 100)
    disputes = await reviews.open_disputes(None, 100)
    return await render(request, "ratings/admin_tiers.html", status_code=status_code, approvals=approvals.items,
                        disputes=disputes.items, tiers=states.TIER_LABELS, kinds=states.APPROVAL_KINDS,
                        error=error, me=viewer.user_id)


def _moment(value: str | None, zone: str) -> datetime.datetime:
    from zoneinfo import ZoneInfo

    try:
        day = datetime.date.fromisoformat((value or "").strip())
    except ValueError:
        raise InvalidInput(RatingsError.GRADE, N_("Give the expiry as a date such as 2027-06-30.")) from None
    return datetime.datetime.combine(day, datetime.time(), ZoneInfo(zone or "Asia/Shanghai"))


def _int(value: str | None, default: int | None = None) -> int:
    try:
        return int((value or "").strip())
    except ValueError:
        if default is not None:
            return default
        raise InvalidInput(RatingsError.GRADE, N_("Give a whole number.")) from None


async def _org_page_action(request: Request, provider_id: uuid.UUID, action) -> Template | Redirect:
    viewer = await _admin(request)
    form = await request.form()
    try:
        await action(viewer, form)
    except FuwuError as exc:
        from fuwu.admin_pages import _org_page

        return await _org_page(request, provider_id, form_errors(exc), exc.status_code)
    return Redirect(f"/admin/orgs/{provider_id}", status_code=303)


@post("/admin/providers/{provider_id:uuid}/brand-grade", include_in_schema=False)
async def brand_grade_form(request: Request, provider_id: FromPath[uuid.UUID]) -> Template | Redirect:
    async def act(viewer: Viewer, form) -> None:
        await grading.grade_brand(viewer, provider_id, score=_int(form.get("score")),
                                  evidence=form.get("evidence") or "",
                                  expires_at=_moment(form.get("expires_on"), viewer.timezone),
                                  brands_served=_int(form.get("brands_served"), 0),
                                  key_accounts_served=_int(form.get("key_accounts_served"), 0))

    return await _org_page_action(request, provider_id, act)


@post("/admin/providers/{provider_id:uuid}/tier-request", include_in_schema=False)
async def tier_request_form(request: Request, provider_id: FromPath[uuid.UUID]) -> Template | Redirect:
    async def act(viewer: Viewer, form) -> None:
        if form.get("kind") == states.PROMOTION:
            await grading.request_promotion(viewer, provider_id, form.get("reason") or "")
        else:
            await grading.request_override(viewer, provider_id, tier=_int(form.get("tier")),
                                           reason=form.get("reason") or "",
                                           expires_at=_moment(form.get("expires_on"), viewer.timezone))

    return await _org_page_action(request, provider_id, act)


async def _tiers_action(request: Request, action) -> Template | Redirect:
    viewer = await _admin(request)
    form = await request.form()
    try:
        await action(viewer, form)
    except FuwuError as exc:
        return await _admin_tiers(request, viewer, form_errors(exc), exc.status_code)
    return Redirect("/admin/tiers", status_code=303)


@post("/admin/tiers/{approval_id:uuid}/approve", include_in_schema=False)
async def approve_form(request: Request, approval_id: FromPath[uuid.UUID]) -> Template | Redirect:
    return await _tiers_action(request, lambda viewer, form: grading.decide(viewer, approval_id, True))


@post("/admin/tiers/{approval_id:uuid}/reject", include_in_schema=False)
async def reject_form(request: Request, approval_id: FromPath[uuid.UUID]) -> Template | Redirect:
    return await _tiers_action(request, lambda viewer, form: grading.decide(viewer, approval_id, False,
                                                                            form.get("reason") or ""))


@post("/admin/disputes/{dispute_id:uuid}/decide", include_in_schema=False)
async def decide_form(request: Request, dispute_id: FromPath[uuid.UUID]) -> Template | Redirect:
    return await _tiers_action(request, lambda viewer, form: reviews.decide_dispute(
        viewer, dispute_id, form.get("decision") == "hide", form.get("reason") or ""))


# --- a contract's ratings, on its page (a panel of the sla domain's contract page) ---------


def _occasion_text(occasion: str) -> str:
    """"period:3" as "Month 3"; a milestone as what it is (never the stored code)."""
    kind, _, number = occasion.partition(":")
    if kind == states.PERIOD:
        return translate_format(N_("Month {number}"), {"number": number})
    return states.OCCASIONS.label(states.MILESTONE)


async def contract_panel(request: Request, viewer: Viewer, member, contract: dict) -> dict | None:
    """The "contract" slot: the contract's ratings of the provider and reviews of the
    merchant (a blind one only to its author's side), the form to write this side's
    review of a contract month, and a reply form under each published review of this
    side."""
    if contract.get("merchant_signed_at") is None or contract.get("provider_signed_at") is None:
        return None
    side = contract["side"]
    may_write = member.role in reviews.SIGNERS[side]
    ratings = [{**row, "occasion_text": _occasion_text(row["occasion"])}
               for row in (await reviews.contract_reviews(member, contract["id"], states.RATING)).items]
    reviewed = [{**row, "occasion_text": _occasion_text(row["occasion"])}
                for row in (await reviews.contract_reviews(member, contract["id"], states.PROVIDER_REVIEW)).items]
    # The side that is reviewed replies: the provider to ratings, the merchant to reviews.
    mine_to_answer = states.RATING if side == "provider" else states.PROVIDER_REVIEW
    return {"template": "ratings/_contract_panel.html", "side": side, "ratings": ratings, "reviewed": reviewed,
            "months": await reviews.open_months(member, contract) if may_write else [],
            "may_reply": may_write, "reply_kind": mine_to_answer, "statuses": states.REVIEW_STATUSES}


async def _contract_action(request: Request, contract_id: uuid.UUID, action) -> Template | Redirect:
    from sla.pages import contract_view

    viewer = page_viewer(request)
    member = await require_member(viewer)
    form = await request.form()
    try:
        await action(viewer, member, form)
    except FuwuError as exc:
        return await contract_view(request, viewer, member, contract_id, error=form_errors(exc),
                                   status_code=exc.status_code)
    return Redirect(f"/contracts/{contract_id}#ratings", status_code=303)


@post("/contracts/{contract_id:uuid}/ratings", include_in_schema=False)
async def contract_rate_form(request: Request, contract_id: FromPath[uuid.UUID]) -> Template | Redirect:
    """The merchant rates the provider, or the provider reviews the merchant, for one
    contract month (whichever side the member is on)."""
    async def act(viewer: Viewer, member, form) -> None:
        scores = reviews.Scores(overall=_int(form.get("overall")), quality=_int(form.get("quality")),
                                communication=_int(form.get("communication")),
                                timeliness=_int(form.get("timeliness")), comment=(form.get("comment") or "").strip())
        write = reviews.rate_provider if member.kind == roles.MERCHANT else reviews.review_merchant
        await write(viewer, member, contract_id, scores, period=_int(form.get("period")))

    return await _contract_action(request, contract_id, act)


@post("/contracts/{contract_id:uuid}/ratings/{kind:str}/{review_id:uuid}/reply", include_in_schema=False)
async def contract_reply_form(request: Request, contract_id: FromPath[uuid.UUID], kind: FromPath[str],
                              review_id: FromPath[uuid.UUID]) -> Template | Redirect:
    """The reviewed side replies once to a published rating or review."""
    if kind not in states.REVIEW_KINDS:
        raise not_found("Page")

    async def act(viewer: Viewer, member, form) -> None:
        await reviews.reply(viewer, member, kind, review_id, form.get("reply") or "")

    return await _contract_action(request, contract_id, act)


ROUTES = [scorecard_page, provider_ratings_page, admin_tiers_page, brand_grade_form, tier_request_form, approve_form,
          reject_form, decide_form, contract_rate_form, contract_reply_form]
