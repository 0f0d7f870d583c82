"""Log-in under attack: password hashing leaves the server responsive, the failure
limits hold exactly under concurrent requests (counted in the database), nobody can
lock another person out of their account, an account guessed at from many
addresses is slowed down rather than locked, every 429 says when to retry, and
X-Forwarded-For counts only from the proxies named in the settings."""

from __future__ import annotations

import asyncio
import dataclasses
import random
import re
import threading
import time

import pytest

from fuwu import security
from fuwu.settings import get_settings
from tests.conftest import PASSWORD, csrf_token, new_actor, unique

pytestmark = pytest.mark.usefixtures("quick_password_hashing")



def _address(prefix: str = "198.18") -> str:
    """A fresh address per use (attempts are kept in the database: no other test's or
    earlier run's count applies to it)."""
    return f"{prefix}.{random.randrange(256)}.{random.randrange(1, 255)}"


@pytest.fixture
def limits(monkeypatch):
    """The log-in limits of a small deployment, for this test."""

    def apply(**values):
        changed = dataclasses.replace(get_settings(), **values)
        for module in ("fuwu.services.accounts.sessions", "fuwu.security"):
            monkeypatch.setattr(f"{module}.get_settings", lambda: changed)
        return changed

    return apply


async def _login_form(make_client, ip: str, headers: dict | None = None):
    client = await make_client(ip=ip)
    if headers:
        client.headers.update(headers)
    return client, await csrf_token(client)


async def _login(client, token: str, email: str, password: str):
    return await client.post("/login", data={"_csrf_token": token, "email": email, "password": password},
                             follow_redirects=False)


def _signed_in(response) -> bool:
    return response.status_code == 302 and response.headers["location"] == "/dashboard"


def _retry_after(response) -> int:
    assert response.status_code == 429, response.status_code
    seconds = int(response.headers["retry-after"])
    assert 1 <= seconds <= 60
    assert re.search(r"Wait \d+ seconds", response.text)
    return seconds


async def test_hashing_runs_beside_the_event_loop_a_few_at_a_time(make_client, monkeypatch, limits):
    limits(password_hashing_threads=1)
    running = 0
    most = 0
    lock = threading.Lock()
    verify = security.verify_password

    def counted(password_hash, password):
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        try:
            return verify(password_hash, password)
        finally:
            with lock:
                running -= 1

    monkeypatch.setattr("fuwu.security.verify_password", counted)
    forms = [await _login_form(make_client, _address()) for _ in range(30)]
    probe = await make_client()
    stalled = 0.0
    done = asyncio.Event()

    async def ticker():
        # How long the event loop could not run anything else, added up.
        nonlocal stalled
        while not done.is_set():
            before = time.monotonic()
            await asyncio.sleep(0.005)
            stalled += max(0.0, time.monotonic() - before - 0.02)

    watching = asyncio.create_task(ticker())
    started = time.monotonic()
    logins = [asyncio.create_task(_login(c, t, f"{unique()}@example.test", "wrong password 1")) for c, t in forms]
    await asyncio.sleep(0.05)
    health = await probe.get("/healthz")
    answers = await asyncio.gather(*logins)
    all_seconds = time.monotonic() - started
    done.set()
    await watching

    assert health.status_code == 200
    assert all(a.status_code == 401 for a in answers), [a.status_code for a in answers]
    # 30 argon2 verifications (tens of milliseconds of CPU each, more on a busy
    # machine) ran beside the event loop, not on it.
    # (On the loop it was stalled nearly the whole time; the margin is for a busy machine.)
    assert stalled < all_seconds / 2, (stalled, all_seconds)
    assert most == 1


async def test_concurrent_failures_on_one_account_from_one_address_get_at_most_the_limit(make_client, limits):
    limits(login_attempts_per_minute=10, login_attempts_per_address_per_minute=1000)
    victim = await new_actor()
    ip = _address()
    forms = [await _login_form(make_client, ip) for _ in range(30)]
    answers = await asyncio.gather(*(_login(c, t, victim.email, "wrong password 1") for c, t in forms))
    statuses = sorted(a.status_code for a in answers)
    assert statuses.count(401) <= 10 and statuses.count(401) >= 1, statuses
    assert statuses.count(429) == 30 - statuses.count(401), statuses
    for answer in answers:
        if answer.status_code == 429:
            _retry_after(answer)


async def test_concurrent_failures_on_many_accounts_from_one_address_get_at_most_the_address_limit(make_client,
                                                                                                   limits):
    limits(login_attempts_per_minute=10, login_attempts_per_address_per_minute=12)
    ip = _address()
    forms = [await _login_form(make_client, ip) for _ in range(30)]
    answers = await asyncio.gather(*(_login(c, t, f"{unique()}@example.test", "wrong password 1") for c, t in forms))
    statuses = [a.status_code for a in answers]
    assert 1 <= statuses.count(401) <= 12 and statuses.count(429) == 30 - statuses.count(401), statuses
    for answer in answers:
        if answer.status_code == 429:
            _retry_after(answer)


async def test_an_attacker_cannot_lock_the_owner_out(make_client, limits):
    limits(login_attempts_per_minute=3, login_attempts_per_address_per_minute=1000, login_slowdown_max_seconds=0.2)
    victim = await new_actor()
    attacker, token = await _login_form(make_client, _address())
    for _ in range(6):
        await _login(attacker, token, victim.email, "wrong password 1")
    assert (await _login(attacker, token, victim.email, PASSWORD)).status_code == 429
    owner, owner_token = await _login_form(make_client, _address())
    assert _signed_in(await _login(owner, owner_token, victim.email, PASSWORD))


async def test_an_account_failed_on_from_many_addresses_is_slowed_down_not_locked(make_client, limits):
    limits(login_attempts_per_minute=3, login_attempts_per_address_per_minute=1000, login_slowdown_max_seconds=1.5)
    victim = await new_actor()
    bystander = await new_actor()
    for _ in range(9):
        client, token = await _login_form(make_client, _address())
        assert (await _login(client, token, victim.email, "wrong password 1")).status_code == 401
    owner, owner_token = await _login_form(make_client, _address())
    started = time.monotonic()
    assert _signed_in(await _login(owner, owner_token, victim.email, PASSWORD))
    slowed = time.monotonic() - started
    other, other_token = await _login_form(make_client, _address())
    started = time.monotonic()
    assert _signed_in(await _login(other, other_token, bystander.email, PASSWORD))
    unhindered = time.monotonic() - started
    assert slowed >= 1.45 and slowed >= unhindered + 1.0, (slowed, unhindered)


async def test_forwarded_for_is_ignored_unless_the_peer_is_a_trusted_proxy(make_client, limits):
    limits(login_attempts_per_minute=3, login_attempts_per_address_per_minute=4, trusted_proxies=("10.9.0.0/16",))
    victim = await new_actor()
    # A client sending its own X-Forwarded-For is counted by its real address.
    direct = _address()
    answers = []
    for n in range(8):
        client, token = await _login_form(make_client, direct, {"X-Forwarded-For": f"203.0.113.{n + 1}"})
        answers.append((await _login(client, token, f"{unique()}@example.test", "wrong password 1")).status_code)
    assert answers.count(401) == 4 and answers.count(429) == 4, answers

    # Behind a trusted proxy each client is counted by the address the proxy saw
    # (the right-most one it did not add itself), not by the proxy's own.
    proxy = "10.9.0.7"
    answers = []
    for n in range(8):
        client, token = await _login_form(make_client, proxy, {"X-Forwarded-For": _address()})
        answers.append((await _login(client, token, f"{unique()}@example.test", "wrong password 1")).status_code)
    assert answers == [401] * 8, answers

    # A client forging the left part of the header behind the proxy is still one client.
    real = _address()
    answers = []
    for n in range(8):
        client, token = await _login_form(make_client, proxy, {"X-Forwarded-For": f"192.0.2.{n + 1}, {real}"})
        answers.append((await _login(client, token, victim.email, "wrong password 1")).status_code)
    assert answers.count(401) == 3 and answers.count(429) == 5, answers


def test_client_address_reads_forwarded_for_from_the_right(monkeypatch):
    settings = dataclasses.replace(get_settings(), trusted_proxies=("10.0.0.0/8", "192.168.1.1"))
    monkeypatch.setattr("fuwu.security.get_settings", lambda: settings)
    assert security.client_address("198.51.100.1", ["203.0.113.5"]) == "198.51.100.1"
    assert security.client_address("10.1.2.3", ["203.0.113.5"]) == "203.0.113.5"
    assert security.client_address("10.1.2.3", ["1.1.1.1, 203.0.113.5, 192.168.1.1"]) == "203.0.113.5"
    assert security.client_address("10.1.2.3", ["1.1.1.1", "203.0.113.5"]) == "203.0.113.5"
    assert security.client_address("10.1.2.3", ["not an address"]) == "10.1.2.3"
    assert security.client_address("10.1.2.3", []) == "10.1.2.3"
    monkeypatch.setattr("fuwu.security.get_settings", lambda: dataclasses.replace(settings, trusted_proxies=()))
    assert security.client_address("10.1.2.3", ["203.0.113.5"]) == "10.1.2.3"
