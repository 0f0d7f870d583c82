"""Composite indexes for the metric queries, which read one contract's (or one shop's
history's) events of some kinds in time order, or one conversation's events."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-26T07:50:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "service-event composite indexes"

STATEMENTS = (
    "CREATE INDEX sla_service_event_contract_kind_at ON sla_service_event (contract, kind, at_us)",
    "CREATE INDEX sla_service_event_shop_kind_at ON sla_service_event (shop, source, kind, at_us)",
    "CREATE INDEX sla_service_event_contract_conversation ON sla_service_event (contract, conversation, at_us)",
    "CREATE INDEX sla_service_event_shop_conversation ON sla_service_event (shop, source, conversation, at_us)",
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="sla", description=DESCRIPTION)

    async def create_indexes():
        from sla.tables import ServiceEvent

        for statement in STATEMENTS:
            await ServiceEvent.raw(statement)

    async def drop_indexes():
        from sla.tables import ServiceEvent

        for statement in STATEMENTS:
            await ServiceEvent.raw("DROP INDEX " + statement.split()[2])

    manager.add_raw(create_indexes)
    manager.add_raw_backwards(drop_indexes)
    return manager
