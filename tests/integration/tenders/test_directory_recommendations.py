"""Provider search uses tiers (issue 11): a merchant who picks a category on /providers
sees the providers it would be recommended, ranked by the tier that fits the shop's
size (key accounts see 6 stars first, small shops the tiers nearer theirs), free
capacity and region, each with its reasons; unrated providers are not recommended."""

from __future__ import annotations

import re

import pytest

from tenders.services import invitations
from tests.conftest import new_actor, unique, web_login
from tests.tendering import give_tier

CATEGORY = "video"


async def _place(client, actor, province: str) -> None:
    response = await client.patch(f"/api/v1/orgs/{actor.org_id}", json={"province": province}, headers=actor.headers)
    assert response.status_code == 200, response.text


@pytest.fixture
async def world(client):
    """Three providers of the category in a province of their own: 6 stars, 3 stars
    and unrated; one merchant of each size there."""
    province = unique("Province-")
    six = await new_actor("provider", categories=[CATEGORY])
    three = await new_actor("provider", categories=[CATEGORY])
    unrated = await new_actor("provider", categories=[CATEGORY])
    await give_tier(six, tier=6)
    await give_tier(three, tier=3)
    key_account = await new_actor("merchant", size="key_account")
    small = await new_actor("merchant", size="small")
    for actor in (six, three, unrated, key_account, small):
        await _place(client, actor, province)
    return {"six": six, "three": three, "unrated": unrated, "key_account": key_account, "small": small}


async def test_the_tier_that_fits_the_shops_size_comes_first(world):
    from fuwu.services import accounts

    ours = {str(world[k].org_id): k for k in ("six", "three", "unrated")}

    async def ranked(merchant) -> list[tuple[str, float, list[str]]]:
        member = await accounts.membership(merchant.user_id, merchant.org_id)
        rows = await invitations.recommend_in_category(member, CATEGORY, limit=1000)
        return [(ours[str(r["provider_id"])], r["score"], r["reasons"]) for r in rows if str(r["provider_id"]) in ours]

    # 40 for the category, 25 for capacity (one seat), 15 for the region, and up to 20
    # for a tier near the one the shop's size prefers (key account 6, small 3).
    assert await ranked(world["key_account"]) == [("six", 100.0, ["category", "capacity:1", "region", "tier:6"]),
                                                  ("three", 80.0, ["category", "capacity:1", "region", "tier:3"])]
    assert await ranked(world["small"]) == [("three", 100.0, ["category", "capacity:1", "region", "tier:3"]),
                                            ("six", 80.0, ["category", "capacity:1", "region", "tier:6"])]


async def test_the_directory_shows_a_merchant_its_recommendations_with_the_reasons(make_client, world):
    browser = await make_client()
    await web_login(browser, world["small"])
    page = await browser.get(f"/providers?category={CATEGORY}")
    assert page.status_code == 200
    block = page.text.split('data-testid="directory-recommendations"', 1)[1].split("</section>", 1)[0]
    names = re.findall(r'<a href="/providers/([0-9a-f-]+)">', block)
    assert names[0] == str(world["three"].org_id)
    assert str(world["unrated"].org_id) not in names
    assert "tier 3" in block and "same province" in block and "⚠" in block  # why, and the 3-star warning
    # The whole directory is still listed below, the unrated provider included.
    assert str(world["unrated"].org_id) in page.text.split('data-testid="directory-recommendations"', 1)[1]


async def test_no_recommendations_without_a_category_or_for_others(make_client, client, world):
    merchant = await make_client()
    await web_login(merchant, world["key_account"])
    assert 'data-testid="directory-recommendations"' not in (await merchant.get("/providers")).text
    provider = await make_client()
    await web_login(provider, world["six"])
    assert 'data-testid="directory-recommendations"' not in (await provider.get(f"/providers?category={CATEGORY}")).text
    anonymous = await client.get(f"/providers?category={CATEGORY}")
    assert anonymous.status_code == 200 and 'data-testid="directory-recommendations"' not in anonymous.text
