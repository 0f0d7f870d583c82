"""What a contract's page shows beside its terms: the running window of each SLA
target (computed on read), the trend of each target over past windows, the before
and after of changing provider, and the billing statement of a period.

Every figure comes from the SLA engine (`sla.metrics.measure` over the service-event
log, `sla.services.evaluation.report`) or from SQL aggregates; nothing loads the log
into Python.
"""

from __future__ import annotations

import datetime
import uuid

from piccolo.query.functions.aggregate import Sum

from fuwu.clock import now
from sla import states
from sla.calendar import CoverageCalendar, from_us, to_us
from sla.metrics import Scope, measure
from sla.services import evaluation
from sla.tables import Breach, Measurement, Milestone, ServiceEvent, SlaTarget
from sla.windows import period_of, periods


def _calendar(contract: dict) -> CoverageCalendar:
    return CoverageCalendar.from_json(contract["time_zone"], contract["calendar"])


def beats(comparator: str, value: float | None, target: float, margin: float = 0.0) -> bool | None:
    """Whether a value meets a target (by `margin` beyond it, for a bonus)."""
    if value is None:
        return None
    return value <= target - margin if comparator == "<=" else value >= target + margin


async def running_windows(contract: dict, targets: list[dict], moment: datetime.datetime | None = None) -> list[dict]:
    """Each target over the window running now (as of now), with the share of the
    window gone and whether the target is at risk, by the rule the early warnings
    follow (sla.services.risk.at_risk)."""
    from sla.services import risk

    return await risk.running_windows(contract, targets, moment)


async def trend(contract: dict, targets: list[dict], windows: int = 6,
                moment: datetime.datetime | None = None) -> list[dict]:
    """Each target's value over its last `windows` windows (the running one last),
    from the live log as the engine computes it, for the charts."""
    moment = moment or now()
    series: list[dict] = []
    if contract["starts_at"] >= moment:
        return series  # nothing measured before the contract starts
    for size in sorted({t["window"] for t in targets}):
        # The last `windows` periods since the contract started, the running one last.
        spans = periods(contract["time_zone"], size, to_us(contract["starts_at"]), to_us(moment) + 1)
        first = spans[max(0, len(spans) - windows)][0] if spans else to_us(moment)
        report = await evaluation.report(contract_id=contract["id"], start=from_us(first), end=moment,
                                         window_size=size, present=moment)
        for target in (t for t in targets if t["window"] == size):
            points = []
            for window in report["windows"]:
                row = next((m for m in window["metrics"] if m["target_id"] == target["id"]), None)
                points.append({"start": window["start"], "value": row["value"] if row else None,
                               "sample_size": row["sample_size"] if row else 0})
            series.append({"target": target, "points": points})
    return series


async def before_and_after(contract: dict, moment: datetime.datetime | None = None) -> list[dict]:
    """The shop's imported history (the months before the contract) beside the
    contract's live figures since it started, for each metric with a target: one
    figure each over the whole span, by the contract's calendar and attribution
    window. Empty when no history was imported."""
    moment = moment or now()
    span = await ServiceEvent.select(ServiceEvent.at_us).where(
        (ServiceEvent.shop == contract["merchant_id"]) & (ServiceEvent.source == states.HISTORY)).order_by(
        ServiceEvent.at_us).first()
    if span is None:
        return []
    last = await ServiceEvent.select(ServiceEvent.at_us).where(
        (ServiceEvent.shop == contract["merchant_id"]) & (ServiceEvent.source == states.HISTORY)).order_by(
        ServiceEvent.at_us, ascending=False).first()
    history_from, history_to = span["at_us"], last["at_us"] + 1
    live_from, live_to = to_us(contract["starts_at"]), to_us(moment)
    calendar = _calendar(contract)
    targets = await SlaTarget.select().where(SlaTarget.contract == contract["id"]).order_by(SlaTarget.metric)
    rows, seen = [], set()
    async with evaluation.reading():
        for target in targets:
            key = (target["metric"], target["statistic"])
            if key in seen:
                continue
            seen.add(key)
            before = await measure(target["metric"], Scope.history(contract["merchant_id"]), calendar, history_from,
                                   history_to, history_to, contract["attribution_window_seconds"])
            after = await measure(target["metric"], Scope.live(contract["id"], contract["merchant_id"]), calendar,
                                  live_from, max(live_from + 1, live_to), max(live_from + 1, live_to),
                                  contract["attribution_window_seconds"])
            rows.append({"metric": target["metric"], "statistic": target["statistic"],
                         "comparator": target["comparator"], "target": target["target"],
                         "before": before.value(target["statistic"]), "before_samples": before.sample_size,
                         "after": after.value(target["statistic"]), "after_samples": after.sample_size,
                         "history_from": from_us(history_from), "history_to": from_us(history_to)})
    return rows


async def statement(contract: dict, period_start: datetime.datetime | None = None,
                    moment: datetime.datetime | None = None) -> dict:
    """The billing statement of one contract period (a local month in the contract's
    zone), in minor units, with each line a merchant can check by hand:

        base fee (periodic fee)
      + metered amount (unit price x conversations opened in the period, for metered pricing)
      + accepted milestones (payments released by acceptances in the period)
      - service credits (breaches of windows starting in the period, not cleared)
      + bonuses (windows starting in the period whose latest measurement beats its
        target by the bonus margin: bonus percent of the period fee)
      = total
    No payment is processed."""
    moment = moment or now()
    zone = contract["time_zone"]
    start_us, end_us = period_of(zone, "month", to_us(period_start or moment))
    start, end = from_us(start_us), from_us(end_us)
    terms = contract["pricing_terms"] or {}
    base = contract["period_fee"] if contract["pricing_model"] == "periodic_fee" else 0
    quantity, metered = 0, 0
    if contract["pricing_model"] == "metered":
        quantity = await ServiceEvent.count().where(
            (ServiceEvent.contract == contract["id"]) & (ServiceEvent.kind == states.CONVERSATION_OPENED)
            & (ServiceEvent.at_us >= start_us) & (ServiceEvent.at_us < end_us))
        metered = int(terms.get("amount", 0)) * quantity
    # Acceptance is final, so a milestone is accepted once: at most one event each
    # (a contract has at most 100 milestones). The log holds the id as text.
    refs = await ServiceEvent.select(ServiceEvent.milestone).where(
        (ServiceEvent.contract == contract["id"]) & (ServiceEvent.kind == states.MILESTONE_ACCEPTED_EVENT)
        & (ServiceEvent.at_us >= start_us) & (ServiceEvent.at_us < end_us))
    ids = [uuid.UUID(row["milestone"]) for row in refs]
    accepted = await Milestone.select(Milestone.id, Milestone.deliverable, Milestone.amount).where(
        (Milestone.contract == contract["id"]) & Milestone.id.is_in(ids)).order_by(Milestone.due_at) if ids else []
    milestones_total = sum(m["amount"] for m in accepted)
    credits = await Breach.select(Breach.id, Breach.target.metric.as_alias("metric"), Breach.window_start,
                                  Breach.value, Breach.target_value, Breach.credit_percent,
                                  Breach.credit_amount).where(
        (Breach.contract == contract["id"]) & Breach.cleared_at.is_null() & (Breach.window_start >= start)
        & (Breach.window_start < end)).order_by(Breach.window_start)
    credit_total = (await Breach.select(Sum(Breach.credit_amount, alias="total")).where(
        (Breach.contract == contract["id"]) & Breach.cleared_at.is_null() & (Breach.window_start >= start)
        & (Breach.window_start < end)).first())["total"] or 0
    bonuses = []
    bonus_targets = await SlaTarget.select().where((SlaTarget.contract == contract["id"]) & (SlaTarget.bonus_percent > 0))
    for target in bonus_targets:
        latest = await Measurement.select(Measurement.window_start, Measurement.value, Measurement.version).where(
            (Measurement.target == target["id"]) & (Measurement.window_start >= start)
            & (Measurement.window_start < end)).order_by(Measurement.window_start).order_by(
            Measurement.version, ascending=False)
        best: dict = {}
        for row in latest:  # newest version per window (a window has a handful of versions)
            best.setdefault(row["window_start"], row)
        for window_start, row in sorted(best.items()):
            if beats(target["comparator"], row["value"], target["target"], target["bonus_margin"]):
                bonuses.append({"metric": target["metric"], "window_start": window_start, "value": row["value"],
                                "target": target["target"], "margin": target["bonus_margin"],
                                "percent": target["bonus_percent"],
                                "amount": int(contract["period_fee"] * target["bonus_percent"] / 100 + 0.5)})
    bonus_total = sum(b["amount"] for b in bonuses)
    total = base + metered + milestones_total - int(credit_total) + bonus_total
    return {"period_start": start, "period_end": end, "currency": contract["currency"],
            "pricing_model": contract["pricing_model"], "base_fee": base, "metered_quantity": quantity,
            "unit_price": int(terms.get("amount", 0)) if contract["pricing_model"] == "metered" else 0,
            "metered_amount": metered, "milestones": accepted, "milestones_amount": milestones_total,
            "credits": credits, "credits_amount": int(credit_total), "bonuses": bonuses, "bonuses_amount": bonus_total,
            "total": total, "final": end <= moment}
