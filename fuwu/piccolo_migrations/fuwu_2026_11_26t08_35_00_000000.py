from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import UUID, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.defaults.uuid import UUID4
from piccolo.columns.indexes import IndexMethod

ID = "2026-11-26T08:35:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Sign-up attempts per address, for the sign-up rate limit"


def _params(**overrides) -> dict:
    params = {
        "null": False,
        "primary_key": False,
        "unique": False,
        "index": False,
        "index_method": IndexMethod.btree,
        "choices": None,
        "db_column_name": None,
        "secret": False,
    }
    params.update(overrides)
    return params


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="fuwu", description=DESCRIPTION)

    manager.add_table(class_name="SignUpAttempt", tablename="fuwu_sign_up_attempt", schema=None, columns=None)
    manager.add_column(
        table_class_name="SignUpAttempt", tablename="fuwu_sign_up_attempt", column_name="id", db_column_name="id",
        column_class_name="UUID", column_class=UUID, params=_params(default=UUID4(), primary_key=True), schema=None,
    )
    manager.add_column(
        table_class_name="SignUpAttempt", tablename="fuwu_sign_up_attempt", column_name="ip", db_column_name="ip",
        column_class_name="Varchar", column_class=Varchar, params=_params(length=64, default="", index=True),
        schema=None,
    )
    manager.add_column(
        table_class_name="SignUpAttempt", tablename="fuwu_sign_up_attempt", column_name="at", db_column_name="at",
        column_class_name="Timestamptz", column_class=Timestamptz,
        params=_params(default=TimestamptzNow(), index=True), schema=None,
    )
    return manager
