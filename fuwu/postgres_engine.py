"""Piccolo's PostgreSQL engine, with transactions that always give their connection
back to the pool.

Piccolo's transaction releases its connection only after a successful rollback or
commit, and not at all when BEGIN fails. When the server drops the connection (a
restart, a terminated backend) the rollback fails too, so each such transaction kept
a pool slot for good: after a restart the pool ran dry and requests waited forever.
Here a connection that broke is terminated, handed back (asyncpg's pool opens a new
one in its place) and the transaction's context is reset, whatever failed."""

from __future__ import annotations

from piccolo.engine.postgres import PostgresEngine, PostgresTransaction


class FuwuPostgresTransaction(PostgresTransaction):
    async def __aenter__(self) -> PostgresTransaction:
        if self._parent is not None:
            return self._parent
        self.connection = await self.get_connection()
        try:
            self.transaction = self.connection.transaction()
            await self.begin()
        except BaseException:
            await self._give_back(broken=True)
            raise
        self.context = self.engine.current_transaction.set(self)
        return self

    async def __aexit__(self, exception_type, exception, traceback) -> bool:
        if self._parent:
            return exception is None
        broken = False
        try:
            if exception is not None:
                if not self._rolled_back:
                    if self.connection.is_closed():
                        broken = True
                    else:
                        await self.rollback()
            elif not self._committed and not self._rolled_back:
                await self.commit()
        except BaseException:
            broken = True
            raise
        finally:
            self.engine.current_transaction.reset(self.context)
            await self._give_back(broken)
        return exception is None

    async def _give_back(self, broken: bool) -> None:
        if broken:
            # Nothing more can be said on this connection: close its socket now so that
            # the pool does not try to reset it.
            self.connection.terminate()
        if self.engine.pool:
            await self.engine.pool.release(self.connection)
        elif not broken:
            await self.connection.close()


class FuwuPostgresEngine(PostgresEngine):
    def transaction(self, allow_nested: bool = True) -> PostgresTransaction:
        return FuwuPostgresTransaction(engine=self, allow_nested=allow_nested)
