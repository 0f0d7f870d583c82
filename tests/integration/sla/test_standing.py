"""Service attitude beside its standing among the category's providers: the other
providers with contracts in the same category, measured in the same window, each by
its mean rating over its contracts in the category (DESIGN.md section 4, "x % above
peers"), on the report and on the contract's live SLA panel."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from fuwu.db import atomic
from sla.metrics import attitude_standing
from sla.services import evaluation, risk
from sla.services.contracts import CONTRACT_COLUMNS, TARGET_COLUMNS
from sla.tables import Contract, SlaTarget
from tests.conftest import new_actor
from tests.integration.sla.conftest import Log, make_contract

SHANGHAI = ZoneInfo("Asia/Shanghai")
CATEGORY = "cs_standing_test"  # no other test's contracts are in it
MAY = (datetime(2022, 5, 1, tzinfo=SHANGHAI), datetime(2022, 6, 1, tzinfo=SHANGHAI))


async def rated_contract(merchant, provider, ratings: list[int], category: str = CATEGORY, day: str = "05"):
    """A contract of `provider` in `category` whose conversations were closed in May
    2022 and rated as given."""
    contract = await make_contract((merchant, provider), starts=datetime(2022, 1, 1, tzinfo=SHANGHAI))
    async with atomic():
        await Contract.update({Contract.category: category}).where(Contract.id == contract.id)
    log = Log(contract)
    for number, rating in enumerate(ratings):
        conversation = f"c{number}"
        await log.add("buyer_message", f"2022-05-{day}T10:00:00", conversation=conversation, buyer=f"b{number}")
        await log.add("agent_reply", f"2022-05-{day}T10:00:30", conversation=conversation)
        await log.add("conversation_closed", f"2022-05-{day}T10:05:00", conversation=conversation)
        await log.add("chat_rated", f"2022-05-{day}T10:06:00", conversation=conversation, rating=rating)
    return contract, log


@pytest.fixture(scope="module")
async def market():
    """The contract measured (provider A: 5, 5 and a conversation rated 2 then 4: mean
    4.667) and its peers in the category: B over two contracts (4 and 4: mean 4.0, and
    a conversation closed in June that does not count in May), C (3 and 5: 4.0), D (5),
    F (1); E rates 1 too, but in another category."""
    merchant = await new_actor("merchant")
    a, b, c, d, e, f = [await new_actor("provider") for _ in range(6)]
    contract, log = await rated_contract(merchant, a, [5, 5])
    await log.add("buyer_message", "2022-05-20T10:00:00", conversation="re", buyer="b9")
    await log.add("conversation_closed", "2022-05-20T10:05:00", conversation="re")
    await log.add("chat_rated", "2022-05-20T10:06:00", conversation="re", rating=2)
    await log.add("chat_rated", "2022-05-21T10:06:00", conversation="re", rating=4)  # the latest rating counts
    _, other = await rated_contract(merchant, b, [4])
    await rated_contract(merchant, b, [4])
    await other.add("buyer_message", "2022-06-02T10:00:00", conversation="june", buyer="bj")
    await other.add("conversation_closed", "2022-06-02T10:05:00", conversation="june")
    await other.add("chat_rated", "2022-06-02T10:06:00", conversation="june", rating=1)
    await rated_contract(merchant, c, [3, 5])
    await rated_contract(merchant, d, [5])
    await rated_contract(merchant, e, [1], category="cs_standing_other")
    await rated_contract(merchant, f, [1])
    async with atomic():
        target = SlaTarget(contract=contract.id, metric="service_attitude", statistic="mean", comparator=">=",
                           target=4.5, window="month", weight=100)
        await target.save()
    return {"contract": contract, "provider": a}


async def test_standing_is_against_the_other_providers_of_the_category_in_the_window(market):
    a = market["provider"]
    start, end = (int(moment.timestamp() * 1_000_000) for moment in MAY)
    standing = await attitude_standing(CATEGORY, a.org_id, 14 / 3, start, end, end)
    # Peers B (4.0), C (4.0), D (5.0) and F (1.0): mean 3.5; A is 33.3 % above it and better than 3 of 4.
    assert standing["peers"] == 4
    assert standing["peer_mean"] == pytest.approx(3.5)
    assert standing["above_percent"] == pytest.approx((14 / 3 - 3.5) / 3.5 * 100)
    assert standing["better_than_percent"] == pytest.approx(75.0)
    # The peers are those measured in the window: in June only B's June conversation counts.
    june = await attitude_standing(CATEGORY, a.org_id, 3.0, end, end + 30 * 86_400_000_000, end + 30 * 86_400_000_000)
    assert (june["peers"], june["peer_mean"]) == (1, 1.0)
    # Before anyone was rated, or without a value, there is no standing.
    assert await attitude_standing(CATEGORY, a.org_id, 4.0, start, end, start) is None
    assert await attitude_standing(CATEGORY, a.org_id, None, start, end, end) is None
    # Below the peers: a negative percentage, better than none of them.
    low = await attitude_standing(CATEGORY, a.org_id, 1.0, start, end, end)
    assert low["above_percent"] == pytest.approx((1.0 - 3.5) / 3.5 * 100) and low["better_than_percent"] == 0


async def test_the_report_and_the_panel_show_attitude_beside_its_standing(market):
    contract = market["contract"]
    report = await evaluation.report(contract_id=contract.id, start=MAY[0], end=MAY[1], window_size="month",
                                     present=datetime(2022, 7, 1, tzinfo=SHANGHAI))
    row = next(m for m in report["windows"][0]["metrics"] if m["metric"] == "service_attitude")
    assert row["value"] == pytest.approx(14 / 3) and row["sample_size"] == 3
    assert row["standing"]["peers"] == 4 and row["standing"]["better_than_percent"] == pytest.approx(75.0)
    assert row["standing"]["above_percent"] == pytest.approx((14 / 3 - 3.5) / 3.5 * 100)
    others = [m for m in report["windows"][0]["metrics"] if m["metric"] != "service_attitude"]
    assert others and all(m["standing"] is None for m in others)
    history = await evaluation.report(contract_id=contract.id, start=MAY[0], end=MAY[1], window_size="month",
                                      source="history", present=datetime(2022, 7, 1, tzinfo=SHANGHAI))
    assert all(m["standing"] is None for w in history["windows"] for m in w["metrics"])

    row_contract = await Contract.select(*CONTRACT_COLUMNS).where(Contract.id == contract.id).output(
        load_json=True).first()
    targets = await SlaTarget.select(*TARGET_COLUMNS).where(SlaTarget.contract == contract.id)
    panel = await risk.running_windows(row_contract, targets, moment=datetime(2022, 5, 31, 12, tzinfo=SHANGHAI))
    assert panel[0]["standing"]["peers"] == 4 and panel[0]["standing"]["peer_mean"] == pytest.approx(3.5)

    from fuwu.app import create_app  # the panel as a page shows it beside the mean
    app = create_app()
    template = app.template_engine.get_template("sla/_sla_panel.html")
    html = template.render(contract=row_contract, panel=panel, timezone="Asia/Shanghai")
    assert "33.3 % above the category's providers" in html
    assert "better than 75 % of 4 providers (their mean 3.50)" in html
