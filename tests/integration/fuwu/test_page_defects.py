"""Smaller defects people met on the pages (issue 8, point 19), one test each, through
the real app over HTTP as a browser would use it."""

from __future__ import annotations

import re
from html import unescape

import pytest

from fuwu.services import accounts
from tests.conftest import csrf_token, new_actor, web_login

pytestmark = pytest.mark.usefixtures("quick_password_hashing")


async def test_favicon_is_served(client):
    response = await client.get("/favicon.ico")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("image/")
    # An icon file (ICO header: reserved 0, type 1) holding at least one image.
    assert response.content[:4] == b"\x00\x00\x01\x00" and len(response.content) > 22
    page = await client.get("/login")
    assert '<link rel="icon" href="/favicon.ico">' in page.text


def hidden_value(html: str, name: str) -> str:
    match = re.search(rf'<input type="hidden" name="{name}" value="([^"]*)"', html)
    assert match, f"no hidden {name} field"
    return unescape(match.group(1))


async def test_token_help_shows_the_authorization_header_whole(client, merchant):
    await web_login(client, merchant)
    page = await client.get("/account")
    # '<token>' is text, not a tag the browser swallows (it showed "Bearer '").
    assert "Authorization: Bearer &lt;token&gt;" in page.text
    assert "Bearer <token>" not in page.text


async def test_switching_language_keeps_the_query_string(client):
    page = await client.get("/signup?kind=provider")
    nxt = hidden_value(page.text, "next")
    assert nxt == "/signup?kind=provider"
    switched = await client.post("/language", data={"_csrf_token": hidden_value(page.text, "_csrf_token"),
                                                    "locale": "zh_Hans", "next": nxt})
    assert switched.status_code == 200
    assert switched.url.path == "/signup" and switched.url.query == b"kind=provider"
    assert '<html lang="zh-Hans">' in switched.text
    # The provider's fields are the ones chosen.
    assert re.search(r'value="provider"[^>]*checked', switched.text)


async def test_reloading_the_account_page_after_creating_a_token_shows_it_once_and_resends_nothing(client, merchant):
    await web_login(client, merchant)
    token = await csrf_token(client, "/account")
    created = await client.post("/account/tokens", data={"_csrf_token": token, "name": "nightly export"})
    # The browser was sent on to the account page (a GET) that shows the token once.
    assert created.status_code == 200 and created.url.path == "/account"
    assert [r.status_code for r in created.history] == [303]
    shown = re.search(r'data-testid="new-token">([^<]+)<', created.text)
    assert shown, created.text
    works = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {shown.group(1)}"})
    assert works.status_code == 200
    # A reload is a GET of /account: no second token, and the secret is not shown again.
    reloaded = await client.get(str(created.url))
    assert reloaded.status_code == 200
    assert 'data-testid="new-token"' not in reloaded.text
    assert reloaded.text.count("nightly export") == 1
    # The form's own address answers too (an old history entry), instead of 405.
    old_address = await client.get("/account/tokens")
    assert old_address.status_code == 200 and old_address.url.path == "/account"


async def test_a_language_chosen_before_logging_in_is_kept_and_saved_on_the_account(client):
    chinese = await new_actor("merchant")
    await accounts.set_locale(chinese.user_id, "zh_Hans")
    login = await client.get("/login")
    chosen = await client.post("/language", data={"_csrf_token": hidden_value(login.text, "_csrf_token"),
                                                  "locale": "en", "next": "/login"})
    assert '<html lang="en">' in chosen.text
    await web_login(client, chinese)
    dashboard = await client.get("/dashboard")
    assert '<html lang="en">' in dashboard.text and "Dashboard" in dashboard.text
    assert (await accounts.get_user(chinese.user_id))["locale"] == "en"


async def test_logging_in_from_a_page_read_in_the_browsers_language_keeps_that_language(make_client):
    """Nobody reading the English log-in page is switched to Chinese by logging in (a
    demo account's saved language is Chinese): the form carries the page's language."""
    chinese = await new_actor("merchant")
    await accounts.set_locale(chinese.user_id, "zh_Hans")
    browser = await make_client()
    browser.headers["Accept-Language"] = "en-GB,en;q=0.9"
    page = await browser.get("/login")
    assert '<html lang="en">' in page.text and hidden_value(page.text, "locale") == "en"
    await browser.post("/login", data={"_csrf_token": hidden_value(page.text, "_csrf_token"),
                                       "locale": hidden_value(page.text, "locale"), "next": "/dashboard",
                                       "email": chinese.email, "password": chinese.password})
    dashboard = await browser.get("/dashboard")
    assert '<html lang="en">' in dashboard.text and "Dashboard" in dashboard.text
    assert (await accounts.get_user(chinese.user_id))["locale"] == "en"


async def test_a_log_in_without_the_pages_language_keeps_the_accounts_language(make_client):
    """A client that posts the log-in form without the page's language field (a script)
    gets the account's saved language."""
    chinese = await new_actor("merchant")
    await accounts.set_locale(chinese.user_id, "zh_Hans")
    browser = await make_client()
    browser.headers["Accept-Language"] = "en-GB,en;q=0.9"
    await web_login(browser, chinese)
    assert '<html lang="zh-Hans">' in (await browser.get("/dashboard")).text
