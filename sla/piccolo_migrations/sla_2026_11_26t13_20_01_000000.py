"""Contracts opened before they had seats take their winning bid's team seats (else
they keep 1). A raw step runs before a migration's column changes, hence a migration
of its own after the one that adds the column."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-26T13:20:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "contract seats from the winning bids"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="sla", description=DESCRIPTION)

    async def seats_from_bids():
        from sla.tables import Contract

        rows = await Contract.select(Contract.id, Contract.bid.team.as_alias("team")).where(
            Contract.bid.is_not_null()).output(load_json=True)
        for row in rows:
            seats = (row["team"] or {}).get("seats")
            if isinstance(seats, int) and seats > 1:
                await Contract.update({Contract.seats: seats}).where(Contract.id == row["id"])

    manager.add_raw(seats_from_bids)
    return manager
