"""The CSRF token of a signed-in person belongs to their session: a token (and CSRF
cookie) that another browser or another session obtained does not let a forged form
ride on the victim's session cookie."""

from __future__ import annotations

import pytest

from fuwu.auth import SESSION_COOKIE
from fuwu.tables import ApiToken
from tests.conftest import CSRF_RE, assert_problem, csrf_token, new_actor, web_login

pytestmark = pytest.mark.usefixtures("quick_password_hashing")


async def _tokens_of(actor) -> int:
    return await ApiToken.count().where(ApiToken.user == actor.user_id)


def _forged(victim_session: str, csrf_cookie: str | None) -> dict:
    cookies = f"{SESSION_COOKIE}={victim_session}"
    if csrf_cookie:
        cookies += f"; fuwu_csrf={csrf_cookie}"
    return {"Cookie": cookies}


async def test_an_attackers_own_csrf_cookie_and_token_do_not_work_with_the_victims_session(client, make_client):
    victim = await new_actor("merchant")
    await web_login(client, victim)
    victim_session = client.cookies[SESSION_COOKIE]
    before = await _tokens_of(victim)

    attacker = await make_client()
    attacker_token = await csrf_token(attacker, "/login")
    attacker_cookie = attacker.cookies["fuwu_csrf"]
    # A fresh client sends exactly the victim's session cookie and the attacker's pair.
    forger = await make_client()
    forged = await forger.post("/account/tokens", data={"_csrf_token": attacker_token, "name": "stolen"},
                               headers=_forged(victim_session, attacker_cookie), follow_redirects=False)
    assert forged.status_code == 403, forged.text[:300]
    assert "Form expired" in forged.text or "form expired" in forged.text.lower()
    as_header = await forger.post(f"/api/v1/orgs/{victim.org_id}/tenders", json={},
                                  headers={**_forged(victim_session, attacker_cookie), "X-CSRFToken": attacker_token})
    assert_problem(as_header, 403, "csrf_failed")
    assert await _tokens_of(victim) == before


async def test_a_token_from_another_session_does_not_work(client, make_client):
    victim = await new_actor("merchant")
    await web_login(client, victim)
    victim_session = client.cookies[SESSION_COOKIE]
    # The attacker signs in as themselves and takes the token their own pages carry.
    attacker_actor = await new_actor("merchant")
    attacker = await make_client()
    await web_login(attacker, attacker_actor)
    attacker_token = await csrf_token(attacker, "/account")
    before = await _tokens_of(victim)

    forger = await make_client()
    forged = await forger.post("/account/tokens", data={"_csrf_token": attacker_token, "name": "stolen"},
                               headers=_forged(victim_session, attacker.cookies.get("fuwu_csrf")),
                               follow_redirects=False)
    assert forged.status_code == 403
    assert await _tokens_of(victim) == before


async def test_the_token_on_the_victims_own_pages_works_for_the_whole_session(client):
    person = await new_actor("merchant")
    await web_login(client, person)
    before = await _tokens_of(person)
    first = await csrf_token(client, "/account")
    assert first == await csrf_token(client, "/dashboard")
    created = await client.post("/account/tokens", data={"_csrf_token": first, "name": "mine"},
                                follow_redirects=False)
    assert created.status_code == 303, created.text[:300]
    assert await _tokens_of(person) == before + 1
    # The same token works as the X-CSRFToken header of an API call with the cookie.
    api = await client.post(f"/api/v1/orgs/{person.org_id}/tenders", json={"title": "x"},
                            headers={"X-CSRFToken": first})
    assert api.status_code != 403, api.text[:300]


async def test_a_new_session_gets_a_new_token_and_the_old_one_stops_working(client, make_client):
    person = await new_actor("merchant")
    await web_login(client, person)
    old_session = client.cookies[SESSION_COOKIE]
    old = await csrf_token(client, "/account")

    other = await make_client()
    await web_login(other, person)
    new = await csrf_token(other, "/account")
    assert new != old
    before = await _tokens_of(person)
    mixed = await other.post("/account/tokens", data={"_csrf_token": old, "name": "mixed"}, follow_redirects=False)
    assert mixed.status_code == 403
    assert await _tokens_of(person) == before
    assert old_session != other.cookies[SESSION_COOKIE]


async def test_the_login_form_still_works_before_any_session(make_client):
    person = await new_actor("merchant")
    browser = await make_client()
    page = await browser.get("/login")
    assert CSRF_RE.search(page.text)
    await web_login(browser, person)
    assert browser.cookies.get(SESSION_COOKIE)
