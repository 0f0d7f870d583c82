"""Security headers on every response (issue 8, point 1): pages, the API, errors, the
404 of an unknown address, static files and a bid's attachment download all carry a
Content-Security-Policy without inline script, frame-ancestors 'none' with
X-Frame-Options DENY, X-Content-Type-Options nosniff and Referrer-Policy same-origin;
and no template holds an inline script, event handler or style attribute that the
policy would refuse."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import new_actor, web_login
from tests.tendering import bid_body, published_tender, tender_url

pytestmark = pytest.mark.usefixtures("quick_password_hashing")
ROOT = Path(__file__).resolve().parents[3]


def csp_directives(response) -> dict[str, list[str]]:
    policy = response.headers.get("content-security-policy")
    assert policy, f"no Content-Security-Policy on {response.request.url}"
    directives = {}
    for part in policy.split(";"):
        words = part.split()
        if words:
            directives[words[0]] = words[1:]
    return directives


def assert_secured(response) -> None:
    where = f"{response.request.method} {response.request.url} ({response.status_code})"
    assert response.headers.get("x-content-type-options") == "nosniff", where
    assert response.headers.get("x-frame-options") == "DENY", where
    assert response.headers.get("referrer-policy") == "same-origin", where
    directives = csp_directives(response)
    assert directives.get("frame-ancestors") == ["'none'"], where
    script = directives.get("script-src", directives.get("default-src"))
    assert script == ["'self'"], (where, script)
    assert "'unsafe-inline'" not in directives.get("default-src", []), where


async def test_every_kind_of_response_carries_the_security_headers(client, make_client):
    merchant = await new_actor("merchant")
    provider = await new_actor("provider")
    tid = (await published_tender(client, merchant))["id"]
    assert (await client.post(tender_url(provider, tid, "/bid"), json=bid_body(),
                              headers=provider.headers)).status_code == 201
    uploaded = await client.post(tender_url(provider, tid, "/bid/attachments"), headers=provider.headers,
                                 files={"data": ("plan.pdf", b"%PDF-1.4\n% plan\n", "application/pdf")})
    assert uploaded.status_code == 201, uploaded.text
    download = await client.get(tender_url(provider, tid, f"/attachments/{uploaded.json()['id']}"),
                                headers=provider.headers)
    assert download.status_code == 200
    assert_secured(download)

    for path in ("/", "/login", "/signup", "/healthz", "/static/fuwu.css", "/static/fuwu.js", "/no/such/page",
                 "/api/v1/no-such-thing", "/api/v1/me"):
        assert_secured(await client.get(path))
    assert_secured(await client.get("/api/v1/me", headers=merchant.headers))
    # A form post without its CSRF token is refused, with the headers too.
    assert_secured(await client.post("/login", data={"email": "a@b.test", "password": "x"}))

    browser = await make_client()
    await web_login(browser, merchant)
    for path in ("/dashboard", "/org", "/account", "/notifications", f"/tenders/{tid}"):
        response = await browser.get(path)
        assert response.status_code == 200, path
        assert_secured(response)
        # Pages allow no inline styles either: every style is in /static/fuwu.css.
        assert csp_directives(response)["style-src"] == ["'self'"]


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)
INLINE_HANDLER = re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.I)
STYLE_ATTRIBUTE = re.compile(r"<[a-z][^>]*\sstyle\s*=", re.I)
STYLE_ELEMENT = re.compile(r"<style[\s>]", re.I)


def test_no_template_holds_inline_script_handlers_or_styles():
    templates = [p for domain in ("fuwu", "tenders", "bids", "sla", "chat", "ratings")
                 for p in (ROOT / domain / "templates").rglob("*.html")]
    assert len(templates) > 20
    found = []
    for path in templates:
        text = path.read_text()
        for pattern in (INLINE_SCRIPT, INLINE_HANDLER, STYLE_ATTRIBUTE, STYLE_ELEMENT):
            for match in pattern.finditer(text):
                found.append(f"{path.relative_to(ROOT)}: {match.group(0)[:80]}")
    assert not found, "\n".join(found)
