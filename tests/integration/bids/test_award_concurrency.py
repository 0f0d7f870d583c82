"""Two award requests at once cannot both win (DESIGN.md section 3): one succeeds, the
other gets a clear 409, and exactly one Award row exists."""

from __future__ import annotations

import asyncio

import pytest

from bids.tables import Award, Bid
from fuwu.tables import Notification
from tests.conftest import add_member, assert_problem, new_actor
from tests.tendering import bid_body, pass_bid_deadline, published_tender, tender_url

pytestmark = pytest.mark.usefixtures("quick_password_hashing")
ONE_ROUND = [{"kind": "proposal_review", "criteria": [{"name": "Price", "weight": 40, "price": True},
                                                      {"name": "Quality", "weight": 60}]}]
# What the losing request may be told: the award row is taken, the status moved, or it is no longer in evaluation.
LOSER_CODES = {"already_awarded", "tender_bad_transition", "not_evaluating"}


async def _ready_to_award(client, providers: int = 3):
    """A tender in evaluation with its only round closed; bid ids best first."""
    merchant = await new_actor("merchant")
    operator = await add_member(merchant, "operator")
    bidders = [await new_actor("provider") for _ in range(providers)]
    tid = (await published_tender(client, merchant, rounds=ONE_ROUND))["id"]
    bid_ids = []
    for n, provider in enumerate(bidders):
        response = await client.post(tender_url(provider, tid, "/bid"), json=bid_body(4_000_000 + n * 100_000),
                                     headers=provider.headers)
        bid_ids.append(response.json()["id"])
    await pass_bid_deadline(tid)
    await client.post(tender_url(merchant, tid, "/evaluation/start"), headers=merchant.headers)
    for n, bid_id in enumerate(bid_ids):
        await client.post(tender_url(merchant, tid, "/rounds/1/scores"), headers=merchant.headers,
                          json={"bid_id": bid_id, "scores": [{"criterion": 1, "value": 9 - n}]})
    closed = await client.post(tender_url(merchant, tid, "/rounds/1/close"), headers=merchant.headers)
    assert closed.status_code == 200, closed.text
    return merchant, operator, tid, bid_ids, bidders


async def _assert_one_award(client, merchant, tid, winner_id) -> None:
    awards = await Award.select(Award.bid).where(Award.tender == tid)
    assert [str(a["bid"]) for a in awards] == [winner_id]
    tender = (await client.get(tender_url(merchant, tid), headers=merchant.headers)).json()
    assert tender["status"] == "awarded"
    results = [r["result"] for r in await Bid.select(Bid.result).where(Bid.tender == tid)]
    assert results.count("awarded") == 1 and results.count("not_awarded") == len(results) - 1
    events = (await client.get(tender_url(merchant, tid, "/audit"), headers=merchant.headers)).json()["items"]
    actions = [e["action"] for e in events]
    assert actions.count("awarded") == 1 and actions.count("status_awarded") == 1
    told = await Notification.count().where((Notification.kind == "bid_awarded") & Notification.link.like(f"%{tid}%"))
    assert told == 1


def _split(responses) -> tuple[list, list]:
    won = [r for r in responses if r.status_code == 201]
    lost = [r for r in responses if r.status_code != 201]
    for response in lost:
        problem = assert_problem(response, 409)
        assert problem["code"] in LOSER_CODES, problem
    return won, lost


async def test_award_rejects_second_concurrent_award_of_the_same_bid(client):
    merchant, operator, tid, bid_ids, _ = await _ready_to_award(client)
    url = tender_url(merchant, tid, "/award")
    responses = await asyncio.gather(client.post(url, json={"bid_id": bid_ids[0]}, headers=merchant.headers),
                                     client.post(url, json={"bid_id": bid_ids[0]}, headers=operator.headers))
    won, lost = _split(responses)
    assert len(won) == 1 and len(lost) == 1, [r.text[:300] for r in responses]
    assert won[0].json()["bid_id"] == bid_ids[0]
    await _assert_one_award(client, merchant, tid, bid_ids[0])


async def test_award_rejects_second_concurrent_award_of_a_different_bid(client):
    merchant, operator, tid, bid_ids, _ = await _ready_to_award(client)
    url = tender_url(merchant, tid, "/award")
    responses = await asyncio.gather(
        client.post(url, json={"bid_id": bid_ids[0]}, headers=merchant.headers),
        client.post(url, json={"bid_id": bid_ids[1], "reason": "Their team already knows our catalogue."},
                    headers=operator.headers))
    won, lost = _split(responses)
    assert len(won) == 1 and len(lost) == 1, [r.text[:300] for r in responses]
    await _assert_one_award(client, merchant, tid, won[0].json()["bid_id"])


async def test_many_concurrent_awards_have_exactly_one_winner(client):
    merchant, operator, tid, bid_ids, _ = await _ready_to_award(client, providers=4)
    url = tender_url(merchant, tid, "/award")
    requests = [client.post(url, json={"bid_id": bid_ids[n % 4], "reason": "A considered choice of ours."},
                            headers=(merchant if n % 2 else operator).headers) for n in range(8)]
    won, lost = _split(await asyncio.gather(*requests))
    assert len(won) == 1 and len(lost) == 7
    await _assert_one_award(client, merchant, tid, won[0].json()["bid_id"])


async def test_an_award_after_an_award_is_refused(client):
    merchant, _, tid, bid_ids, _ = await _ready_to_award(client)
    url = tender_url(merchant, tid, "/award")
    assert (await client.post(url, json={"bid_id": bid_ids[0]}, headers=merchant.headers)).status_code == 201
    assert_problem(await client.post(url, json={"bid_id": bid_ids[1], "reason": "Changed our mind entirely."},
                                     headers=merchant.headers), 409, "not_evaluating")
    await _assert_one_award(client, merchant, tid, bid_ids[0])
