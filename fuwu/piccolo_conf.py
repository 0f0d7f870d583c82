"""Piccolo configuration: the engine comes from the environment.

SQLite file under the data folder by default; PostgreSQL when DATABASE_URL says so.
`PICCOLO_CONF=fuwu.piccolo_conf` points Piccolo's CLI and migrations here.
"""

from __future__ import annotations

from urllib.parse import parse_qs, unquote, urlparse

from piccolo.conf.apps import AppRegistry
from piccolo.engine.postgres import PostgresEngine

from fuwu.settings import get_settings


def postgres_config(url: str) -> dict:
    """libpq's URL form: `postgresql://user:password@host:port/database`; a Unix socket
    as `?host=/var/run/postgresql` (libpq's query parameter), or `port=` likewise."""
    parsed = urlparse(url)
    query = parse_qs(parsed.query)
    return {
        "host": (query.get("host") or [None])[0] or parsed.hostname or "127.0.0.1",
        "port": int((query.get("port") or [0])[0] or parsed.port or 5432),
        "user": unquote(parsed.username or "postgres"),
        "password": unquote(parsed.password or "") or None,
        "database": (parsed.path or "/postgres").lstrip("/") or "postgres",
    }


def build_engine():
    settings = get_settings()
    if settings.uses_postgres:
        from fuwu.postgres_engine import FuwuPostgresEngine

        return FuwuPostgresEngine(config=postgres_config(settings.database_url), log_queries=False)
    if settings.database_url and not settings.database_url.startswith("sqlite"):
        raise RuntimeError("DATABASE_URL must be postgresql://… or sqlite:///path")
    path = settings.sqlite_path
    if settings.database_url and settings.database_url.startswith("sqlite:///"):
        path = settings.database_url[len("sqlite:///"):]
    from fuwu.sqlite_engine import FuwuSQLiteEngine

    return FuwuSQLiteEngine(path=str(path))


DB = build_engine()

APP_REGISTRY = AppRegistry(
    apps=[
        "fuwu.piccolo_app",
        "tenders.piccolo_app",
        "bids.piccolo_app",
        "sla.piccolo_app",
        "chat.piccolo_app",
        "ratings.piccolo_app",
    ]
)
