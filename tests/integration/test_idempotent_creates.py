"""Every create a client may retry honours Idempotency-Key (DESIGN: the API a client
developer meets): a retry with the same key, one after the other or at the same
time, gets the first answer again and creates once; the same key on another request
is a 409; and the OpenAPI document declares the header on each of these operations."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from fuwu.tables import AuditEvent
from tests.conftest import assert_problem, new_actor
from tests.tendering import bid_body, give_tier, pass_bid_deadline, published_tender, tender_body, tender_url

pytestmark = pytest.mark.usefixtures("quick_password_hashing")
ONE_ROUND = [{"kind": "presentation", "criteria": [{"name": "Price", "weight": 40, "price": True},
                                                   {"name": "Quality", "weight": 60}]}]


async def _evaluating(client):
    """A tender in evaluation with one bid; (merchant, tender id, bid id)."""
    merchant = await new_actor("merchant")
    provider = await new_actor("provider")
    tid = (await published_tender(client, merchant, rounds=ONE_ROUND))["id"]
    bid = await client.post(tender_url(provider, tid, "/bid"), json=bid_body(), headers=provider.headers)
    await pass_bid_deadline(tid)
    started = await client.post(tender_url(merchant, tid, "/evaluation/start"), headers=merchant.headers)
    assert started.status_code == 200, started.text
    return merchant, tid, bid.json()["id"]


async def tender_draft(client):
    merchant = await new_actor("merchant")
    return merchant, tender_url(merchant), tender_body(), "created", tender_body(title="Another title")


async def question(client):
    merchant = await new_actor("merchant")
    provider = await new_actor("provider")
    tid = (await published_tender(client, merchant))["id"]
    return provider, tender_url(provider, tid, "/questions"), {"text": "Do you need English at night?"}, "asked", \
        {"text": "Do you need Japanese too?"}


async def answer(client):
    merchant = await new_actor("merchant")
    provider = await new_actor("provider")
    tid = (await published_tender(client, merchant))["id"]
    asked = await client.post(tender_url(provider, tid, "/questions"), json={"text": "Night shifts?"},
                              headers=provider.headers)
    qid = asked.json()["id"]
    return merchant, tender_url(merchant, tid, f"/questions/{qid}/answer"), {"answer": "Yes, until 24:00."}, \
        "answered", {"answer": "No."}


async def tender_invitation(client):
    merchant = await new_actor("merchant")
    provider, another = await new_actor("provider"), await new_actor("provider")
    await give_tier(provider, another)
    tid = (await published_tender(client, merchant, visibility="invited"))["id"]
    return merchant, tender_url(merchant, tid, "/invitations"), {"provider_ids": [str(provider.org_id)]}, \
        "provider_invited", {"provider_ids": [str(another.org_id)]}


async def member_invitation(client):
    owner = await new_actor("merchant")
    return owner, f"/api/v1/orgs/{owner.org_id}/invitations", {"email": "new.colleague@example.test",
                                                                "role": "operator"}, \
        "created", {"email": "another.colleague@example.test", "role": "operator"}


async def scores(client):
    merchant, tid, bid_id = await _evaluating(client)
    return merchant, tender_url(merchant, tid, "/rounds/1/scores"), \
        {"bid_id": bid_id, "scores": [{"criterion": 1, "value": 8}]}, "bid_scored", \
        {"bid_id": bid_id, "scores": [{"criterion": 1, "value": 3}]}


async def presentation_slot(client):
    merchant, tid, bid_id = await _evaluating(client)
    body = {"bid_id": bid_id, "starts_at": "2030-01-10T02:00:00Z", "ends_at": "2030-01-10T03:00:00Z",
            "place": "Hangzhou office"}
    return merchant, tender_url(merchant, tid, "/rounds/1/slots"), body, "presentation_scheduled", \
        {**body, "place": "Online"}


async def award(client):
    merchant, tid, bid_id = await _evaluating(client)
    scored = await client.post(tender_url(merchant, tid, "/rounds/1/scores"), headers=merchant.headers,
                               json={"bid_id": bid_id, "scores": [{"criterion": 1, "value": 8}]})
    assert scored.status_code == 200, scored.text
    closed = await client.post(tender_url(merchant, tid, "/rounds/1/close"), headers=merchant.headers)
    assert closed.status_code == 200, closed.text
    return merchant, tender_url(merchant, tid, "/award"), {"bid_id": bid_id}, "awarded", \
        {"bid_id": bid_id, "reason": "Another reason"}


CREATES = [tender_draft, question, answer, tender_invitation, member_invitation, scores, presentation_slot, award]


async def _done(actor, action: str) -> int:
    return await AuditEvent.count().where((AuditEvent.actor == actor.user_id) & (AuditEvent.action == action))


@pytest.mark.parametrize("setup", CREATES, ids=[c.__name__ for c in CREATES])
async def test_a_retried_create_answers_the_same_and_creates_once(client, setup):
    actor, url, body, action, other_body = await setup(client)
    before = await _done(actor, action)
    key = {**actor.headers, "Idempotency-Key": f"retry-{uuid.uuid4()}"}
    first = await client.post(url, json=body, headers=key)
    assert first.status_code in (200, 201), first.text
    again = await client.post(url, json=body, headers=key)
    assert (again.status_code, again.json()) == (first.status_code, first.json())
    assert await _done(actor, action) == before + 1
    assert_problem(await client.post(url, json=other_body, headers=key), 409, "idempotency_key_reused")
    assert await _done(actor, action) == before + 1


@pytest.mark.parametrize("setup", CREATES, ids=[c.__name__ for c in CREATES])
async def test_concurrent_retries_with_one_key_create_once(client, setup):
    actor, url, body, action, _ = await setup(client)
    before = await _done(actor, action)
    key = {**actor.headers, "Idempotency-Key": f"burst-{uuid.uuid4()}"}
    answers = await asyncio.gather(*(client.post(url, json=body, headers=key) for _ in range(5)))
    assert {a.status_code for a in answers} <= {200, 201}, [(a.status_code, a.text[:200]) for a in answers]
    assert len({a.text for a in answers}) == 1, [a.text[:200] for a in answers]
    assert await _done(actor, action) == before + 1


async def test_the_openapi_document_declares_the_key_on_every_retryable_create(client):
    document = (await client.get("/schema/openapi.json")).json()
    wanted = {
        "/api/v1/orgs/{org_id}/tenders",
        "/api/v1/orgs/{org_id}/tenders/{tender_id}/questions",
        "/api/v1/orgs/{org_id}/tenders/{tender_id}/questions/{question_id}/answer",
        "/api/v1/orgs/{org_id}/tenders/{tender_id}/invitations",
        "/api/v1/orgs/{org_id}/invitations",
        "/api/v1/orgs/{org_id}/tenders/{tender_id}/rounds/{number}/scores",
        "/api/v1/orgs/{org_id}/tenders/{tender_id}/rounds/{number}/slots",
        "/api/v1/orgs/{org_id}/tenders/{tender_id}/rounds/{number}/findings",
        "/api/v1/orgs/{org_id}/tenders/{tender_id}/award",
        "/api/v1/orgs/{org_id}/tenders/{tender_id}/bid",
        "/api/v1/orgs",
    }
    missing = []
    for path in wanted:
        operation = document["paths"][path]["post"]
        headers = {p["name"].lower() for p in operation.get("parameters", []) if p["in"] == "header"}
        if "idempotency-key" not in headers:
            missing.append(path)
    assert not missing, missing
