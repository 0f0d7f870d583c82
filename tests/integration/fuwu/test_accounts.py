"""Sign-up, log-in, sessions, CSRF, tokens, organisations, invitations, audit,
notifications and idempotency, through the real app and database."""

from __future__ import annotations

import dataclasses
import uuid

from fuwu.services import accounts
from fuwu.settings import get_settings
from fuwu.tables import AuditEvent, Membership, Organisation, User
from tests.conftest import PASSWORD, add_member, assert_problem, csrf_token, new_actor, unique, web_login


async def _signup(client, **overrides):
    token = await csrf_token(client, "/signup")
    form = {
        "_csrf_token": token, "display_name": "Chen Jing", "email": f"{unique()}@shop.test", "password": PASSWORD,
        "kind": "merchant", "org_name": "Lanfei Fashion", "province": "Zhejiang", "city": "Hangzhou",
        "size": "key_account", **overrides,
    }
    return form, await client.post("/signup", data=form)


async def test_signup_creates_merchant_and_shows_dashboard(client):
    form, response = await _signup(client)
    assert response.status_code == 200
    assert "Lanfei Fashion" in response.text and 'data-testid="dashboard-title"' in response.text
    user = await User.select().where(User.email == form["email"]).first()
    org = await Organisation.select().where(Organisation.name == "Lanfei Fashion").first()
    assert org["size"] == "key_account" and org["currency"] == "CNY" and org["timezone"] == "Asia/Shanghai"
    member = await Membership.select().where(Membership.user == user["id"]).first()
    assert member["role"] == "owner"
    assert await AuditEvent.exists().where((AuditEvent.object_id == str(org["id"])) & (AuditEvent.action == "created"))


async def test_signup_with_taken_email_shows_error_and_creates_nothing(client):
    form, _ = await _signup(client)
    await client.post("/logout", data={"_csrf_token": await csrf_token(client, "/dashboard")})
    before = await Organisation.count()
    _, response = await _signup(client, email=form["email"].upper(), org_name="Second shop")
    assert response.status_code == 422
    assert "already exists" in response.text
    assert await Organisation.count() == before


async def test_signup_merchant_without_size_is_refused(client):
    before = await User.count()
    _, response = await _signup(client, size="")
    assert response.status_code == 422
    assert await User.count() == before


async def test_provider_signup_keeps_categories(client):
    token = await csrf_token(client, "/signup")
    email = f"{unique()}@provider.test"
    response = await client.post("/signup", data={
        "_csrf_token": token, "display_name": "Zhang Wei", "email": email, "password": PASSWORD,
        "kind": "provider", "org_name": "Xingchen CS", "categories": ["cs_presales", "cs_postsales"],
        "profile": "120 agents",
    })
    assert response.status_code == 200
    me = await accounts.get_user((await User.select(User.id).where(User.email == email).first())["id"])
    assert me["memberships"][0]["organisation"]["categories"] == ["cs_presales", "cs_postsales"]


async def test_wrong_password_is_refused_and_rate_limited(make_client, monkeypatch):
    # Failed log-ins are counted per e-mail and per address: an address of its own
    # keeps other tests' failures out of this count.
    client = await make_client(ip="198.51.100.7")
    actor = await new_actor()
    limited = dataclasses.replace(get_settings(), login_attempts_per_minute=3)
    monkeypatch.setattr("fuwu.services.accounts.sessions.get_settings", lambda: limited)
    for _ in range(3):
        token = await csrf_token(client)
        response = await client.post("/login", data={"_csrf_token": token, "email": actor.email, "password": "nope-nope"})
        assert response.status_code == 401 and "Wrong e-mail or password" in response.text
    token = await csrf_token(client)
    response = await client.post("/login", data={"_csrf_token": token, "email": actor.email, "password": PASSWORD})
    assert response.status_code == 429, "the right password must wait too once the limit is reached"
    assert "/dashboard" not in str(response.url)


async def test_logout_ends_the_session_for_good(client, make_client):
    actor = await new_actor()
    await web_login(client, actor)
    cookie = client.cookies.get("fuwu_session")
    assert (await client.get("/dashboard")).status_code == 200
    await client.post("/logout", data={"_csrf_token": await csrf_token(client, "/dashboard")})
    replay = await make_client()
    replay.cookies.set("fuwu_session", cookie)
    response = await replay.get("/dashboard", follow_redirects=False)
    assert response.status_code == 302 and response.headers["location"].startswith("/login")


async def test_form_post_without_csrf_token_is_refused_and_changes_nothing(client):
    actor = await new_actor()
    await web_login(client, actor)
    response = await client.post("/org", data={"name": "Hijacked"})
    assert response.status_code == 403
    org = await accounts.get_organisation(actor.org_id)
    assert org["name"] != "Hijacked"


async def test_language_switch_is_kept_on_the_account(client):
    actor = await new_actor()
    await web_login(client, actor)
    token = await csrf_token(client, "/dashboard")
    response = await client.post("/language", data={"_csrf_token": token, "locale": "zh_Hans", "next": "/dashboard"})
    assert "仪表盘" in response.text
    assert (await User.select(User.locale).where(User.id == actor.user_id).first())["locale"] == "zh_Hans"


async def test_api_token_lifecycle(client):
    actor = await new_actor()
    created = await client.post("/api/v1/tokens", json={"name": "order feed"}, headers=actor.headers)
    assert created.status_code == 201
    token = created.json()["token"]
    listed = await client.get("/api/v1/tokens", headers={"Authorization": f"Bearer {token}"})
    assert any(t["name"] == "order feed" and "token" not in t for t in listed.json())
    revoked = await client.delete(f"/api/v1/tokens/{created.json()['id']}", headers=actor.headers)
    assert revoked.status_code == 204
    assert_problem(await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}), 401, "invalid_token")


async def test_invitation_accepted_by_the_invited_person_only(client):
    owner = await new_actor()
    stranger = await new_actor()
    response = await client.post(f"/api/v1/orgs/{owner.org_id}/invitations",
                                 json={"email": "new.evaluator@example.test", "role": "evaluator"}, headers=owner.headers)
    assert response.status_code == 201
    token = response.json()["accept_url"].rsplit("/", 1)[1]
    assert_problem(await client.post("/api/v1/invitations/accept", json={"token": token}, headers=stranger.headers),
                   403, "invitation_for_other_email")
    assert not await Membership.exists().where(
        (Membership.user == stranger.user_id) & (Membership.organisation == owner.org_id))
    member = await add_member(owner, "operator")
    members = (await client.get(f"/api/v1/orgs/{owner.org_id}/members", headers=owner.headers)).json()
    assert {m["email"]: m["role"] for m in members}[member.email] == "operator"


async def test_provider_roles_are_checked_against_kind(client):
    owner = await new_actor("provider")
    assert_problem(await client.post(f"/api/v1/orgs/{owner.org_id}/invitations",
                                     json={"email": "x@example.test", "role": "evaluator"}, headers=owner.headers),
                   422, "role_not_in_kind")


async def test_last_owner_cannot_be_demoted_or_removed(client):
    owner = await new_actor()
    members = (await client.get(f"/api/v1/orgs/{owner.org_id}/members", headers=owner.headers)).json()
    mine = members[0]["id"]
    assert_problem(await client.patch(f"/api/v1/orgs/{owner.org_id}/members/{mine}", json={"role": "operator"},
                                      headers=owner.headers), 409, "last_owner")
    assert_problem(await client.delete(f"/api/v1/orgs/{owner.org_id}/members/{mine}", headers=owner.headers),
                   409, "last_owner")


async def test_organisation_update_is_audited_with_before_and_after(client):
    owner = await new_actor()
    response = await client.patch(f"/api/v1/orgs/{owner.org_id}", json={"city": "Ningbo", "size": "large"},
                                  headers=owner.headers)
    assert response.status_code == 200 and response.json()["city"] == "Ningbo"
    timeline = (await client.get(f"/api/v1/orgs/{owner.org_id}/audit", headers=owner.headers)).json()
    event = timeline["items"][0]
    assert event["action"] == "updated"
    assert event["before"] == {"city": "Hangzhou", "size": "medium"}
    assert event["after"] == {"city": "Ningbo", "size": "large"}


async def test_invited_user_is_notified_and_can_mark_read(client):
    owner = await new_actor()
    invitee = await new_actor()
    await client.post(f"/api/v1/orgs/{owner.org_id}/invitations", json={"email": invitee.email, "role": "operator"},
                      headers=owner.headers)
    page = (await client.get("/api/v1/notifications?unread=true", headers=invitee.headers)).json()
    assert len(page["items"]) == 1 and "invited" in page["items"][0]["title"]
    item = page["items"][0]["id"]
    assert (await client.post(f"/api/v1/notifications/{item}/read", headers=invitee.headers)).status_code == 204
    assert (await client.get("/api/v1/notifications?unread=true", headers=invitee.headers)).json()["items"] == []
    # Another user cannot mark it, nor learn that it exists.
    assert_problem(await client.post(f"/api/v1/notifications/{item}/read", headers=owner.headers), 404)


async def test_notifications_paginate_without_gaps_or_repeats(client):
    from fuwu.services import notifications

    actor = await new_actor()
    for number in range(7):
        await notifications.notify([actor.user_id], kind="test", title="Note {n}", params={"n": number})
    seen, cursor = [], None
    while True:
        url = "/api/v1/notifications?limit=3" + (f"&cursor={cursor}" if cursor else "")
        page = (await client.get(url, headers=actor.headers)).json()
        seen += [item["title"] for item in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == [f"Note {n}" for n in range(6, -1, -1)]


async def test_create_organisation_is_idempotent(client):
    actor = await new_actor()
    body = {"kind": "provider", "name": "Second company", "categories": ["video"]}
    headers = {**actor.headers, "Idempotency-Key": str(uuid.uuid4())}
    first = await client.post("/api/v1/orgs", json=body, headers=headers)
    again = await client.post("/api/v1/orgs", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    assert await Organisation.count().where(Organisation.name == "Second company") == 1
    assert_problem(await client.post("/api/v1/orgs", json={**body, "name": "Other"}, headers=headers),
                   409, "idempotency_key_reused")


async def test_concurrent_retries_of_an_organisation_create_make_one_organisation(client):
    import asyncio

    actor = await new_actor()
    name = f"Retried company {uuid.uuid4().hex[:8]}"
    body = {"kind": "provider", "name": name, "categories": ["video"]}
    headers = {**actor.headers, "Idempotency-Key": str(uuid.uuid4())}
    responses = await asyncio.gather(*[client.post("/api/v1/orgs", json=body, headers=headers) for _ in range(4)])
    assert [r.status_code for r in responses] == [201] * 4, [r.text[:300] for r in responses]
    assert len({r.json()["id"] for r in responses}) == 1
    assert await Organisation.count().where(Organisation.name == name) == 1
    assert await Membership.count().where(Membership.organisation == responses[0].json()["id"]) == 1


async def test_health_endpoints(client):
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    assert (await client.get("/readyz")).json() == {"status": "ready"}


async def test_openapi_schema_lists_the_api(client):
    schema = (await client.get("/schema/openapi.json")).json()
    assert schema["openapi"].startswith("3.1")
    assert "/api/v1/orgs/{org_id}/members" in schema["paths"]


async def test_hand_written_notification_query_matches_the_query_builder():
    from fuwu.services import notifications

    actor = await new_actor()
    for number in range(9):
        await notifications.notify([actor.user_id], kind="test", title="Note {n}", params={"n": number})
    first = await notifications.list_for_user(actor.user_id, None, 4)
    await notifications.mark_read(actor.user_id, first.items[1]["id"])
    for unread in (False, True):
        cursor_fast = cursor_ref = None
        while True:
            fast = await notifications.list_for_user(actor.user_id, cursor_fast, 4, unread_only=unread)
            ref = await notifications._list_for_user_builder(actor.user_id, cursor_ref, 4, unread_only=unread)
            assert [(i["id"], i["title"], i["params"], i["read_at"] is None) for i in fast.items] == \
                   [(i["id"], i["title"], i["params"], i["read_at"] is None) for i in ref.items]
            assert fast.next_cursor == ref.next_cursor
            if not fast.next_cursor:
                break
            cursor_fast, cursor_ref = fast.next_cursor, ref.next_cursor


async def test_a_new_notification_shows_at_once_despite_the_first_page_cache(client):
    from fuwu.services import notifications

    actor = await new_actor()
    assert (await client.get("/api/v1/notifications", headers=actor.headers)).json()["items"] == []
    await notifications.notify([actor.user_id], kind="test", title="Fresh")
    items = (await client.get("/api/v1/notifications", headers=actor.headers)).json()["items"]
    assert [i["title"] for i in items] == ["Fresh"]
    await client.post(f"/api/v1/notifications/{items[0]['id']}/read", headers=actor.headers)
    assert (await client.get("/api/v1/notifications?unread=true", headers=actor.headers)).json()["items"] == []
    assert (await client.get("/api/v1/notifications", headers=actor.headers)).json()["items"][0]["read_at"]


async def test_percent_zero_zero_in_json_text_is_ordinary_text(client):
    actor = await new_actor()
    response = await client.patch("/api/v1/me", json={"display_name": "Deals 100%00 off"}, headers=actor.headers)
    assert response.status_code == 200 and response.json()["display_name"] == "Deals 100%00 off"
