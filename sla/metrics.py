"""The SLA metric engine: the metrics of windows [start, end), each as of a moment T,
computed by SQL statements (sla.sql) over a contract's live events or a shop's
imported history, never by loading events into Python. `measure_many` computes any
number of (metric, scope, window, T) with one statement per metric family and source,
set-based; `measure` and the per-metric functions are the same for one window.

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

from fuwu.db import fetch, is_postgres
from sla import states
from sla.calendar import SECOND, CoverageCalendar
from sla.sql import METRIC_STATEMENTS, PEER_ATTITUDE

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


# The metric number in the statements' rows (sla.sql).
METRIC_NUMBERS = {
    states.FIRST_RESPONSE_TIME: 1, states.NEXT_RESPONSE_TIME: 2, states.RESOLUTION_TIME: 3,
    states.SERVICE_ATTITUDE: 4, states.INQUIRY_CONVERSION_RATE: 5, states.MILESTONE_ON_TIME_RATE: 6,
    states.FIRST_PASS_ACCEPTANCE_RATE: 7,
}
_DURATION_METRICS = (states.FIRST_RESPONSE_TIME, states.NEXT_RESPONSE_TIME, states.RESOLUTION_TIME)
_CHAT_METRICS = (*_DURATION_METRICS, states.SERVICE_ATTITUDE)
# Which statement computes a metric (sla.sql.METRIC_STATEMENTS).
_FAMILY = {**{metric: "chat" for metric in _CHAT_METRICS},
           **{metric: metric for metric in METRIC_NUMBERS if metric not in _CHAT_METRICS}}
# The bucket widths a calendar's business time may be cut into, widest first (each
# divides a day): the widest that puts at most one business interval in a bucket.
BUCKET_WIDTHS = tuple(seconds * SECOND for seconds in (86_400, 43_200, 21_600, 10_800, 3_600, 1_800, 900, 300, 60, 1))
DAY_US = BUCKET_WIDTHS[0]


@dataclass(frozen=True)
class Request:
    """One metric over one window [start, end) as of T."""

    metric: str
    scope: Scope
    calendar: CoverageCalendar
    start_us: int
    end_us: int
    as_of_us: int
    attribution_seconds: int = DEFAULT_ATTRIBUTION_SECONDS


def _engine() -> str:
    return "postgres" if is_postgres() else "sqlite"


def _number(value, scale: float = 1.0) -> float | None:
    if value is None:
        return None
    if isinstance(value, Decimal):
        value = int(value) if value == value.to_integral_value() else float(value)
    return value / scale if scale != 1.0 else float(value)


def bucket_rows(calendar: CoverageCalendar, low_us: int, high_us: int) -> tuple[int, int, list[tuple[int, int, int]]]:
    """The calendar's business time from `low_us` to `high_us` in buckets, for the
    statements (sla.sql): the width, the first bucket's number and one row (s, e,
    carry) per bucket from the bucket of `low_us` to that of `high_us`. The width is
    the widest of BUCKET_WIDTHS in which no bucket meets two business intervals; (s,
    e) is the part of the interval the bucket meets (s = e, the bucket's start, when
    none) and carry the business time from the first bucket's start to its own. So
    the business time before an instant t is carry + max(0, min(t, e) - s) of the
    row of t's bucket."""
    first_day, last_day = low_us // DAY_US, high_us // DAY_US
    intervals = calendar.intervals(first_day * DAY_US, (last_day + 1) * DAY_US)
    width = next((w for w in BUCKET_WIDTHS if all(
        following[0] // w != (before[1] - 1) // w for before, following in zip(intervals, intervals[1:]))),
        BUCKET_WIDTHS[-1])
    rows: list[tuple[int, int, int]] = []
    carry, index = 0, 0
    first = low_us // width
    for bucket in range(first, high_us // width + 1):
        bucket_start, bucket_end = bucket * width, (bucket + 1) * width
        while index < len(intervals) and intervals[index][1] <= bucket_start:
            index += 1
        if index < len(intervals) and intervals[index][0] < bucket_end:
            s, e = max(intervals[index][0], bucket_start), min(intervals[index][1], bucket_end)
            rows.append((s, e, carry))
            carry += e - s
        else:
            rows.append((bucket_start, bucket_start, carry))
    return width, first, rows


def _dump(rows: list) -> str:
    return json.dumps(rows, separators=(",", ":"))


async def measure_many(requests: list[Request]) -> list[MetricResult]:
    """Many metrics over many windows and scopes at once, one statement per metric
    family and source whatever the number of windows (sla.sql): the evaluation job's
    and the report's way to the engine. Returns the results in the requests' order;
    each equals what `measure` gives for the request alone."""
    results: list[MetricResult | None] = [None] * len(requests)
    by_source: dict[tuple, list[int]] = {}
    for index, request in enumerate(requests):
        if request.metric not in METRIC_NUMBERS:
            raise ValueError(f"unknown metric {request.metric}")
        # SQLite joins the items to the events by nested loops (no hash join): there, one
        # round of statements per scope (a contract, a shop's history) is the set.
        group = (request.scope.source,) if is_postgres() else (request.scope.source, request.scope.key)
        by_source.setdefault(group, []).append(index)
    for (source, *_), indexes in by_source.items():
        # One item per distinct (scope, calendar, window, T, attribution); one cal per calendar.
        items: dict[tuple, int] = {}
        calendars: dict[CoverageCalendar, int] = {}
        families: dict[str, set[int]] = {}
        item_of: dict[int, int] = {}
        rows: list[list] = []
        for index in indexes:
            request = requests[index]
            cal = calendars.setdefault(request.calendar, len(calendars))
            key = (request.scope.key, request.scope.shop, cal, request.start_us, request.end_us, request.as_of_us,
                   request.attribution_seconds)
            if key not in items:
                items[key] = len(items)
                rows.append([items[key], str(request.scope.key), request.start_us, request.end_us, request.as_of_us,
                             cal, str(request.scope.shop), request.attribution_seconds * SECOND, DAY_US, 0, 0])
            item_of[index] = items[key]
            families.setdefault(_FAMILY[request.metric], set()).add(items[key])
        found: dict[tuple[int, int], dict] = {}
        for family, wanted in families.items():
            chosen = [row for row in rows if row[0] in wanted]
            statement = METRIC_STATEMENTS[(family, source, _engine())]
            if family == "chat":
                answer = await _chat(statement, chosen, calendars)
            else:
                answer = await fetch(statement, _dump(chosen))
            for row in answer:
                found[(int(row["item"]), int(row["metric"]))] = row
        for index in indexes:
            request = requests[index]
            row = found.get((item_of[index], METRIC_NUMBERS[request.metric]))
            results[index] = _result(request.metric, row)
    return results  # type: ignore[return-value]


async def _chat(statement: str, items: list[list], calendars: dict[CoverageCalendar, int]) -> list[dict]:
    """The chat statement over `items`, with each calendar's business-time buckets
    over the span its items' clocks run in: from the earliest window start to the
    latest T. A resolution can start before that (a conversation opened earlier and
    closed in a window): the statement then names the earliest such start
    (`uncovered`), and is asked again with the span widened to it."""
    low: dict[int, int] = {}
    high: dict[int, int] = {}
    for row in items:
        start_us, as_of_us, cal = row[2], row[4], row[5]
        low[cal] = min(low.get(cal, start_us), start_us, as_of_us)
        high[cal] = max(high.get(cal, as_of_us), as_of_us)
    while True:
        buckets: list = []
        for calendar, cal in calendars.items():
            if cal not in low:
                continue
            width, first, rows = bucket_rows(calendar, low[cal], high[cal])
            for row in items:
                if row[5] == cal:
                    row[8:11] = [width, first, len(buckets) // 3 - first]
            if is_postgres():  # one flat array, read by position
                for bucket_row in rows:
                    buckets.extend(bucket_row)
            else:  # rows joined by (cal, bucket)
                buckets.extend([cal, first + number, *bucket_row] for number, bucket_row in enumerate(rows))
        answer = await fetch(statement, _dump(items), buckets if is_postgres() else _dump(buckets))
        uncovered = {}
        cal_of = {row[0]: row[5] for row in items}
        for row in answer:
            if row["uncovered"] is not None:
                cal = cal_of[int(row["item"])]
                uncovered[cal] = min(uncovered.get(cal, low[cal]), int(row["uncovered"]))
        if not uncovered:
            return answer
        if all(uncovered[cal] >= low[cal] for cal in uncovered):
            raise RuntimeError("business-time buckets did not cover the samples")  # pragma: no cover
        low.update(uncovered)


def _result(metric: str, row: dict | None) -> MetricResult:
    if row is None:  # no samples: a rate's hits are 0, the other statistics none
        return MetricResult(metric, 0) if metric in _DURATION_METRICS or metric == states.SERVICE_ATTITUDE \
            else MetricResult(metric, 0, hits=0)
    if metric in _DURATION_METRICS:
        return MetricResult(metric, int(row["n"]), _number(row["total"], SECOND), _number(row["p50"], SECOND),
                            _number(row["p90"], SECOND))
    if metric == states.SERVICE_ATTITUDE:
        return MetricResult(metric, int(row["n"]), _number(row["total"]), _number(row["p50"]), _number(row["p90"]))
    return MetricResult(metric, int(row["n"]), hits=int(row["hits"]))


async def _one(metric: str, scope: Scope, calendar: CoverageCalendar, start_us: int, end_us: int, as_of_us: int,
               attribution_seconds: int = DEFAULT_ATTRIBUTION_SECONDS) -> MetricResult:
    return (await measure_many([Request(metric, scope, calendar, start_us, end_us, as_of_us,
                                        attribution_seconds)]))[0]


async def first_response_time(scope: Scope, calendar: CoverageCalendar, start_us: int, end_us: int,
                              as_of_us: int) -> MetricResult:
    """Per conversation, the business time from its first buyer message b (up to T)
    to the first agent reply after b; a close before any reply stops the clock at the
    close; with neither by T the clock runs to T. The sample belongs to the window
    that contains b. Notices and system messages are not replies."""
    return await _one(states.FIRST_RESPONSE_TIME, scope, calendar, start_us, end_us, as_of_us)


async def next_response_time(scope: Scope, calendar: CoverageCalendar, start_us: int, end_us: int,
                             as_of_us: int) -> MetricResult:
    """After each agent reply or close, the next buyer message m starts a clock (later
    buyer messages do not restart it) that the next agent reply or close stops, or T
    if neither came. The first buyer message of a conversation is first response's,
    and agent messages before it start nothing. The sample belongs to the window that
    contains m."""
    return await _one(states.NEXT_RESPONSE_TIME, scope, calendar, start_us, end_us, as_of_us)


async def resolution_time(scope: Scope, calendar: CoverageCalendar, start_us: int, end_us: int,
                          as_of_us: int) -> MetricResult:
    """One sample per conversation whose last close up to T falls in the window and
    comes after a buyer message: the business time from its first buyer message to
    that close, even if the conversation was reopened in between. Conversations never
    closed give no sample."""
    return await _one(states.RESOLUTION_TIME, scope, calendar, start_us, end_us, as_of_us)


async def service_attitude(scope: Scope, start_us: int, end_us: int, as_of_us: int) -> MetricResult:
    """The mean buyer rating of conversations: each conversation counts once, in the
    window of its last close up to T, with its latest rating up to T; unrated
    conversations are left out. (Median and p90 of the same samples are given too.)"""
    return await _one(states.SERVICE_ATTITUDE, scope, CoverageCalendar.always(), start_us, end_us, as_of_us)


async def inquiry_conversion_rate(scope: Scope, start_us: int, end_us: int, as_of_us: int,
                                  attribution_seconds: int = DEFAULT_ATTRIBUTION_SECONDS) -> MetricResult:
    """Buyers who sent a buyer message in the window up to T, each from the time f of
    its first such message; converted if the shop reported an order from that buyer
    (same source: live orders for a contract, history orders for a history report)
    with server time in [f, f + attribution window) and up to T. Rate = converted /
    buyers."""
    return await _one(states.INQUIRY_CONVERSION_RATE, scope, CoverageCalendar.always(), start_us, end_us, as_of_us,
                      attribution_seconds)


async def milestone_on_time_rate(scope: Scope, start_us: int, end_us: int, as_of_us: int) -> MetricResult:
    """Of the milestones due in the window and at or before T (the due time from the
    milestone's latest milestone_created event up to T), the share whose first
    submission came at or before the due time; one not submitted by T is late."""
    return await _one(states.MILESTONE_ON_TIME_RATE, scope, CoverageCalendar.always(), start_us, end_us, as_of_us)


async def first_pass_acceptance_rate(scope: Scope, start_us: int, end_us: int, as_of_us: int) -> MetricResult:
    """Of the milestones accepted in the window up to T (their first acceptance:
    acceptance is final), the share with no rejection before that acceptance."""
    return await _one(states.FIRST_PASS_ACCEPTANCE_RATE, scope, CoverageCalendar.always(), start_us, end_us,
                      as_of_us)


async def measure(metric: str, scope: Scope, calendar: CoverageCalendar, start_us: int, end_us: int, as_of_us: int,
                  attribution_seconds: int = DEFAULT_ATTRIBUTION_SECONDS) -> MetricResult:
    """One metric by name over [start, end) as of T."""
    return await _one(metric, scope, calendar, start_us, end_us, as_of_us, attribution_seconds)


async def attitude_standing(category: str, provider: uuid.UUID, value: float | None, start_us: int, end_us: int,
                            as_of_us: int) -> dict | None:
    """Service attitude's standing among the category's providers (DESIGN.md section
    4, "x % above peers"): `value`, a contract's mean buyer rating over [start, end)
    as of T, against its peers, the other providers with contracts in the same
    category measured in the same window (at least one conversation whose last close
    up to T is in the window, rated by then; sla.sql.PEER_ATTITUDE), each with its mean
    rating over all its contracts in the category, computed as the metric is.

    Returns None without a value or without peers, else `peers` (how many),
    `peer_mean` (the mean of the peers' means: each provider counts once),
    `above_percent` ((value - peer_mean) / peer_mean * 100, negative when below) and
    `better_than_percent` (the share of peers whose mean is below the value, * 100)."""
    if value is None:
        return None
    means = [int(row["total"]) / int(row["n"]) for row in await fetch(
        PEER_ATTITUDE, category, start_us, end_us, as_of_us) if str(row["provider"]) != str(provider) and int(row["n"])]
    if not means:
        return None
    peer_mean = sum(means) / len(means)
    return {"peers": len(means), "peer_mean": peer_mean, "above_percent": (value - peer_mean) / peer_mean * 100,
            "better_than_percent": sum(1 for mean in means if mean < value) / len(means) * 100}
