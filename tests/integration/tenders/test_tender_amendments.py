"""Amendments while published (DESIGN.md section 2): every bid submitted before
falls to needs_confirmation and does not count at the deadline unless confirmed or
revised; the bid deadline moves out when less than the minimum bidding time is left."""

from __future__ import annotations

import dataclasses
import datetime

import pytest

from fuwu.clock import now
from fuwu.settings import get_settings
from bids.tables import Bid
from tests.conftest import assert_problem, new_actor
from tests.tendering import bid_body, give_tier, iso, parse_time, pass_bid_deadline, published_tender, tender_url

pytestmark = pytest.mark.usefixtures("quick_password_hashing")


async def _bid(client, provider, tid, price=4_000_000) -> dict:
    response = await client.post(tender_url(provider, tid, "/bid"), json=bid_body(price), headers=provider.headers)
    assert response.status_code == 201, response.text
    return response.json()


async def _my_status(client, provider, tid) -> str:
    return (await client.get(tender_url(provider, tid, "/bid"), headers=provider.headers)).json()["status"]


async def test_amendment_sends_every_submitted_bid_to_needs_confirmation(client):
    merchant = await new_actor("merchant")
    alpha, beta, invited = await new_actor("provider"), await new_actor("provider"), await new_actor("provider")
    tid = (await published_tender(client, merchant))["id"]
    await give_tier(invited)
    await client.post(tender_url(merchant, tid, "/invitations"), json={"provider_ids": [str(invited.org_id)]},
                      headers=merchant.headers)
    await _bid(client, alpha, tid)
    await _bid(client, beta, tid)
    amended = await client.patch(tender_url(merchant, tid), headers=merchant.headers,
                                 json={"budget_max": 7_000_000, "requirements": {"seats": 15}, "reason": "More seats"})
    assert amended.status_code == 200, amended.text
    assert amended.json()["amendment_count"] == 1 and amended.json()["budget_max"] == 7_000_000
    assert await _my_status(client, alpha, tid) == await _my_status(client, beta, tid) == "needs_confirmation"

    amendments = (await client.get(tender_url(alpha, tid, "/amendments"), headers=alpha.headers)).json()["items"]
    assert len(amendments) == 1 and amendments[0]["number"] == 1 and amendments[0]["reason"] == "More seats"
    assert amendments[0]["changes"]["budget_max"] == {"before": 6_000_000, "after": 7_000_000}
    assert amendments[0]["changes"]["requirements"]["after"]["seats"] == 15
    events = (await client.get(tender_url(merchant, tid, "/audit"), headers=merchant.headers)).json()["items"]
    assert events[0]["action"] == "amended" and events[0]["after"]["budget_max"] == 7_000_000
    for provider in (alpha, beta, invited):
        told = (await client.get("/api/v1/notifications", headers=provider.headers)).json()["items"]
        assert [n["kind"] for n in told if tid in n["link"]].count("tender_amended") == 1
    # A bid after the amendment is submitted as it is; confirming a submitted bid changes nothing.
    gamma = await new_actor("provider")
    assert (await _bid(client, gamma, tid))["status"] == "submitted"
    confirmed = await client.post(tender_url(gamma, tid, "/bid/confirm"), headers=gamma.headers)
    assert confirmed.status_code == 200 and confirmed.json()["version"] == 1
    assert [h["action"] for h in (await client.get(tender_url(gamma, tid, "/bid/history"),
                                                   headers=gamma.headers)).json()["items"]] == ["submitted"]


async def test_unconfirmed_bids_do_not_count_at_the_deadline(client):
    merchant = await new_actor("merchant")
    alpha, beta, gamma = [await new_actor("provider") for _ in range(3)]
    tid = (await published_tender(client, merchant, min_bids=2))["id"]
    bids = {p.org_id: (await _bid(client, p, tid))["id"] for p in (alpha, beta, gamma)}
    await client.patch(tender_url(merchant, tid), json={"brief": "Now with live chat too.", "reason": "Scope"},
                       headers=merchant.headers)
    confirmed = await client.post(tender_url(alpha, tid, "/bid/confirm"), headers=alpha.headers)
    assert confirmed.json()["status"] == "submitted"
    revised = await client.put(tender_url(beta, tid, "/bid"), json=bid_body(3_900_000), headers=beta.headers)
    assert revised.json()["status"] == "submitted" and revised.json()["version"] == 2
    await pass_bid_deadline(tid)
    tender = (await client.get(tender_url(merchant, tid), headers=merchant.headers)).json()
    assert tender["status"] == "bidding_closed"
    told = (await client.get("/api/v1/notifications", headers=merchant.headers)).json()["items"]
    assert any(n["kind"] == "bidding_closed" and "2 valid bid(s)" in n["body"] for n in told if tid in n["link"])
    rounds = (await client.post(tender_url(merchant, tid, "/evaluation/start"), headers=merchant.headers)).json()
    assert {e["bid_id"] for e in rounds[0]["entries"]} == {bids[alpha.org_id], bids[beta.org_id]}
    gamma_bid = await Bid.select(Bid.status, Bid.result).where(Bid.id == bids[gamma.org_id]).first()
    assert gamma_bid == {"status": "needs_confirmation", "result": "not_confirmed"}
    assert_problem(await client.post(tender_url(gamma, tid, "/bid/confirm"), headers=gamma.headers), 409,
                   "bid_deadline_passed")


async def test_too_few_confirmed_bids_after_an_amendment_make_the_tender_unsuccessful(client):
    merchant = await new_actor("merchant")
    alpha = await new_actor("provider")
    tid = (await published_tender(client, merchant))["id"]
    await _bid(client, alpha, tid)
    await client.patch(tender_url(merchant, tid), json={"budget_min": 3_500_000, "reason": "Floor"}, headers=merchant.headers)
    await pass_bid_deadline(tid)
    assert (await client.get(tender_url(merchant, tid), headers=merchant.headers)).json()["status"] == "unsuccessful"


async def test_amendment_pushes_the_bid_deadline_out_to_the_minimum_bidding_time(client, monkeypatch):
    merchant = await new_actor("merchant")
    bidder = await new_actor("provider")
    moment = now()
    tender = await published_tender(client, merchant, questions_deadline=iso(moment + datetime.timedelta(minutes=5)),
                                    bid_deadline=iso(moment + datetime.timedelta(minutes=10)))
    tid = tender["id"]
    await _bid(client, bidder, tid)
    settings = dataclasses.replace(get_settings(), min_bidding_seconds=3600)
    monkeypatch.setattr("tenders.services.lifecycle.get_settings", lambda: settings)
    before = now()
    amended = await client.patch(tender_url(merchant, tid), json={"budget_max": 6_500_000, "reason": "Budget"},
                                 headers=merchant.headers)
    after = now()
    assert amended.status_code == 200, amended.text
    deadline = parse_time(amended.json()["bid_deadline"])
    assert before + datetime.timedelta(hours=1) <= deadline <= after + datetime.timedelta(hours=1)
    assert parse_time(amended.json()["evaluation_end"]) == parse_time(tender["evaluation_end"])  # still after the new deadline
    change = (await client.get(tender_url(merchant, tid, "/amendments"), headers=merchant.headers)).json()["items"][0]["changes"]
    assert set(change) == {"budget_max", "bid_deadline"}
    assert parse_time(change["bid_deadline"]["before"]) == parse_time(tender["bid_deadline"])
    # The bidder can react until the new deadline.
    assert (await client.post(tender_url(bidder, tid, "/bid/confirm"), headers=bidder.headers)).status_code == 200


async def test_pushed_deadline_also_moves_an_evaluation_end_it_would_pass(client, monkeypatch):
    merchant = await new_actor("merchant")
    moment = now()
    tender = await published_tender(client, merchant, questions_deadline=iso(moment + datetime.timedelta(minutes=5)),
                                    bid_deadline=iso(moment + datetime.timedelta(minutes=10)),
                                    evaluation_end=iso(moment + datetime.timedelta(minutes=20)))
    settings = dataclasses.replace(get_settings(), min_bidding_seconds=3600)
    monkeypatch.setattr("tenders.services.lifecycle.get_settings", lambda: settings)
    amended = (await client.patch(tender_url(merchant, tender["id"]), json={"title": "Renamed", "reason": "Typo"},
                                  headers=merchant.headers)).json()
    shift = parse_time(amended["bid_deadline"]) - parse_time(tender["bid_deadline"])
    assert shift > datetime.timedelta(minutes=45)
    assert parse_time(amended["evaluation_end"]) == parse_time(tender["evaluation_end"]) + shift
    assert parse_time(amended["questions_deadline"]) < parse_time(amended["bid_deadline"]) < parse_time(amended["evaluation_end"])


async def test_amendment_with_enough_time_left_keeps_the_deadline(client, monkeypatch):
    merchant = await new_actor("merchant")
    tender = await published_tender(client, merchant)  # bid deadline in 2 hours
    settings = dataclasses.replace(get_settings(), min_bidding_seconds=3600)
    monkeypatch.setattr("tenders.services.lifecycle.get_settings", lambda: settings)
    amended = (await client.patch(tender_url(merchant, tender["id"]), json={"budget_max": 6_100_000, "reason": "x"},
                                  headers=merchant.headers)).json()
    assert parse_time(amended["bid_deadline"]) == parse_time(tender["bid_deadline"])


async def test_invalid_or_empty_amendments_change_nothing(client):
    merchant = await new_actor("merchant")
    bidder = await new_actor("provider")
    tender = await published_tender(client, merchant)
    tid = tender["id"]
    await _bid(client, bidder, tid)
    moment = now()
    bad = [
        ({"questions_deadline": iso(moment + datetime.timedelta(hours=3))}, 422, "deadlines_out_of_order"),
        ({"budget_min": 8_000_000}, 422, "budget_range_invalid"),
        ({"requirements": {"skus": 3}}, 422, "requirements_invalid"),
        ({"visibility": "invited"}, 409, "tender_bad_transition"),
    ]
    for change, status, code in bad:
        assert_problem(await client.patch(tender_url(merchant, tid), json={**change, "reason": "x"},
                                          headers=merchant.headers), status, code)
    # The same value again is no amendment at all.
    same = await client.patch(tender_url(merchant, tid), json={"budget_max": tender["budget_max"], "reason": "noop"},
                              headers=merchant.headers)
    assert same.status_code == 200 and same.json()["amendment_count"] == 0
    assert (await client.get(tender_url(merchant, tid, "/amendments"), headers=merchant.headers)).json()["items"] == []
    assert await _my_status(client, bidder, tid) == "submitted"
    current = (await client.get(tender_url(merchant, tid), headers=merchant.headers)).json()
    assert {k: current[k] for k in ("budget_min", "budget_max", "requirements", "visibility", "updated_at")} == \
        {k: tender[k] for k in ("budget_min", "budget_max", "requirements", "visibility", "updated_at")}


async def test_amending_after_the_deadline_is_refused(client):
    merchant = await new_actor("merchant")
    bidder = await new_actor("provider")
    tid = (await published_tender(client, merchant))["id"]
    await _bid(client, bidder, tid)
    await pass_bid_deadline(tid)
    assert_problem(await client.patch(tender_url(merchant, tid), json={"budget_max": 9_000_000, "reason": "Late"},
                                      headers=merchant.headers), 409, "tender_bad_transition")
    assert (await Bid.select(Bid.status).where(Bid.tender == tid).first())["status"] == "submitted"


async def test_amending_a_published_tender_needs_a_reason(client):
    merchant = await new_actor("merchant")
    bidder = await new_actor("provider")
    tid = (await published_tender(client, merchant))["id"]
    await _bid(client, bidder, tid)
    for body in ({"budget_max": 6_500_000}, {"budget_max": 6_500_000, "reason": "   "}):
        assert_problem(await client.patch(tender_url(merchant, tid), json=body, headers=merchant.headers), 422,
                       "reason_required")
    assert (await client.get(tender_url(merchant, tid), headers=merchant.headers)).json()["amendment_count"] == 0
    assert await _my_status(client, bidder, tid) == "submitted"


async def test_confirming_is_refused_when_the_bid_no_longer_fits_the_amended_terms(client):
    merchant = await new_actor("merchant")
    metered, short_lived = await new_actor("provider"), await new_actor("provider")
    tid = (await published_tender(client, merchant))["id"]  # periodic_fee or metered; evaluation end in 7 days
    await client.post(tender_url(metered, tid, "/bid"), headers=metered.headers,
                      json=bid_body(120, pricing_model="metered", price_unit="conversation"))
    await client.post(tender_url(short_lived, tid, "/bid"), headers=short_lived.headers,
                      json=bid_body(valid_until=iso(now() + datetime.timedelta(days=30))))
    amended = await client.patch(tender_url(merchant, tid), headers=merchant.headers, json={
        "pricing_models": ["periodic_fee"], "evaluation_end": iso(now() + datetime.timedelta(days=60)),
        "reason": "Monthly fee only; longer evaluation"})
    assert amended.status_code == 200, amended.text
    assert_problem(await client.post(tender_url(metered, tid, "/bid/confirm"), headers=metered.headers), 422,
                   "pricing_not_accepted")
    assert_problem(await client.post(tender_url(short_lived, tid, "/bid/confirm"), headers=short_lived.headers), 422,
                   "validity_too_short")
    assert await _my_status(client, metered, tid) == await _my_status(client, short_lived, tid) == "needs_confirmation"
