"""Business conversations (a merchant and a provider on a tender or a contract): the
tender they are about, and their subject, unique so that one (tender, provider) or
one contract has one conversation even when both sides open it at the same moment.
SQLite cannot add a UNIQUE column, so the uniqueness is a unique index (NULLs, the
buyers' conversations, do not collide on either engine)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-26T10:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "chat business conversations: tender and unique topic"

FORWARDS = (
    "ALTER TABLE chat_conversation ADD COLUMN tender UUID NULL REFERENCES tenders_tender (id) ON DELETE CASCADE",
    "ALTER TABLE chat_conversation ADD COLUMN topic VARCHAR(120) NULL",
    "CREATE UNIQUE INDEX chat_conversation_topic ON chat_conversation (topic)",
    "CREATE INDEX chat_conversation_tender ON chat_conversation (tender)",
)
BACKWARDS = (
    "DROP INDEX chat_conversation_tender",
    "DROP INDEX chat_conversation_topic",
    "ALTER TABLE chat_conversation DROP COLUMN topic",
    "ALTER TABLE chat_conversation DROP COLUMN tender",
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="chat", description=DESCRIPTION)

    async def run(statements):
        from chat.tables import Conversation

        for statement in statements:
            await Conversation.raw(statement)

    async def up():
        await run(FORWARDS)

    async def down():
        await run(BACKWARDS)

    manager.add_raw(up)
    manager.add_raw_backwards(down)
    return manager
