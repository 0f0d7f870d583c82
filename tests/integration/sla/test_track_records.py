"""Promise against delivery: beside each SLA commitment a provider makes, what it
measurably delivered on its contracts for the same metric (share of windows met,
median value, number of contracts), from sla's stored measurements; a provider
without any shows "no measured history", never zeros. Measurements are built by
hand here so that every figure has a known answer."""

from __future__ import annotations

import datetime
import html
import re
import uuid

import pytest

from fuwu.db import atomic
from sla.services.evaluation import track_records
from sla.tables import Contract, Measurement, SlaTarget
from tests.conftest import new_actor, web_login
from tests.tendering import bid_body, give_tier, pass_bid_deadline, published_tender, tender_body, tender_url

pytestmark = pytest.mark.usefixtures("quick_password_hashing")

START = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
DAY = datetime.timedelta(days=1)


async def _contract(merchant, provider) -> uuid.UUID:
    async with atomic():
        row = Contract(merchant=merchant.org_id, provider=provider.org_id, category="cs_presales", status="active",
                       starts_at=START, ends_at=START + 365 * DAY, currency="CNY", pricing_model="periodic_fee",
                       pricing_terms={"period": "month"}, period_fee=1_000_000, time_zone="Asia/Shanghai",
                       calendar={}, merchant_signed_at=START, provider_signed_at=START)
        await row.save()
    return row.id


async def _target(contract_id, metric: str, statistic: str, comparator: str, target: float):
    async with atomic():
        row = SlaTarget(contract=contract_id, metric=metric, statistic=statistic, comparator=comparator,
                        target=target, window="month", weight=0)
        await row.save()
    return row


async def _measured(target, values: list, *, first_window: int = 0) -> None:
    """One measurement a window, in order: (value, outcome) or (value, outcome, version)."""
    async with atomic():
        for number, entry in enumerate(values, start=first_window):
            value, outcome, version = (*entry, 1) if len(entry) == 2 else entry
            start = START + 30 * number * DAY
            await Measurement(contract=target.contract, target=target.id, window_start=start,
                              window_end=start + 30 * DAY, version=version,
                              key=f"{target.id}:{number}:{version}", value=value, sample_size=10,
                              target_value=target.target, outcome=outcome, as_of=start + 31 * DAY).save()


async def _history():
    """A provider with measured history on two contracts, one without any."""
    merchant, other_merchant = await new_actor("merchant"), await new_actor("merchant")
    proven, newcomer = await new_actor("provider"), await new_actor("provider")
    first, second = await _contract(merchant, proven), await _contract(other_merchant, proven)
    mean_25 = await _target(first, "first_response_time", "mean", "<=", 25)
    # Window 1 was measured again (late events): only its latest version, breached, counts.
    await _measured(mean_25, [(20.0, "met"), (10.0, "met"), (22.0, "met")])
    await _measured(mean_25, [(30.0, "breached", 2)], first_window=1)
    await _measured(mean_25, [(None, "none")], first_window=3)  # nothing to measure: not a window
    mean_20 = await _target(second, "first_response_time", "mean", "<=", 20)
    await _measured(mean_20, [(18.0, "met"), (19.0, "met")])
    conversion = await _target(first, "inquiry_conversion_rate", "rate", ">=", 0.5)
    await _measured(conversion, [(0.52, "met"), (0.48, "breached"), (0.6, "met"), (0.55, "met")])
    p90 = await _target(second, "first_response_time", "p90", "<=", 60)
    await _measured(p90, [(45.0, "met")])
    return proven, newcomer


async def test_track_records_count_latest_windows_met_median_and_contracts_for_a_batch(client):
    proven, newcomer = await _history()
    records = await track_records([proven.org_id, newcomer.org_id],
                                  ["first_response_time", "inquiry_conversion_rate", "resolution_time"])
    # Mean first response: windows 20, 30 (the latest version), 22 on the first contract and 18,
    # 19 on the second: 4 of 5 met, median 20, two contracts, promised 20 to 25 s.
    assert records[(proven.org_id, "first_response_time", "mean")] == {
        "windows": 5, "met": 4, "share_met": 0.8, "median": 20.0, "contracts": 2,
        "lowest_target": 20.0, "highest_target": 25.0, "comparator": "<="}
    # An even number of windows: the median is the mean of the middle two, (0.52 + 0.55) / 2.
    conversion = records[(proven.org_id, "inquiry_conversion_rate", "rate")]
    assert (conversion["windows"], conversion["met"], conversion["contracts"]) == (4, 3, 1)
    assert conversion["median"] == pytest.approx(0.535)
    # Another statistic of the same metric is its own record.
    assert records[(proven.org_id, "first_response_time", "p90")]["windows"] == 1
    # Nothing measured: no entry at all (never zeros), for the metric and for the newcomer.
    assert not [key for key in records if key[1] == "resolution_time" or key[0] == newcomer.org_id]
    # Only the metrics asked for.
    assert set(await track_records([proven.org_id], ["inquiry_conversion_rate"])) == {
        (proven.org_id, "inquiry_conversion_rate", "rate")}


def _cell_of(page: str, testid: str) -> list[str]:
    return [html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", block))).strip()
            for block in re.findall(rf'data-testid="{testid}"[^>]*>(.*?)</(?:div|li|p)>', page, re.S)]


async def test_bid_comparison_shows_each_commitment_beside_what_the_provider_delivered(client, make_client):
    proven, newcomer = await _history()
    merchant = await new_actor("merchant")
    tid = (await published_tender(client, merchant))["id"]
    for actor in (proven, newcomer):
        response = await client.post(tender_url(actor, tid, "/bid"), json=bid_body(), headers=actor.headers)
        assert response.status_code == 201, response.text
    await pass_bid_deadline(tid)
    browser = await make_client()
    await web_login(browser, merchant)
    page = (await browser.get(f"/tenders/{tid}/comparison")).text
    records = _cell_of(page, "track-record")
    assert len(records) == 2
    assert "Delivered before: 80 % of 5 windows met, median 20.0 s, 2 contracts" in records
    assert "No measured history" in records


async def test_recommendations_show_the_tenders_targets_beside_each_providers_record(client, make_client):
    proven, newcomer = await _history()
    province = f"Province {uuid.uuid4().hex[:6]}"  # ours rank first: the region is theirs alone
    merchant = await new_actor("merchant")
    for actor in (merchant, proven, newcomer):
        response = await client.patch(f"/api/v1/orgs/{actor.org_id}", json={"province": province},
                                      headers=actor.headers)
        assert response.status_code == 200, response.text
    await give_tier(proven, newcomer)
    created = await client.post(tender_url(merchant), headers=merchant.headers, json=tender_body())
    tid = created.json()["id"]
    listed = (await client.get(tender_url(merchant, tid, "/recommendations"), headers=merchant.headers)).json()
    by_id = {r["provider_id"]: r for r in listed}
    assert by_id[str(proven.org_id)]["delivered"] == [{
        "metric": "first_response_time", "statistic": "mean", "target": 25, "windows": 5, "met": 4,
        "share_met": 0.8, "median": 20, "contracts": 2}]
    assert by_id[str(newcomer.org_id)]["delivered"] == [{
        "metric": "first_response_time", "statistic": "mean", "target": 25, "windows": 0, "met": 0,
        "share_met": None, "median": None, "contracts": 0}]
    browser = await make_client()
    await web_login(browser, merchant)
    page = (await browser.get(f"/tenders/{tid}")).text
    shown = _cell_of(page, "track-record")
    assert "Delivered before: 80 % of 5 windows met, median 20.0 s, 2 contracts" in shown
    assert "No measured history" in shown


async def test_provider_profile_shows_promises_beside_delivery_or_no_history(client):
    proven, newcomer = await _history()
    page = (await client.get(f"/providers/{proven.org_id}")).text
    promises = _cell_of(page, "provider-promise")
    assert any(text.startswith("First response time (mean): promised <= 20 s to <= 25 s")
               and "Delivered before: 80 % of 5 windows met, median 20.0 s, 2 contracts" in text
               for text in promises), promises
    assert any("Inquiry conversion rate" in text and "promised >= 50 %" in text
               and "Delivered before: 75 % of 4 windows met, median 53.5 %, 1 contracts" in text
               for text in promises), promises
    empty = (await client.get(f"/providers/{newcomer.org_id}")).text
    assert _cell_of(empty, "track-record") == ["No measured history"]
    assert "Delivered before" not in empty
    chinese = (await client.get(f"/providers/{proven.org_id}", headers={"Accept-Language": "zh-CN"})).text
    assert "承诺与交付" in chinese and "过往实际交付" in chinese
