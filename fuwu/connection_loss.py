"""A lost database connection (PostgreSQL restarting or failing over, an operator
terminating backends) is not a bug in the request: it answers 503 with Retry-After,
the pool's connections are replaced, and a read (GET, HEAD) — safe to run twice — is
run once more on a fresh connection before anyone sees an error.

SQLite opens its file per connection and has no such failure; nothing here applies
to it."""

from __future__ import annotations

import asyncio
import logging

from litestar.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("fuwu.db")

# What a client is told to wait before trying again: a restart takes a few seconds.
RETRY_AFTER_SECONDS = 2
# Set on the request's scope by the error handler that answered 503 for a lost connection.
LOST = "fuwu_connection_lost"
SAFE_METHODS = frozenset({"GET", "HEAD"})

_INTERFACE_TEXTS = ("connection is closed", "connection was closed", "cannot switch to state",
                    "the underlying connection is closed")


def _lost(exc: BaseException) -> bool:
    try:
        import asyncpg
    except ImportError:  # pragma: no cover
        return False
    if isinstance(exc, (asyncpg.PostgresConnectionError, asyncpg.AdminShutdownError, asyncpg.CrashShutdownError,
                        asyncpg.CannotConnectNowError, asyncpg.ConnectionDoesNotExistError,
                        asyncpg.TooManyConnectionsError)):
        return True
    if isinstance(exc, (asyncpg.InterfaceError, asyncpg.InternalClientError)):
        # asyncpg's own errors on a connection the server dropped under it; other
        # interface errors (misuse) stay bugs.
        text = str(exc).lower()
        return any(part in text for part in _INTERFACE_TEXTS)
    # The server refusing or resetting the socket while it restarts.
    return isinstance(exc, (ConnectionRefusedError, ConnectionResetError, BrokenPipeError, ConnectionAbortedError))


def is_connection_lost(exc: BaseException) -> bool:
    """Whether `exc`, or what it was raised from, is the database connection going away."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if _lost(current):
            return True
        current = current.__cause__ or current.__context__
    return False


async def replace_pooled_connections() -> None:
    """Every connection the pool holds is closed and opened afresh on its next use:
    when one was dropped by a restart, so were the idle ones."""
    from fuwu.piccolo_conf import DB

    pool = getattr(DB, "pool", None)
    if pool is not None:
        await pool.expire_connections()


def connection_lost(scope: Scope) -> None:
    """Called by the error handler that answers a lost connection: marks the request
    (for `serve_read`) and has the pool's connections replaced."""
    scope[LOST] = True
    try:
        asyncio.get_running_loop().create_task(replace_pooled_connections())
    except RuntimeError:  # pragma: no cover - no loop
        pass


async def serve_read(app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> None:
    """Serves a GET or HEAD with `app`, and once more when its first run lost the
    database connection before anything was sent; the first run's 503 is never sent.
    Writes are not run twice (fuwu.middleware calls this for GET and HEAD only):
    whether they committed is unknown, and the client decides (with an
    Idempotency-Key where it has one)."""
    started = False
    withheld = False

    async def first_send(message: Message) -> None:
        nonlocal started, withheld
        if message["type"] == "http.response.start" and scope.get(LOST):
            withheld = True
        if withheld:
            return
        started = True
        await send(message)

    try:
        await app(scope, receive, first_send)
    except Exception as exc:
        if started or not is_connection_lost(exc):
            raise
        withheld = True
    if not withheld:
        return
    log.warning("database connection lost on %s %s; reading once more", scope["method"], scope["path"])
    scope.pop(LOST, None)
    await replace_pooled_connections()
    await app(scope, receive, send)
