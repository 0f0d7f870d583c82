"""Nothing differs between processes: two server processes on one database (and one
Redis when REDIS_URL is set, as in CI's PostgreSQL run) answer alike the moment a
change commits in either of them — a revoked token, a deactivated person, a new
notification."""

from __future__ import annotations

import uuid

import httpx
import pytest

from fuwu.tables import User
from tests.conftest import new_actor
from tests.servers import servers
from tests.tendering import give_tier, tender_body


@pytest.fixture(scope="module")
def two_servers(database):
    with servers(2) as started:
        yield started


def _client(server) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=server.url, timeout=10)


async def test_a_revoked_token_stops_working_in_every_process_at_once(two_servers):
    actor = await new_actor("provider")
    a, b = two_servers
    async with _client(a) as first, _client(b) as second:
        for client in (first, second):  # both processes have seen the token work
            for _ in range(3):
                assert (await client.get("/api/v1/notifications", headers=actor.headers)).status_code == 200
        tokens = (await first.get("/api/v1/tokens", headers=actor.headers)).json()
        token_id = tokens[0]["id"] if isinstance(tokens, list) else tokens["items"][0]["id"]
        assert (await first.delete(f"/api/v1/tokens/{token_id}", headers=actor.headers)).status_code in (200, 204)
        assert (await second.get("/api/v1/notifications", headers=actor.headers)).status_code == 401
        assert (await first.get("/api/v1/notifications", headers=actor.headers)).status_code == 401


async def test_a_deactivated_person_is_refused_by_every_process_at_once(two_servers):
    actor = await new_actor("merchant")
    a, b = two_servers
    async with _client(a) as first, _client(b) as second:
        for client in (first, second):
            assert (await client.get("/api/v1/me", headers=actor.headers)).status_code == 200
        await User.update({User.is_active: False}).where(User.id == actor.user_id)
        for client in (second, first):
            assert (await client.get("/api/v1/me", headers=actor.headers)).status_code == 401


async def test_a_notification_made_in_one_process_is_in_the_next_page_read_from_the_other(two_servers):
    merchant, provider = await new_actor("merchant"), await new_actor("provider")
    await give_tier(provider)
    a, b = two_servers
    async with _client(a) as first, _client(b) as second:
        before = (await second.get("/api/v1/notifications", headers=provider.headers)).json()["items"]
        # Invited to a published tender through process A: the provider is notified.
        title = f"Invitation check {uuid.uuid4().hex[:6]}"
        created = await first.post(f"/api/v1/orgs/{merchant.org_id}/tenders", headers=merchant.headers,
                                   json=tender_body(title=title))
        assert created.status_code == 201, created.text
        tender_id = created.json()["id"]
        invited = await first.post(f"/api/v1/orgs/{merchant.org_id}/tenders/{tender_id}/invitations",
                                   headers=merchant.headers, json={"provider_ids": [str(provider.org_id)]})
        assert invited.status_code in (200, 201), invited.text
        published = await first.post(f"/api/v1/orgs/{merchant.org_id}/tenders/{tender_id}/publish",
                                     headers=merchant.headers)
        assert published.status_code == 200, published.text
        after = (await second.get("/api/v1/notifications", headers=provider.headers)).json()["items"]
        new = [n for n in after if n["id"] not in {m["id"] for m in before}]
        assert new and any(tender_id in n["link"] for n in new), after
