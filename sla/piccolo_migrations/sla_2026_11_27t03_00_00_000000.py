"""History lines' keys put the line number before the digest,
"<shop>:<line number, 10 digits>:<digest>" (sla.services.events.line_key), so that an
import's keys arrive in order. The keys of lines imported before are rewritten the
same way, so that importing such a file again still adds nothing."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-27T03:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "history line keys ordered by line number"

# The old key is "<shop>:<digest>" (a uuid holds no colon); `line` is an int4, so ten
# digits always hold it and lpad never cuts it.
REKEY = {
    "postgres": "UPDATE sla_service_event SET line_key = split_part(line_key, ':', 1) || ':' "
                "|| lpad(line::text, 10, '0') || ':' || split_part(line_key, ':', 2) "
                "WHERE line_key IS NOT NULL AND line_key NOT LIKE '%:%:%'",
    "sqlite": "UPDATE sla_service_event SET line_key = substr(line_key, 1, instr(line_key, ':') - 1) || ':' "
              "|| printf('%010d', line) || ':' || substr(line_key, instr(line_key, ':') + 1) "
              "WHERE line_key IS NOT NULL AND line_key NOT LIKE '%:%:%'",
}
UNKEY = {
    "postgres": "UPDATE sla_service_event SET line_key = split_part(line_key, ':', 1) || ':' "
                "|| split_part(line_key, ':', 3) WHERE line_key LIKE '%:%:%'",
    "sqlite": "UPDATE sla_service_event SET line_key = substr(line_key, 1, instr(line_key, ':')) "
              "|| substr(line_key, instr(line_key, ':') + 12) WHERE line_key LIKE '%:%:%'",
}


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="sla", description=DESCRIPTION)

    async def rekey():
        from sla.tables import ServiceEvent

        await ServiceEvent.raw(REKEY[ServiceEvent._meta.db.engine_type])

    async def unkey():
        from sla.tables import ServiceEvent

        await ServiceEvent.raw(UNKEY[ServiceEvent._meta.db.engine_type])

    manager.add_raw(rekey)
    manager.add_raw_backwards(unkey)
    return manager
