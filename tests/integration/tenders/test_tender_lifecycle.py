"""The tender lifecycle (DESIGN.md section 2): draft -> published -> bidding_closed ->
evaluating -> awarded; cancellation before award with a reason; unsuccessful with too
few bids; every transition audited and told to the people it concerns; the scheduled
close is idempotent."""

from __future__ import annotations

import pytest

from bids.tables import Bid
from tenders.services.lifecycle import close_due_tenders
from tenders.tables import Tender
from tests.conftest import add_member, assert_problem, new_actor
from tests.tendering import bid_body, give_tier, pass_bid_deadline, published_tender, tender_body, tender_url

pytestmark = pytest.mark.usefixtures("quick_password_hashing")

ONE_ROUND = [{"kind": "proposal_review", "criteria": [{"name": "Price", "weight": 40, "price": True},
                                                      {"name": "Quality", "weight": 60}]}]


async def _status(client, merchant, tid) -> str:
    return (await client.get(tender_url(merchant, tid), headers=merchant.headers)).json()["status"]


async def _audit(client, merchant, tid) -> list[dict]:
    """The tender's timeline, oldest first."""
    items, cursor = [], None
    while True:
        params = {"limit": 50, **({"cursor": cursor} if cursor else {})}
        page = (await client.get(tender_url(merchant, tid, "/audit"), params=params, headers=merchant.headers)).json()
        items += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            return list(reversed(items))


async def _notes(client, actor, tid=None) -> list[dict]:
    items = (await client.get("/api/v1/notifications", params={"limit": 100}, headers=actor.headers)).json()["items"]
    return [n for n in items if tid is None or str(tid) in n["link"]]


async def _bid(client, provider, tid, price=4_000_000) -> dict:
    response = await client.post(tender_url(provider, tid, "/bid"), json=bid_body(price), headers=provider.headers)
    assert response.status_code == 201, response.text
    return response.json()


async def _evaluating_with_closed_round(client, merchant, providers, prices) -> tuple[str, dict]:
    """A one-round tender in evaluation whose round is closed; returns the tender id
    and bid ids by provider org id."""
    tid = (await published_tender(client, merchant, rounds=ONE_ROUND))["id"]
    bids = {str(p.org_id): (await _bid(client, p, tid, price))["id"] for p, price in zip(providers, prices)}
    await pass_bid_deadline(tid)
    started = await client.post(tender_url(merchant, tid, "/evaluation/start"), headers=merchant.headers)
    assert started.status_code == 200, started.text
    for bid_id in bids.values():
        scored = await client.post(tender_url(merchant, tid, "/rounds/1/scores"), headers=merchant.headers,
                                   json={"bid_id": bid_id, "scores": [{"criterion": 1, "value": 7}]})
        assert scored.status_code == 200, scored.text
    closed = await client.post(tender_url(merchant, tid, "/rounds/1/close"), headers=merchant.headers)
    assert closed.status_code == 200, closed.text
    return tid, bids


async def test_only_a_draft_can_be_published(client):
    merchant = await new_actor("merchant")
    tid = (await published_tender(client, merchant))["id"]
    assert_problem(await client.post(tender_url(merchant, tid, "/publish"), headers=merchant.headers), 409,
                   "tender_not_draft")
    await client.post(tender_url(merchant, tid, "/cancel"), json={"reason": "Budget frozen"}, headers=merchant.headers)
    assert_problem(await client.post(tender_url(merchant, tid, "/publish"), headers=merchant.headers), 409,
                   "tender_not_draft")
    actions = [e["action"] for e in await _audit(client, merchant, tid)]
    assert actions.count("status_published") == 1


async def test_a_draft_refuses_every_later_transition(client):
    merchant = await new_actor("merchant")
    tid = (await client.post(tender_url(merchant), json=tender_body(), headers=merchant.headers)).json()["id"]
    assert_problem(await client.post(tender_url(merchant, tid, "/cancel"), json={"reason": "Changed our mind"},
                                     headers=merchant.headers), 409, "tender_bad_transition")
    assert_problem(await client.post(tender_url(merchant, tid, "/evaluation/start"), headers=merchant.headers), 409)
    assert_problem(await client.post(tender_url(merchant, tid, "/unsuccessful"), json={"reason": "No one qualified"},
                                     headers=merchant.headers), 409, "not_evaluating")
    assert_problem(await client.post(tender_url(merchant, tid, "/award"),
                                     json={"bid_id": "00000000-0000-4000-8000-000000000000"},
                                     headers=merchant.headers), 409)
    assert await _status(client, merchant, tid) == "draft"
    assert [e["action"] for e in await _audit(client, merchant, tid)] == ["created"]


async def test_published_tender_cancelled_with_reason_tells_bidders_and_invited(client):
    merchant = await new_actor("merchant")
    bidder, invited = await new_actor("provider"), await new_actor("provider")
    tid = (await published_tender(client, merchant))["id"]
    await give_tier(invited)
    await client.post(tender_url(merchant, tid, "/invitations"), json={"provider_ids": [str(invited.org_id)]},
                      headers=merchant.headers)
    await _bid(client, bidder, tid)
    cancelled = await client.post(tender_url(merchant, tid, "/cancel"), json={"reason": "  Budget frozen  "},
                                  headers=merchant.headers)
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled" and cancelled.json()["status_reason"] == "Budget frozen"
    last = (await _audit(client, merchant, tid))[-1]
    assert last["action"] == "status_cancelled" and last["actor"] == str(merchant.user_id)
    assert last["before"] == {"status": "published"} and last["after"] == {"status": "cancelled", "reason": "Budget frozen"}
    for provider in (bidder, invited):
        told = [n for n in await _notes(client, provider, tid) if n["kind"] == "tender_cancelled"]
        assert len(told) == 1 and "Budget frozen" in told[0]["body"]
    # Providers still see the cancelled tender and its reason; no more bids.
    seen = (await client.get(tender_url(invited, tid), headers=invited.headers)).json()
    assert seen["status"] == "cancelled" and seen["status_reason"] == "Budget frozen"
    assert_problem(await client.post(tender_url(invited, tid, "/bid"), json=bid_body(), headers=invited.headers), 409,
                   "tender_not_open_for_bids")


async def test_cancel_refuses_a_blank_reason(client):
    merchant = await new_actor("merchant")
    tid = (await published_tender(client, merchant))["id"]
    assert_problem(await client.post(tender_url(merchant, tid, "/cancel"), json={}, headers=merchant.headers), 400)
    assert_problem(await client.post(tender_url(merchant, tid, "/cancel"), json={"reason": "no"},
                                     headers=merchant.headers), 400)
    response = await client.post(tender_url(merchant, tid, "/cancel"), json={"reason": "     "}, headers=merchant.headers)
    assert response.status_code in (400, 422), response.text
    assert await _status(client, merchant, tid) == "published"


async def test_cancel_without_a_reason_is_refused(client):
    merchant = await new_actor("merchant")
    tid = (await published_tender(client, merchant))["id"]
    assert_problem(await client.post(tender_url(merchant, tid, "/cancel"), json={}, headers=merchant.headers), 400,
                   "invalid_input")
    assert_problem(await client.post(tender_url(merchant, tid, "/cancel"), json={"reason": "no"},
                                     headers=merchant.headers), 400, "invalid_input")
    assert await _status(client, merchant, tid) == "published"


async def test_cancel_after_the_deadline_keeps_bids_and_tells_bidders(client):
    merchant = await new_actor("merchant")
    bidder = await new_actor("provider")
    tid = (await published_tender(client, merchant))["id"]
    await _bid(client, bidder, tid)
    await pass_bid_deadline(tid)
    assert await _status(client, merchant, tid) == "bidding_closed"
    cancelled = await client.post(tender_url(merchant, tid, "/cancel"), json={"reason": "Store closes"},
                                  headers=merchant.headers)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert (await Bid.select(Bid.status).where(Bid.tender == tid).first())["status"] == "submitted"
    assert [n["kind"] for n in await _notes(client, bidder, tid)].count("tender_cancelled") == 1
    assert (await _audit(client, merchant, tid))[-1]["before"] == {"status": "bidding_closed"}


async def test_evaluating_tender_can_be_cancelled_but_not_an_awarded_one(client):
    merchant = await new_actor("merchant")
    alpha, beta = await new_actor("provider"), await new_actor("provider")
    tid, _ = await _evaluating_with_closed_round(client, merchant, [alpha, beta], [4_000_000, 5_000_000])
    assert await _status(client, merchant, tid) == "evaluating"
    cancelled = await client.post(tender_url(merchant, tid, "/cancel"), json={"reason": "Merger"}, headers=merchant.headers)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert (await _audit(client, merchant, tid))[-1]["before"] == {"status": "evaluating"}
    assert_problem(await client.post(tender_url(merchant, tid, "/cancel"), json={"reason": "Again"},
                                     headers=merchant.headers), 409, "tender_bad_transition")

    other, bids = await _evaluating_with_closed_round(client, merchant, [alpha, beta], [4_000_000, 5_000_000])
    awarded = await client.post(tender_url(merchant, other, "/award"), json={"bid_id": bids[str(alpha.org_id)]},
                                headers=merchant.headers)
    assert awarded.status_code == 201, awarded.text
    assert_problem(await client.post(tender_url(merchant, other, "/cancel"), json={"reason": "Too late now"},
                                     headers=merchant.headers), 409, "tender_bad_transition")
    assert_problem(await client.patch(tender_url(merchant, other), json={"budget_max": 9_000_000, "reason": "x"},
                                      headers=merchant.headers), 409, "tender_bad_transition")
    assert_problem(await client.post(tender_url(merchant, other, "/evaluation/start"), headers=merchant.headers), 409,
                   "not_evaluating")
    assert_problem(await client.post(tender_url(merchant, other, "/unsuccessful"), json={"reason": "Nobody fits"},
                                     headers=merchant.headers), 409, "not_evaluating")
    assert await _status(client, merchant, other) == "awarded"


async def test_every_transition_is_audited_and_told(client):
    merchant = await new_actor("merchant")
    evaluator = await add_member(merchant, "evaluator")
    alpha, beta, invited = await new_actor("provider"), await new_actor("provider"), await new_actor("provider")
    created = await client.post(tender_url(merchant), json=tender_body(rounds=ONE_ROUND), headers=merchant.headers)
    tid = created.json()["id"]
    await give_tier(invited)
    await client.post(tender_url(merchant, tid, "/invitations"), json={"provider_ids": [str(invited.org_id)]},
                      headers=merchant.headers)
    assert not await _notes(client, invited, tid)  # drafts tell nobody yet
    await client.post(tender_url(merchant, tid, "/publish"), headers=merchant.headers)
    assert [n["kind"] for n in await _notes(client, invited, tid)] == ["tender_invitation"]
    bids = {str(p.org_id): (await _bid(client, p, tid, price))["id"] for p, price in ((alpha, 4_000_000), (beta, 5_000_000))}
    await pass_bid_deadline(tid)
    assert await _status(client, merchant, tid) == "bidding_closed"
    for person in (merchant, evaluator):
        closed = [n for n in await _notes(client, person, tid) if n["kind"] == "bidding_closed"]
        assert len(closed) == 1 and "2 valid bid(s)" in closed[0]["body"]
    for provider in (alpha, beta):
        assert "bidding_closed_provider" in [n["kind"] for n in await _notes(client, provider, tid)]
    assert "bidding_closed_provider" not in [n["kind"] for n in await _notes(client, invited, tid)]
    await client.post(tender_url(merchant, tid, "/evaluation/start"), headers=merchant.headers)
    for bid_id in bids.values():
        await client.post(tender_url(merchant, tid, "/rounds/1/scores"), headers=merchant.headers,
                          json={"bid_id": bid_id, "scores": [{"criterion": 1, "value": 8}]})
    await client.post(tender_url(merchant, tid, "/rounds/1/close"), headers=merchant.headers)
    awarded = await client.post(tender_url(merchant, tid, "/award"), json={"bid_id": bids[str(alpha.org_id)]},
                                headers=merchant.headers)
    assert awarded.status_code == 201, awarded.text

    events = await _audit(client, merchant, tid)
    transitions = [(e["before"], e["after"], e["actor"]) for e in events if e["action"].startswith("status_")]
    assert transitions == [
        ({"status": "draft"}, {"status": "published"}, str(merchant.user_id)),
        ({"status": "published"}, {"status": "bidding_closed"}, None),  # the clock closed it
        ({"status": "bidding_closed"}, {"status": "evaluating"}, str(merchant.user_id)),
        ({"status": "evaluating"}, {"status": "awarded"}, str(merchant.user_id)),
    ]
    assert [e["action"] for e in events] == ["created", "provider_invited", "status_published", "status_bidding_closed",
                                             "status_evaluating", "bid_scored", "bid_scored", "round_closed",
                                             "status_awarded", "awarded"]
    assert [n["kind"] for n in await _notes(client, alpha, tid)][0] == "bid_awarded"
    assert [n["kind"] for n in await _notes(client, beta, tid)][0] == "bid_not_awarded"
    assert "tender_awarded" in [n["kind"] for n in await _notes(client, evaluator, tid)]


async def test_fewer_valid_bids_than_the_minimum_make_the_tender_unsuccessful(client):
    merchant = await new_actor("merchant")
    alpha, beta = await new_actor("provider"), await new_actor("provider")
    tid = (await published_tender(client, merchant, min_bids=2))["id"]
    await _bid(client, alpha, tid)
    await _bid(client, beta, tid)
    assert (await client.delete(tender_url(beta, tid, "/bid"), headers=beta.headers)).status_code == 204
    await pass_bid_deadline(tid)
    tender = (await client.get(tender_url(merchant, tid), headers=merchant.headers)).json()
    assert tender["status"] == "unsuccessful"
    assert tender["status_reason"].startswith("1 valid bid(s)") and "2 required" in tender["status_reason"]
    statuses = [e["after"]["status"] for e in await _audit(client, merchant, tid) if e["action"].startswith("status_")]
    assert statuses == ["published", "bidding_closed", "unsuccessful"]
    assert [n["kind"] for n in await _notes(client, merchant, tid)] == ["tender_unsuccessful"]
    assert "bidding_closed_provider" in [n["kind"] for n in await _notes(client, alpha, tid)]
    assert_problem(await client.post(tender_url(merchant, tid, "/evaluation/start"), headers=merchant.headers), 409,
                   "not_evaluating")


async def test_no_bid_at_all_makes_the_tender_unsuccessful(client):
    merchant = await new_actor("merchant")
    tid = (await published_tender(client, merchant))["id"]
    await pass_bid_deadline(tid)
    assert await _status(client, merchant, tid) == "unsuccessful"


async def test_merchant_ends_an_evaluation_without_award_and_bidders_are_told(client):
    merchant = await new_actor("merchant")
    alpha, beta = await new_actor("provider"), await new_actor("provider")
    tid, _ = await _evaluating_with_closed_round(client, merchant, [alpha, beta], [4_000_000, 5_000_000])
    ended = await client.post(tender_url(merchant, tid, "/unsuccessful"), json={"reason": "Nobody met the SLA"},
                              headers=merchant.headers)
    assert ended.status_code == 200 and ended.json()["status"] == "unsuccessful"
    assert (await _audit(client, merchant, tid))[-1]["after"] == {"status": "unsuccessful", "reason": "Nobody met the SLA"}
    for provider in (alpha, beta):
        told = [n for n in await _notes(client, provider, tid) if n["kind"] == "tender_unsuccessful"]
        assert len(told) == 1 and "Nobody met the SLA" in told[0]["body"]


async def test_scheduled_close_closes_due_tenders_and_a_second_run_changes_nothing(client):
    merchant = await new_actor("merchant")
    bidder = await new_actor("provider")
    due = (await published_tender(client, merchant))["id"]
    empty = (await published_tender(client, merchant))["id"]
    open_one = (await published_tender(client, merchant))["id"]
    await _bid(client, bidder, due)
    await pass_bid_deadline(due)
    await pass_bid_deadline(empty)
    first = await close_due_tenders()
    assert first["closed"] >= 2
    statuses = {t: (await Tender.select(Tender.status).where(Tender.id == t).first())["status"] for t in (due, empty, open_one)}
    assert statuses == {due: "bidding_closed", empty: "unsuccessful", open_one: "published"}
    audits = {t: await _audit(client, merchant, t) for t in (due, empty, open_one)}
    notes = {p.user_id: await _notes(client, p) for p in (merchant, bidder)}
    await close_due_tenders()
    for t in (due, empty, open_one):
        assert await _audit(client, merchant, t) == audits[t]
    for p in (merchant, bidder):
        assert await _notes(client, p) == notes[p.user_id]
    assert [n["kind"] for n in notes[merchant.user_id] if due in n["link"]] == ["bidding_closed"]


async def test_a_read_after_the_deadline_closes_and_the_late_job_changes_nothing(client):
    merchant = await new_actor("merchant")
    bidder = await new_actor("provider")
    tid = (await published_tender(client, merchant))["id"]
    await _bid(client, bidder, tid)
    await pass_bid_deadline(tid)
    assert (await client.get(tender_url(bidder, tid), headers=bidder.headers)).json()["status"] == "bidding_closed"
    timeline = await _audit(client, merchant, tid)
    await close_due_tenders()
    assert await _audit(client, merchant, tid) == timeline
    assert [e["action"] for e in timeline].count("status_bidding_closed") == 1
