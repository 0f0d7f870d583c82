"""New passwords that are easy to guess are refused with a message saying what to do
(NIST SP 800-63B: common in breaches, repetitive, sequential, or the e-mail's name),
on the API and on the sign-up page; and an address gets a limited number of sign-ups
an hour, counted in the database, with Retry-After on the 429."""

from __future__ import annotations

import asyncio
import dataclasses
import random

import pytest

from fuwu.settings import get_settings
from fuwu.tables import Organisation, User
from tests.conftest import PASSWORD, assert_problem, csrf_token, unique

pytestmark = pytest.mark.usefixtures("quick_password_hashing")


def _address() -> str:
    """A fresh address per use (sign-ups are kept in the database for an hour)."""
    return f"198.19.{random.randrange(256)}.{random.randrange(1, 255)}"


def _body(email: str | None = None, password: str = PASSWORD) -> dict:
    return {
        "email": email or f"{unique()}@shop.test", "password": password, "display_name": "Chen Jing",
        "organisation": {"kind": "merchant", "name": "Lanfei Fashion", "size": "medium", "province": "Zhejiang"},
    }


WEAK = [
    pytest.param("password", None, "most common", id="password"),
    pytest.param("12345678", None, "most common", id="12345678"),
    pytest.param("aaaaaaaa", None, "most common", id="aaaaaaaa"),
    pytest.param("Password1", None, "most common", id="common-in-other-case"),
    pytest.param("iloveyou2026!", None, "most common", id="common-with-digits-added"),
    pytest.param("xyzxyzxyz", None, "repeats", id="repeated-unit"),
    pytest.param("zzzzzzzzzzzz", None, "repeats", id="one-letter"),
    pytest.param("ponmlkjihg", None, "run of", id="letters-down"),
    pytest.param("lmnopqrstu", None, "run of", id="letters-up"),
    pytest.param("chen.jing.2026", "chen.jing@shop.test", "name of your e-mail", id="email-name"),
    pytest.param("my-lanfei-shop!", "lanfei@shop.test", "name of your e-mail", id="email-name-inside"),
]


@pytest.mark.parametrize(("password", "email", "says"), WEAK)
async def test_an_easy_password_is_refused_by_the_api_and_nothing_is_created(client, password, email, says):
    users, orgs = await User.count(), await Organisation.count()
    body = _body(email or f"{unique()}@shop.test", password)
    problem = assert_problem(await client.post("/api/v1/signup", json=body), 422, "weak_password")
    assert says in problem["detail"] and "Choose another" in problem["detail"]
    assert (await User.count(), await Organisation.count()) == (users, orgs)


async def test_an_easy_password_is_refused_on_the_sign_up_page_in_the_readers_language(make_client):
    browser = await make_client(ip=_address())
    email = f"{unique()}@shop.test"
    form = {"_csrf_token": await csrf_token(browser, "/signup"), "kind": "merchant", "display_name": "Chen Jing",
            "email": email, "password": "12345678", "org_name": "Lanfei", "size": "medium", "province": "Zhejiang"}
    page = await browser.post("/signup", data=form)
    assert page.status_code == 422 and "one of the most common" in page.text
    assert not await User.exists().where(User.email == email)
    browser.cookies.set("fuwu_lang", "zh_Hans")
    form["_csrf_token"] = await csrf_token(browser, "/signup")
    page = await browser.post("/signup", data=form)
    assert page.status_code == 422 and "最常见" in page.text


@pytest.mark.parametrize("password", ["correct horse battery", "Tmall 11.11 peak plan", "fuwu-demo-2026",
                                      "lanterns by the west lake"])
async def test_passwords_that_are_not_easy_are_accepted(client, password):
    response = await client.post("/api/v1/signup", json=_body(password=password))
    assert response.status_code == 201, response.text


async def test_sign_ups_from_one_address_are_limited_even_when_concurrent(make_client, monkeypatch):
    limited = dataclasses.replace(get_settings(), signups_per_address_per_hour=3)
    monkeypatch.setattr("fuwu.services.accounts.people.get_settings", lambda: limited)
    crowd = _address()
    clients = [await make_client(ip=crowd) for _ in range(8)]
    answers = await asyncio.gather(*(c.post("/api/v1/signup", json=_body()) for c in clients))
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [201] * 3 + [429] * 5, statuses
    for answer in answers:
        if answer.status_code == 429:
            assert_problem(answer, 429, "too_many_sign_ups")
            assert 60 <= int(answer.headers["retry-after"]) <= 3600
    # The page counts against the same address, and says when to come back.
    browser = clients[0]
    form = {"_csrf_token": await csrf_token(browser, "/signup"), "kind": "merchant", "display_name": "Chen Jing",
            "email": f"{unique()}@shop.test", "password": PASSWORD, "org_name": "Lanfei", "size": "medium",
            "province": "Zhejiang"}
    page = await browser.post("/signup", data=form)
    assert page.status_code == 429 and int(page.headers["retry-after"]) >= 60
    assert "Too many sign-ups" in page.text
    # Another address is not affected.
    elsewhere = await make_client(ip=_address())
    assert (await elsewhere.post("/api/v1/signup", json=_body())).status_code == 201
