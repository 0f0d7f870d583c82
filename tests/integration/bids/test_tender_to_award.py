"""The whole path through the API: draft, publish, question, bid, amend, confirm,
deadline, evaluation in two rounds, shortlist, presentation, award."""

from __future__ import annotations

import datetime

from fuwu.clock import now
from bids.tables import Bid
from tenders.tables import Tender
from tests.conftest import add_member, assert_problem, new_actor
from tests.tendering import bid_body, iso, pass_bid_deadline, published_tender, tender_url


async def test_merchant_runs_a_tender_from_draft_to_award(client):
    merchant = await new_actor("merchant")
    evaluator = await add_member(merchant, "evaluator")
    alpha, beta, gamma = [await new_actor("provider") for _ in range(3)]
    tender = await published_tender(client, merchant)
    tid = tender["id"]
    assert tender["status"] == "published"

    # Providers in the category find it and ask; the merchant answers for all to see.
    found = (await client.get(f"/api/v1/orgs/{alpha.org_id}/open-tenders", headers=alpha.headers)).json()
    assert tid in [t["id"] for t in found["items"]]
    asked = await client.post(tender_url(alpha, tid, "/questions"), json={"text": "Do you need English coverage at night?"},
                              headers=alpha.headers)
    assert asked.status_code == 201 and asked.json()["pseudonym"].startswith("Bidder ")
    answered = await client.post(tender_url(merchant, tid, f"/questions/{asked.json()['id']}/answer"),
                                 json={"answer": "Yes, until 24:00."}, headers=merchant.headers)
    assert answered.status_code == 200
    seen_by_beta = (await client.get(tender_url(beta, tid, "/questions"), headers=beta.headers)).json()["items"]
    assert seen_by_beta[0]["answer"] == "Yes, until 24:00." and seen_by_beta[0]["mine"] is False
    assert alpha.name not in str(seen_by_beta)

    # Three bids; an amendment sends them to needs_confirmation; alpha confirms, beta revises.
    for actor, price in ((alpha, 4_000_000), (beta, 5_000_000), (gamma, 4_500_000)):
        response = await client.post(tender_url(actor, tid, "/bid"), json=bid_body(price), headers=actor.headers)
        assert response.status_code == 201, response.text
    amended = await client.patch(tender_url(merchant, tid), json={"budget_max": 7_000_000, "reason": "More seats"},
                                 headers=merchant.headers)
    assert amended.status_code == 200 and amended.json()["amendment_count"] == 1
    mine = (await client.get(tender_url(alpha, tid, "/bid"), headers=alpha.headers)).json()
    assert mine["status"] == "needs_confirmation"
    assert (await client.post(tender_url(alpha, tid, "/bid/confirm"), headers=alpha.headers)).json()["status"] == "submitted"
    revised = await client.put(tender_url(beta, tid, "/bid"), json=bid_body(3_800_000), headers=beta.headers)
    assert revised.json()["status"] == "submitted" and revised.json()["version"] == 2
    history = (await client.get(tender_url(beta, tid, "/bid/history"), headers=beta.headers)).json()["items"]
    assert [h["action"] for h in history] == ["submitted", "revised"]

    # Sealed until the deadline; then gamma's unconfirmed bid is set aside.
    assert_problem(await client.get(tender_url(merchant, tid, "/bids"), headers=merchant.headers), 409, "bids_sealed")
    await pass_bid_deadline(tid)
    late = await client.post(tender_url(gamma, tid, "/bid/confirm"), headers=gamma.headers)
    assert_problem(late, 409, "bid_deadline_passed")
    assert (await client.get(tender_url(merchant, tid), headers=merchant.headers)).json()["status"] == "bidding_closed"
    bids = (await client.get(tender_url(merchant, tid, "/bids"), headers=merchant.headers)).json()["items"]
    assert len(bids) == 3
    by_provider = {b["provider_id"]: b for b in bids}

    # Round 1: proposal review.
    rounds = (await client.post(tender_url(merchant, tid, "/evaluation/start"), headers=merchant.headers)).json()
    assert {e["bid_id"] for e in rounds[0]["entries"]} == {by_provider[str(alpha.org_id)]["id"],
                                                            by_provider[str(beta.org_id)]["id"]}
    for actor, value in ((merchant, 8), (evaluator, 6)):
        for provider, bonus in ((alpha, 1), (beta, 0)):
            response = await client.post(tender_url(merchant, tid, "/rounds/1/scores"), headers=actor.headers, json={
                "bid_id": by_provider[str(provider.org_id)]["id"], "scores": [{"criterion": 1, "value": value + bonus}]})
            assert response.status_code == 200, response.text
    closed = (await client.post(tender_url(merchant, tid, "/rounds/1/close"), headers=merchant.headers)).json()
    scores = {e["bid_id"]: e["score"] for e in closed["entries"]}
    # Price 40: beta is lowest (3.8M) -> 40; alpha 40*3.8/4.0 = 38. Team 60: alpha mean 8 -> 48, beta 7 -> 42.
    assert scores[by_provider[str(alpha.org_id)]["id"]] == 86.0
    assert scores[by_provider[str(beta.org_id)]["id"]] == 82.0

    # Shortlist both; schedule beta's pitch; beta confirms.
    await client.post(tender_url(merchant, tid, "/rounds/1/shortlist"), json={"top": 2}, headers=merchant.headers)
    start = now() + datetime.timedelta(days=1)
    slot = await client.post(tender_url(merchant, tid, "/rounds/2/slots"), headers=merchant.headers, json={
        "bid_id": by_provider[str(beta.org_id)]["id"], "starts_at": iso(start),
        "ends_at": iso(start + datetime.timedelta(minutes=45)), "place": "Hangzhou office, room 3"})
    assert slot.status_code == 201, slot.text
    slots = (await client.get(tender_url(beta, tid, "/slots"), headers=beta.headers)).json()
    confirmed = await client.post(tender_url(beta, tid, f"/slots/{slots[0]['id']}/confirm"), headers=beta.headers)
    assert confirmed.json()["confirmed_at"]

    # Round 2 and award: choosing beta (second) needs a reason.
    for provider, value in ((alpha, 9), (beta, 7)):
        await client.post(tender_url(merchant, tid, "/rounds/2/scores"), headers=merchant.headers, json={
            "bid_id": by_provider[str(provider.org_id)]["id"], "scores": [{"criterion": 0, "value": value}]})
    await client.post(tender_url(merchant, tid, "/rounds/2/close"), headers=merchant.headers)
    beta_bid = by_provider[str(beta.org_id)]["id"]
    assert_problem(await client.post(tender_url(merchant, tid, "/award"), json={"bid_id": beta_bid},
                                     headers=merchant.headers), 422, "award_reason_required")
    awarded = await client.post(tender_url(merchant, tid, "/award"), headers=merchant.headers,
                                json={"bid_id": beta_bid, "reason": "Their night shift covers our overseas buyers."})
    assert awarded.status_code == 201, awarded.text
    assert (await Tender.select(Tender.status).where(Tender.id == tid).first())["status"] == "awarded"
    results = {str(r["provider"]): r["result"] for r in await Bid.select(Bid.provider, Bid.result).where(Bid.tender == tid)}
    assert results == {str(alpha.org_id): "not_awarded", str(beta.org_id): "awarded", str(gamma.org_id): "not_confirmed"}
    told = (await client.get("/api/v1/notifications", headers=alpha.headers)).json()["items"]
    assert any("Not awarded" in n["title"] and "rank 1 of 2" in n["body"] for n in told)


async def test_platform_admin_learns_nothing_of_sealed_bids(client, admin):
    merchant = await new_actor("merchant")
    provider = await new_actor("provider")
    tender = await published_tender(client, merchant)
    response = await client.post(tender_url(provider, tender["id"], "/bid"), json=bid_body(4_321_000),
                                 headers=provider.headers)
    bid_id = response.json()["id"]
    timeline = (await client.get("/api/v1/admin/audit?limit=100", headers=admin.headers)).json()
    assert bid_id not in str(timeline) and "4321000" not in str(timeline)
    await pass_bid_deadline(tender["id"])
    await client.get(tender_url(merchant, tender["id"]), headers=merchant.headers)  # closes bidding
    timeline = (await client.get("/api/v1/admin/audit?limit=100", headers=admin.headers)).json()
    assert bid_id in str(timeline)
