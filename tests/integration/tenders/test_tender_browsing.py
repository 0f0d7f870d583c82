"""Providers browse open tenders (category, budget, deadline, region, text, cursor
pagination without gaps) and see only what they may: public tenders of their
categories and tenders they were invited to; anything else is 404."""

from __future__ import annotations

import datetime

import pytest

from fuwu.clock import now
from tenders.tables import Tender
from tests.conftest import assert_problem, new_actor, unique
from tests.tendering import give_tier, iso, pass_bid_deadline, published_tender, tender_body, tender_url

pytestmark = pytest.mark.usefixtures("quick_password_hashing")


def _deadlines(hours: int) -> dict:
    moment = now()
    return {"questions_deadline": iso(moment + datetime.timedelta(hours=hours - 1)),
            "bid_deadline": iso(moment + datetime.timedelta(hours=hours)),
            "evaluation_end": iso(moment + datetime.timedelta(days=10))}


async def _merchant_in(client, region: str):
    """A merchant whose province (its tenders' region) no other test uses."""
    merchant = await new_actor("merchant")
    moved = await client.patch(f"/api/v1/orgs/{merchant.org_id}", json={"province": region}, headers=merchant.headers)
    assert moved.status_code == 200, moved.text
    return merchant


async def _browse(client, provider, **params) -> list[str]:
    """Every open tender id the provider finds with these filters, walking all pages."""
    ids, cursor = [], None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        response = await client.get(f"/api/v1/orgs/{provider.org_id}/open-tenders", params=query, headers=provider.headers)
        assert response.status_code == 200, response.text
        page = response.json()
        ids += [t["id"] for t in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            return ids


async def test_provider_browses_with_category_budget_deadline_region_and_text_filters(client):
    region = unique("Province-")
    merchant = await _merchant_in(client, region)
    provider = await new_actor("provider", categories=["cs_presales", "photography"])
    night = (await published_tender(client, merchant, title="Night shift customer service", **_deadlines(2)))["id"]
    shoot = (await published_tender(client, merchant, category="photography", requirements={"skus": 40},
                                    title="Apparel lookbook shoot", brief="Studio in Hangzhou, two MODELS.",
                                    budget_min=100_000, budget_max=500_000, **_deadlines(30)))["id"]
    invited = (await published_tender(client, merchant, category="cs_postsales", visibility="invited",
                                      title="After-sales team", budget_min=1_000_000, budget_max=2_000_000,
                                      **_deadlines(5)))["id"]
    await give_tier(provider)
    await client.post(tender_url(merchant, invited, "/invitations"), json={"provider_ids": [str(provider.org_id)]},
                      headers=merchant.headers)
    # Not for this provider: another category, invited-only without invitation, a draft, cancelled, past deadline.
    await published_tender(client, merchant, category="design", requirements={"deliverables": ["banner"]})
    await published_tender(client, merchant, visibility="invited")
    await client.post(tender_url(merchant), json=tender_body(), headers=merchant.headers)
    cancelled = (await published_tender(client, merchant))["id"]
    await client.post(tender_url(merchant, cancelled, "/cancel"), json={"reason": "Budget cut"}, headers=merchant.headers)
    closed = (await published_tender(client, merchant))["id"]
    await pass_bid_deadline(closed)

    assert sorted(await _browse(client, provider, region=region)) == sorted([night, shoot, invited])
    assert await _browse(client, provider, region=region, category="photography") == [shoot]
    assert await _browse(client, provider, region=region, category="design") == []
    assert sorted(await _browse(client, provider, region=region, budget_at_least=1_000_000)) == sorted([night, invited])
    assert await _browse(client, provider, region=region, budget_at_most=900_000) == [shoot]
    assert sorted(await _browse(client, provider, region=region, budget_at_least=1_500_000,
                                budget_at_most=2_500_000)) == sorted([invited])
    before = iso(now() + datetime.timedelta(hours=6))
    assert sorted(await _browse(client, provider, region=region, deadline_before=before)) == sorted([night, invited])
    assert await _browse(client, provider, region=region, q="LOOKBOOK") == [shoot]
    assert await _browse(client, provider, region=region, q="models") == [shoot]  # the brief counts too
    assert await _browse(client, provider, region=unique("Elsewhere-")) == []
    assert await _browse(client, provider, region=region, q="no such words anywhere") == []
    # Newest first.
    assert await _browse(client, provider, region=region) == [invited, shoot, night]


async def test_text_search_matches_percent_and_underscore_literally(client):
    region = unique("Province-")
    merchant = await _merchant_in(client, region)
    provider = await new_actor("provider")
    sale = (await published_tender(client, merchant, title="Flash sale 50% off support, shift_b"))["id"]
    await published_tender(client, merchant, title="Flash sale 500 off support, shiftXb")
    assert await _browse(client, provider, region=region, q="50%") == [sale]
    assert await _browse(client, provider, region=region, q="shift_b") == [sale]


async def test_browse_refuses_unknown_category_bad_cursor_and_merchants(client):
    merchant = await new_actor("merchant")
    provider = await new_actor("provider")
    url = f"/api/v1/orgs/{provider.org_id}/open-tenders"
    assert_problem(await client.get(url, params={"category": "furniture"}, headers=provider.headers), 422,
                   "invalid_category")
    assert_problem(await client.get(url, params={"cursor": "not-a-cursor"}, headers=provider.headers), 422,
                   "invalid_cursor")
    assert_problem(await client.get(url, params={"limit": 0}, headers=provider.headers), 400)
    assert_problem(await client.get(f"/api/v1/orgs/{merchant.org_id}/open-tenders", headers=merchant.headers), 404)
    assert_problem(await client.get(url, headers=merchant.headers), 404)  # not a member


async def test_pagination_walks_every_open_tender_once_even_with_equal_times_and_new_arrivals(client):
    region = unique("Province-")
    merchant = await _merchant_in(client, region)
    provider = await new_actor("provider")
    ids = [(await published_tender(client, merchant, title=f"Tender {n}"))["id"] for n in range(7)]
    # Three share one publication time: the cursor must break ties by id.
    moment = now() - datetime.timedelta(minutes=5)
    await Tender.update({Tender.published_at: moment}).where(Tender.id.is_in(ids[2:5]))
    await Tender.update({Tender.published_at: moment.replace(microsecond=0)}).where(Tender.id == ids[5])
    url = f"/api/v1/orgs/{provider.org_id}/open-tenders"
    seen: list[str] = []
    first = (await client.get(url, params={"region": region, "limit": 2}, headers=provider.headers)).json()
    seen += [t["id"] for t in first["items"]]
    # A tender published while the provider pages appears on a fresh first page, not mid-walk.
    late = (await published_tender(client, merchant, title="Late one"))["id"]
    cursor = first["next_cursor"]
    pages = 1
    while cursor:
        page = (await client.get(url, params={"region": region, "limit": 2, "cursor": cursor},
                                 headers=provider.headers)).json()
        assert len(page["items"]) <= 2
        seen += [t["id"] for t in page["items"]]
        cursor = page["next_cursor"]
        pages += 1
    assert len(seen) == len(set(seen)) == 7 and set(seen) == set(ids)
    assert pages == 4
    assert (await _browse(client, provider, region=region, limit=3))[0] == late


async def test_invited_only_tender_is_not_found_for_uninvited_providers(client):
    merchant = await new_actor("merchant")
    invited, outsider = await new_actor("provider"), await new_actor("provider")
    tid = (await published_tender(client, merchant, visibility="invited"))["id"]
    await give_tier(invited)
    await client.post(tender_url(merchant, tid, "/invitations"), json={"provider_ids": [str(invited.org_id)]},
                      headers=merchant.headers)
    assert (await client.get(tender_url(invited, tid), headers=invited.headers)).status_code == 200
    for suffix in ("", "/questions", "/amendments", "/bid", "/slots"):
        assert_problem(await client.get(tender_url(outsider, tid, suffix), headers=outsider.headers), 404)
    assert_problem(await client.post(tender_url(outsider, tid, "/questions"), json={"text": "May we bid too?"},
                                     headers=outsider.headers), 404, "tender_not_found")
    assert_problem(await client.post(tender_url(outsider, tid, "/bid"), json={"price_amount": 1, "pricing_model":
                                     "periodic_fee", "valid_until": iso(now() + datetime.timedelta(days=90))},
                                     headers=outsider.headers), 404, "tender_not_found")
    # The same answer as for a tender that does not exist.
    missing = await client.get(tender_url(outsider, "6d1f2a57-96c7-4a35-8a9b-111111111111"), headers=outsider.headers)
    assert missing.json()["detail"] == (await client.get(tender_url(outsider, tid), headers=outsider.headers)).json()["detail"]


async def test_public_tender_is_visible_only_to_providers_in_its_category(client):
    merchant, other_merchant = await new_actor("merchant"), await new_actor("merchant")
    listed = await new_actor("provider", categories=["cs_presales"])
    elsewhere = await new_actor("provider", categories=["video", "design"])
    uncategorised = await new_actor("provider", categories=[])
    tid = (await published_tender(client, merchant))["id"]
    assert (await client.get(tender_url(listed, tid), headers=listed.headers)).status_code == 200
    for outsider in (elsewhere, uncategorised, other_merchant):
        assert_problem(await client.get(tender_url(outsider, tid), headers=outsider.headers), 404, "tender_not_found")
    assert tid not in await _browse(client, elsewhere)
    assert tid not in await _browse(client, uncategorised)


async def test_a_draft_is_invisible_even_to_invited_providers(client):
    merchant = await new_actor("merchant")
    provider = await new_actor("provider")
    tid = (await client.post(tender_url(merchant), json=tender_body(), headers=merchant.headers)).json()["id"]
    await give_tier(provider)
    await client.post(tender_url(merchant, tid, "/invitations"), json={"provider_ids": [str(provider.org_id)]},
                      headers=merchant.headers)
    assert_problem(await client.get(tender_url(provider, tid), headers=provider.headers), 404, "tender_not_found")
    assert tid not in await _browse(client, provider)
    await client.post(tender_url(merchant, tid, "/publish"), headers=merchant.headers)
    assert (await client.get(tender_url(provider, tid), headers=provider.headers)).status_code == 200
    assert tid in await _browse(client, provider)
