"""Admin grading: brand grades with evidence, and tier changes that need a second,
different admin (6-star promotions and overrides with a reason and an expiry)."""

from __future__ import annotations

import datetime

import pytest

from fuwu.clock import now
from fuwu.errors import Conflict, Forbidden, InvalidInput, NotFound
from fuwu.services import accounts
from fuwu.tables import AuditEvent
from ratings import states
from ratings.services import grading, scorecards
from ratings.tables import Standing
from tests.conftest import PASSWORD, Actor, new_actor, unique
from tests.integration.ratings.conftest import UNRECOMMENDED

DAY = datetime.timedelta(days=1)


async def _admin() -> Actor:
    email = f"{unique('admin')}@example.test"
    user = await accounts.create_admin(email, PASSWORD, "Admin")
    viewer = accounts.Viewer(user_id=user["id"], email=email, display_name="Admin", locale="en",
                             timezone="Asia/Shanghai", via="token")
    org_id = user["memberships"][0]["organisation"]["id"]
    return Actor(user_id=user["id"], email=email, password=PASSWORD, org_id=org_id,
                 org_kind="platform", role="admin", token="", name="Admin", extra={"viewer": viewer})


def _v(actor: Actor) -> accounts.Viewer:
    return actor.extra.get("viewer") or actor.viewer


async def test_an_admin_grades_the_brand_with_evidence_and_it_is_the_brand_dimension():
    first, provider = await _admin(), await new_actor("provider", categories=UNRECOMMENDED)
    with pytest.raises(InvalidInput):
        await grading.grade_brand(_v(first), provider.org_id, score=101, evidence="Three key accounts served.",
                                  expires_at=now() + 90 * DAY)
    with pytest.raises(InvalidInput):
        await grading.grade_brand(_v(first), provider.org_id, score=70, evidence="short",
                                  expires_at=now() + 90 * DAY)
    with pytest.raises(NotFound):  # not an admin
        await grading.grade_brand(provider.viewer, provider.org_id, score=70, evidence="Three key accounts served.",
                                  expires_at=now() + 90 * DAY)
    graded = await grading.grade_brand(_v(first), provider.org_id, score=70, evidence="Three key accounts served.",
                                       brands_served=5, key_accounts_served=3, expires_at=now() + 90 * DAY)
    assert graded["score"] == 70
    card = (await scorecards.compute([provider.org_id], now() + datetime.timedelta(seconds=1)))[provider.org_id]
    assert card.scores["brand"] == 70 and card.explanation["brand"]["figures"]["grade"] == str(graded["id"])
    actions = await AuditEvent.select(AuditEvent.action).where(AuditEvent.object_id == str(provider.org_id))
    assert "brand_graded" in {row["action"] for row in actions}


async def test_an_override_takes_effect_only_when_a_second_admin_approves_and_ends_when_it_expires():
    first, second = await _admin(), await _admin()
    provider = await new_actor("provider", categories=UNRECOMMENDED)
    with pytest.raises(InvalidInput):  # no reason written
        await grading.request_override(_v(first), provider.org_id, tier=5, reason="", expires_at=now() + 30 * DAY)
    asked = await grading.request_override(_v(first), provider.org_id, tier=5, reason="Audited delivery records.",
                                           expires_at=now() + 30 * DAY)
    assert await scorecards.provider_tiers([provider.org_id]) == {}  # nothing yet
    with pytest.raises(Forbidden) as same:
        await grading.decide(_v(first), asked["id"], True)
    assert same.value.code == "second_admin_required"
    approved = await grading.decide(_v(second), asked["id"], True)
    assert approved["status"] == states.APPROVED
    assert await scorecards.provider_tiers([provider.org_id]) == {provider.org_id: 5}
    with pytest.raises(Conflict):
        await grading.decide(_v(second), asked["id"], False)
    actions = [row["action"] for row in await AuditEvent.select(AuditEvent.action).where(
        AuditEvent.object_id == str(provider.org_id)).order_by(AuditEvent.at)]
    assert actions[-2:] == ["tier_requested", "tier_approved"]
    # A rejected override changes nothing.
    other = await new_actor("provider", categories=UNRECOMMENDED)
    asked = await grading.request_override(_v(first), other.org_id, tier=3, reason="Complaints under review.",
                                           expires_at=now() + 30 * DAY)
    await grading.decide(_v(second), asked["id"], False, "Not enough evidence.")
    assert await scorecards.provider_tiers([other.org_id]) == {}


async def test_a_six_star_promotion_waits_for_two_admins():
    first, second = await _admin(), await _admin()
    provider = await new_actor("provider", categories=UNRECOMMENDED)
    with pytest.raises(Conflict):  # nothing earned
        await grading.request_promotion(_v(first), provider.org_id, "Consistently excellent delivery.")
    await Standing(provider=provider.org_id, tier=5, pending_tier=6, composite=91.0).save()
    asked = await grading.request_promotion(_v(first), provider.org_id, "Consistently excellent delivery.")
    assert await scorecards.provider_tiers([provider.org_id]) == {provider.org_id: 5}
    assert asked["id"] in [row["id"] for row in (await grading.pending_approvals(_v(second), None, 100)).items]
    with pytest.raises(Forbidden):
        await grading.decide(_v(first), asked["id"], True)
    await grading.decide(_v(second), asked["id"], True)
    assert await scorecards.provider_tiers([provider.org_id]) == {provider.org_id: 6}
    standing = await Standing.select().where(Standing.provider == provider.org_id).first()
    assert standing["pending_tier"] is None
