"""Template globals; the navigation comes from the domains' `nav` entries."""

from __future__ import annotations

from jinja2 import Environment

from fuwu import i18n, values
from fuwu.clock import local
from fuwu.wiring import NavItem, wiring
from fuwu.money import format_money


def nav_for(member) -> list[NavItem]:
    if not member:
        return [NavItem("Providers", "/providers", ())]
    return [i for i in wiring().nav if member.kind in i.kinds and (not i.roles or member.role in i.roles)]


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
        sla_target=values.format_target,  # an SLA target with its unit: "30 %", "5 min"
        sla_value=values.format_measured,  # a measured figure, rounded: "24.8 s", "54.4 %"
    )
    environment.filters["money"] = lambda amount, currency="CNY": format_money(int(amount or 0), currency)
    environment.filters["localtime"] = localtime
