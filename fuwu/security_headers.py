"""Security headers on every response the app sends: pages, the API, attachment
downloads, static files, errors and the 404 of an address no route matches.

Added by the app's `before_send` hook (fuwu.app.finish_response_start) rather than a
middleware because Litestar's middleware wraps route handlers only, and an unmatched
address never reaches one.

The pages run no inline script and carry no inline style: every script and style is a
file under /static, so the policy needs no 'unsafe-inline' and an injected
`<script>` or `onclick=` does not run. The API documentation at /schema is the one
exception for styles: Redoc builds its styles at run time into `<style>` elements,
and its search runs in a worker it makes from a blob. That page shows only the
OpenAPI document, so it gets 'unsafe-inline' for styles and blob: workers, and still
no inline script.
"""

from __future__ import annotations

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

# As they go on the wire (ASGI header names are lower case), encoded once.
_FIXED = [(name.lower().encode(), value.encode()) for name, value in FIXED.items()]
_CSP = b"content-security-policy"
_PAGE_CSP = (_CSP, PAGE_POLICY.encode())
_DOCS_CSP = (_CSP, DOCS_POLICY.encode())


def policy_for(path: str) -> str:
    return DOCS_POLICY if path == "/schema" or path.startswith("/schema/") else PAGE_POLICY


def add_security_headers(message: Message, scope: Scope) -> None:
    """Adds the headers to the start of an HTTP response, keeping any a handler set."""
    headers = message.get("headers")
    if not isinstance(headers, list):
        message["headers"] = headers = list(headers or ())
    present = {name.lower() for name, _ in headers}
    for header in _FIXED:
        if header[0] not in present:
            headers.append(header)
    if _CSP not in present:
        headers.append(_DOCS_CSP if policy_for(scope.get("path", "")) == DOCS_POLICY else _PAGE_CSP)
