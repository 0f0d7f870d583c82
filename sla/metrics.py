"""The SLA metric engine: each metric for one window [start, end) as of a moment T,
computed by one SQL statement (sla.sql) over a contract's live events or a shop's
imported history, never by loading events into Python.

The rules (DESIGN.md section 4), which every figure follows and which
tests/sla_reference.py restates in plain Python:

- Events after T do not exist for the computation; an unanswered clock runs to T.
- Order of events: by server time, then by their order in the log (the id; for
  history imported in one file the line order), so a reply with the same timestamp
  stored after a buyer message answers it in 0 s.
- Business time of [t1, t2): see sla.calendar; durations are reported in seconds.
- Percentiles are nearest-rank: sort the n samples and take the one at rank
  max(1, ceil(p/100 * n)); the median is p50. No samples: no value, neither met nor
  breached.

Times are integer microseconds since the epoch (sla.calendar.to_us).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from decimal import Decimal

from fuwu.db import fetchrow, is_postgres
from sla import states
from sla.calendar import SECOND, CoverageCalendar
from sla.sql import METRIC_STATEMENTS

DEFAULT_ATTRIBUTION_SECONDS = 86_400


@dataclass(frozen=True)
class Scope:
    """Whose events: a contract's live events (orders: its merchant's live orders),
    or a shop's imported history."""

    source: str
    key: uuid.UUID  # the contract (live) or the shop (history)
    shop: uuid.UUID

    @classmethod
    def live(cls, contract: uuid.UUID, shop: uuid.UUID) -> Scope:
        return cls(states.LIVE, contract, shop)

    @classmethod
    def history(cls, shop: uuid.UUID) -> Scope:
        return cls(states.HISTORY, shop, shop)


@dataclass(frozen=True)
class MetricResult:
    """One metric over one window. Durations in seconds, ratings as given, rates as a
    fraction 0..1; `value(statistic)` is None when there are no samples."""

    metric: str
    sample_size: int
    total: float | None = None  # sum of the samples, for the mean
    p50: float | None = None
    p90: float | None = None
    hits: int | None = None  # for a rate: the samples that count

    def value(self, statistic: str) -> float | None:
        if not self.sample_size:
            return None
        if statistic == "rate":
            return self.hits / self.sample_size if self.hits is not None else None
        if self.total is None:
            return None
        if statistic == "mean":
            return self.total / self.sample_size
        if statistic == "median":
            return self.p50
        if statistic == "p90":
            return self.p90
        raise ValueError(f"unknown statistic {statistic}")


def _engine() -> str:
    return "postgres" if is_postgres() else "sqlite"


def _number(value, scale: float = 1.0) -> float | None:
    if value is None:
        return None
    if isinstance(value, Decimal):
        value = int(value) if value == value.to_integral_value() else float(value)
    return value / scale if scale != 1.0 else float(value)


def _business_json(calendar: CoverageCalendar, start_us: int, end_us: int) -> str:
    return json.dumps(calendar.intervals(start_us, end_us), separators=(",", ":"))


async def _durations(metric: str, scope: Scope, calendar: CoverageCalendar, start_us: int, end_us: int, as_of_us: int,
                     clocks_from_us: int) -> MetricResult:
    statement = METRIC_STATEMENTS[(metric, scope.source, _engine())]
    business = _business_json(calendar, clocks_from_us, max(as_of_us, clocks_from_us))
    row = await fetchrow(statement, scope.key, start_us, end_us, as_of_us, business)
    return MetricResult(metric, int(row["n"]), _number(row["total"], SECOND), _number(row["p50"], SECOND),
                        _number(row["p90"], SECOND))


async def first_response_time(scope: Scope, calendar: CoverageCalendar, start_us: int, end_us: int,
                              as_of_us: int) -> MetricResult:
    """Per conversation, the business time from its first buyer message b (up to T)
    to the first agent reply after b; a close before any reply stops the clock at the
    close; with neither by T the clock runs to T. The sample belongs to the window
    that contains b. Notices and system messages are not replies."""
    return await _durations(states.FIRST_RESPONSE_TIME, scope, calendar, start_us, end_us, as_of_us, start_us)


async def next_response_time(scope: Scope, calendar: CoverageCalendar, start_us: int, end_us: int,
                             as_of_us: int) -> MetricResult:
    """After each agent reply or close, the next buyer message m starts a clock (later
    buyer messages do not restart it) that the next agent reply or close stops, or T
    if neither came. The first buyer message of a conversation is first response's,
    and agent messages before it start nothing. The sample belongs to the window that
    contains m."""
    return await _durations(states.NEXT_RESPONSE_TIME, scope, calendar, start_us, end_us, as_of_us, start_us)


async def resolution_time(scope: Scope, calendar: CoverageCalendar, start_us: int, end_us: int,
                          as_of_us: int) -> MetricResult:
    """One sample per conversation whose last close up to T falls in the window and
    comes after a buyer message: the business time from its first buyer message to
    that close, even if the conversation was reopened in between. Conversations never
    closed give no sample."""
    statement = METRIC_STATEMENTS[("resolution_earliest", scope.source, _engine())]
    row = await fetchrow(statement, scope.key, start_us, end_us, as_of_us)
    if row is None or row["earliest"] is None:
        return MetricResult(states.RESOLUTION_TIME, 0)
    return await _durations(states.RESOLUTION_TIME, scope, calendar, start_us, end_us, as_of_us,
                            min(int(row["earliest"]), start_us))


async def service_attitude(scope: Scope, start_us: int, end_us: int, as_of_us: int) -> MetricResult:
    """The mean buyer rating of conversations: each conversation counts once, in the
    window of its last close up to T, with its latest rating up to T; unrated
    conversations are left out. (Median and p90 of the same samples are given too.)"""
    statement = METRIC_STATEMENTS[(states.SERVICE_ATTITUDE, scope.source, _engine())]
    row = await fetchrow(statement, scope.key, start_us, end_us, as_of_us)
    return MetricResult(states.SERVICE_ATTITUDE, int(row["n"]), _number(row["total"]), _number(row["p50"]),
                        _number(row["p90"]))


async def inquiry_conversion_rate(scope: Scope, start_us: int, end_us: int, as_of_us: int,
                                  attribution_seconds: int = DEFAULT_ATTRIBUTION_SECONDS) -> MetricResult:
    """Buyers who sent a buyer message in the window up to T, each from the time f of
    its first such message; converted if the shop reported an order from that buyer
    (same source: live orders for a contract, history orders for a history report)
    with server time in [f, f + attribution window) and up to T. Rate = converted /
    buyers."""
    statement = METRIC_STATEMENTS[(states.INQUIRY_CONVERSION_RATE, scope.source, _engine())]
    row = await fetchrow(statement, scope.key, start_us, end_us, as_of_us, scope.shop, attribution_seconds * SECOND)
    return MetricResult(states.INQUIRY_CONVERSION_RATE, int(row["n"]), hits=int(row["hits"]))


async def milestone_on_time_rate(scope: Scope, start_us: int, end_us: int, as_of_us: int) -> MetricResult:
    """Of the milestones due in the window and at or before T (the due time from the
    milestone's latest milestone_created event up to T), the share whose first
    submission came at or before the due time; one not submitted by T is late."""
    statement = METRIC_STATEMENTS[(states.MILESTONE_ON_TIME_RATE, scope.source, _engine())]
    row = await fetchrow(statement, scope.key, start_us, end_us, as_of_us)
    return MetricResult(states.MILESTONE_ON_TIME_RATE, int(row["n"]), hits=int(row["hits"]))


async def first_pass_acceptance_rate(scope: Scope, start_us: int, end_us: int, as_of_us: int) -> MetricResult:
    """Of the milestones accepted in the window up to T (their first acceptance:
    acceptance is final), the share with no rejection before that acceptance."""
    statement = METRIC_STATEMENTS[(states.FIRST_PASS_ACCEPTANCE_RATE, scope.source, _engine())]
    row = await fetchrow(statement, scope.key, start_us, end_us, as_of_us)
    return MetricResult(states.FIRST_PASS_ACCEPTANCE_RATE, int(row["n"]), hits=int(row["hits"]))


async def measure(metric: str, scope: Scope, calendar: CoverageCalendar, start_us: int, end_us: int, as_of_us: int,
                  attribution_seconds: int = DEFAULT_ATTRIBUTION_SECONDS) -> MetricResult:
    """One metric by name over [start, end) as of T."""
    if metric == states.FIRST_RESPONSE_TIME:
        return await first_response_time(scope, calendar, start_us, end_us, as_of_us)
    if metric == states.NEXT_RESPONSE_TIME:
        return await next_response_time(scope, calendar, start_us, end_us, as_of_us)
    if metric == states.RESOLUTION_TIME:
        return await resolution_time(scope, calendar, start_us, end_us, as_of_us)
    if metric == states.SERVICE_ATTITUDE:
        return await service_attitude(scope, start_us, end_us, as_of_us)
    if metric == states.INQUIRY_CONVERSION_RATE:
        return await inquiry_conversion_rate(scope, start_us, end_us, as_of_us, attribution_seconds)
    if metric == states.MILESTONE_ON_TIME_RATE:
        return await milestone_on_time_rate(scope, start_us, end_us, as_of_us)
    if metric == states.FIRST_PASS_ACCEPTANCE_RATE:
        return await first_pass_acceptance_rate(scope, start_us, end_us, as_of_us)
    raise ValueError(f"unknown metric {metric}")
