"""One object per domain: everything a domain plugs into the app.

Each domain (`fuwu`, `tenders`, `bids`, `sla`, `chat`, `ratings`) declares one
`Domain` as `DOMAIN` in its `domain.py`. `fuwu.app.create_app()` collects the list, builds one
`Wiring` from it and installs it; nothing registers itself when a module is imported.

Lower domains never import higher ones. Where a lower domain must call a higher one
inside its own transaction (closing bidding counts the bids; an award opens the
contract), it declares a *hook set*: a dataclass of optional callables and lists of
callables (`tenders.hooks.TenderHooks`, `bids.hooks.BidHooks`, ...). A higher domain
fills in the fields it provides in an instance of that dataclass and lists it in its
`Domain.hooks`; the wiring merges the instances of one hook set into one, and the
lower domain reads it through `wiring().hooks(TenderHooks)`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from fuwu.scheduler import Job

H = TypeVar("H")


@dataclass(frozen=True)
class NavItem:
    label: str  # English message id
    href: str
    kinds: tuple[str, ...]  # organisation kinds that see it
    roles: tuple[str, ...] = ()  # empty: every role
    order: int = 50  # place in the bar, lowest first


@dataclass(frozen=True)
class Panel:
    """A block one domain adds to a page another (lower) domain owns.

    `slot` names the page: "dashboard" (called with viewer, member), "tender"
    (called with request, viewer, member, tender), "admin_organisation" (a platform
    admin's page of one organisation, called with the organisation) or "provider" (the
    public provider profile, called with request and the provider's id), "contract"
    (a contract's page for its parties, called with request, viewer, member, contract)
    or "directory" (the providers directory, for a signed-in member who picked a
    category, called with viewer, member, category). `render` returns the template
    context of the block (with its "template"), or None to show nothing.
    """

    slot: str
    render: Callable[..., Awaitable[dict | None]]
    order: int = 50


@dataclass(frozen=True)
class AuditFilter:
    """Audit events nobody may see on the platform's timeline yet: those about
    objects of `object_type` whose id is among the rows of `hidden_ids_sql` (a
    statement without parameters, returning one text column). A sealed bid's events
    stay hidden until its deadline."""

    object_type: str
    hidden_ids_sql: str


@dataclass(frozen=True)
class Domain:
    """What one domain plugs into the app."""

    name: str
    route_handlers: Sequence[Any] = ()
    jobs: Sequence[Job] = ()
    nav: Sequence[NavItem] = ()
    panels: Sequence[Panel] = ()
    # Filled-in instances of lower domains' hook sets.
    hooks: Sequence[object] = ()
    audit_filters: Sequence[AuditFilter] = ()
    # Run in every web process's lifespan (after the database opened, before it closes).
    on_startup: Sequence[Callable[[], Awaitable[None]]] = ()
    on_shutdown: Sequence[Callable[[], Awaitable[None]]] = ()
    # Loads the domain's demo data; idempotent; called in domain order by `fuwu demo`.
    demo: Callable[[Callable[[str], None]], Awaitable[None]] | None = None
    templates: Path | None = None


class Wiring:
    """What create_app() collected from the domains: one per app, installed with
    `install()` and read with `wiring()`."""

    def __init__(self, domains: Sequence[Domain]):
        names = [domain.name for domain in domains]
        if len(set(names)) != len(names):
            raise ValueError(f"a domain is listed twice: {names}")
        self.domains = tuple(domains)
        self.route_handlers = [handler for domain in domains for handler in domain.route_handlers]
        self.jobs = [job for domain in domains for job in domain.jobs]
        self.nav = sorted((item for domain in domains for item in domain.nav), key=lambda item: item.order)
        self.audit_filters = [f for domain in domains for f in domain.audit_filters]
        self.on_startup = [callback for domain in domains for callback in domain.on_startup]
        self.on_shutdown = [callback for domain in reversed(domains) for callback in domain.on_shutdown]
        self.template_folders = [domain.templates for domain in domains if domain.templates is not None]
        self._panels: dict[str, list[Panel]] = {}
        for domain in domains:
            for panel in domain.panels:
                self._panels.setdefault(panel.slot, []).append(panel)
        for slot in self._panels.values():
            slot.sort(key=lambda panel: panel.order)
        self._hooks: dict[type, object] = {}
        for domain in domains:
            for provided in domain.hooks:
                self._merge(provided)

    def _merge(self, provided: object) -> None:
        kind = type(provided)
        merged = self._hooks.setdefault(kind, kind())
        for spec in dataclasses.fields(kind):
            value = getattr(provided, spec.name)
            default = getattr(kind(), spec.name)
            if isinstance(value, list):
                getattr(merged, spec.name).extend(value)
            elif value is not default and value != default:
                if getattr(merged, spec.name) != default:
                    raise ValueError(f"{kind.__name__}.{spec.name} is provided by two domains")
                setattr(merged, spec.name, value)

    def hooks(self, kind: type[H]) -> H:
        """The merged hook set of this kind (empty if no domain provides any)."""
        found = self._hooks.get(kind)
        return found if found is not None else kind()

    def panels(self, slot: str) -> list[Panel]:
        return self._panels.get(slot, [])

    async def render_panels(self, slot: str, *args) -> list:
        """What each panel of the slot renders with `args` (the slot's own arguments),
        in their order, leaving out the panels that have nothing to show."""
        rendered = []
        for panel in self.panels(slot):
            result = await panel.render(*args)
            if result:
                rendered.append(result)
        return rendered

    def demo_loaders(self) -> list[tuple[str, Callable]]:
        return [(domain.name, domain.demo) for domain in self.domains if domain.demo is not None]


_installed: Wiring | None = None


def install(wiring_: Wiring) -> None:
    global _installed
    _installed = wiring_


def installed() -> Wiring | None:
    """The installed wiring, or None: for side effects that may do without it."""
    return _installed


def wiring() -> Wiring:
    if _installed is None:
        raise RuntimeError("the domains are not wired: build the app with fuwu.app.create_app() "
                           "(or call fuwu.app.wire()) first")
    return _installed


__all__ = ["AuditFilter", "Domain", "NavItem", "Panel", "Wiring", "install", "installed", "wiring"]
