"""Every SLA metric on hand-built event logs with answers worked out by hand
(DESIGN.md section 4), on the engine of this run."""

from __future__ import annotations

import pytest

from sla import metrics
from sla.calendar import CoverageCalendar
from sla.metrics import Scope
from tests.integration.sla.conftest import OFFICE_HOURS, Log, make_contract


def scope_of(contract) -> Scope:
    return Scope.live(contract.id, contract.merchant)


def calendar_of(contract) -> CoverageCalendar:
    return CoverageCalendar.from_json(contract.time_zone, contract.calendar)


async def day(log: Log, metric: str, date: str, as_of: str | None = None, statistic: str | None = None):
    start = log.us(f"{date}T00:00")
    end = start + 86_400_000_000
    result = await metrics.measure(metric, scope_of(log.contract), calendar_of(log.contract), start, end,
                                   log.us(as_of) if as_of else end, log.contract.attribution_window_seconds)
    return result


async def test_message_at_2359_is_answered_at_0901_the_next_open_day_after_a_holiday(parties):
    calendar = {**OFFICE_HOURS, "holidays": ["2026-10-02"]}
    log = Log(await make_contract(parties, calendar=calendar))
    await log.add("buyer_message", "2026-10-01T23:59", conversation="c1", buyer="b1")  # Thursday
    await log.add("agent_reply", "2026-10-05T09:01", conversation="c1", agent="a1")  # Monday after the holiday
    result = await day(log, "first_response_time", "2026-10-01", as_of="2026-10-06T00:00")
    assert (result.sample_size, result.value("mean")) == (1, 60.0)
    # Closed as of the window's end, the clock ran to its end: outside office hours, 0 s.
    at_close = await day(log, "first_response_time", "2026-10-01")
    assert (at_close.sample_size, at_close.value("mean")) == (1, 0.0)


async def test_window_to_midnight_counts_the_last_minute_and_the_first_of_the_next_day(parties):
    calendar = {"weekdays": {d: [["09:00", "24:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}}
    log = Log(await make_contract(parties, calendar=calendar))
    await log.add("buyer_message", "2026-10-01T23:59", conversation="c1", buyer="b1")
    await log.add("agent_reply", "2026-10-02T09:01", conversation="c1")
    result = await day(log, "first_response_time", "2026-10-01", as_of="2026-10-03T00:00")
    assert result.value("mean") == 120.0


async def test_business_hours_are_the_contract_zone_not_the_server_zone(parties):
    log = Log(await make_contract(parties, zone="Europe/London", calendar=OFFICE_HOURS))
    # 08:30 London: the clock starts at 09:00 London time and stops at 09:10.
    await log.add("buyer_message", "2026-01-06T08:30", conversation="c1", buyer="b1")
    await log.add("agent_reply", "2026-01-06T09:10", conversation="c1")
    result = await day(log, "first_response_time", "2026-01-06")
    assert result.value("mean") == 600.0


async def test_dst_spring_forward_and_fall_back_count_elapsed_time(parties):
    calendar = {"weekdays": {d: [["01:00", "04:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}}
    log = Log(await make_contract(parties, zone="America/New_York", calendar=calendar))
    await log.add("buyer_message", "2026-03-08T00:30", conversation="spring", buyer="b1")
    await log.add("agent_reply", "2026-03-08T05:00", conversation="spring")
    await log.add("buyer_message", "2026-11-01T00:30", conversation="autumn", buyer="b2")
    await log.add("agent_reply", "2026-11-01T05:00", conversation="autumn")
    spring = await day(log, "first_response_time", "2026-03-08")
    autumn = await day(log, "first_response_time", "2026-11-01")
    assert spring.value("mean") == 2 * 3600.0
    assert autumn.value("mean") == 4 * 3600.0


async def test_a_reply_stored_after_a_message_of_the_same_second_answers_it_in_zero(parties):
    log = Log(await make_contract(parties))
    await log.add("agent_reply", "2026-03-02T10:00:00", conversation="c1")  # before the buyer's: starts nothing
    await log.add("buyer_message", "2026-03-02T10:00:00", conversation="c1", buyer="b1")
    await log.add("agent_reply", "2026-03-02T10:00:00", conversation="c1")
    await log.add("buyer_message", "2026-03-02T11:00:00", conversation="c2", buyer="b2")
    await log.add("notice", "2026-03-02T11:00:05", conversation="c2")  # an automatic notice is no reply
    await log.add("agent_reply", "2026-03-02T11:00:30", conversation="c2")
    result = await day(log, "first_response_time", "2026-03-02")
    assert (result.sample_size, result.value("mean"), result.value("median")) == (2, 15.0, 0.0)


async def test_a_close_before_any_reply_stops_the_clock_and_an_unanswered_clock_runs_to_t(parties):
    log = Log(await make_contract(parties))
    await log.add("buyer_message", "2026-03-02T10:00:00", conversation="closed", buyer="b1")
    await log.add("conversation_closed", "2026-03-02T10:00:40", conversation="closed")
    await log.add("agent_reply", "2026-03-02T10:05:00", conversation="closed")
    await log.add("buyer_message", "2026-03-02T23:00:00", conversation="open", buyer="b2")
    result = await day(log, "first_response_time", "2026-03-02", as_of="2026-03-02T23:10:00")
    assert sorted([result.value("median"), result.value("p90")]) == [40.0, 600.0]
    assert result.value("mean") == 320.0
    # Ignoring a buyer never helps: later T, longer clock.
    later = await day(log, "first_response_time", "2026-03-02", as_of="2026-03-03T01:00:00")
    assert later.value("p90") == 7200.0


async def test_next_response_clocks_start_after_a_reply_and_are_not_restarted(parties):
    log = Log(await make_contract(parties))
    await log.add("buyer_message", "2026-03-02T10:00:00", conversation="c1", buyer="b1")
    await log.add("agent_reply", "2026-03-02T10:00:10", conversation="c1")
    await log.add("buyer_message", "2026-03-02T10:01:00", conversation="c1", buyer="b1")  # starts a clock
    await log.add("buyer_message", "2026-03-02T10:01:30", conversation="c1", buyer="b1")  # does not restart it
    await log.add("notice", "2026-03-02T10:01:40", conversation="c1")
    await log.add("agent_reply", "2026-03-02T10:02:00", conversation="c1")  # 60 s
    await log.add("conversation_closed", "2026-03-02T10:03:00", conversation="c1")
    await log.add("buyer_message", "2026-03-02T10:10:00", conversation="c1", buyer="b1")  # after a close: starts
    await log.add("agent_reply", "2026-03-02T10:10:05", conversation="c1")  # 5 s
    result = await day(log, "next_response_time", "2026-03-02")
    assert (result.sample_size, result.value("mean"), result.value("median"), result.value("p90")) == (
        2, 32.5, 5.0, 60.0)


async def test_nearest_rank_percentiles_and_an_empty_window(parties):
    log = Log(await make_contract(parties))
    for index in range(10):  # first responses of 10, 20, ... 100 s
        await log.add("buyer_message", f"2026-03-03T10:{index:02d}:00", conversation=f"c{index}", buyer=f"b{index}")
        await log.add("agent_reply", f"2026-03-03T10:{index:02d}:{(index + 1) * 10 % 60:02d}"
                      if index < 5 else f"2026-03-03T10:{index + 1:02d}:{(index + 1) * 10 - 60:02d}",
                      conversation=f"c{index}")
    result = await day(log, "first_response_time", "2026-03-03")
    assert (result.sample_size, result.value("median"), result.value("p90"), result.value("mean")) == (
        10, 50.0, 90.0, 55.0)
    empty = await day(log, "first_response_time", "2026-03-04")
    assert empty.sample_size == 0 and empty.value("mean") is None and empty.value("p90") is None


async def test_inquiry_conversion_counts_orders_in_the_attribution_window_from_the_first_message(parties):
    log = Log(await make_contract(parties))
    await log.add("order_placed", "2026-03-02T08:00", buyer="early", order="o0", amount=100, currency="CNY")
    for buyer in ("quick", "slow", "early", "later"):
        await log.add("buyer_message", "2026-03-02T09:00", conversation=f"c-{buyer}", buyer=buyer)
    await log.add("buyer_message", "2026-03-02T20:00", conversation="c-later2", buyer="later")  # first stays 09:00
    await log.add("order_placed", "2026-03-03T08:59", buyer="quick", order="o1", amount=100, currency="CNY")
    await log.add("order_placed", "2026-03-03T09:00", buyer="slow", order="o2", amount=100, currency="CNY")
    await log.add("order_placed", "2026-03-03T10:00", buyer="later", order="o3", amount=100, currency="CNY")
    result = await day(log, "inquiry_conversion_rate", "2026-03-02", as_of="2026-03-05T00:00")
    assert (result.sample_size, result.value("rate")) == (4, 0.25)
    # As of the window's end no order had come yet.
    assert (await day(log, "inquiry_conversion_rate", "2026-03-02")).value("rate") == 0.0


async def test_service_attitude_counts_each_conversation_once_with_its_latest_rating_in_its_last_close(parties):
    log = Log(await make_contract(parties))
    await log.add("buyer_message", "2026-03-02T09:00", conversation="c1", buyer="b1")
    await log.add("conversation_closed", "2026-03-02T09:10", conversation="c1")
    await log.add("chat_rated", "2026-03-02T09:11", conversation="c1", rating=2)
    await log.add("conversation_closed", "2026-03-03T09:10", conversation="c1")  # reopened, closed again
    await log.add("chat_rated", "2026-03-03T09:11", conversation="c1", rating=5)
    await log.add("conversation_closed", "2026-03-03T10:00", conversation="unrated")
    await log.add("conversation_closed", "2026-03-03T11:00", conversation="c3")
    await log.add("chat_rated", "2026-03-03T11:01", conversation="c3", rating=4)
    # As of the 2nd's end its close was the last one, with the rating 2 given then.
    first_day = await day(log, "service_attitude", "2026-03-02")
    assert (first_day.sample_size, first_day.value("mean")) == (1, 2.0)
    # Once it is closed again on the 3rd it counts there, with its latest rating.
    assert (await day(log, "service_attitude", "2026-03-02", as_of="2026-03-04T00:00")).sample_size == 0
    result = await day(log, "service_attitude", "2026-03-03")
    assert (result.sample_size, result.value("mean")) == (2, 4.5)


async def test_resolution_time_runs_from_the_first_buyer_message_to_the_last_close(parties):
    log = Log(await make_contract(parties, calendar=OFFICE_HOURS))
    await log.add("buyer_message", "2026-03-02T17:00", conversation="c1", buyer="b1")  # Monday
    await log.add("conversation_closed", "2026-03-02T17:30", conversation="c1")
    await log.add("buyer_message", "2026-03-03T09:00", conversation="c1", buyer="b1")  # reopened
    await log.add("conversation_closed", "2026-03-03T10:00", conversation="c1")
    await log.add("conversation_closed", "2026-03-03T10:00", conversation="no-buyer")
    await log.add("buyer_message", "2026-03-03T11:00", conversation="never-closed", buyer="b2")
    assert (await day(log, "resolution_time", "2026-03-02")).value("mean") == 1800.0  # as of the 2nd's end
    # Closed again on the 3rd: its last close moves it there.
    assert (await day(log, "resolution_time", "2026-03-02", as_of="2026-03-04T00:00")).sample_size == 0
    result = await day(log, "resolution_time", "2026-03-03")
    assert (result.sample_size, result.value("mean")) == (1, 2 * 3600.0)  # 17:00-18:00 + 09:00-10:00


async def test_milestone_on_time_and_first_pass_acceptance(parties):
    log = Log(await make_contract(parties))
    await log.add("milestone_created", "2026-03-01T09:00", milestone="m1", due="2026-03-05T18:00")
    await log.add("milestone_created", "2026-03-01T09:00", milestone="m2", due="2026-03-05T12:00")
    await log.add("milestone_created", "2026-03-01T09:00", milestone="m3", due="2026-03-05T20:00")
    await log.add("milestone_submitted", "2026-03-05T18:00", milestone="m1")  # on time, at the due time
    await log.add("milestone_rejected", "2026-03-05T19:00", milestone="m1")
    await log.add("milestone_submitted", "2026-03-05T19:30", milestone="m1")
    await log.add("milestone_submitted", "2026-03-05T13:00", milestone="m2")  # late
    await log.add("milestone_accepted", "2026-03-05T21:00", milestone="m1")
    await log.add("milestone_accepted", "2026-03-05T21:00", milestone="m2")
    await log.add("milestone_rejected", "2026-03-05T22:00", milestone="m2")  # after acceptance: final already
    on_time = await day(log, "milestone_on_time_rate", "2026-03-05")
    assert (on_time.sample_size, on_time.value("rate")) == (3, pytest.approx(1 / 3))  # m3 never submitted: late
    assert (await day(log, "milestone_on_time_rate", "2026-03-05", as_of="2026-03-05T19:00")).sample_size == 2
    first_pass = await day(log, "first_pass_acceptance_rate", "2026-03-05")
    assert (first_pass.sample_size, first_pass.value("rate")) == (2, 0.5)
