"""Contract pages: the list of a party's contracts with their SLA health, and a
contract's page (terms, signatures, milestones, the live SLA panel, charts of each
target over time, the before and after, the period's statement)."""

from __future__ import annotations

import datetime
import json
import uuid
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from litestar import MediaType, Request, Response, get, post
from litestar.params import FromPath
from litestar.datastructures import UploadFile
from litestar.response import Redirect, Template

from fuwu import i18n, roles
from fuwu import values as value_lists
from fuwu.errors import Forbidden, FuwuError, InvalidInput
from fuwu.i18n import N_, Term
from fuwu.money import AmountError, parse_amount
from fuwu.pages import form_errors, page_viewer, render, require_member
from fuwu.services.accounts import Member, Viewer
from fuwu.wiring import wiring
from sla import states
from sla.errors import SlaError
from sla.services import contracts, evaluation, events, milestones, statements
from sla.tables import Breach

PAGE_SIZE = 20
HISTORY_MAX_BYTES = 2 * 1024**3  # read in chunks from the spooled upload
NOTICES = {
    "signed": N_("You signed the contract."),
    "terminated": N_("The contract was ended."),
    "terms": N_("The terms were changed; both parties sign again."),
    "milestone_added": N_("The milestone was added."),
    "submitted": N_("The delivery was sent to the merchant."),
    "accepted": N_("The milestone was accepted and its payment released."),
    "rejected": N_("The milestone was sent back to the provider."),
}


def _zone(viewer: Viewer) -> ZoneInfo:
    try:
        return ZoneInfo(viewer.timezone or "Asia/Shanghai")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("Asia/Shanghai")


def _see_other(path: str) -> Redirect:
    return Redirect(path, status_code=303)


async def _open_breaches(contract_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
    if not contract_ids:
        return {}
    from piccolo.query.functions.aggregate import Count

    rows = await Breach.select(Breach.contract, Count(Breach.id, alias="n")).where(
        Breach.contract.is_in(contract_ids) & Breach.cleared_at.is_null()).group_by(Breach.contract)
    return {row["contract"]: row["n"] for row in rows}


@get("/contracts", include_in_schema=False)
async def contract_list(request: Request) -> Template:
    return await _contract_list(request)


async def _contract_list(request: Request, imported: dict | None = None, import_error: str | None = None,
                         status_code: int = 200) -> Template:
    viewer = page_viewer(request)
    member = await require_member(viewer)
    status = request.query_params.get("status") or None
    if status not in (None, *states.CONTRACT_STATUSES):
        status = None
    listing = await contracts.list_contracts(member, status, request.query_params.get("cursor"), PAGE_SIZE)
    breaches = await _open_breaches([row["id"] for row in listing.items])
    more = f"/contracts?{urlencode({'status': status or '', 'cursor': listing.next_cursor})}" \
        if listing.next_cursor else None
    return await render(request, "sla/list.html", status_code=status_code, listing=listing, status=status,
                        statuses=states.CONTRACT_STATUSES, breaches=breaches, more=more, timezone=_zone(viewer).key,
                        side="merchant" if member.kind == roles.MERCHANT else "provider",
                        can_import=member.kind == roles.MERCHANT and member.role in contracts.MERCHANT_SIGNERS,
                        imported=imported, import_error=import_error)


@post("/contracts/history", include_in_schema=False, request_max_body_size=HISTORY_MAX_BYTES)
async def history_import(request: Request) -> Template:
    """The shop's history file (JSON Lines) uploaded from the contracts page: read in
    chunks from the uploaded file, never whole."""
    viewer = page_viewer(request)
    member = await require_member(viewer)
    if member.kind != roles.MERCHANT or member.role not in contracts.MERCHANT_SIGNERS:
        raise Forbidden("role_not_allowed", N_("Only the shop's owner or operator sends its orders and history."))
    form = await request.form()
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return await _contract_list(request, import_error=i18n.gettext("Choose a JSON Lines file to import."),
                                   status_code=400)

    async def chunks():
        while chunk := await upload.read(64 * 1024):
            yield chunk

    try:
        result = await events.import_history(member.organisation_id, chunks())
    except FuwuError as exc:
        lines = "; ".join(e["detail"] for e in exc.extra.get("errors", [])[:5]) or exc.localised()
        return await _contract_list(request, import_error=lines, status_code=exc.status_code)
    await events.record_import(viewer.user_id, member.organisation_id, result)
    return await _contract_list(request, imported=result)


def _chart_data(series: list[dict], zone: str) -> str:
    """What the chart script draws: per target its windows and values, the target line."""
    charts = []
    for item in series:
        target = item["target"]
        unit = value_lists.METRIC_UNITS.get(target["metric"])
        scale = 100 if unit == value_lists.RATE else 1
        charts.append({
            "title": value_lists.label("metric", target["metric"]) + " · " + value_lists.label(
                "statistic", target["statistic"]),
            "unit": "%" if unit == value_lists.RATE else ("s" if unit == value_lists.DURATION else ""),
            "labels": [p["start"].astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d") for p in item["points"]],
            "values": [None if p["value"] is None else round(p["value"] * scale, 2) for p in item["points"]],
            "target": round(target["target"] * scale, 2),
            "value_name": i18n.gettext("Measured"), "target_name": i18n.gettext("Target"),
        })
    return json.dumps(charts, ensure_ascii=False)


async def contract_view(request: Request, viewer: Viewer, member: Member, contract_id: uuid.UUID, *,
                        error: str | None = None, status_code: int = 200, form: dict | None = None) -> Template:
    contract = await contracts.get_contract(member, contract_id)
    side = contract["side"]
    can_sign = member.role in (contracts.MERCHANT_SIGNERS if side == "merchant" else contracts.PROVIDER_SIGNERS)
    pending = contract["status"] == states.PENDING_SIGNATURE
    running = contract["status"] in (states.PENDING_SIGNATURE, states.ACTIVE)
    context: dict[str, Any] = {
        "contract": contract, "side": side, "can_sign": can_sign and pending,
        "signed_by_me": contract[f"{side}_signed_at"] is not None,
        "can_terminate": can_sign and running, "can_change_terms": side == "merchant" and can_sign and pending,
        "can_add_milestone": side == "merchant" and can_sign and running,
        "can_deliver": side == "provider" and can_sign and running,
        "can_decide": side == "merchant" and can_sign and running,
        "milestones": await milestones.list_milestones(member, contract_id),
        "timezone": _zone(viewer).key, "error": error, "form": form or {},
        "notice": i18n.gettext(NOTICES[request.query_params["notice"]])
        if request.query_params.get("notice") in NOTICES else None,
        "calendar_json": json.dumps(contract["calendar"] or {}, ensure_ascii=False),
        "status_label": states.CONTRACT_STATUSES.label(contract["status"]),
        "milestone_label": states.MILESTONE_STATUSES.label,
        "weekday_label": states.WEEKDAYS.label,
    }
    if contract["status"] != states.PENDING_SIGNATURE:
        context["panel"] = await statements.running_windows(contract, contract["targets"])
        series = await statements.trend(contract, contract["targets"])
        context["chart_data"] = _chart_data(series, contract["time_zone"])
        context["comparison"] = await statements.before_and_after(contract)
        context["statement"] = await statements.statement(contract)
    # Higher domains' blocks (chat: the parties' conversation; ratings: rating the other
    # party, replies).
    context["panels"] = await wiring().render_panels("contract", request, viewer, member, contract)
    return await render(request, "sla/contract.html", status_code=status_code, **context)


@get("/contracts/{contract_id:uuid}", include_in_schema=False)
async def contract_page(request: Request, contract_id: FromPath[uuid.UUID]) -> Template:
    viewer = page_viewer(request)
    member = await require_member(viewer)
    return await contract_view(request, viewer, member, contract_id)


@get("/contracts/{contract_id:uuid}/sla-panel", include_in_schema=False)
async def contract_sla_panel(request: Request, contract_id: FromPath[uuid.UUID]) -> Template | Response:
    """The contract's live SLA panel alone (an HTML fragment): the contract page fetches
    it again when the live chat tells it that an agent replied. Empty before both sign."""
    viewer = page_viewer(request)
    member = await require_member(viewer)
    contract = await contracts.get_contract(member, contract_id)
    if contract["status"] == states.PENDING_SIGNATURE:
        return Response(content="", media_type=MediaType.HTML)
    panel = await statements.running_windows(contract, contract["targets"])
    return Template("sla/_sla_panel.html", context={"contract": contract, "panel": panel,
                                                    "timezone": _zone(viewer).key})


async def _act(request: Request, contract_id: uuid.UUID, action, notice: str) -> Template | Redirect:
    """Runs a form's action; on a refusal the page comes back with the error and what
    was typed."""
    viewer = page_viewer(request)
    member = await require_member(viewer)
    form = await request.form()
    try:
        await action(viewer, member, form)
    except (FuwuError, ValueError) as exc:
        message = form_errors(exc) if isinstance(exc, FuwuError) else str(exc)
        status = exc.status_code if isinstance(exc, FuwuError) else 422
        return await contract_view(request, viewer, member, contract_id, error=message, status_code=status,
                                   form=dict(form))
    return _see_other(f"/contracts/{contract_id}?notice={notice}")


@post("/contracts/{contract_id:uuid}/sign", include_in_schema=False)
async def contract_sign(request: Request, contract_id: FromPath[uuid.UUID]) -> Template | Redirect:
    return await _act(request, contract_id, lambda viewer, member, form: contracts.sign(viewer, member, contract_id),
                      "signed")


@post("/contracts/{contract_id:uuid}/terminate", include_in_schema=False)
async def contract_terminate(request: Request, contract_id: FromPath[uuid.UUID]) -> Template | Redirect:
    return await _act(request, contract_id, lambda viewer, member, form: contracts.terminate(
        viewer, member, contract_id, form.get("reason", "")), "terminated")


def _local(text: str, zone: ZoneInfo, what: str) -> datetime.datetime:
    try:
        moment = datetime.datetime.fromisoformat((text or "").strip())
    except ValueError:
        raise InvalidInput(SlaError.DATES, N_("Enter a date and time for {what}."),
                           params={"what": Term(what)}) from None
    return moment.replace(tzinfo=zone) if moment.tzinfo is None else moment


@post("/contracts/{contract_id:uuid}/terms", include_in_schema=False)
async def contract_terms(request: Request, contract_id: FromPath[uuid.UUID]) -> Template | Redirect:
    async def change(viewer, member, form):
        zone = _zone(viewer)
        try:
            calendar = json.loads(form.get("calendar") or "{}")
        except json.JSONDecodeError:
            raise InvalidInput(SlaError.CALENDAR, N_("The coverage calendar is not valid JSON.")) from None
        hours = (form.get("attribution_hours") or "").strip()
        try:
            attribution = int(float(hours) * 3600) if hours else None
        except ValueError:
            raise InvalidInput(SlaError.ATTRIBUTION, N_("Enter the attribution window in hours, e.g. 24.")) from None
        await contracts.update_terms(
            viewer, member, contract_id,
            starts_at=_local(form["starts_at"], zone, N_("the start")) if form.get("starts_at") else None,
            ends_at=_local(form["ends_at"], zone, N_("the end")) if form.get("ends_at") else None,
            time_zone=(form.get("time_zone") or "").strip() or None, calendar=calendar,
            attribution_window_seconds=attribution)

    return await _act(request, contract_id, change, "terms")


@post("/contracts/{contract_id:uuid}/milestones", include_in_schema=False)
async def milestone_add(request: Request, contract_id: FromPath[uuid.UUID]) -> Template | Redirect:
    async def add(viewer, member, form):
        contract = await contracts.get_contract(member, contract_id)
        try:
            amount = parse_amount(form.get("amount", ""), contract["currency"], required=False, allow_zero=True)
        except AmountError:
            raise InvalidInput(SlaError.MILESTONE, N_("Enter the payment as a number, e.g. 12000.00.")) from None
        await milestones.add_milestone(viewer, member, contract_id, form.get("deliverable", ""),
                                       _local(form.get("due_at", ""), _zone(viewer), N_("the due time")), amount or 0)

    return await _act(request, contract_id, add, "milestone_added")


@post("/contracts/{contract_id:uuid}/milestones/{milestone_id:uuid}/submit", include_in_schema=False)
async def milestone_submit(request: Request, contract_id: FromPath[uuid.UUID],
                           milestone_id: FromPath[uuid.UUID]) -> Template | Redirect:
    return await _act(request, contract_id, lambda viewer, member, form: milestones.submit(
        viewer, member, contract_id, milestone_id, form.get("note", "")), "submitted")


@post("/contracts/{contract_id:uuid}/milestones/{milestone_id:uuid}/accept", include_in_schema=False)
async def milestone_accept(request: Request, contract_id: FromPath[uuid.UUID],
                           milestone_id: FromPath[uuid.UUID]) -> Template | Redirect:
    return await _act(request, contract_id, lambda viewer, member, form: milestones.decide(
        viewer, member, contract_id, milestone_id, True), "accepted")


@post("/contracts/{contract_id:uuid}/milestones/{milestone_id:uuid}/reject", include_in_schema=False)
async def milestone_reject(request: Request, contract_id: FromPath[uuid.UUID],
                           milestone_id: FromPath[uuid.UUID]) -> Template | Redirect:
    return await _act(request, contract_id, lambda viewer, member, form: milestones.decide(
        viewer, member, contract_id, milestone_id, False, form.get("reason", "")), "rejected")


async def dashboard_panel(viewer: Viewer, member: Member) -> dict | None:
    """Both parties' dashboards: the latest contracts with their open breaches."""
    if member.kind not in (roles.MERCHANT, roles.PROVIDER):
        return None
    listing = await contracts.list_contracts(member, None, None, 5)
    if not listing.items:
        return None
    return {"template": "sla/_dashboard.html", "contracts": listing.items,
            "status_label": states.CONTRACT_STATUSES.label,
            "breaches": await _open_breaches([row["id"] for row in listing.items])}


async def tender_panel(request: Request, viewer: Viewer, member: Member | None, tender: dict) -> dict | None:
    """On an awarded tender's page, for its two parties: the way to the contract."""
    if member is None or tender.get("status") not in ("awarded", "contracted"):
        return None
    found = await contracts.contract_for_tender(tender["id"])
    if found is None:
        return None
    try:
        await contracts.get_contract(member, found["id"])
    except FuwuError:
        return None
    return {"template": "sla/_tender_panel.html", "contract": found,
            "status_label": states.CONTRACT_STATUSES.label(found["status"])}


async def provider_panel(request: Request, provider_id: uuid.UUID) -> dict | None:
    """The "provider" slot of the public provider page: promise against delivery, each
    metric the provider promised on its contracts beside what it measurably delivered."""
    records = await evaluation.track_records([provider_id])
    rows = [{"metric": metric, "statistic": statistic, **record}
            for (_, metric, statistic), record in records.items()]
    order = list(value_lists.SLA_METRICS.values)
    rows.sort(key=lambda r: (order.index(r["metric"]) if r["metric"] in order else len(order), r["statistic"] or ""))
    return {"template": "sla/_provider_panel.html", "records": rows}


ROUTES: list = [contract_list, history_import, contract_page, contract_sla_panel, contract_sign, contract_terminate, contract_terms, milestone_add,
                milestone_submit, milestone_accept, milestone_reject]
