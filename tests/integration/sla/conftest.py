"""Contracts and event logs for the sla tests, made through the real tables and the
real event service."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from fuwu.db import atomic
from sla.calendar import CoverageCalendar, to_us
from sla.services.events import append_event
from sla.tables import Contract
from tests.conftest import new_actor

OFFICE_HOURS = {"weekdays": {day: [["09:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}}


@pytest.fixture(scope="session")
async def parties():
    """One merchant and one provider organisation shared by the sla tests (each test
    makes its own contracts, so their logs never meet)."""
    return await new_actor("merchant"), await new_actor("provider")


async def make_contract(parties, zone: str = "Asia/Shanghai", calendar: dict | None = None,
                        attribution_seconds: int = 86_400, period_fee: int = 1_000_000,
                        starts: datetime | None = None, merchant_org=None) -> Contract:
    merchant, provider = parties
    CoverageCalendar.from_json(zone, calendar or {})
    starts = starts or datetime(2026, 1, 1, tzinfo=ZoneInfo(zone))
    async with atomic():
        contract = Contract(merchant=merchant_org or merchant.org_id, provider=provider.org_id,
                            category="cs_presales", status="active", starts_at=starts,
                            ends_at=starts + timedelta(days=730), currency="CNY", pricing_model="periodic",
                            pricing_terms={"period": "month"}, period_fee=period_fee,
                            attribution_window_seconds=attribution_seconds, time_zone=zone, calendar=calendar or {})
        await contract.save()
    return contract


class Log:
    """Appends a contract's live events in order, with local times in its zone."""

    def __init__(self, contract: Contract):
        self.contract = contract
        self.zone = ZoneInfo(contract.time_zone)
        self.shop = contract.merchant if isinstance(contract.merchant, uuid.UUID) else contract.merchant.id

    def time(self, text: str) -> datetime:
        return datetime.fromisoformat(text).replace(tzinfo=self.zone)

    def us(self, text: str) -> int:
        return to_us(self.time(text))

    async def add(self, kind: str, when: str, **fields) -> int | None:
        if "due" in fields and isinstance(fields["due"], str):
            fields["due"] = self.time(fields["due"])
        contract = None if kind == "order_placed" else self.contract.id
        return await append_event(kind, shop=self.shop, contract=contract, at=self.time(when), **fields)
