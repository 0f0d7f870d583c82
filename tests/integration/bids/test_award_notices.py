"""Everyone who bid hears how the tender ended (issue 8, point 14): the winner, the
bidders of the final round, those dropped at a shortlist and those whose bid was set
aside unconfirmed are each told of the award with their own final standing."""

from __future__ import annotations

import pytest

from tests.conftest import new_actor
from tests.tendering import bid_body, pass_bid_deadline, published_tender, tender_url

pytestmark = pytest.mark.usefixtures("quick_password_hashing")

TWO_ROUNDS = [
    {"kind": "proposal_review", "criteria": [{"name": "Price", "weight": 40, "price": True},
                                             {"name": "Quality", "weight": 60}]},
    {"kind": "presentation", "criteria": [{"name": "Pitch", "weight": 100}]},
]


async def _notes(client, actor, tid) -> list[dict]:
    items = (await client.get("/api/v1/notifications", params={"limit": 100}, headers=actor.headers)).json()["items"]
    return [n for n in items if tid in n["link"]]


async def _ok(response, status=200):
    assert response.status_code == status, response.text
    return response.json()


async def test_every_bidder_is_told_the_award_with_their_final_standing(client):
    merchant = await new_actor("merchant")
    alpha, beta, gamma, late = [await new_actor("provider") for _ in range(4)]
    tid = (await published_tender(client, merchant, rounds=TWO_ROUNDS))["id"]
    bids = {}
    for provider in (alpha, beta, gamma, late):
        bids[provider.org_id] = (await _ok(await client.post(tender_url(provider, tid, "/bid"), json=bid_body(),
                                                      headers=provider.headers), 201))["id"]
    # An amendment; only three confirm, so the fourth bid is set aside at the deadline.
    await _ok(await client.patch(tender_url(merchant, tid), json={"brief": "Now with live chat.", "reason": "Scope"},
                                 headers=merchant.headers))
    for provider in (alpha, beta, gamma):
        await _ok(await client.post(tender_url(provider, tid, "/bid/confirm"), headers=provider.headers))
    await pass_bid_deadline(tid)
    await _ok(await client.post(tender_url(merchant, tid, "/evaluation/start"), headers=merchant.headers))
    for provider, quality in ((alpha, 9), (beta, 7), (gamma, 2)):
        await _ok(await client.post(tender_url(merchant, tid, "/rounds/1/scores"), headers=merchant.headers,
                                    json={"bid_id": bids[provider.org_id], "scores": [{"criterion": 1, "value": quality}]}))
    await _ok(await client.post(tender_url(merchant, tid, "/rounds/1/close"), headers=merchant.headers))
    await _ok(await client.post(tender_url(merchant, tid, "/rounds/1/shortlist"), json={"top": 2},
                                headers=merchant.headers))
    for provider, pitch in ((alpha, 8), (beta, 6)):
        await _ok(await client.post(tender_url(merchant, tid, "/rounds/2/scores"), headers=merchant.headers,
                                    json={"bid_id": bids[provider.org_id], "scores": [{"criterion": 0, "value": pitch}]}))
    await _ok(await client.post(tender_url(merchant, tid, "/rounds/2/close"), headers=merchant.headers))
    await _ok(await client.post(tender_url(merchant, tid, "/award"), json={"bid_id": bids[alpha.org_id], "reason": ""},
                                headers=merchant.headers), 201)

    def award_notes(notes):
        return [n for n in notes if n["kind"] in ("bid_awarded", "bid_not_awarded")]

    won = award_notes(await _notes(client, alpha, tid))
    assert [n["kind"] for n in won] == ["bid_awarded"]
    second = award_notes(await _notes(client, beta, tid))
    assert [n["kind"] for n in second] == ["bid_not_awarded"]
    assert "Final rank 2 of 2" in second[0]["body"]
    # Dropped at the shortlist after round 1: told of the award, with where it stopped.
    dropped = award_notes(await _notes(client, gamma, tid))
    assert [n["kind"] for n in dropped] == ["bid_not_awarded"], await _notes(client, gamma, tid)
    assert "awarded to another provider" in dropped[0]["body"]
    assert "round 1" in dropped[0]["body"] and "rank 3 of 3" in dropped[0]["body"]
    # Set aside unconfirmed at the deadline: told too, and why it was not evaluated.
    unconfirmed = award_notes(await _notes(client, late, tid))
    assert [n["kind"] for n in unconfirmed] == ["bid_not_awarded"]
    assert "not evaluated" in unconfirmed[0]["body"]
    # The result each bid shows agrees.
    for provider, result in ((alpha, "awarded"), (beta, "not_awarded"), (gamma, "eliminated"), (late, "not_confirmed")):
        bid = await _ok(await client.get(tender_url(provider, tid, "/bid"), headers=provider.headers))
        assert bid["result"] == result


async def test_a_withdrawn_bidder_is_not_told_of_the_award(client):
    merchant = await new_actor("merchant")
    alpha, quitter = await new_actor("provider"), await new_actor("provider")
    tid = (await published_tender(client, merchant, rounds=TWO_ROUNDS[:1]))["id"]
    bid = (await _ok(await client.post(tender_url(alpha, tid, "/bid"), json=bid_body(), headers=alpha.headers), 201))
    await _ok(await client.post(tender_url(quitter, tid, "/bid"), json=bid_body(), headers=quitter.headers), 201)
    assert (await client.delete(tender_url(quitter, tid, "/bid"), headers=quitter.headers)).status_code == 204
    await pass_bid_deadline(tid)
    await _ok(await client.post(tender_url(merchant, tid, "/evaluation/start"), headers=merchant.headers))
    await _ok(await client.post(tender_url(merchant, tid, "/rounds/1/scores"), headers=merchant.headers,
                                json={"bid_id": bid["id"], "scores": [{"criterion": 1, "value": 5}]}))
    await _ok(await client.post(tender_url(merchant, tid, "/rounds/1/close"), headers=merchant.headers))
    await _ok(await client.post(tender_url(merchant, tid, "/award"), json={"bid_id": bid["id"], "reason": ""},
                                headers=merchant.headers), 201)
    assert [n["kind"] for n in await _notes(client, alpha, tid) if n["kind"].startswith("bid_")] == ["bid_awarded"]
    assert not [n for n in await _notes(client, quitter, tid) if n["kind"].startswith("bid_")]
