"""Partial indexes on the service-event log, so that each event is written to the
indexes that can find it and to no other.

Live events are found by contract, imported history by shop, orders by shop and
buyer. Before, every event went into all eight indexes of the log, including those
of the other source and the two unique keys it does not have (a B-tree also indexes
NULL). That made importing history slow (16,000 events a second) and added work to
every chat message. Now:

- a live event of a contract goes into the two contract indexes;
- a history event goes into the two shop indexes of history and, on PostgreSQL, the
  line key;
- an order goes into the shop's order index and the order key.

The contract indexes hold the rows whose contract is set, a condition every
`contract = ...` term implies, on both engines. The shop indexes hold history (the
metric statements name `source = 'history'`) and orders (`kind = 'order_placed'`).

On PostgreSQL the unique keys become unique indexes over the rows that have the key.
They enforce the same rule, since NULLs never conflicted, and `ON CONFLICT DO
NOTHING` still arbitrates on them. SQLite cannot drop a column's UNIQUE constraint
without rebuilding the table, so it keeps them.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-26T16:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "partial indexes on the service-event log"

OLD_INDEXES = (
    "CREATE INDEX sla_service_event_contract_kind_at ON sla_service_event (contract, kind, at_us)",
    "CREATE INDEX sla_service_event_shop_kind_at ON sla_service_event (shop, source, kind, at_us)",
    "CREATE INDEX sla_service_event_contract_conversation ON sla_service_event (contract, conversation, at_us)",
    "CREATE INDEX sla_service_event_shop_conversation ON sla_service_event (shop, source, conversation, at_us)",
    "CREATE INDEX sla_service_event_shop_buyer ON sla_service_event (shop, source, kind, buyer, at_us)",
)
NEW_INDEXES = (
    "CREATE INDEX sla_service_event_contract_kind_at ON sla_service_event (contract, kind, at_us) "
    "WHERE contract IS NOT NULL",
    "CREATE INDEX sla_service_event_contract_conversation ON sla_service_event (contract, conversation, at_us) "
    "WHERE contract IS NOT NULL",
    "CREATE INDEX sla_service_event_shop_kind_at ON sla_service_event (shop, source, kind, at_us) "
    "WHERE source = 'history' OR kind = 'order_placed'",
    "CREATE INDEX sla_service_event_shop_conversation ON sla_service_event (shop, conversation, at_us) "
    "WHERE source = 'history'",
    "CREATE INDEX sla_service_event_shop_buyer ON sla_service_event (shop, source, buyer, at_us) "
    "WHERE kind = 'order_placed'",
)
UNIQUE_KEYS = ("order_key", "line_key")


def _drop(statement: str) -> str:
    return "DROP INDEX " + statement.split()[2]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="sla", description=DESCRIPTION)

    async def partial_indexes():
        from sla.tables import ServiceEvent

        for statement in OLD_INDEXES:
            await ServiceEvent.raw(_drop(statement))
        for statement in NEW_INDEXES:
            await ServiceEvent.raw(statement)
        if ServiceEvent._meta.db.engine_type == "postgres":
            for key in UNIQUE_KEYS:
                await ServiceEvent.raw(f"ALTER TABLE sla_service_event DROP CONSTRAINT sla_service_event_{key}_key")
                await ServiceEvent.raw(f"CREATE UNIQUE INDEX sla_service_event_{key}_key ON sla_service_event "
                                       f"({key}) WHERE {key} IS NOT NULL")

    async def full_indexes():
        from sla.tables import ServiceEvent

        if ServiceEvent._meta.db.engine_type == "postgres":
            for key in UNIQUE_KEYS:
                await ServiceEvent.raw(f"DROP INDEX sla_service_event_{key}_key")
                await ServiceEvent.raw(f"ALTER TABLE sla_service_event ADD CONSTRAINT sla_service_event_{key}_key "
                                       f"UNIQUE ({key})")
        for statement in NEW_INDEXES:
            await ServiceEvent.raw(_drop(statement))
        for statement in OLD_INDEXES:
            await ServiceEvent.raw(statement)

    manager.add_raw(partial_indexes)
    manager.add_raw_backwards(full_indexes)
    return manager
