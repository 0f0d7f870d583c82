"""Test set-up: a fresh database per run (a SQLite file in a temporary folder, or the
PostgreSQL database that DATABASE_URL names, which .ci/run creates fresh), migrated
once; the real app served in-process; actors made through the real services."""

from __future__ import annotations

import os
import tempfile

_DATA = tempfile.mkdtemp(prefix="fuwu-test-")
os.environ["FUWU_DATA_DIR"] = _DATA
os.environ["FUWU_RUN_SCHEDULER"] = "0"
os.environ.setdefault("FUWU_SECRET_KEY", "test-secret-key-not-for-production-0123456789")
os.environ.setdefault("FUWU_LOGIN_ATTEMPTS_PER_MINUTE", "100000")
os.environ.setdefault("FUWU_VISITOR_TOKENS_PER_MINUTE", "100000")
os.environ.setdefault("FUWU_LOGIN_ATTEMPTS_PER_ADDRESS_PER_MINUTE", "100000")
os.environ.setdefault("FUWU_SIGNUPS_PER_ADDRESS_PER_HOUR", "100000")
os.environ.setdefault("FUWU_MIN_BIDDING_SECONDS", "1")
os.environ.setdefault("PICCOLO_CONF", "fuwu.piccolo_conf")

import functools  # noqa: E402
import itertools  # noqa: E402
import re  # noqa: E402
import uuid  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402

import pytest  # noqa: E402
import httpx  # noqa: E402

from fuwu import db  # noqa: E402
from fuwu.app import create_app, wire  # noqa: E402
from fuwu.schemas import OrganisationCreate  # noqa: E402
from fuwu.services import accounts  # noqa: E402

_counter = itertools.count(1)


@pytest.fixture(scope="session", autouse=True)
async def database():
    wire()  # tests that call services without the app still get every domain's hooks
    await db.start()
    await db.migrate()
    yield
    await db.stop()


@pytest.fixture(scope="session")
def app():
    return create_app(run_scheduler=False)


def _client(app, ip: str = "127.0.0.1") -> httpx.AsyncClient:
    # httpx's ASGI transport runs the app in the test's own event loop, where the
    # session fixture opened the database pool (Litestar's test client would run it
    # on a portal thread's loop, which a PostgreSQL pool cannot be shared with).
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(ip, 50000)),
                             base_url="http://testserver.local", follow_redirects=True)


@pytest.fixture
async def client(app):
    async with _client(app) as test_client:
        yield test_client


@pytest.fixture
async def make_client(app):
    """Further independent clients (each its own cookie jar), closed at the end."""
    opened = []

    async def factory(ip: str = "127.0.0.1"):
        test_client = _client(app, ip)
        opened.append(test_client)
        return test_client

    yield factory
    for test_client in opened:
        await test_client.aclose()


def unique(prefix: str = "u") -> str:
    return f"{prefix}{next(_counter)}-{uuid.uuid4().hex[:6]}"


@dataclass
class Actor:
    """A person with a role in an organisation, holding an API token."""

    user_id: uuid.UUID
    email: str
    password: str
    org_id: uuid.UUID
    org_kind: str
    role: str
    token: str
    name: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    @property
    def viewer(self) -> accounts.Viewer:
        return accounts.Viewer(user_id=self.user_id, email=self.email, display_name=self.name, locale="en",
                               timezone="Asia/Shanghai", via="token")


PASSWORD = "correct horse battery"


@functools.cache
def _password_hash() -> str:
    from fuwu.security import hash_password

    return hash_password(PASSWORD)


@pytest.fixture
def quick_password_hashing(monkeypatch):
    """For tests that make many people and never test passwords: one argon2 hash of
    the test password serves them all (use with pytest.mark.usefixtures)."""
    hashed = _password_hash()
    # The account services call fuwu.security.hash_password at call time.
    monkeypatch.setattr("fuwu.security.hash_password", lambda password: hashed)


async def new_actor(kind: str = "merchant", **org_fields) -> Actor:
    """A new person who owns a new organisation of `kind`."""
    email = f"{unique()}@example.test"
    defaults = {"merchant": {"size": "medium"}, "provider": {"categories": ["cs_presales"]}}[kind]
    data = OrganisationCreate(kind=kind, name=unique(kind.title() + " "), province="Zhejiang", city="Hangzhou",
                              **{**defaults, **org_fields})
    user, org = await accounts.sign_up(email, PASSWORD, f"Person {email[:8]}", "en", data)
    viewer = accounts.Viewer(user_id=user["id"], email=email, display_name="x", locale="en",
                             timezone="Asia/Shanghai", via="token")
    token = (await accounts.create_token(viewer, "tests"))["token"]
    return Actor(user_id=user["id"], email=email, password=PASSWORD, org_id=org["id"], org_kind=kind,
                 role="owner", token=token, name=user["display_name"])


async def add_member(owner: Actor, role: str) -> Actor:
    """A new person who joins the owner's organisation with `role` by invitation."""
    from fuwu.db import atomic
    from fuwu.security import hash_password
    from fuwu.tables import User

    email = f"{unique()}@example.test"
    async with atomic():
        row = User(email=email, display_name=f"Member {email[:8]}", password_hash=hash_password(PASSWORD))
        await row.save()
    member = await accounts.membership(owner.user_id, owner.org_id)
    invitation = await accounts.invite(owner.viewer, member, email, role)
    viewer = accounts.Viewer(user_id=row.id, email=email, display_name=row.display_name, locale="en",
                             timezone="Asia/Shanghai", via="token")
    await accounts.accept_invitation(viewer, invitation["accept_url"].rsplit("/", 1)[1])
    token = (await accounts.create_token(viewer, "tests"))["token"]
    return Actor(user_id=row.id, email=email, password=PASSWORD, org_id=owner.org_id, org_kind=owner.org_kind,
                 role=role, token=token, name=row.display_name)


@pytest.fixture
async def merchant() -> Actor:
    return await new_actor("merchant")


@pytest.fixture
async def provider() -> Actor:
    return await new_actor("provider")


@pytest.fixture
async def admin() -> Actor:
    email = f"{unique('admin')}@example.test"
    user = await accounts.create_admin(email, PASSWORD, "Admin")
    org_id = user["memberships"][0]["organisation"]["id"]
    viewer = accounts.Viewer(user_id=user["id"], email=email, display_name="Admin", locale="en",
                             timezone="Asia/Shanghai", via="token")
    token = (await accounts.create_token(viewer, "tests"))["token"]
    return Actor(user_id=user["id"], email=email, password=PASSWORD, org_id=org_id, org_kind="platform",
                 role="admin", token=token, name="Admin")


CSRF_RE = re.compile(r'name="_csrf_token" value="([^"]+)"')


async def csrf_token(client, path: str = "/login") -> str:
    response = await client.get(path)
    match = CSRF_RE.search(response.text)
    assert match, f"no CSRF field on {path}"
    return match.group(1)


async def web_login(client, actor: Actor) -> None:
    token = await csrf_token(client)
    response = await client.post("/login", data={"_csrf_token": token, "email": actor.email,
                                                 "password": actor.password, "next": "/dashboard"})
    assert response.status_code in (200, 302), response.text[:500]


def assert_problem(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, (response.status_code, response.text[:800])
    assert response.headers["content-type"].startswith("application/problem+json"), response.headers
    body = response.json()
    assert body["status"] == status and body["detail"] and body["title"]
    if code is not None:
        assert body["code"] == code, body
    return body
