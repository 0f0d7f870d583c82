"""The middleware every route runs behind: one ASGI layer doing, for each request,
what used to take four (each its own call, `send` wrapper and header parse, together
costing several bare Litestar requests):

1. a GET or HEAD that lost its database connection before anything was sent is
   served once more (fuwu.connection_loss);
2. the time of receipt is stamped, a small body read at once (fuwu.received);
3. CSRF: session-bound tokens, Litestar's double-submit cookie without a session
   (fuwu.auth.SessionBoundCSRF);
4. who is asking, their language and time zone (fuwu.auth.authenticate).

A WebSocket gets only the last. Litestar's middleware wraps route handlers only: the
security headers, which the 404 of an unmatched address needs too, are added by a
`before_send` hook (fuwu.security_headers).
"""

from __future__ import annotations

from litestar.config.csrf import CSRFConfig
from litestar.types import ASGIApp, Receive, Scope, Send

from fuwu import received
from fuwu.auth import Credentials, SessionBoundCSRF, authenticate
from fuwu.connection_loss import SAFE_METHODS, serve_read


class RequestMiddleware:
    def __init__(self, app: ASGIApp, csrf: CSRFConfig) -> None:
        self.app = app
        self.csrf = SessionBoundCSRF(csrf)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await authenticate(scope, Credentials(scope))
            await self.app(scope, receive, send)
        elif scope["method"] in SAFE_METHODS:
            await serve_read(self._serve, scope, receive, send)
        else:
            await self._serve(scope, receive, send)

    async def _serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        receive, stamp = await received.stamp(scope, receive)
        try:
            credentials = Credentials(scope)
            send = await self.csrf.check(scope, receive, send, credentials)
            await authenticate(scope, credentials)
            await self.app(scope, receive, send)
        finally:
            received.unstamp(stamp)
