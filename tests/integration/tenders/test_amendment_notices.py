"""Who hears of an amendment (issue 8, point 14): every provider that can see the
tender and has shown interest in it (bid on it, asked a question, been invited), not
only the bidders; a provider that merely could see it, or can no longer see it, is not
told."""

from __future__ import annotations

import pytest

from fuwu.tables import Organisation
from tests.conftest import new_actor
from tests.tendering import bid_body, give_tier, published_tender, tender_url

pytestmark = pytest.mark.usefixtures("quick_password_hashing")


async def _amended_notes(client, actor, tid) -> list[dict]:
    items = (await client.get("/api/v1/notifications", params={"limit": 100}, headers=actor.headers)).json()["items"]
    return [n for n in items if tid in n["link"] and n["kind"] == "tender_amended"]


async def test_an_amendment_reaches_askers_invitees_and_bidders_who_can_see_the_tender(client):
    merchant = await new_actor("merchant")
    bidder, asker, invited, declined, bystander, moved = [await new_actor("provider") for _ in range(6)]
    tid = (await published_tender(client, merchant))["id"]
    assert (await client.post(tender_url(bidder, tid, "/bid"), json=bid_body(),
                              headers=bidder.headers)).status_code == 201
    for provider in (asker, moved):
        response = await client.post(tender_url(provider, tid, "/questions"), json={"text": "Is Sunday covered?"},
                                     headers=provider.headers)
        assert response.status_code == 201, response.text
    # Invited providers outside the tender's category still see it through the invitation.
    for provider in (invited, declined):
        await Organisation.update({Organisation.categories: ["logistics"]}).where(Organisation.id == provider.org_id)
    await give_tier(invited, declined)
    response = await client.post(tender_url(merchant, tid, "/invitations"), headers=merchant.headers,
                                 json={"provider_ids": [str(invited.org_id), str(declined.org_id)]})
    assert response.status_code in (200, 201), response.text
    response = await client.post(tender_url(declined, tid, "/decline"), json={"reason": "Fully booked"},
                                 headers=declined.headers)
    assert response.status_code in (200, 204), response.text
    # An asker that left the tender's category can no longer see the tender.
    await Organisation.update({Organisation.categories: ["logistics"]}).where(Organisation.id == moved.org_id)

    amended = await client.patch(tender_url(merchant, tid), headers=merchant.headers,
                                 json={"budget_max": 7_000_000, "reason": "More budget"})
    assert amended.status_code == 200, amended.text

    for provider in (bidder, asker, invited, declined):
        told = await _amended_notes(client, provider, tid)
        assert len(told) == 1, provider
        assert "Tender amended" in told[0]["title"]
    for provider in (bystander, moved):
        assert await _amended_notes(client, provider, tid) == []
