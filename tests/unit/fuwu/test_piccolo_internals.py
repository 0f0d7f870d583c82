"""fuwu/sqlite_engine.py subclasses Piccolo's SQLite engine and transaction and
overrides private parts of them. These tests fail when a Piccolo release changes the
shape of what it relies on, so that an upgrade is a deliberate change of
sqlite_engine.py, not a silent break of every transaction."""

from __future__ import annotations

import inspect

import piccolo
import pytest
from piccolo.engine import sqlite as piccolo_sqlite
from piccolo.engine.sqlite import SQLiteEngine, SQLiteTransaction, TransactionType

from fuwu.sqlite_engine import FuwuSQLiteEngine, FuwuSQLiteTransaction


def _parameters(function) -> list[str]:
    return list(inspect.signature(function).parameters)


def _source(function) -> str:
    return inspect.getsource(function)


def test_piccolo_is_the_minor_version_the_engine_is_written_against():
    # pyproject.toml pins the same minor version.
    assert piccolo.__VERSION__.startswith("1.38."), piccolo.__VERSION__


def test_transaction_keeps_the_slots_and_constructor_the_override_uses():
    for name in ("engine", "context", "connection", "transaction_type", "_parent", "_committed", "_rolled_back"):
        assert name in SQLiteTransaction.__slots__, name
    assert _parameters(SQLiteTransaction.__init__) == ["self", "engine", "transaction_type", "allow_nested"]


def test_transaction_enters_through_get_connection_then_begin():
    # The override hands out a kept connection by overriding get_connection() and
    # relies on __aenter__ to set `connection` and `context` around begin().
    enter = _source(SQLiteTransaction.__aenter__)
    assert "self._parent" in enter
    assert "self.connection = await self.get_connection()" in enter
    assert "await self.begin()" in enter
    assert "self.context = self.engine.current_transaction.set(self)" in enter
    assert _parameters(SQLiteTransaction.get_connection) == ["self"]
    for method in ("begin", "commit", "rollback"):
        assert _parameters(getattr(SQLiteTransaction, method)) == ["self"], method
    assert "self._committed = True" in _source(SQLiteTransaction.commit)
    assert "self._rolled_back = True" in _source(SQLiteTransaction.rollback)
    # __aexit__ is replaced whole: its arguments must still be the context manager's.
    assert _parameters(SQLiteTransaction.__aexit__) == ["self", "exception_type", "exception", "traceback"]
    assert "self.engine.current_transaction.reset(self.context)" in _source(SQLiteTransaction.__aexit__)


def test_engine_keeps_the_hooks_the_override_replaces():
    assert _parameters(SQLiteEngine.__init__)[:2] == ["self", "path"]
    assert _parameters(SQLiteEngine._run_in_new_connection) == ["self", "query", "args", "query_type", "table"]
    assert _parameters(SQLiteEngine._run_in_existing_connection) == [
        "self", "connection", "query", "args", "query_type", "table"]
    assert _parameters(SQLiteEngine.get_connection) == ["self"]
    assert _parameters(SQLiteEngine.transaction) == ["self", "transaction_type", "allow_nested"]
    run = _source(SQLiteEngine.run_querystring)
    # Queries outside a transaction go through _run_in_new_connection (shared there);
    # inside one, through the transaction's own `connection`.
    assert "self._run_in_new_connection(" in run
    assert "self._run_in_existing_connection(" in run
    assert "current_transaction.connection" in run
    assert "self.current_transaction.get()" in run
    assert callable(piccolo_sqlite.dict_factory)
    assert {t.name for t in TransactionType} >= {"deferred", "immediate", "exclusive"}


@pytest.fixture
async def engine(tmp_path):
    engine = FuwuSQLiteEngine(path=str(tmp_path / "shape.sqlite"))
    await engine._run_in_new_connection("CREATE TABLE t (x INTEGER)")
    yield engine
    await engine.close_shared_connections()


async def test_transactions_commit_roll_back_and_reuse_their_connection(engine):
    async with engine.transaction(TransactionType.immediate) as transaction:
        assert isinstance(transaction, FuwuSQLiteTransaction)
        first = transaction.connection
        await engine._run_in_existing_connection(first, "INSERT INTO t VALUES (1)")
    with pytest.raises(RuntimeError):
        async with engine.transaction(TransactionType.immediate) as transaction:
            assert transaction.connection is first  # kept for the next transaction
            await engine._run_in_existing_connection(transaction.connection, "INSERT INTO t VALUES (2)")
            raise RuntimeError("roll back")
    assert engine.current_transaction.get() is None
    assert await engine._run_in_new_connection("SELECT x FROM t") == [{"x": 1}]
    # The writers' queue is free again.
    assert not engine.write_lock().locked()


async def test_a_nested_transaction_joins_its_parent(engine):
    async with engine.transaction(TransactionType.immediate) as outer:
        async with engine.transaction() as inner:
            assert inner is outer
        assert outer.connection.in_transaction
    assert engine.current_transaction.get() is None
