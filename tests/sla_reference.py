"""A plain-Python restatement of the SLA metric definitions (DESIGN.md section 4),
written from the text of the rules and not from the SQL, to check the SQL engine
against: tests compute both on the same event log and compare.

Events are dicts with `id` (order in the log), `kind`, `at` (microseconds since the
epoch) and the references a kind carries (`conversation`, `buyer`, `order`,
`rating`, `milestone`, `due`). Business time here walks the range in 15-minute UTC
steps, inside each of which the zone's offset is constant (true of every zone's
transitions in this century), independently of sla.calendar's interval expansion.
"""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

SECOND = 1_000_000
DAY = 86_400 * SECOND
STEP = 15 * 60 * SECOND
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


class Calendar:
    """zone name; windows: {ISO weekday 1-7: [(start seconds, end seconds)]};
    holidays: a set of local dates."""

    def __init__(self, zone: str, windows: dict[int, list[tuple[int, int]]] | None, holidays=()):
        self.zone = ZoneInfo(zone)
        self.windows = windows if windows is not None else {day: [(0, 86_400)] for day in range(1, 8)}
        self.holidays = set(holidays)

    def business_us(self, t1: int, t2: int) -> int:
        total = 0
        chunk = t1 - t1 % STEP
        while chunk < t2:
            low, high = max(chunk, t1), min(chunk + STEP, t2)
            if low < high:
                offset = (EPOCH + timedelta(microseconds=chunk)).astimezone(self.zone).utcoffset()
                offset_us = offset // timedelta(microseconds=1)
                local_low, local_high = low + offset_us, high + offset_us
                day_number = local_low // DAY
                while day_number * DAY < local_high:
                    local_date = date(1970, 1, 1) + timedelta(days=day_number)
                    if local_date not in self.holidays:
                        for start, end in self.windows.get(local_date.isoweekday(), []):
                            a = max(local_low, day_number * DAY + start * SECOND)
                            b = min(local_high, day_number * DAY + end * SECOND)
                            if a < b:
                                total += b - a
                    day_number += 1
            chunk += STEP
        return total


def _seen(events, as_of):
    """The log as of T: events after T do not exist; in log order."""
    return sorted((e for e in events if e["at"] <= as_of), key=lambda e: (e["at"], e["id"]))


def _by_conversation(events):
    groups: dict[str, list] = {}
    for event in events:
        if event.get("conversation") is not None:
            groups.setdefault(event["conversation"], []).append(event)
    return groups


def _stop(events, index, as_of):
    """When the clock started by events[index] stops: the next agent reply or close,
    else T."""
    for later in events[index + 1:]:
        if later["kind"] in ("agent_reply", "conversation_closed"):
            return later["at"]
    return as_of


def first_response(events, calendar, start, end, as_of):
    samples = []
    for conversation in _by_conversation(_seen(events, as_of)).values():
        for index, event in enumerate(conversation):
            if event["kind"] == "buyer_message":
                if start <= event["at"] < end:
                    samples.append(calendar.business_us(event["at"], _stop(conversation, index, as_of)))
                break
    return samples


def next_response(events, calendar, start, end, as_of):
    samples = []
    for conversation in _by_conversation(_seen(events, as_of)).values():
        seen_buyer = False
        answered = False  # an agent reply or close came after a buyer message, and no buyer message since
        for index, event in enumerate(conversation):
            if event["kind"] == "buyer_message":
                if seen_buyer and answered and start <= event["at"] < end:
                    samples.append(calendar.business_us(event["at"], _stop(conversation, index, as_of)))
                seen_buyer = True
                answered = False
            elif event["kind"] in ("agent_reply", "conversation_closed") and seen_buyer:
                answered = True
    return samples


def resolution(events, calendar, start, end, as_of):
    samples = []
    for conversation in _by_conversation(_seen(events, as_of)).values():
        closes = [e for e in conversation if e["kind"] == "conversation_closed"]
        buyers = [e for e in conversation if e["kind"] == "buyer_message"]
        if not closes or not buyers:
            continue
        last_close, first_buyer = closes[-1], buyers[0]
        if start <= last_close["at"] < end and conversation.index(first_buyer) < conversation.index(last_close):
            samples.append(calendar.business_us(first_buyer["at"], last_close["at"]))
    return samples


def attitude(events, start, end, as_of):
    samples = []
    for conversation in _by_conversation(_seen(events, as_of)).values():
        closes = [e for e in conversation if e["kind"] == "conversation_closed"]
        ratings = [e for e in conversation if e["kind"] == "chat_rated" and e.get("rating") is not None]
        if closes and ratings and start <= closes[-1]["at"] < end:
            samples.append(ratings[-1]["rating"])
    return samples


def conversion(events, orders, start, end, as_of, attribution_seconds=86_400):
    """(buyers, converted)."""
    first: dict[str, int] = {}
    for event in _seen(events, as_of):
        if event["kind"] == "buyer_message" and event.get("buyer") and start <= event["at"] < end:
            first.setdefault(event["buyer"], event["at"])
    window = attribution_seconds * SECOND
    converted = sum(
        1 for buyer, f in first.items()
        if any(o["buyer"] == buyer and f <= o["at"] < f + window and o["at"] <= as_of for o in orders))
    return len(first), converted


def on_time(events, start, end, as_of):
    """(milestones due, on time)."""
    seen = _seen(events, as_of)
    due: dict[str, int] = {}
    for event in seen:
        if event["kind"] == "milestone_created":
            due[event["milestone"]] = event["due"]  # the latest wins
    counted = hits = 0
    for milestone, due_at in due.items():
        if start <= due_at < end and due_at <= as_of:
            counted += 1
            submissions = [e["at"] for e in seen if e["kind"] == "milestone_submitted" and e["milestone"] == milestone]
            if submissions and min(submissions) <= due_at:
                hits += 1
    return counted, hits


def first_pass(events, start, end, as_of):
    """(milestones accepted, accepted with no rejection before)."""
    seen = _seen(events, as_of)
    counted = hits = 0
    done = set()
    for index, event in enumerate(seen):
        if event["kind"] != "milestone_accepted" or event["milestone"] in done:
            continue
        done.add(event["milestone"])
        if start <= event["at"] < end:
            counted += 1
            if not any(e["kind"] == "milestone_rejected" and e["milestone"] == event["milestone"]
                       for e in seen[:index]):
                hits += 1
    return counted, hits


def statistics(samples, scale=SECOND):
    """mean, median, p90 (nearest rank) of the samples, in seconds for durations."""
    if not samples:
        return {"n": 0, "mean": None, "median": None, "p90": None}
    ordered = sorted(samples)
    n = len(ordered)

    def rank(p):
        return ordered[max(1, math.ceil(p * n / 100)) - 1] / scale

    return {"n": n, "mean": sum(ordered) / scale / n, "median": rank(50), "p90": rank(90)}
