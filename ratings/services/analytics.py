"""The admins' analytics (DESIGN.md section 6): providers by province, city, category
and tier, and the service-ecosystem index of each province-level division, as
tables, chart data and CSV.

Every figure is aggregated in SQL (ratings/sql.py: PROVINCE_ECOSYSTEM,
PROVIDERS_BY_CITY, PROVIDERS_BY_CATEGORY, PROVIDERS_BY_TIER); this module only
names, orders and formats the rows. The index:

    index = 0.3 x provider density + 0.4 x average market performance + 0.3 x paying merchant density

each term min-max normalised across the divisions; provider density and paying
merchant density are taken per head of population (per million residents, census
2020), average market performance is the mean composite (0-100) of the division's
providers at their latest evaluation; paying merchants are merchants with a signed
contract running in the scorecard window.
"""

from __future__ import annotations

import csv
import datetime
import io
from dataclasses import dataclass
from typing import Any, Callable

from fuwu import i18n
from fuwu.clock import now
from fuwu.db import fetch
from fuwu.i18n import N_
from fuwu.values import CATEGORIES
from ratings import provinces, sql, states
from ratings.settings import get_settings

# Where the populations come from (ratings/data/province_population.csv says so too).
SOURCE = N_("Seventh National Population Census of China (2020), National Bureau of Statistics: Communiqué No. 3 "
            "for the 31 provinces, autonomous regions and municipalities of the mainland, Communiqué No. 2 for Hong "
            "Kong, Macao and Taiwan (11 May 2021).")
CITY_ROWS = 200  # the page's cities with most providers (the CSV file has them all)
ALL_CITIES = 1_000_000


@dataclass(frozen=True)
class Column:
    key: str
    label: str  # message id
    show: Callable[[dict], Any]  # the cell as shown (and written to CSV)
    numeric: bool = True


def _n(digits: int) -> Callable[[Any], str]:
    return lambda value: f"{float(value or 0):.{digits}f}"


def _locale() -> str:
    return i18n.current_locale.get()


def _province_name(code: str | None) -> str:
    if code is None:
        return i18n.gettext("Province not recognised")
    return provinces.by_code()[code].name(_locale())


def _tier_columns() -> list[Column]:
    return [Column("providers", N_("Providers"), lambda r: r["providers"]),
            *[Column(f"tier{t}", states.TIER_LABELS.labels[str(t)], lambda r, t=t: r[f"tier{t}"])
              for t in states.TIERS],
            Column("unrated", N_("Unrated"), lambda r: r["unrated"])]


def _columns(table: str) -> list[Column]:
    if table == "provinces":
        return [
            Column("rank", N_("Rank"), lambda r: r["rank"]),
            Column("province_en", N_("Province (English)"), lambda r: provinces.by_code()[r["code"]].name_en,
                   numeric=False),
            Column("province_zh", N_("Province (Chinese)"), lambda r: provinces.by_code()[r["code"]].name_zh,
                   numeric=False),
            Column("code", N_("Division code"), lambda r: r["code"], numeric=False),
            Column("population", N_("Population (2020 census)"), lambda r: r["population"]),
            *_tier_columns(),
            Column("provider_density", N_("Providers per million residents"),
                   lambda r: _n(3)(r["provider_density"])),
            Column("evaluated", N_("Evaluated providers"), lambda r: r["evaluated"]),
            Column("performance", N_("Average market performance (mean composite)"),
                   lambda r: _n(2)(r["performance"])),
            Column("paying_merchants", N_("Paying merchants"), lambda r: r["paying_merchants"]),
            Column("merchant_density", N_("Paying merchants per million residents"),
                   lambda r: _n(3)(r["merchant_density"])),
            Column("provider_term", N_("Provider density, normalised"), lambda r: _n(3)(r["provider_term"])),
            Column("performance_term", N_("Market performance, normalised"),
                   lambda r: _n(3)(r["performance_term"])),
            Column("merchant_term", N_("Paying merchant density, normalised"),
                   lambda r: _n(3)(r["merchant_term"])),
            Column("ecosystem_index", N_("Service-ecosystem index"), lambda r: _n(3)(r["ecosystem_index"])),
        ]
    if table == "cities":
        return [Column("rank", N_("Rank"), lambda r: r["rank"]),
                Column("province", N_("Province"), lambda r: _province_name(r["code"]), numeric=False),
                Column("city", N_("City"), lambda r: r["city"] or i18n.gettext("Not given"), numeric=False),
                *_tier_columns()]
    if table == "categories":
        return [Column("rank", N_("Rank"), lambda r: r["rank"]),
                Column("category", N_("Category"), lambda r: CATEGORIES.label(r["category"]), numeric=False),
                *_tier_columns()]
    if table == "tiers":
        return [Column("tier", N_("Tier"), lambda r: states.TIER_LABELS.label(str(r["tier"])), numeric=False),
                Column("providers", N_("Providers"), lambda r: r["providers"]),
                Column("share", N_("Share of providers, in per cent"), lambda r: _n(1)(100 * float(r["share"] or 0))),
                Column("unplaced", N_("Without a recognised province"), lambda r: r["unplaced"])]
    raise KeyError(table)


TABLES = {
    "provinces": N_("Providers and the service-ecosystem index by province"),
    "cities": N_("Providers by city"),
    "categories": N_("Providers by category"),
    "tiers": N_("Providers by tier"),
}


async def _rows(table: str, moment: datetime.datetime, cities: int = CITY_ROWS) -> list[dict]:
    if table == "provinces":
        start = moment - datetime.timedelta(days=get_settings().window_days)
        rows = await fetch(sql.PROVINCE_ECOSYSTEM, moment, start)
    elif table == "cities":
        rows = await fetch(sql.PROVIDERS_BY_CITY, moment, cities)
    elif table == "categories":
        rows = await fetch(sql.PROVIDERS_BY_CATEGORY, moment)
    elif table == "tiers":
        rows = await fetch(sql.PROVIDERS_BY_TIER, moment)
    else:
        raise KeyError(table)
    return [dict(row) for row in rows]


async def table(name: str, moment: datetime.datetime | None = None, cities: int = CITY_ROWS) -> dict:
    """One table: its title, column headings and cells as shown, and its raw rows."""
    rows = await _rows(name, moment or now(), cities)
    columns = _columns(name)
    return {"name": name, "title": i18n.gettext(TABLES[name]),
            "headings": [i18n.gettext(c.label) for c in columns], "numeric": [c.numeric for c in columns],
            "cells": [[c.show(row) for c in columns] for row in rows], "rows": rows}


async def overview(moment: datetime.datetime | None = None) -> dict:
    """Every table, and what the charts and the map draw from them."""
    moment = moment or now()
    tables = {name: await table(name, moment) for name in TABLES}
    locale = _locale()
    by_code = provinces.by_code()
    province_rows = tables["provinces"]["rows"]
    tiers, cities = tables["tiers"]["rows"], tables["cities"]["rows"]
    tier_names = [states.TIER_LABELS.label(str(t)) for t in states.TIERS] + [states.TIER_LABELS.label("0")]
    tier_keys = [f"tier{t}" for t in states.TIERS] + ["unrated"]
    charts = {
        "locale": "ZH" if locale.startswith("zh") else "EN",
        "map": {
            "title": i18n.gettext("Service-ecosystem index by province"),
            "series": i18n.gettext("Service-ecosystem index"),
            "data": [{"name": by_code[r["code"]].map_name, "label": by_code[r["code"]].name(locale),
                      "value": round(float(r["ecosystem_index"]), 3), "providers": r["providers"]}
                     for r in province_rows],
            # The map's features are named in Chinese; English readers see English names.
            "names": {p.map_name: p.name(locale) for p in provinces.provinces()},
            "low": i18n.gettext("Low"), "high": i18n.gettext("High"),
        },
        "index": {
            "title": i18n.gettext("Top provinces by service-ecosystem index"),
            "series": i18n.gettext("Service-ecosystem index"),
            "labels": [by_code[r["code"]].name(locale) for r in province_rows[:15]],
            "values": [round(float(r["ecosystem_index"]), 3) for r in province_rows[:15]],
        },
        "categories": {
            "title": i18n.gettext("Providers by category and tier"),
            "labels": [CATEGORIES.label(r["category"]) for r in tables["categories"]["rows"]],
            "series": [{"name": name, "values": [r[key] for r in tables["categories"]["rows"]]}
                       for name, key in zip(tier_names, tier_keys)],
        },
        "tiers": {
            "title": i18n.gettext("Providers by tier"),
            "data": [{"name": states.TIER_LABELS.label(str(r["tier"])), "value": r["providers"]}
                     for r in tables["tiers"]["rows"]],
        },
    }
    return {"tables": tables, "charts": charts, "as_of": moment, "window_days": get_settings().window_days,
            "source": i18n.gettext(SOURCE),
            "providers": tiers[0]["all_providers"] if tiers else 0,
            "unplaced": tiers[0]["all_unplaced"] if tiers else 0,
            "cities": cities[0]["cities"] if cities else 0, "cities_shown": len(cities)}


async def csv_file(name: str, moment: datetime.datetime | None = None) -> str:
    """One table as CSV (UTF-8 with a byte-order mark, so that spreadsheet programs
    read the Chinese names): the headings and cells as the page shows them."""
    found = await table(name, moment, cities=ALL_CITIES)
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(found["headings"])
    writer.writerows(found["cells"])
    if name == "provinces":
        writer.writerow([])
        writer.writerow([i18n.gettext("Population: %(source)s", source=i18n.gettext(SOURCE))])
    return out.getvalue()
