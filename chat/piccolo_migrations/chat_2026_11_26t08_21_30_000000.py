"""Composite indexes: a conversation's messages in order (replay, history pages), and
the queue of an organisation's waiting conversations."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-26T08:21:30:000000"
VERSION = "1.38.0"
DESCRIPTION = "chat composite indexes"

STATEMENTS = (
    "CREATE UNIQUE INDEX chat_message_conversation_seq ON chat_message (conversation, seq)",
    "CREATE INDEX chat_conversation_queue ON chat_conversation (provider, status, queued_at)",
    "CREATE INDEX chat_conversation_shop_queue ON chat_conversation (shop, status, queued_at)",
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="chat", description=DESCRIPTION)

    async def create_indexes():
        from chat.tables import Message

        for statement in STATEMENTS:
            await Message.raw(statement)

    async def drop_indexes():
        from chat.tables import Message

        for statement in STATEMENTS:
            await Message.raw("DROP INDEX " + statement.split()[3 if "UNIQUE" in statement else 2])

    manager.add_raw(create_indexes)
    manager.add_raw_backwards(drop_indexes)
    return manager
