"""Submitting sealed bids (DESIGN.md section 3): one live bid per provider and tender,
revisions with history, withdrawal until the deadline, idempotent retries, a clear
409 naming the deadline for late bids, and bids discarded unread on cancellation."""

from __future__ import annotations

import asyncio
import datetime
import uuid

import pytest

from fuwu.clock import now
from fuwu.tables import IdempotencyRecord
from bids.tables import Bid, BidRevision
from tenders.tables import Amendment, Tender
from tests.conftest import add_member, assert_problem, new_actor
from tests.tendering import parse_time, bid_body, iso, pass_bid_deadline, published_tender, tender_url

pytestmark = pytest.mark.usefixtures("quick_password_hashing")


async def _submit(client, provider, tid, price=4_000_000, key=None, body=None, **overrides):
    headers = {**provider.headers, **({"Idempotency-Key": key} if key else {})}
    body = body if body is not None else bid_body(price, **overrides)
    return await client.post(tender_url(provider, tid, "/bid"), json=body, headers=headers)


async def _warm(client, providers) -> None:
    """Uses each token once, one after the other (the first use of a token records it)."""
    for provider in providers:
        assert (await client.get("/api/v1/me", headers=provider.headers)).status_code == 200


async def _rows(tid) -> list[dict]:
    return await Bid.select(Bid.id, Bid.provider, Bid.status, Bid.price_amount).where(Bid.tender == tid)


async def test_second_bid_is_refused_until_the_first_is_withdrawn(client):
    merchant = await new_actor("merchant")
    provider = await new_actor("provider")
    manager = await add_member(provider, "manager")
    tid = (await published_tender(client, merchant))["id"]
    first = await _submit(client, provider, tid)
    assert first.status_code == 201 and first.json()["status"] == "submitted" and first.json()["version"] == 1
    assert_problem(await _submit(client, provider, tid, 3_000_000), 409, "bid_already_exists")
    assert_problem(await _submit(client, manager, tid, 3_000_000), 409, "bid_already_exists")  # per provider, not person
    assert [(r["status"], r["price_amount"]) for r in await _rows(tid)] == [("submitted", 4_000_000)]

    assert (await client.delete(tender_url(provider, tid, "/bid"), headers=provider.headers)).status_code == 204
    mine = (await client.get(tender_url(provider, tid, "/bid"), headers=provider.headers)).json()
    assert mine["status"] == "withdrawn" and mine["withdrawn_at"]
    assert_problem(await client.delete(tender_url(provider, tid, "/bid"), headers=provider.headers), 409, "no_live_bid")

    second = await _submit(client, manager, tid, 3_500_000)
    assert second.status_code == 201 and second.json()["id"] != first.json()["id"]
    assert sorted((r["status"], r["price_amount"]) for r in await _rows(tid)) == [("submitted", 3_500_000),
                                                                                   ("withdrawn", 4_000_000)]
    assert (await client.get(tender_url(provider, tid, "/bid"), headers=provider.headers)).json()["id"] == second.json()["id"]
    await pass_bid_deadline(tid)
    bids = (await client.get(tender_url(merchant, tid, "/bids"), headers=merchant.headers)).json()["items"]
    assert [(b["id"], b["price_amount"]) for b in bids] == [(second.json()["id"], 3_500_000)]


async def test_revisions_keep_their_history(client):
    merchant = await new_actor("merchant")
    provider = await new_actor("provider")
    tid = (await published_tender(client, merchant))["id"]
    first = (await _submit(client, provider, tid, 4_000_000)).json()
    revised = await client.put(tender_url(provider, tid, "/bid"), json=bid_body(3_800_000), headers=provider.headers)
    assert revised.status_code == 200 and revised.json()["version"] == 2
    third = (await client.put(tender_url(provider, tid, "/bid"), headers=provider.headers,
                              json=bid_body(3_500_000, proposal="Now with a night team."))).json()
    assert third["id"] == first["id"] and third["version"] == 3 and third["price_amount"] == 3_500_000
    assert third["first_submitted_at"] == first["first_submitted_at"]
    assert parse_time(third["submitted_at"]) > parse_time(first["submitted_at"])
    history = (await client.get(tender_url(provider, tid, "/bid/history"), headers=provider.headers)).json()["items"]
    assert [(h["version"], h["action"], h["snapshot"]["price_amount"]) for h in history] == [
        (1, "submitted", 4_000_000), (2, "revised", 3_800_000), (3, "revised", 3_500_000)]
    assert history[2]["snapshot"]["proposal"] == "Now with a night team."
    assert history[0]["snapshot"]["proposal"] == bid_body()["proposal"]
    # Another provider has no history here.
    other = await new_actor("provider")
    assert_problem(await client.get(tender_url(other, tid, "/bid/history"), headers=other.headers), 404)
    assert_problem(await client.put(tender_url(other, tid, "/bid"), json=bid_body(), headers=other.headers), 409,
                   "no_live_bid")


async def test_withdrawal_and_revision_end_at_the_deadline(client):
    merchant = await new_actor("merchant")
    provider = await new_actor("provider")
    tid = (await published_tender(client, merchant))["id"]
    await _submit(client, provider, tid)
    await pass_bid_deadline(tid)
    assert_problem(await client.delete(tender_url(provider, tid, "/bid"), headers=provider.headers), 409,
                   "bid_deadline_passed")
    assert_problem(await client.put(tender_url(provider, tid, "/bid"), json=bid_body(1_000_000), headers=provider.headers),
                   409, "bid_deadline_passed")
    assert [(r["status"], r["price_amount"]) for r in await _rows(tid)] == [("submitted", 4_000_000)]


async def test_late_bid_gets_409_naming_the_deadline_and_leaves_nothing(client):
    merchant = await new_actor("merchant")
    provider = await new_actor("provider")
    tid = (await published_tender(client, merchant))["id"]
    await pass_bid_deadline(tid)
    deadline = (await client.get(tender_url(merchant, tid), headers=merchant.headers)).json()["bid_deadline"]
    problem = assert_problem(await _submit(client, provider, tid), 409, "bid_deadline_passed")
    assert parse_time(problem["deadline"]) == parse_time(deadline)
    assert problem["deadline"] in problem["detail"]
    assert parse_time(problem["server_time"]) >= parse_time(problem["deadline"])
    assert await _rows(tid) == []


async def test_a_late_bid_closes_bidding_for_good(client):
    merchant = await new_actor("merchant")
    bidder, late = await new_actor("provider"), await new_actor("provider")
    tid = (await published_tender(client, merchant))["id"]
    await _submit(client, bidder, tid)
    await pass_bid_deadline(tid)
    assert_problem(await _submit(client, late, tid), 409, "bid_deadline_passed")
    # The late bid answers at once and asks for the closure, which follows at once
    # after it in a transaction of its own.
    for _ in range(100):
        status = (await Tender.select(Tender.status).where(Tender.id == tid).first())["status"]
        if status != "published":
            break
        await asyncio.sleep(0.05)
    assert status == "bidding_closed"


async def test_a_bidder_keeps_its_bid_after_leaving_the_category(client):
    merchant = await new_actor("merchant")
    provider = await new_actor("provider")
    tid = (await published_tender(client, merchant))["id"]
    bid = (await _submit(client, provider, tid)).json()
    moved = await client.patch(f"/api/v1/orgs/{provider.org_id}", json={"categories": ["video"]},
                               headers=provider.headers)
    assert moved.status_code == 200
    mine = await client.get(tender_url(provider, tid, "/bid"), headers=provider.headers)
    assert mine.status_code == 200 and mine.json()["id"] == bid["id"]
    assert (await client.delete(tender_url(provider, tid, "/bid"), headers=provider.headers)).status_code == 204


async def test_bid_terms_are_checked_and_nothing_is_created(client):
    merchant = await new_actor("merchant")
    provider = await new_actor("provider")
    tid = (await published_tender(client, merchant))["id"]  # periodic_fee or metered, CNY, evaluation end in 7 days
    cases = [
        ({"pricing_model": "per_order"}, 422, "pricing_not_accepted"),
        ({"currency": "USD"}, 422, "pricing_not_accepted"),
        ({"pricing_model": "metered", "price_unit": "   "}, 422, "pricing_not_accepted"),
        ({"valid_until": iso(now() + datetime.timedelta(days=3))}, 422, "validity_too_short"),
        ({"valid_until": "2030-01-01T00:00:00"}, 422, "validity_too_short"),
        ({"price_amount": 0}, 400, "invalid_input"),
        ({"price_amount": 12.5}, 400, "invalid_input"),
        ({"surprise": True}, 400, "invalid_input"),
    ]
    for overrides, status, code in cases:
        body = bid_body(**overrides)
        response = await client.post(tender_url(provider, tid, "/bid"), json=body, headers=provider.headers)
        assert_problem(response, status, code)
    assert await _rows(tid) == []
    metered = await _submit(client, provider, tid, 120, pricing_model="metered", price_unit=" conversation ")
    assert metered.status_code == 201 and metered.json()["price_unit"] == "conversation"


async def test_only_provider_owners_and_managers_bid(client):
    merchant = await new_actor("merchant")
    provider = await new_actor("provider")
    agent = await add_member(provider, "agent")
    tid = (await published_tender(client, merchant))["id"]
    assert_problem(await _submit(client, agent, tid), 403, "role_not_allowed")
    assert_problem(await _submit(client, merchant, tid), 404)
    assert await _rows(tid) == []


async def test_same_idempotency_key_twice_gives_one_bid_and_the_same_answer(client):
    merchant = await new_actor("merchant")
    provider = await new_actor("provider")
    tid = (await published_tender(client, merchant))["id"]
    key = f"bid-{uuid.uuid4()}"
    body = bid_body(4_000_000)  # a retry sends the very same bytes
    first = await _submit(client, provider, tid, key=key, body=body)
    again = await _submit(client, provider, tid, key=key, body=body)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert len(await _rows(tid)) == 1
    assert await BidRevision.count().where(BidRevision.bid == first.json()["id"]) == 1
    # The same key with another body is a client error, not a second bid.
    assert_problem(await _submit(client, provider, tid, 3_000_000, key=key), 409, "idempotency_key_reused")
    # A new key is a new request: the provider already has a live bid.
    assert_problem(await _submit(client, provider, tid, key=f"bid-{uuid.uuid4()}"), 409, "bid_already_exists")
    assert [(r["price_amount"]) for r in await _rows(tid)] == [4_000_000]
    # Keys belong to their user: another provider may use the same key.
    other = await new_actor("provider")
    assert (await _submit(client, other, tid, key=key, body=body)).status_code == 201


async def test_a_failed_request_does_not_burn_its_idempotency_key(client):
    merchant = await new_actor("merchant")
    provider = await new_actor("provider")
    tid = (await published_tender(client, merchant))["id"]
    key = f"bid-{uuid.uuid4()}"
    headers = {**provider.headers, "Idempotency-Key": key}
    refused = await client.post(tender_url(provider, tid, "/bid"), json=bid_body(currency="USD"), headers=headers)
    assert_problem(refused, 422, "pricing_not_accepted")
    assert not await IdempotencyRecord.exists().where(IdempotencyRecord.scope_key == f"{provider.user_id}:{key}")
    fixed = await client.post(tender_url(provider, tid, "/bid"), json=bid_body(currency="USD"), headers=headers)
    assert_problem(fixed, 422, "pricing_not_accepted")
    assert (await _submit(client, provider, tid, key=key, body=bid_body(currency="CNY"))).status_code == 201


async def test_concurrent_retries_with_one_idempotency_key_give_one_bid_and_the_same_answer(client):
    merchant = await new_actor("merchant")
    provider = await new_actor("provider")
    tid = (await published_tender(client, merchant))["id"]
    key = f"bid-{uuid.uuid4()}"
    body = bid_body(4_000_000)
    responses = await asyncio.gather(*[_submit(client, provider, tid, key=key, body=body) for _ in range(3)])
    assert [r.status_code for r in responses] == [201, 201, 201], [r.text[:300] for r in responses]
    assert len({r.text for r in responses}) == 1
    assert len(await _rows(tid)) == 1


async def test_a_retry_after_the_deadline_gets_the_accepted_bid_again(client):
    """The answer was lost on the way back; the provider retries after the deadline."""
    merchant = await new_actor("merchant")
    provider = await new_actor("provider")
    tid = (await published_tender(client, merchant))["id"]
    key, body = f"bid-{uuid.uuid4()}", bid_body(4_000_000)
    first = await _submit(client, provider, tid, key=key, body=body)
    assert first.status_code == 201
    await pass_bid_deadline(tid)
    again = await _submit(client, provider, tid, key=key, body=body)
    assert again.status_code == 201 and again.json() == first.json()
    # Without the key it is a late bid like any other.
    assert_problem(await _submit(client, provider, tid, body=body), 409, "bid_deadline_passed")
    assert len(await _rows(tid)) == 1


async def test_cancelling_before_the_deadline_discards_bids_unread(client):
    merchant = await new_actor("merchant")
    evaluator = await add_member(merchant, "evaluator")
    alpha, beta = await new_actor("provider"), await new_actor("provider")
    tid = (await published_tender(client, merchant))["id"]
    alpha_bid = (await _submit(client, alpha, tid, 4_321_987)).json()
    await _submit(client, beta, tid, 4_765_431)
    cancelled = await client.post(tender_url(merchant, tid, "/cancel"), json={"reason": "Project stopped"},
                                  headers=merchant.headers)
    assert cancelled.status_code == 200
    assert {r["status"] for r in await _rows(tid)} == {"discarded"}
    mine = (await client.get(tender_url(alpha, tid, "/bid"), headers=alpha.headers)).json()
    assert mine["status"] == "discarded"
    # The merchant's team never gets them, not even after the deadline.
    await pass_bid_deadline(tid)
    for reader in (merchant, evaluator):
        assert_problem(await client.get(tender_url(reader, tid, "/bids"), headers=reader.headers), 409, "bids_sealed")
        assert_problem(await client.get(tender_url(reader, tid, f"/bids/{alpha_bid['id']}"), headers=reader.headers),
                       409, "bids_sealed")
        assert_problem(await client.get(tender_url(reader, tid, "/rounds"), headers=reader.headers), 409, "bids_sealed")
    assert_problem(await client.post(tender_url(merchant, tid, "/evaluation/start"), headers=merchant.headers), 409)
    seen = " ".join([
        (await client.get(tender_url(merchant, tid, "/audit"), headers=merchant.headers)).text,
        (await client.get(f"/api/v1/orgs/{merchant.org_id}/audit", headers=merchant.headers)).text,
        (await client.get("/api/v1/notifications", headers=merchant.headers)).text,
        (await client.get(tender_url(merchant, tid), headers=merchant.headers)).text,
    ])
    assert alpha_bid["id"] not in seen and "4321987" not in seen and "4765431" not in seen
    for provider in (alpha, beta):
        kinds = [n["kind"] for n in (await client.get("/api/v1/notifications", headers=provider.headers)).json()["items"]
                 if tid in n["link"]]
        assert kinds == ["tender_cancelled"]
        assert_problem(await _submit(client, provider, tid), 409, "tender_not_open_for_bids")


async def test_a_double_click_without_a_key_makes_one_bid(client):
    merchant = await new_actor("merchant")
    provider = await new_actor("provider")
    tid = (await published_tender(client, merchant))["id"]
    responses = await asyncio.gather(*[_submit(client, provider, tid, 4_000_000 + n) for n in range(5)])
    assert sorted(r.status_code for r in responses) == [201, 409, 409, 409, 409], [r.text[:200] for r in responses]
    for response in responses:
        if response.status_code == 409:
            assert_problem(response, 409, "bid_already_exists")
    assert len(await _rows(tid)) == 1


async def test_bids_racing_a_cancellation_are_all_discarded_or_refused(client):
    merchant = await new_actor("merchant")
    providers = [await new_actor("provider") for _ in range(30)]
    await _warm(client, providers)
    tid = (await published_tender(client, merchant))["id"]

    async def bid(provider, pause):
        await asyncio.sleep(pause)
        return await _submit(client, provider, tid)

    async def cancel():
        await asyncio.sleep(0.02)
        return await client.post(tender_url(merchant, tid, "/cancel"), json={"reason": "Stopped mid-way"},
                                 headers=merchant.headers)

    *bids, cancelled = await asyncio.gather(*[bid(p, n * 0.002) for n, p in enumerate(providers)], cancel())
    assert cancelled.status_code == 200, cancelled.text
    for response in bids:
        assert response.status_code in (201, 409), response.text
        if response.status_code == 409:
            assert_problem(response, 409, "tender_not_open_for_bids")
    rows = await _rows(tid)
    assert len(rows) == sum(r.status_code == 201 for r in bids)
    assert {r["status"] for r in rows} <= {"discarded"}  # none slipped in after the discard


async def test_bids_racing_an_amendment_need_confirmation_exactly_when_they_came_first(client):
    merchant = await new_actor("merchant")
    providers = [await new_actor("provider") for _ in range(30)]
    await _warm(client, providers)
    tid = (await published_tender(client, merchant))["id"]

    async def bid(provider, pause):
        await asyncio.sleep(pause)
        return await _submit(client, provider, tid)

    async def amend():
        await asyncio.sleep(0.02)
        return await client.patch(tender_url(merchant, tid), json={"brief": "Amended mid-way", "reason": "Scope"},
                                  headers=merchant.headers)

    *bids, amended = await asyncio.gather(*[bid(p, n * 0.002) for n, p in enumerate(providers)], amend())
    assert amended.status_code == 200, amended.text
    assert all(r.status_code == 201 for r in bids), [r.text[:200] for r in bids if r.status_code != 201]
    at = (await Amendment.select(Amendment.at).where(Amendment.tender == tid).first())["at"]
    rows = await Bid.select(Bid.status, Bid.submitted_at).where(Bid.tender == tid)
    assert len(rows) == 30
    for row in rows:
        assert row["status"] == ("needs_confirmation" if row["submitted_at"] < at else "submitted"), (row, at)
