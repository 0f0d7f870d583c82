"""Smaller defects people met on the pages (issue 8, point 19), one test each, through
the real app over HTTP as a browser would use it."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.usefixtures("quick_password_hashing")


async def test_favicon_is_served(client):
    response = await client.get("/favicon.ico")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("image/")
    # An icon file (ICO header: reserved 0, type 1) holding at least one image.
    assert response.content[:4] == b"\x00\x00\x01\x00" and len(response.content) > 22
    page = await client.get("/login")
    assert '<link rel="icon" href="/favicon.ico">' in page.text
