"""Contracts for the ratings tests, made through the real tables, and the members
acting for each party."""

from __future__ import annotations

import datetime
import uuid

from fuwu.clock import now
from fuwu.db import atomic
from fuwu.services import accounts
from sla.tables import Contract, Milestone, MilestoneSubmission
from tests.conftest import Actor


async def member_of(actor: Actor) -> accounts.Member:
    return await accounts.membership(actor.user_id, actor.org_id)


async def signed_contract(merchant: Actor, provider: Actor, *, starts: datetime.datetime | None = None,
                          days: int = 365, status: str = "active", signed: bool = True) -> uuid.UUID:
    starts = starts or now() - datetime.timedelta(days=45)
    async with atomic():
        row = Contract(merchant=merchant.org_id, provider=provider.org_id, category="cs_presales", status=status,
                       starts_at=starts, ends_at=starts + datetime.timedelta(days=days), currency="CNY",
                       pricing_model="periodic_fee", pricing_terms={"period": "month"}, period_fee=1_000_000,
                       time_zone="Asia/Shanghai", calendar={},
                       merchant_signed_at=starts if signed else None, provider_signed_at=starts if signed else None)
        await row.save()
    return row.id


async def milestone(contract_id: uuid.UUID, provider: Actor, *, due: datetime.datetime, submitted: datetime.datetime,
                    status: str = "accepted") -> uuid.UUID:
    async with atomic():
        row = Milestone(contract=contract_id, deliverable="Spring styles", due_at=due, amount=0, status=status)
        await row.save()
        await MilestoneSubmission(milestone=row.id, number=1, key=f"{row.id}:1", submitted_by=provider.user_id,
                                  submitted_at=submitted, decision="accepted" if status == "accepted" else "").save()
    return row.id


# Tiers are the whole platform's: providers these tests give a tier are listed in a
# category no other test's tender asks for, so other tests' recommendations never meet them.
UNRECOMMENDED = ["video"]
