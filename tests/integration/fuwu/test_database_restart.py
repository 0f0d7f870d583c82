"""When PostgreSQL drops the app's connections (a restart, a failover, an operator
terminating backends), requests do not fail with 500: a read (GET) is tried once
more on a fresh connection, anything else answers 503 with Retry-After, and the
pool gives no dead or leaked connection to later requests.

The backends are really terminated, with pg_terminate_backend from a connection of
the test's own, at a moment made exact by holding a lock the request waits for."""

from __future__ import annotations

import asyncio
import time

import pytest

from fuwu import db
from fuwu.piccolo_conf import DB, postgres_config
from fuwu.settings import get_settings
from tenders.tables import Tender
from tests.conftest import assert_problem, new_actor
from tests.tendering import tender_body, tender_url

pytestmark = [
    pytest.mark.skipif(not db.is_postgres(), reason="terminates PostgreSQL backends: runs when DATABASE_URL "
                                                    "names a PostgreSQL database (as in .ci/run's second pass)"),
    pytest.mark.usefixtures("quick_password_hashing"),
]

TERMINATE_OTHERS = ("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()")


@pytest.fixture
async def operator():
    """A connection of the test's own, outside the app's pool, as a database operator's."""
    import asyncpg

    connection = await asyncpg.connect(**postgres_config(get_settings().database_url))
    yield connection
    await connection.close()


async def _when_a_request_waits_for(operator, table: str, request):
    """Holds an exclusive lock on `table`, starts `request`, waits until one of the
    app's backends queues on that lock, terminates every backend of the app (the
    waiting one and the idle ones in its pool), lets the lock go and returns the answer."""
    async with operator.transaction():
        await operator.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
        task = asyncio.create_task(request())
        deadline = time.monotonic() + 10
        while not await operator.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'"):
            assert time.monotonic() < deadline, "the request never reached the locked table"
            assert not task.done(), (await task).text
            await asyncio.sleep(0.01)
        assert await operator.fetchval(TERMINATE_OTHERS) >= 1
    return await asyncio.wait_for(task, 20)


def _pool_is_whole() -> bool:
    return DB.pool.get_idle_size() == DB.pool.get_size()


async def test_a_read_whose_connection_is_terminated_is_tried_again_and_answers(client, operator):
    merchant = await new_actor("merchant")
    created = await client.post(tender_url(merchant), json=tender_body(), headers=merchant.headers)
    assert created.status_code == 201, created.text
    tid = created.json()["id"]

    response = await _when_a_request_waits_for(
        operator, "tenders_tender", lambda: client.get(tender_url(merchant, tid), headers=merchant.headers))

    assert response.status_code == 200, response.text
    assert response.json()["id"] == tid
    assert _pool_is_whole()


async def test_a_write_whose_connection_is_terminated_answers_503_with_retry_after(client, operator):
    merchant = await new_actor("merchant")
    body = tender_body(title="Written while the database restarts")
    before = await Tender.count().where(Tender.merchant == merchant.org_id)

    response = await _when_a_request_waits_for(
        operator, "tenders_tender", lambda: client.post(tender_url(merchant), json=body, headers=merchant.headers))

    problem = assert_problem(response, 503, "database_unavailable")
    assert int(response.headers["retry-after"]) >= 1
    assert "try again" in problem["detail"].lower()
    assert await Tender.count().where(Tender.merchant == merchant.org_id) == before
    assert _pool_is_whole()
    # The client's retry lands on a fresh connection.
    again = await client.post(tender_url(merchant), json=body, headers=merchant.headers)
    assert again.status_code == 201, again.text
    assert await Tender.count().where(Tender.merchant == merchant.org_id) == before + 1


async def test_requests_while_backends_are_terminated_again_and_again_never_get_500(client, operator):
    merchant = await new_actor("merchant")
    tid = (await client.post(tender_url(merchant), json=tender_body(), headers=merchant.headers)).json()["id"]
    answers: list = []
    stop = asyncio.Event()

    async def reader():
        while not stop.is_set():
            response = await client.get(tender_url(merchant, tid), headers=merchant.headers)
            answers.append(("GET", response))

    async def writer():
        while not stop.is_set():
            response = await client.post(tender_url(merchant), json=tender_body(), headers=merchant.headers)
            answers.append(("POST", response))

    workers = [asyncio.create_task(reader()) for _ in range(6)] + [asyncio.create_task(writer()) for _ in range(3)]
    try:
        for _ in range(8):
            await asyncio.sleep(0.08)
            await operator.fetchval(TERMINATE_OTHERS)
        await asyncio.sleep(0.1)
    finally:
        stop.set()
        await asyncio.wait_for(asyncio.gather(*workers), 30)

    statuses = [(method, response.status_code) for method, response in answers]
    assert len(answers) >= 20, statuses
    assert not [s for s in statuses if s[1] >= 500 and s[1] != 503], statuses
    for _, response in answers:
        if response.status_code == 503:
            assert_problem(response, 503, "database_unavailable")
            assert int(response.headers["retry-after"]) >= 1
        else:
            assert response.status_code in (200, 201), response.text
    assert _pool_is_whole()
    # Afterwards every connection the pool hands out works: more requests in a row
    # than the pool holds connections.
    for _ in range(DB.pool.get_max_size() + 5):
        assert (await client.get(tender_url(merchant, tid), headers=merchant.headers)).status_code == 200
