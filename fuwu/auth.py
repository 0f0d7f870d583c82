"""Who is asking, and may they: authentication and CSRF (run for every request by
fuwu.middleware), guards and the organisation-membership dependency every org-scoped
endpoint uses.

A request is authenticated by an `Authorization: Bearer` API token, else by the web
session cookie. Bearer requests skip CSRF (a browser does not send them by itself);
cookie requests that change state must carry the CSRF token.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from hmac import compare_digest
from typing import TypeAlias

from litestar import Request
from litestar.config.csrf import CSRFConfig
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.exceptions import PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware.csrf import CSRF_SECRET_LENGTH, generate_csrf_hash, generate_csrf_token
from litestar.params import FromPath
from litestar.types import Message, Receive, Scope, Send
from litestar.utils.scope.state import ScopeState

from fuwu import i18n, roles
from fuwu.errors import NotAuthenticated
from fuwu.security import session_csrf_token
from fuwu.services import accounts
from fuwu.services.accounts import Member, Viewer

SESSION_COOKIE = "fuwu_session"
LANGUAGE_COOKIE = "fuwu_lang"


class Credentials:
    """What a request carries to say who is asking, read from its headers in one pass:
    the bearer token, the cookies (parsed only when there are any) and the
    Accept-Language header."""

    __slots__ = ("bearer", "cookies", "accept_language")

    def __init__(self, scope: Scope) -> None:
        bearer = cookie = accept_language = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                text = value.decode("latin-1")
                if bearer is None and text[:7].lower() == "bearer ":
                    bearer = text[7:].strip()
            elif name == b"cookie":
                cookie = True
            elif name == b"accept-language" and accept_language is None:
                accept_language = value.decode("latin-1")
        self.bearer: str | None = bearer
        # Litestar's parse, kept on the scope for the handler's Request.
        self.cookies: dict[str, str] = ASGIConnection(scope).cookies if cookie else {}
        self.accept_language: str | None = accept_language

    @property
    def session(self) -> str | None:
        """The web session cookie's value, if the request carries one."""
        return self.cookies.get(SESSION_COOKIE) or None


async def authenticate(scope: Scope, credentials: Credentials) -> None:
    """Sets `scope["user"]` to a Viewer (or None), and the request's language and time
    zone. The token or session is read from the database on every request: no
    process-local cache, so a revoked token or a deactivated person is refused by
    every process on their next request."""
    viewer: Viewer | None = None
    if credentials.bearer:
        viewer = await accounts.viewer_from_token(credentials.bearer)
        scope["fuwu_bearer"] = True
    elif session := credentials.session:
        viewer = await accounts.viewer_from_session(session)
    scope["user"] = viewer
    if viewer is not None:
        locale = viewer.locale
    else:
        locale = browser_locale(credentials.cookies, credentials.accept_language)
    if scope["path"].startswith("/api/"):
        # An API client says per request which language it wants; the account's
        # language is the default (pages keep the language chosen on the site).
        locale = accepted_language(credentials.accept_language) or locale
    i18n.current_locale.set(locale if locale in i18n.SUPPORTED else "en")
    i18n.current_timezone.set(viewer.timezone if viewer is not None else None)


def accepted_language(accept_language: str | None) -> str | None:
    """The first supported language of an Accept-Language header, or None."""
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.startswith(("zh", "en")):
            return i18n.negotiate(tag)
    return None


def browser_locale(cookies: Mapping[str, str], accept_language: str | None) -> str:
    """The language of someone not signed in: the one they chose on the site, else their browser's."""
    locale = cookies.get(LANGUAGE_COOKIE) or i18n.negotiate(accept_language)
    return locale if locale in i18n.SUPPORTED else "en"


class SessionBoundCSRF:
    """CSRF tokens bound to the session.

    With a session cookie, the only token accepted is the one derived from that
    session (`security.session_csrf_token`): a CSRF cookie and token that an attacker
    obtained for their own browser or session do not ride on a victim's session
    cookie. Without one (the log-in and sign-up forms), the double-submit cookie check
    of Litestar's CSRFMiddleware applies: a safe request without the CSRF cookie gets
    one. Skipped where no browser credential rides along: bearer-token requests, and
    API requests without a session cookie (refused as unauthenticated, 401, rather
    than as a forged form)."""

    def __init__(self, config: CSRFConfig) -> None:
        self.config = config
        # The Set-Cookie header as Litestar writes it, around the token (hex: never quoted).
        cookie = Cookie(key=config.cookie_name, value="TOKEN", path=config.cookie_path, secure=config.cookie_secure,
                        httponly=config.cookie_httponly, samesite=config.cookie_samesite,
                        domain=config.cookie_domain).to_header(header="")
        before, _, after = cookie.partition("TOKEN")
        self._cookie = (before.encode("latin-1"), after.encode("latin-1"))

    async def check(self, scope: Scope, receive: Receive, send: Send, credentials: Credentials) -> Send:
        """Refuses (403) a state-changing request without its token; puts the token the
        page's forms carry on the scope. Returns the `send` to answer with."""
        session = credentials.session
        if credentials.bearer or (not session and scope["path"].startswith("/api/")):
            return send
        config = self.config
        safe = scope["method"] in config.safe_methods
        state = ScopeState.from_scope(scope)
        if session:
            expected = session_csrf_token(config.secret, session)
            if not safe:
                sent = await self._sent_token(scope, receive)
                if sent is None or not compare_digest(sent.encode(), expected.encode()):
                    raise PermissionDeniedException("CSRF token verification failed")
            state.csrf_token = expected  # what the page's forms carry
            return send
        cookie = credentials.cookies.get(config.cookie_name)
        if not safe:
            sent = await self._sent_token(scope, receive)
            if sent is None or cookie is None or not _double_submitted(sent, cookie, config.secret):
                raise PermissionDeniedException("CSRF token verification failed")
            state.csrf_token = sent
            return send
        if cookie is not None:
            state.csrf_token = cookie
            return send
        token = state.csrf_token = generate_csrf_token(secret=config.secret)
        set_cookie = (b"set-cookie", self._cookie[0] + token.encode() + self._cookie[1])

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = message.get("headers")
                if not isinstance(headers, list):
                    message["headers"] = headers = list(headers or ())
                headers.append(set_cookie)
            await send(message)

        return send_with_cookie

    async def _sent_token(self, scope: Scope, receive: Receive) -> str | None:
        """The token a state-changing request carries: its header, else its form's field."""
        request: Request = scope["litestar_app"].request_class(scope=scope, receive=receive)
        sent = request.headers.get(self.config.header_name)
        if not sent and request.content_type[0] in (RequestEncodingType.URL_ENCODED, RequestEncodingType.MULTI_PART):
            sent = (await request.form()).get("_csrf_token")
        return sent if isinstance(sent, str) else None


def _double_submitted(sent: str, cookie: str, secret: str) -> bool:
    """Litestar's double-submit check: both are the same secret, each with a valid HMAC."""
    parts = []
    for token in (sent, cookie):
        if len(token) < CSRF_SECRET_LENGTH + 1:
            return False
        secret_part, signature = token[:CSRF_SECRET_LENGTH], token[CSRF_SECRET_LENGTH:]
        if not compare_digest(signature, generate_csrf_hash(token=secret_part, secret=secret)):
            return False
        parts.append(secret_part)
    return compare_digest(parts[0], parts[1])


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
