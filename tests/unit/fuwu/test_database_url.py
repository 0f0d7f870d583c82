"""DATABASE_URL in libpq's URL form, including a Unix socket given as `?host=`."""

from __future__ import annotations

import pytest

from fuwu.piccolo_conf import postgres_config


@pytest.mark.parametrize(("url", "expected"), [
    ("postgresql://postgres@127.0.0.1:5432/fuwu",
     {"host": "127.0.0.1", "port": 5432, "user": "postgres", "password": None, "database": "fuwu"}),
    ("postgresql://app:s%40cret%2F1@db.internal/shop",
     {"host": "db.internal", "port": 5432, "user": "app", "password": "s@cret/1", "database": "shop"}),
    ("postgresql://postgres@/fuwu?host=/var/run/postgresql",
     {"host": "/var/run/postgresql", "port": 5432, "user": "postgres", "password": None, "database": "fuwu"}),
    ("postgresql:///fuwu?host=/tmp&port=5433",
     {"host": "/tmp", "port": 5433, "user": "postgres", "password": None, "database": "fuwu"}),
    ("postgresql://", {"host": "127.0.0.1", "port": 5432, "user": "postgres", "password": None,
                       "database": "postgres"}),
])
def test_the_url_names_the_server_socket_user_and_database(url, expected):
    assert postgres_config(url) == expected
