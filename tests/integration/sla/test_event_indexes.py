"""Every metric statement finds its events through an index of the log, on both
engines. The log's indexes are partial (migration 2026-11-26T16:00): the contract
indexes hold rows with a contract, the shop indexes history and orders. An index is
usable only where the statement's own terms imply its condition. A statement that
lost such a term would read the whole log, and the metric would still be right, only
slow. This test is the one that notices. The same holds for a contract's chat steps
(sla.sql, "chat steps"), which the live chat metrics read instead of the log."""

from __future__ import annotations

import re
import uuid

import pytest

import sla.metrics as metrics
from fuwu.db import atomic, fetch, is_postgres
from sla.calendar import CoverageCalendar
from sla.metrics import METRIC_NUMBERS, Scope, measure
from sla.sql import EVENTS, STEPS

START, END = 1_767_196_800_000_000, 1_769_875_200_000_000  # January 2026

# The indexes each source's statements may use: a contract's live events, the shop's
# live orders (inquiry conversion); a shop's history and its orders.
ALLOWED = {
    "live": {"sla_service_event_contract_kind_at", "sla_service_event_contract_conversation",
             "sla_service_event_shop_buyer", "sla_service_event_shop_kind_at",
             "sla_chat_step_contract_at", "sla_chat_step_contract_conversation"},
    "history": {"sla_service_event_shop_kind_at", "sla_service_event_shop_conversation",
                "sla_service_event_shop_buyer"},
}


async def statements_of(scope: Scope, monkeypatch) -> list[tuple[str, tuple]]:
    """The statements (and their arguments) that computing every metric on `scope` runs."""
    seen: list[tuple[str, tuple]] = []

    async def spy(statement: str, *args):
        seen.append((statement, args))
        return await fetch(statement, *args)

    monkeypatch.setattr(metrics, "fetch", spy)
    for metric in METRIC_NUMBERS:
        await measure(metric, scope, CoverageCalendar.always("Asia/Shanghai"), START, END, END)
    monkeypatch.undo()
    assert seen
    return seen


async def plan(statement: str, args: tuple) -> tuple[str, set[str]]:
    """The plan's text and the log's (and chat steps') indexes it uses."""
    if is_postgres():
        async with atomic():
            await fetch("SELECT set_config('enable_seqscan', 'off', true)")  # a scan shows only if no index serves
            rows = await fetch("EXPLAIN " + statement, *args)
        text = "\n".join(row["QUERY PLAN"] for row in rows)
    else:
        rows = await fetch("EXPLAIN QUERY PLAN " + statement, *args)
        text = "\n".join(row["detail"] for row in rows)
    return text, set(re.findall(r"\b((?:sla_service_event|sla_chat_step)_\w+)", text))


@pytest.mark.parametrize("source", ["live", "history"])
async def test_every_metric_statement_reads_the_log_through_its_source_indexes(source, monkeypatch):
    shop, contract = uuid.uuid4(), uuid.uuid4()
    scope = Scope.live(contract, shop) if source == "live" else Scope.history(shop)
    for statement, args in await statements_of(scope, monkeypatch):
        text, used = await plan(statement, args)
        first_line = statement.strip().splitlines()[0][:80]
        assert used, f"{first_line}: no index of the log used:\n{text}"
        assert used <= ALLOWED[source], f"{first_line}: {used - ALLOWED[source]} serve the other source"
        for table in (EVENTS, STEPS):
            if is_postgres():
                assert f"Seq Scan on {table}" not in text, f"{first_line} reads the whole {table}:\n{text}"
            else:
                for alias in set(re.findall(rf"\b{table}\s+(\w+)", statement)):
                    assert not re.search(rf"^SCAN {alias}\b", text, re.M), \
                        f"{first_line} reads the whole {table}:\n{text}"
