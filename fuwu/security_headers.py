"""Security headers on every response the app sends: pages, the API, attachment
downloads, static files, errors and the 404 of an address no route matches.

Registered as a `before_send` hook rather than a middleware because Litestar's
middleware wraps route handlers only, and an unmatched address never reaches one.

The pages run no inline script and carry no inline style: every script and style is a
file under /static, so the policy needs no 'unsafe-inline' and an injected
`<script>` or `onclick=` does not run. The API documentation at /schema is the one
exception for styles: Redoc builds its styles at run time into `<style>` elements,
and its search runs in a worker it makes from a blob. That page shows only the
OpenAPI document, so it gets 'unsafe-inline' for styles and blob: workers, and still
no inline script.
"""

from __future__ import annotations

from litestar.datastructures import MutableScopeHeaders
from litestar.types import Message, Scope

PAGE_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])

DOCS_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "worker-src 'self' blob:",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])

FIXED = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


def policy_for(path: str) -> str:
    return DOCS_POLICY if path == "/schema" or path.startswith("/schema/") else PAGE_POLICY


async def add_security_headers(message: Message, scope: Scope) -> None:
    """Adds the headers to the start of every HTTP response, keeping any a handler set."""
    if message["type"] != "http.response.start":
        return
    headers = MutableScopeHeaders.from_message(message)
    for name, value in FIXED.items():
        if name not in headers:
            headers[name] = value
    if "Content-Security-Policy" not in headers:
        headers["Content-Security-Policy"] = policy_for(scope.get("path", ""))
