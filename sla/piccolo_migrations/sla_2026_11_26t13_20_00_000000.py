"""A contract's seats: the people it takes from its provider's capacity while it runs,
so that recommendations rank providers by capacity net of their running contracts
(the next migration fills them in for contracts opened before)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Integer
from piccolo.columns.indexes import IndexMethod

ID = "2026-11-26T13:20:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "contract seats"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="sla", description=DESCRIPTION)

    manager.add_column(
        table_class_name="Contract",
        tablename="sla_contract",
        column_name="seats",
        db_column_name="seats",
        column_class_name="Integer",
        column_class=Integer,
        params={
            "default": 1,
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )
    return manager
