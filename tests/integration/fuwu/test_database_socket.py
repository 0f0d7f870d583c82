"""A DATABASE_URL naming PostgreSQL's Unix socket (`?host=<folder>`) reaches the same
database over the socket, as libpq's URL form does."""

from __future__ import annotations

from urllib.parse import urlparse, urlunparse

import asyncpg
import pytest

from fuwu import db
from fuwu.piccolo_conf import postgres_config
from fuwu.settings import get_settings

pytestmark = pytest.mark.skipif(not db.is_postgres(), reason="needs a PostgreSQL server: runs when DATABASE_URL "
                                                             "names one (as in .ci/run's second pass)")


async def test_a_url_with_the_socket_folder_connects_over_the_socket():
    url = get_settings().database_url
    tcp = await asyncpg.connect(**postgres_config(url))
    try:
        folders = (await tcp.fetchval("SHOW unix_socket_directories")).split(",")
        name, port = await tcp.fetchval("SELECT current_database()"), await tcp.fetchval("SHOW port")
    finally:
        await tcp.close()
    folder = folders[0].strip()
    if not folder:
        pytest.skip("this PostgreSQL server listens on no Unix socket (unix_socket_directories is empty)")
    parsed = urlparse(url)
    login = parsed.netloc.rpartition("@")[0] or "postgres"  # user, and password if any, as written
    socket_url = urlunparse(("postgresql", f"{login}@", f"/{name}", "", f"host={folder}&port={port}", ""))
    connection = await asyncpg.connect(**postgres_config(socket_url))
    try:
        assert await connection.fetchval("SELECT current_database()") == name
        assert await connection.fetchval("SELECT inet_client_addr()") is None  # not over TCP
    finally:
        await connection.close()
