"""The ratings pages as people use them: the provider's scorecard explains its tier
dimension by dimension, the public profile shows ratings with replies, and admins
grade the brand and approve a tier change as a second admin."""

from __future__ import annotations

import datetime
import re

from fuwu.clock import now
from ratings.services import reviews, scorecards
from ratings.services.reviews import Scores
from tests.authz import sign_in
from tests.conftest import csrf_token, new_actor
from tests.integration.ratings.conftest import UNRECOMMENDED, member_of, signed_contract
from tests.integration.ratings.test_grading import _admin


def _approval_block(page: str, provider_id) -> str:
    """The waiting request of one provider on the admins' tier page."""
    start = page.index(f'/admin/orgs/{provider_id}"')
    end = page.find('data-testid="approval"', start)
    return page[start:end if end != -1 else None]


async def test_scorecard_profile_and_admin_grading_pages(make_client):
    merchant, provider = await new_actor("merchant"), await new_actor("provider", categories=UNRECOMMENDED)
    contract = await signed_contract(merchant, provider)
    rating = await reviews.rate_provider(merchant.viewer, await member_of(merchant), contract,
                                         Scores(5, 5, 4, 5, "Quick <b>and</b> careful."), period=1)
    await reviews.review_merchant(provider.viewer, await member_of(provider), contract, Scores(4, 4, 4, 4), period=1)
    await reviews.reply(provider.viewer, await member_of(provider), "rating", rating["id"], "Thank you, 谢谢!")
    await scorecards.evaluate_batch([provider.org_id], scorecards.evaluation_moment(now()) + datetime.timedelta(
        seconds=1))

    client = await make_client()
    # The public profile: tier badge, the rating escaped as typed, and the reply.
    profile = await client.get(f"/providers/{provider.org_id}")
    assert profile.status_code == 200
    assert "Quick &lt;b&gt;and&lt;/b&gt; careful." in profile.text and "Thank you, 谢谢!" in profile.text
    assert 'data-testid="tier-badge"' in profile.text

    # The provider's scorecard: four dimensions whose contributions add up to the composite.
    await sign_in(client, provider)
    page = await client.get("/scorecard")
    assert page.status_code == 200
    rows = re.findall(r'data-testid="dimension-(\w+)"><td>[^<]*</td><td>[\d.]+</td><td>[\d.]+</td><td>([\d.]+)</td>',
                      page.text)
    assert [name for name, _ in rows] == ["operating", "brand", "service", "growth"]
    composite = float(re.search(r'data-testid="composite">([\d.]+)<', page.text).group(1))
    assert round(sum(float(value) for _, value in rows), 2) == composite

    first, second = await _admin(), await _admin()
    until = (now() + datetime.timedelta(days=60)).date().isoformat()
    client = await make_client()
    await sign_in(client, first)
    token = await csrf_token(client, f"/admin/orgs/{provider.org_id}")
    graded = await client.post(f"/admin/providers/{provider.org_id}/brand-grade",
                               data={"_csrf_token": token, "score": "75", "evidence": "Four key accounts.",
                                     "expires_on": until})
    # Back on the organisation's page, whose timeline shows the grade with its evidence.
    assert graded.status_code == 200 and 'data-testid="admin-tier-panel"' in graded.text
    assert "Four key accounts." in graded.text
    bad = await client.post(f"/admin/providers/{provider.org_id}/brand-grade",
                            data={"_csrf_token": token, "score": "75", "evidence": "short", "expires_on": until})
    assert bad.status_code == 422 and 'data-testid="admin-error"' in bad.text
    asked = await client.post(f"/admin/providers/{provider.org_id}/tier-request",
                              data={"_csrf_token": token, "kind": "override", "tier": "5",
                                    "reason": "Audited delivery records.", "expires_on": until})
    assert asked.status_code == 200
    block = _approval_block((await client.get("/admin/tiers")).text, provider.org_id)
    # The admin who asked is offered no approval.
    assert "A second admin decides your request." in block and "/approve" not in block
    assert (await scorecards.provider_tiers([provider.org_id])).get(provider.org_id) != 5
    client = await make_client()
    await sign_in(client, second)
    block = _approval_block((await client.get("/admin/tiers")).text, provider.org_id)
    approval_id = re.search(r"/admin/tiers/([0-9a-f-]{36})/approve", block).group(1)
    token = await csrf_token(client, "/admin/tiers")
    done = await client.post(f"/admin/tiers/{approval_id}/approve", data={"_csrf_token": token})
    assert done.status_code == 200
    assert (await scorecards.provider_tiers([provider.org_id]))[provider.org_id] == 5
