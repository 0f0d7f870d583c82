"""Every hand-written statement of the ratings domain, in one place (`$n`
placeholders; column lists from the Piccolo tables; run on both engines by
tests/integration/test_hand_written_sql.py).

The scorecard's figures are aggregates over a batch of providers; the query builder
writes most of them well (COUNT, SUM, GROUP BY over indexed ranges). Written by hand
are the ratings by period (one statement for every period of the window, where the
query builder needed one a period) and what the evaluation job stores for a whole
batch at once, idempotently whichever process runs it: each provider's standing row
made once, an evaluation stored once per provider and moment, the standing moved
once.
"""

from __future__ import annotations

from fuwu.db import insert_statement
from ratings.tables import Evaluation, Rating, Standing

# A provider's standing row, made once (a second insert does nothing): $1 id, $2
# provider, $3 now.
ENSURE_STANDING = insert_statement(Standing, {
    "id": "$1", "provider": "$2", "tier": "0", "at_risk": "FALSE", "below_count": "0", "composite": "NULL",
    "pending_tier": "NULL", "pending_requested_at": "NULL", "evaluated_as_of": "NULL", "updated_at": "$3",
}, "ON CONFLICT (provider) DO NOTHING")

# The evaluations of a batch, stored with executemany: $1 id, $2 provider, $3 as_of, $4
# key, $5-$8 the dimensions, $9 composite, $10 tier before, $11 tier after, $12 at
# risk, $13 explanation, $14 computed at. The transaction holds the batch's standing
# rows (FOR UPDATE on PostgreSQL; SQLite's write lock) and stores only for providers
# whose standing is not yet evaluated at this moment, so a second process waits, then
# finds them done; the unique key is the last guard: a second store of one provider's
# evaluation at one moment does nothing.
STORE_EVALUATION = insert_statement(Evaluation, {
    "id": "$1", "provider": "$2", "as_of": "$3", "key": "$4", "operating": "$5", "brand": "$6", "service": "$7",
    "growth": "$8", "composite": "$9", "tier_before": "$10", "tier_after": "$11", "at_risk": "$12",
    "explanation": "$13", "computed_at": "$14",
}, "ON CONFLICT (key) DO NOTHING")

# Where an evaluation leaves a provider's standing (executemany, in the same
# transaction): $1 provider, $2 tier, $3 at risk, $4 evaluations below in a row, $5
# composite, $6 pending tier, $7 pending since, $8 evaluated as of, $9 now. Only a
# standing evaluated before this moment moves.
MOVE_STANDING = (
    f"UPDATE {Standing._meta.tablename} SET tier = $2, at_risk = $3, below_count = $4, composite = $5, "
    "pending_tier = $6, pending_requested_at = $7, evaluated_as_of = $8, updated_at = $9 "
    "WHERE provider = $1 AND (evaluated_as_of IS NULL OR evaluated_as_of < $8)"
)

# Merchants' counted ratings of a batch of providers by period of the window: $1 the
# providers (a JSON array of ids), $2 the periods (a JSON array of [number, start,
# end]), $3 the moment: counted are ratings not hidden and published by then (both
# sides wrote, or 14 days passed); $4 and $5 the lowest and highest of the providers'
# ids, so that the provider index narrows the rows before the list is matched. Each
# engine reads the JSON with its own functions.
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
_RATINGS_BY_PERIOD = f"""WITH wanted AS {{materialized}}({{ids}}), periods AS {{materialized}}({{periods}})
SELECT r.provider AS provider, p.k AS k, COUNT(*) AS n, SUM(r.overall) AS total
FROM {Rating._meta.tablename} AS r
JOIN periods AS p ON r.created_at >= p.s AND r.created_at < p.e
WHERE r.provider >= $4 AND r.provider <= $5 AND r.provider IN (SELECT id FROM wanted) AND r.status <> 'hidden'
  AND ((r.status = 'published' AND r.published_at <= $3) OR r.publish_after <= $3)
GROUP BY r.provider, p.k"""
RATINGS_BY_PERIOD_POSTGRES = _RATINGS_BY_PERIOD.format(
    ids=_JSON_IDS["postgres"], periods=_JSON_PERIODS["postgres"], materialized="MATERIALIZED ")
RATINGS_BY_PERIOD_SQLITE = _RATINGS_BY_PERIOD.format(
    ids=_JSON_IDS["sqlite"], periods=_JSON_PERIODS["sqlite"], materialized="")
