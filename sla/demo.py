"""Demo contract data drawn from the market's case: the fashion brand's pre-sales
customer service moved to a new provider. The award of the demo tender opened the
contract; here both parties sign it (dated to have run for some weeks), the shop's
earlier history is imported (first response near 60 s, conversion near 51 %), and the
contract's live log holds the new provider's service (first response near 25 s,
conversion near 54 %), with its closed windows evaluated — so that a newcomer sees
the live SLA panel, the charts, the before and after and the statement.

The events are generated (deterministically) as the chat would have appended them.
"""

from __future__ import annotations

import datetime
import json
import random
from zoneinfo import ZoneInfo

from fuwu.clock import now
from fuwu.db import atomic
from sla import states
from sla.calendar import from_us, to_us
from sla.services import contracts, evaluation
from sla.services.events import append_event, import_history
from sla.tables import Contract, SlaTarget
from sla.windows import period_of, periods
from tenders.demo import actor

DAY = datetime.timedelta(days=1)
CONVERSATIONS_A_DAY = 6


def _day_conversations(rng: random.Random, day: datetime.datetime, reply_mean: float, order_share: float,
                       prefix: str) -> list[dict]:
    """One day's conversations in the shop's opening hours (`day` is a local midnight),
    as events in order."""
    events = []
    for number in range(CONVERSATIONS_A_DAY):
        opened = day + datetime.timedelta(hours=9 + rng.random() * 12)
        conversation, buyer = f"{prefix}-{day:%m%d}-{number}", f"b-{prefix}-{day:%m%d}-{number}"
        first_reply = opened + datetime.timedelta(seconds=max(3.0, rng.gauss(reply_mean, reply_mean / 3)))
        follow_up = first_reply + datetime.timedelta(seconds=40 + rng.random() * 60)
        events += [
            ("conversation_opened", opened, {"conversation": conversation, "buyer": buyer}),
            ("buyer_message", opened, {"conversation": conversation, "buyer": buyer}),
            ("agent_reply", first_reply, {"conversation": conversation, "agent": "a-1"}),
            ("buyer_message", follow_up, {"conversation": conversation, "buyer": buyer}),
            ("agent_reply", follow_up + datetime.timedelta(seconds=max(3.0, rng.gauss(reply_mean, reply_mean / 3))),
             {"conversation": conversation, "agent": "a-2"}),
            ("conversation_closed", follow_up + datetime.timedelta(minutes=5), {"conversation": conversation}),
            ("chat_rated", follow_up + datetime.timedelta(minutes=6),
             {"conversation": conversation, "rating": rng.choice((4, 5, 5, 5, 5, 5))}),
        ]
        if rng.random() < order_share:
            events.append(("order_placed", opened + datetime.timedelta(hours=2),
                           {"buyer": buyer, "order": f"o-{conversation}", "amount": 12_900 + number * 1_000,
                            "currency": "CNY"}))
    return events


def _history_lines(rng: random.Random, first_day: datetime.datetime, days: int) -> list[str]:
    lines = []
    for offset in range(days):
        for kind, at, fields in _day_conversations(rng, first_day + offset * DAY, 59.7, 0.508, "h"):
            lines.append(json.dumps({"type": kind, "at": at.isoformat(), **fields}, ensure_ascii=False) + "\n")
    return lines


async def loaded() -> bool:
    return await Contract.exists().where(
        (Contract.merchant.name.like("Lanfei Fashion%")) & (Contract.status == states.ACTIVE))


async def load(echo) -> None:
    if await loaded():
        return
    lanfei = await actor("owner@lanfei-fashion.demo")
    xingchen = await actor("owner@xingchen-cs.demo")
    row = await Contract.select(Contract.id, Contract.time_zone).where(
        (Contract.merchant == lanfei[1].organisation_id) & (Contract.status == states.PENDING_SIGNATURE)).first()
    if row is None:
        return
    echo("  contracts: signed, with imported history and weeks of live service")
    zone_now = now()
    zone = ZoneInfo(row["time_zone"])
    starts = datetime.datetime.combine((zone_now - 75 * DAY).astimezone(zone).date(), datetime.time(), zone)
    await contracts.update_terms(*lanfei, row["id"], starts_at=starts, ends_at=starts + 365 * DAY)
    await contracts.sign(*lanfei, row["id"])
    await contracts.sign(*xingchen, row["id"])
    rng = random.Random(2026)
    history_start = starts - 60 * DAY
    await import_history(lanfei[1].organisation_id, _history_lines(rng, history_start, 45))
    day = starts
    async with atomic():  # one transaction: thousands of events
        while day + DAY < zone_now:
            for kind, at, fields in _day_conversations(rng, day, 17.5, 0.544, "c"):
                if at < zone_now:
                    contract = None if kind == "order_placed" else row["id"]
                    await append_event(kind, shop=lanfei[1].organisation_id, contract=contract, at=at, **fields)
            day += DAY
    targets = await SlaTarget.select(SlaTarget.id, SlaTarget.window).where(SlaTarget.contract == row["id"])
    for target in targets:  # the closed windows, as the evaluation job closes them
        for start_us, _ in periods(row["time_zone"], target["window"], to_us(starts), to_us(zone_now)):
            period_start, period_end = period_of(row["time_zone"], target["window"], start_us)
            if period_end <= to_us(zone_now):
                await evaluation.evaluate_window(row["id"], target["id"], (from_us(period_start), from_us(period_end)))

