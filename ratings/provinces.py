"""China's province-level divisions with their 2020 census population, read once from
ratings/data/province_population.csv (its header names the source: the Seventh
National Population Census, 2020), and the spellings an organisation's province may
be given in, for the admins' analytics."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

DATA = Path(__file__).parent / "data" / "province_population.csv"
# What may stand in a statement's constants: the file is ours, but a quote in it must
# never reach SQL text.
_SAFE = re.compile(r"^[\w .\-]+$")


@dataclass(frozen=True)
class Province:
    code: str  # GB/T 2260, e.g. "330000"
    name_en: str
    name_zh: str  # the official full name, e.g. 浙江省
    map_name: str  # the vendored ECharts map's feature name, e.g. 浙江
    population: int
    aliases: tuple[str, ...]  # lower case, every spelling matched (names included)

    def name(self, locale: str) -> str:
        return self.name_zh if locale.startswith("zh") else self.name_en


@lru_cache(maxsize=1)
def provinces() -> tuple[Province, ...]:
    """Every division in the file, in its order (by code)."""
    rows = [line for line in DATA.read_text(encoding="utf-8").splitlines() if line and not line.startswith("#")]
    found = []
    for row in csv.DictReader(rows):
        extra = [alias.strip().lower() for alias in row["aliases"].split("|") if alias.strip()]
        names = (row["name_en"].lower(), row["name_zh"], row["map_name"], *extra)
        aliases = tuple(dict.fromkeys(names))
        if not row["code"].isdigit() or not all(_SAFE.match(alias) for alias in aliases):
            raise ValueError(f"{DATA}: a code or spelling with characters a statement cannot hold: {row}")
        found.append(Province(row["code"], row["name_en"], row["name_zh"], row["map_name"], int(row["population"]),
                              aliases))
    spellings = [alias for province in found for alias in province.aliases]
    if len(spellings) != len(set(spellings)):
        raise ValueError(f"{DATA}: a spelling names two provinces")
    return tuple(found)


@lru_cache(maxsize=1)
def by_code() -> dict[str, Province]:
    return {province.code: province for province in provinces()}


def values_sql() -> tuple[str, str]:
    """The divisions and the spellings as the rows of a VALUES list each:
    (code, population) and (spelling, code). Constants of our own file only."""
    divisions = ", ".join(f"('{p.code}', {p.population})" for p in provinces())
    spellings = ", ".join(f"('{alias}', '{p.code}')" for p in provinces() for alias in p.aliases)
    return divisions, spellings
