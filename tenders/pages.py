"""Server-rendered tender pages for merchants and providers: the tender list and
form, the tender page with questions, amendments and invitations, open tenders for
providers, the tender's audit timeline, and the dashboard panel.

Handlers read forms through tenders.forms and call the services; every rule lives
in tenders/services.
"""

from __future__ import annotations

import datetime
import uuid
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import msgspec
from litestar import Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from fuwu import i18n, roles
from fuwu.clock import now, valid_timezone
from fuwu.errors import Conflict, FuwuError, NotFound, not_found
from fuwu.i18n import N_
from fuwu.pages import form_errors, page_viewer, render, require_member
from fuwu.services import audit
from fuwu.services.accounts import Member, Viewer
from fuwu.settings import get_settings
from fuwu.wiring import wiring
from tenders import states
from tenders.forms import (
    DEADLINES,
    FormProblem,
    describe_amendments,
    describe_reason,
    describe_requirements,
    form_choices,
    form_values_from_post,
    form_values_from_tender,
    label,
    local_input,
    new_form_values,
    number_text,
    parse_major_units,
    tender_fields_from_values,
)
from tenders.schemas import (
    AnswerCreate,
    CancelRequest,
    DeclineInvitation,
    InviteProviders,
    QuestionCreate,
    TenderCreate,
    TenderUpdate,
)
from tenders.services import invitations, lifecycle, questions

# Panels that higher domains add to the tender page (bids adds the bid form for
# providers and the evaluation links for merchants): async callables
# (request, viewer, member, tender) -> {"template": "...", **context} or None.

PAGE_SIZE = 20


# --- form errors and the viewer's zone ----------------------------------------------


def error_text(exc: Exception) -> str:
    if isinstance(exc, FormProblem):
        return exc.message
    return form_errors(exc)


def error_status(exc: Exception) -> int:
    return exc.status_code if isinstance(exc, FuwuError) else 422


def viewer_zone(viewer: Viewer) -> str:
    zone = viewer.timezone or get_settings().default_timezone
    return zone if valid_timezone(zone) else "Asia/Shanghai"


# --- rendering -----------------------------------------------------------------------


async def page(request: Request, template: str, status_code: int = 200, **context: Any) -> Template:
    return await render(request, template, status_code=status_code, label=label, number=number_text, **context)


async def merchant_member(viewer: Viewer, *allowed_roles: str) -> Member:
    """The viewer's current merchant membership: the kind first (404 for others, as
    for any page that is not theirs), then the role (403)."""
    member = await require_member(viewer)
    if member.kind != roles.MERCHANT:
        raise not_found("Page")
    return await require_member(viewer, *allowed_roles) if allowed_roles else member


async def form_page(request: Request, values: dict, *, tender: dict | None = None, error: str | None = None,
                    status_code: int = 200) -> Template:
    return await page(request, "tenders/form.html", status_code=status_code, f=values, tender=tender, error=error,
                      **form_choices())


# --- merchant: list, form, actions ---------------------------------------------------


@get("/tenders", include_in_schema=False)
async def tender_list(request: Request) -> Template:
    viewer = page_viewer(request)
    member = await merchant_member(viewer)
    status = request.query_params.get("status") or None
    if status not in states.ALL:
        status = None
    listing = await lifecycle.list_merchant_tenders(member, status, request.query_params.get("cursor"), PAGE_SIZE)
    more = "?" + urlencode({"status": status or "", "cursor": listing.next_cursor}) if listing.next_cursor else None
    return await page(request, "tenders/list.html", listing=listing, status=status, statuses=states.ALL, more=more,
                      can_write=member.role in lifecycle.MERCHANT_WRITERS)


@get("/tenders/new", include_in_schema=False)
async def tender_new_form(request: Request) -> Template:
    viewer = page_viewer(request)
    await merchant_member(viewer, *lifecycle.MERCHANT_WRITERS)
    return await form_page(request, new_form_values(viewer_zone(viewer)))


@post("/tenders/new", include_in_schema=False)
async def tender_create(request: Request) -> Template | Redirect:
    viewer = page_viewer(request)
    member = await merchant_member(viewer, *lifecycle.MERCHANT_WRITERS)
    values = form_values_from_post(await request.form())
    try:
        category = values["category"]
        if category not in states.CATEGORIES:
            raise FormProblem(i18n.gettext("Choose a category."))
        fields = tender_fields_from_values(values, viewer_zone(viewer), category)
        data = msgspec.convert({"category": category, **fields}, TenderCreate)
        tender = await lifecycle.create_tender(viewer, member, data)
    except (FormProblem, FuwuError, msgspec.ValidationError) as exc:
        return await form_page(request, values, error=error_text(exc), status_code=error_status(exc))
    return Redirect(f"/tenders/{tender['id']}")


def _editable(tender: dict) -> None:
    if tender["status"] not in (states.DRAFT, states.PUBLISHED):
        raise Conflict("tender_not_editable", "Only drafts and published tenders can be changed.")


@get("/tenders/{tender_id:uuid}/edit", include_in_schema=False)
async def tender_edit_form(request: Request, tender_id: FromPath[uuid.UUID]) -> Template:
    viewer = page_viewer(request)
    member = await merchant_member(viewer)
    tender = await lifecycle.get_own_tender(member, tender_id)
    _editable(tender)
    return await form_page(request, form_values_from_tender(tender, viewer_zone(viewer)), tender=tender)


@post("/tenders/{tender_id:uuid}/edit", include_in_schema=False)
async def tender_edit(request: Request, tender_id: FromPath[uuid.UUID]) -> Template | Redirect:
    viewer = page_viewer(request)
    member = await merchant_member(viewer)
    tender = await lifecycle.get_own_tender(member, tender_id)
    _editable(tender)
    zone = viewer_zone(viewer)
    values = form_values_from_post(await request.form(), category=tender["category"])
    try:
        fields = tender_fields_from_values(values, zone, tender["category"])
        for name in DEADLINES:
            # The form shows minutes: an untouched deadline keeps its stored seconds.
            if values[name].strip() == local_input(tender[name], zone):
                fields[name] = None
        if tender["status"] == states.PUBLISHED:
            fields.pop("visibility", None)  # fixed once published
            if not values["reason"].strip():
                raise FormProblem(i18n.gettext("Give the reason for the amendment: providers read it."))
        fields["reason"] = values["reason"].strip()
        data = msgspec.convert(fields, TenderUpdate)
        await lifecycle.update_tender(viewer, member, tender_id, data)
    except (FormProblem, FuwuError, msgspec.ValidationError) as exc:
        if isinstance(exc, NotFound):
            raise
        return await form_page(request, values, tender=tender, error=error_text(exc), status_code=error_status(exc))
    return Redirect(f"/tenders/{tender_id}")


async def act_on_tender(request: Request, viewer: Viewer, member: Member, tender_id: uuid.UUID, action, *,
                        entered: dict | None = None, invalid: str | None = None, anchor: str = "") -> Template | Redirect:
    """Runs one form action of the tender page. What the person can fix (a form value,
    a refused step) shows on the tender page with what they typed; 404 propagates, so
    the page answers as the API would."""
    try:
        await action()
    except (FormProblem, FuwuError, msgspec.ValidationError) as exc:
        if isinstance(exc, NotFound):
            raise
        message = invalid if invalid and isinstance(exc, msgspec.ValidationError) else error_text(exc)
        return await tender_view(request, viewer, member, tender_id, error=message, status_code=error_status(exc),
                                 entered=entered)
    return Redirect(f"/tenders/{tender_id}{anchor}")


@post("/tenders/{tender_id:uuid}/publish", include_in_schema=False)
async def tender_publish(request: Request, tender_id: FromPath[uuid.UUID]) -> Template | Redirect:
    viewer = page_viewer(request)
    member = await merchant_member(viewer)
    return await act_on_tender(request, viewer, member, tender_id,
                               lambda: lifecycle.publish(viewer, member, tender_id))


@post("/tenders/{tender_id:uuid}/cancel", include_in_schema=False)
async def tender_cancel(request: Request, tender_id: FromPath[uuid.UUID]) -> Template | Redirect:
    viewer = page_viewer(request)
    member = await merchant_member(viewer)
    reason = ((await request.form()).get("reason") or "").strip()

    async def cancel() -> None:
        data = msgspec.convert({"reason": reason}, CancelRequest)
        await lifecycle.cancel(viewer, member, tender_id, data.reason)

    return await act_on_tender(request, viewer, member, tender_id, cancel, entered={"cancel": reason},
                               invalid=i18n.gettext("Give the reason for cancelling (at least 3 characters)."))


@post("/tenders/{tender_id:uuid}/invite", include_in_schema=False)
async def tender_invite(request: Request, tender_id: FromPath[uuid.UUID]) -> Template | Redirect:
    viewer = page_viewer(request)
    member = await merchant_member(viewer)
    form = await request.form()
    try:
        chosen = [uuid.UUID(value) for value in form.getall("provider_ids", [])[:100]]
    except ValueError:
        raise not_found("Provider") from None

    async def invite() -> None:
        if not chosen:
            raise FormProblem(i18n.gettext("Tick at least one provider to invite."))
        data = msgspec.convert({"provider_ids": chosen}, InviteProviders)
        await invitations.invite_providers(viewer, member, tender_id, data.provider_ids)

    return await act_on_tender(request, viewer, member, tender_id, invite, anchor="#invitations")


@post("/tenders/{tender_id:uuid}/questions/{question_id:uuid}/answer", include_in_schema=False)
async def question_answer(request: Request, tender_id: FromPath[uuid.UUID],
                          question_id: FromPath[uuid.UUID]) -> Template | Redirect:
    viewer = page_viewer(request)
    member = await merchant_member(viewer)
    answer = ((await request.form()).get("answer") or "").strip()

    async def answer_it() -> None:
        if not answer:
            raise FormProblem(i18n.gettext("Write an answer first."))
        data = msgspec.convert({"answer": answer[:8001]}, AnswerCreate)
        await questions.answer_question(viewer, member, tender_id, question_id, data.answer)

    return await act_on_tender(request, viewer, member, tender_id, answer_it, anchor="#questions",
                               entered={f"answer_{question_id}": answer})


@get("/tenders/{tender_id:uuid}/audit", include_in_schema=False)
async def tender_audit(request: Request, tender_id: FromPath[uuid.UUID]) -> Template:
    viewer = page_viewer(request)
    member = await merchant_member(viewer)
    tender = await lifecycle.get_own_tender(member, tender_id, allowed_roles=lifecycle.MERCHANT_READERS,
                                            what=N_("read the tender's audit log"))
    asked = {str(q["id"]): q["pseudonym"] for q in await questions.list_questions(member, tender_id)}
    timeline = await audit.object_timeline("tender", tender_id, request.query_params.get("cursor"), 50,
                                           parts={"question": list(asked)})
    for event in timeline.items:
        if event["object_type"] == "question" and event["action"] == "asked":
            # Askers are not named to the merchant: the question's pseudonym instead.
            event["actor_name"] = asked.get(event["object_id"], event["actor_name"])
    return await page(request, "tenders/audit.html", tender=tender, timeline=timeline)


# --- providers: questions, declining, open tenders -----------------------------------


@post("/tenders/{tender_id:uuid}/questions", include_in_schema=False)
async def question_ask(request: Request, tender_id: FromPath[uuid.UUID]) -> Template | Redirect:
    viewer = page_viewer(request)
    member = await require_member(viewer)
    text = ((await request.form()).get("text") or "").strip()

    async def ask() -> None:
        data = msgspec.convert({"text": text[:4001]}, QuestionCreate)
        await questions.ask_question(viewer, member, tender_id, data.text)

    return await act_on_tender(request, viewer, member, tender_id, ask, entered={"question": text},
                               invalid=i18n.gettext("Write a question of 3 to 4000 characters."), anchor="#questions")


@post("/tenders/{tender_id:uuid}/decline", include_in_schema=False)
async def invitation_decline(request: Request, tender_id: FromPath[uuid.UUID]) -> Template | Redirect:
    viewer = page_viewer(request)
    member = await require_member(viewer)
    reason = ((await request.form()).get("reason") or "").strip()

    async def decline() -> None:
        data = msgspec.convert({"reason": reason}, DeclineInvitation)
        await invitations.decline_invitation(viewer, member, tender_id, data.reason)

    return await act_on_tender(request, viewer, member, tender_id, decline, entered={"decline": reason})


@get("/open-tenders", include_in_schema=False)
async def open_tenders(request: Request) -> Template:
    viewer = page_viewer(request)
    member = await require_member(viewer)
    if member.kind != roles.PROVIDER:
        raise not_found("Page")
    params = request.query_params
    search = {
        "category": params.get("category") or "", "q": (params.get("q") or "").strip()[:100],
        "budget_at_least": (params.get("budget_at_least") or "").strip()[:30],
        "budget_at_most": (params.get("budget_at_most") or "").strip()[:30],
        "deadline_before": (params.get("deadline_before") or "").strip()[:10],
        "region": (params.get("region") or "").strip()[:64],
    }
    if search["category"] not in states.CATEGORIES:
        search["category"] = ""
    zone = viewer_zone(viewer)
    error, listing, more = None, None, None
    try:
        deadline = None
        if search["deadline_before"]:
            try:
                day = datetime.date.fromisoformat(search["deadline_before"])
            except ValueError:
                raise FormProblem(i18n.gettext("Deadline before: enter a date such as 2026-12-31.")) from None
            deadline = datetime.datetime.combine(day, datetime.time(), ZoneInfo(zone))
        listing = await lifecycle.browse_open_tenders(
            member, category=search["category"] or None, text=search["q"] or None,
            budget_at_least=parse_major_units(search["budget_at_least"], "CNY", N_("Budget at least")) or None,
            budget_at_most=parse_major_units(search["budget_at_most"], "CNY", N_("Budget at most")) or None,
            deadline_before=deadline, region=search["region"] or None, cursor=params.get("cursor"), limit=PAGE_SIZE,
        )
    except (FormProblem, FuwuError) as exc:
        if isinstance(exc, NotFound):
            raise
        error = error_text(exc)
    if listing is not None and listing.next_cursor:
        more = "?" + urlencode({**search, "cursor": listing.next_cursor})
    return await page(request, "tenders/open.html", status_code=422 if error else 200, listing=listing,
                      search=search, error=error, more=more, categories=states.CATEGORIES)


# --- the tender page -----------------------------------------------------------------


@get("/tenders/{tender_id:uuid}", include_in_schema=False)
async def tender_page(request: Request, tender_id: FromPath[uuid.UUID]) -> Template:
    viewer = page_viewer(request)
    member = await require_member(viewer)
    return await tender_view(request, viewer, member, tender_id)


def _translated(message: str | None) -> str | None:
    # A message id another domain chose (ratings' warning), in the reader's language.
    return i18n.gettext(message) if message else None


async def tender_view(request: Request, viewer: Viewer, member: Member, tender_id: uuid.UUID, *,
                      error: str | None = None, status_code: int = 200, entered: dict | None = None) -> Template:
    """The tender page for its merchant's team or a provider who may see it (404 for
    everyone else), with the actions the viewer's role allows, then the panels of
    higher domains."""
    tender = await lifecycle.get_tender(member, tender_id)
    zone = viewer_zone(viewer)
    moment = now()
    status = tender["status"]
    is_merchant = member.kind == roles.MERCHANT
    context: dict[str, Any] = {
        "tender": tender, "error": error, "entered": entered or {}, "is_merchant": is_merchant,
        "requirements": describe_requirements(tender["requirements"]),
        "amendments": describe_amendments(await lifecycle.list_amendments(tender_id), tender["currency"], zone),
        "questions": await questions.list_questions(member, tender_id),
        "questions_open": status == states.PUBLISHED and tender["questions_deadline"] is not None
        and tender["questions_deadline"] > moment,
        "server_now": moment, "can_write": False, "invitations": [], "recommendations": [], "invitation": None,
        "can_ask": False, "can_decline": False,
    }
    if is_merchant:
        can_write = member.role in lifecycle.MERCHANT_WRITERS
        context["can_write"] = can_write
        context["invitations"] = await invitations.list_invitations(member, tender_id)
        if can_write and status in (states.DRAFT, states.PUBLISHED):
            invited = {row["provider_id"] for row in context["invitations"]}
            context["recommendations"] = [
                {**row, "invited": row["provider_id"] in invited,
                 "reasons_text": [describe_reason(r) for r in row["reasons"]],
                 "warning_text": _translated(row.get("warning"))}
                for row in await invitations.recommend(member, tender_id)
            ]
    else:
        invitation = await invitations.my_invitation(member, tender_id)
        context["invitation"] = invitation
        context["can_ask"] = context["questions_open"] and member.role in lifecycle.PROVIDER_BIDDERS
        context["can_decline"] = (invitation is not None and invitation["status"] == "invited"
                                  and status == states.PUBLISHED and member.role in lifecycle.PROVIDER_BIDDERS)
    context["panels"] = panels = await wiring().render_panels("tender", request, viewer, member, tender)
    if any(panel.get("answers_invitation") for panel in panels):
        # The provider has bid (a higher domain's panel says so): nothing to decline.
        context["can_decline"] = False
    return await page(request, "tenders/tender.html", status_code=status_code, **context)


# --- dashboard -----------------------------------------------------------------------


async def count_by_status(merchant_id: uuid.UUID) -> list[tuple[str, int]]:
    """Tenders of one merchant per status, counted in SQL.

    # TODO: belongs in tenders.services.lifecycle (pages only read here).
    """
    from piccolo.query.functions.aggregate import Count

    from tenders.tables import Tender

    rows = await Tender.select(Tender.status, Count(Tender.id, alias="count")).where(
        Tender.merchant == merchant_id).group_by(Tender.status)
    counts = {row["status"]: row["count"] for row in rows}
    return [(status, counts[status]) for status in states.ALL if counts.get(status)]


async def directory_panel(viewer: Viewer, member: Member, category: str | None) -> dict | None:
    """Provider search, for a merchant who picked a category on /providers: the
    providers it would be recommended, ranked by the tier that fits the shop's size,
    free capacity and region, each with the reasons (the list below stays the whole
    directory)."""
    if member.kind != roles.MERCHANT or not category:
        return None
    return {"template": "tenders/_directory_recommendations.html", "category": category,
            "recommendations": [{**row, "reasons_text": [describe_reason(r) for r in row["reasons"]],
                                 "warning_text": _translated(row.get("warning"))}
                                for row in await invitations.recommend_in_category(member, category)]}


async def dashboard_panel(viewer: Viewer, member: Member) -> dict | None:
    """Merchants: their latest tenders and counts by status. Providers: the latest
    open tenders they may bid on."""
    if member.kind == roles.MERCHANT:
        latest = await lifecycle.list_merchant_tenders(member, None, None, 5)
        return {"template": "tenders/_dashboard.html", "kind": "merchant", "tenders": latest.items,
                "counts": await count_by_status(member.organisation_id), "label": label,
                "can_write": member.role in lifecycle.MERCHANT_WRITERS}
    if member.kind == roles.PROVIDER:
        latest = await lifecycle.browse_open_tenders(member, limit=5)
        return {"template": "tenders/_dashboard.html", "kind": "provider", "tenders": latest.items, "counts": [],
                "label": label, "can_write": False}
    return None


ROUTES: list = [
    tender_list, tender_new_form, tender_create, tender_page, tender_edit_form, tender_edit, tender_publish,
    tender_cancel, tender_invite, question_ask, question_answer, invitation_decline, tender_audit, open_tenders,
]


# Words that are not labels: the nav entries, and the stored codes that error details
# name through Term/Terms (tender statuses, pricing models, round kinds), translated for
# Chinese readers. Pages show the labels of stored values (tenders.states, fuwu.values).
_MARKED = [
    N_("Tenders"), N_("Open tenders"),
    N_("draft"), N_("published"), N_("bidding_closed"), N_("evaluating"), N_("awarded"), N_("contracted"),
    N_("cancelled"), N_("unsuccessful"),
    N_("periodic_fee"), N_("per_order"), N_("metered"), N_("pay_after_delivery"),
    N_("proposal_review"), N_("presentation"), N_("site_inspection"),
]
