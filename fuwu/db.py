"""Transactions and engine lifecycle, the same on SQLite and PostgreSQL."""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sqlite3
import sys
from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager

import msgspec
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import TransactionType
from piccolo.querystring import QueryString

from fuwu.piccolo_conf import DB

log = logging.getLogger("fuwu.db")

_after_commit: contextvars.ContextVar[list | None] = contextvars.ContextVar("fuwu_after_commit", default=None)


def is_postgres() -> bool:
    return isinstance(DB, PostgresEngine)


@asynccontextmanager
async def atomic():
    """A write transaction; nested calls join the outer one.

    On SQLite it begins IMMEDIATE: taking the write lock at the start makes concurrent
    writers queue on the busy timeout instead of failing with SQLITE_BUSY when a
    deferred transaction tries to upgrade its read lock.
    Callbacks registered with `after_commit` run once the outermost one commits.
    """
    if _after_commit.get() is not None:
        yield
        return
    callbacks: list = []
    token = _after_commit.set(callbacks)
    committed = False
    try:
        if is_postgres():
            transaction = DB.transaction()
        else:
            transaction = DB.transaction(transaction_type=TransactionType.immediate)
        async with transaction:
            yield
        committed = True
    finally:
        _after_commit.reset(token)
        for callback, always in callbacks:
            if committed or always:
                try:
                    await callback()
                except Exception:  # side effects must not undo a committed change
                    log.exception("after-transaction callback failed")


def after_commit(callback: Callable[[], Awaitable[None]]) -> None:
    """Runs `callback` after the current transaction commits (soon, outside one)."""
    _schedule(callback, always=False)


def after_transaction(callback: Callable[[], Awaitable[None]]) -> None:
    """Runs `callback` once the current transaction has ended, committed or rolled
    back, in a transaction of its own: for idempotent work that must not be lost
    with a failing request (closing bidding that a late bid found due)."""
    _schedule(callback, always=True)


def in_transaction() -> bool:
    return _after_commit.get() is not None


def _schedule(callback: Callable[[], Awaitable[None]], always: bool) -> None:
    callbacks = _after_commit.get()
    if callbacks is None:
        import asyncio

        asyncio.get_running_loop().create_task(callback())
    else:
        callbacks.append((callback, always))


def is_unique_violation(exc: BaseException) -> bool:
    if isinstance(exc, sqlite3.IntegrityError):
        return "UNIQUE" in str(exc)
    try:
        import asyncpg

        return isinstance(exc, asyncpg.UniqueViolationError)
    except ImportError:  # pragma: no cover
        return False


# --- hand-written statements -----------------------------------------------------------
#
# Piccolo's query builder costs more CPU than the database for the statements every
# request runs (measured: a third of a bid's server time went to building queries,
# a sixth to ForeignKey attribute access alone). The hottest statements are written
# by hand and run here: PostgreSQL's $1..$n placeholders, turned into SQLite's
# ?1..?n; inside the current transaction when there is one, like Piccolo's own.
# Values go in as Piccolo stores them (UUID, aware datetimes; JSON as text) and come
# out as Piccolo's converters give them on SQLite and asyncpg on PostgreSQL (UUID,
# aware datetimes, booleans; JSON columns as text: use `load_json`).

_PLACEHOLDER = re.compile(r"\$(\d+)")
_sqlite_text: dict[str, str] = {}


def _sqlite_sql(sql: str) -> str:
    text = _sqlite_text.get(sql)
    if text is None:
        text = _sqlite_text[sql] = _PLACEHOLDER.sub(r"?\1", sql)
    return text


async def fetch(sql: str, *args) -> list[dict]:
    """Runs one hand-written statement and returns its rows as dicts."""
    transaction = DB.current_transaction.get()
    if is_postgres():
        if transaction is not None:
            rows = await transaction.connection.fetch(sql, *args)
        elif DB.pool is not None:
            async with DB.pool.acquire() as connection:
                rows = await connection.fetch(sql, *args)
        else:
            return await DB._run_in_new_connection(sql, list(args))
        return [dict(row) for row in rows]
    if transaction is not None:
        async with transaction.connection.execute(_sqlite_sql(sql), args) as cursor:
            return await cursor.fetchall()
    return await DB._run_in_new_connection(_sqlite_sql(sql), list(args))


async def executemany(sql: str, rows: list[tuple]) -> None:
    """Runs one hand-written statement for each row of arguments, in the current
    transaction (or a transaction of its own); pipelined on PostgreSQL."""
    if not rows:
        return
    if DB.current_transaction.get() is None:
        async with atomic():
            await executemany(sql, rows)
        return
    connection = DB.current_transaction.get().connection
    if is_postgres():
        await connection.executemany(sql, rows)
    else:
        await connection.executemany(_sqlite_sql(sql), rows)


def contains_pattern(text: str) -> str:
    """A LIKE pattern (with ESCAPE '\\') that finds `text` anywhere, its own %, _ and
    backslashes taken literally; lower-cased, for a condition on LOWER(column)."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def where(sql: str, *args):
    """A hand-written condition for a Piccolo query, in the same `$n` style as every
    other hand-written statement (Piccolo's own WhereRaw takes `{}` in order)."""
    from piccolo.columns.combination import WhereRaw

    order = [int(number) for number in _PLACEHOLDER.findall(sql)]
    return WhereRaw(_PLACEHOLDER.sub("{}", sql), *[args[number - 1] for number in order])


def column_names(table, *, alias: str = "", exclude: tuple[str, ...] = ()) -> str:
    """The table's columns as a select list, taken from its Piccolo definition (so a
    column added to the table is never missed by a hand-written statement)."""
    prefix = f"{alias}." if alias else ""
    return ", ".join(f'{prefix}"{column._meta.db_column_name}"' for column in table._meta.columns
                     if column._meta.db_column_name not in exclude)


def insert_statement(table, values: dict[str, str], suffix: str = "") -> str:
    """INSERT INTO the table with a value expression (a placeholder, a constant) for
    each of its columns, taken from its Piccolo definition. Refuses, when the module is
    loaded, a statement that misses a column or names one the table does not have."""
    names = [column._meta.db_column_name for column in table._meta.columns]
    if set(names) != set(values):
        raise ValueError(f"{table._meta.tablename}: columns {sorted(set(names) ^ set(values))} "
                         "are missing from the statement or not in the table")
    columns = ", ".join(f'"{name}"' for name in names)
    expressions = ", ".join(values[name] for name in names)
    return f"INSERT INTO {table._meta.tablename} ({columns}) VALUES ({expressions}){' ' + suffix if suffix else ''}"


async def fetchrow(sql: str, *args) -> dict | None:
    rows = await fetch(sql, *args)
    return rows[0] if rows else None


def load_json(value):
    """A JSON column's value as Python data (the drivers hand it over as text)."""
    if isinstance(value, (str, bytes)):
        try:
            return _decode_json(value)  # msgspec: a tenth of json.loads' time, for every row of a list
        except msgspec.DecodeError:  # what only json.loads reads (NaN)
            return json.loads(value)
    return value


_decode_json = msgspec.json.Decoder().decode


def dump_json(value) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


_users = 0


async def _reset_connection(connection) -> None:
    """Replaces asyncpg's default reset on release (advisory unlock, CLOSE ALL,
    UNLISTEN, RESET ALL: a second statement on every request, measured at a third of
    the query's cost). Fuwu never changes session state (no SET, LISTEN, advisory
    locks or cursors outside transactions), so only an open transaction is undone."""
    if connection.is_in_transaction():
        await connection.execute("ROLLBACK")


# On SQLite, how long the event loop may keep the GIL from a connection's thread that
# asks for it (Python's default is 5 ms). Python's sqlite3 hands the GIL back at every
# step of a statement (every row read), so a busy event loop made each 20-row page wait
# up to 5 ms a row: readers got one request in a hundred served beside requests that
# need no database (median 0.7 s here, 1.6 s on a slower machine). At 0.5 ms, six
# times as many reads were served at a seventh of the wait, for a sixth fewer of the
# other requests (tests/integration/fuwu/test_sqlite_readers_wait_fairly.py).
SQLITE_SWITCH_INTERVAL = 0.0005
_switch_interval_before: float | None = None


async def start() -> None:
    """Opens the connection pool; counted, so that nested users (an app inside a test
    session, a CLI command) share one pool and only the last stop closes it."""
    global _users, _switch_interval_before
    _users += 1
    if _users != 1:
        return
    if is_postgres():
        await DB.start_connection_pool(min_size=2, max_size=20, reset=_reset_connection)
    else:
        _switch_interval_before = sys.getswitchinterval()
        sys.setswitchinterval(SQLITE_SWITCH_INTERVAL)


async def stop() -> None:
    global _users
    _users = max(0, _users - 1)
    if _users:
        return
    if is_postgres():
        await DB.close_connection_pool()
    else:
        await DB.close_shared_connections()
        if _switch_interval_before is not None:
            sys.setswitchinterval(_switch_interval_before)


async def ping() -> None:
    """Raises if the database does not answer."""
    await DB.run_querystring(QueryString("SELECT 1"), in_pool=True)


async def migrate(verbose: bool = False) -> None:
    import contextlib
    import io

    from piccolo.apps.migrations.commands.forwards import run_forwards

    sink = contextlib.nullcontext() if verbose else contextlib.redirect_stdout(io.StringIO())
    with sink:
        result = await run_forwards(app_name="all")
    if not result.success:
        raise RuntimeError(f"migration failed: {result.message}")
