"""The evaluation job closes each ended window once, re-evaluates late data into a new
version with its breach, warns of targets at risk once per target and window, and
tells both parties once; running it twice changes nothing.

The job's contracts start in 2024 and the job runs as of moments in 2024, so that
the contracts of other tests (which start later) are not yet due."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from fuwu.db import atomic
from fuwu.tables import Notification
from sla.calendar import CoverageCalendar, to_us
from sla.metrics import MetricResult
from sla.services import risk
from sla.services.closing import close_due_windows
from sla.tables import Breach, Contract, Measurement, SlaTarget, SlaWarning
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


async def windows_of(target) -> list[tuple[datetime, int, str]]:
    rows = await Measurement.select(Measurement.window_start, Measurement.version, Measurement.outcome).where(
        Measurement.target == target.id).order_by(Measurement.window_start).order_by(Measurement.version)
    return [(row["window_start"].astimezone(SHANGHAI).strftime("%m-%d"), row["version"], row["outcome"])
            for row in rows]


async def told(contract, kind: str) -> dict:
    """How many notifications of `kind` about the contract each party's people got."""
    rows = await Notification.select(Notification.organisation, Notification.user).where(
        (Notification.link == f"/contracts/{contract.id}") & (Notification.kind == kind))
    counts: dict = {}
    for row in rows:
        counts[row["organisation"]] = counts.get(row["organisation"], 0) + 1
    return counts


async def test_each_closed_window_is_measured_once_and_late_data_gives_a_new_version(parties):
    merchant, provider = parties
    contract = await make_contract(parties, starts=local("2024-03-04T00:00"), period_fee=1_000_000)
    target = await add_target(contract, target=30.0)
    log = Log(contract)
    await log.add("buyer_message", "2024-03-04T10:00:00", conversation="c1", buyer="b1")
    await log.add("agent_reply", "2024-03-04T10:00:20", conversation="c1")  # 20 s: met
    await log.add("buyer_message", "2024-03-05T10:00:00", conversation="c2", buyer="b2")
    await log.add("agent_reply", "2024-03-05T10:01:00", conversation="c2")  # 60 s: breached
    await log.add("buyer_message", "2024-03-06T23:59:50", conversation="c3", buyer="b3")  # 10 s at the day's end

    first = await close_due_windows(local("2024-03-07T00:00:30"))
    assert first["evaluated"] >= 3
    assert await windows_of(target) == [("03-04", 1, "met"), ("03-05", 1, "breached"), ("03-06", 1, "met")]
    assert await told(contract, "sla_breach") == {merchant.org_id: 1, provider.org_id: 1}

    # Run again at the same moment, and later with nothing new: nothing is stored or told.
    await close_due_windows(local("2024-03-07T00:00:30"))
    await close_due_windows(local("2024-03-07T00:00:40"))
    assert len(await windows_of(target)) == 3
    assert await told(contract, "sla_breach") == {merchant.org_id: 1, provider.org_id: 1}

    # The 23:59:50 message is answered at 00:01:00: late data for the closed day.
    await log.add("agent_reply", "2024-03-07T00:01:00", conversation="c3")
    await close_due_windows(local("2024-03-07T12:00"))
    assert await windows_of(target) == [("03-04", 1, "met"), ("03-05", 1, "breached"), ("03-06", 1, "met"),
                                        ("03-06", 2, "breached")]
    latest = await Measurement.select().where((Measurement.target == target.id) & (Measurement.version == 2)).first()
    assert (latest["value"], latest["as_of"]) == (70.0, local("2024-03-07T00:01:00"))
    breaches = await Breach.select(Breach.window_start, Breach.credit_amount).where(
        Breach.target == target.id).order_by(Breach.window_start)
    assert [(b["window_start"], b["credit_amount"]) for b in breaches] == [
        (local("2024-03-05T00:00"), 50_000), (local("2024-03-06T00:00"), 50_000)]
    assert await told(contract, "sla_breach") == {merchant.org_id: 2, provider.org_id: 2}

    # Twice more, later (the 03-07 window closes meanwhile): the earlier windows stay as they are.
    await close_due_windows(local("2024-03-08T00:00:10"))
    await close_due_windows(local("2024-03-08T00:00:10"))
    assert [w for w in await windows_of(target) if w[0] != "03-07"] == [
        ("03-04", 1, "met"), ("03-05", 1, "breached"), ("03-06", 1, "met"), ("03-06", 2, "breached")]
    assert ("03-07", 1, "none") in await windows_of(target)
    assert await told(contract, "sla_breach") == {merchant.org_id: 2, provider.org_id: 2}


async def test_a_late_order_clears_the_breach_and_both_parties_hear_it_once(parties):
    merchant, provider = parties
    contract = await make_contract(parties, starts=local("2024-04-01T00:00"))
    target = await add_target(contract, metric="inquiry_conversion_rate", statistic="rate", comparator=">=",
                              target=0.5)
    log = Log(contract)
    await log.add("buyer_message", "2024-04-01T22:00", conversation="c1", buyer="b1")
    await close_due_windows(local("2024-04-02T00:00:01"))
    assert await windows_of(target) == [("04-01", 1, "breached")]
    await log.add("order_placed", "2024-04-02T08:00", buyer="b1", order=f"{contract.id}-o1", amount=100,
                  currency="CNY")
    await close_due_windows(local("2024-04-02T09:00"))
    await close_due_windows(local("2024-04-02T09:00"))
    assert await windows_of(target) == [("04-01", 1, "breached"), ("04-01", 2, "met")]
    breach = await Breach.select(Breach.cleared_at).where(Breach.target == target.id).first()
    assert breach["cleared_at"] is not None
    assert await told(contract, "sla_breach") == {merchant.org_id: 1, provider.org_id: 1}
    assert await told(contract, "sla_breach_cleared") == {merchant.org_id: 1, provider.org_id: 1}


async def test_a_completed_contract_gets_its_last_windows_and_nothing_after_its_end(parties):
    contract = await make_contract(parties, starts=local("2024-05-06T00:00"))
    async with atomic():
        await Contract.update({Contract.status: "completed", Contract.ends_at: local("2024-05-08T12:00")}).where(
            Contract.id == contract.id)
    target = await add_target(contract)
    log = Log(contract)
    await log.add("buyer_message", "2024-05-08T10:00:00", conversation="c1", buyer="b1")
    await log.add("agent_reply", "2024-05-08T10:00:10", conversation="c1")
    await close_due_windows(local("2024-05-12T00:00"))
    # Its windows up to the day it ended (that day closes at midnight), none after.
    assert await windows_of(target) == [("05-06", 1, "none"), ("05-07", 1, "none"), ("05-08", 1, "met")]


async def test_a_target_at_risk_in_its_running_window_is_warned_of_once(parties):
    merchant, provider = parties
    contract = await make_contract(parties, starts=local("2024-06-03T00:00"))
    target = await add_target(contract, target=30.0, window="week")
    log = Log(contract)
    await log.add("buyer_message", "2024-06-05T10:00:00", conversation="c1", buyer="b1")
    await log.add("agent_reply", "2024-06-05T10:02:00", conversation="c1")  # 120 s against 30 s
    # Wednesday noon: under half of the week gone, and at the pace so far (1 sample in 2.5 days,
    # at most 2 more), 120 s / 3 = 40 s > 30 s: it cannot come back.
    await close_due_windows(local("2024-06-05T12:00"))
    warnings = await SlaWarning.select().where(SlaWarning.target == target.id)
    assert [(w["reason"], w["value"], w["window_start"]) for w in warnings] == [
        ("out_of_reach", 120.0, local("2024-06-03T00:00"))]
    assert await told(contract, "sla_at_risk") == {merchant.org_id: 1, provider.org_id: 1}
    await close_due_windows(local("2024-06-06T12:00"))  # behind now, but warned already
    await close_due_windows(local("2024-06-06T12:00"))
    assert len(await SlaWarning.select().where(SlaWarning.target == target.id)) == 1
    assert await told(contract, "sla_at_risk") == {merchant.org_id: 1, provider.org_id: 1}
    # The next week is a new window: a new warning when it is at risk again.
    await log.add("buyer_message", "2024-06-13T10:00:00", conversation="c2", buyer="b2")
    await log.add("agent_reply", "2024-06-13T10:05:00", conversation="c2")
    await close_due_windows(local("2024-06-13T12:00"))
    reasons = await SlaWarning.select(SlaWarning.reason, SlaWarning.window_start).where(
        SlaWarning.target == target.id).order_by(SlaWarning.window_start)
    assert [(r["reason"], r["window_start"]) for r in reasons] == [
        ("out_of_reach", local("2024-06-03T00:00")), ("behind", local("2024-06-10T00:00"))]
    assert await told(contract, "sla_at_risk") == {merchant.org_id: 2, provider.org_id: 2}


# --- the rule, on figures ----------------------------------------------------------------

ALWAYS = CoverageCalendar.always("Asia/Shanghai")
DAY_START, DAY_END = to_us(local("2024-07-01T00:00")), to_us(local("2024-07-02T00:00"))


def rule(target: dict, result: MetricResult, at: str, calendar: CoverageCalendar = ALWAYS) -> str | None:
    return risk.at_risk({"comparator": "<=", "target": 30.0, **target}, result, DAY_START, DAY_END,
                        to_us(local(at)), calendar)


def test_the_at_risk_rule():
    mean = {"metric": "first_response_time", "statistic": "mean"}
    # Meets the target: never at risk; no samples: never.
    assert rule(mean, MetricResult("first_response_time", 2, total=40.0), "2024-07-01T20:00") is None
    assert rule(mean, MetricResult("first_response_time", 0), "2024-07-01T20:00") is None
    # Misses it with half the window gone: behind.
    assert rule(mean, MetricResult("first_response_time", 1, total=40.0), "2024-07-01T12:00") == "behind"
    # Before half: out of reach only if even perfect samples at the pace so far cannot help.
    # 06:00: 1 sample in 6 h, at most 3 more in the 18 h left: best 600/4 = 150 s.
    assert rule(mean, MetricResult("first_response_time", 1, total=600.0), "2024-07-01T06:00") == "out_of_reach"
    # 40 s: best 40/4 = 10 s, it can still come back.
    assert rule(mean, MetricResult("first_response_time", 1, total=40.0), "2024-07-01T06:00") is None
    # Business hours: nothing of the calendar gone yet, so no bound and no verdict.
    office = CoverageCalendar.from_json("Asia/Shanghai", {"weekdays": {"mon": [["09:00", "18:00"]]}})
    assert rule(mean, MetricResult("first_response_time", 1, total=600.0), "2024-07-01T08:00", office) is None
    # p90 over 10 samples, at 06:00 (at most 30 more): with only the p90 over the target (2 or
    # more samples over it), 30 good samples bring it back; with the median over it too (6 or
    # more over it), the p90 of 40 samples, rank 36, is past the 34 that can be under it.
    p90 = {"metric": "first_response_time", "statistic": "p90"}
    assert rule(p90, MetricResult("first_response_time", 10, total=1.0, p50=1.0, p90=100.0),
                "2024-07-01T06:00") is None
    assert rule(p90, MetricResult("first_response_time", 10, total=1.0, p50=100.0, p90=100.0),
                "2024-07-01T06:00") == "out_of_reach"
    # Rates: on-time 0 of 4 at 06:00, at most 12 more: 12/16 = 0.75 < 0.9.
    on_time = {"metric": "milestone_on_time_rate", "statistic": "rate", "comparator": ">=", "target": 0.9}
    assert rule(on_time, MetricResult("milestone_on_time_rate", 4, hits=0), "2024-07-01T06:00") == "out_of_reach"
    assert rule(on_time, MetricResult("milestone_on_time_rate", 4, hits=3), "2024-07-01T06:00") is None
    # Conversion: a buyer so far may still order, so only "behind" applies.
    conversion = {"metric": "inquiry_conversion_rate", "statistic": "rate", "comparator": ">=", "target": 0.9}
    assert rule(conversion, MetricResult("inquiry_conversion_rate", 4, hits=0), "2024-07-01T06:00") is None
    assert rule(conversion, MetricResult("inquiry_conversion_rate", 4, hits=0), "2024-07-01T13:00") == "behind"


async def test_two_runs_at_once_store_and_tell_each_breach_once(parties):
    import asyncio

    merchant, provider = parties
    contract = await make_contract(parties, starts=local("2024-08-05T00:00"))
    target = await add_target(contract, target=30.0)
    log = Log(contract)
    for day in ("05", "06", "07"):
        await log.add("buyer_message", f"2024-08-{day}T10:00:00", conversation=f"c{day}", buyer=f"b{day}")
        await log.add("agent_reply", f"2024-08-{day}T10:01:00", conversation=f"c{day}")  # 60 s: breached
    moment = local("2024-08-08T00:00:05")
    await asyncio.gather(close_due_windows(moment), close_due_windows(moment))
    assert await windows_of(target) == [("08-05", 1, "breached"), ("08-06", 1, "breached"),
                                        ("08-07", 1, "breached")]
    assert await told(contract, "sla_breach") == {merchant.org_id: 3, provider.org_id: 3}


async def test_each_run_takes_a_bounded_number_of_contracts_longest_waiting_first(parties):
    first = await make_contract(parties, starts=local("2024-09-02T00:00"))
    second = await make_contract(parties, starts=local("2024-09-02T00:00"))
    targets = [await add_target(first), await add_target(second)]
    moment = local("2024-09-03T00:00:05")
    ran = await close_due_windows(moment, contracts=1)
    assert ran["contracts"] == 1
    measured = [len(await windows_of(target)) for target in targets]
    assert sorted(measured) == [0, 1]
    await close_due_windows(moment, contracts=1)  # the other one now
    assert [len(await windows_of(target)) for target in targets] == [1, 1]


async def test_live_chat_writes_do_not_wait_behind_the_jobs_reads(parties, monkeypatch):
    """The job reads every figure in one read transaction (a snapshot on PostgreSQL,
    a WAL reader on SQLite): a chat message stored while it reads commits at once,
    and the job, which read before it, stores its figures afterwards."""
    import asyncio

    from sla.services import closing
    from sla.services.events import append_event

    contract = await make_contract(parties, starts=local("2024-10-07T00:00"))
    target = await add_target(contract, target=30.0)
    log = Log(contract)
    await log.add("buyer_message", "2024-10-07T10:00:00", conversation="c1", buyer="b1")
    await log.add("agent_reply", "2024-10-07T10:00:10", conversation="c1")
    reading, release = asyncio.Event(), asyncio.Event()
    measure_many = closing.measure_many

    async def held(requests):
        results = await measure_many(requests)
        reading.set()
        await release.wait()  # the job stays inside its read transaction
        return results

    monkeypatch.setattr(closing, "measure_many", held)
    job = asyncio.ensure_future(close_due_windows(local("2024-10-08T00:00:05")))
    await asyncio.wait_for(reading.wait(), 30)
    # A live chat message of the contract, stored in a transaction of its own while the job reads.
    stored = await asyncio.wait_for(append_event("buyer_message", shop=contract.merchant, contract=contract.id,
                                                 at=local("2024-10-08T00:00:01"), conversation="c2", buyer="b2"), 2)
    assert stored is not None
    release.set()
    await asyncio.wait_for(job, 60)
    assert await windows_of(target) == [("10-07", 1, "met")]
