"""The tender form: what a merchant types, read into the fields of TenderCreate and
TenderUpdate, and a stored tender turned back into the form; and how a tender's stored
fields read on its pages.

The form is nested (requirements of the chosen category, rows of SLA targets, rounds
with their criteria): its inputs are named "<group>_<field>", "sla_<row>_<key>" and
"round_<kind>_<row>_<key>". Money is typed in major units (yuan) and read by
fuwu.money into integer minor units (fen); deadlines are typed in the viewer's time
zone and stored in UTC. A value that cannot be read raises FormProblem with a message
already in the reader's language; the schemas and services check everything else.
"""

from __future__ import annotations

import datetime
import re
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from fuwu import i18n
from fuwu import values as value_lists
from fuwu.clock import local, now
from fuwu.i18n import N_
from fuwu.money import CURRENCIES, AmountError, amount_input, format_money, parse_amount
from fuwu.values import Values
from tenders import states
from tenders.schemas import (
    REQUIREMENTS_BY_CATEGORY,
    ConsultingRequirements,
    CustomerServiceRequirements,
    DesignRequirements,
    OtherRequirements,
    PhotographyRequirements,
    VideoRequirements,
)

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


def form_choices() -> dict:
    """The choices the tender form offers."""
    return {
        "categories": states.CATEGORIES, "pricing_models": states.PRICING_MODELS,
        "visibilities": states.VISIBILITIES, "round_kinds": states.ROUND_KINDS, "metrics": states.SLA_METRICS,
        "statistics": value_lists.SLA_STATISTICS, "windows": value_lists.SLA_WINDOWS,
        "comparators": value_lists.SLA_COMPARATORS, "duration_units": value_lists.DURATION_UNITS,
        "currencies": tuple(CURRENCIES), "groups": GROUP_CATEGORIES,
    }


# --- form parsing --------------------------------------------------------------------


class FormProblem(Exception):
    """A form value the page could not read; the message is already translated."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


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
    return {"metric": "", "statistic": "mean", "comparator": "<=", "target": "", "unit": "seconds", "window": "month",
            "weight": "", "credit": ""}


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


def number_text(value: Any) -> str:
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
         **dict(zip(("target", "unit"), value_lists.target_input(t["metric"], t["target"]))),
         "window": t.get("window", "month"), "weight": number_text(t.get("weight", 0)),
         "credit": number_text(t.get("service_credit_percent", 0))}
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
                    for key in ("metric", "statistic", "comparator", "target", "unit", "window", "weight", "credit")})
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
        if not row["target"].strip():
            raise FormProblem(i18n.gettext("SLA target %(number)d: enter the target value.", number=number))
        target = parse_target(row["metric"], row["target"], row.get("unit") or "seconds", number)
        credit = parse_number(row["credit"], N_("Service credit")) or 0
        if not 0 <= credit <= 100:
            raise FormProblem(i18n.gettext("SLA target %(number)d: the service credit is a percentage from 0 to 100.",
                                           number=number))
        targets.append({
            "metric": row["metric"], "statistic": row["statistic"] or "mean", "comparator": row["comparator"] or "<=",
            "target": target, "window": row["window"] or "month",
            "weight": parse_whole(row["weight"], N_("SLA weight")) or 0,
            "service_credit_percent": credit,
        })
    return targets


def parse_target(metric: str, text: str, unit: str, number: int) -> float:
    """An SLA target as typed (a rate in percent, a time in the chosen unit) as it is
    stored (a fraction, seconds), within its metric's bounds."""
    try:
        return value_lists.target_from_input(metric, text, unit)
    except value_lists.TargetError as exc:
        problem = i18n.translate_format(exc.detail, {**exc.params, "metric": label("metric", metric)})
        raise FormProblem(i18n.translate_format(N_("SLA target {number}: {problem}"),
                                                {"number": number, "problem": problem})) from None
    except (ArithmeticError, ValueError):
        raise FormProblem(i18n.gettext("%(field)s must be a number.", field=_field(N_("SLA target")))) from None


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
        comparator=target.get("comparator", ""),
        target=value_lists.format_target(target.get("metric"), target.get("target")),
        window=label("window", target.get("window")), weight=number_text(target.get("weight", 0)),
        credit=number_text(target.get("service_credit_percent", 0)),
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
    """A recommendation reason code ('capacity:12', 'capacity:3/12') as words."""
    kind, _, value = reason.partition(":")
    if kind == "category":
        return i18n.gettext("serves this category")
    if kind == "capacity":
        free, _, team = value.partition("/")
        if team:
            return i18n.gettext("%(free)s of %(team)s free, the rest on running contracts", free=free, team=team)
        return i18n.gettext("team of %(count)s", count=value)
    if kind == "region":
        return i18n.gettext("same province")
    if kind == "tier":
        return i18n.gettext("tier %(tier)s", tier=value)
    return reason
