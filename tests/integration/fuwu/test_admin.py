"""Platform admins (issue 8, point 20): find organisations (search, filters, cursor
pages), read one whole, suspend and reinstate with a reason (a suspended provider
cannot bid, a suspended merchant cannot publish; audited and notified to the owners),
verify a provider (a badge merchants see), search the audit log. Through the API and
the pages, as a user would."""

from __future__ import annotations

import datetime

import pytest

from fuwu.clock import now
from fuwu.tables import Organisation
from tests.conftest import assert_problem, csrf_token, new_actor, unique, web_login
from tests.tendering import bid_body, give_tier, pass_bid_deadline, published_tender, tender_body, tender_url

pytestmark = pytest.mark.usefixtures("quick_password_hashing")
ADMIN_ORGS = "/api/v1/admin/organisations"


async def _org(kind: str, name: str):
    """A new owner of a new organisation named `name` (the actor's `org_name`)."""
    actor = await new_actor(kind)
    await Organisation.update({Organisation.name: name}).where(Organisation.id == actor.org_id)
    actor.extra["org_name"] = name
    return actor


async def _notifications(client, actor) -> list[dict]:
    return (await client.get("/api/v1/notifications", headers=actor.headers)).json()["items"]


async def test_organisations_are_searched_filtered_and_paged(client, admin):
    word = unique("zebra")
    shops = [await _org("merchant", f"{word} shop {n}") for n in range(3)]
    agency = await _org("provider", f"{word} agency")
    await client.post(f"{ADMIN_ORGS}/{agency.org_id}/verify", headers=admin.headers)
    await client.post(f"{ADMIN_ORGS}/{shops[0].org_id}/suspend", json={"reason": "Unpaid fees"}, headers=admin.headers)

    def names(response):
        assert response.status_code == 200, response.text
        return sorted(o["name"] for o in response.json()["items"])

    everything = await client.get(ADMIN_ORGS, params={"q": word.upper()}, headers=admin.headers)
    assert names(everything) == sorted([f"{word} agency"] + [f"{word} shop {n}" for n in range(3)])
    providers = await client.get(ADMIN_ORGS, params={"q": word, "kind": "provider"}, headers=admin.headers)
    assert names(providers) == [f"{word} agency"]
    assert providers.json()["items"][0]["verified_at"] is not None
    verified = await client.get(ADMIN_ORGS, params={"q": word, "verified": "true"}, headers=admin.headers)
    assert names(verified) == [f"{word} agency"]
    suspended = await client.get(ADMIN_ORGS, params={"q": word, "suspended": "true"}, headers=admin.headers)
    assert names(suspended) == [f"{word} shop 0"]
    assert suspended.json()["items"][0]["suspension_reason"] == "Unpaid fees"
    active = await client.get(ADMIN_ORGS, params={"q": word, "suspended": "false", "kind": "merchant"},
                              headers=admin.headers)
    assert names(active) == [f"{word} shop 1", f"{word} shop 2"]
    # Cursor pages of 2: every one once.
    seen, cursor = [], None
    while True:
        page = (await client.get(ADMIN_ORGS, params={"q": word, "limit": 2, **({"cursor": cursor} if cursor else {})},
                                 headers=admin.headers)).json()
        seen += [o["name"] for o in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert sorted(seen) == sorted(set(seen)) and len(seen) == 4
    # A name with LIKE's wildcards is matched as written: % and _ are the characters
    # themselves, on both engines (SQLite's LIKE has no escape character unless told).
    assert names(await client.get(ADMIN_ORGS, params={"q": f"{word}%"}, headers=admin.headers)) == []
    # (Capitalised: the admin list is a page other tests read for leaked snake_case codes.)
    for name in ("50% Off_Outlet", "50% OffXOutlet", "500 Off_Outlet"):
        await _org("merchant", f"{word} {name}")
    literal = await client.get(ADMIN_ORGS, params={"q": f"{word} 50% OFF_"}, headers=admin.headers)
    assert names(literal) == [f"{word} 50% Off_Outlet"]


async def test_a_suspended_provider_cannot_bid_until_reinstated(client, admin):
    merchant, provider = await new_actor("merchant"), await new_actor("provider")
    tid = (await published_tender(client, merchant))["id"]

    short = await client.post(f"{ADMIN_ORGS}/{provider.org_id}/suspend", json={"reason": "  x "}, headers=admin.headers)
    assert_problem(short, 422, "reason_required")
    suspended = await client.post(f"{ADMIN_ORGS}/{provider.org_id}/suspend",
                                  json={"reason": "Fake customer reviews"}, headers=admin.headers)
    assert suspended.status_code == 200, suspended.text
    assert suspended.json()["suspended_at"] and suspended.json()["suspension_reason"] == "Fake customer reviews"
    assert [m["email"] for m in suspended.json()["members"]] == [provider.email]
    assert_problem(await client.post(f"{ADMIN_ORGS}/{provider.org_id}/suspend", json={"reason": "Again"},
                                     headers=admin.headers), 409, "organisation_already_suspended")

    refused = await client.post(tender_url(provider, tid, "/bid"), json=bid_body(), headers=provider.headers)
    problem = assert_problem(refused, 403, "organisation_suspended")
    assert "Fake customer reviews" in problem["detail"]
    told = await _notifications(client, provider)
    assert told[0]["kind"] == "organisation_suspended" and "Fake customer reviews" in told[0]["body"]

    reinstated = await client.post(f"{ADMIN_ORGS}/{provider.org_id}/reinstate", json={"reason": "Reviews removed"},
                                   headers=admin.headers)
    assert reinstated.status_code == 200 and reinstated.json()["suspended_at"] is None
    assert (await _notifications(client, provider))[0]["kind"] == "organisation_reinstated"
    accepted = await client.post(tender_url(provider, tid, "/bid"), json=bid_body(), headers=provider.headers)
    assert accepted.status_code == 201, accepted.text
    assert_problem(await client.post(f"{ADMIN_ORGS}/{provider.org_id}/reinstate", json={"reason": "Again"},
                                     headers=admin.headers), 409, "organisation_not_suspended")

    # Audited on the organisation's timeline, by the admin, with the reasons.
    events = (await client.get("/api/v1/admin/audit", params={"organisation": provider.org_id, "object_type":
                                                              "organisation"}, headers=admin.headers)).json()["items"]
    assert [(e["action"], e["actor"], e["after"].get("reason")) for e in events[:2]] == [
        ("reinstated", str(admin.user_id), "Reviews removed"), ("suspended", str(admin.user_id), "Fake customer reviews")]


async def test_a_suspended_merchant_cannot_publish(client, admin):
    merchant = await new_actor("merchant")
    draft = await client.post(tender_url(merchant), json=tender_body(), headers=merchant.headers)
    tid = draft.json()["id"]
    await client.post(f"{ADMIN_ORGS}/{merchant.org_id}/suspend", json={"reason": "Fraud report"},
                      headers=admin.headers)
    problem = assert_problem(await client.post(tender_url(merchant, tid, "/publish"), headers=merchant.headers),
                             403, "organisation_suspended")
    assert "publish" in problem["detail"] and "Fraud report" in problem["detail"]
    await client.post(f"{ADMIN_ORGS}/{merchant.org_id}/reinstate", json={"reason": "Cleared"}, headers=admin.headers)
    assert (await client.post(tender_url(merchant, tid, "/publish"), headers=merchant.headers)).status_code == 200


async def test_a_verified_provider_shows_its_badge_to_merchants(client, admin):
    merchant, provider = await new_actor("merchant"), await _org("provider", unique("Badge agency"))
    assert_problem(await client.post(f"{ADMIN_ORGS}/{merchant.org_id}/verify", headers=admin.headers),
                   409, "organisation_not_provider")
    profile = await client.get(f"/api/v1/providers/{provider.org_id}", headers=merchant.headers)
    assert profile.json()["verified"] is False
    verified = await client.post(f"{ADMIN_ORGS}/{provider.org_id}/verify", headers=admin.headers)
    assert verified.status_code == 200 and verified.json()["verified_at"]
    assert (await client.get(f"/api/v1/providers/{provider.org_id}", headers=merchant.headers)).json()["verified"]
    listed = (await client.get("/api/v1/providers", params={"limit": 100}, headers=merchant.headers)).json()["items"]
    assert [p["verified"] for p in listed if p["id"] == str(provider.org_id)] == [True]
    # The pages: the provider's page and the directory show the badge.
    await web_login(client, merchant)
    page = await client.get(f"/providers/{provider.org_id}")
    assert 'data-testid="verified-badge"' in page.text
    directory = await client.get("/providers")
    row = directory.text.split(provider.extra["org_name"], 1)[1].split("</li>", 1)[0]
    assert 'data-testid="verified-badge"' in row
    # ... and the recommendations of a draft tender (a province of their own puts it first;
    # recommended are providers that may be invited: not unrated, as a new one is).
    await give_tier(provider.org_id)
    province = unique("Province ")
    await Organisation.update({Organisation.province: province}).where(
        Organisation.id.is_in([merchant.org_id, provider.org_id]))
    tid = (await client.post(tender_url(merchant), json=tender_body(), headers=merchant.headers)).json()["id"]
    recommended = (await client.get(tender_url(merchant, tid, "/recommendations"), headers=merchant.headers)).json()
    items = recommended["items"] if isinstance(recommended, dict) else recommended
    assert [r["verified"] for r in items if r["provider_id"] == str(provider.org_id)] == [True]
    # Withdrawn: the badge goes.
    await client.delete(f"{ADMIN_ORGS}/{provider.org_id}/verify", headers=admin.headers)
    assert 'data-testid="verified-badge"' not in (await client.get(f"/providers/{provider.org_id}")).text


async def test_the_audit_log_is_searched_by_actor_object_action_and_time(client, admin):
    merchant = await new_actor("merchant")
    tid = (await client.post(tender_url(merchant), json=tender_body(), headers=merchant.headers)).json()["id"]
    await client.patch(tender_url(merchant, tid), json={"brief": "Changed"}, headers=merchant.headers)

    async def search(**params):
        response = await client.get("/api/v1/admin/audit", params=params, headers=admin.headers)
        assert response.status_code == 200, response.text
        return [(e["object_type"], e["action"]) for e in response.json()["items"]]

    everything = await search(actor=merchant.email)
    assert everything[:2] == [("tender", "draft_updated"), ("tender", "created")]
    assert ("organisation", "created") in everything and everything[-1] == ("user", "signed_up")
    assert await search(actor=str(merchant.user_id), action="created", object_type="tender") == [("tender", "created")]
    assert await search(object_type="tender", object_id=tid) == [("tender", "draft_updated"), ("tender", "created")]
    later = (now() + datetime.timedelta(minutes=1)).isoformat()
    assert await search(actor=merchant.email, since=later) == []
    assert await search(actor=merchant.email, until=later) == everything
    assert await search(actor="nobody@example.test") == []
    assert_problem(await client.get("/api/v1/admin/audit", params={"since": later, "until": later},
                                    headers=admin.headers), 422, "invalid_time")


async def test_sealed_bids_stay_hidden_from_the_admin(client, admin):
    merchant, provider = await new_actor("merchant"), await new_actor("provider")
    tid = (await published_tender(client, merchant))["id"]
    assert (await client.post(tender_url(provider, tid, "/bid"), json=bid_body(),
                              headers=provider.headers)).status_code == 201
    audit = (await client.get("/api/v1/admin/audit", params={"organisation": provider.org_id},
                              headers=admin.headers)).json()["items"]
    assert "bid" not in [e["object_type"] for e in audit]
    await web_login(client, admin)
    page = await client.get(f"/admin/orgs/{provider.org_id}")
    assert page.status_code == 200 and "No bids to show." in page.text
    await pass_bid_deadline(tid)
    await client.get(tender_url(merchant, tid), headers=merchant.headers)  # closes bidding
    page = await client.get(f"/admin/orgs/{provider.org_id}")
    assert "No bids to show." not in page.text and "Pre-sales customer service" in page.text


async def test_the_admin_pages_search_read_and_suspend(client, admin):
    provider = await _org("provider", unique("Page agency"))
    await web_login(client, admin)
    listing = await client.get("/admin", params={"q": provider.extra["org_name"], "kind": "provider"})
    assert listing.status_code == 200 and f'href="/admin/orgs/{provider.org_id}"' in listing.text
    org_page = await client.get(f"/admin/orgs/{provider.org_id}")
    assert org_page.status_code == 200 and provider.email in org_page.text
    token = await csrf_token(client, f"/admin/orgs/{provider.org_id}")
    short = await client.post(f"/admin/orgs/{provider.org_id}/suspend", data={"_csrf_token": token, "reason": "x"})
    assert short.status_code == 422 and 'data-testid="admin-error"' in short.text
    done = await client.post(f"/admin/orgs/{provider.org_id}/suspend",
                             data={"_csrf_token": token, "reason": "Spam"})
    assert done.status_code == 200 and 'data-testid="suspended-note"' in done.text and "Spam" in done.text
    suspended = await client.get("/admin", params={"suspended": "yes", "q": provider.extra["org_name"]})
    assert f'href="/admin/orgs/{provider.org_id}"' in suspended.text
    audit_page = await client.get("/admin/audit", params={"actor": admin.email, "action": "suspended"})
    assert audit_page.status_code == 200 and "suspended" in audit_page.text
    bad = await client.get("/admin/audit", params={"since": "yesterday"})
    assert bad.status_code == 422
