"""The API documentation at /schema (issue 8, point 9) comes from the package's own
files: the page names no other host (no CDN script, no Google fonts, no remote
favicon), runs no inline script, and the Redoc bundle it loads is served from /static.
tests/e2e/test_responsive_pages.py renders it in Chromium with every other host
blocked."""

from __future__ import annotations

import re
from html.parser import HTMLParser


class References(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.inline_scripts = 0
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        for name in ("src", "href", "data-spec-url"):
            if attributes.get(name):
                self.urls.append(attributes[name])
        self._in_script = tag == "script" and not attributes.get("src")

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.inline_scripts += 1


async def test_the_schema_page_references_only_this_site(client):
    for path in ("/schema", "/schema/redoc"):
        response = await client.get(path)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/html")
        parsed = References()
        parsed.feed(response.text)
        assert parsed.urls, response.text
        external = [url for url in parsed.urls if not url.startswith("/") or url.startswith("//")]
        assert not external, f"{path} loads from other hosts: {external}"
        assert not re.search(r"https?://", response.text), response.text
        assert parsed.inline_scripts == 0, response.text
        for url in parsed.urls:
            served = await client.get(url)
            assert served.status_code == 200, url
        scripts = [url for url in parsed.urls if url.endswith(".js")]
        assert "/static/vendor/redoc/redoc.standalone.js" in scripts
    bundle = await client.get("/static/vendor/redoc/redoc.standalone.js")
    assert bundle.headers["content-type"].split(";")[0] in ("text/javascript", "application/javascript")
    assert b"Redoc" in bundle.content[:2000] and len(bundle.content) > 500_000


async def test_only_the_local_viewer_is_offered(client):
    # Litestar's other viewers load their scripts from CDNs: they are not served.
    for path in ("/schema/swagger", "/schema/elements", "/schema/rapidoc"):
        assert (await client.get(path)).status_code == 404, path
    assert (await client.get("/schema/openapi.json")).status_code == 200
