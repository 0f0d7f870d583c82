"""Every hand-written statement of the sla domain, in one place.

The metric statements compute each SLA metric for one window as of a moment T with
SQL aggregates and window functions that SQLite (3.25+) and PostgreSQL both run
(ROW_NUMBER, LAG, framed MIN/SUM, CASE), never by loading events into Python. Times
are the log's integer microseconds (`at_us`).

Business time: the coverage calendar is expanded in Python into the UTC intervals of
business time over the range a window's clocks can run in (a few a day, see
`sla.calendar.CoverageCalendar.intervals`) and passed as one JSON parameter, which
the statement turns into a small table `business(s, e)`; a sample's business time is
the sum of its overlaps with those intervals. The JSON is read with each engine's own
functions, so each statement exists in a SQLite and a PostgreSQL text, and in a
variant for a contract's live events and one for a shop's imported history: all
built here when the module loads (`METRIC_STATEMENTS`).

Placeholders of every metric statement: $1 the contract (live) or the shop (history),
$2 window start, $3 window end, $4 T; then per statement as noted.
"""

from __future__ import annotations

from sla import states
from sla.tables import Contract, ServiceEvent

EVENTS = ServiceEvent._meta.tablename

_EVENT_COLUMNS = [column._meta.db_column_name for column in ServiceEvent._meta.columns if column._meta.name != "id"]


def _insert_event(suffix: str) -> str:
    # Every column but the autoincrement id, in the table's order: $1.. in that order.
    columns = ", ".join(f'"{name}"' for name in _EVENT_COLUMNS)
    values = ", ".join(f"${index}" for index in range(1, len(_EVENT_COLUMNS) + 1))
    return f"INSERT INTO {EVENTS} ({columns}) VALUES ({values}) {suffix}".strip()


EVENT_COLUMNS = tuple(_EVENT_COLUMNS)


def insert_live_events_select(values: dict[str, str], source: str) -> str:
    """A fragment for a higher domain's own statement: one live event per row of
    `source` (its FROM clause, with a WHERE if it needs one). `values` gives the SQL
    expression of the columns it fills (kind, shop, contract, at, at_us, conversation,
    buyer, agent, ...); every other column is NULL and `source` is live. The chat
    stores a batch of messages and their events in one statement this way."""
    unknown = set(values) - set(_EVENT_COLUMNS)
    if unknown:
        raise ValueError(f"not columns of the event log: {sorted(unknown)}")
    expressions = [values.get(name, f"'{states.LIVE}'" if name == "source" else "NULL") for name in _EVENT_COLUMNS]
    columns = ", ".join(f'"{name}"' for name in _EVENT_COLUMNS)
    return f"INSERT INTO {EVENTS} ({columns}) SELECT {', '.join(expressions)} FROM {source}"
# One event; an order already reported (same order_key) or a history line already
# imported (same line_key) inserts nothing and returns no row.
INSERT_EVENT = _insert_event("ON CONFLICT DO NOTHING RETURNING id")
# The same for a batch of history lines (executemany: no rows come back).
INSERT_EVENTS = _insert_event("ON CONFLICT DO NOTHING")
# How many events an import added: $1 the import.
COUNT_IMPORTED = f"SELECT COUNT(*) AS n FROM {EVENTS} WHERE import_id = $1"
# Undo an import that a bad line stopped: $1 the import.
DELETE_IMPORT = f"DELETE FROM {EVENTS} WHERE import_id = $1"
# After a bulk import (PostgreSQL): statistics for the planner.
ANALYZE_EVENTS = f"ANALYZE {EVENTS}"
# The event an order id already has in this source and shop: $1 the order key.
ORDER_EVENT = f"SELECT id, at, buyer, amount, currency FROM {EVENTS} WHERE order_key = $1"

# --- metric statements ----------------------------------------------------------------

_SCOPE = {
    states.LIVE: "contract = $1 AND source = 'live'",
    states.HISTORY: "shop = $1 AND source = 'history'",
}

_BUSINESS = {
    "postgres": "SELECT (x->>0)::bigint AS s, (x->>1)::bigint AS e FROM jsonb_array_elements(CAST($5 AS jsonb)) AS x",
    "sqlite": "SELECT json_extract(value, '$[0]') AS s, json_extract(value, '$[1]') AS e FROM json_each($5)",
}

# PostgreSQL inlines a CTE used once, and then re-reads the JSON for every sample of
# the join below (a third of a month's first-response statement): MATERIALIZED builds
# `business` once. SQLite reads json_each into the join as it is.
_MATERIALIZED = {"postgres": "MATERIALIZED ", "sqlite": ""}

# Business time of each sample [t1, t2) from `samples(sample, t1, t2)`, then the
# statistics over `sample_values(v)`: n, the sum (for the mean) and the nearest-rank
# median and p90, rank max(1, ceil(p/100 * n)) = (p * n + 99) / 100 in integers.
_DURATIONS = """,
business AS {materialized}({business}),
sample_values AS (
  SELECT samples.sample, SUM(CASE WHEN business.s IS NULL THEN 0 ELSE
    CASE WHEN business.e < samples.t2 THEN business.e ELSE samples.t2 END
    - CASE WHEN business.s > samples.t1 THEN business.s ELSE samples.t1 END END) AS v
  FROM samples LEFT JOIN business ON business.s < samples.t2 AND business.e > samples.t1
  GROUP BY samples.sample
)"""

_STATISTICS = """,
ordered_values AS (SELECT v, ROW_NUMBER() OVER (ORDER BY v) AS rn, COUNT(*) OVER () AS n FROM sample_values)
SELECT COUNT(*) AS n, SUM(v) AS total,
  MAX(CASE WHEN rn = (50 * n + 99) / 100 THEN v END) AS p50,
  MAX(CASE WHEN rn = (90 * n + 99) / 100 THEN v END) AS p90,
  NULL AS hits
FROM ordered_values"""

# First and next response: the conversation's buyer messages, agent replies and
# closes up to T, in log order (at_us, id), for conversations with a buyer message in
# the window. Each buyer message knows how many buyer messages the conversation had
# up to it, the kind of the event before it, and when the next reply or close came.
_RESPONSE_ORDERED = """WITH events AS (
  SELECT id, kind, at_us, conversation FROM {table}
  WHERE {scope} AND at_us <= $4 AND kind IN ('buyer_message', 'agent_reply', 'conversation_closed')
    AND conversation IN (
      SELECT conversation FROM {table}
      WHERE {scope} AND kind = 'buyer_message' AND at_us >= $2 AND at_us < $3 AND at_us <= $4)
),
ordered AS (
  SELECT id, kind, at_us,
    SUM(CASE WHEN kind = 'buyer_message' THEN 1 ELSE 0 END)
      OVER (PARTITION BY conversation ORDER BY at_us, id ROWS UNBOUNDED PRECEDING) AS buyer_count,
    LAG(kind) OVER (PARTITION BY conversation ORDER BY at_us, id) AS previous_kind,
    MIN(CASE WHEN kind <> 'buyer_message' THEN at_us END)
      OVER (PARTITION BY conversation ORDER BY at_us, id ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING) AS stop_us
  FROM events
),
samples AS (
  SELECT id AS sample, at_us AS t1, COALESCE(stop_us, $4) AS t2 FROM ordered
  WHERE kind = 'buyer_message' AND at_us >= $2 AND at_us < $3 AND {starts}
)"""

_FIRST_RESPONSE_STARTS = "buyer_count = 1"
_NEXT_RESPONSE_STARTS = "buyer_count > 1 AND previous_kind IN ('agent_reply', 'conversation_closed')"

# Resolution: per conversation whose last close up to T is in the window, its first
# buyer message (if it precedes that close) to that close. One pass: each event is
# ranked within its conversation and kind, then each conversation folds into a row.
_RESOLUTION_SAMPLES = """WITH events AS (
  SELECT id, kind, at_us, conversation FROM {table}
  WHERE {scope} AND at_us <= $4 AND kind IN ('buyer_message', 'conversation_closed')
    AND conversation IN (
      SELECT conversation FROM {table}
      WHERE {scope} AND kind = 'conversation_closed' AND at_us >= $2 AND at_us < $3 AND at_us <= $4)
),
ranked AS (
  SELECT id, kind, at_us, conversation,
    ROW_NUMBER() OVER (PARTITION BY conversation, kind ORDER BY at_us, id) AS first_rank,
    ROW_NUMBER() OVER (PARTITION BY conversation, kind ORDER BY at_us DESC, id DESC) AS last_rank
  FROM events
),
conversations AS (
  SELECT conversation,
    MAX(CASE WHEN kind = 'buyer_message' AND first_rank = 1 THEN at_us END) AS buyer_at,
    MAX(CASE WHEN kind = 'buyer_message' AND first_rank = 1 THEN id END) AS buyer_id,
    MAX(CASE WHEN kind = 'conversation_closed' AND last_rank = 1 THEN at_us END) AS close_at,
    MAX(CASE WHEN kind = 'conversation_closed' AND last_rank = 1 THEN id END) AS close_id
  FROM ranked GROUP BY conversation
),
samples AS (
  SELECT close_id AS sample, buyer_at AS t1, close_at AS t2 FROM conversations
  WHERE close_at >= $2 AND close_at < $3 AND buyer_at IS NOT NULL
    AND (buyer_at < close_at OR (buyer_at = close_at AND buyer_id < close_id))
)"""

# How far back the business intervals of resolution must reach: the earliest buyer
# message of a conversation closed in the window (a bound at or before every
# sample's start, found by one indexed aggregate). Placeholders $1-$4 only.
_RESOLUTION_EARLIEST = """SELECT MIN(at_us) AS earliest FROM {table}
WHERE {scope} AND kind = 'buyer_message' AND at_us <= $4
  AND conversation IN (
    SELECT conversation FROM {table}
    WHERE {scope} AND kind = 'conversation_closed' AND at_us >= $2 AND at_us < $3 AND at_us <= $4)"""

# Service attitude: each conversation whose last close up to T is in the window, with
# its latest rating up to T (folded per conversation as above).
_ATTITUDE = """WITH events AS (
  SELECT id, kind, at_us, conversation, rating FROM {table}
  WHERE {scope} AND at_us <= $4 AND (kind = 'conversation_closed' OR (kind = 'chat_rated' AND rating IS NOT NULL))
    AND conversation IN (
      SELECT conversation FROM {table}
      WHERE {scope} AND kind = 'conversation_closed' AND at_us >= $2 AND at_us < $3 AND at_us <= $4)
),
ranked AS (
  SELECT kind, at_us, conversation, rating,
    ROW_NUMBER() OVER (PARTITION BY conversation, kind ORDER BY at_us DESC, id DESC) AS last_rank
  FROM events
),
conversations AS (
  SELECT conversation,
    MAX(CASE WHEN kind = 'conversation_closed' AND last_rank = 1 THEN at_us END) AS close_at,
    MAX(CASE WHEN kind = 'chat_rated' AND last_rank = 1 THEN rating END) AS rating
  FROM ranked GROUP BY conversation
),
sample_values AS (
  SELECT conversation AS sample, rating AS v FROM conversations
  WHERE close_at >= $2 AND close_at < $3 AND rating IS NOT NULL
)"""

# Inquiry conversion: $5 the shop, $6 the attribution window (microseconds). Buyers
# with a buyer message in the window up to T, each from its first such message f;
# converted by an order of the same shop and source from that buyer in [f, f + $6)
# and up to T.
_CONVERSION = """WITH chatted AS (
  SELECT buyer, MIN(at_us) AS f FROM {table}
  WHERE {scope} AND kind = 'buyer_message' AND buyer IS NOT NULL AND at_us >= $2 AND at_us < $3 AND at_us <= $4
  GROUP BY buyer
)
SELECT COUNT(*) AS n, NULL AS total, NULL AS p50, NULL AS p90,
  COALESCE(SUM(CASE WHEN EXISTS (
    SELECT 1 FROM {table} orders
    WHERE orders.shop = $5 AND orders.source = '{source}' AND orders.kind = 'order_placed'
      AND orders.buyer = chatted.buyer AND orders.at_us >= chatted.f AND orders.at_us < chatted.f + $6
      AND orders.at_us <= $4) THEN 1 ELSE 0 END), 0) AS hits
FROM chatted"""

# Milestone on-time: milestones whose due time (from their latest milestone_created
# event up to T) is in the window and up to T; on time if first submitted by then.
_ON_TIME = """WITH events AS (
  SELECT id, kind, at_us, milestone, due_us FROM {table}
  WHERE {scope} AND at_us <= $4 AND kind IN ('milestone_created', 'milestone_submitted')
),
created AS (
  SELECT milestone, due_us, ROW_NUMBER() OVER (PARTITION BY milestone ORDER BY at_us DESC, id DESC) AS last_rank
  FROM events WHERE kind = 'milestone_created'
),
due AS (
  SELECT milestone, due_us FROM created
  WHERE last_rank = 1 AND due_us >= $2 AND due_us < $3 AND due_us <= $4
),
submitted AS (
  SELECT milestone, MIN(at_us) AS first_us FROM events WHERE kind = 'milestone_submitted' GROUP BY milestone
)
SELECT COUNT(*) AS n, NULL AS total, NULL AS p50, NULL AS p90,
  COALESCE(SUM(CASE WHEN submitted.first_us <= due.due_us THEN 1 ELSE 0 END), 0) AS hits
FROM due LEFT JOIN submitted ON submitted.milestone = due.milestone"""

# First-pass acceptance: milestones first accepted in the window up to T; first-pass
# if no rejection came before that acceptance in log order.
_FIRST_PASS = """WITH events AS (
  SELECT id, kind, at_us, milestone FROM {table}
  WHERE {scope} AND at_us <= $4 AND kind IN ('milestone_accepted', 'milestone_rejected')
),
accepted AS (
  SELECT id, milestone, at_us, ROW_NUMBER() OVER (PARTITION BY milestone ORDER BY at_us, id) AS first_rank
  FROM events WHERE kind = 'milestone_accepted'
)
SELECT COUNT(*) AS n, NULL AS total, NULL AS p50, NULL AS p90,
  COALESCE(SUM(CASE WHEN NOT EXISTS (
    SELECT 1 FROM events rejections
    WHERE rejections.kind = 'milestone_rejected' AND rejections.milestone = accepted.milestone
      AND (rejections.at_us < accepted.at_us OR (rejections.at_us = accepted.at_us AND rejections.id < accepted.id))
  ) THEN 1 ELSE 0 END), 0) AS hits
FROM accepted WHERE first_rank = 1 AND at_us >= $2 AND at_us < $3"""


def _build() -> dict[tuple[str, str, str], str]:
    built = {}
    for source, scope in _SCOPE.items():
        for engine, business in _BUSINESS.items():
            def text(template: str) -> str:
                return template.format(table=EVENTS, scope=scope, source=source, business=business,
                                       materialized=_MATERIALIZED[engine], starts="{starts}")
            response = text(_RESPONSE_ORDERED)
            durations = text(_DURATIONS)
            built[(states.FIRST_RESPONSE_TIME, source, engine)] = (
                response.format(starts=_FIRST_RESPONSE_STARTS) + durations + _STATISTICS)
            built[(states.NEXT_RESPONSE_TIME, source, engine)] = (
                response.format(starts=_NEXT_RESPONSE_STARTS) + durations + _STATISTICS)
            built[(states.RESOLUTION_TIME, source, engine)] = text(_RESOLUTION_SAMPLES) + durations + _STATISTICS
            built[("resolution_earliest", source, engine)] = text(_RESOLUTION_EARLIEST)
            built[(states.SERVICE_ATTITUDE, source, engine)] = text(_ATTITUDE) + _STATISTICS
            built[(states.INQUIRY_CONVERSION_RATE, source, engine)] = text(_CONVERSION)
            built[(states.MILESTONE_ON_TIME_RATE, source, engine)] = text(_ON_TIME)
            built[(states.FIRST_PASS_ACCEPTANCE_RATE, source, engine)] = text(_FIRST_PASS)
    return built


# (metric, source, engine) -> statement text; engine is "sqlite" or "postgres".
METRIC_STATEMENTS = _build()


def signed_contracts() -> str:
    """A subquery for other domains' aggregates (the ratings domain's analytics): every
    contract both parties signed, with its merchant, provider and term. No placeholders."""
    return (f"SELECT c.id, c.merchant, c.provider, c.starts_at, c.ends_at FROM {Contract._meta.tablename} c "
            "WHERE c.merchant_signed_at IS NOT NULL AND c.provider_signed_at IS NOT NULL")


# --- promise against delivery ---------------------------------------------------------
#
# What providers measurably delivered on their contracts, per provider, metric and
# statistic: the latest version of each measured window (met or breached, with a
# value), how many of them were met, the median value (the middle one, or the mean of
# the middle two) and the number of contracts they came from; also the loosest and
# strictest targets promised. One statement for a batch of providers and metrics:
# $1 the provider ids and $2 the metrics, each a JSON array of strings.
_TRACK_RECORD = """WITH wanted_providers AS ({providers}),
wanted_metrics AS ({metrics}),
latest AS (
  SELECT c.provider AS provider, t.metric AS metric, t.statistic AS statistic, m.contract AS contract,
    m.value AS value, m.outcome AS outcome, m.target_value AS target_value, t.comparator AS comparator
  FROM sla_measurement AS m
  JOIN sla_target AS t ON t.id = m.target
  JOIN sla_contract AS c ON c.id = m.contract
  WHERE c.provider IN (SELECT id FROM wanted_providers) AND t.metric IN (SELECT metric FROM wanted_metrics)
    AND m.outcome IN ('met', 'breached') AND m.value IS NOT NULL
    AND NOT EXISTS (SELECT 1 FROM sla_measurement AS later WHERE later.target = m.target
                    AND later.window_start = m.window_start AND later.version > m.version)
),
ranked AS (
  SELECT provider, metric, statistic, contract, value, outcome, target_value, comparator,
    ROW_NUMBER() OVER (PARTITION BY provider, metric, statistic ORDER BY value) AS rn,
    COUNT(*) OVER (PARTITION BY provider, metric, statistic) AS n
  FROM latest
)
SELECT provider, metric, statistic, COUNT(*) AS windows,
  SUM(CASE WHEN outcome = 'met' THEN 1 ELSE 0 END) AS met,
  AVG(CASE WHEN rn = (n + 1) / 2 OR rn = (n + 2) / 2 THEN value END) AS median,
  COUNT(DISTINCT contract) AS contracts,
  MIN(target_value) AS lowest_target, MAX(target_value) AS highest_target, MAX(comparator) AS comparator
FROM ranked
GROUP BY provider, metric, statistic"""

TRACK_RECORD_POSTGRES = _TRACK_RECORD.format(
    providers="SELECT CAST(x AS uuid) AS id FROM jsonb_array_elements_text(CAST($1 AS jsonb)) AS x",
    metrics="SELECT x AS metric FROM jsonb_array_elements_text(CAST($2 AS jsonb)) AS x")
TRACK_RECORD_SQLITE = _TRACK_RECORD.format(
    providers="SELECT value AS id FROM json_each($1)", metrics="SELECT value AS metric FROM json_each($2)")


# --- attainment for scorecards ----------------------------------------------------------
#
# What a batch of providers measurably delivered in each period of a scorecard's window,
# for the ratings domain: $1 the providers (a JSON array of ids), $2 the periods (a JSON
# array of [number, start, end]), $3 and $4 the lowest and highest of the ids (the
# provider index narrows the contracts before the list is matched). Each engine reads
# the JSON with its own functions.
_JSON_IDS = {
    "postgres": "SELECT CAST(x AS uuid) AS id FROM jsonb_array_elements_text(CAST($1 AS jsonb)) AS x",
    "sqlite": "SELECT value AS id FROM json_each($1)",
}
_JSON_PERIODS = {
    "postgres": "SELECT CAST(x->>0 AS integer) AS k, CAST(x->>1 AS timestamptz) AS s, CAST(x->>2 AS timestamptz) AS e "
                "FROM jsonb_array_elements(CAST($2 AS jsonb)) AS x",
    "sqlite": "SELECT json_extract(value, '$[0]') AS k, json_extract(value, '$[1]') AS s, "
              "json_extract(value, '$[2]') AS e FROM json_each($2)",
}
# Measured windows (the latest version of each, met or breached) by the period their
# window ended in, (start, end].
_MEASURED_BY_PERIOD = """WITH wanted AS {materialized}({ids}), periods AS {materialized}({periods})
SELECT c.provider AS provider, p.k AS k, COUNT(*) AS measured,
  SUM(CASE WHEN m.outcome = 'met' THEN 1 ELSE 0 END) AS met
FROM sla_measurement AS m
JOIN sla_contract AS c ON c.id = m.contract
JOIN periods AS p ON m.window_end > p.s AND m.window_end <= p.e
WHERE c.provider >= $3 AND c.provider <= $4 AND c.provider IN (SELECT id FROM wanted)
  AND m.outcome IN ('met', 'breached')
  AND m.window_end > (SELECT MIN(s) FROM periods) AND m.window_end <= (SELECT MAX(e) FROM periods)
  AND NOT EXISTS (SELECT 1 FROM sla_measurement AS later WHERE later.target = m.target
                  AND later.window_start = m.window_start AND later.version > m.version)
GROUP BY c.provider, p.k"""
# Milestones by the period they were due in, [start, end), and how many of them had their
# first delivery by the due time.
_MILESTONES_BY_PERIOD = """WITH wanted AS {materialized}({ids}), periods AS {materialized}({periods})
SELECT c.provider AS provider, p.k AS k, COUNT(*) AS due,
  SUM(CASE WHEN s.submitted_at <= ms.due_at THEN 1 ELSE 0 END) AS on_time
FROM sla_milestone AS ms
JOIN sla_contract AS c ON c.id = ms.contract
JOIN periods AS p ON ms.due_at >= p.s AND ms.due_at < p.e
LEFT JOIN sla_milestone_submission AS s ON s.milestone = ms.id AND s.number = 1
WHERE c.provider >= $3 AND c.provider <= $4 AND c.provider IN (SELECT id FROM wanted)
  AND ms.due_at >= (SELECT MIN(s) FROM periods) AND ms.due_at < (SELECT MAX(e) FROM periods)
GROUP BY c.provider, p.k"""

MEASURED_BY_PERIOD_POSTGRES = _MEASURED_BY_PERIOD.format(
    ids=_JSON_IDS["postgres"], periods=_JSON_PERIODS["postgres"], materialized="MATERIALIZED ")
MEASURED_BY_PERIOD_SQLITE = _MEASURED_BY_PERIOD.format(
    ids=_JSON_IDS["sqlite"], periods=_JSON_PERIODS["sqlite"], materialized="")
MILESTONES_BY_PERIOD_POSTGRES = _MILESTONES_BY_PERIOD.format(
    ids=_JSON_IDS["postgres"], periods=_JSON_PERIODS["postgres"], materialized="MATERIALIZED ")
MILESTONES_BY_PERIOD_SQLITE = _MILESTONES_BY_PERIOD.format(
    ids=_JSON_IDS["sqlite"], periods=_JSON_PERIODS["sqlite"], materialized="")
