"""Invitations (invite, decline, listed with status) and recommendations of providers
to invite, ranked by category fit, free capacity and region (DESIGN.md section 2)."""

from __future__ import annotations

import re

import pytest

from tests.conftest import add_member, assert_problem, csrf_token, new_actor, unique, web_login
from tests.tendering import give_tier, pass_bid_deadline, published_tender, tender_body, tender_url

pytestmark = pytest.mark.usefixtures("quick_password_hashing")

async def _invite(client, merchant, tid, *providers):
    return await client.post(tender_url(merchant, tid, "/invitations"),
                             json={"provider_ids": [str(p.org_id) for p in providers]}, headers=merchant.headers)


async def _kinds(client, actor, tid) -> list[str]:
    items = (await client.get("/api/v1/notifications", headers=actor.headers)).json()["items"]
    return [n["kind"] for n in items if tid in n["link"]]


async def _move(client, actor, province: str) -> None:
    response = await client.patch(f"/api/v1/orgs/{actor.org_id}", json={"province": province}, headers=actor.headers)
    assert response.status_code == 200, response.text


async def test_merchant_invites_and_the_provider_declines(client):
    merchant = await new_actor("merchant")
    evaluator = await add_member(merchant, "evaluator")
    alpha, beta = await new_actor("provider"), await new_actor("provider")
    await give_tier(alpha, beta)
    tid = (await published_tender(client, merchant, visibility="invited"))["id"]
    invited = await _invite(client, merchant, tid, alpha, beta, alpha)
    assert invited.status_code == 201, invited.text
    rows = invited.json()
    assert [(r["provider_id"], r["status"]) for r in rows] == [(str(alpha.org_id), "invited"), (str(beta.org_id), "invited")]
    assert all(r["provider_name"].startswith("Provider ") for r in rows)
    assert await _kinds(client, alpha, tid) == ["tender_invitation"]
    # Inviting again keeps the invitation as it is and tells nobody twice.
    again = await _invite(client, merchant, tid, alpha)
    assert [r["id"] for r in again.json()] == [r["id"] for r in rows]
    assert await _kinds(client, alpha, tid) == ["tender_invitation"]

    declined = await client.post(tender_url(beta, tid, "/decline"), json={"reason": "  Fully booked  "},
                                 headers=beta.headers)
    assert declined.status_code == 204
    listed = (await client.get(tender_url(evaluator, tid, "/invitations"), headers=evaluator.headers)).json()
    by_provider = {r["provider_id"]: r for r in listed}
    assert by_provider[str(beta.org_id)]["status"] == "declined"
    assert by_provider[str(beta.org_id)]["decline_reason"] == "Fully booked" and by_provider[str(beta.org_id)]["declined_at"]
    assert by_provider[str(alpha.org_id)]["status"] == "invited" and by_provider[str(alpha.org_id)]["declined_at"] is None
    assert (await client.post(tender_url(beta, tid, "/decline"), json={}, headers=beta.headers)).status_code == 204
    events = (await client.get(tender_url(merchant, tid, "/audit"), headers=merchant.headers)).json()["items"]
    assert [e["action"] for e in events].count("invitation_declined") == 1
    assert [e["action"] for e in events].count("provider_invited") == 2
    # A declined provider still reads the tender it was invited to.
    assert (await client.get(tender_url(beta, tid), headers=beta.headers)).status_code == 200


async def test_invitations_to_drafts_are_told_at_publication(client):
    merchant = await new_actor("merchant")
    provider = await new_actor("provider", categories=["video"])
    await give_tier(provider)
    tid = (await client.post(tender_url(merchant), json=tender_body(), headers=merchant.headers)).json()["id"]
    assert (await _invite(client, merchant, tid, provider)).status_code == 201
    assert await _kinds(client, provider, tid) == []
    await client.post(tender_url(merchant, tid, "/publish"), headers=merchant.headers)
    assert await _kinds(client, provider, tid) == ["tender_invitation"]
    # Invited outside its categories, it can see the tender.
    assert (await client.get(tender_url(provider, tid), headers=provider.headers)).status_code == 200


async def test_invitations_refused_for_non_providers_closed_tenders_and_other_roles(client):
    merchant, other_merchant = await new_actor("merchant"), await new_actor("merchant")
    evaluator = await add_member(merchant, "evaluator")
    provider, stranger = await new_actor("provider"), await new_actor("provider")
    await give_tier(provider, stranger)
    tid = (await published_tender(client, merchant))["id"]
    assert_problem(await _invite(client, merchant, tid, other_merchant), 422, "invitation_invalid")
    assert_problem(await _invite(client, evaluator, tid, provider), 403, "role_not_allowed")
    assert_problem(await client.get(tender_url(provider, tid, "/invitations"), headers=provider.headers), 404)
    assert (await client.get(tender_url(merchant, tid, "/invitations"), headers=merchant.headers)).json() == []
    # Only the invited decline; only while the tender is open.
    assert_problem(await client.post(tender_url(stranger, tid, "/decline"), json={}, headers=stranger.headers), 404,
                   "invitation_not_found")
    await _invite(client, merchant, tid, provider)
    await pass_bid_deadline(tid)
    assert_problem(await client.post(tender_url(provider, tid, "/decline"), json={}, headers=provider.headers), 409,
                   "invitation_invalid")
    assert_problem(await _invite(client, merchant, tid, stranger), 409, "invitation_invalid")


async def test_recommendations_rank_by_category_capacity_and_region(client):
    region = unique("Province-")
    merchant = await new_actor("merchant")
    await _move(client, merchant, region)
    tid = (await client.post(tender_url(merchant), json=tender_body(category="cs_postsales",
                                                                    requirements={"seats": 4}),
                             headers=merchant.headers)).json()["id"]
    near_full = await new_actor("provider", categories=["cs_postsales"])
    near_half = await new_actor("provider", categories=["cs_postsales", "video"])
    far_full = await new_actor("provider", categories=["cs_postsales"])
    far_small = await new_actor("provider", categories=["cs_postsales"])
    wrong_category = await new_actor("provider", categories=["photography"])
    for provider in (near_full, near_half, wrong_category):
        await _move(client, provider, region)
    # All of the merchant's size (medium: 4 stars fit best, 20 more points each).
    await give_tier(near_full, near_half, far_full, far_small, wrong_category)
    for provider, agents in ((near_full, 5), (near_half, 2), (far_full, 4), (far_small, 1), (wrong_category, 6)):
        for _ in range(agents):
            await add_member(provider, "agent")
    response = await client.get(tender_url(merchant, tid, "/recommendations"), headers=merchant.headers)
    assert response.status_code == 200, response.text
    ranked = response.json()
    mine = {str(p.org_id): name for p, name in ((near_full, "near_full"), (near_half, "near_half"),
                                                (far_full, "far_full"), (far_small, "far_small"),
                                                (wrong_category, "wrong_category"))}
    ours = [(mine[r["provider_id"]], r["score"], r["reasons"]) for r in ranked if r["provider_id"] in mine]
    # 40 for the category, 25 x capacity/seats (at most 1), 15 for the same province, 20 for the tier.
    assert ours == [("near_full", 100.0, ["category", "capacity:5", "region", "tier:4"]),
                    ("near_half", 87.5, ["category", "capacity:2", "region", "tier:4"]),
                    ("far_full", 85.0, ["category", "capacity:4", "tier:4"]),
                    ("far_small", 66.2, ["category", "capacity:1", "tier:4"])] or \
        ours == [("near_full", 100.0, ["category", "capacity:5", "region", "tier:4"]),
                 ("near_half", 87.5, ["category", "capacity:2", "region", "tier:4"]),
                 ("far_full", 85.0, ["category", "capacity:4", "tier:4"]),
                 ("far_small", 66.3, ["category", "capacity:1", "tier:4"])]
    assert [r["score"] for r in ranked] == sorted((r["score"] for r in ranked), reverse=True)
    assert len(ranked) <= 10
    # Only the merchant's writers get them.
    evaluator = await add_member(merchant, "evaluator")
    assert_problem(await client.get(tender_url(evaluator, tid, "/recommendations"), headers=evaluator.headers), 403)
    assert_problem(await client.get(tender_url(near_full, tid, "/recommendations"), headers=near_full.headers), 404)


async def test_recommendations_find_the_best_fit_among_many_providers(client):
    region = unique("Province-")
    merchant = await new_actor("merchant")
    await _move(client, merchant, region)
    tid = (await client.post(tender_url(merchant), json=tender_body(category="consulting",
                                                                    requirements={"topics": ["live commerce"]}),
                             headers=merchant.headers)).json()["id"]
    for _ in range(201):
        await new_actor("provider", categories=["consulting"])
    best = await new_actor("provider", categories=["consulting"])
    await give_tier(best)
    await _move(client, best, region)
    ranked = (await client.get(tender_url(merchant, tid, "/recommendations"), headers=merchant.headers)).json()
    assert ranked and ranked[0]["provider_id"] == str(best.org_id)


# --- standings: the lowest (unrated) cannot be invited, the one above it (3 stars) warns ---


async def _audit_actions(client, merchant, tid) -> list[str]:
    return [e["action"] for e in (await client.get(tender_url(merchant, tid, "/audit"),
                                                    headers=merchant.headers)).json()["items"]]


async def test_an_unrated_provider_cannot_be_invited_and_the_refusal_changes_nothing(client):
    merchant = await new_actor("merchant")
    rated, unrated = await new_actor("provider"), await new_actor("provider")
    await give_tier(rated, tier=3)
    tid = (await published_tender(client, merchant, visibility="invited"))["id"]
    before = await _audit_actions(client, merchant, tid)
    body = assert_problem(await _invite(client, merchant, tid, rated, unrated), 422, "provider_not_invitable")
    # The detail names the provider, says why and what to do; the body lists its id.
    unrated_name = (await client.get(f"/api/v1/orgs/{unrated.org_id}", headers=unrated.headers)).json()["name"]
    assert unrated_name in body["detail"] and "unrated" in body["detail"] and "publish the tender" in body["detail"]
    assert body["providers"] == [str(unrated.org_id)]
    # Nothing was stored, told or audited: not even the invitable provider of the same request.
    assert (await client.get(tender_url(merchant, tid, "/invitations"), headers=merchant.headers)).json() == []
    assert await _kinds(client, rated, tid) == [] and await _kinds(client, unrated, tid) == []
    assert await _audit_actions(client, merchant, tid) == before
    # The unrated provider still cannot read the invited-only tender.
    assert_problem(await client.get(tender_url(unrated, tid), headers=unrated.headers), 404)
    # Once it holds a tier (one completed contract earns 3 stars), it can be invited.
    await give_tier(unrated, tier=3)
    invited = await _invite(client, merchant, tid, rated, unrated)
    assert invited.status_code == 201, invited.text
    assert sorted(r["provider_id"] for r in invited.json()) == sorted([str(rated.org_id), str(unrated.org_id)])


async def test_recommendations_leave_out_the_unrated_and_warn_of_three_stars(client, make_client):
    region = unique("Province-")
    merchant = await new_actor("merchant")
    await _move(client, merchant, region)
    unrated, three, four = [await new_actor("provider", categories=["cs_postsales"]) for _ in range(3)]
    for provider in (unrated, three, four):
        await _move(client, provider, region)
    await give_tier(three, tier=3)
    await give_tier(four, tier=4)
    tid = (await client.post(tender_url(merchant), json=tender_body(category="cs_postsales"),
                             headers=merchant.headers)).json()["id"]
    ranked = (await client.get(tender_url(merchant, tid, "/recommendations"), headers=merchant.headers)).json()
    by_id = {r["provider_id"]: r for r in ranked}
    assert str(unrated.org_id) not in by_id
    assert by_id[str(three.org_id)]["tier"] == 3
    assert "lowest tier" in by_id[str(three.org_id)]["warning"]
    assert by_id[str(four.org_id)]["tier"] == 4 and by_id[str(four.org_id)]["warning"] is None

    # The tender page: the 3-star provider is offered with the warning beside it, the
    # unrated one is not offered; inviting it by a crafted form is refused and stores nothing.
    browser = await make_client()
    await web_login(browser, merchant)
    page = (await browser.get(f"/tenders/{tid}")).text
    table = re.search(r'data-testid="recommendations".*?</table>', page, re.S).group(0)
    rows = {m.group(1): m.group(0) for m in re.finditer(r'value="([0-9a-f-]{36})".*?</tr>', table, re.S)}
    assert str(unrated.org_id) not in rows
    assert 'data-testid="recommendation-warning"' in rows[str(three.org_id)]
    assert "read its scorecard and ratings before you invite it" in rows[str(three.org_id)]
    assert 'data-testid="recommendation-warning"' not in rows[str(four.org_id)]
    token = await csrf_token(browser, f"/tenders/{tid}")
    refused = await browser.post(f"/tenders/{tid}/invite",
                                 data={"_csrf_token": token, "provider_ids": [str(unrated.org_id), str(four.org_id)]})
    assert refused.status_code == 422 and "These providers cannot be invited" in refused.text
    assert (await client.get(tender_url(merchant, tid, "/invitations"), headers=merchant.headers)).json() == []
    invited = await browser.post(f"/tenders/{tid}/invite",
                                 data={"_csrf_token": token, "provider_ids": [str(three.org_id)]})
    assert invited.status_code == 200
    listed = (await client.get(tender_url(merchant, tid, "/invitations"), headers=merchant.headers)).json()
    assert [r["provider_id"] for r in listed] == [str(three.org_id)]

    # In Chinese, the warning and the refusal are in Chinese.
    switched = await browser.post("/language", data={"_csrf_token": token, "locale": "zh_Hans"})
    assert switched.status_code in (200, 302, 303)
    zh = await browser.get(f"/tenders/{tid}")
    assert "三星，最低星级" in zh.text


async def test_many_unrated_providers_do_not_crowd_a_rated_one_out_of_the_recommendations(client):
    region = unique("Province-")
    merchant = await new_actor("merchant")
    await _move(client, merchant, region)
    # 60 unrated providers rank above the rated one in SQL (same province, more capacity).
    for _ in range(60):
        crowd = await new_actor("provider", categories=["design"])
        await _move(client, crowd, region)
    rated = await new_actor("provider", categories=["design"])
    await give_tier(rated)
    tid = (await client.post(tender_url(merchant), json=tender_body(
        category="design", requirements={"deliverables": ["Store home page"]}), headers=merchant.headers)).json()["id"]
    ranked = (await client.get(tender_url(merchant, tid, "/recommendations"), headers=merchant.headers)).json()
    assert str(rated.org_id) in [r["provider_id"] for r in ranked]
    assert all(r["tier"] >= 3 for r in ranked)
