"""Evaluation stores a versioned measurement per target and window, only when the
result changed, raises and clears breaches; the report gives every metric per
window, on live events and on the shop's history beside them."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from fuwu.db import atomic
from fuwu.errors import InvalidInput
from sla.services.evaluation import evaluate_window, report
from sla.services.events import import_history
from sla.tables import Breach, Measurement, SlaTarget
from tests.integration.sla.conftest import Log, make_contract

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


async def add_target(contract, metric="first_response_time", statistic="mean", comparator="<=", target=30.0,
                     window="day", credit_percent=5.0):
    async with atomic():
        row = SlaTarget(contract=contract.id, metric=metric, statistic=statistic, comparator=comparator,
                        target=target, window=window, weight=50, credit_percent=credit_percent)
        await row.save()
    return row


DAY = (local("2026-03-02T00:00"), local("2026-03-03T00:00"))


async def test_late_reply_gives_a_new_version_and_recomputing_stores_nothing(parties):
    contract = await make_contract(parties, period_fee=1_000_000)
    target = await add_target(contract, target=50.0)
    log = Log(contract)
    await log.add("buyer_message", "2026-03-02T10:00:00", conversation="c1", buyer="b1")
    await log.add("agent_reply", "2026-03-02T10:00:20", conversation="c1")
    await log.add("buyer_message", "2026-03-02T23:59:00", conversation="c2", buyer="b2")

    closed = await evaluate_window(contract.id, target.id, DAY, as_of=DAY[1])
    assert (closed["version"], closed["value"], closed["sample_size"], closed["outcome"]) == (1, 40.0, 2, "met")
    assert closed["changed"]
    same = await evaluate_window(contract.id, target.id, DAY, as_of=DAY[1])
    assert not same["changed"] and same["version"] == 1

    # The 23:59 message is answered at 00:02 the next day: late data for the closed window.
    await log.add("agent_reply", "2026-03-03T00:02:00", conversation="c2")
    later = local("2026-03-03T12:00")
    again = await evaluate_window(contract.id, target.id, DAY, as_of=later)
    assert (again["version"], again["value"], again["outcome"]) == (2, 100.0, "breached")
    assert (await evaluate_window(contract.id, target.id, DAY, as_of=later))["changed"] is False
    versions = await Measurement.select(Measurement.version).where(Measurement.target == target.id)
    assert sorted(row["version"] for row in versions) == [1, 2]

    breach = await Breach.select().where(Breach.target == target.id).first()
    assert (breach["value"], breach["credit_amount"], breach["cleared_at"]) == (100.0, 50_000, None)

    # The latest version equals a report over that window as of the same T.
    figures = await report(contract_id=contract.id, start=DAY[0], end=DAY[1] + timedelta(hours=12),
                           window_size="day", present=later)
    first_day = figures["windows"][0]
    row = next(r for r in first_day["metrics"] if r["metric"] == "first_response_time")
    assert (row["value"], row["sample_size"], row["met"], row["target"]) == (100.0, 2, False, 50.0)


async def test_a_window_without_samples_is_neither_met_nor_breached(parties):
    contract = await make_contract(parties)
    target = await add_target(contract, metric="inquiry_conversion_rate", statistic="rate", comparator=">=",
                              target=0.5)
    result = await evaluate_window(contract.id, target.id, DAY)
    assert (result["value"], result["sample_size"], result["outcome"]) == (None, 0, "none")
    assert await Breach.select().where(Breach.target == target.id).first() is None


async def test_a_breach_is_cleared_when_a_later_version_meets_the_target(parties):
    contract = await make_contract(parties)
    target = await add_target(contract, metric="inquiry_conversion_rate", statistic="rate", comparator=">=",
                              target=0.5)
    log = Log(contract)
    await log.add("buyer_message", "2026-03-02T22:00", conversation="c1", buyer="b1")
    assert (await evaluate_window(contract.id, target.id, DAY))["outcome"] == "breached"
    await log.add("order_placed", "2026-03-03T08:00", buyer="b1", order=f"{contract.id}-o1", amount=100,
                  currency="CNY")
    met = await evaluate_window(contract.id, target.id, DAY, as_of=local("2026-03-04T00:00"))
    assert (met["value"], met["outcome"], met["version"]) == (1.0, "met", 2)
    breach = await Breach.select().where(Breach.target == target.id).first()
    assert breach["cleared_at"] is not None


async def test_report_sets_the_shops_history_beside_the_live_figures(parties):
    contract = await make_contract(parties)
    await add_target(contract, target=30.0)
    log = Log(contract)
    await log.add("buyer_message", "2026-03-02T10:00:00", conversation="live1", buyer="b1")
    await log.add("agent_reply", "2026-03-02T10:00:25", conversation="live1")
    await log.add("buyer_message", "2026-03-03T10:00:00", conversation="live2", buyer="b2")
    await log.add("agent_reply", "2026-03-03T10:00:24", conversation="live2")
    history = "\n".join([
        '{"type": "buyer_message", "at": "2026-02-02T10:00:00+08:00", "conversation": "h1", "buyer": "x"}',
        f'{{"type": "agent_reply", "at": "2026-02-02T10:01:00+08:00", "conversation": "h1", "agent": "old"}}',
    ])
    await import_history(contract.merchant, [history])
    live = await report(contract_id=contract.id, start=local("2026-03-02T00:00"), end=local("2026-03-04T00:00"),
                        window_size="day", present=local("2026-03-10T00:00"))
    assert [w["start"] for w in live["windows"]] == [local("2026-03-02T00:00"), local("2026-03-03T00:00")]
    frt = [next(r for r in w["metrics"] if r["metric"] == "first_response_time") for w in live["windows"]]
    assert [(r["value"], r["met"]) for r in frt] == [(25.0, True), (24.0, True)]
    assert {r["metric"] for r in live["windows"][0]["metrics"]} >= {"next_response_time", "service_attitude",
                                                                     "milestone_on_time_rate"}
    baseline = await report(contract_id=contract.id, start=local("2026-02-01T00:00"),
                            end=local("2026-03-01T00:00"), window_size="month", source="history",
                            present=local("2026-03-10T00:00"))
    row = next(r for r in baseline["windows"][0]["metrics"] if r["metric"] == "first_response_time")
    assert (row["value"], row["sample_size"], row["met"]) == (60.0, 1, False)


async def test_report_as_of_the_present_runs_open_clocks_to_now(parties):
    contract = await make_contract(parties)
    log = Log(contract)
    await log.add("buyer_message", "2026-03-02T10:00:00", conversation="c1", buyer="b1")
    running = await report(contract_id=contract.id, start=DAY[0], end=DAY[1], window_size="day",
                           present=local("2026-03-02T10:05:00"))
    row = next(r for r in running["windows"][0]["metrics"] if r["metric"] == "first_response_time")
    assert (row["value"], row["met"], row["target"]) == (300.0, None, None)
    assert running["as_of"] == local("2026-03-02T10:05:00")


@pytest.mark.parametrize("arguments, words", [
    ({"window_size": "year"}, "day, week or month"),
    ({"end": DAY[0]}, "after its start"),
    ({"source": "both"}, "live or history"),
])
async def test_bad_report_requests_are_refused(parties, arguments, words):
    contract = await make_contract(parties)
    with pytest.raises(InvalidInput) as caught:
        await report(**{"contract_id": contract.id, "start": DAY[0], "end": DAY[1], "window_size": "day",
                        **arguments})
    assert words in caught.value.detail


async def test_a_shop_without_a_contract_gets_its_history_baseline_around_the_clock():
    from tests.conftest import new_actor

    shop = (await new_actor("merchant")).org_id
    history = "\n".join([
        '{"type": "buyer_message", "at": "2026-02-02T23:00:00+08:00", "conversation": "h1", "buyer": "x"}',
        '{"type": "agent_reply", "at": "2026-02-03T01:00:00+08:00", "conversation": "h1", "agent": "night"}',
        '{"type": "order_placed", "at": "2026-02-03T02:00:00+08:00", "buyer": "x", "order": "o1", "amount": 5, '
        '"currency": "CNY"}',
    ])
    await import_history(shop, [history])
    figures = await report(shop_id=shop, source="history", start=local("2026-02-01T00:00"),
                           end=local("2026-03-01T00:00"), window_size="week", present=local("2026-03-10T00:00"))
    assert len(figures["windows"]) == 5  # the ISO weeks meeting February, cut to it
    week = next(w for w in figures["windows"] if w["start"] == local("2026-02-02T00:00"))
    rows = {r["metric"]: r for r in week["metrics"]}
    assert rows["first_response_time"]["value"] == 7200.0
    assert (rows["inquiry_conversion_rate"]["value"], rows["inquiry_conversion_rate"]["met"]) == (1.0, None)
    with pytest.raises(InvalidInput):
        await report(shop_id=shop, source="live", start=DAY[0], end=DAY[1], window_size="day")
