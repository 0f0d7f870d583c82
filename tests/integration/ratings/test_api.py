"""The ratings API through real HTTP: a merchant rates, the provider reviews and
replies, the public profile lists the rating, and the provider reads its scorecard."""

from __future__ import annotations

from tests.conftest import assert_problem
from tests.integration.ratings.conftest import signed_contract

SCORES = {"overall": 5, "quality": 5, "communication": 4, "timeliness": 5, "comment": "On time, every time."}


async def test_rate_review_reply_and_the_public_list(client, merchant, provider):
    contract = await signed_contract(merchant, provider)
    url = f"/api/v1/orgs/{merchant.org_id}/contracts/{contract}/ratings"
    created = await client.post(url, json={**SCORES, "period": 1}, headers={**merchant.headers,
                                                                             "Idempotency-Key": "rate-1"})
    assert created.status_code == 201, created.text
    retried = await client.post(url, json={**SCORES, "period": 1}, headers={**merchant.headers,
                                                                             "Idempotency-Key": "rate-1"})
    assert retried.status_code == 201 and retried.json()["id"] == created.json()["id"]
    again = await client.post(url, json={**SCORES, "period": 1}, headers=merchant.headers)
    assert_problem(again, 409, "rating_duplicate")
    bad = await client.post(url, json={**SCORES, "overall": 9, "period": 1}, headers=merchant.headers)
    assert bad.status_code == 400
    neither = await client.post(url, json=SCORES, headers=merchant.headers)
    assert_problem(neither, 422, "rating_occasion_invalid")
    public = f"/api/v1/providers/{provider.org_id}/ratings"
    assert (await client.get(public)).json()["items"] == []  # blind
    reviewed = await client.post(f"/api/v1/orgs/{provider.org_id}/contracts/{contract}/reviews",
                                 json={**SCORES, "period": 1}, headers=provider.headers)
    assert reviewed.status_code == 201 and reviewed.json()["status"] == "published"
    rating_id = created.json()["id"]
    replied = await client.post(f"/api/v1/orgs/{provider.org_id}/ratings/{rating_id}/reply",
                                json={"text": "Thank you!"}, headers=provider.headers)
    assert replied.status_code == 200, replied.text
    listed = (await client.get(public)).json()["items"]
    assert [(r["overall"], r["reply"]) for r in listed] == [(5, "Thank you!")]
    card = await client.get(f"/api/v1/orgs/{provider.org_id}/scorecard", headers=provider.headers)
    assert card.status_code == 200 and card.json()["tier"] == 0  # not evaluated yet: unrated
