"""The chat steps' indexes and the one mark per conversation, and the steps of every
contract's conversations so far, rebuilt from the log (sla.sql.REBUILD_ALL_STEPS). A
raw step runs before a migration's table changes, hence a migration of its own after
the one that adds the tables."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-27T02:30:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "chat steps indexed and filled from the log"

INDEXES = (
    # the evaluation's scan: a contract's steps in a window
    "CREATE INDEX sla_chat_step_contract_at ON sla_chat_step (contract, at_us)",
    # a conversation's steps: rebuilt after an append, ratings found by their close
    "CREATE INDEX sla_chat_step_contract_conversation ON sla_chat_step (contract, conversation)",
    # one mark per conversation: the upsert that marks it stale arbitrates on it
    "CREATE UNIQUE INDEX sla_stale_steps_conversation ON sla_stale_steps (contract, conversation)",
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="sla", description=DESCRIPTION)

    async def index_and_fill():
        from sla import sql
        from sla.tables import ChatStep

        for statement in INDEXES:
            await ChatStep.raw(statement)
        for statement in sql.REBUILD_ALL_STEPS:
            await ChatStep.raw(statement)

    async def drop_indexes():
        from sla.tables import ChatStep

        for statement in INDEXES:
            await ChatStep.raw("DROP INDEX " + statement.split()[2])

    manager.add_raw(index_and_fill)
    manager.add_raw_backwards(drop_indexes)
    return manager
