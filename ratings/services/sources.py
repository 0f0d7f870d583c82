"""What each figure of a provider's scorecard came from, as links the reader may
follow, and the history chart's data (DESIGN.md section 6: "every figure links to
what it came from").

The figures are the stored evaluation's (`Evaluation.explanation`); this module
finds the records behind them over the same window (the evaluation's `as_of` less
the scorecard window, and the window before it for growth) and decides, per reader,
which to link:

* the provider's own members open every contract of it (its SLA reports and
  milestones are on the contract's page);
* a merchant's members open only the contracts their merchant is party to: the
  others are counted, never named or linked;
* platform admins open the brand grade's record (the organisation's admin page,
  with the grade and its evidence in the audit timeline); contracts are the
  parties' own, so admins see them counted;
* everyone sees the provider's public ratings list.

Lists are bounded (`SHOWN` rows each, newest first) and say how many more there are.
"""

from __future__ import annotations

import datetime
import json
import uuid
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from fuwu import i18n, roles
from fuwu.services.accounts import Member, Viewer, is_platform_admin
from ratings import states
from ratings.settings import get_settings
from sla import states as sla_states
from sla.tables import Contract, Measurement, Milestone

SHOWN = 10


@dataclass(frozen=True)
class Reader:
    """Who reads a provider's scorecard, as far as its sources go."""

    provider_member: bool = False  # acts for the provider itself
    merchant_id: uuid.UUID | None = None  # acts for this merchant
    admin: bool = False  # a platform admin


async def reader_of(viewer: Viewer | None, member: Member | None, provider_id: uuid.UUID) -> Reader:
    if viewer is None:
        return Reader()
    admin = await is_platform_admin(viewer.user_id)
    if member is not None and member.kind == roles.PROVIDER and member.organisation_id == provider_id:
        return Reader(provider_member=True, admin=admin)
    if member is not None and member.kind == roles.MERCHANT:
        return Reader(merchant_id=member.organisation_id, admin=admin)
    return Reader(admin=admin)


def _signed():
    return Contract.merchant_signed_at.is_not_null() & Contract.provider_signed_at.is_not_null()


def _visible(reader: Reader, merchant_column):
    """The reader's own contracts among the provider's: all of them for its members, a
    merchant's for that merchant, none for anyone else (None)."""
    if reader.provider_member:
        return True
    if reader.merchant_id is not None:
        return merchant_column == reader.merchant_id
    return None


async def _contracts(condition, reader: Reader, zone: str) -> dict:
    """The contracts meeting `condition`: those the reader may open (newest first, at
    most SHOWN), how many more of those there are, and how many it may not open."""
    total = await Contract.count().where(condition)
    visible = _visible(reader, Contract.merchant)
    items, openable = [], 0
    if visible is not None and total:
        where = condition if visible is True else condition & visible
        openable = await Contract.count().where(where)
        for row in await Contract.select(Contract.id, Contract.merchant.name.as_alias("merchant_name"),
                                         Contract.starts_at, Contract.ends_at).where(where).order_by(
                Contract.starts_at, ascending=False).order_by(Contract.id).limit(SHOWN):
            items.append({"href": f"/contracts/{row['id']}", "text": i18n.gettext(
                "Contract with %(merchant)s, %(start)s – %(end)s", merchant=row["merchant_name"],
                start=_day(row["starts_at"], zone), end=_day(row["ends_at"], zone))})
    return {"items": items, "more": openable - len(items), "hidden": total - openable, "total": total,
            "list": "/contracts" if visible is not None and openable > len(items) else None}


def _day(moment: datetime.datetime, zone: str) -> str:
    return moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d")


async def scorecard_sources(provider_id: uuid.UUID, latest: dict | None, reader: Reader, zone: str) -> dict:
    """Per figure of the latest evaluation, the records it came from as the reader may
    follow them (see the module's docstring)."""
    if not latest:
        return {}
    settings = get_settings()
    as_of = latest["as_of"]
    window = datetime.timedelta(days=settings.window_days)
    start = as_of - window
    mine = (Contract.provider == provider_id) & _signed()

    # SLA attainment: the contracts with SLA windows that ended in the window, met or breached.
    measured = [row["contract"] for row in await Measurement.select(Measurement.contract).where(
        (Measurement.contract.provider == provider_id) & (Measurement.window_end > start)
        & (Measurement.window_end <= as_of)
        & Measurement.outcome.is_in([sla_states.MET, sla_states.BREACHED])).distinct()]
    sla = await _contracts(Contract.id.is_in(measured), reader, zone) if measured else _empty()

    # Milestones on time: the milestones due in the window, each on its contract's page.
    due = (Milestone.contract.provider == provider_id) & (Milestone.due_at >= start) & (Milestone.due_at < as_of)
    milestones = {"items": [], "more": 0, "hidden": 0, "list": None}
    total = await Milestone.count().where(due)
    visible = _visible(reader, Milestone.contract.merchant)
    openable = 0
    if visible is not None and total:
        where = due if visible is True else due & visible
        openable = await Milestone.count().where(where)
        for row in await Milestone.select(Milestone.contract, Milestone.deliverable, Milestone.due_at).where(
                where).order_by(Milestone.due_at, ascending=False).limit(SHOWN):
            milestones["items"].append({"href": f"/contracts/{row['contract']}", "text": i18n.gettext(
                "%(deliverable)s, due %(day)s", deliverable=row["deliverable"], day=_day(row["due_at"], zone))})
    milestones.update(more=openable - len(milestones["items"]), hidden=total - openable, total=total)

    # Volume: contracts running in the window; growth: contracts started in the window and before it.
    served = await _contracts(mine & (Contract.starts_at < as_of) & (Contract.ends_at > start), reader, zone)
    started = await _contracts(mine & (Contract.starts_at >= start) & (Contract.starts_at < as_of), reader, zone)
    before = await _contracts(mine & (Contract.starts_at >= start - window) & (Contract.starts_at < start), reader,
                              zone)

    return {
        "sla": sla, "milestones": milestones, "served": served, "growth_now": started, "growth_before": before,
        "ratings": f"/providers/{provider_id}/ratings",
        # How the records it may not open are described: another merchant's, or a party's.
        "merchant_reader": reader.merchant_id is not None,
        # The grade's record (its evidence is in the organisation's timeline), where admins
        # also grade a provider not graded yet: admins only.
        "brand": f"/admin/orgs/{provider_id}" if reader.admin else None,
    }


def _empty() -> dict:
    return {"items": [], "more": 0, "hidden": 0, "total": 0, "list": None}


def history_chart(card: dict, zone: str) -> str:
    """The history chart's data (the data-chart attribute): the stored evaluations'
    composite and tier as they were stored, and the tiers' bands of the settings."""
    settings = get_settings()
    rows = card["history"]
    return json.dumps({
        "labels": [_day(row["as_of"], zone) for row in rows],
        "composite": [round(float(row["composite"]), 2) for row in rows],
        "tiers": [row["tier_after"] for row in rows],
        "at_risk": [bool(row["at_risk"]) for row in rows],
        "bands": [{"tier": tier, "low": low, "high": high, "label": states.TIER_LABELS.label(str(tier))}
                  for tier, low, high in settings.bands],
        "tier_labels": {str(tier): states.TIER_LABELS.label(str(tier)) for tier in (0, *states.TIERS)},
        "names": {"composite": i18n.gettext("Composite"), "tier": i18n.gettext("Tier"),
                  "at_risk": i18n.gettext("at risk")},
        "locale": "ZH" if i18n.current_locale.get().startswith("zh") else "EN",
    }, ensure_ascii=False)

