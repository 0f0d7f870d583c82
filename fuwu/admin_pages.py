"""Platform admins' pages: organisations (search, filters, pages of 50), one
organisation whole (members, the tenders and bids other domains show through the
"admin_organisation" panel, its audit timeline; suspend, reinstate, verify), and the
audit log searched by actor, organisation, object, action and dates.

Everyone but a platform admin gets 404: the pages are not advertised."""

from __future__ import annotations

import datetime
import uuid
from urllib.parse import urlencode

from litestar import Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from fuwu import roles
from fuwu.errors import FuwuError, InvalidInput, not_found
from fuwu.pages import form_errors, page_viewer, render
from fuwu.services import accounts, admin
from fuwu.services.accounts import Viewer
from fuwu.wiring import wiring

PAGE_SIZE = 50
FILTERS = ("q", "kind", "verified", "suspended")


async def _admin(request: Request) -> Viewer:
    viewer = page_viewer(request)
    if not await accounts.is_platform_admin(viewer.user_id):
        raise not_found("Page")
    return viewer


def _yes_no(value: str | None) -> bool | None:
    return {"yes": True, "no": False}.get(value or "")


@get("/admin", include_in_schema=False)
async def admin_page(request: Request) -> Template:
    await _admin(request)
    params = request.query_params
    kind = params.get("kind") if params.get("kind") in roles.ORG_KINDS else None
    q = (params.get("q") or "").strip()[:120]
    verified, suspended = _yes_no(params.get("verified")), _yes_no(params.get("suspended"))
    page = await admin.search_organisations(q, kind, verified, suspended, params.get("cursor"), PAGE_SIZE)
    filters = {"q": q, "kind": kind or "", "verified": params.get("verified") if verified is not None else "",
               "suspended": params.get("suspended") if suspended is not None else ""}
    more = None
    if page.next_cursor:
        more = "/admin?" + urlencode({**{k: v for k, v in filters.items() if v}, "cursor": page.next_cursor})
    return await render(request, "admin.html", page=page, filters=filters, more=more, kinds=roles.ORG_KINDS)


async def _org_page(request: Request, org_id: uuid.UUID, error: str = "", status_code: int = 200) -> Template:
    org = await admin.organisation(org_id)
    panels = await wiring().render_panels("admin_organisation", org)
    events = await admin.search_audit(organisation=org_id, limit=20)
    return await render(request, "admin_org.html", status_code=status_code, org=org, panels=panels,
                        events=events.items, more_events=f"/admin/audit?organisation={org_id}", error=error)


@get("/admin/orgs/{org_id:uuid}", include_in_schema=False)
async def admin_org_page(request: Request, org_id: FromPath[uuid.UUID]) -> Template:
    await _admin(request)
    return await _org_page(request, org_id)


async def _act(request: Request, org_id: uuid.UUID, action) -> Template | Redirect:
    viewer = await _admin(request)
    form = await request.form()
    try:
        await action(viewer, (form.get("reason") or "").strip()[:2000])
    except FuwuError as exc:
        return await _org_page(request, org_id, form_errors(exc), exc.status_code)
    return Redirect(f"/admin/orgs/{org_id}", status_code=303)


@post("/admin/orgs/{org_id:uuid}/suspend", include_in_schema=False)
async def admin_org_suspend(request: Request, org_id: FromPath[uuid.UUID]) -> Template | Redirect:
    return await _act(request, org_id, lambda viewer, reason: admin.suspend(viewer, org_id, reason))


@post("/admin/orgs/{org_id:uuid}/reinstate", include_in_schema=False)
async def admin_org_reinstate(request: Request, org_id: FromPath[uuid.UUID]) -> Template | Redirect:
    return await _act(request, org_id, lambda viewer, reason: admin.reinstate(viewer, org_id, reason))


@post("/admin/orgs/{org_id:uuid}/verify", include_in_schema=False)
async def admin_org_verify(request: Request, org_id: FromPath[uuid.UUID]) -> Template | Redirect:
    return await _act(request, org_id, lambda viewer, _: admin.set_verified(viewer, org_id, True))


@post("/admin/orgs/{org_id:uuid}/unverify", include_in_schema=False)
async def admin_org_unverify(request: Request, org_id: FromPath[uuid.UUID]) -> Template | Redirect:
    return await _act(request, org_id, lambda viewer, _: admin.set_verified(viewer, org_id, False))


def _day(value: str | None, zone: str, name: str, end: bool = False) -> datetime.datetime | None:
    """A date typed in the search form (YYYY-MM-DD), as the start of that day in the
    reader's zone (or of the next day, for `end`: the range includes the day)."""
    if not value:
        return None
    try:
        day = datetime.date.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput("invalid_time", "{field} needs a date such as 2026-12-01.", params={"field": name})
    from zoneinfo import ZoneInfo

    moment = datetime.datetime.combine(day, datetime.time(), ZoneInfo(zone))
    return moment + datetime.timedelta(days=1) if end else moment


@get("/admin/audit", include_in_schema=False)
async def admin_audit_page(request: Request) -> Template:
    viewer = await _admin(request)
    params = request.query_params
    fields = {k: (params.get(k) or "").strip()[:254] for k in
              ("actor", "organisation", "object_type", "object_id", "action", "since", "until")}
    error, events, more = "", [], None
    try:
        organisation = None
        if fields["organisation"]:
            try:
                organisation = uuid.UUID(fields["organisation"])
            except ValueError:
                raise InvalidInput("invalid_organisation", "Give the organisation's id.") from None
        page = await admin.search_audit(
            actor=fields["actor"] or None, organisation=organisation, object_type=fields["object_type"] or None,
            object_id=fields["object_id"] or None, action=fields["action"] or None,
            since=_day(fields["since"], viewer.timezone, "since"),
            until=_day(fields["until"], viewer.timezone, "until", end=True),
            cursor=params.get("cursor"), limit=PAGE_SIZE)
        events = page.items
        if page.next_cursor:
            more = "/admin/audit?" + urlencode({**{k: v for k, v in fields.items() if v}, "cursor": page.next_cursor})
    except FuwuError as exc:
        error = form_errors(exc)
    return await render(request, "admin_audit.html", status_code=422 if error else 200, fields=fields,
                        events=events, more=more, error=error)


ROUTES = [admin_page, admin_org_page, admin_org_suspend, admin_org_reinstate, admin_org_verify, admin_org_unverify,
          admin_audit_page]
