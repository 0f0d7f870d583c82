"""The shell's authorisation matrix (API under /api/v1, health checks, the pages of
fuwu/pages.py), its tests per entry and caller, and the check that every route of the
app is declared in some domain's matrix (see tests/authz.py for the convention)."""

from __future__ import annotations

import uuid

import pytest

from fuwu import roles
from fuwu.db import atomic
from fuwu.schemas import OrganisationCreate
from fuwu.services import accounts
from fuwu.tables import Notification, User
from tests import authz
from tests.authz import ADMIN, ORG, PUBLIC, USER, Call, Entry, Target
from tests.conftest import PASSWORD, unique

# --- what the setups create ----------------------------------------------------------


def second_role(kind: str) -> str:
    """The first role below the owner: operator (merchant) or manager (provider)."""
    return roles.ROLES_BY_KIND[kind][1]


def last_role(kind: str) -> str:
    """evaluator (merchant) or agent (provider)."""
    return roles.ROLES_BY_KIND[kind][-1]


async def fresh_member(t: Target) -> uuid.UUID:
    """A new person (no usable password: hashing is slow) who joins the target
    organisation by invitation; returns the membership id."""
    email = f"{unique('member')}@example.test"
    async with atomic():
        row = User(email=email, display_name="Target member", password_hash="!")
        await row.save()
    invitation = await accounts.invite(t.owner.viewer, await t.owner_member(), email, last_role(t.kind))
    viewer = accounts.Viewer(user_id=row.id, email=email, display_name="Target member", locale="en",
                             timezone="Asia/Shanghai", via="token")
    return (await accounts.accept_invitation(viewer, _token_of(invitation)))["membership_id"]


async def fresh_invitation(t: Target) -> dict:
    return await accounts.invite(t.owner.viewer, await t.owner_member(), f"{unique('invitee')}@example.test",
                                 second_role(t.kind))


async def invitation_for_owner(t: Target) -> str:
    """An invitation to the target person from a new organisation; returns its token."""
    inviter = t.outsider
    org = await accounts.create_organisation(
        inviter.viewer, OrganisationCreate(kind=roles.MERCHANT, name=unique("Inviting "), size="small"))
    member = await accounts.membership(inviter.user_id, org["id"])
    return _token_of(await accounts.invite(inviter.viewer, member, t.owner.email, roles.OPERATOR))


def _token_of(invitation: dict) -> str:
    return invitation["accept_url"].rsplit("/", 1)[1]


async def fresh_token(t: Target) -> uuid.UUID:
    return (await accounts.create_token(t.owner.viewer, "to revoke"))["id"]


async def fresh_notification(t: Target) -> uuid.UUID:
    row = Notification(user=t.owner.user_id, kind="test", title="Hello")
    await row.save()
    return row.id


def org_form(kind: str) -> dict:
    if kind == roles.MERCHANT:
        return {"city": "Ningbo", "size": "large"}
    return {"city": "Ningbo", "categories": ["video"], "profile": "Ten editors"}


# --- setups --------------------------------------------------------------------------


async def _org(t: Target) -> Call:
    return Call(f"/api/v1/orgs/{t.org_id}")


async def _org_patch(t: Target) -> Call:
    return Call(f"/api/v1/orgs/{t.org_id}", json={"city": "Ningbo"})


async def _members(t: Target) -> Call:
    return Call(f"/api/v1/orgs/{t.org_id}/members")


async def _member_patch(t: Target) -> Call:
    return Call(f"/api/v1/orgs/{t.org_id}/members/{await fresh_member(t)}", json={"role": second_role(t.kind)})


async def _member_delete(t: Target) -> Call:
    return Call(f"/api/v1/orgs/{t.org_id}/members/{await fresh_member(t)}")


async def _invitations(t: Target) -> Call:
    return Call(f"/api/v1/orgs/{t.org_id}/invitations")


async def _invitation_post(t: Target) -> Call:
    return Call(f"/api/v1/orgs/{t.org_id}/invitations",
                json={"email": f"{unique('invitee')}@example.test", "role": second_role(t.kind)})


async def _invitation_delete(t: Target) -> Call:
    return Call(f"/api/v1/orgs/{t.org_id}/invitations/{(await fresh_invitation(t))['id']}")


async def _org_audit(t: Target) -> Call:
    return Call(f"/api/v1/orgs/{t.org_id}/audit")


async def _accept(t: Target) -> Call:
    return Call("/api/v1/invitations/accept", json={"token": await invitation_for_owner(t)})


async def _token_delete(t: Target) -> Call:
    return Call(f"/api/v1/tokens/{await fresh_token(t)}")


async def _notification_read(t: Target) -> Call:
    return Call(f"/api/v1/notifications/{await fresh_notification(t)}/read")


async def _provider(t: Target) -> Call:
    return Call(f"/api/v1/providers/{t.org_id}")


async def _provider_page(t: Target) -> Call:
    return Call(f"/providers/{t.org_id}")


# --- platform admin: a fresh organisation to act on (the cast's own stay as they are) --


async def _fresh_org(t: Target, kind: str = roles.PROVIDER, suspended: bool = False,
                     verified: bool = False) -> uuid.UUID:
    from fuwu.services import admin

    fields = {"categories": ["cs_presales"]} if kind == roles.PROVIDER else {"size": "small"}
    org = await accounts.create_organisation(
        t.outsider.viewer, OrganisationCreate(kind=kind, name=unique("Admin target "), **fields))
    if suspended:
        await admin.suspend(t.owner.viewer, org["id"], "Checked by the matrix")
    if verified:
        await admin.set_verified(t.owner.viewer, org["id"], True)
    return org["id"]


async def _admin_org(t: Target) -> Call:
    return Call(f"/api/v1/admin/organisations/{t.org_id}")


async def _admin_suspend(t: Target) -> Call:
    return Call(f"/api/v1/admin/organisations/{await _fresh_org(t)}/suspend", json={"reason": "Checked"})


async def _admin_reinstate(t: Target) -> Call:
    return Call(f"/api/v1/admin/organisations/{await _fresh_org(t, suspended=True)}/reinstate",
                json={"reason": "Checked"})


async def _admin_verify(t: Target) -> Call:
    return Call(f"/api/v1/admin/organisations/{await _fresh_org(t)}/verify")


async def _admin_unverify(t: Target) -> Call:
    return Call(f"/api/v1/admin/organisations/{await _fresh_org(t, verified=True)}/verify")


async def _admin_org_page(t: Target) -> Call:
    return Call(f"/admin/orgs/{t.org_id}")


async def _admin_suspend_page(t: Target) -> Call:
    return Call(f"/admin/orgs/{await _fresh_org(t)}/suspend", form={"reason": "Checked"})


async def _admin_reinstate_page(t: Target) -> Call:
    return Call(f"/admin/orgs/{await _fresh_org(t, suspended=True)}/reinstate", form={"reason": "Checked"})


async def _admin_verify_page(t: Target) -> Call:
    return Call(f"/admin/orgs/{await _fresh_org(t)}/verify", form={})


async def _admin_unverify_page(t: Target) -> Call:
    return Call(f"/admin/orgs/{await _fresh_org(t, verified=True)}/unverify", form={})


async def _signup(t: Target) -> Call:
    return Call("/signup", form={
        "display_name": "Chen Jing", "email": f"{unique('signup')}@shop.test", "password": PASSWORD,
        "kind": "merchant", "org_name": "Lanfei Fashion", "province": "Zhejiang", "city": "Hangzhou", "size": "small",
    })


async def _login(t: Target) -> Call:
    return Call("/login", form={"email": t.owner.email, "password": PASSWORD, "next": "/account"})


async def _language(t: Target) -> Call:
    return Call("/language", form={"locale": "en", "next": "/providers"})


async def _switch_org(t: Target) -> Call:
    return Call("/switch-org", form={"org_id": str(t.org_id)})


async def _new_org(t: Target) -> Call:
    return Call("/organisations/new", form={"kind": "provider", "org_name": unique("New provider "),
                                            "categories": ["design"]})


async def _org_update(t: Target) -> Call:
    return Call("/org", form=org_form(t.kind))


async def _org_invite(t: Target) -> Call:
    return Call("/org/invitations", form={"email": f"{unique('invitee')}@example.test", "role": second_role(t.kind)})


async def _org_invite_revoke(t: Target) -> Call:
    return Call(f"/org/invitations/{(await fresh_invitation(t))['id']}/revoke")


async def _org_member_role(t: Target) -> Call:
    return Call(f"/org/members/{await fresh_member(t)}/role", form={"role": second_role(t.kind)})


async def _org_member_remove(t: Target) -> Call:
    return Call(f"/org/members/{await fresh_member(t)}/remove")


async def _invitation_page(t: Target) -> Call:
    return Call((await fresh_invitation(t))["accept_url"])


async def _invitation_accept_page(t: Target) -> Call:
    return Call(f"/invitations/{await invitation_for_owner(t)}")


async def _account_update(t: Target) -> Call:
    return Call("/account", form={"display_name": "Renamed", "locale": "en", "timezone": "Asia/Shanghai"})


async def _token_create_page(t: Target) -> Call:
    return Call("/account/tokens", form={"name": "page token"})


async def _token_revoke_page(t: Target) -> Call:
    return Call(f"/account/tokens/{await fresh_token(t)}/revoke")


async def _notification_open(t: Target) -> Call:
    return Call(f"/notifications/{await fresh_notification(t)}/read", form={"next": "/notifications"})


# --- the matrix ----------------------------------------------------------------------

EVERY_MEMBER = ()
OWNER = (roles.OWNER,)
AUDIT_ROLES = (roles.OWNER, roles.OPERATOR, roles.MANAGER, roles.ADMIN)

FORM_ERROR_NOT_403 = (
    "fuwu/pages.py catches the FuwuError (Forbidden owner_only) and re-renders the organisation page with the "
    "error and status 422 instead of refusing with 403"
)
FORM_ERROR_NOT_404 = (
    "fuwu/pages.py catches the FuwuError (NotFound member_not_found) and re-renders the organisation page with the "
    "error and status 422 instead of answering 404"
)

MATRIX = [
    # health
    Entry("GET", "/healthz", PUBLIC),
    Entry("GET", "/readyz", PUBLIC),
    Entry("GET", "/favicon.ico", PUBLIC),
    # the signed-in person
    Entry("GET", "/api/v1/me", USER, outsider=None),
    Entry("PATCH", "/api/v1/me", USER, outsider=None,
          setup=lambda t: Call("/api/v1/me", json={"display_name": "Renamed"})),
    Entry("GET", "/api/v1/tokens", USER, outsider=None),
    Entry("POST", "/api/v1/tokens", USER, outsider=None, setup=lambda t: Call("/api/v1/tokens", json={"name": "ci"})),
    Entry("DELETE", "/api/v1/tokens/{token_id:uuid}", USER, setup=_token_delete),
    Entry("GET", "/api/v1/notifications", USER, outsider=None),
    Entry("POST", "/api/v1/notifications/{notification_id:uuid}/read", USER, setup=_notification_read, ok=(204,)),
    Entry("POST", "/api/v1/notifications/read-all", USER, outsider=None, ok=(204,)),
    Entry("GET", "/api/v1/orgs", USER, outsider=None),
    Entry("POST", "/api/v1/orgs", USER, outsider=None,
          setup=lambda t: Call("/api/v1/orgs", json={"kind": "merchant", "name": unique("Org "), "size": "small"})),
    Entry("POST", "/api/v1/invitations/accept", USER, setup=_accept, outsider=403),
    # organisations
    Entry("GET", "/api/v1/orgs/{org_id:uuid}", ORG, setup=_org, roles=EVERY_MEMBER),
    Entry("PATCH", "/api/v1/orgs/{org_id:uuid}", ORG, setup=_org_patch, roles=OWNER),
    Entry("GET", "/api/v1/orgs/{org_id:uuid}/members", ORG, setup=_members, roles=EVERY_MEMBER),
    Entry("PATCH", "/api/v1/orgs/{org_id:uuid}/members/{membership_id:uuid}", ORG, setup=_member_patch, roles=OWNER),
    Entry("DELETE", "/api/v1/orgs/{org_id:uuid}/members/{membership_id:uuid}", ORG, setup=_member_delete,
          roles=OWNER),
    Entry("GET", "/api/v1/orgs/{org_id:uuid}/invitations", ORG, setup=_invitations, roles=OWNER),
    Entry("POST", "/api/v1/orgs/{org_id:uuid}/invitations", ORG, setup=_invitation_post, roles=OWNER),
    Entry("DELETE", "/api/v1/orgs/{org_id:uuid}/invitations/{invitation_id:uuid}", ORG, setup=_invitation_delete,
          roles=OWNER),
    Entry("GET", "/api/v1/orgs/{org_id:uuid}/audit", ORG, setup=_org_audit, roles=AUDIT_ROLES),
    # the public provider directory
    Entry("GET", "/api/v1/providers", PUBLIC),
    Entry("GET", "/api/v1/providers/{provider_id:uuid}", PUBLIC, setup=_provider, kinds=(roles.PROVIDER,)),
    # platform admin: others get 404
    Entry("GET", "/api/v1/admin/organisations", ADMIN),
    Entry("GET", "/api/v1/admin/audit", ADMIN),
    Entry("GET", "/api/v1/admin/organisations/{org_id:uuid}", ADMIN, setup=_admin_org),
    Entry("POST", "/api/v1/admin/organisations/{org_id:uuid}/suspend", ADMIN, setup=_admin_suspend, ok=(200,)),
    Entry("POST", "/api/v1/admin/organisations/{org_id:uuid}/reinstate", ADMIN, setup=_admin_reinstate, ok=(200,)),
    Entry("POST", "/api/v1/admin/organisations/{org_id:uuid}/verify", ADMIN, setup=_admin_verify, ok=(200,)),
    Entry("DELETE", "/api/v1/admin/organisations/{org_id:uuid}/verify", ADMIN, setup=_admin_unverify, ok=(200,)),
    # public pages
    Entry("GET", "/", PUBLIC, ok=(200, 302)),  # signed in: to /dashboard
    Entry("GET", "/signup", PUBLIC),
    Entry("POST", "/signup", PUBLIC, setup=_signup),
    Entry("POST", "/api/v1/signup", PUBLIC, ok=(201,), setup=lambda t: Call("/api/v1/signup", json={
        "email": f"{unique('api')}@example.test", "password": "a long enough password for a shop",
        "display_name": "Chen Jing", "organisation": {"kind": "merchant", "name": unique("Shop "), "size": "small"}})),
    Entry("GET", "/login", PUBLIC),
    Entry("POST", "/login", PUBLIC, setup=_login),
    Entry("POST", "/logout", PUBLIC),
    Entry("POST", "/language", PUBLIC, setup=_language),
    Entry("GET", "/providers", PUBLIC),
    Entry("GET", "/providers/{provider_id:uuid}", PUBLIC, setup=_provider_page, kinds=(roles.PROVIDER,)),
    Entry("GET", "/invitations/{token:str}", PUBLIC, setup=_invitation_page),
    # signed-in pages about the person
    Entry("GET", "/dashboard", USER, outsider=None),
    Entry("GET", "/organisations/new", USER, outsider=None),
    Entry("POST", "/organisations/new", USER, outsider=None, setup=_new_org),
    Entry("POST", "/invitations/{token:str}", USER, setup=_invitation_accept_page, outsider=403),
    Entry("GET", "/account", USER, outsider=None),
    Entry("POST", "/account", USER, outsider=None, setup=_account_update),
    Entry("POST", "/account/tokens", USER, outsider=None, setup=_token_create_page, ok=(303,)),
    Entry("GET", "/account/tokens", USER, outsider=None, ok=(302,)),  # to /account
    Entry("POST", "/account/tokens/{token_id:uuid}/revoke", USER, setup=_token_revoke_page),
    Entry("GET", "/notifications", USER, outsider=None),
    Entry("POST", "/notifications/{notification_id:uuid}/read", USER, setup=_notification_open),
    Entry("POST", "/notifications/read-all", USER, outsider=None),
    # pages of the session's current organisation
    Entry("POST", "/switch-org", ORG, setup=_switch_org, roles=EVERY_MEMBER),
    Entry("GET", "/org", ORG, roles=EVERY_MEMBER, outsider=None),
    Entry("POST", "/org", ORG, setup=_org_update, roles=OWNER, outsider=None),
    Entry("POST", "/org/invitations", ORG, setup=_org_invite, roles=OWNER, outsider=None, ok=(200,)),
    Entry("POST", "/org/invitations/{invitation_id:uuid}/revoke", ORG, setup=_org_invite_revoke, roles=OWNER),
    Entry("POST", "/org/members/{membership_id:uuid}/role", ORG, setup=_org_member_role, roles=OWNER),
    Entry("POST", "/org/members/{membership_id:uuid}/remove", ORG, setup=_org_member_remove, roles=OWNER),
    Entry("GET", "/audit", ORG, roles=AUDIT_ROLES, outsider=None),
    Entry("GET", "/admin", ADMIN),
    Entry("GET", "/admin/orgs/{org_id:uuid}", ADMIN, setup=_admin_org_page),
    Entry("POST", "/admin/orgs/{org_id:uuid}/suspend", ADMIN, setup=_admin_suspend_page),
    Entry("POST", "/admin/orgs/{org_id:uuid}/reinstate", ADMIN, setup=_admin_reinstate_page),
    Entry("POST", "/admin/orgs/{org_id:uuid}/verify", ADMIN, setup=_admin_verify_page),
    Entry("POST", "/admin/orgs/{org_id:uuid}/unverify", ADMIN, setup=_admin_unverify_page),
    Entry("GET", "/admin/audit", ADMIN),
]


@pytest.mark.parametrize("case", authz.cases(MATRIX))
async def test_authz(case, make_client):
    await authz.check(case, make_client)


# --- coverage ------------------------------------------------------------------------


def test_every_shell_route_is_in_the_shell_matrix(app):
    """The shell's own routes (handlers in fuwu.*) are all in this module's matrix."""
    routes = [route for route in authz.app_routes(app) if route.module.startswith("fuwu.")]
    problems = authz.coverage_problems(routes, {__name__: MATRIX})
    assert not problems, "\n".join(["The shell's authorisation matrix is out of date:", *problems])


def test_every_route_is_in_a_matrix(app):
    """Every route of every domain is declared in some tests/integration/*/test_authz_matrix*.py
    (or authz_matrix*.py) module's MATRIX: a new endpoint without an entry fails here."""
    matrices = authz.collect_matrices()
    assert __name__ in matrices, matrices.keys()
    problems = authz.coverage_problems(authz.app_routes(app), matrices)
    assert not problems, "\n".join([
        f"{len(problems)} problem(s) between the app's routes and the authorisation matrices "
        f"({', '.join(matrices)}); declare each route in its domain's matrix (see tests/authz.py):",
        *problems,
    ])


def test_the_matrix_checks_every_kind_of_caller():
    """A sanity check of the matrix itself: each access level yields the callers it must."""
    by_entry: dict[tuple[str, str], set[str]] = {}
    for param in authz.cases(MATRIX):
        case = param.values[0]
        by_entry.setdefault(case.entry.key, set()).add(case.caller)
    assert by_entry[("PATCH", "/api/v1/orgs/{org_id:uuid}")] == {
        "anonymous", "bad_token", "no_csrf", "outsider", "owner", "operator", "evaluator", "manager", "agent"}
    assert by_entry[("GET", "/admin")] == {"anonymous", "admin", "merchant_owner", "provider_owner"}
    assert by_entry[("POST", "/logout")] == {"anonymous", "signed_in", "no_csrf"}
    assert by_entry[("DELETE", "/api/v1/tokens/{token_id:uuid}")] == {
        "anonymous", "bad_token", "no_csrf", "self", "outsider"}


def test_coverage_names_missing_stale_and_twice_declared_routes():
    routes = [authz.Route("GET", "/a", "d.api", "a"), authz.Route("POST", "/a", "d.api", "create_a"),
              authz.Route("WS", "/live", "d.ws", "live")]
    matrices = {
        "one": [Entry("GET", "/a", PUBLIC), Entry("DELETE", "/gone", USER)],
        "two": [Entry("GET", "/a", PUBLIC), Entry("WS", "/live", USER, page=True)],
    }
    assert authz.coverage_problems(routes, matrices) == [
        "no matrix entry: POST /a  (d.api.create_a)",
        "entry for a route the app does not have: DELETE /gone (in one)",
        "declared more than once: GET /a (in one, two)",
    ]
