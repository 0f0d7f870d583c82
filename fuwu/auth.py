"""Who is asking, and may they: the authentication middleware, guards and the
organisation-membership dependency every org-scoped endpoint uses.

A request is authenticated by an `Authorization: Bearer` API token, else by the web
session cookie. Bearer requests skip CSRF (a browser does not send them by itself);
cookie requests that change state must carry the CSRF token.
"""

from __future__ import annotations

import uuid
from hmac import compare_digest
from typing import TypeAlias

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import ASGIMiddleware
from litestar.enums import RequestEncodingType
from litestar.exceptions import PermissionDeniedException
from litestar.middleware._utils import should_bypass_middleware
from litestar.middleware.csrf import CSRFMiddleware
from litestar.params import FromPath
from litestar.types import ASGIApp, Receive, Scope, Send
from litestar.utils.scope.state import ScopeState

from fuwu import i18n, roles
from fuwu.errors import NotAuthenticated
from fuwu.security import session_csrf_token
from fuwu.services import accounts
from fuwu.services.accounts import Member, Viewer

SESSION_COOKIE = "fuwu_session"
LANGUAGE_COOKIE = "fuwu_lang"


def bearer_token(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            text = value.decode("latin-1")
            if text[:7].lower() == "bearer ":
                return text[7:].strip()
    return None


class AuthMiddleware(ASGIMiddleware):
    """Sets `scope["user"]` to a Viewer (or None) and the request's language."""

    scopes = ("http", "websocket")

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        viewer: Viewer | None = None
        token = bearer_token(scope)
        connection: ASGIConnection = ASGIConnection(scope)
        if token:
            viewer = await accounts.viewer_from_token(token)
            scope["fuwu_bearer"] = True
        else:
            cookie = connection.cookies.get(SESSION_COOKIE)
            if cookie:
                viewer = await accounts.viewer_from_session(cookie)
        scope["user"] = viewer
        locale = viewer.locale if viewer is not None else browser_locale(connection)
        if scope["path"].startswith("/api/"):
            # An API client says per request which language it wants; the account's
            # language is the default (pages keep the language chosen on the site).
            locale = accepted_language(connection) or locale
        i18n.current_locale.set(locale if locale in i18n.SUPPORTED else "en")
        i18n.current_timezone.set(viewer.timezone if viewer is not None else None)
        await next_app(scope, receive, send)


def accepted_language(connection: ASGIConnection) -> str | None:
    """The first supported language of the Accept-Language header, or None."""
    for part in (connection.headers.get("accept-language") or "").split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.startswith(("zh", "en")):
            return i18n.negotiate(tag)
    return None


def browser_locale(connection: ASGIConnection) -> str:
    """The language of someone not signed in: the one they chose on the site, else their browser's."""
    locale = connection.cookies.get(LANGUAGE_COOKIE) or i18n.negotiate(connection.headers.get("accept-language"))
    return locale if locale in i18n.SUPPORTED else "en"


class FuwuCSRFMiddleware(CSRFMiddleware):
    """CSRF tokens bound to the session.

    With a session cookie, the only token accepted is the one derived from that
    session (`security.session_csrf_token`): a CSRF cookie and token that an attacker
    obtained for their own browser or session do not ride on a victim's session
    cookie. Without one (the log-in and sign-up forms), Litestar's double-submit
    cookie check applies. Skipped where no browser credential rides along:
    bearer-token requests, and API requests without a session cookie (refused as
    unauthenticated, 401, rather than as a forged form)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        session = session_cookie(scope)
        if bearer_token(scope) or (scope["path"].startswith("/api/") and not session):
            await self.app(scope, receive, send)
            return
        if not session or should_bypass_middleware(
            scope=scope, scopes=self.scopes, exclude_opt_key=self.config.exclude_from_csrf_key,
            exclude_path_pattern=self.exclude,
        ):
            await super().__call__(scope, receive, send)
            return
        expected = session_csrf_token(self.config.secret, session)
        state = ScopeState.from_scope(scope)
        if scope["method"] in self.config.safe_methods:
            state.csrf_token = expected  # what the page's forms carry
            await self.app(scope, receive, send)
            return
        request: Request = scope["litestar_app"].request_class(scope=scope, receive=receive)
        sent = request.headers.get(self.config.header_name)
        if not sent and request.content_type[0] in (RequestEncodingType.URL_ENCODED, RequestEncodingType.MULTI_PART):
            sent = (await request.form()).get("_csrf_token")
        if not isinstance(sent, str) or not compare_digest(sent.encode(), expected.encode()):
            raise PermissionDeniedException("CSRF token verification failed")
        state.csrf_token = expected
        await self.app(scope, receive, send)


def session_cookie(scope: Scope) -> str | None:
    """The web session cookie's value, if the request carries one."""
    for name, value in scope.get("headers", ()):
        if name == b"cookie" and SESSION_COOKIE.encode() in value:
            return ASGIConnection(scope).cookies.get(SESSION_COOKIE) or None
    return None


async def requires_user(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    """Guard: a signed-in person (401 otherwise). Async so that Litestar does not run
    it in a thread on every request."""
    if connection.scope.get("user") is None:
        if connection.scope.get("fuwu_bearer"):
            raise NotAuthenticated("invalid_token", "The API token is invalid or revoked. Create a new one.")
        raise NotAuthenticated("not_signed_in", "Sign in, or send an API token as 'Authorization: Bearer <token>'.")


async def requires_admin(connection: ASGIConnection, handler: BaseRouteHandler) -> None:
    """Guard: a platform admin. Others get 404 so that admin pages are not advertised."""
    await requires_user(connection, handler)
    if not await accounts.is_platform_admin(connection.scope["user"].user_id):
        from fuwu.errors import not_found

        raise not_found("Page")


async def requires_member(connection: ASGIConnection, handler: BaseRouteHandler) -> None:
    """Guard: a member of the organisation in the path (404 otherwise). Guards run
    before the body is read, so an upload from outside the organisation is refused
    without its multipart body being parsed at all."""
    await requires_user(connection, handler)
    await accounts.membership(connection.scope["user"].user_id, connection.path_params["org_id"])


# Handler parameters that Litestar fills from the dependencies below.
ViewerDep: TypeAlias = NamedDependency[Viewer]
MemberDep: TypeAlias = NamedDependency[Member]


async def provide_viewer(request: Request) -> Viewer:
    viewer = request.scope.get("user")
    if viewer is None:
        await requires_user(request, None)  # raises
    return viewer


async def provide_member(org_id: FromPath[uuid.UUID], viewer: ViewerDep) -> Member:
    """The viewer's membership of the organisation in the path (404 for non-members)."""
    return await accounts.membership(viewer.user_id, org_id)


def require_role(member: Member, *allowed: str) -> None:
    from fuwu.errors import Forbidden

    if member.role not in allowed:
        raise Forbidden(
            "role_not_allowed", "Your role ({role}) cannot do this. Ask someone with the role {allowed}.",
            params={"role": i18n.Term(member.role), "allowed": i18n.Terms(allowed, " or ")},
        )


TOP_ROLES = tuple(dict.fromkeys(roles.TOP_ROLE.values()))
