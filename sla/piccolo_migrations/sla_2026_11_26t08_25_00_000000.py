"""An index for inquiry conversion: a shop's orders of one source looked up by buyer
and time, once per buyer who chatted."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-26T08:25:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "service-event index by shop, kind and buyer"

STATEMENT = "CREATE INDEX sla_service_event_shop_buyer ON sla_service_event (shop, source, kind, buyer, at_us)"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="sla", description=DESCRIPTION)

    async def create_index():
        from sla.tables import ServiceEvent

        await ServiceEvent.raw(STATEMENT)

    async def drop_index():
        from sla.tables import ServiceEvent

        await ServiceEvent.raw("DROP INDEX sla_service_event_shop_buyer")

    manager.add_raw(create_index)
    manager.add_raw_backwards(drop_index)
    return manager
