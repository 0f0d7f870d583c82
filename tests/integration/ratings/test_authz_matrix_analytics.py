"""The authorisation matrix of the admins' analytics (see tests/authz.py): the page and
each table's CSV file are for platform admins; everyone else gets 404 (admin pages are
not advertised) and the anonymous a redirect to /login."""

from __future__ import annotations

import pytest

from ratings.analytics_pages import CSV_PATHS
from tests.authz import ADMIN, Entry, cases, check

MATRIX = [
    Entry("GET", "/admin/analytics", ADMIN),
    *[Entry("GET", path, ADMIN) for path in CSV_PATHS],
]


@pytest.mark.parametrize("case", cases(MATRIX))
async def test_authz(case, make_client):
    await check(case, make_client)
