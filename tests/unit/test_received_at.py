"""A request's time is when its body had fully arrived (fuwu.received), not when the
app got round to it: the stamp is taken before anything in the app waits."""

from __future__ import annotations

import asyncio

from fuwu.clock import now
from fuwu.received import received_at, stamp, unstamp


async def _serve(app, scope, receive) -> None:
    """As fuwu.middleware serves a request: stamped first, the stamp forgotten after."""
    receive, token = await stamp(scope, receive)
    try:
        await app(scope, receive, lambda message: None)
    finally:
        unstamp(token)


def _scope(method: str, length: int | None) -> dict:
    headers = [(b"content-type", b"application/json")]
    if length is not None:
        headers.append((b"content-length", str(length).encode()))
    return {"type": "http", "method": method, "path": "/", "headers": headers}


async def _run(method: str, chunks: list[bytes], length: int | None, chunk_pause: float, app_pause: float):
    """Delivers the body in `chunks`, `chunk_pause` seconds apart; the app waits
    `app_pause` seconds before it reads the body and the stamp."""
    delivered: list = []
    seen: dict = {}

    async def receive():
        index = len(delivered)
        if index:
            await asyncio.sleep(chunk_pause)
        delivered.append(now())
        return {"type": "http.request", "body": chunks[index], "more_body": index < len(chunks) - 1}

    async def app(scope, receive, send):
        await asyncio.sleep(app_pause)  # a busy server: authentication, the pool, a lock
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        seen["body"], seen["at"], seen["read_at"] = body, received_at(), now()

    await _serve(app, _scope(method, length), receive)
    return delivered, seen


async def test_a_small_body_is_stamped_when_its_last_part_arrives_however_long_the_app_takes():
    chunks = [b'{"price_amount": ', b"4000000}"]
    delivered, seen = await _run("POST", chunks, sum(map(len, chunks)), chunk_pause=0.05, app_pause=0.3)
    assert seen["body"] == b"".join(chunks)  # the app reads the same body
    assert delivered[-1] <= seen["at"] < delivered[-1] + (seen["read_at"] - delivered[-1]) / 4
    assert (seen["read_at"] - seen["at"]).total_seconds() >= 0.29


async def test_a_large_or_chunked_body_is_stamped_when_the_app_reads_its_last_part():
    delivered, seen = await _run("POST", [b"a" * 10, b"b" * 10], None, chunk_pause=0.05, app_pause=0.1)
    assert seen["body"] == b"a" * 10 + b"b" * 10
    assert delivered[-1] <= seen["at"] <= seen["read_at"]


async def test_a_request_without_a_body_is_stamped_when_it_starts():
    started = now()
    stamps = []

    async def app(scope, receive, send):
        await asyncio.sleep(0.2)
        stamps.append(received_at())

    await _serve(app, _scope("GET", None), None)
    assert started <= stamps[0] and (stamps[0] - started).total_seconds() < 0.1
    assert received_at() is None  # outside a request
