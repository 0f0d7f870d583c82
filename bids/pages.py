"""Server-rendered bid and evaluation pages: the bids panel on the tender page (the
provider's sealed bid, the merchant's way into the evaluation), the evaluation page
and the side-by-side comparison.

The rules live in bids.services; these handlers turn forms into service calls and
service answers into pages. A service error is shown on a page: a form's own errors
on the page that holds the form (the input kept), a 409 on the tender page by a
fixed message code, a 404 as the 404 page.
"""

from __future__ import annotations

import datetime
import uuid
from itertools import zip_longest
from urllib.parse import urlencode
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec
from litestar import Request, get, post
from litestar.datastructures import UploadFile
from litestar.params import FromPath
from litestar.response import File, Redirect, Template

from fuwu import i18n, roles
from fuwu import values as value_lists
from fuwu.clock import now
from fuwu.errors import Conflict, FuwuError, InvalidInput, NotFound, not_found
from fuwu.i18n import N_, Term
from fuwu.money import AmountError, amount_input, parse_amount
from fuwu.pages import form_errors, page_viewer, render, require_member
from fuwu.services.accounts import Member, Viewer
from fuwu.settings import get_settings
from bids import states
from bids.errors import BidError
from bids.schemas import AwardRequest, BidSubmit, FindingCreate, ScoreSubmit, ShortlistRequest, SlotCreate
from bids.services import award, evaluation, pipeline, submission
from tenders import states as tender_states
from tenders.schemas import CancelRequest
from tenders.services import lifecycle

PANEL_TEMPLATE = "bids/_panel.html"

# Choices of the SLA commitment rows.
SLA_CHOICES = {"metric": value_lists.SLA_METRICS, "statistic": value_lists.SLA_STATISTICS,
               "comparator": value_lists.SLA_COMPARATORS, "window": value_lists.SLA_WINDOWS}

# Conflicts shown on the tender page after a redirect: only these codes, each with a
# fixed message, ever reach the page through the address.
BID_ERROR_MESSAGES = {
    BidError.DEADLINE_PASSED.value: N_("Bidding closed at the bid deadline; bids are no longer accepted."),
    BidError.NOT_OPEN.value: N_("This tender does not take bids now."),
    BidError.ALREADY_BID.value: N_("You already have a live bid on this tender: revise it instead."),
    BidError.NO_BID.value: N_("You have no live bid on this tender. Submit one first."),
}
BID_NOTICES = {
    "submitted": N_("Your bid was submitted. It stays sealed until the bid deadline."),
    "revised": N_("Your bid was revised."),
    "confirmed": N_("Your bid is confirmed."),
    "withdrawn": N_("Your bid was withdrawn. You may bid again before the deadline."),
    "uploaded": N_("The file was added to your bid."),
    "slot_confirmed": N_("You confirmed the presentation slot."),
}


# --- small conversions ---------------------------------------------------------------


def _zone(viewer: Viewer) -> ZoneInfo:
    for name in (viewer.timezone, get_settings().default_timezone, "UTC"):
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError, TypeError):
            continue
    return ZoneInfo("UTC")


def minor_units(text: str, currency: str) -> int:
    """A price typed in major units ('40,000.50' yuan) as minor units (4000050 fen),
    through fuwu.money.parse_amount: required, more than zero."""
    try:
        return parse_amount(text, currency, required=True, allow_zero=False)
    except AmountError:
        raise InvalidInput(
            BidError.PRICING, N_("Enter the price as a number, with at most two decimals, e.g. 45000.00.")
        ) from None


def major_units(amount: int | None, currency: str) -> str:
    """4000050 fen -> '40000.50' for a form field."""
    return amount_input(amount, currency)


def _local_date(text: str, zone: ZoneInfo) -> datetime.datetime:
    """A date from a date field: valid through that whole day in the viewer's zone."""
    try:
        day = datetime.date.fromisoformat((text or "").strip())
    except ValueError:
        raise InvalidInput(BidError.VALIDITY, N_("Enter the date the bid stays valid until.")) from None
    return datetime.datetime.combine(day, datetime.time(23, 59, 59), tzinfo=zone)


def _local_moment(text: str, zone: ZoneInfo) -> datetime.datetime:
    """A datetime-local field (no zone) read in the viewer's zone."""
    try:
        moment = datetime.datetime.fromisoformat((text or "").strip())
    except ValueError:
        raise InvalidInput(BidError.SLOT, N_("Enter a date and a time.")) from None
    return moment.replace(tzinfo=zone) if moment.tzinfo is None else moment


def _float(text: str, message: str) -> float | None:
    text = (text or "").strip().replace(",", ".")
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise InvalidInput(BidError.ROUND, message) from None
    if value != value or value in (float("inf"), float("-inf")):
        raise InvalidInput(BidError.ROUND, message)
    return value


def _uuid(text: str | None, what: str = "Bid") -> uuid.UUID:
    try:
        return uuid.UUID(str(text or ""))
    except ValueError:
        raise not_found(what) from None


# The lists whose labels the bid pages show, by the name templates use for them; the
# shared lists (pricing models, SLA metrics, ...) and audit actions come from fuwu.values.
LABELS = {
    "bid_status": states.BID_STATUSES, "result": states.RESULTS, "action": states.REVISION_ACTIONS,
    "round": tender_states.ROUND_KINDS, "round_status": states.ROUND_STATUSES, "tender": tender_states.STATUSES,
}


def label(kind: str, value: Any) -> str:
    """The translated label of a stored value (a status, a pricing model, a metric);
    an unknown value is shown as it is."""
    found = LABELS.get(kind)
    return found.label(value) if found is not None else value_lists.label(kind, value)


def _is_open_for_bids(tender: dict) -> bool:
    deadline = tender.get("bid_deadline")
    return tender["status"] == tender_states.PUBLISHED and deadline is not None and now() < deadline


def _see_other(path: str) -> Redirect:
    return Redirect(path, status_code=303)


# --- the bid form --------------------------------------------------------------------


def _blank_sla_row() -> dict:
    return {"metric": "", "statistic": "mean", "comparator": "<=", "target": "", "unit": "seconds", "window": "month"}


def _sla_row_of(target: dict) -> dict:
    """A stored SLA target as a row of the form: a rate in percent, a time in its unit."""
    text, unit = value_lists.target_input(target.get("metric", ""), target.get("target"))
    return {"metric": target.get("metric", ""), "statistic": target.get("statistic", "mean"),
            "comparator": target.get("comparator", "<="), "target": text, "unit": unit,
            "window": target.get("window", "month")}


def _default_form(tender: dict, zone: ZoneInfo) -> dict:
    """A new bid starts from the tender's own SLA targets, to match or beat."""
    until = (tender.get("evaluation_end") or tender.get("bid_deadline") or now()) + datetime.timedelta(days=30)
    rows = [_sla_row_of(t) for t in tender.get("sla_targets") or []]
    return {"price": "", "pricing_model": (tender.get("pricing_models") or [""])[0], "price_unit": "",
            "proposal": "", "sla": rows + [_blank_sla_row()], "seats": "", "agents": "", "lead": "",
            "valid_until": until.astimezone(zone).date().isoformat()}


def _number(value: Any) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _form_from_bid(bid: dict, zone: ZoneInfo) -> dict:
    team = bid.get("team") or {}
    rows = [_sla_row_of(r) for r in bid.get("sla_commitment") or []]
    return {"price": major_units(bid["price_amount"], bid["currency"]), "pricing_model": bid["pricing_model"],
            "price_unit": bid.get("price_unit", ""), "proposal": bid.get("proposal", ""),
            "sla": rows + [_blank_sla_row()], "seats": _number(team.get("seats", "")),
            "agents": "\n".join(team.get("agents") or []), "lead": team.get("lead", ""),
            "valid_until": bid["valid_until"].astimezone(zone).date().isoformat()}


def _sla_rows(form) -> list[dict]:
    names = ("metric", "statistic", "comparator", "target", "unit", "window")
    columns = [form.getall(f"sla_{name}", []) for name in names]
    rows = []
    for metric, statistic, comparator, target, unit, window in zip_longest(*columns, fillvalue=""):
        rows.append({"metric": str(metric)[:60], "statistic": str(statistic)[:20], "comparator": str(comparator)[:4],
                     "target": str(target)[:30], "unit": str(unit)[:10], "window": str(window)[:20]})
    return rows[:40]


def _posted_form(form) -> dict:
    """What the provider typed, to show again beside an error."""
    rows = [r for r in _sla_rows(form) if r["metric"] or r["target"]]
    return {"price": form.get("price", "")[:30], "pricing_model": form.get("pricing_model", "")[:30],
            "price_unit": form.get("price_unit", "")[:40], "proposal": form.get("proposal", "")[:50_000],
            "sla": rows + [_blank_sla_row()], "seats": form.get("seats", "")[:10],
            "agents": form.get("agents", "")[:20_000], "lead": form.get("lead", "")[:100],
            "valid_until": form.get("valid_until", "")[:10]}


def bid_from_form(form, tender: dict, zone: ZoneInfo) -> BidSubmit:
    currency = tender["currency"]
    sla = []
    for row in _sla_rows(form):
        if not row["metric"] and not row["target"]:
            continue
        if not row["metric"] or not row["target"].strip():
            raise InvalidInput(BidError.PRICING, N_("Each SLA commitment row needs a metric and a target."))
        try:
            target = value_lists.target_from_input(row["metric"], row["target"], row["unit"] or "seconds")
        except value_lists.TargetError as exc:
            detail = exc.detail  # a message id marked in fuwu.values
            raise InvalidInput(BidError.PRICING, detail, params={
                **exc.params, "metric": Term(value_lists.SLA_METRICS.labels.get(row["metric"], row["metric"]))
            }) from None
        except (ArithmeticError, ValueError):
            raise InvalidInput(BidError.PRICING, N_("Enter each SLA target as a number.")) from None
        sla.append({"metric": row["metric"], "statistic": row["statistic"], "comparator": row["comparator"],
                    "target": target, "window": row["window"] or "month"})
    seats_text = form.get("seats", "").strip()
    try:
        seats = int(seats_text) if seats_text else 0
    except ValueError:
        raise InvalidInput(BidError.PRICING, N_("Enter the number of seats as a whole number.")) from None
    agents = [line.strip() for line in form.get("agents", "").splitlines() if line.strip()]
    values = {
        "price_amount": minor_units(form.get("price", ""), currency),
        "pricing_model": form.get("pricing_model", ""),
        "price_unit": form.get("price_unit", "").strip(),
        "currency": currency,
        "proposal": form.get("proposal", "").replace("\r\n", "\n"),
        "sla_commitment": sla,
        "team": {"seats": seats, "agents": agents, "lead": form.get("lead", "").strip()},
        "valid_until": _local_date(form.get("valid_until", ""), zone),
    }
    return msgspec.convert(values, BidSubmit)


# --- the panel on the tender page ----------------------------------------------------


async def tender_panel(request: Request, viewer: Viewer, member: Member | None, tender: dict,
                       *, error: str | None = None, form: dict | None = None) -> dict | None:
    """The bids panel on the tender page: the provider's own bid (form, terms,
    history, slots), or for the merchant the sealed notice before the deadline and the
    way into the evaluation after it. None when nothing applies."""
    if member is None:
        return None
    if member.kind == roles.PROVIDER and member.role in submission.PROVIDER_BIDDERS:
        return await _provider_panel(request, viewer, member, tender, error, form)
    if member.kind == roles.MERCHANT and tender.get("merchant_id") == member.organisation_id:
        return await _merchant_panel(member, tender)
    return None


def _message_from_address(request: Request, name: str, messages: dict[str, str]) -> str | None:
    code = request.query_params.get(name)
    return i18n.gettext(messages[code]) if code in messages else None


async def _provider_panel(request: Request, viewer: Viewer, member: Member, tender: dict, error: str | None,
                          form: dict | None) -> dict:
    zone = _zone(viewer)
    tender_id = tender["id"]
    bid = await submission.my_bid(member, tender_id)
    live = bid is not None and bid["status"] in states.LIVE
    history = await submission.my_bid_history(member, tender_id) if bid is not None else []
    open_for_bids = _is_open_for_bids(tender)
    slots = []
    if not open_for_bids and live and tender["status"] in tender_states.UNSEALED:
        slots = await evaluation.my_slots(member, tender_id)
    if form is None:
        form = _form_from_bid(bid, zone) if live else _default_form(tender, zone)
    return {
        "template": PANEL_TEMPLATE, "kind": "provider", "tender": tender, "bid": bid, "live": live,
        "open": open_for_bids, "history": history, "slots": slots, "form": form, "zone": zone.key,
        "error": error or _message_from_address(request, "bid_error", BID_ERROR_MESSAGES),
        "notice": _message_from_address(request, "bid_notice", BID_NOTICES),
        # A live bid answers an invitation: the tender page then offers no "decline".
        "answers_invitation": live,
        "pricing_models": tender.get("pricing_models") or [], "sla_choices": SLA_CHOICES,
        "currency": tender["currency"], "min_valid": _min_valid_date(tender, zone), "label": label, "num": _number,
    }


def _min_valid_date(tender: dict, zone: ZoneInfo) -> str:
    end = tender.get("evaluation_end") or tender.get("bid_deadline")
    return (end.astimezone(zone).date() + datetime.timedelta(days=1)).isoformat() if end else ""


async def _merchant_panel(member: Member, tender: dict) -> dict | None:
    status = tender["status"]
    if status == tender_states.PUBLISHED:
        # Nothing that depends on the bids: not even whether there are any.
        return {"template": PANEL_TEMPLATE, "kind": "merchant", "sealed": True, "tender": tender, "label": label,
                "num": _number}
    if status not in tender_states.UNSEALED or member.role not in evaluation.EVALUATORS:
        return None
    awarded = None
    if status in (tender_states.AWARDED, tender_states.CONTRACTED):
        try:
            awarded = await award.read_award(tender["id"])
        except NotFound:
            awarded = None
    return {"template": PANEL_TEMPLATE, "kind": "merchant", "sealed": False, "tender": tender, "label": label,
            "num": _number, "can_start": status == tender_states.BIDDING_CLOSED and member.role in evaluation.RUNNERS,
            "award": awarded, "decided": status not in (tender_states.BIDDING_CLOSED, tender_states.EVALUATING)}


# --- provider actions ----------------------------------------------------------------


async def _bid_page(request: Request, viewer: Viewer, member: Member, tender_id: uuid.UUID, *,
                    error: str | None = None, status_code: int = 200, form: dict | None = None) -> Template:
    """The bids panel as a page of its own: where a form comes back with its error."""
    tender = await lifecycle.get_tender(member, tender_id)
    panel = await tender_panel(request, viewer, member, tender, error=error, form=form)
    return await render(request, "bids/bid_page.html", status_code=status_code, tender=tender, panel=panel,
                        error=None if panel else error)


@get("/tenders/{tender_id:uuid}/bid", include_in_schema=False)
async def bid_page(request: Request, tender_id: FromPath[uuid.UUID]) -> Template:
    viewer = page_viewer(request)
    member = await require_member(viewer)
    return await _bid_page(request, viewer, member, tender_id)


async def _provider_action(request: Request, tender_id: uuid.UUID, action, notice: str,
                           keeps_form: bool = False) -> Template | Redirect:
    viewer = page_viewer(request)
    member = await require_member(viewer)
    form = await request.form()
    try:
        await action(viewer, member, form)
    except (FuwuError, msgspec.ValidationError) as exc:
        if isinstance(exc, NotFound):
            raise
        if isinstance(exc, Conflict) and exc.code in BID_ERROR_MESSAGES:
            return _see_other(f"/tenders/{tender_id}?bid_error={exc.code}#bid")
        status = exc.status_code if isinstance(exc, FuwuError) else 422
        return await _bid_page(request, viewer, member, tender_id, error=form_errors(exc), status_code=status,
                               form=_posted_form(form) if keeps_form else None)
    return _see_other(f"/tenders/{tender_id}?bid_notice={notice}#bid")


@post("/tenders/{tender_id:uuid}/bid", include_in_schema=False)
async def bid_submit(request: Request, tender_id: FromPath[uuid.UUID]) -> Template | Redirect:
    async def action(viewer: Viewer, member: Member, form) -> None:
        tender = await lifecycle.get_tender(member, tender_id)
        await submission.submit_bid(viewer, member, tender_id, bid_from_form(form, tender, _zone(viewer)))

    return await _provider_action(request, tender_id, action, "submitted", keeps_form=True)


@post("/tenders/{tender_id:uuid}/bid/revise", include_in_schema=False)
async def bid_revise(request: Request, tender_id: FromPath[uuid.UUID]) -> Template | Redirect:
    async def action(viewer: Viewer, member: Member, form) -> None:
        tender = await lifecycle.get_tender(member, tender_id)
        await submission.revise_bid(viewer, member, tender_id, bid_from_form(form, tender, _zone(viewer)))

    return await _provider_action(request, tender_id, action, "revised", keeps_form=True)


@post("/tenders/{tender_id:uuid}/bid/confirm", include_in_schema=False)
async def bid_confirm(request: Request, tender_id: FromPath[uuid.UUID]) -> Template | Redirect:
    async def action(viewer: Viewer, member: Member, form) -> None:
        await submission.confirm_bid(viewer, member, tender_id)

    return await _provider_action(request, tender_id, action, "confirmed")


@post("/tenders/{tender_id:uuid}/bid/withdraw", include_in_schema=False)
async def bid_withdraw(request: Request, tender_id: FromPath[uuid.UUID]) -> Template | Redirect:
    async def action(viewer: Viewer, member: Member, form) -> None:
        await submission.withdraw_bid(viewer, member, tender_id)

    return await _provider_action(request, tender_id, action, "withdrawn")


@post("/tenders/{tender_id:uuid}/bid/attachments", include_in_schema=False)
async def bid_attach(request: Request, tender_id: FromPath[uuid.UUID]) -> Template | Redirect:
    async def action(viewer: Viewer, member: Member, form) -> None:
        files = [f for f in form.getall("file", []) if isinstance(f, UploadFile)]
        if not files:
            raise InvalidInput(BidError.ATTACHMENT, N_("Choose a file to upload."))
        for upload in files:
            content = await upload.read()
            await submission.add_attachment(viewer, member, tender_id, upload.filename, upload.content_type, content)

    return await _provider_action(request, tender_id, action, "uploaded")


@get("/tenders/{tender_id:uuid}/attachments/{attachment_id:uuid}", include_in_schema=False)
async def attachment_download(request: Request, tender_id: FromPath[uuid.UUID],
                              attachment_id: FromPath[uuid.UUID]) -> File:
    viewer = page_viewer(request)
    member = await require_member(viewer)
    path, row = await submission.attachment_for_download(member, tender_id, attachment_id)
    return File(path=path, filename=row["filename"], media_type=row["content_type"], content_disposition_type="attachment",
                headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store"})


@post("/tenders/{tender_id:uuid}/slots/{slot_id:uuid}/confirm", include_in_schema=False)
async def slot_confirm(request: Request, tender_id: FromPath[uuid.UUID],
                       slot_id: FromPath[uuid.UUID]) -> Template | Redirect:
    async def action(viewer: Viewer, member: Member, form) -> None:
        await evaluation.confirm_slot(viewer, member, tender_id, slot_id)

    return await _provider_action(request, tender_id, action, "slot_confirmed")


# --- the provider's pipeline ---------------------------------------------------------

MY_BIDS_PAGE_SIZE = 20


@get("/bids", include_in_schema=False)
async def my_bids_page(request: Request) -> Template:
    """Every bid of the provider's organisation, with filters; a choice the lists do not
    hold is ignored, as when typed into the address."""
    viewer = page_viewer(request)
    member = await require_member(viewer)
    params = request.query_params
    search = {"status": params.get("status") or "", "result": params.get("result") or "",
              "category": params.get("category") or "", "q": (params.get("q") or "").strip()[:100]}
    for name, allowed in (("status", states.BID_STATUSES), ("result", states.RESULTS),
                          ("category", tender_states.CATEGORIES)):
        if search[name] not in allowed:
            search[name] = ""
    listing = await pipeline.my_bids(member, status=search["status"] or None, result=search["result"] or None,
                                     category=search["category"] or None, text=search["q"] or None,
                                     cursor=params.get("cursor") or None, limit=MY_BIDS_PAGE_SIZE)
    more = None
    if listing.next_cursor:
        more = "?" + urlencode({**{k: v for k, v in search.items() if v}, "cursor": listing.next_cursor})
    return await render(request, "bids/my_bids.html", listing=listing, search=search, more=more,
                        statuses=states.BID_STATUSES, results=states.RESULTS, categories=tender_states.CATEGORIES,
                        label=label, filtered=any(search.values()))


# --- the merchant's evaluation -------------------------------------------------------


def _ordered_bid_ids(data: dict) -> list[uuid.UUID]:
    """Bids in the order of the latest closed round's ranking, then as submitted."""
    ranks: dict = {}
    for evaluation_round in data["rounds"]:
        if evaluation_round["status"] == states.ROUND_CLOSED:
            ranks = {e["bid_id"]: e["rank"] for e in evaluation_round["entries"]}
    ids = [item["bid"]["id"] for item in data["bids"]]
    return sorted(ids, key=lambda b: (ranks.get(b) is None, ranks.get(b) or 0, ids.index(b)))


def _decorate_rounds(data: dict, tender: dict) -> list[dict]:
    """Rounds for the templates: entries in a stable order, criteria numbered, the top
    total marked, and whether the round is the tender's last."""
    order = {bid_id: index for index, bid_id in enumerate(_ordered_bid_ids(data))}
    last = len(tender.get("rounds") or [])
    result = []
    for evaluation_round in data["rounds"]:
        entries = sorted(evaluation_round["entries"],
                         key=lambda e: (e["rank"] is None, e["rank"] or 0, order.get(e["bid_id"], 0)))
        scores = [e["score"] for e in entries if e["score"] is not None]
        result.append({
            **evaluation_round,
            "entries": entries,
            "criteria_numbered": list(enumerate(evaluation_round["criteria"])),
            "scored_criteria": sum(1 for c in evaluation_round["criteria"] if not c.get("price")),
            "top_score": max(scores) if scores else None,
            "is_last": evaluation_round["number"] >= last,
            "is_open": evaluation_round["status"] == states.ROUND_OPEN,
        })
    return result


async def _evaluation_context(viewer: Viewer, member: Member, tender_id: uuid.UUID) -> dict:
    data = await evaluation.comparison(member, tender_id)
    tender = data["tender"]
    rounds = _decorate_rounds(data, tender)
    by_bid = {item["bid"]["id"]: item for item in data["bids"]}
    mine = {f"{r}:{b}:{c}": _number(v) for (r, b, c), v in (await evaluation.my_scores(viewer, tender_id)).items()}
    awarded = None
    if tender["status"] in (tender_states.AWARDED, tender_states.CONTRACTED):
        try:
            awarded = await award.read_award(tender_id)
        except NotFound:
            awarded = None
    latest = rounds[-1] if rounds else None
    evaluating = tender["status"] == tender_states.EVALUATING
    can_run = member.role in evaluation.RUNNERS
    return {
        "tender": tender, "rounds": rounds, "by_bid": by_bid, "mine": mine, "award": awarded,
        "bid_count": len(data["bids"]), "zone": _zone(viewer).key,
        "can_run": can_run, "can_score": member.role in evaluation.EVALUATORS, "evaluating": evaluating,
        "can_start": can_run and tender["status"] == tender_states.BIDDING_CLOSED,
        "can_award": can_run and evaluating and latest is not None and latest["is_last"]
                     and latest["status"] == states.ROUND_CLOSED,
        "can_end": can_run and tender["status"] in (tender_states.BIDDING_CLOSED, tender_states.EVALUATING),
        "total_rounds": len(tender.get("rounds") or []),
    }


async def _evaluation_page(request: Request, viewer: Viewer, member: Member, tender_id: uuid.UUID, *,
                           error: str | None = None, status_code: int = 200, form: dict | None = None) -> Template:
    try:
        context = await _evaluation_context(viewer, member, tender_id)
    except Conflict as exc:
        if exc.code != BidError.SEALED:
            raise
        tender = await lifecycle.get_tender(member, tender_id)
        return await render(request, "bids/evaluation.html", status_code=409, tender=tender, sealed=True,
                            error=form_errors(exc), label=label, num=_number)
    return await render(request, "bids/evaluation.html", status_code=status_code, sealed=False, error=error,
                        form=form or {}, label=label, num=_number, **context)


@get("/tenders/{tender_id:uuid}/evaluation", include_in_schema=False)
async def evaluation_page(request: Request, tender_id: FromPath[uuid.UUID]) -> Template:
    viewer = page_viewer(request)
    member = await require_member(viewer)
    return await _evaluation_page(request, viewer, member, tender_id)


async def _merchant_action(request: Request, tender_id: uuid.UUID, action, anchor: str = "") -> Template | Redirect:
    viewer = page_viewer(request)
    member = await require_member(viewer)
    form = await request.form()
    try:
        await action(viewer, member, form)
    except (FuwuError, msgspec.ValidationError) as exc:
        if isinstance(exc, NotFound):
            raise
        status = exc.status_code if isinstance(exc, FuwuError) else 422
        kept = {k: v for k, v in form.items() if isinstance(v, str) and k != "_csrf_token"}
        return await _evaluation_page(request, viewer, member, tender_id, error=form_errors(exc), status_code=status,
                                      form=kept)
    return _see_other(f"/tenders/{tender_id}/evaluation{anchor}")


@post("/tenders/{tender_id:uuid}/evaluation/start", include_in_schema=False)
async def evaluation_start(request: Request, tender_id: FromPath[uuid.UUID]) -> Template | Redirect:
    async def action(viewer: Viewer, member: Member, form) -> None:
        await evaluation.start_evaluation(viewer, member, tender_id)

    return await _merchant_action(request, tender_id, action, "#round-1")


# --- scoring a whole round on one page ------------------------------------------------


def _score_field(bid_id: Any, criterion: int) -> str:
    return f"score-{bid_id}-{criterion}"


def _comment_field(bid_id: Any, criterion: int) -> str:
    return f"comment-{bid_id}-{criterion}"


async def _scoring_page(request: Request, viewer: Viewer, member: Member, tender_id: uuid.UUID, number: int, *,
                        values: dict | None = None, errors: dict | None = None, error: str | None = None,
                        notice: str | None = None, status_code: int = 200) -> Template:
    """Every bid of round `number` with its proposal, team, SLA commitment and files
    beside the round's criteria, in one form. `values` are what was typed (kept when a
    save fails); otherwise the evaluator's own saved scores fill the fields."""
    tender = await evaluation.require_unsealed(member, tender_id)
    evaluation_round = next((r for r in await evaluation.rounds(member, tender_id) if r["number"] == number), None)
    if evaluation_round is None:
        raise not_found("Round")
    criteria = [(index, c) for index, c in enumerate(evaluation_round["criteria"]) if not c.get("price")]
    saved = await evaluation.my_round_scores(viewer, evaluation_round["id"])
    sheets = []
    for entry in evaluation_round["entries"]:
        bid = await evaluation.get_bid(member, tender_id, entry["bid_id"])
        fields = []
        for index, criterion in criteria:
            score_name, comment_name = _score_field(bid["id"], index), _comment_field(bid["id"], index)
            mine = saved.get((bid["id"], index))
            if values is not None:
                score, comment = values.get(score_name, ""), values.get(comment_name, "")
            else:
                score = _number(mine["value"]) if mine else ""
                comment = mine["comment"] if mine else ""
            fields.append({"criterion": criterion, "index": index, "score_name": score_name, "score": score,
                           "comment_name": comment_name, "comment": comment,
                           "error": (errors or {}).get(score_name)})
        sheets.append({"bid": bid, "provider_name": entry["provider_name"], "fields": fields})
    # The bids in the order they came in: ranks of earlier rounds are not to sway the scores.
    sheets.sort(key=lambda sheet: sheet["bid"]["first_submitted_at"])
    return await render(
        request, "bids/scoring.html", status_code=status_code, tender=tender, round=evaluation_round,
        criteria=[c for _, c in criteria], sheets=sheets, error=error, notice=notice,
        is_open=evaluation_round["status"] == states.ROUND_OPEN and tender["status"] == tender_states.EVALUATING,
        total_rounds=len(tender.get("rounds") or []), label=label, num=_number,
    )


@get("/tenders/{tender_id:uuid}/rounds/{number:int}/scoring", include_in_schema=False)
async def scoring_page(request: Request, tender_id: FromPath[uuid.UUID], number: FromPath[int]) -> Template:
    viewer = page_viewer(request)
    member = await require_member(viewer)
    notice = i18n.gettext(N_("Your scores were saved.")) if request.query_params.get("saved") else None
    return await _scoring_page(request, viewer, member, tender_id, number, notice=notice)


def _score_sheets(form) -> tuple[list[dict], dict[str, str]]:
    """The scores typed into the round's form, by bid, and a message per field that is
    not a score from 0 to 10. A blank score is left as it was."""
    by_bid: dict[str, list[dict]] = {}
    errors: dict[str, str] = {}
    for key in form.keys():
        parts = key.split("-")
        if len(parts) != 7 or parts[0] != "score" or not parts[6].isdigit():
            continue
        bid_text, criterion = "-".join(parts[1:6]), int(parts[6])
        text = (form.get(key) or "").strip().replace(",", ".")
        if not text:
            continue
        try:
            value = float(text)
        except ValueError:
            value = None
        if value is None or not 0 <= value <= 10:
            errors[key] = i18n.gettext(N_("Enter a score from 0 to 10."))
            continue
        comment = (form.get(_comment_field(bid_text, criterion)) or "").strip()[:2000]
        by_bid.setdefault(bid_text, []).append({"criterion": criterion, "value": value, "comment": comment})
    sheets = [{"bid_id": str(_uuid(bid_text)), "scores": scores} for bid_text, scores in by_bid.items()]
    return sheets, errors


@post("/tenders/{tender_id:uuid}/rounds/{number:int}/scoring", include_in_schema=False)
async def scoring_submit(request: Request, tender_id: FromPath[uuid.UUID],
                         number: FromPath[int]) -> Template | Redirect:
    """Saves every score typed on the round's page at once; nothing is saved when one
    is wrong, and the page comes back with what was typed and the error beside it."""
    viewer = page_viewer(request)
    member = await require_member(viewer)
    form = await request.form()
    typed = {k: str(v)[:2000] for k, v in form.items() if isinstance(v, str) and k != "_csrf_token"}
    sheets, errors = _score_sheets(form)
    if errors:
        return await _scoring_page(request, viewer, member, tender_id, number, values=typed, errors=errors,
                                   error=i18n.gettext(N_("Nothing was saved: correct the scores marked below.")),
                                   status_code=422)
    try:
        if not sheets:
            raise InvalidInput(BidError.ROUND, N_("Enter at least one score from 0 to 10."))
        data = msgspec.convert(sheets, list[ScoreSubmit])
        await evaluation.submit_round_scores(viewer, member, tender_id, number, data)
    except (FuwuError, msgspec.ValidationError) as exc:
        if isinstance(exc, NotFound):
            raise
        status = exc.status_code if isinstance(exc, FuwuError) else 422
        return await _scoring_page(request, viewer, member, tender_id, number, values=typed,
                                   error=form_errors(exc), status_code=status)
    return _see_other(f"/tenders/{tender_id}/rounds/{number}/scoring?saved=1")


@post("/tenders/{tender_id:uuid}/rounds/{number:int}/close", include_in_schema=False)
async def round_close(request: Request, tender_id: FromPath[uuid.UUID], number: FromPath[int]) -> Template | Redirect:
    async def action(viewer: Viewer, member: Member, form) -> None:
        await evaluation.close_round(viewer, member, tender_id, number)

    return await _merchant_action(request, tender_id, action, f"#round-{number}")


@post("/tenders/{tender_id:uuid}/rounds/{number:int}/shortlist", include_in_schema=False)
async def round_shortlist(request: Request, tender_id: FromPath[uuid.UUID],
                          number: FromPath[int]) -> Template | Redirect:
    async def action(viewer: Viewer, member: Member, form) -> None:
        top = form.get("top", "").strip()
        if form.get("mode") == "top":
            if not top.isdigit():
                raise InvalidInput(BidError.SHORTLIST, N_("Enter how many of the top bids to keep."))
            data = msgspec.convert({"top": int(top)}, ShortlistRequest)
        else:
            data = msgspec.convert({"bid_ids": [str(_uuid(b)) for b in form.getall("bid_ids", [])]},
                                   ShortlistRequest)
        await evaluation.shortlist(viewer, member, tender_id, number, data.top, data.bid_ids)

    return await _merchant_action(request, tender_id, action, f"#round-{number + 1}")


@post("/tenders/{tender_id:uuid}/rounds/{number:int}/slots", include_in_schema=False)
async def round_slot(request: Request, tender_id: FromPath[uuid.UUID], number: FromPath[int]) -> Template | Redirect:
    async def action(viewer: Viewer, member: Member, form) -> None:
        zone = _zone(viewer)
        data = SlotCreate(bid_id=_uuid(form.get("bid_id")), starts_at=_local_moment(form.get("starts_at", ""), zone),
                          ends_at=_local_moment(form.get("ends_at", ""), zone), place=form.get("place", "")[:300])
        await evaluation.schedule_slot(viewer, member, tender_id, number, data.bid_id, data.starts_at, data.ends_at,
                                       data.place)

    return await _merchant_action(request, tender_id, action, f"#round-{number}")


@post("/tenders/{tender_id:uuid}/rounds/{number:int}/findings", include_in_schema=False)
async def round_finding(request: Request, tender_id: FromPath[uuid.UUID], number: FromPath[int]) -> Template | Redirect:
    async def action(viewer: Viewer, member: Member, form) -> None:
        zone = _zone(viewer)
        data = msgspec.convert({"bid_id": str(_uuid(form.get("bid_id"))),
                                "visited_at": _local_moment(form.get("visited_at", ""), zone).isoformat(),
                                "finding": form.get("finding", "").strip()}, FindingCreate)
        await evaluation.record_finding(viewer, member, tender_id, number, data.bid_id, data.visited_at, data.finding)

    return await _merchant_action(request, tender_id, action, f"#round-{number}")


@post("/tenders/{tender_id:uuid}/award", include_in_schema=False)
async def award_submit(request: Request, tender_id: FromPath[uuid.UUID]) -> Template | Redirect:
    async def action(viewer: Viewer, member: Member, form) -> None:
        if not form.get("bid_id"):
            raise InvalidInput(BidError.AWARD_REASON, N_("Choose the bid to award."))
        data = msgspec.convert({"bid_id": str(_uuid(form.get("bid_id"))), "reason": form.get("reason", "")[:4000]},
                               AwardRequest)
        await award.award_bid(viewer, member, tender_id, data.bid_id, data.reason)

    return await _merchant_action(request, tender_id, action, "#award")


@post("/tenders/{tender_id:uuid}/unsuccessful", include_in_schema=False)
async def unsuccessful_submit(request: Request, tender_id: FromPath[uuid.UUID]) -> Template | Redirect:
    async def action(viewer: Viewer, member: Member, form) -> None:
        data = msgspec.convert({"reason": form.get("reason", "").strip()[:2000]}, CancelRequest)
        await award.declare_unsuccessful(viewer, member, tender_id, data.reason)

    return await _merchant_action(request, tender_id, action, "#award")


# --- comparison ----------------------------------------------------------------------


@get("/tenders/{tender_id:uuid}/comparison", include_in_schema=False)
async def comparison_page(request: Request, tender_id: FromPath[uuid.UUID]) -> Template:
    viewer = page_viewer(request)
    member = await require_member(viewer)
    try:
        data = await evaluation.comparison(member, tender_id)
    except Conflict as exc:
        if exc.code != BidError.SEALED:
            raise
        tender = await lifecycle.get_tender(member, tender_id)
        return await render(request, "bids/comparison.html", status_code=409, tender=tender, sealed=True,
                            error=form_errors(exc), label=label, num=_number)
    tender = data["tender"]
    rounds = _decorate_rounds(data, tender)
    by_bid = {item["bid"]["id"]: item for item in data["bids"]}
    columns = []
    for bid_id in _ordered_bid_ids(data):
        item = by_bid[bid_id]
        # The comparison leaves files out; each bid's own read has them.
        full = await evaluation.get_bid(member, tender_id, bid_id)
        columns.append({**item, "files": full.get("attachments") or []})
    kinds = {r["kind"] for r in rounds}
    return await render(request, "bids/comparison.html", tender=tender, sealed=False, error=None, label=label,
                        num=_number, rounds=rounds,
                        columns=columns, has_slots="presentation" in kinds or any(c["slots"] for c in columns),
                        has_findings="site_inspection" in kinds or any(c["findings"] for c in columns))


ROUTES = [
    my_bids_page,
    bid_page, bid_submit, bid_revise, bid_confirm, bid_withdraw, bid_attach, attachment_download, slot_confirm,
    evaluation_page, evaluation_start, scoring_page, scoring_submit, round_close, round_shortlist, round_slot,
    round_finding, award_submit, unsuccessful_submit, comparison_page,
]
