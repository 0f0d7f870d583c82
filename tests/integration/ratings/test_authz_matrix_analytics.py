"""The authorisation matrix of the admins' analytics and of any provider's scorecard
page (see tests/authz.py): the analytics page and each table's CSV file are for
platform admins, everyone else gets 404 (admin pages are not advertised) and the
anonymous a redirect to /login; a provider's scorecard is public (what its figures
link to depends on the reader: tests/integration/ratings/test_scorecard_sources.py)."""

from __future__ import annotations

import pytest

from ratings.analytics_pages import CSV_PATHS
from tests.authz import ADMIN, PUBLIC, Call, Entry, cases, check
from tests.integration.tenders.test_authz_matrix import provider

MATRIX = [
    Entry("GET", "/admin/analytics", ADMIN),
    *[Entry("GET", path, ADMIN) for path in CSV_PATHS],
    Entry("GET", "/providers/{provider_id:uuid}/scorecard", PUBLIC,
          setup=lambda t: Call(f"/providers/{provider(t).org_id}/scorecard")),
]


@pytest.mark.parametrize("case", cases(MATRIX))
async def test_authz(case, make_client):
    await check(case, make_client)
