"""For random event logs and random coverage calendars, the SQL engine gives what
the plain-Python reference of the same definitions gives (tests/sla_reference.py),
for every metric and statistic, on the engine of this run (SQLite, or PostgreSQL
with DATABASE_URL)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from fuwu.db import atomic
from sla import metrics
from sla.calendar import WEEKDAYS, CoverageCalendar, from_us, to_us
from sla.metrics import Scope
from sla.services.events import append_event, rebuild_stale_steps
from sla.windows import periods
from tests import sla_reference as reference
from tests.integration.sla.conftest import make_contract

SECOND = 1_000_000
MINUTE = 60 * SECOND
ZONES = ("UTC", "Asia/Shanghai", "America/New_York", "Europe/London", "America/Santiago", "Australia/Lord_Howe",
         "Asia/Kolkata", "Pacific/Chatham")
# Moments near which the zones above change their clocks (and one quiet week).
BASES = ("2026-03-07T00:00", "2026-03-28T12:00", "2026-04-04T00:00", "2026-09-05T00:00", "2026-10-03T00:00",
         "2026-10-24T12:00", "2026-10-31T00:00", "2026-06-10T00:00")
SPAN = 2 * 24 * 60  # minutes of log after the base
CONVERSATIONS = ("c1", "c2", "c3")
BUYERS = ("b1", "b2", "b3")
MILESTONES = ("m1", "m2", "m3")


@st.composite
def calendars(draw):
    weekdays = {}
    for name in WEEKDAYS:
        cuts = sorted(draw(st.sets(st.integers(0, 96), max_size=6)))  # quarter hours; 96 is 24:00
        cuts = cuts[:len(cuts) // 2 * 2]
        if cuts:
            weekdays[name] = [[_clock(cuts[i]), _clock(cuts[i + 1])] for i in range(0, len(cuts), 2)]
    holidays = draw(st.lists(st.integers(-1, 5), max_size=2, unique=True))
    return weekdays, holidays


def _clock(quarters: int) -> str:
    return f"{quarters // 4:02d}:{quarters % 4 * 15:02d}"


moments = st.one_of(st.integers(0, SPAN // 15).map(lambda q: q * 15 * MINUTE),  # on quarter hours: ties
                    st.integers(0, SPAN * MINUTE))


@st.composite
def log_events(draw):
    """One event: mostly chat (buyer messages and replies most of all), some orders
    and milestone events."""
    pick = draw(st.integers(0, 19))
    at = draw(moments)
    if pick < 6:
        return ("buyer_message", at, draw(st.sampled_from(CONVERSATIONS)), draw(st.sampled_from(BUYERS)), 0)
    if pick < 11:
        return ("agent_reply", at, draw(st.sampled_from(CONVERSATIONS)), None, 0)
    if pick < 14:
        kind = ("conversation_closed", "chat_rated", "notice")[pick - 11]
        return (kind, at, draw(st.sampled_from(CONVERSATIONS)), None, draw(st.integers(1, 5)))
    if pick < 16:
        return ("order_placed", at, None, draw(st.sampled_from(BUYERS)), 0)
    kind = ("milestone_created", "milestone_submitted", "milestone_accepted", "milestone_rejected")[pick - 16]
    return (kind, at, draw(st.sampled_from(MILESTONES)), None, draw(moments))


@pytest.mark.usefixtures("parties")
@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(zone=st.sampled_from(ZONES), base=st.sampled_from(BASES), calendar=calendars(),
       log=st.lists(log_events(), min_size=20, max_size=80),
       window_pick=st.integers(0, 3), as_of_minutes=st.one_of(st.just(SPAN + 24 * 60), st.integers(0, SPAN + 24 * 60)),
       attribution_minutes=st.sampled_from((60, 24 * 60)), rebuild_at=st.floats(0, 1))
async def test_sql_metrics_equal_the_reference(parties, zone, base, calendar, log, window_pick, as_of_minutes,
                                              attribution_minutes, rebuild_at):
    """Also for a contract's chat metrics read both ways (sla.sql, "chat steps"): with
    the chat steps rebuilt part way through the log (the conversations appended to
    after it read from the log, the others from their steps), then all rebuilt."""
    weekdays, holiday_offsets = calendar
    base_us = to_us(datetime.fromisoformat(base).replace(tzinfo=timezone.utc))
    base_day = from_us(base_us).date()
    holidays = [(base_day + timedelta(days=offset)).isoformat() for offset in holiday_offsets]
    contract = await make_contract(parties, zone=zone, calendar={"weekdays": weekdays, "holidays": holidays},
                                   attribution_seconds=attribution_minutes * 60)
    shop = parties[0].org_id
    chat_events, orders = [], []
    # Buyer ids of this contract only: the shop's orders are shared by its contracts.
    log = [(kind, offset, ref, f"{contract.id.hex[:8]}-{buyer}" if buyer else buyer, extra)
           for kind, offset, ref, buyer, extra in log]
    async with atomic():
        for number, (kind, offset, ref, buyer, extra) in enumerate(log):
            if number == int(rebuild_at * len(log)):
                await rebuild_stale_steps()
            at = from_us(base_us + offset)
            if kind == "order_placed":
                event_id = await append_event(kind, shop=shop, at=at, buyer=buyer, order=f"{contract.id}-{number}",
                                              amount=100, currency="CNY")
                orders.append({"id": event_id, "kind": kind, "at": base_us + offset, "buyer": buyer})
                continue
            fields = {"milestone": ref} if kind.startswith("milestone") else {"conversation": ref}
            if kind == "buyer_message":
                fields["buyer"] = buyer
            if kind == "chat_rated":
                fields["rating"] = extra
            if kind == "milestone_created":
                fields["due"] = from_us(base_us + extra)
            event_id = await append_event(kind, shop=shop, contract=contract.id, at=at, **fields)
            chat_events.append({"id": event_id, "kind": kind, "at": base_us + offset, "buyer": fields.get("buyer"),
                                "conversation": fields.get("conversation"), "milestone": fields.get("milestone"),
                                "rating": fields.get("rating"), "due": base_us + extra})

    # A local day of the log, or the whole log's span as one window cut to it.
    windows = periods(zone, "day", base_us, base_us + SPAN * MINUTE) + [(base_us, base_us + SPAN * MINUTE)]
    start, end = windows[min(window_pick, len(windows) - 1)] if window_pick < 3 else windows[-1]
    as_of = start + as_of_minutes * MINUTE
    engine_calendar = CoverageCalendar.from_json(zone, {"weekdays": weekdays, "holidays": holidays})
    day_numbers = {"mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6, "sun": 7}
    reference_calendar = reference.Calendar(
        zone, {day_numbers[name]: [(_seconds(a), _seconds(b)) for a, b in windows_of_day]
               for name, windows_of_day in weekdays.items()},
        {date.fromisoformat(day) for day in holidays})
    scope = Scope.live(contract.id, shop)

    for rebuilt in (False, True):
        if rebuilt:
            await rebuild_stale_steps()
        for metric, samples in (
            ("first_response_time", reference.first_response(chat_events, reference_calendar, start, end, as_of)),
            ("next_response_time", reference.next_response(chat_events, reference_calendar, start, end, as_of)),
            ("resolution_time", reference.resolution(chat_events, reference_calendar, start, end, as_of)),
        ):
            result = await metrics.measure(metric, scope, engine_calendar, start, end, as_of)
            expected = reference.statistics(samples)
            assert result.sample_size == expected["n"], (metric, rebuilt)
            event(f"{metric} has samples: {expected['n'] > 0}")
            for statistic in ("mean", "median", "p90"):
                assert same(result.value(statistic), expected[statistic]), (metric, statistic, rebuilt)

        ratings = reference.statistics(reference.attitude(chat_events, start, end, as_of), scale=1)
        result = await metrics.service_attitude(scope, start, end, as_of)
        assert result.sample_size == ratings["n"], rebuilt
        event(f"service_attitude has samples: {ratings['n'] > 0}")
        for statistic in ("mean", "median", "p90"):
            assert same(result.value(statistic), ratings[statistic]), ("service_attitude", statistic, rebuilt)

    for metric, (counted, hits) in (
        ("inquiry_conversion_rate",
         reference.conversion(chat_events, orders, start, end, as_of, attribution_minutes * 60)),
        ("milestone_on_time_rate", reference.on_time(chat_events, start, end, as_of)),
        ("first_pass_acceptance_rate", reference.first_pass(chat_events, start, end, as_of)),
    ):
        result = await metrics.measure(metric, scope, engine_calendar, start, end, as_of, attribution_minutes * 60)
        assert (result.sample_size, result.hits) == (counted, hits), metric
        event(f"{metric} has samples: {counted > 0}")


def same(value, expected) -> bool:
    if expected is None or value is None:
        return value is None and expected is None
    return value == pytest.approx(expected, rel=1e-12, abs=1e-9)


def _seconds(clock: str) -> int:
    hours, minutes = clock.split(":")
    return int(hours) * 3600 + int(minutes) * 60
