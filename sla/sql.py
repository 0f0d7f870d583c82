"""Every hand-written statement of the sla domain, in one place.

The metric statements compute the SLA metrics for many windows at once, each as of
its own moment T, with SQL aggregates and window functions that SQLite (3.25+) and
PostgreSQL both run (ROW_NUMBER, LAG, framed MIN/SUM, CASE), never by loading events
into Python. Times are the log's integer microseconds (`at_us`).

Set-based: every metric statement takes the windows to compute ("items") as one JSON
parameter, the table `items(item, scope_key, start_us, end_us, as_of, cal, shop,
attribution)`, and answers one row per item and metric, so that the evaluation job
computes a metric for all due contracts' windows in one statement instead of one
statement per contract and window. An item's events are those of its scope: a
contract's live events (scope_key the contract) or a shop's imported history
(scope_key the shop); every partition of a window function is per item.

Business time: each distinct coverage calendar of the items ("cal") is expanded in
Python into its UTC intervals of business time over the span the items' clocks run
in, cut into buckets of one width per calendar (the widest of a day, half a day, ...
down to a minute in which no bucket meets two intervals; `sla.metrics.bucket_rows`),
one row (s, e, carry) per bucket: the part of the interval it meets (s = e when none)
and the business time from the span's start to the bucket's start. The business time
before an instant t is B(t) = carry + max(0, min(t, e) - s) of t's bucket, and a sample
[t1, t2) lasts B(t2) - B(t1): integer microseconds, exactly the sum of its overlaps
with the intervals. The buckets are the second parameter: on SQLite a JSON table
`buckets(cal, bucket, s, e, carry)` joined by equality, on PostgreSQL one flat bigint
array read by position (no join for its planner to misjudge). The JSON is read with
each engine's own functions, so each statement exists in a SQLite and a PostgreSQL text,
and in a variant for a contract's live events and one for a shop's imported history:
all built here when the module loads (`METRIC_STATEMENTS`).
"""

from __future__ import annotations

from fuwu import sql as fuwu_sql
from sla import states
from sla.tables import ChatStep, Contract, ServiceEvent, StaleSteps

EVENTS = ServiceEvent._meta.tablename
STEPS = ChatStep._meta.tablename
STALE = StaleSteps._meta.tablename

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

# History import on PostgreSQL: a batch of lines takes its ids first, in line order
# (so that the log's order (at_us, id) is the file's order, whichever batch is written
# first), is copied (COPY) into a staging table of the transaction, then inserted from
# it in two statements, the orders apart (sla.services.events._insert_batch says why),
# each skipping lines already imported (same line_key) and orders already held (same
# order_key). $1: how many ids.
TAKE_EVENT_IDS = (f"SELECT array_agg(id ORDER BY id) AS ids FROM (SELECT nextval(pg_get_serial_sequence('{EVENTS}', "
                  "'id')) AS id FROM generate_series(1, $1::int)) AS taken")
STAGED_COLUMNS = ("id", *_EVENT_COLUMNS)
_STAGED = ", ".join(f'"{name}"' for name in STAGED_COLUMNS)
_STAGING = "sla_history_staging"
CREATE_HISTORY_STAGING = f"CREATE TEMP TABLE {_STAGING} ON COMMIT DROP AS SELECT {_STAGED} FROM {EVENTS} WITH NO DATA"
HISTORY_STAGING = _STAGING
_FROM_STAGING = f"INSERT INTO {EVENTS} ({_STAGED}) SELECT {_STAGED} FROM {_STAGING}"
INSERT_EVENTS_FROM_HISTORY_STAGING = f"{_FROM_STAGING} WHERE kind <> 'order_placed' ON CONFLICT DO NOTHING"
# In line order: of two lines of the batch with one order id, the first is kept.
INSERT_ORDERS_FROM_HISTORY_STAGING = (f"{_FROM_STAGING} WHERE kind = 'order_placed' ORDER BY line "
                                      "ON CONFLICT DO NOTHING")

# --- metric statements ----------------------------------------------------------------

# The events of an item's scope, for a join of the log `{alias}` to a row that has
# `scope_key`: `{owner}.scope_key`.
_SCOPE = {
    states.LIVE: "{alias}.contract = {owner}.scope_key AND {alias}.source = 'live'",
    states.HISTORY: "{alias}.shop = {owner}.scope_key AND {alias}.source = 'history'",
}

# $1: the items, [[item, scope key, start, end, T, cal, shop, attribution us, bucket width us,
# the cal's first bucket, the row of bucket 0 in $2 on PostgreSQL], ...].
_ITEMS = {
    "postgres": "SELECT (x->>0)::int AS item, (x->>1)::uuid AS scope_key, (x->>2)::bigint AS start_us, "
                "(x->>3)::bigint AS end_us, (x->>4)::bigint AS as_of, (x->>5)::int AS cal, (x->>6)::uuid AS shop, "
                "(x->>7)::bigint AS attribution, (x->>8)::bigint AS width, (x->>9)::bigint AS first_bucket, "
                "(x->>10)::bigint AS offset_row FROM jsonb_array_elements(CAST($1 AS jsonb)) AS x",
    "sqlite": "SELECT json_extract(value, '$[0]') AS item, json_extract(value, '$[1]') AS scope_key, "
              "json_extract(value, '$[2]') AS start_us, json_extract(value, '$[3]') AS end_us, "
              "json_extract(value, '$[4]') AS as_of, json_extract(value, '$[5]') AS cal, "
              "json_extract(value, '$[6]') AS shop, json_extract(value, '$[7]') AS attribution, "
              "json_extract(value, '$[8]') AS width, json_extract(value, '$[9]') AS first_bucket, "
              "json_extract(value, '$[10]') AS offset_row FROM json_each($1)",
}
# $2: the business-time buckets. SQLite: rows [[cal, bucket, s, e, carry], ...] as JSON,
# a table joined by equality (SQLite indexes it for the join). PostgreSQL: one flat
# bigint array [s, e, carry, s, e, carry, ...] of every cal's buckets in order, read
# by position (row = offset_row + t / width), so that no join exists for the planner
# to misjudge (it estimates JSON tables at 100 rows and would loop over them per
# sample); an array rather than JSON, read at a fixed offset without parsing text.
_BUCKETS = {
    "postgres": "",
    "sqlite": "buckets AS (SELECT json_extract(value, '$[0]') AS cal, json_extract(value, '$[1]') AS bucket, "
              "json_extract(value, '$[2]') AS s, json_extract(value, '$[3]') AS e, "
              "json_extract(value, '$[4]') AS carry FROM json_each($2)),\n",
}

# PostgreSQL inlines a CTE used once, and would then re-read the JSON for every row
# that joins it: MATERIALIZED builds `items` and `buckets` once. SQLite reads json_each
# into the join as it is.
_MATERIALIZED = {"postgres": "MATERIALIZED ", "sqlite": ""}


def _before(engine: str, t: str, bucket: str) -> str:
    """B(t): the business time before t, carry + the part of t's bucket's interval
    (s, e) before t (a bucket without business time has s = e)."""
    if engine == "postgres":  # arrays count from 1
        position = f"(3 * (samples.offset_row + {t} / samples.width))::int"
        return (f"(($2::bigint[])[{position} + 3] + GREATEST(0, LEAST({t}, ($2::bigint[])[{position} + 2]) "
                f"- ($2::bigint[])[{position} + 1]))")
    return f"({bucket}.carry + MAX(0, MIN({t}, {bucket}.e) - {bucket}.s))"


_BUCKET_JOINS = {
    "postgres": "",
    "sqlite": """
    LEFT JOIN buckets b1 ON b1.cal = samples.cal AND b1.bucket = samples.t1 / samples.width
    LEFT JOIN buckets b2 ON b2.cal = samples.cal AND b2.bucket = samples.t2 / samples.width""",
}
# A t1 before the buckets' span.
_UNCOVERED = {
    "postgres": "CASE WHEN samples.t1 / samples.width < samples.first_bucket THEN samples.t1 END",
    "sqlite": "CASE WHEN b1.cal IS NULL THEN samples.t1 END",
}


# The chat metrics in one pass over the conversations with a buyer message or a close
# in an item's window up to T: first response (metric 1), next response (2),
# resolution (3) and service attitude (4). Each conversation's buyer messages, agent
# replies and closes up to T, in log order (at_us, id), and apart from them (a
# partition of their own) its ratings. Each event knows how many buyer messages the
# conversation had up to it, the kind of the event before it and when the first buyer
# message came (one frame), and when the next reply or close came and the next close
# (or, for a rating, the next rating) after it (a second frame):
# - first response: the buyer message with buyer_count 1 in the window, to the next
#   reply or close, or T;
# - next response: a later buyer message right after a reply or close, the same way;
# - resolution: the conversation's last close up to T, if in the window and after a
#   buyer message, from the first buyer message;
# - service attitude: the last rating up to T of a conversation whose last close up
#   to T is in the window.
# A sample [t1, t2) lasts B(t2) - B(t1), each B from its bucket row (the module's
# docstring). `uncovered`: the earliest t1 before the buckets' span (a resolution
# from a conversation older than the span), for which the caller widens the span and
# asks again; its figures are then not used.
#
# Each chat event of the conversations in `events` (scope_key, id, kind, at_us,
# conversation, rating) with its place in its conversation, the columns described
# above; the chat statement's `ordered`, and the chat steps' source (below).
_ORDERED = """SELECT scope_key, id, kind, at_us, conversation, rating,
    SUM(CASE WHEN kind = 'buyer_message' THEN 1 ELSE 0 END) OVER ({partition} ORDER BY at_us, id) AS buyer_count,
    LAG(kind) OVER ({partition} ORDER BY at_us, id) AS previous_kind,
    MIN(CASE WHEN kind = 'buyer_message' THEN at_us END) OVER ({partition} ORDER BY at_us, id) AS first_buyer_us,
    MIN(CASE WHEN kind <> 'buyer_message' THEN at_us END) OVER ({following}) AS stop_us,
    MIN(CASE WHEN kind IN ('conversation_closed', 'chat_rated') THEN at_us END) OVER ({following}) AS next_same_us
  FROM events"""
# The events' partition: a conversation's ratings apart from its other events.
_PARTITION = "PARTITION BY scope_key, conversation, CASE WHEN kind = 'chat_rated' THEN 1 ELSE 0 END"
_FOLLOWING = _PARTITION + " ORDER BY at_us, id ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING"
# An ordered buyer message that starts a first response (the conversation's first) or
# a next response (right after a reply or a close).
_STARTS_RESPONSE = ("kind = 'buyer_message' AND (buyer_count = 1 "
                    "OR previous_kind IN ('agent_reply', 'conversation_closed'))")

_CHAT_HEAD = """WITH items AS {materialized}({items}),
{buckets_cte}"""
# The log's way: the conversations that `{touched_from}` finds (with `items` and the
# log as `ev`), their events in order, their samples and ratings.
_CHAT_FROM_LOG = """touched AS (
  SELECT items.scope_key, ev.conversation, MAX(items.as_of) AS as_of
  FROM {touched_from}
    AND ev.kind IN ('buyer_message', 'conversation_closed')
    AND ev.at_us >= items.start_us AND ev.at_us < items.end_us AND ev.at_us <= items.as_of
  GROUP BY items.scope_key, ev.conversation
),
events AS (
  SELECT touched.scope_key, ev.id, ev.kind, ev.at_us, ev.conversation, ev.rating
  FROM touched JOIN {table} ev ON {scope_touched} AND ev.conversation = touched.conversation
    AND ev.at_us <= touched.as_of
    AND (ev.kind IN ('buyer_message', 'agent_reply', 'conversation_closed')
         OR (ev.kind = 'chat_rated' AND ev.rating IS NOT NULL))
),
ordered AS {materialized}(
  """ + _ORDERED + """
),
log_samples AS (
  SELECT items.item, items.cal, items.width, items.first_bucket, items.offset_row,
    CASE WHEN kind = 'conversation_closed' THEN 3 WHEN buyer_count = 1 THEN 1 ELSE 2 END AS metric,
    CASE WHEN kind = 'conversation_closed' THEN first_buyer_us ELSE at_us END AS t1,
    CASE WHEN kind = 'conversation_closed' THEN at_us
         WHEN stop_us IS NULL OR stop_us > items.as_of THEN items.as_of ELSE stop_us END AS t2
  FROM ordered JOIN items ON items.scope_key = ordered.scope_key
    AND ordered.at_us >= items.start_us AND ordered.at_us < items.end_us AND ordered.at_us <= items.as_of
  WHERE (""" + _STARTS_RESPONSE + """)
    OR (kind = 'conversation_closed' AND (next_same_us IS NULL OR next_same_us > items.as_of)
        AND first_buyer_us IS NOT NULL)
),
log_rated AS (
  SELECT items.item, ordered.conversation,
    MAX(CASE WHEN kind = 'conversation_closed' THEN at_us END) AS close_at,
    MAX(CASE WHEN kind = 'chat_rated' THEN rating END) AS rating
  FROM ordered JOIN items ON items.scope_key = ordered.scope_key AND ordered.at_us <= items.as_of
  WHERE ordered.kind IN ('conversation_closed', 'chat_rated')
    AND (ordered.next_same_us IS NULL OR ordered.next_same_us > items.as_of)
    AND (ordered.kind = 'chat_rated' OR (ordered.at_us >= items.start_us AND ordered.at_us < items.end_us))
  GROUP BY items.item, ordered.conversation
),
"""
# The samples' business time, the ratings, and per item and metric the count, sum and
# percentiles (nearest rank).
_CHAT_TAIL = """samples AS ({samples}),
sample_values AS (
  SELECT samples.item, samples.metric, {b2} - {b1} AS v, {uncovered} AS uncovered
  FROM samples{bucket_joins}
  UNION ALL
  SELECT item, 4 AS metric, rating AS v, NULL AS uncovered
  FROM log_rated WHERE close_at IS NOT NULL AND rating IS NOT NULL{more_ratings}
){percentiles}"""
# Per item and metric: count, sum, and the p50 and p90 by nearest rank (the value at
# rank ceil(p * n / 100) in ascending order). PostgreSQL takes them from each group's
# sorted array (one sort, no window passes); SQLite numbers the rows.
_PERCENTILES = {
    "postgres": """
SELECT item, metric, COUNT(*) AS n, SUM(v) AS total,
  (array_agg(v ORDER BY v))[((50 * COUNT(*) + 99) / 100)::int] AS p50,
  (array_agg(v ORDER BY v))[((90 * COUNT(*) + 99) / 100)::int] AS p90,
  NULL AS hits, MIN(uncovered) AS uncovered
FROM sample_values GROUP BY item, metric""",
    "sqlite": """,
ordered_values AS (
  SELECT item, metric, v, uncovered, ROW_NUMBER() OVER (PARTITION BY item, metric ORDER BY v) AS rn,
    COUNT(*) OVER (PARTITION BY item, metric) AS n
  FROM sample_values
)
SELECT item, metric, COUNT(*) AS n, SUM(v) AS total,
  MAX(CASE WHEN rn = (50 * n + 99) / 100 THEN v END) AS p50,
  MAX(CASE WHEN rn = (90 * n + 99) / 100 THEN v END) AS p90,
  NULL AS hits, MIN(uncovered) AS uncovered
FROM ordered_values GROUP BY item, metric""",
}
# A shop's history: every conversation the log's way.
_CHAT = (_CHAT_HEAD + _CHAT_FROM_LOG.replace("{touched_from}", "items JOIN {table} ev ON {scope_items}")
         + _CHAT_TAIL.replace("{samples}", "SELECT * FROM log_samples").replace("{more_ratings}", ""))

# --- chat steps ---------------------------------------------------------------------
#
# The log's way orders every touched conversation's events again at each run, and
# that sort and its window passes are most of an evaluation's time. A contract's live
# conversations keep the result instead: their chat steps (`sla_chat_step`), each a
# buyer message that starts a first or next response, a close or a rating, with what
# its conversation's other events say of it: a close's first buyer message, a buyer
# message's next reply or close (its stop), a close's or rating's next one of its kind.
# These are the `ordered` columns above computed over the whole log instead of the
# events up to T: each depends only on the events before it, or is the first event of
# a kind after it, which the metric statement compares with T. So a step holds at any
# T, and a late event changes only its own conversation's steps.
#
# Appending a chat event to a contract's conversation marks the conversation stale
# (`sla_stale_steps`) in the appending transaction: an upsert that bumps `changes`,
# so that it holds the row until that transaction ends. The rebuild (a job, and the
# evaluation before it reads) takes stale conversations it can lock (SKIP LOCKED: not
# those whose appenders are still open), deletes their marks and rebuilds their steps
# from the log, one rebuilder at a time. An append that the rebuild could not see
# marks its conversation again, after the rebuild's delete. So at any snapshot, a
# conversation either is marked stale or has steps that hold all its committed events:
# the live chat statement reads the steps of the others and the log's way for the
# stale ones, and is exact whatever the rebuild has done. The shop's imported history
# is read rarely (a report's baseline) and in bulk: it keeps the log's way.
#
# $1 (the JSON variants): the conversations, [[contract, conversation], ...].
_STEP_PAIRS = {
    "postgres": "SELECT DISTINCT (x->>0)::uuid AS contract, x->>1 AS conversation "
                "FROM jsonb_array_elements(CAST($1 AS jsonb)) AS x",
    "sqlite": "SELECT DISTINCT json_extract(value, '$[0]') AS contract, json_extract(value, '$[1]') AS conversation "
              "FROM json_each($1)",
    # every contract's live conversations (a migration's backfill, the bench's data)
    "all": f"SELECT DISTINCT contract, conversation FROM {EVENTS} "
           "WHERE source = 'live' AND contract IS NOT NULL AND conversation IS NOT NULL",
}


def mark_stale_select(contract: str, conversation: str, source: str) -> str:
    """A fragment for a higher domain's own statement that appends chat events: marks
    the (contract, conversation) of each row of `source` (its FROM clause and WHERE)
    stale, as `MARK_STALE_*` does (the chat's batch statement)."""
    return (f"INSERT INTO {STALE} (contract, conversation) SELECT DISTINCT {contract}, {conversation} "
            f"FROM {source} ON CONFLICT (contract, conversation) DO UPDATE SET changes = {STALE}.changes + 1")


# The pairs in $1 (SQLite needs a WHERE before an upsert's ON CONFLICT).
MARK_STALE_POSTGRES = mark_stale_select("contract", "conversation", f"({_STEP_PAIRS['postgres']}) AS pairs")
MARK_STALE_SQLITE = mark_stale_select("contract", "conversation", f"({_STEP_PAIRS['sqlite']}) AS pairs WHERE true")
# Up to $1 stale conversations, oldest marks first, their marks deleted; on PostgreSQL
# only those no open transaction holds.
TAKE_STALE_POSTGRES = (f"DELETE FROM {STALE} WHERE id IN (SELECT id FROM {STALE} ORDER BY id LIMIT $1 "
                       "FOR UPDATE SKIP LOCKED) RETURNING contract, conversation")
TAKE_STALE_SQLITE = (f"DELETE FROM {STALE} WHERE id IN (SELECT id FROM {STALE} ORDER BY id LIMIT $1) "
                     "RETURNING contract, conversation")
# One rebuilder at a time (PostgreSQL): false when another holds it, until its commit.
REBUILDER_LOCK = "SELECT pg_try_advisory_xact_lock(hashtext('sla.rebuild_chat_steps')) AS taken"

_STEP_COLUMNS = "id, contract, conversation, kind, at_us, step, first_buyer_us, stop_us, next_us, rating"
_INSERT_STEPS = """WITH pairs AS ({pairs}),
events AS (
  SELECT ev.contract AS scope_key, ev.id, ev.kind, ev.at_us, ev.conversation, ev.rating
  FROM pairs JOIN {table} ev ON ev.contract = pairs.contract AND ev.conversation = pairs.conversation
    AND ev.source = 'live'
    AND (ev.kind IN ('buyer_message', 'agent_reply', 'conversation_closed')
         OR (ev.kind = 'chat_rated' AND ev.rating IS NOT NULL))
)
INSERT INTO {steps} ({columns})
SELECT id, scope_key, conversation, kind, at_us,
  CASE kind WHEN 'buyer_message' THEN CASE WHEN buyer_count = 1 THEN 1 ELSE 2 END
    WHEN 'conversation_closed' THEN 3 ELSE 4 END,
  CASE WHEN kind = 'conversation_closed' THEN first_buyer_us END,
  CASE WHEN kind = 'buyer_message' THEN stop_us END,
  CASE WHEN kind <> 'buyer_message' THEN next_same_us END,
  rating
FROM (""" + _ORDERED + """) ordered
WHERE kind IN ('conversation_closed', 'chat_rated') OR (""" + _STARTS_RESPONSE + """)"""
_DELETE_STEPS = """WITH pairs AS ({pairs})
DELETE FROM {steps} WHERE (contract, conversation) IN (SELECT contract, conversation FROM pairs)"""


def _steps_statements(pairs: str) -> tuple[str, str]:
    return (_DELETE_STEPS.format(pairs=pairs, steps=STEPS),
            _INSERT_STEPS.format(pairs=pairs, steps=STEPS, columns=_STEP_COLUMNS, table=EVENTS,
                                 partition=_PARTITION, following=_FOLLOWING))


# Rebuild the steps of the conversations in $1: delete them, then insert them anew.
DELETE_STEPS_POSTGRES, INSERT_STEPS_POSTGRES = _steps_statements(_STEP_PAIRS["postgres"])
DELETE_STEPS_SQLITE, INSERT_STEPS_SQLITE = _steps_statements(_STEP_PAIRS["sqlite"])
# The same for every contract's conversations, and no marks left: no placeholders.
REBUILD_ALL_STEPS = (*_steps_statements(_STEP_PAIRS["all"]), f"DELETE FROM {STALE}")

# A contract's live chat metrics: the steps of its conversations that are not stale,
# the log's way for those that are (the property test holds both to one reference):
# - first and next response: the steps 1 and 2 in the window up to T, to their stop,
#   or T if none came by T;
# - resolution: the close in the window up to T with no close after it up to T (the
#   conversation's last), from the first buyer message;
# - service attitude: such a close's conversation's rating up to T with no rating after
#   it up to T.
_CHAT_STEPS = """stale AS {materialized}(
  SELECT DISTINCT items.scope_key, marked.conversation
  FROM items JOIN {stale} marked ON marked.contract = items.scope_key
),
steps AS (
  SELECT items.item, items.as_of, items.cal, items.width, items.first_bucket, items.offset_row, items.scope_key,
    st.step, st.conversation, st.at_us, st.first_buyer_us, st.stop_us, st.next_us
  FROM items JOIN {steps} st ON st.contract = items.scope_key AND st.step IN (1, 2, 3)
    AND st.at_us >= items.start_us AND st.at_us < items.end_us AND st.at_us <= items.as_of
  WHERE NOT EXISTS (SELECT 1 FROM stale WHERE stale.scope_key = st.contract AND stale.conversation = st.conversation)
),
closes AS (
  SELECT * FROM steps WHERE step = 3 AND (next_us IS NULL OR next_us > as_of)
),
step_samples AS (
  SELECT item, cal, width, first_bucket, offset_row, step AS metric, at_us AS t1,
    CASE WHEN stop_us IS NULL OR stop_us > as_of THEN as_of ELSE stop_us END AS t2
  FROM steps WHERE step IN (1, 2)
  UNION ALL
  SELECT item, cal, width, first_bucket, offset_row, 3 AS metric, first_buyer_us AS t1, at_us AS t2
  FROM closes WHERE first_buyer_us IS NOT NULL
),
step_rated AS (
  SELECT closes.item, rated.rating
  FROM closes JOIN {steps} rated ON rated.contract = closes.scope_key AND rated.conversation = closes.conversation
    AND rated.step = 4 AND rated.at_us <= closes.as_of AND (rated.next_us IS NULL OR rated.next_us > closes.as_of)
),
"""
_CHAT_LIVE = (_CHAT_HEAD + _CHAT_STEPS
              + _CHAT_FROM_LOG.replace("{touched_from}", "stale JOIN items ON items.scope_key = stale.scope_key "
                                       "JOIN {table} ev ON ev.contract = stale.scope_key AND ev.source = 'live' "
                                       "AND ev.conversation = stale.conversation")
              + _CHAT_TAIL.replace("{samples}", "SELECT * FROM log_samples UNION ALL SELECT * FROM step_samples")
              .replace("{more_ratings}", "\n  UNION ALL\n  SELECT item, 4 AS metric, rating AS v, NULL AS uncovered "
                                         "FROM step_rated"))

# Inquiry conversion (metric 5): buyers with a buyer message in the window up to T,
# each from its first such message f; converted by an order of the item's shop in the
# same source from that buyer in [f, f + attribution) and up to T.
_CONVERSION = """WITH items AS {materialized}({items}),
chatted AS (
  SELECT items.item, ev.buyer, MIN(ev.at_us) AS f
  FROM items JOIN {table} ev ON {scope_items} AND ev.kind = 'buyer_message' AND ev.buyer IS NOT NULL
    AND ev.at_us >= items.start_us AND ev.at_us < items.end_us AND ev.at_us <= items.as_of
  GROUP BY items.item, ev.buyer
)
SELECT chatted.item, 5 AS metric, COUNT(*) AS n, NULL AS total, NULL AS p50, NULL AS p90,
  COALESCE(SUM(CASE WHEN EXISTS (
    SELECT 1 FROM {table} orders
    WHERE orders.shop = items.shop AND orders.source = '{source}' AND orders.kind = 'order_placed'
      AND orders.buyer = chatted.buyer AND orders.at_us >= chatted.f AND orders.at_us < chatted.f + items.attribution
      AND orders.at_us <= items.as_of) THEN 1 ELSE 0 END), 0) AS hits
FROM chatted JOIN items ON items.item = chatted.item GROUP BY chatted.item"""

# Milestone on-time (metric 6): milestones whose due time (from their latest
# milestone_created event up to T) is in the window and up to T; on time if first
# submitted by then.
_ON_TIME = """WITH items AS {materialized}({items}),
events AS (
  SELECT items.item, ev.id, ev.kind, ev.at_us, ev.milestone, ev.due_us
  FROM items JOIN {table} ev ON {scope_items} AND ev.at_us <= items.as_of
    AND ev.kind IN ('milestone_created', 'milestone_submitted')
),
created AS (
  SELECT item, milestone, due_us,
    ROW_NUMBER() OVER (PARTITION BY item, milestone ORDER BY at_us DESC, id DESC) AS last_rank
  FROM events WHERE kind = 'milestone_created'
),
due AS (
  SELECT created.item, created.milestone, created.due_us FROM created JOIN items ON items.item = created.item
  WHERE last_rank = 1 AND due_us >= items.start_us AND due_us < items.end_us AND due_us <= items.as_of
),
submitted AS (
  SELECT item, milestone, MIN(at_us) AS first_us FROM events WHERE kind = 'milestone_submitted'
  GROUP BY item, milestone
)
SELECT due.item, 6 AS metric, COUNT(*) AS n, NULL AS total, NULL AS p50, NULL AS p90,
  COALESCE(SUM(CASE WHEN submitted.first_us <= due.due_us THEN 1 ELSE 0 END), 0) AS hits
FROM due LEFT JOIN submitted ON submitted.item = due.item AND submitted.milestone = due.milestone
GROUP BY due.item"""

# First-pass acceptance (metric 7): milestones first accepted in the window up to T;
# first-pass if no rejection came before that acceptance in log order.
_FIRST_PASS = """WITH items AS {materialized}({items}),
events AS (
  SELECT items.item, ev.id, ev.kind, ev.at_us, ev.milestone
  FROM items JOIN {table} ev ON {scope_items} AND ev.at_us <= items.as_of
    AND ev.kind IN ('milestone_accepted', 'milestone_rejected')
),
accepted AS (
  SELECT item, id, milestone, at_us, ROW_NUMBER() OVER (PARTITION BY item, milestone ORDER BY at_us, id) AS first_rank
  FROM events WHERE kind = 'milestone_accepted'
)
SELECT accepted.item, 7 AS metric, COUNT(*) AS n, NULL AS total, NULL AS p50, NULL AS p90,
  COALESCE(SUM(CASE WHEN NOT EXISTS (
    SELECT 1 FROM events rejections
    WHERE rejections.item = accepted.item AND rejections.kind = 'milestone_rejected'
      AND rejections.milestone = accepted.milestone
      AND (rejections.at_us < accepted.at_us OR (rejections.at_us = accepted.at_us AND rejections.id < accepted.id))
  ) THEN 1 ELSE 0 END), 0) AS hits
FROM accepted JOIN items ON items.item = accepted.item
WHERE first_rank = 1 AND accepted.at_us >= items.start_us AND accepted.at_us < items.end_us
GROUP BY accepted.item"""

def _build() -> dict[tuple[str, str, str], str]:
    built = {}
    for source, scope in _SCOPE.items():
        for engine in _ITEMS:
            def text(template: str) -> str:
                return template.format(
                    table=EVENTS, source=source, items=_ITEMS[engine], buckets_cte=_BUCKETS[engine],
                    materialized=_MATERIALIZED[engine], partition=_PARTITION, following=_FOLLOWING,
                    b1=_before(engine, "samples.t1", "b1"), b2=_before(engine, "samples.t2", "b2"),
                    bucket_joins=_BUCKET_JOINS[engine], uncovered=_UNCOVERED[engine],
                    scope_items=scope.format(alias="ev", owner="items"),
                    scope_touched=scope.format(alias="ev", owner="touched"), steps=STEPS, stale=STALE,
                    percentiles=_PERCENTILES[engine])
            built[("chat", source, engine)] = text(_CHAT_LIVE if source == states.LIVE else _CHAT)
            built[(states.INQUIRY_CONVERSION_RATE, source, engine)] = text(_CONVERSION)
            built[(states.MILESTONE_ON_TIME_RATE, source, engine)] = text(_ON_TIME)
            built[(states.FIRST_PASS_ACCEPTANCE_RATE, source, engine)] = text(_FIRST_PASS)
    return built


# (family, source, engine) -> statement text; engine is "sqlite" or "postgres"; the
# family is "chat" (first response, next response, resolution and service attitude
# in one statement), or the metric's name for the others. Each
# statement's rows carry the item and the metric's number (sla.metrics.METRIC_NUMBERS).
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
    providers=fuwu_sql.JSON_IDS["postgres"],
    metrics="SELECT x AS metric FROM jsonb_array_elements_text(CAST($2 AS jsonb)) AS x")
TRACK_RECORD_SQLITE = _TRACK_RECORD.format(
    providers=fuwu_sql.JSON_IDS["sqlite"], metrics="SELECT value AS metric FROM json_each($2)")


# --- attainment for scorecards ----------------------------------------------------------
#
# What a batch of providers measurably delivered in each period of a scorecard's window,
# for the ratings domain: $1 the providers (a JSON array of ids), $2 the periods (a JSON
# array of [number, start, end]), $3 and $4 the lowest and highest of the ids (the
# provider index narrows the contracts before the list is matched). Each engine reads
# the JSON with its own functions (fuwu.sql.JSON_IDS, JSON_PERIODS).
#
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
    ids=fuwu_sql.JSON_IDS["postgres"], periods=fuwu_sql.JSON_PERIODS["postgres"], materialized="MATERIALIZED ")
MEASURED_BY_PERIOD_SQLITE = _MEASURED_BY_PERIOD.format(
    ids=fuwu_sql.JSON_IDS["sqlite"], periods=fuwu_sql.JSON_PERIODS["sqlite"], materialized="")
MILESTONES_BY_PERIOD_POSTGRES = _MILESTONES_BY_PERIOD.format(
    ids=fuwu_sql.JSON_IDS["postgres"], periods=fuwu_sql.JSON_PERIODS["postgres"], materialized="MATERIALIZED ")
MILESTONES_BY_PERIOD_SQLITE = _MILESTONES_BY_PERIOD.format(
    ids=fuwu_sql.JSON_IDS["sqlite"], periods=fuwu_sql.JSON_PERIODS["sqlite"], materialized="")


# --- the evaluation job -----------------------------------------------------------------

# The last late event of each closed window, for all due contracts at once: $1 the
# windows, [[item, contract, shop, window start, window end, horizon], ...]. Late are
# the events after the window's end and up to its horizon that can change its figures:
# a reply, close or rating in a conversation with a buyer message or close in the
# window, an order of a buyer who chatted in the window, any milestone event.
_LATE_WINDOWS = {
    "postgres": "SELECT (x->>0)::int AS item, (x->>1)::uuid AS contract, (x->>2)::uuid AS shop, "
                "(x->>3)::bigint AS start_us, (x->>4)::bigint AS end_us, (x->>5)::bigint AS horizon "
                "FROM jsonb_array_elements(CAST($1 AS jsonb)) AS x",
    "sqlite": "SELECT json_extract(value, '$[0]') AS item, json_extract(value, '$[1]') AS contract, "
              "json_extract(value, '$[2]') AS shop, json_extract(value, '$[3]') AS start_us, "
              "json_extract(value, '$[4]') AS end_us, json_extract(value, '$[5]') AS horizon FROM json_each($1)",
}
_LATE = """WITH windows AS {materialized}({windows}),
late AS (
  SELECT windows.item, ev.at_us FROM windows JOIN {table} ev ON ev.contract = windows.contract
    AND ev.source = 'live' AND ev.kind IN ('agent_reply', 'conversation_closed', 'chat_rated')
    AND ev.at_us >= windows.end_us AND ev.at_us <= windows.horizon
  WHERE EXISTS (
    SELECT 1 FROM {table} inside WHERE inside.contract = windows.contract AND inside.source = 'live'
      AND inside.conversation = ev.conversation AND inside.kind IN ('buyer_message', 'conversation_closed')
      AND inside.at_us >= windows.start_us AND inside.at_us < windows.end_us)
  UNION ALL
  SELECT windows.item, ev.at_us FROM windows JOIN {table} ev ON ev.shop = windows.shop
    AND ev.source = 'live' AND ev.kind = 'order_placed'
    AND ev.at_us >= windows.end_us AND ev.at_us <= windows.horizon
  WHERE EXISTS (
    SELECT 1 FROM {table} inside WHERE inside.contract = windows.contract AND inside.source = 'live'
      AND inside.kind = 'buyer_message' AND inside.buyer = ev.buyer
      AND inside.at_us >= windows.start_us AND inside.at_us < windows.end_us)
  UNION ALL
  SELECT windows.item, ev.at_us FROM windows JOIN {table} ev ON ev.contract = windows.contract
    AND ev.source = 'live'
    AND ev.kind IN ('milestone_created', 'milestone_submitted', 'milestone_accepted', 'milestone_rejected')
    AND ev.at_us >= windows.end_us AND ev.at_us <= windows.horizon
)
SELECT item, MAX(at_us) AS last FROM late GROUP BY item"""
LATE_EVENTS_POSTGRES = _LATE.format(materialized="MATERIALIZED ", windows=_LATE_WINDOWS["postgres"], table=EVENTS)
LATE_EVENTS_SQLITE = _LATE.format(materialized="", windows=_LATE_WINDOWS["sqlite"], table=EVENTS)


# --- service attitude's standing among the category's providers ---------------------------

_CONTRACTS = Contract._meta.tablename
# Each provider's service attitude over a window [$2, $3) as of $4 across its contracts
# in the category $1: the conversations whose last close up to T is in the window, each
# with its latest rating up to T (unrated ones left out), as the count and the sum of
# the ratings per provider (the mean is total / n). Every provider with such a
# conversation is measured in that window.
PEER_ATTITUDE = f"""WITH peers AS (
  SELECT id AS contract, provider FROM {_CONTRACTS} WHERE category = $1
),
closed AS (
  SELECT DISTINCT peers.provider, ev.contract, ev.conversation
  FROM peers JOIN {EVENTS} ev ON ev.contract = peers.contract AND ev.source = 'live'
    AND ev.kind = 'conversation_closed' AND ev.at_us >= $2 AND ev.at_us < $3 AND ev.at_us <= $4
),
last_closed AS (
  SELECT provider, contract, conversation FROM closed
  WHERE NOT EXISTS (
    SELECT 1 FROM {EVENTS} later WHERE later.contract = closed.contract AND later.source = 'live'
      AND later.conversation = closed.conversation AND later.kind = 'conversation_closed'
      AND later.at_us >= $3 AND later.at_us <= $4)
),
rated AS (
  SELECT provider, (
    SELECT r.rating FROM {EVENTS} r WHERE r.contract = last_closed.contract AND r.source = 'live'
      AND r.conversation = last_closed.conversation AND r.kind = 'chat_rated' AND r.rating IS NOT NULL
      AND r.at_us <= $4
    ORDER BY r.at_us DESC, r.id DESC LIMIT 1) AS rating
  FROM last_closed
)
SELECT provider, COUNT(*) AS n, SUM(rating) AS total FROM rated WHERE rating IS NOT NULL GROUP BY provider"""


# --- the evaluation job's read transaction (PostgreSQL) -------------------------------------

# For the rest of the job's read transaction only: sorts and the chat statement's
# materialised window in memory instead of temporary files (the default 4 MB spills a
# month of 100 contracts' events, 850,000 rows, to disk: half the statement's time),
# and no JIT compilation (well under a second of work per statement, compiled anew each
# time). The transaction ends and the settings with it.
BULK_READ_SETTINGS = "SELECT set_config('work_mem', '256MB', true), set_config('jit', 'off', true)"


# --- capacity committed on running contracts --------------------------------------------

# Contracts that hold their provider's people: awarded and waiting for signatures, or active.
_RUNNING = ", ".join(f"'{status}'" for status in (states.PENDING_SIGNATURE, states.ACTIVE))
_CUSTOMER_SERVICE = ", ".join(f"'{category}'" for category in states.CUSTOMER_SERVICE_CATEGORIES)


def committed_seats(provider: str, customer_service_only: str) -> str:
    """A scalar subquery for other domains' rankings (the tender recommendations, via
    TenderHooks.committed_seats): the seats the provider whose id is the SQL
    expression `provider` has committed on its running contracts; where the SQL
    boolean `customer_service_only` holds, on customer-service contracts only (the
    agents' seats). No placeholders of its own."""
    return (f"(SELECT COALESCE(SUM(k.seats), 0) FROM {_CONTRACTS} k WHERE k.provider = {provider} "
            f"AND k.status IN ({_RUNNING}) AND (NOT {customer_service_only} OR k.category IN ({_CUSTOMER_SERVICE})))")
