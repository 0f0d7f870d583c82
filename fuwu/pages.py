"""Server-rendered pages of the shell: sign-up, log-in, dashboard, organisation,
members and invitations, API tokens, notifications, audit timeline, providers, admin."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any
from urllib.parse import quote

import msgspec
from litestar import Request, get, post
from litestar.datastructures import Cookie
from litestar.params import FromPath
from litestar.response import File, Redirect, Template

from fuwu import i18n, roles, security
from fuwu import values as value_lists
from fuwu.auth import LANGUAGE_COOKIE, SESSION_COOKIE
from fuwu.errors import FuwuError, NotAuthenticated, TooManyRequests, not_found
from fuwu.schemas import OrganisationUpdate, ProviderRead, SignUp
from fuwu.services import accounts, admin, audit, notifications
from fuwu.services.accounts import Member, Viewer
from fuwu.settings import get_settings
from fuwu.wiring import wiring

# Panels that domains add to the dashboard: async callables (viewer, member) -> dict
# with "template" and its context, or None.


class LoginRequired(NotAuthenticated):
    """Raised by pages: the error handler sends the browser to the log-in page."""


def page_viewer(request: Request) -> Viewer:
    viewer = request.scope.get("user")
    if viewer is None:
        raise LoginRequired("login_required", "Log in to see this page.", next=request.url.path)
    return viewer


async def current_member(viewer: Viewer) -> Member | None:
    """The membership of the session's current organisation, else the first one."""
    if viewer.current_organisation is not None:
        try:
            return await accounts.membership(viewer.user_id, viewer.current_organisation)
        except FuwuError:
            pass
    memberships = await accounts.memberships_of(viewer.user_id)
    if memberships:
        return await accounts.membership(viewer.user_id, memberships[0]["organisation"]["id"])
    return None


async def shell_context(request: Request) -> dict[str, Any]:
    viewer: Viewer | None = request.scope.get("user")
    context: dict[str, Any] = {"viewer": viewer, "member": None, "memberships": [], "unread": 0}
    if viewer is not None:
        context["member"] = await current_member(viewer)
        context["memberships"] = await accounts.memberships_of(viewer.user_id)
        context["unread"] = await notifications.unread_count(viewer.user_id)
        context["timezone"] = viewer.timezone
    else:
        context["timezone"] = get_settings().default_timezone
    return context


async def render(request: Request, template: str, status_code: int = 200, **context: Any) -> Template:
    base = await shell_context(request)
    base.update(context)
    return Template(template, context=base, status_code=status_code)


async def require_member(viewer: Viewer, *allowed_roles: str) -> Member:
    member = await current_member(viewer)
    if member is None:
        raise not_found("Organisation")
    if allowed_roles and member.role not in allowed_roles:
        from fuwu.errors import Forbidden

        raise Forbidden("role_not_allowed", "Your role cannot open this page.")
    return member


def safe_next(target: str | None, default: str = "/dashboard") -> str:
    """Only local paths: a `next` that leaves the site would help phishing."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return default


def session_cookie(token: str) -> Cookie:
    settings = get_settings()
    return Cookie(
        key=SESSION_COOKIE, value=token, httponly=True, samesite="lax", secure=settings.secure_cookies,
        max_age=settings.session_days * 86400, path="/",
    )


def form_errors(exc: Exception) -> str:
    """The message to show on a form. Refusals (403, 404) are not form errors: they
    propagate, so the page answers as the API would."""
    from fuwu.errors import Forbidden, NotFound

    if isinstance(exc, (Forbidden, NotFound)):
        raise exc
    if isinstance(exc, FuwuError):
        return exc.localised()
    if isinstance(exc, msgspec.ValidationError):
        return i18n.gettext("Check the form: %(problem)s", problem=str(exc))
    raise exc


def client_ip(request: Request) -> str:
    """The client's address (X-Forwarded-For only from FUWU_TRUSTED_PROXIES)."""
    return security.client_address(request.client.host if request.client else None,
                                   request.headers.getall("x-forwarded-for", []))


def with_retry_after(response: Template, exc: FuwuError) -> Template:
    """A page answering 429 says, like the API, when to try again."""
    if "retry_after" in exc.extra:
        response.headers["Retry-After"] = str(exc.extra["retry_after"])
    return response


# --- public --------------------------------------------------------------------------


@get("/", include_in_schema=False)
async def home(request: Request) -> Template | Redirect:
    if request.scope.get("user") is not None:
        return Redirect("/dashboard")
    return await render(request, "home.html")


@get("/signup", include_in_schema=False)
async def signup_form(request: Request) -> Template:
    return await render(request, "signup.html", form={"kind": request.query_params.get("kind", "merchant")}, error=None)


def _signup_from_form(form) -> SignUp:
    kind = form.get("kind", "")
    organisation = {
        "kind": kind,
        "name": form.get("org_name", "").strip(),
        "province": form.get("province", "").strip(),
        "city": form.get("city", "").strip(),
    }
    if kind == roles.MERCHANT:
        organisation["size"] = form.get("size") or None
    if kind == roles.PROVIDER:
        organisation["categories"] = form.getall("categories", [])
        organisation["profile"] = form.get("profile", "")
    return msgspec.convert(
        {
            "email": form.get("email", "").strip(),
            "password": form.get("password", ""),
            "display_name": form.get("display_name", "").strip(),
            "locale": form.get("locale") or i18n.current_locale.get(),
            "organisation": organisation,
        },
        SignUp,
    )


@post("/signup", include_in_schema=False)
async def signup(request: Request) -> Template | Redirect:
    form = await request.form()
    try:
        data = _signup_from_form(form)
        user, _ = await accounts.sign_up(data.email, data.password, data.display_name, data.locale, data.organisation,
                                         ip=client_ip(request))
    except (FuwuError, msgspec.ValidationError) as exc:
        values = {k: v for k, v in form.items() if k != "password"}
        values["categories"] = form.getall("categories", [])
        page = await render(request, "signup.html", status_code=429 if isinstance(exc, TooManyRequests) else 422,
                            form=values, error=form_errors(exc))
        return with_retry_after(page, exc) if isinstance(exc, FuwuError) else page
    token = await accounts.start_session(user)
    return Redirect("/dashboard", cookies=[session_cookie(token)])


@get("/login", include_in_schema=False)
async def login_form(request: Request) -> Template:
    return await render(request, "login.html", next=safe_next(request.query_params.get("next")), error=None, email="")


@post("/login", include_in_schema=False)
async def login(request: Request) -> Template | Redirect:
    form = await request.form()
    email, password = form.get("email", "")[:254], form.get("password", "")[:200]
    target = safe_next(form.get("next"))
    try:
        user = await accounts.authenticate(email, password, client_ip(request))
    except FuwuError as exc:
        return with_retry_after(await render(request, "login.html", status_code=exc.status_code, next=target,
                                             error=form_errors(exc), email=email), exc)
    # The language the log-in page was read in (picked on the site, or the browser's)
    # stays after logging in, and the account keeps it as the person's latest choice:
    # nobody reading English is switched to Chinese by logging in.
    chosen = form.get("locale") or request.cookies.get(LANGUAGE_COOKIE)
    if chosen in i18n.SUPPORTED and chosen != user.get("locale"):
        await accounts.set_locale(user["id"], chosen)
    token = await accounts.start_session(user)
    return Redirect(target, cookies=[session_cookie(token)])


@post("/logout", include_in_schema=False)
async def logout(request: Request) -> Redirect:
    viewer = request.scope.get("user")
    if viewer is not None and viewer.session_id is not None:
        await accounts.end_session(viewer.session_id)
    return Redirect("/", cookies=[Cookie(key=SESSION_COOKIE, value="", max_age=0, path="/", httponly=True)])


@post("/language", include_in_schema=False)
async def switch_language(request: Request) -> Redirect:
    """Switches the language: kept on the account when signed in, in a cookie otherwise."""
    form = await request.form()
    locale = form.get("locale", "en")
    if locale not in i18n.SUPPORTED:
        locale = "en"
    viewer = request.scope.get("user")
    if viewer is not None:
        await accounts.set_locale(viewer.user_id, locale)
    cookie = Cookie(key=LANGUAGE_COOKIE, value=locale, max_age=365 * 86400, path="/", samesite="lax")
    return Redirect(safe_next(form.get("next"), "/"), cookies=[cookie])


@get("/providers", include_in_schema=False)
async def providers_page(request: Request) -> Template:
    category = request.query_params.get("category") or None
    if category not in value_lists.CATEGORIES:
        category = None
    province = (request.query_params.get("province") or "")[:64] or None
    page = await accounts.list_providers(category, province, request.query_params.get("cursor"), 20)
    viewer = request.scope.get("user")
    member = await current_member(viewer) if viewer is not None and category else None
    # Higher domains' blocks (tenders: recommended for you).
    panels = await wiring().render_panels("directory", viewer, member, category) if member is not None else []
    # Rows as the API shows them; each category's label looked up, not computed per row.
    providers = [msgspec.convert(row, ProviderRead) for row in page.items]
    return await render(request, "providers.html", providers=providers, next_cursor=page.next_cursor,
                        category=category, province=province or "", categories=value_lists.CATEGORIES,
                        category_labels=value_lists.CATEGORIES.translated(), panels=panels)


@get("/providers/{provider_id:uuid}", include_in_schema=False)
async def provider_page(request: Request, provider_id: FromPath[uuid.UUID]) -> Template:
    profile = await accounts.provider_profile(provider_id)
    # Higher domains' blocks (sla: promise against delivery; ratings: tier and ratings).
    panels = await wiring().render_panels("provider", request, provider_id)
    return await render(request, "provider.html", provider=profile, verified=await admin.is_verified(provider_id),
                        panels=panels)


# --- signed in -----------------------------------------------------------------------


@get("/dashboard", include_in_schema=False)
async def dashboard(request: Request) -> Template:
    viewer = page_viewer(request)
    member = await current_member(viewer)
    panels = await wiring().render_panels("dashboard", viewer, member) if member is not None else []
    recent = await notifications.list_for_user(viewer.user_id, None, 5)
    org = await accounts.get_organisation(member.organisation_id) if member else None
    return await render(request, "dashboard.html", panels=panels, recent=recent.items, org=org)


@post("/switch-org", include_in_schema=False)
async def switch_org(request: Request) -> Redirect:
    viewer = page_viewer(request)
    form = await request.form()
    try:
        org_id = uuid.UUID(form.get("org_id", ""))
    except ValueError:
        raise not_found("Organisation") from None
    await accounts.switch_organisation(viewer, org_id)
    return Redirect("/dashboard")


@get("/organisations/new", include_in_schema=False)
async def new_org_form(request: Request) -> Template:
    page_viewer(request)
    return await render(request, "org_new.html", form={"kind": "merchant"}, error=None)


@post("/organisations/new", include_in_schema=False)
async def new_org(request: Request) -> Template | Redirect:
    viewer = page_viewer(request)
    form = await request.form()
    try:
        data = _signup_from_form(
            _FormWithDefaults(form, {"email": "x@example.com", "password": "unused-pass", "display_name": "x"})
        ).organisation
        org = await accounts.create_organisation(viewer, data)
    except (FuwuError, msgspec.ValidationError) as exc:
        return await render(request, "org_new.html", status_code=422, form=dict(form.items()), error=form_errors(exc))
    await accounts.switch_organisation(viewer, org["id"])
    return Redirect("/org")


class _FormWithDefaults:
    def __init__(self, form, defaults: dict) -> None:
        self.form, self.defaults = form, defaults

    def get(self, key, default=None):
        return self.defaults.get(key) if key in self.defaults else self.form.get(key, default)

    def getall(self, key, default=None):
        return self.form.getall(key, default)


@get("/org", include_in_schema=False)
async def org_page(request: Request) -> Template:
    viewer = page_viewer(request)
    member = await require_member(viewer)
    is_owner = member.role == roles.TOP_ROLE[member.kind]
    return await render(
        request, "org.html",
        org=await accounts.get_organisation(member.organisation_id),
        members=await accounts.list_members(member.organisation_id),
        invitations=await accounts.list_invitations(member) if is_owner else [],
        is_owner=is_owner, role_choices=roles.ROLES_BY_KIND[member.kind], sizes=value_lists.MERCHANT_SIZES,
        categories=value_lists.CATEGORIES, new_invite=None, error=None,
    )


@post("/org", include_in_schema=False)
async def org_update(request: Request) -> Template | Redirect:
    viewer = page_viewer(request)
    member = await require_member(viewer)
    form = await request.form()
    values: dict[str, Any] = {k: form.get(k) for k in ("name", "province", "city", "timezone") if form.get(k) is not None}
    if member.kind == roles.MERCHANT and form.get("size"):
        values["size"] = form.get("size")
    if member.kind == roles.PROVIDER:
        values["categories"] = form.getall("categories", [])
        values["profile"] = form.get("profile", "")
    try:
        await accounts.update_organisation(viewer, member, msgspec.convert(values, OrganisationUpdate))
    except (FuwuError, msgspec.ValidationError) as exc:
        return await _org_with_error(request, viewer, member, form_errors(exc))
    return Redirect("/org")


async def _org_with_error(request: Request, viewer: Viewer, member: Member, error: str, new_invite=None) -> Template:
    is_owner = member.role == roles.TOP_ROLE[member.kind]
    return await render(
        request, "org.html", status_code=422 if error else 200,
        org=await accounts.get_organisation(member.organisation_id),
        members=await accounts.list_members(member.organisation_id),
        invitations=await accounts.list_invitations(member) if is_owner else [],
        is_owner=is_owner, role_choices=roles.ROLES_BY_KIND[member.kind], sizes=value_lists.MERCHANT_SIZES,
        categories=value_lists.CATEGORIES, new_invite=new_invite, error=error,
    )


@post("/org/invitations", include_in_schema=False)
async def org_invite(request: Request) -> Template:
    viewer = page_viewer(request)
    member = await require_member(viewer)
    form = await request.form()
    try:
        from fuwu.schemas import InvitationCreate

        data = msgspec.convert({"email": form.get("email", "").strip(), "role": form.get("role", "")}, InvitationCreate)
        invitation = await accounts.invite(viewer, member, data.email, data.role)
    except (FuwuError, msgspec.ValidationError) as exc:
        return await _org_with_error(request, viewer, member, form_errors(exc))
    link = str(request.base_url).rstrip("/") + invitation["accept_url"]
    return await _org_with_error(request, viewer, member, "", new_invite={"email": invitation["email"], "link": link})


@post("/org/invitations/{invitation_id:uuid}/revoke", include_in_schema=False)
async def org_invite_revoke(request: Request, invitation_id: FromPath[uuid.UUID]) -> Redirect:
    viewer = page_viewer(request)
    member = await require_member(viewer)
    await accounts.revoke_invitation(viewer, member, invitation_id)
    return Redirect("/org")


@post("/org/members/{membership_id:uuid}/role", include_in_schema=False)
async def org_member_role(request: Request, membership_id: FromPath[uuid.UUID]) -> Template | Redirect:
    viewer = page_viewer(request)
    member = await require_member(viewer)
    form = await request.form()
    try:
        await accounts.change_member_role(viewer, member, membership_id, form.get("role", ""))
    except FuwuError as exc:
        return await _org_with_error(request, viewer, member, form_errors(exc))
    return Redirect("/org")


@post("/org/members/{membership_id:uuid}/remove", include_in_schema=False)
async def org_member_remove(request: Request, membership_id: FromPath[uuid.UUID]) -> Template | Redirect:
    viewer = page_viewer(request)
    member = await require_member(viewer)
    try:
        await accounts.remove_member(viewer, member, membership_id)
    except FuwuError as exc:
        return await _org_with_error(request, viewer, member, form_errors(exc))
    return Redirect("/org" if await _still_member(viewer, member) else "/dashboard")


async def _still_member(viewer: Viewer, member: Member) -> bool:
    try:
        await accounts.membership(viewer.user_id, member.organisation_id)
    except FuwuError:
        return False
    return True


@get("/invitations/{token:str}", include_in_schema=False)
async def invitation_page(request: Request, token: FromPath[str]) -> Template:
    invitation = await accounts.invitation_by_token(token[:200])
    return await render(request, "invitation.html", invitation=invitation, token=token, error=None)


@post("/invitations/{token:str}", include_in_schema=False)
async def invitation_accept(request: Request, token: FromPath[str]) -> Template | Redirect:
    viewer = request.scope.get("user")
    if viewer is None:
        raise LoginRequired("login_required", "Log in to accept the invitation.", next=request.url.path)
    try:
        result = await accounts.accept_invitation(viewer, token[:200])
    except FuwuError as exc:
        invitation = await accounts.invitation_by_token(token[:200])
        return await render(request, "invitation.html", status_code=exc.status_code, invitation=invitation,
                            token=token, error=exc.localised())
    await accounts.switch_organisation(viewer, result["organisation_id"])
    return Redirect("/dashboard")


@get("/account", include_in_schema=False)
async def account_page(request: Request) -> Template:
    viewer = page_viewer(request)
    tokens = await accounts.list_tokens(viewer)
    # A token just created (post/redirect/get): shown once, if it is one of the viewer's.
    just_created = request.cookies.get(NEW_TOKEN_COOKIE, "")
    new_token = next(({**t, "token": just_created} for t in tokens
                      if just_created and t["revoked_at"] is None and just_created.startswith(t["prefix"])), None)
    response = await render(request, "account.html", user=await accounts.get_user(viewer.user_id), error=None,
                            tokens=tokens, new_token=new_token)
    if just_created:
        response.delete_cookie(NEW_TOKEN_COOKIE, path="/account")
    return response


@post("/account", include_in_schema=False)
async def account_update(request: Request) -> Template | Redirect:
    viewer = page_viewer(request)
    form = await request.form()
    from fuwu.schemas import UserUpdate

    try:
        data = msgspec.convert(
            {k: form.get(k) for k in ("display_name", "locale", "timezone") if form.get(k)}, UserUpdate
        )
        await accounts.update_profile(viewer, data)
    except (FuwuError, msgspec.ValidationError) as exc:
        return await render(request, "account.html", status_code=422, user=await accounts.get_user(viewer.user_id),
                            error=form_errors(exc), tokens=await accounts.list_tokens(viewer), new_token=None)
    return Redirect("/account")


# The plain token travels once from the create form to the account page that shows it:
# a short-lived cookie only /account reads, cleared as soon as it is shown.
NEW_TOKEN_COOKIE = "fuwu_new_token"


@post("/account/tokens", include_in_schema=False)
async def token_create(request: Request) -> Redirect:
    """Post/redirect/get: reloading the page that shows the new token neither resends
    the form nor lands on an address that only takes POST."""
    viewer = page_viewer(request)
    form = await request.form()
    name = form.get("name", "").strip()[:100] or "API token"
    created = await accounts.create_token(viewer, name)
    cookie = Cookie(key=NEW_TOKEN_COOKIE, value=created["token"], max_age=300, path="/account", httponly=True,
                    samesite="strict", secure=get_settings().secure_cookies)
    return Redirect("/account#tokens", cookies=[cookie], status_code=303)


@get("/account/tokens", include_in_schema=False)
async def tokens_page(request: Request) -> Redirect:
    """The tokens live on the account page (an old bookmark of the form's address)."""
    page_viewer(request)
    return Redirect("/account#tokens")


@post("/account/tokens/{token_id:uuid}/revoke", include_in_schema=False)
async def token_revoke(request: Request, token_id: FromPath[uuid.UUID]) -> Redirect:
    viewer = page_viewer(request)
    await accounts.revoke_token(viewer, token_id)
    return Redirect("/account")


@get("/notifications", include_in_schema=False)
async def notifications_page(request: Request) -> Template:
    viewer = page_viewer(request)
    page = await notifications.list_for_user(viewer.user_id, request.query_params.get("cursor"), 20)
    return await render(request, "notifications.html", page=page)


@post("/notifications/{notification_id:uuid}/read", include_in_schema=False)
async def notification_open(request: Request, notification_id: FromPath[uuid.UUID]) -> Redirect:
    viewer = page_viewer(request)
    if not await notifications.mark_read(viewer.user_id, notification_id):
        raise not_found("Notification")
    form = await request.form()
    return Redirect(safe_next(form.get("next"), "/notifications"))


@post("/notifications/read-all", include_in_schema=False)
async def notifications_read_all(request: Request) -> Redirect:
    viewer = page_viewer(request)
    await notifications.mark_all_read(viewer.user_id)
    return Redirect("/notifications")


@get("/audit", include_in_schema=False)
async def audit_page(request: Request) -> Template:
    viewer = page_viewer(request)
    member = await require_member(viewer, roles.OWNER, roles.OPERATOR, roles.MANAGER, roles.ADMIN)
    page = await audit.organisation_timeline(member.organisation_id, request.query_params.get("cursor"), 50)
    return await render(request, "audit.html", page=page, title=member.name)


FAVICON = Path(__file__).resolve().parent / "static" / "favicon.ico"


@get("/favicon.ico", include_in_schema=False)
async def favicon() -> File:
    """Browsers ask for /favicon.ico whatever the page links to."""
    return File(FAVICON, content_disposition_type="inline", media_type="image/x-icon",
                headers={"Cache-Control": "public, max-age=86400"})


def login_redirect(path: str) -> Redirect:
    return Redirect(f"/login?next={quote(path)}")


ROUTES = [
    home, signup_form, signup, login_form, login, logout, switch_language, providers_page, provider_page,
    dashboard, switch_org, new_org_form, new_org, org_page, org_update, org_invite, org_invite_revoke,
    org_member_role, org_member_remove, invitation_page, invitation_accept, account_page, account_update,
    token_create, tokens_page, token_revoke, notifications_page, notification_open, notifications_read_all,
    audit_page, favicon,
]
