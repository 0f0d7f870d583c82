"""When a request reached Fuwu: the server time at which it was fully received.

The bid deadline is judged on this time, not on the time the bid's transaction runs
(DESIGN.md section 3): under a burst a bid may wait in the server's own queue (the
event loop, the connection pool, the tender's lock) until after the deadline, and a
provider who submitted in time must not lose the tender to that queue.

`stamp` is the first thing the request middleware (fuwu.middleware) does. It reads a
small body (up to `EAGER_BODY_BYTES`) at once, before authentication or anything else
that waits, stamps the time from `fuwu.clock.now()` when the last part has arrived,
and gives the app a `receive` that hands the body on unchanged. A larger body (an
attachment) is stamped when the app reads its last part; a request without a body
when it starts. The stamp is read with `received_at()`: None outside a request (jobs,
commands, tests calling services directly), where callers use the current time.
"""

from __future__ import annotations

import contextvars
import datetime

from litestar.types import Message, Receive, Scope

from fuwu.clock import now

EAGER_BODY_BYTES = 1024 * 1024
_BODYLESS = frozenset({"GET", "HEAD", "OPTIONS"})

_received: contextvars.ContextVar[datetime.datetime | None] = contextvars.ContextVar("fuwu_received_at",
                                                                                        default=None)


def received_at() -> datetime.datetime | None:
    """The server time at which the current request was fully received, or None."""
    return _received.get()


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def stamp(scope: Scope, receive: Receive) -> tuple[Receive, contextvars.Token]:
    """Stamps the time of receipt of the HTTP request in `scope`. Returns the `receive`
    the app reads the body with, and the token that `unstamp` takes when the request
    is done."""
    if scope.get("method") in _BODYLESS:
        return receive, _received.set(now())
    length = _content_length(scope)
    if length == 0:
        return receive, _received.set(now())
    if length is not None and length <= EAGER_BODY_BYTES:
        # Read it all now; the app gets the same messages in the same order.
        messages: list[Message] = []
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request" or not message.get("more_body", False):
                break
        token = _received.set(now())
        replay = iter(messages)

        async def replaying_receive() -> Message:
            for message in replay:
                return message
            return await receive()

        return replaying_receive, token

    # A large or chunked body: stamped when the app reads its last part.
    async def stamping_receive() -> Message:
        message = await receive()
        if message["type"] == "http.request" and not message.get("more_body", False) \
                and _received.get() is None:
            _received.set(now())
        return message

    return stamping_receive, _received.set(None)


def unstamp(token: contextvars.Token) -> None:
    """Forgets the stamp once the request is done."""
    _received.reset(token)
