"""The authorisation matrix: for every endpoint, who may call it and what everyone else gets.

Every route of the app must be declared in exactly one matrix. A route is an HTTP method
and the path template exactly as Litestar reports it, e.g.
``("PATCH", "/api/v1/orgs/{org_id:uuid}")`` (HEAD and OPTIONS, /static and /schema* are
left out; websocket routes are listed with method ``"WS"``, ASGI mounts with ``"ASGI"``).

Convention
----------
A matrix is the module-level list ``MATRIX`` of ``Entry`` in a module named
``tests/integration/<domain>/test_authz_matrix*.py`` (or ``authz_matrix*.py`` for a matrix
without its own tests); the folder must be a package (have ``__init__.py``). The shell's
``tests/integration/fuwu/test_authz_matrix.py::test_every_route_is_in_a_matrix`` imports
all of them (``collect_matrices``) and fails naming every route without an entry, every
entry without a route and every route declared twice. A domain adds its routes so:

    import pytest
    from tests import authz

    MATRIX = [
        authz.Entry("GET", "/api/v1/orgs/{org_id:uuid}/tenders", authz.ORG, kinds=("merchant",),
                    setup=lambda t: authz.Call(f"/api/v1/orgs/{t.org_id}/tenders")),
        ...
    ]

    @pytest.mark.parametrize("case", authz.cases(MATRIX))
    async def test_authz(case, make_client):
        await authz.check(case, make_client)

Who is checked
--------------
Each entry has an access level; ``cases`` turns it into callers and what each must get:

* ``PUBLIC``: anyone. ``anonymous`` and ``signed_in`` succeed.
* ``USER``: any signed-in person, acting on their own things (``/api/v1/me``, their
  tokens, their notifications). ``self`` succeeds; ``outsider`` (another person) gets
  ``Entry.outsider`` (404 by default, so ids reveal nothing; None where the path names
  nothing of anyone's, e.g. ``/api/v1/me``).
* ``ORG``: members of the organisation in the path (API) or the session's current
  organisation (pages), for each kind in ``Entry.kinds``. Each role of the kind in
  ``Entry.roles`` (all roles when empty) succeeds; each other role of that kind gets
  ``Entry.wrong_role`` (403); ``outsider``, the owner of ANOTHER organisation of the same
  kind, gets ``Entry.outsider`` (404).
* ``ADMIN``: platform admins. ``admin`` succeeds; owners of a merchant and of a provider
  organisation get ``Entry.wrong_role`` (404 by default: admin endpoints are not advertised).

Websocket routes (method "WS") cannot be checked by the runner's HTTP request: give
their entries ``run=`` (an async ``run(case, make_client)`` that connects as
``case.caller`` and asserts ``case.expect``).

Besides: ``anonymous`` gets 401 (problem details) from the API and a redirect to /login
from pages; ``bad_token`` (an unknown bearer token) gets 401 from every non-public API
endpoint; ``no_csrf`` (a browser session without the CSRF token) gets 403 from every
state-changing endpoint. Every refused call must change nothing: the row counts of all
Piccolo tables are equal before and after (updates are seen through their audit events).

``Entry.setup(target)`` (plain or async) builds the concrete ``Call`` (url, JSON or form
body) against ``target``: its organisation and people, shared by all cases (see ``Cast``)
so that the matrix runs fast. Setups create whatever the call acts on (an invitation, a
member to remove, a notification) afresh through the services, and must not change the
cast's own memberships or tokens. Pages are signed in with a session opened through the
services (``sign_in``), which is what /login does after its slow password check. Known
bugs go in ``Entry.xfail`` ({caller or category such as "wrong_role": reason}) or, when
they cut across entries, in ``KNOWN_BUGS``; both run as strict xfails so that the fix
makes the suite say so.
"""

from __future__ import annotations

import importlib
import inspect
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from fuwu import roles as fuwu_roles
from fuwu.auth import SESSION_COOKIE
from fuwu.services import accounts
from tests.conftest import PASSWORD, Actor, add_member, csrf_token, new_actor, unique

PUBLIC, USER, ORG, ADMIN = "public", "user", "org", "admin"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
ROOT = Path(__file__).resolve().parent.parent
MATRIX_GLOBS = ("tests/integration/*/test_authz_matrix*.py", "tests/integration/*/authz_matrix*.py")
SKIPPED_PREFIXES = ("/static", "/schema")

_NO_BODY = object()


# --- the matrix ----------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    """One concrete request: the url, and a JSON body (API) or form fields (pages; the
    runner adds the CSRF token)."""

    url: str
    json: Any = _NO_BODY
    form: Mapping[str, Any] | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    content: bytes | None = None  # a raw body (a JSON Lines upload)


@dataclass(frozen=True)
class Entry:
    method: str
    path: str
    access: str
    setup: Callable[[Target], Awaitable[Call] | Call] | None = None  # None: Call(path)
    roles: tuple[str, ...] = ()  # ORG: the roles that may; () = every member
    # ORG: the organisation kinds checked; others: the first is the kind of the target's organisation
    kinds: tuple[str, ...] = (fuwu_roles.MERCHANT, fuwu_roles.PROVIDER)
    outsider: int | None = 404  # USER/ORG: the answer to another person / organisation
    wrong_role: int | None = None  # ORG: 403; ADMIN: 404
    ok: tuple[int, ...] | None = None  # default: by method (API) or 200 / a redirect (pages)
    xfail: Mapping[str, str] = field(default_factory=dict)
    page: bool | None = None  # default: not under /api/ and not a health check
    # Instead of the runner's HTTP request (websocket routes need one): run(case, make_client)
    # makes the call as case.caller and asserts case.expect itself.
    run: Callable[[Case, Any], Awaitable[None]] | None = None

    def __post_init__(self) -> None:
        assert self.access in (PUBLIC, USER, ORG, ADMIN), self.access
        assert self.method == self.method.upper(), self.method

    @property
    def key(self) -> tuple[str, str]:
        return self.method, self.path

    @property
    def is_page(self) -> bool:
        if self.page is not None:
            return self.page
        return not (self.path.startswith("/api/") or self.path in ("/healthz", "/readyz"))

    @property
    def success(self) -> tuple[int, ...]:
        if self.ok is not None:
            return self.ok
        if self.is_page:
            return (200,) if self.method in SAFE_METHODS else (302, 303)
        return {"POST": (201,), "DELETE": (204,)}.get(self.method, (200,))

    @property
    def refused_role(self) -> int:
        if self.wrong_role is not None:
            return self.wrong_role
        return 404 if self.access == ADMIN else 403


LOGIN = "redirect to /login"
OK = "success"


@dataclass(frozen=True)
class Case:
    entry: Entry
    kind: str
    caller: str  # anonymous, bad_token, no_csrf, signed_in, self, outsider, admin, <kind>_owner, <role>
    expect: Any  # OK, LOGIN or a status code
    category: str  # the caller's category: allowed, anonymous, outsider, wrong_role, bad_token, no_csrf

    @property
    def id(self) -> str:
        kind = f" {self.kind}" if self.entry.access == ORG else ""
        return f"{self.entry.method} {self.entry.path}{kind} {self.caller}"


# Known bugs that cut across entries (of every domain): (applies to case?, reason). Run
# as strict xfails; remove the line when the fix makes them pass.
KNOWN_BUGS: list[tuple[Callable[[Case], bool], str]] = []


def cases(matrix: Iterable[Entry]) -> list:
    """pytest params, one per entry, organisation kind and caller."""
    params = []
    for entry in matrix:
        for case in _cases_of(entry):
            reason = entry.xfail.get(case.caller) or entry.xfail.get(case.category)
            reason = reason or next((why for applies, why in KNOWN_BUGS if applies(case)), None)
            marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
            params.append(pytest.param(case, id=case.id, marks=marks))
    return params


def _cases_of(entry: Entry) -> list[Case]:
    anonymous = OK if entry.access == PUBLIC else (LOGIN if entry.is_page else 401)
    kinds = entry.kinds if entry.access == ORG else entry.kinds[:1]
    found = []
    for kind in kinds:
        def add(caller: str, expect: Any, category: str) -> None:
            found.append(Case(entry, kind, caller, expect, category))

        add("anonymous", anonymous, "allowed" if anonymous is OK else "anonymous")
        if entry.access != PUBLIC and not entry.is_page:
            add("bad_token", 401, "bad_token")
        # A public API call carries no browser credential a forged form could ride on.
        if entry.method not in SAFE_METHODS and not (entry.access == PUBLIC and not entry.is_page):
            add("no_csrf", 403, "no_csrf")
        if entry.access == PUBLIC:
            add("signed_in", OK, "allowed")
        elif entry.access == USER:
            add("self", OK, "allowed")
            if entry.outsider is not None:
                add("outsider", entry.outsider, "outsider")
        elif entry.access == ORG:
            for role in fuwu_roles.ROLES_BY_KIND[kind]:
                allowed = not entry.roles or role in entry.roles
                add(role, OK if allowed else entry.refused_role, "allowed" if allowed else "wrong_role")
            if entry.outsider is not None:
                add("outsider", entry.outsider, "outsider")
        else:
            add("admin", OK, "allowed")
            add("merchant_owner", entry.refused_role, "wrong_role")
            add("provider_owner", entry.refused_role, "wrong_role")
    return found


# --- the people ----------------------------------------------------------------------


class Cast:
    """The people all cases share (made once: password hashing is slow): per kind an
    organisation's owner and a member in each other role, and the owner of another
    organisation of that kind; a platform admin."""

    def __init__(self) -> None:
        self.owners: dict[str, Actor] = {}
        self.members: dict[tuple[str, str], Actor] = {}
        self.outsiders: dict[str, Actor] = {}
        self.admin: Actor | None = None

    async def build(self) -> Cast:
        for kind in (fuwu_roles.MERCHANT, fuwu_roles.PROVIDER):
            owner = await new_actor(kind)
            self.owners[kind] = owner
            self.members[(kind, owner.role)] = owner
            for role in fuwu_roles.ROLES_BY_KIND[kind]:
                if role != fuwu_roles.TOP_ROLE[kind]:
                    self.members[(kind, role)] = await add_member(owner, role)
            self.outsiders[kind] = await new_actor(kind)
        email = f"{unique('admin')}@example.test"
        user = await accounts.create_admin(email, PASSWORD, "Admin")
        org_id = next(m["organisation"]["id"] for m in user["memberships"]
                      if m["organisation"]["kind"] == fuwu_roles.PLATFORM)
        viewer = accounts.Viewer(user_id=user["id"], email=email, display_name="Admin", locale="en",
                                 timezone="Asia/Shanghai", via="token")
        token = (await accounts.create_token(viewer, "authz"))["token"]
        self.admin = Actor(user_id=user["id"], email=email, password=PASSWORD, org_id=org_id,
                           org_kind=fuwu_roles.PLATFORM, role=fuwu_roles.ADMIN, token=token, name="Admin")
        return self

    def caller(self, case: Case) -> Actor | None:
        name, kind = case.caller, case.kind
        if name in ("anonymous", "bad_token"):
            return None
        if name == "no_csrf":
            return None if case.entry.access == PUBLIC else self.allowed(case.entry, kind)
        if name in ("signed_in", "self"):
            return self.owners[kind]
        if name == "outsider":
            return self.outsiders[kind]
        if name == "admin":
            return self.admin
        if name.endswith("_owner"):
            return self.owners[name.removesuffix("_owner")]
        return self.members[(kind, name)]

    def allowed(self, entry: Entry, kind: str) -> Actor:
        if entry.access == ADMIN:
            return self.admin
        if entry.access == ORG:
            role = next(r for r in fuwu_roles.ROLES_BY_KIND[kind] if not entry.roles or r in entry.roles)
            return self.members[(kind, role)]
        return self.owners[kind]


_cast: Cast | None = None


async def cast() -> Cast:
    global _cast
    if _cast is None:
        _cast = await Cast().build()
    return _cast


@dataclass
class Target:
    """What a setup builds its call against: the organisation of `kind` (its owner;
    for USER entries the person acting on their own things; for ADMIN a platform admin)."""

    cast: Cast
    kind: str
    owner: Actor

    @property
    def org_id(self) -> uuid.UUID:
        return self.owner.org_id

    def member(self, role: str) -> Actor:
        return self.cast.members[(self.kind, role)]

    @property
    def outsider(self) -> Actor:
        return self.cast.outsiders[self.kind]

    async def owner_member(self) -> accounts.Member:
        return await accounts.membership(self.owner.user_id, self.owner.org_id)


# --- running a case ------------------------------------------------------------------


async def sign_in(client, actor: Actor) -> None:
    """A web session for `actor`, as /login opens it (without the slow password check,
    which tests/integration/fuwu/test_accounts.py covers)."""
    token = await accounts.start_session(await accounts.get_user(actor.user_id))
    client.cookies.set(SESSION_COOKIE, token)


async def row_counts(tables: Iterable | None = None) -> dict[str, int]:
    """Rows per table: of `tables`, else of every Piccolo table but failed log-ins."""
    if tables is None:
        from piccolo.conf.apps import Finder

        tables = [t for t in Finder().get_table_classes() if t._meta.tablename != "fuwu_login_attempt"]
    tables = list(tables)
    # One round trip: a count per table would be most of a case's time.
    sql = " UNION ALL ".join(f"SELECT '{t._meta.tablename}' AS name, COUNT(*) AS n FROM {t._meta.tablename}"
                             for t in tables)
    return {row["name"]: row["n"] for row in await tables[0].raw(sql)}


async def check(case: Case, make_client) -> None:
    """Makes the case's request and checks the answer (and that a refusal changed nothing)."""
    entry = case.entry
    if entry.run is not None:
        await entry.run(case, make_client)
        return
    assert entry.method not in ("WS", "ASGI"), f"{case.id}: give the entry a run= that checks it"
    people = await cast()
    target_owner = people.admin if entry.access == ADMIN else people.owners[case.kind]
    call = entry.setup(Target(people, case.kind, target_owner)) if entry.setup else Call(entry.path)
    if inspect.isawaitable(call):
        call = await call
    actor = people.caller(case)
    client = await make_client()
    headers = dict(call.headers)
    kwargs: dict[str, Any] = {}
    unsafe = entry.method not in SAFE_METHODS
    if actor is not None and (entry.is_page or case.caller == "no_csrf"):
        await sign_in(client, actor)
    elif actor is not None:
        headers.update(actor.headers)
    elif case.caller == "bad_token":
        headers["Authorization"] = "Bearer fw_not-a-token-of-anyone"
    if entry.is_page and unsafe:
        form = dict(call.form or {})
        if case.caller != "no_csrf":
            form["_csrf_token"] = await csrf_token(client, "/login")
        kwargs["data"] = form
    elif call.form is not None:
        kwargs["data"] = dict(call.form)
    if call.json is not _NO_BODY:
        kwargs["json"] = call.json
    if call.content is not None:
        kwargs["content"] = call.content
        headers.update(call.headers)

    before = await row_counts()
    response = await client.request(entry.method, call.url, headers=headers, follow_redirects=False, **kwargs)
    where = f"{case.id}: {entry.method} {call.url} answered {response.status_code} {response.text[:300]!r}"
    assert response.status_code < 500, where
    if case.expect is OK:
        assert response.status_code in entry.success, f"expected one of {entry.success}; {where}"
        if 300 <= response.status_code < 400:
            assert not response.headers["location"].startswith("/login"), where
        return
    if case.expect is LOGIN:
        assert response.status_code in (302, 303), f"expected a redirect to /login; {where}"
        assert response.headers["location"].startswith("/login"), where
    else:
        assert response.status_code == case.expect, f"expected {case.expect}; {where}"
        if entry.is_page:
            assert response.headers["content-type"].startswith("text/html"), where
        else:
            assert response.headers["content-type"].startswith("application/problem+json"), where
            body = response.json()
            assert body["status"] == case.expect and body["title"] and body["detail"] and body["code"], where
    assert await row_counts() == before, f"a refused call changed the database; {where}"


# --- coverage ------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    module: str
    name: str

    @property
    def key(self) -> tuple[str, str]:
        return self.method, self.path

    def __str__(self) -> str:
        return f"{self.method} {self.path}  ({self.module}.{self.name})"


def app_routes(app) -> list[Route]:
    """Every route of the app: each HTTP method and path (HEAD, OPTIONS, /static and
    /schema* left out), websocket routes as "WS" and mounted ASGI apps as "ASGI"."""
    from litestar.routes import ASGIRoute, HTTPRoute, WebSocketRoute

    found = []
    for route in app.routes:
        if route.path.startswith(SKIPPED_PREFIXES):
            continue
        if isinstance(route, HTTPRoute):
            for handler in route.route_handlers:
                for method in sorted(handler.http_methods - {"HEAD", "OPTIONS"}):
                    found.append(Route(method, route.path, handler.fn.__module__, handler.handler_name))
        elif isinstance(route, (WebSocketRoute, ASGIRoute)):
            handler = route.route_handler
            method = "WS" if isinstance(route, WebSocketRoute) else "ASGI"
            found.append(Route(method, route.path, handler.fn.__module__, handler.handler_name))
    return sorted(found, key=lambda r: (r.path, r.method))


def matrix_modules() -> list[str]:
    names = set()
    for pattern in MATRIX_GLOBS:
        for path in ROOT.glob(pattern):
            names.add(".".join(path.relative_to(ROOT).with_suffix("").parts))
    return sorted(names)


def collect_matrices() -> dict[str, list[Entry]]:
    """Module name -> its MATRIX, for every matrix module of every domain."""
    found = {}
    for name in matrix_modules():
        module = importlib.import_module(name)
        matrix = getattr(module, "MATRIX", None)
        assert matrix is not None, f"{name} is a matrix module by its name but has no MATRIX"
        found[name] = list(matrix)
    return found


def coverage_problems(routes: Iterable[Route], matrices: Mapping[str, list[Entry]]) -> list[str]:
    """What is wrong between the app's routes and the matrices, as readable lines."""
    routes = list(routes)
    declared: dict[tuple[str, str], list[str]] = {}
    for module, matrix in matrices.items():
        for entry in matrix:
            declared.setdefault(entry.key, []).append(module)
    existing = {route.key for route in routes}
    problems = [f"no matrix entry: {route}" for route in routes if route.key not in declared]
    problems += [f"entry for a route the app does not have: {m} {p} (in {', '.join(mods)})"
                 for (m, p), mods in sorted(declared.items()) if (m, p) not in existing]
    problems += [f"declared more than once: {m} {p} (in {', '.join(mods)})"
                 for (m, p), mods in sorted(declared.items()) if len(mods) > 1]
    return problems
