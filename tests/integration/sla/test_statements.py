"""The billing statement adds up by hand, the running SLA panel and the before and
after show the engine's figures, and the contract pages work for both parties."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from fuwu.clock import now
from sla import states
from sla.services import contracts, evaluation, statements
from sla.services.events import import_history
from sla.tables import Milestone, SlaTarget
from tests.conftest import csrf_token, new_actor, web_login
from tests.integration.sla.conftest import Log, make_contract

SHANGHAI = ZoneInfo("Asia/Shanghai")


async def _contract_row(contract) -> dict:
    row = await contracts._read(contract.id)
    row["targets"] = await contracts.targets_of(contract.id)
    return row


async def test_the_statement_of_a_period_adds_up_by_hand(parties):
    contract = await make_contract(parties, period_fee=1_000_000, starts=datetime(2026, 9, 1, tzinfo=SHANGHAI))
    await contract.__class__.update({contract.__class__.pricing_model: "periodic_fee"}).where(
        contract.__class__.id == contract.id)
    slow = SlaTarget(contract=contract.id, metric="first_response_time", statistic="mean", comparator="<=",
                     target=25, window="month", weight=60, credit_percent=5)
    kind = SlaTarget(contract=contract.id, metric="service_attitude", statistic="mean", comparator=">=", target=4.5,
                     window="month", weight=40, credit_percent=2, bonus_percent=2, bonus_margin=0.3)
    await slow.save()
    await kind.save()
    log = Log(contract)
    await log.add("conversation_opened", "2026-09-10T10:00:00", conversation="c1", buyer="b1")
    await log.add("buyer_message", "2026-09-10T10:00:00", conversation="c1", buyer="b1")
    await log.add("agent_reply", "2026-09-10T10:01:00", conversation="c1", agent="a1")  # 60 s: breach of 25 s
    await log.add("conversation_closed", "2026-09-10T10:05:00", conversation="c1")
    await log.add("chat_rated", "2026-09-10T10:06:00", conversation="c1", rating=5)  # 5.0 beats 4.5 + 0.3
    milestone = Milestone(contract=contract.id, deliverable="Style guide", due_at=log.time("2026-09-20T18:00:00"),
                          amount=300_000, status=states.MILESTONE_ACCEPTED)
    await milestone.save()
    await log.add("milestone_accepted", "2026-09-20T12:00:00", milestone=str(milestone.id))
    september = (log.time("2026-09-01T00:00:00"), log.time("2026-10-01T00:00:00"))
    for target in (slow, kind):
        await evaluation.evaluate_window(contract.id, target.id, september)

    statement = await statements.statement(await _contract_row(contract), period_start=log.time("2026-09-15T00:00:00"))
    assert statement["final"] is True
    assert (statement["base_fee"], statement["milestones_amount"], statement["credits_amount"],
            statement["bonuses_amount"]) == (1_000_000, 300_000, 50_000, 20_000)
    assert statement["total"] == 1_000_000 + 300_000 - 50_000 + 20_000
    assert [c["metric"] for c in statement["credits"]] == ["first_response_time"]
    # October has nothing yet but the fee.
    october = await statements.statement(await _contract_row(contract), period_start=log.time("2026-10-05T00:00:00"))
    assert october["total"] == 1_000_000 and october["credits_amount"] == 0


async def test_the_running_window_shows_the_figure_so_far_and_a_target_at_risk(parties):
    moment = now()
    contract = await make_contract(parties, starts=moment - timedelta(days=60))
    target = SlaTarget(contract=contract.id, metric="first_response_time", statistic="mean", comparator="<=",
                       target=25, window="day", weight=100, credit_percent=5)
    await target.save()
    log = Log(contract)
    day_start = moment.astimezone(SHANGHAI).replace(hour=0, minute=0, second=0, microsecond=0)
    opened = max(day_start + timedelta(minutes=1), moment - timedelta(minutes=30))
    stamp = opened.astimezone(SHANGHAI).replace(tzinfo=None).isoformat()
    reply = (opened + timedelta(seconds=40)).astimezone(SHANGHAI).replace(tzinfo=None).isoformat()
    await log.add("conversation_opened", stamp, conversation="c1", buyer="b1")
    await log.add("buyer_message", stamp, conversation="c1", buyer="b1")
    await log.add("agent_reply", reply, conversation="c1", agent="a1")
    row = await _contract_row(contract)
    panel = await statements.running_windows(row, row["targets"], moment=max(moment, opened + timedelta(seconds=41)))
    assert panel[0]["value"] == 40 and panel[0]["sample_size"] == 1 and panel[0]["met"] is False
    assert panel[0]["at_risk"] == (panel[0]["gone"] >= 0.5)
    # The chart's series: each day since the contract started (the last six), today's last.
    series = await statements.trend(row, row["targets"], moment=max(moment, opened + timedelta(seconds=41)))
    points = series[0]["points"]
    assert len(points) == 6 and points[-1]["value"] == 40 and all(p["value"] is None for p in points[:-1])


async def test_before_and_after_sets_the_imported_history_beside_the_live_figures(parties):
    merchant = await new_actor("merchant")
    contract = await make_contract(parties, merchant_org=merchant.org_id,
                                   starts=datetime(2026, 6, 1, tzinfo=SHANGHAI))
    await SlaTarget(contract=contract.id, metric="first_response_time", statistic="mean", comparator="<=",
                    target=30, window="month", weight=100, credit_percent=5).save()
    lines = [
        {"type": "conversation_opened", "at": "2026-03-02T09:00:00+08:00", "conversation": "h1", "buyer": "b1"},
        {"type": "buyer_message", "at": "2026-03-02T09:00:00+08:00", "conversation": "h1", "buyer": "b1"},
        {"type": "agent_reply", "at": "2026-03-02T09:01:00+08:00", "conversation": "h1", "agent": "a"},
    ]
    await import_history(merchant.org_id, [json.dumps(line) + "\n" for line in lines])
    log = Log(contract)
    await log.add("conversation_opened", "2026-06-03T09:00:00", conversation="c1", buyer="b1")
    await log.add("buyer_message", "2026-06-03T09:00:00", conversation="c1", buyer="b1")
    await log.add("agent_reply", "2026-06-03T09:00:20", conversation="c1", agent="a1")
    rows = await statements.before_and_after(await _contract_row(contract), moment=datetime(2026, 7, 1, tzinfo=SHANGHAI))
    assert [(r["metric"], r["before"], r["after"]) for r in rows] == [("first_response_time", 60, 20)]


async def test_the_contract_pages_let_both_parties_sign_and_show_the_sla(client, make_client):
    from tests.integration.sla.test_contracts import awarded_contract

    merchant, provider = await new_actor("merchant"), await new_actor("provider")
    _, contract = await awarded_contract(client, merchant, provider)
    cid = contract["id"]
    for actor in (merchant, provider):
        browser = await make_client()
        await web_login(browser, actor)
        listing = await browser.get("/contracts")
        assert f"/contracts/{cid}" in listing.text
        page = await browser.get(f"/contracts/{cid}")
        assert page.status_code == 200 and 'data-testid="sign"' in page.text
        token = await csrf_token(browser, f"/contracts/{cid}")
        signed = await browser.post(f"/contracts/{cid}/sign", data={"_csrf_token": token})
        assert signed.status_code == 200 and 'data-testid="notice"' in signed.text
    assert 'data-testid="sla-panel"' in signed.text and 'data-testid="statement"' in signed.text
    assert re.search(r'data-testid="contract-status">\s*Active', signed.text)
    assert 'data-testid="sla-charts"' in signed.text  # empty until the contract starts tomorrow
    # A refused form keeps what was typed and says why.
    token = await csrf_token(browser, f"/contracts/{cid}")
    refused = await browser.post(f"/contracts/{cid}/terminate", data={"_csrf_token": token, "reason": "too short"})
    assert refused.status_code == 422 and "too short" in refused.text and 'data-testid="error"' in refused.text


async def test_the_shop_imports_its_history_from_the_contracts_page(make_client):
    from tests.integration.sla.test_contracts import HISTORY

    merchant = await new_actor("merchant")
    browser = await make_client()
    await web_login(browser, merchant)
    token = await csrf_token(browser, "/contracts")
    done = await browser.post("/contracts/history", data={"_csrf_token": token},
                              files={"file": ("history.jsonl", HISTORY.encode(), "application/x-ndjson")})
    assert done.status_code == 200 and 'data-testid="imported"' in done.text and "4 events imported" in done.text
    bad = HISTORY + '{"type": "buyer_message", "at": "yesterday", "conversation": "c2", "buyer": "b8"}\n'
    token = await csrf_token(browser, "/contracts")
    refused = await browser.post("/contracts/history", data={"_csrf_token": token},
                                 files={"file": ("history.jsonl", bad.encode(), "application/x-ndjson")})
    assert refused.status_code == 422 and "Line 5" in refused.text
    provider = await new_actor("provider")
    other = await make_client()
    await web_login(other, provider)
    page = await other.get("/contracts")
    assert 'data-testid="history-import"' not in page.text
