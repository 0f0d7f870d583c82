"""Recommendations rank providers by free capacity net of their running contracts
(issue 11): a contract takes the seats of its winning bid's team from its provider
while it runs (awarded or active); a provider whose agents are busy on a contract
ranks below an idle one and says how many of its team are free; a contract that ended
gives them back. Customer-service tenders count agents against customer-service
contracts; other categories count the whole team against every running contract."""

from __future__ import annotations

from fuwu.clock import now
from fuwu.db import atomic
from sla.tables import Contract
from tests.conftest import add_member, new_actor, unique, web_login
from tests.integration.sla.test_contracts import awarded_contract, url
from tests.tendering import give_tier, tender_body, tender_url


async def _move(client, actor, province: str) -> None:
    response = await client.patch(f"/api/v1/orgs/{actor.org_id}", json={"province": province}, headers=actor.headers)
    assert response.status_code == 200, response.text


async def _ranked(client, merchant, tender_id, ours: dict) -> list[tuple]:
    response = await client.get(tender_url(merchant, tender_id, "/recommendations"), headers=merchant.headers)
    assert response.status_code == 200, response.text
    return [(ours[r["provider_id"]], r["score"], r["reasons"], r["capacity"], r["committed"], r["free_capacity"])
            for r in response.json() if r["provider_id"] in ours]


async def test_agents_on_a_running_contract_are_not_free_for_the_next_tender(client, make_client):
    region = unique("Province-")
    merchant, other_merchant = await new_actor("merchant"), await new_actor("merchant")
    busy = await new_actor("provider", categories=["cs_presales", "photography"])
    idle = await new_actor("provider", categories=["cs_presales"])
    for provider, agents in ((busy, 5), (idle, 3)):
        await _move(client, provider, region)
        for _ in range(agents):
            await add_member(provider, "agent")
    await give_tier(busy, idle)  # medium merchants: 4 stars fit best
    await _move(client, merchant, region)

    # Another shop awarded the busy provider a contract staffed with 4 seats.
    _, contract = await awarded_contract(client, other_merchant, busy,
                                         bid_fields={"team": {"seats": 4, "agents": ["Sun Li"], "lead": "Sun Li"}})
    assert contract["seats"] == 4 and contract["status"] == "pending_signature"

    tender = await client.post(tender_url(merchant), headers=merchant.headers,
                               json=tender_body(category="cs_presales", requirements={"seats": 2}))
    assert tender.status_code == 201, tender.text
    tid = tender.json()["id"]
    ours = {str(busy.org_id): "busy", str(idle.org_id): "idle"}
    # 40 for the category, 25 x free seats / seats asked (at most 1), 15 for the region,
    # 20 for the tier: one of the busy provider's five agents is free, half of the two asked.
    assert await _ranked(client, merchant, tid, ours) == [
        ("idle", 100.0, ["category", "capacity:3", "region", "tier:4"], 3, 0, 3),
        ("busy", 87.5, ["category", "capacity:1/5", "region", "tier:4"], 5, 4, 1)]

    # The merchant's page says why, in words.
    browser = await make_client()
    await web_login(browser, merchant)
    page = await browser.get(f"/tenders/{tid}")
    assert page.status_code == 200 and "1 of 5 free, the rest on running contracts" in page.text

    # Signed, the contract still holds its seats; ended, it gives them back.
    for party in (other_merchant, busy):
        signed = await client.post(url(party, contract["id"], "/sign"), headers=party.headers)
        assert signed.status_code == 200, signed.text
    assert signed.json()["status"] == "active"
    assert [row[0] for row in await _ranked(client, merchant, tid, ours)] == ["idle", "busy"]
    ended = await client.post(url(busy, contract["id"], "/terminate"), headers=busy.headers,
                              json={"reason": "The shop closed for the season."})
    assert ended.status_code == 200, ended.text
    assert await _ranked(client, merchant, tid, ours) == [
        ("busy", 100.0, ["category", "capacity:5", "region", "tier:4"], 5, 0, 5),
        ("idle", 100.0, ["category", "capacity:3", "region", "tier:4"], 3, 0, 3)]


async def test_other_categories_count_the_whole_team_against_every_running_contract(client):
    region = unique("Province-")
    merchant = await new_actor("merchant")
    studio = await new_actor("provider", categories=["cs_presales", "photography"])
    await _move(client, merchant, region)
    await _move(client, studio, region)
    for _ in range(2):
        await add_member(studio, "agent")  # the owner and two agents: a team of three
    await give_tier(studio)
    async with atomic():
        for category, seats, status in (("photography", 1, "active"), ("cs_presales", 1, "active"),
                                        ("photography", 5, "completed")):
            await Contract(merchant=merchant.org_id, provider=studio.org_id, category=category, status=status,
                           seats=seats, starts_at=now(), ends_at=now(), pricing_model="milestone",
                           time_zone="Asia/Shanghai").save()
    ours = {str(studio.org_id): "studio"}
    photos = await client.post(tender_url(merchant), headers=merchant.headers,
                               json=tender_body(category="photography", requirements={"skus": 50}))
    assert photos.status_code == 201, photos.text
    # Both running contracts take a member; the completed one takes none.
    assert await _ranked(client, merchant, photos.json()["id"], ours) == [
        ("studio", 100.0, ["category", "capacity:1/3", "region", "tier:4"], 3, 2, 1)]
    chat = await client.post(tender_url(merchant), headers=merchant.headers,
                             json=tender_body(category="cs_presales", requirements={"seats": 1}))
    assert chat.status_code == 201, chat.text
    # Agents only: the customer-service contract takes one of the two, the photography one none.
    assert await _ranked(client, merchant, chat.json()["id"], ours) == [
        ("studio", 100.0, ["category", "capacity:1/2", "region", "tier:4"], 2, 1, 1)]

