"""Every figure of a provider's scorecard links to what it came from, as far as the
reader may open it: the provider's members to each of its contracts (SLA reports and
milestones), a merchant to its own contracts only (the others counted, never named),
an admin to the brand grade's record, everyone to the public ratings; and each link
answers 200 for that reader. The history chart draws the stored evaluations."""

from __future__ import annotations

import datetime
import html
import json
import re
import uuid

from fuwu.auth import LANGUAGE_COOKIE
from fuwu.clock import now
from fuwu.db import atomic
from ratings.services import grading, reviews, scorecards
from ratings.services.reviews import Scores
from ratings.tables import BrandGrade, Evaluation
from sla.tables import Measurement, SlaTarget
from tests.authz import sign_in
from tests.conftest import new_actor
from tests.integration.ratings.conftest import UNRECOMMENDED, member_of, milestone, signed_contract
from tests.integration.ratings.test_grading import _admin

CONTRACT_LINK = re.compile(r'href="(/contracts/[0-9a-f-]{36})"')


async def _measured(contract_id: uuid.UUID, window_end: datetime.datetime, outcome: str) -> None:
    async with atomic():
        target = SlaTarget(contract=contract_id, metric="first_response_time", statistic="median", comparator="<=",
                           target=60.0, window="day")
        await target.save()
        start = window_end - datetime.timedelta(days=1)
        await Measurement(contract=contract_id, target=target.id, window_start=start, window_end=window_end,
                          version=1, key=f"{target.id}:{int(start.timestamp() * 1e6)}:1", value=42.0,
                          sample_size=30, target_value=60.0, outcome=outcome, as_of=window_end).save()


def _section(page: str, testid: str) -> str:
    match = re.search(rf'<ul class="sources" data-testid="sources-{testid}">(.*?)</ul>', page, re.S)
    return match.group(1) if match else ""


async def _world():
    merchant, other = await new_actor("merchant"), await new_actor("merchant")
    provider = await new_actor("provider", categories=UNRECOMMENDED)
    as_of = scorecards.evaluation_moment(now()) + datetime.timedelta(seconds=1)
    mine = await signed_contract(merchant, provider, starts=as_of - datetime.timedelta(days=45))
    theirs = await signed_contract(other, provider, starts=as_of - datetime.timedelta(days=20))
    await _measured(mine, as_of - datetime.timedelta(days=3), "met")
    await _measured(theirs, as_of - datetime.timedelta(days=2), "breached")
    await milestone(mine, provider, due=as_of - datetime.timedelta(days=4),
                    submitted=as_of - datetime.timedelta(days=5))
    await milestone(theirs, provider, due=as_of - datetime.timedelta(days=3),
                    submitted=as_of - datetime.timedelta(days=2))
    await reviews.rate_provider(merchant.viewer, await member_of(merchant), mine, Scores(5, 5, 5, 5, "Fine."),
                                period=1)
    admin = await _admin()
    grade = await grading.grade_brand(admin.viewer, provider.org_id, score=70, evidence="Three brands, audited.",
                                      expires_at=now() + datetime.timedelta(days=90), brands_served=3,
                                      key_accounts_served=1)
    # Graded before the evaluation's moment (the start of this week), so that it counts.
    await BrandGrade.update({BrandGrade.graded_at: as_of - datetime.timedelta(days=1)}).where(
        BrandGrade.id == grade["id"])
    await scorecards.evaluate_batch([provider.org_id], as_of)
    return merchant, other, provider, admin, mine, theirs


async def _answers(client, links) -> list[int]:
    return [(await client.get(html.unescape(link))).status_code for link in links]


async def test_each_figure_links_to_its_sources_as_far_as_the_reader_may_open_them(make_client):
    merchant, other, provider, admin, mine, theirs = await _world()

    # The provider's own scorecard: both contracts behind SLA attainment, milestones, volume and growth.
    client = await make_client()
    await sign_in(client, provider)
    page = (await client.get("/scorecard")).text
    for testid in ("sla", "milestones", "served", "growth-now"):
        assert set(CONTRACT_LINK.findall(_section(page, testid))) == {f"/contracts/{mine}", f"/contracts/{theirs}"}, \
            testid
    assert "of other merchants" not in page
    assert f'href="/providers/{provider.org_id}/ratings"' in page
    assert 'data-testid="source-brand"' not in page  # the grade's record is the admins'
    assert await _answers(client, set(CONTRACT_LINK.findall(page))) == [200, 200]
    assert await _answers(client, [f"/providers/{provider.org_id}/ratings"]) == [200]

    # A merchant: its own contract linked, the other merchant's counted and never named.
    client = await make_client()
    await sign_in(client, merchant)
    response = await client.get(f"/providers/{provider.org_id}/scorecard")
    assert response.status_code == 200
    page = response.text
    assert set(CONTRACT_LINK.findall(page)) == {f"/contracts/{mine}"}
    assert str(theirs) not in page and other.name not in page
    for testid in ("sla", "milestones", "served", "growth-now"):
        assert CONTRACT_LINK.findall(_section(page, testid)) == [f"/contracts/{mine}"], testid
    assert "1 contract of other merchants, not shown" in _section(page, "sla")
    assert "1 milestone of other merchants' contracts, not shown" in html.unescape(_section(page, "milestones"))
    assert await _answers(client, [f"/contracts/{mine}", f"/providers/{provider.org_id}/ratings"]) == [200, 200]
    assert (await client.get(f"/contracts/{theirs}")).status_code == 404  # why it is not linked

    # An admin: the brand grade's record; contracts are the parties' own.
    client = await make_client()
    await sign_in(client, admin)
    page = (await client.get(f"/providers/{provider.org_id}/scorecard")).text
    assert f'href="/admin/orgs/{provider.org_id}" data-testid="source-brand">Graded 70 by the platform' in page
    assert CONTRACT_LINK.findall(page) == [] and "2 contracts, shown to their parties only" in _section(page, "sla")
    admin_page = await client.get(f"/admin/orgs/{provider.org_id}")
    assert admin_page.status_code == 200 and "Three brands, audited." in admin_page.text

    # Anyone else: the public ratings, no contract; the public profile leads to the scorecard.
    client = await make_client()
    profile = await client.get(f"/providers/{provider.org_id}")
    assert f'href="/providers/{provider.org_id}/scorecard"' in profile.text
    response = await client.get(f"/providers/{provider.org_id}/scorecard")
    assert response.status_code == 200 and CONTRACT_LINK.findall(response.text) == []
    assert "2 contracts, shown to their parties only" in _section(response.text, "served")
    assert "of other merchants" not in response.text
    assert await _answers(client, [f"/providers/{provider.org_id}/ratings"]) == [200]
    assert (await client.get(f"/providers/{merchant.org_id}/scorecard")).status_code == 404  # not a provider

    # In Chinese, the same figures and where they come from.
    client.cookies.set(LANGUAGE_COOKIE, "zh_Hans")
    chinese = (await client.get(f"/providers/{provider.org_id}/scorecard")).text
    assert "评分卡" in chinese and "2 份合同，仅向合同双方显示" in chinese


async def test_the_history_chart_draws_the_stored_evaluations(make_client):
    provider = await new_actor("provider", categories=UNRECOMMENDED)
    first = scorecards.evaluation_moment(now()) - datetime.timedelta(days=14)
    for weeks in range(3):
        await scorecards.evaluate_batch([provider.org_id], first + datetime.timedelta(days=7 * weeks))
    stored = await Evaluation.select(Evaluation.composite, Evaluation.tier_after).where(
        Evaluation.provider == provider.org_id).order_by(Evaluation.as_of)
    client = await make_client()
    await sign_in(client, provider)
    page = (await client.get("/scorecard")).text
    data = json.loads(html.unescape(re.search(r'data-testid="history-chart" data-chart="([^"]*)"', page).group(1)))
    assert data["composite"] == [round(row["composite"], 2) for row in stored] and len(stored) == 3
    assert data["tiers"] == [row["tier_after"] for row in stored]
    assert [band["tier"] for band in data["bands"]] == [3, 4, 5, 6] and data["bands"][0]["low"] == 0
    assert "/static/ratings/scorecard-chart.js" in page
