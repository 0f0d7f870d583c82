"""Server-rendered tender pages for merchants and providers: the tender list and
form, the tender page with questions, amendments and invitations, open tenders for
providers, the tender's audit timeline, and the dashboard panel.

Pages parse forms and call the services; every rule lives in tenders/services.
Money is entered in major units (yuan) and converted to integer minor units (fen)
with Decimal; deadlines are entered in the viewer's time zone and stored in UTC.
"""

from __future__ import annotations

import datetime
import re
import uuid
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import msgspec
from litestar import Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from fuwu import i18n, roles
from fuwu import values as value_lists
from fuwu.clock import local, now, valid_timezone
from fuwu.errors import Conflict, FuwuError, NotFound, not_found
from fuwu.i18n import N_
from fuwu.money import CURRENCIES, AmountError, amount_input, format_money, parse_amount
from fuwu.pages import DASHBOARD_PANELS, form_errors, page_viewer, render, require_member
from fuwu.services import audit
from fuwu.services.accounts import Member, Viewer
from fuwu.settings import get_settings
from fuwu.values import Values
from fuwu.templating import NavItem, register_nav
from tenders import states
from tenders.schemas import (
    REQUIREMENTS_BY_CATEGORY,
    AnswerCreate,
    CancelRequest,
    ConsultingRequirements,
    CustomerServiceRequirements,
    DesignRequirements,
    OtherRequirements,
    PhotographyRequirements,
    VideoRequirements,
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
TENDER_PANELS: list = []

PAGE_SIZE = 20
SLA_ROWS = 5  # rows the form offers; more are shown when a tender already has more
CRITERIA_ROWS = 5
MAX_ROWS = 20  # the most rows the server reads back from a form (the schemas' own limits)

# --- words shown for stored values ---------------------------------------------------

REQUIREMENT_LABELS = Values(
    ("seats", N_("Seats")),
    ("coverage_hours", N_("Coverage hours")),
    ("time_zone", N_("Time zone")),
    ("daily_conversations", N_("Expected daily conversations")),
    ("languages", N_("Languages")),
    ("skus", N_("SKUs / styles")),
    ("models", N_("Models")),
    ("location", N_("Location")),
    ("deliverables", N_("Deliverables")),
    ("topics", N_("Topics")),
    ("sessions", N_("Sessions")),
    ("videos", N_("Number of videos")),
    ("length_seconds", N_("Length (seconds)")),
    ("notes", N_("Notes")),
)
FIELD_LABELS = Values(
    ("title", N_("Title")),
    ("brief", N_("Brief")),
    ("requirements", N_("Requirements")),
    ("budget_min", N_("Budget minimum")),
    ("budget_max", N_("Budget maximum")),
    ("currency", N_("Currency")),
    ("pricing_models", N_("Pricing models")),
    ("sla_targets", N_("SLA targets")),
    ("rounds", N_("Evaluation rounds")),
    ("visibility", N_("Visibility")),
    ("min_bids", N_("Minimum number of bids")),
    ("questions_deadline", N_("Questions deadline")),
    ("bid_deadline", N_("Bid deadline")),
    ("evaluation_end", N_("Evaluation end")),
)
LABELS = {
    "category": value_lists.CATEGORIES, "status": states.STATUSES, "pricing": value_lists.PRICING_MODELS,
    "round": states.ROUND_KINDS, "metric": value_lists.SLA_METRICS, "statistic": value_lists.SLA_STATISTICS,
    "window": value_lists.SLA_WINDOWS, "visibility": states.VISIBILITIES, "invitation": states.INVITATION_STATUSES,
    "requirement": REQUIREMENT_LABELS, "field": FIELD_LABELS,
}


def label(kind: str, value: Any) -> str:
    """The translated word for a stored value (the value itself when unknown); the
    shared lists and audit actions are fuwu.values'."""
    found = LABELS.get(kind)
    return found.label(value) if found is not None else value_lists.label(kind, value)


# Criteria pre-filled for each round kind: (name, weight, price).
DEFAULT_CRITERIA = {
    "proposal_review": [(N_("Price"), 40, True), (N_("Proposal quality"), 60, False)],
    "presentation": [(N_("Presentation"), 70, False), (N_("Price"), 30, True)],
    "site_inspection": [(N_("Site and equipment"), 50, False), (N_("Team"), 50, False)],
}

# Requirement fields of each form group: (field, kind) where kind is int, text, list
# (comma-separated) or lines (one per line). Form inputs are named "<group>_<field>".
REQUIREMENT_GROUPS = {
    "cs": [("seats", "int"), ("coverage_hours", "text"), ("time_zone", "text"), ("daily_conversations", "int"),
           ("languages", "list")],
    "photo": [("skus", "int"), ("models", "int"), ("location", "text")],
    "design": [("deliverables", "lines")],
    "consulting": [("topics", "lines"), ("sessions", "int")],
    "video": [("videos", "int"), ("length_seconds", "int")],
    "other": [("notes", "text")],
}
# Categories with the same requirements share a group of form fields.
_GROUP_OF_REQUIREMENTS = {
    CustomerServiceRequirements: "cs", PhotographyRequirements: "photo", DesignRequirements: "design",
    ConsultingRequirements: "consulting", VideoRequirements: "video", OtherRequirements: "other",
}
CATEGORY_GROUP = {category: _GROUP_OF_REQUIREMENTS[REQUIREMENTS_BY_CATEGORY[category]]
                  for category in value_lists.CATEGORIES}
GROUP_CATEGORIES = {g: [c for c, group in CATEGORY_GROUP.items() if group == g] for g in REQUIREMENT_GROUPS}

DEADLINES = ("questions_deadline", "bid_deadline", "evaluation_end")
LOCAL_INPUT_FORMAT = "%Y-%m-%dT%H:%M"


# --- form parsing --------------------------------------------------------------------


class FormProblem(Exception):
    """A form value the page could not read; the message is already translated."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def error_text(exc: Exception) -> str:
    if isinstance(exc, FormProblem):
        return exc.message
    return form_errors(exc)


def error_status(exc: Exception) -> int:
    return exc.status_code if isinstance(exc, FuwuError) else 422


def viewer_zone(viewer: Viewer) -> str:
    zone = viewer.timezone or get_settings().default_timezone
    return zone if valid_timezone(zone) else "Asia/Shanghai"


def _field(label_text: str) -> str:
    return i18n.gettext(label_text)


def parse_major_units(text: str, currency: str, field_label: str) -> int:
    """A budget typed in major units ('30000.00' yuan) as minor units (3000000 fen),
    through fuwu.money.parse_amount. Empty is 0 (no budget given)."""
    try:
        return parse_amount(text, currency) or 0
    except AmountError as exc:
        field = _field(field_label)
        if exc.reason == "negative":
            raise FormProblem(i18n.gettext("%(field)s cannot be negative.", field=field)) from None
        if exc.reason == "too_large":
            raise FormProblem(i18n.gettext("%(field)s is too large.", field=field)) from None
        if exc.reason == "too_precise":
            raise FormProblem(i18n.gettext("%(field)s has more decimal places than %(currency)s allows.",
                                           field=field, currency=currency)) from None
        raise FormProblem(i18n.gettext("%(field)s: enter an amount such as 30000.00.", field=field)) from None


def major_units(amount: int | None, currency: str) -> str:
    """3000000 fen -> '30000.00' for a form field; '' for no budget (0)."""
    return amount_input(amount or None, currency)


def parse_whole(text: str, field_label: str) -> int | None:
    cleaned = (text or "").strip()
    if not cleaned:
        return None
    if not re.fullmatch(r"\+?\d{1,12}", cleaned):
        raise FormProblem(i18n.gettext("%(field)s must be a whole number.", field=_field(field_label)))
    return int(cleaned)


def parse_number(text: str, field_label: str) -> float | None:
    """SLA targets and percentages are plain numbers, not money."""
    cleaned = (text or "").strip()
    if not cleaned:
        return None
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite() or len(cleaned) > 20:
        raise FormProblem(i18n.gettext("%(field)s must be a number.", field=_field(field_label)))
    return float(value)


def parse_local_time(text: str, zone: str, field_label: str) -> datetime.datetime | None:
    """A datetime-local value, read in the viewer's zone, as aware UTC."""
    cleaned = (text or "").strip()
    if not cleaned:
        return None
    try:
        naive = datetime.datetime.fromisoformat(cleaned)
    except ValueError:
        raise FormProblem(i18n.gettext("%(field)s: enter a date and time.", field=_field(field_label))) from None
    return naive.replace(tzinfo=ZoneInfo(zone)).astimezone(datetime.timezone.utc)


def local_input(moment: datetime.datetime | None, zone: str) -> str:
    value = local(moment, zone)
    return value.strftime(LOCAL_INPUT_FORMAT) if value else ""


def _rows(count: int, minimum: int) -> int:
    return max(minimum, min(count, MAX_ROWS))


def empty_sla_row() -> dict:
    return {"metric": "", "statistic": "mean", "comparator": "<=", "target": "", "window": "month", "weight": "",
            "credit": ""}


def default_rounds(checked: tuple[str, ...] = ("proposal_review",)) -> dict:
    rounds = {}
    for kind in states.ROUND_KINDS:
        criteria = [{"name": i18n.gettext(name), "weight": str(weight), "price": price}
                    for name, weight, price in DEFAULT_CRITERIA[kind]]
        criteria += [{"name": "", "weight": "", "price": False} for _ in range(CRITERIA_ROWS - len(criteria))]
        rounds[kind] = {"on": kind in checked, "criteria": criteria}
    return rounds


def new_form_values(zone: str) -> dict:
    """The tender form for a new tender: defaults and suggested deadlines."""
    today = local(now(), zone).replace(hour=18, minute=0, second=0, microsecond=0)
    values: dict[str, Any] = {
        "category": "cs_presales", "title": "", "brief": "", "budget_min": "", "budget_max": "", "currency": "CNY",
        "pricing_models": ["periodic_fee"], "visibility": "public", "min_bids": "1", "reason": "",
        "questions_deadline": (today + datetime.timedelta(days=7)).strftime(LOCAL_INPUT_FORMAT),
        "bid_deadline": (today + datetime.timedelta(days=14)).strftime(LOCAL_INPUT_FORMAT),
        "evaluation_end": (today + datetime.timedelta(days=28)).strftime(LOCAL_INPUT_FORMAT),
        "sla": [empty_sla_row() for _ in range(SLA_ROWS)],
        "rounds": default_rounds(),
    }
    for group, fields in REQUIREMENT_GROUPS.items():
        for name, _ in fields:
            values[f"{group}_{name}"] = ""
    values.update({"cs_coverage_hours": "09:00-24:00", "cs_time_zone": zone, "cs_languages": "zh"})
    return values


def _requirement_text(value: Any, kind: str) -> str:
    if value is None:
        return ""
    if kind == "list":
        return ", ".join(value)
    if kind == "lines":
        return "\n".join(value)
    return str(value)


def _number_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def form_values_from_tender(tender: dict, zone: str) -> dict:
    """The tender form filled from a stored tender (editing)."""
    values = new_form_values(zone)
    currency = tender["currency"]
    values.update({
        "category": tender["category"], "title": tender["title"], "brief": tender["brief"],
        "budget_min": major_units(tender["budget_min"], currency),
        "budget_max": major_units(tender["budget_max"], currency), "currency": currency,
        "pricing_models": list(tender["pricing_models"] or []), "visibility": tender["visibility"],
        "min_bids": str(tender["min_bids"]),
    })
    for name in DEADLINES:
        values[name] = local_input(tender[name], zone)
    group = CATEGORY_GROUP[tender["category"]]
    requirements = tender["requirements"] or {}
    for name, kind in REQUIREMENT_GROUPS[group]:
        values[f"{group}_{name}"] = _requirement_text(requirements.get(name), kind)
    targets = tender["sla_targets"] or []
    values["sla"] = [
        {"metric": t["metric"], "statistic": t["statistic"], "comparator": t["comparator"],
         "target": _number_text(t["target"]), "window": t.get("window", "month"),
         "weight": _number_text(t.get("weight", 0)), "credit": _number_text(t.get("service_credit_percent", 0))}
        for t in targets
    ] + [empty_sla_row() for _ in range(_rows(len(targets), SLA_ROWS) - len(targets))]
    rounds = default_rounds(checked=())
    for spec in tender["rounds"] or []:
        criteria = [{"name": c["name"], "weight": str(c["weight"]), "price": bool(c.get("price"))}
                    for c in spec["criteria"]]
        criteria += [{"name": "", "weight": "", "price": False}
                     for _ in range(_rows(len(criteria), CRITERIA_ROWS) - len(criteria))]
        rounds[spec["kind"]] = {"on": True, "criteria": criteria}
    values["rounds"] = rounds
    return values


def form_values_from_post(form, category: str | None = None) -> dict:
    """What the person entered, as strings, to parse or to show again."""
    values: dict[str, Any] = {
        key: (form.get(key) or "")[:20_000]
        for key in ("category", "title", "brief", "budget_min", "budget_max", "currency", "visibility", "min_bids",
                    "reason", *DEADLINES)
    }
    if category is not None:
        values["category"] = category
    values["pricing_models"] = form.getall("pricing_models", [])[:10]
    for group, fields in REQUIREMENT_GROUPS.items():
        for name, _ in fields:
            values[f"{group}_{name}"] = (form.get(f"{group}_{name}") or "")[:8000]
    sla = []
    for index in range(MAX_ROWS):
        if form.get(f"sla_{index}_metric") is None and form.get(f"sla_{index}_target") is None:
            continue
        sla.append({key: (form.get(f"sla_{index}_{key}") or "").strip()[:40]
                    for key in ("metric", "statistic", "comparator", "target", "window", "weight", "credit")})
    values["sla"] = sla + [empty_sla_row() for _ in range(_rows(len(sla), SLA_ROWS) - len(sla))]
    rounds = {}
    for kind in states.ROUND_KINDS:
        criteria = []
        for index in range(MAX_ROWS):
            prefix = f"round_{kind}_{index}_"
            if form.get(prefix + "name") is None and form.get(prefix + "weight") is None:
                continue
            criteria.append({"name": (form.get(prefix + "name") or "")[:200],
                             "weight": (form.get(prefix + "weight") or "").strip()[:12],
                             "price": bool(form.get(prefix + "price"))})
        criteria += [{"name": "", "weight": "", "price": False}
                     for _ in range(_rows(len(criteria), CRITERIA_ROWS) - len(criteria))]
        rounds[kind] = {"on": bool(form.get(f"round_{kind}")), "criteria": criteria}
    values["rounds"] = rounds
    return values


def requirements_from_values(values: dict, category: str) -> dict:
    """The chosen category's requirement fields only; other categories' are ignored."""
    group = CATEGORY_GROUP.get(category)
    if group is None:
        return {}
    requirements: dict[str, Any] = {}
    for name, kind in REQUIREMENT_GROUPS[group]:
        raw = values.get(f"{group}_{name}", "")
        field_label = REQUIREMENT_LABELS.labels[name]
        if kind == "int":
            number = parse_whole(raw, field_label)
            if number is not None:
                requirements[name] = number
        elif kind == "list":
            items = [part.strip() for part in re.split(r"[,，、]", raw) if part.strip()]
            if items:
                requirements[name] = items
        elif kind == "lines":
            items = [line.strip() for line in raw.splitlines() if line.strip()]
            if items:
                requirements[name] = items
        elif raw.strip():
            requirements[name] = raw.strip()
    return requirements


def sla_from_values(values: dict) -> list[dict]:
    targets = []
    for number, row in enumerate(values["sla"], start=1):
        if not row["metric"] and not row["target"]:
            continue  # an empty row
        if not row["metric"]:
            raise FormProblem(i18n.gettext("SLA target %(number)d: choose a metric.", number=number))
        target = parse_number(row["target"], N_("SLA target"))
        if target is None:
            raise FormProblem(i18n.gettext("SLA target %(number)d: enter the target value.", number=number))
        targets.append({
            "metric": row["metric"], "statistic": row["statistic"] or "mean", "comparator": row["comparator"] or "<=",
            "target": target, "window": row["window"] or "month",
            "weight": parse_whole(row["weight"], N_("SLA weight")) or 0,
            "service_credit_percent": parse_number(row["credit"], N_("Service credit")) or 0,
        })
    return targets


def rounds_from_values(values: dict) -> list[dict]:
    rounds = []
    for kind in states.ROUND_KINDS:
        spec = values["rounds"][kind]
        if not spec["on"]:
            continue
        criteria = []
        for row in spec["criteria"]:
            name = row["name"].strip()
            if not name and not row["weight"]:
                continue
            if not name:
                raise FormProblem(i18n.gettext("%(round)s: every criterion with a weight needs a name.",
                                               round=label("round", kind)))
            weight = parse_whole(row["weight"], N_("Weight"))
            if weight is None:
                raise FormProblem(i18n.gettext("%(round)s: give the criterion “%(name)s” a weight.",
                                               round=label("round", kind), name=name))
            criteria.append({"name": name, "weight": weight, "price": row["price"]})
        if not criteria:
            raise FormProblem(i18n.gettext("%(round)s: add at least one criterion, or untick the round.",
                                           round=label("round", kind)))
        rounds.append({"kind": kind, "criteria": criteria})
    if not rounds:
        raise FormProblem(i18n.gettext("Choose at least one evaluation round."))
    return rounds


def tender_fields_from_values(values: dict, zone: str, category: str) -> dict:
    """The fields of TenderCreate / TenderUpdate (without category) from the form."""
    currency = (values["currency"] or "CNY").strip().upper()
    if not values["pricing_models"]:
        raise FormProblem(i18n.gettext("Choose at least one pricing model."))
    fields: dict[str, Any] = {
        "title": values["title"].strip(),
        "brief": values["brief"].strip(),
        "requirements": requirements_from_values(values, category),
        "budget_min": parse_major_units(values["budget_min"], currency, N_("Budget minimum")),
        "budget_max": parse_major_units(values["budget_max"], currency, N_("Budget maximum")),
        "currency": currency,
        "pricing_models": values["pricing_models"],
        "sla_targets": sla_from_values(values),
        "rounds": rounds_from_values(values),
        "min_bids": parse_whole(values["min_bids"], N_("Minimum number of bids")),
    }
    if fields["min_bids"] is None:
        fields["min_bids"] = 1
    if not fields["title"]:
        raise FormProblem(i18n.gettext("Give the tender a title."))
    if values["visibility"]:
        fields["visibility"] = values["visibility"]
    for name in DEADLINES:
        fields[name] = parse_local_time(values[name], zone, FIELD_LABELS.labels[name])
    return fields


# --- showing stored values -----------------------------------------------------------


def describe_requirements(requirements: dict) -> list[tuple[str, str]]:
    shown = []
    for key, value in (requirements or {}).items():
        if isinstance(value, list):
            value = ", ".join(str(v) for v in value)
        shown.append((label("requirement", key), str(value)))
    return shown


def describe_sla(target: dict) -> str:
    return i18n.gettext(
        "%(metric)s, %(statistic)s %(comparator)s %(target)s %(window)s (weight %(weight)s, service credit %(credit)s%%)",
        metric=label("metric", target.get("metric")), statistic=label("statistic", target.get("statistic")),
        comparator=target.get("comparator", ""), target=_number_text(target.get("target")),
        window=label("window", target.get("window")), weight=_number_text(target.get("weight", 0)),
        credit=_number_text(target.get("service_credit_percent", 0)),
    )


def describe_round(spec: dict) -> str:
    criteria = ", ".join(
        f"{c['name']} {c['weight']}" + (f" ({i18n.gettext('price')})" if c.get("price") else "")
        for c in spec.get("criteria", [])
    )
    return f"{label('round', spec.get('kind'))}: {criteria}"


def describe_value(name: str, value: Any, currency: str, zone: str) -> str:
    """One side of an amended field, as a person reads it."""
    if value is None or value == "" or value == [] or value == {}:
        return "—"
    if name in ("budget_min", "budget_max"):
        return format_money(int(value), currency)
    if name in DEADLINES:
        try:
            moment = datetime.datetime.fromisoformat(value) if isinstance(value, str) else value
        except ValueError:
            return str(value)
        return local(moment, zone).strftime("%Y-%m-%d %H:%M")
    if name == "pricing_models":
        return ", ".join(label("pricing", v) for v in value)
    if name == "requirements" and isinstance(value, dict):
        return "; ".join(f"{k}: {v}" for k, v in describe_requirements(value))
    if name == "sla_targets":
        return "; ".join(describe_sla(t) for t in value)
    if name == "rounds":
        return "; ".join(describe_round(r) for r in value)
    if name == "visibility":
        return label("visibility", value)
    return str(value)


def describe_amendments(rows: list[dict], currency: str, zone: str) -> list[dict]:
    shown = []
    for row in rows:
        changes = [
            {"field": label("field", name), "before": describe_value(name, change.get("before"), currency, zone),
             "after": describe_value(name, change.get("after"), currency, zone)}
            for name, change in (row["changes"] or {}).items()
        ]
        shown.append({"number": row["number"], "at": row["at"], "reason": row["reason"], "changes": changes})
    return shown


def describe_reason(reason: str) -> str:
    """A recommendation reason code ('capacity:12') as words."""
    kind, _, value = reason.partition(":")
    if kind == "category":
        return i18n.gettext("serves this category")
    if kind == "capacity":
        return i18n.gettext("team of %(count)s", count=value)
    if kind == "region":
        return i18n.gettext("same province")
    if kind == "tier":
        return i18n.gettext("tier %(tier)s", tier=value)
    return reason


# --- rendering -----------------------------------------------------------------------


async def page(request: Request, template: str, status_code: int = 200, **context: Any) -> Template:
    return await render(request, template, status_code=status_code, label=label, number=_number_text, **context)


async def merchant_member(viewer: Viewer, *allowed_roles: str) -> Member:
    """The viewer's current merchant membership: the kind first (404 for others, as
    for any page that is not theirs), then the role (403)."""
    member = await require_member(viewer)
    if member.kind != roles.MERCHANT:
        raise not_found("Page")
    return await require_member(viewer, *allowed_roles) if allowed_roles else member


def form_choices() -> dict:
    return {
        "categories": states.CATEGORIES, "pricing_models": states.PRICING_MODELS,
        "visibilities": states.VISIBILITIES, "round_kinds": states.ROUND_KINDS, "metrics": states.SLA_METRICS,
        "statistics": value_lists.SLA_STATISTICS, "windows": value_lists.SLA_WINDOWS, "comparators": value_lists.SLA_COMPARATORS,
        "currencies": tuple(CURRENCIES), "groups": GROUP_CATEGORIES,
    }


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
    timeline = await audit.object_timeline("tender", tender_id, request.query_params.get("cursor"), 50)
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
                 "reasons_text": [describe_reason(r) for r in row["reasons"]]}
                for row in await invitations.recommend(member, tender_id)
            ]
    else:
        invitation = await invitations.my_invitation(member, tender_id)
        context["invitation"] = invitation
        context["can_ask"] = context["questions_open"] and member.role in lifecycle.PROVIDER_BIDDERS
        context["can_decline"] = (invitation is not None and invitation["status"] == "invited"
                                  and status == states.PUBLISHED and member.role in lifecycle.PROVIDER_BIDDERS)
    panels = []
    for panel in TENDER_PANELS:
        result = await panel(request, viewer, member, tender)
        if result:
            panels.append(result)
    context["panels"] = panels
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


register_nav(NavItem("Tenders", "/tenders", ("merchant",)), position=1)
register_nav(NavItem("Open tenders", "/open-tenders", ("provider",)), position=1)
if dashboard_panel not in DASHBOARD_PANELS:
    DASHBOARD_PANELS.append(dashboard_panel)

ROUTES: list = [
    tender_list, tender_new_form, tender_create, tender_page, tender_edit_form, tender_edit, tender_publish,
    tender_cancel, tender_invite, question_ask, question_answer, invitation_decline, tender_audit, open_tenders,
]


# Words the templates translate from data (see LABELS above for the labelled ones).
_MARKED = [
    N_("Tenders"), N_("Open tenders"),
    # statuses, as stored (the timeline and notifications show these)
    N_("draft"), N_("published"), N_("bidding_closed"), N_("evaluating"), N_("awarded"), N_("contracted"),
    N_("cancelled"), N_("unsuccessful"),
    # pricing models, round kinds and SLA metrics, as stored
    N_("periodic_fee"), N_("per_order"), N_("metered"), N_("pay_after_delivery"),
    N_("proposal_review"), N_("presentation"), N_("site_inspection"),
    N_("first_response_time"), N_("next_response_time"), N_("inquiry_conversion_rate"), N_("service_attitude"),
    N_("resolution_time"), N_("milestone_on_time_rate"), N_("first_pass_acceptance_rate"),
    # the tender's audit timeline: object types and actions
    N_("tender"), N_("question"), N_("draft_updated"), N_("amended"), N_("provider_invited"),
    N_("invitation_declined"), N_("asked"), N_("answered"),
    N_("status_published"), N_("status_bidding_closed"), N_("status_evaluating"), N_("status_awarded"),
    N_("status_contracted"), N_("status_cancelled"), N_("status_unsuccessful"),
]
