"""Template globals and the navigation that each domain adds to."""

from __future__ import annotations

from dataclasses import dataclass

from jinja2 import Environment

from fuwu import i18n, values
from fuwu.clock import local
from fuwu.money import format_money


@dataclass(frozen=True)
class NavItem:
    label: str  # English message id
    href: str
    kinds: tuple[str, ...]  # organisation kinds that see it
    roles: tuple[str, ...] = ()  # empty: every role


# The shell's own entries; domains append theirs when the app is wired.
NAV_ITEMS: list[NavItem] = [
    NavItem("Dashboard", "/dashboard", ("merchant", "provider", "platform")),
    NavItem("Providers", "/providers", ("merchant", "provider", "platform")),
    NavItem("Organisation", "/org", ("merchant", "provider", "platform")),
    NavItem("Audit log", "/audit", ("merchant", "provider", "platform"), ("owner", "operator", "manager", "admin")),
    NavItem("Admin", "/admin", ("platform",), ("admin",)),
]


def register_nav(item: NavItem, position: int | None = None) -> None:
    if item in NAV_ITEMS:
        return
    if position is None:
        NAV_ITEMS.append(item)
    else:
        NAV_ITEMS.insert(position, item)


def nav_for(member) -> list[NavItem]:
    if not member:
        return [NavItem("Providers", "/providers", ())]
    return [i for i in NAV_ITEMS if member.kind in i.kinds and (not i.roles or member.role in i.roles)]


def localtime(moment, zone: str = "Asia/Shanghai", fmt: str = "%Y-%m-%d %H:%M") -> str:
    value = local(moment, zone)
    return value.strftime(fmt) if value else ""


def install_template_globals(environment: Environment) -> None:
    environment.globals.update(
        nav_for=nav_for,
        current_locale=lambda: i18n.current_locale.get(),
        language_names=i18n.LANGUAGE_NAMES,
        translate_format=i18n.translate_format,
        label=values.label,
        choices=values.LISTS,  # the shared lists of values, by kind: choices.category
    )
    environment.filters["money"] = lambda amount, currency="CNY": format_money(int(amount or 0), currency)
    environment.filters["localtime"] = localtime
