"""A provider's pipeline (issue 8, point 15): "My bids", as an API cursor page and as
a page, lists every bid of the organisation with its tender, status, round, the rank it
was told and its result, with filters; never another organisation's bids."""

from __future__ import annotations

import pytest

from fuwu.tables import Organisation
from tests.authz import sign_in
from tests.conftest import add_member, assert_problem, new_actor
from tests.tendering import bid_body, pass_bid_deadline, published_tender, tender_url

pytestmark = pytest.mark.usefixtures("quick_password_hashing")

TWO_ROUNDS = [
    {"kind": "proposal_review", "criteria": [{"name": "Price", "weight": 40, "price": True},
                                             {"name": "Quality", "weight": 60}]},
    {"kind": "presentation", "criteria": [{"name": "Pitch", "weight": 100}]},
]


def _url(actor) -> str:
    return f"/api/v1/orgs/{actor.org_id}/bids"


async def _ok(response, status=200):
    assert response.status_code == status, response.text
    return response.json()


async def _bid(client, provider, tid, price=4_000_000) -> str:
    return (await _ok(await client.post(tender_url(provider, tid, "/bid"), json=bid_body(price),
                                        headers=provider.headers), 201))["id"]


async def _org_name(actor) -> str:
    return (await Organisation.select(Organisation.name).where(Organisation.id == actor.org_id).first())["name"]


async def _mine(client, actor, **params) -> list[dict]:
    return (await _ok(await client.get(_url(actor), params=params, headers=actor.headers)))["items"]


async def _shortlisted_tender(client, merchant, alpha, beta) -> tuple[str, dict]:
    """A two-round tender: alpha and beta bid, round 1 closed, alpha shortlisted, beta dropped."""
    tid = (await published_tender(client, merchant, rounds=TWO_ROUNDS, title="Night shift for the flagship store",
                                  category="cs_presales"))["id"]
    bids = {alpha.org_id: await _bid(client, alpha, tid), beta.org_id: await _bid(client, beta, tid, 4_500_000)}
    await pass_bid_deadline(tid)
    await _ok(await client.post(tender_url(merchant, tid, "/evaluation/start"), headers=merchant.headers))
    for provider, quality in ((alpha, 9), (beta, 4)):
        await _ok(await client.post(tender_url(merchant, tid, "/rounds/1/scores"), headers=merchant.headers,
                                    json={"bid_id": bids[provider.org_id],
                                          "scores": [{"criterion": 1, "value": quality}]}))
    await _ok(await client.post(tender_url(merchant, tid, "/rounds/1/close"), headers=merchant.headers))
    return tid, bids


async def test_my_bids_lists_each_bid_with_its_tender_round_rank_and_result(client):
    merchant = await new_actor("merchant")
    alpha, beta = await new_actor("provider"), await new_actor("provider")
    agent = await add_member(alpha, "agent")
    tid, bids = await _shortlisted_tender(client, merchant, alpha, beta)
    # A second, open tender that alpha bid on later, and a third it withdrew from.
    open_tid = (await published_tender(client, merchant, title="Weekend after-sales cover"))["id"]
    open_bid = await _bid(client, alpha, open_tid)
    gone_tid = (await published_tender(client, merchant, title="Holiday peak support"))["id"]
    await _bid(client, alpha, gone_tid)
    assert (await client.delete(tender_url(alpha, gone_tid, "/bid"), headers=alpha.headers)).status_code == 204

    listed = await _mine(client, alpha)
    assert [b["tender"]["title"] for b in listed] == [
        "Holiday peak support", "Weekend after-sales cover", "Night shift for the flagship store"]
    first = listed[2]
    assert first["id"] == bids[alpha.org_id]
    assert first["tender"]["id"] == tid and first["tender"]["category"] == "cs_presales"
    assert first["tender"]["merchant_name"] == await _org_name(merchant) and first["tender"]["status"] == "evaluating"
    assert first["status"] == "submitted" and first["result"] == ""
    assert first["round"] == {"number": 1, "of": 2, "kind": "proposal_review", "status": "closed"}
    # Round 1 is closed but nobody was told a rank yet: none shown.
    assert first["rank"] is None
    assert listed[1]["id"] == open_bid and listed[1]["open_for_bids"] is True and listed[1]["round"] is None
    assert listed[0]["status"] == "withdrawn"
    # Every member of the provider reads the pipeline, agents too.
    assert [b["id"] for b in await _mine(client, agent)] == [b["id"] for b in listed]

    # The shortlist tells ranks: alpha goes on to round 2, beta is dropped.
    await _ok(await client.post(tender_url(merchant, tid, "/rounds/1/shortlist"), json={"top": 1},
                                headers=merchant.headers))
    alpha_now = (await _mine(client, alpha, q="night shift"))[0]
    assert alpha_now["round"]["number"] == 2 and alpha_now["round"]["status"] == "open"
    assert (alpha_now["rank"], alpha_now["rank_of"], alpha_now["rank_round"]) == (1, 2, 1)
    beta_now = await _mine(client, beta)
    assert len(beta_now) == 1 and beta_now[0]["result"] == "eliminated"
    assert (beta_now[0]["rank"], beta_now[0]["rank_of"], beta_now[0]["round"]["number"]) == (2, 2, 1)


async def test_my_bids_filters(client):
    merchant = await new_actor("merchant")
    alpha, beta = await new_actor("provider"), await new_actor("provider")
    tid, bids = await _shortlisted_tender(client, merchant, alpha, beta)
    await _ok(await client.post(tender_url(merchant, tid, "/rounds/1/shortlist"), json={"top": 1},
                                headers=merchant.headers))
    other = (await published_tender(client, merchant, title="Returns desk 50%_off week"))["id"]
    await _bid(client, beta, other)

    assert [b["tender"]["id"] for b in await _mine(client, beta, result="eliminated")] == [tid]
    assert [b["tender"]["id"] for b in await _mine(client, beta, status="submitted")] == [other, tid]
    assert await _mine(client, beta, status="withdrawn") == []
    assert [b["tender"]["id"] for b in await _mine(client, beta, q="50%_off")] == [other]
    assert await _mine(client, beta, q="50%x") == []  # % and _ are taken literally
    assert await _mine(client, beta, category="cs_postsales") == []
    assert len(await _mine(client, beta, category="cs_presales")) == 2
    # A cursor page: one at a time, then the next.
    first = await _ok(await client.get(_url(beta), params={"limit": 1}, headers=beta.headers))
    assert len(first["items"]) == 1 and first["next_cursor"]
    second = await _ok(await client.get(_url(beta), params={"limit": 1, "cursor": first["next_cursor"]},
                                        headers=beta.headers))
    assert [second["items"][0]["tender"]["id"]] == [tid] and second["next_cursor"] is None
    for name, value in (("status", "won"), ("result", "lost"), ("category", "nope")):
        problem = assert_problem(await client.get(_url(beta), params={name: value}, headers=beta.headers), 422)
        assert name in problem["detail"]


async def test_my_bids_show_only_the_organisations_own_bids(client):
    merchant = await new_actor("merchant")
    alpha, beta = await new_actor("provider"), await new_actor("provider")
    tid = (await published_tender(client, merchant))["id"]
    await _bid(client, alpha, tid)
    assert await _mine(client, beta) == []
    # Another organisation's pipeline, or a merchant's, is not there.
    assert_problem(await client.get(_url(alpha), headers=beta.headers), 404)
    assert_problem(await client.get(_url(merchant), headers=merchant.headers), 404)


async def test_my_bids_page_lists_and_filters(client):
    merchant = await new_actor("merchant")
    alpha, beta = await new_actor("provider"), await new_actor("provider")
    tid, bids = await _shortlisted_tender(client, merchant, alpha, beta)
    await _ok(await client.post(tender_url(merchant, tid, "/rounds/1/shortlist"), json={"top": 1},
                                headers=merchant.headers))
    other = (await published_tender(client, merchant, title="Returns desk for the spring sale"))["id"]
    await _bid(client, beta, other)
    await sign_in(client, beta)
    page = await client.get("/bids")
    assert page.status_code == 200, page.text
    html = page.text
    assert 'href="/bids"' in html  # in the provider's nav
    assert "Night shift for the flagship store" in html and "Returns desk for the spring sale" in html
    assert "Not shortlisted" in html and "Rank 2 of 2" in html and await _org_name(merchant) in html
    assert f'href="/tenders/{tid}"' in html
    filtered = await client.get("/bids", params={"result": "eliminated"})
    assert "Night shift" in filtered.text and "Returns desk" not in filtered.text
    searched = await client.get("/bids", params={"q": "spring"})
    assert "Returns desk" in searched.text and "Night shift" not in searched.text
    bad = await client.get("/bids", params={"status": "won"})
    assert bad.status_code == 200 and "Night shift" in bad.text  # an unknown choice is ignored
