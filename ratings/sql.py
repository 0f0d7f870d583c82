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

from fuwu import sql as fuwu_sql
from fuwu.db import insert_statement
from fuwu.values import CATEGORIES
from ratings import provinces, states
from ratings.tables import Evaluation, Rating, Standing, TierApproval
from sla import sql as sla_sql

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
_RATINGS_BY_PERIOD = f"""WITH wanted AS {{materialized}}({{ids}}), periods AS {{materialized}}({{periods}})
SELECT r.provider AS provider, p.k AS k, COUNT(*) AS n, SUM(r.overall) AS total
FROM {Rating._meta.tablename} AS r
JOIN periods AS p ON r.created_at >= p.s AND r.created_at < p.e
WHERE r.provider >= $4 AND r.provider <= $5 AND r.provider IN (SELECT id FROM wanted) AND r.status <> 'hidden'
  AND ((r.status = 'published' AND r.published_at <= $3) OR r.publish_after <= $3)
GROUP BY r.provider, p.k"""
RATINGS_BY_PERIOD_POSTGRES = _RATINGS_BY_PERIOD.format(
    ids=fuwu_sql.JSON_IDS["postgres"], periods=fuwu_sql.JSON_PERIODS["postgres"], materialized="MATERIALIZED ")
RATINGS_BY_PERIOD_SQLITE = _RATINGS_BY_PERIOD.format(
    ids=fuwu_sql.JSON_IDS["sqlite"], periods=fuwu_sql.JSON_PERIODS["sqlite"], materialized="")


# --- the admins' analytics ------------------------------------------------------------------
#
# Providers (organisations of kind provider, not suspended) by province, city,
# category and tier, and the service-ecosystem index per province, aggregated here on
# both engines. A province is recognised from the organisation's province as given,
# trimmed and in lower case, among the spellings of ratings/data/province_population.csv
# (ratings.provinces), which also gives each division's census population. A
# provider's tier is the one it holds now: an approved, unexpired override, else its
# evaluated tier, else unrated (as `ratings.services.scorecards.provider_tiers`).

_DIVISIONS, _SPELLINGS = provinces.values_sql()
_CATEGORY_NAMES = ", ".join(f"('{name}')" for name in CATEGORIES)
# The approved, unexpired override of each provider that has one, the latest decided ($1 now).
_OVERRIDES = (
    "SELECT x.provider, x.tier FROM (SELECT t.provider, t.tier, "
    "ROW_NUMBER() OVER (PARTITION BY t.provider ORDER BY t.decided_at DESC) AS latest "
    f"FROM {TierApproval._meta.tablename} t WHERE t.kind = '{states.OVERRIDE}' AND t.status = '{states.APPROVED}' "
    "AND t.expires_at > $1) x WHERE x.latest = 1"
)
_PLACED_PROVIDERS = (
    f"WITH division(code, population) AS (VALUES {_DIVISIONS}), "
    f"spelling(name, code) AS (VALUES {_SPELLINGS}), "
    f"override AS ({_OVERRIDES}), "
    "provider AS (SELECT o.id, o.city, o.categories, sp.code, "
    "COALESCE(ov.tier, s.tier, 0) AS tier, s.composite "
    f"FROM ({fuwu_sql.organisations_by_place()}) o "
    "LEFT JOIN spelling sp ON sp.name = LOWER(TRIM(o.province)) "
    f"LEFT JOIN {Standing._meta.tablename} s ON s.provider = o.id "
    "LEFT JOIN override ov ON ov.provider = o.id "
    "WHERE o.kind = 'provider' AND NOT o.suspended)"
)
_BY_TIER = (
    "COUNT(*) AS providers, SUM(CASE WHEN p.tier = 6 THEN 1 ELSE 0 END) AS tier6, "
    "SUM(CASE WHEN p.tier = 5 THEN 1 ELSE 0 END) AS tier5, SUM(CASE WHEN p.tier = 4 THEN 1 ELSE 0 END) AS tier4, "
    "SUM(CASE WHEN p.tier = 3 THEN 1 ELSE 0 END) AS tier3, "
    "SUM(CASE WHEN p.tier NOT IN (3, 4, 5, 6) THEN 1 ELSE 0 END) AS unrated"
)

# The service-ecosystem index of every division (DESIGN.md section 6):
#   index = 0.3 x provider density + 0.4 x average market performance + 0.3 x paying merchant density,
# each term min-max normalised across the divisions of the file ((x - min) / (max - min); 0 for
# all when they are all equal). Provider density: providers per million residents. Average
# market performance: the mean composite score (0-100) of the division's providers at their
# latest evaluation (0 without an evaluated provider). Paying merchant density: merchants of the
# division with a contract both parties signed that ran in the window [$2, $1), per million
# residents. $1 now, $2 the window's start. Ordered by the index, highest first.
PROVINCE_ECOSYSTEM = (
    f"{_PLACED_PROVIDERS}, "
    f"by_division AS (SELECT p.code, {_BY_TIER}, COUNT(p.composite) AS evaluated, "
    "AVG(CAST(p.composite AS DOUBLE PRECISION)) AS performance FROM provider p WHERE p.code IS NOT NULL "
    "GROUP BY p.code), "
    "paying AS (SELECT sp.code, COUNT(*) AS merchants "
    f"FROM ({fuwu_sql.organisations_by_place()}) o JOIN spelling sp ON sp.name = LOWER(TRIM(o.province)) "
    f"WHERE o.kind = 'merchant' AND o.id IN (SELECT c.merchant FROM ({sla_sql.signed_contracts()}) c "
    "WHERE c.starts_at < $1 AND c.ends_at > $2) GROUP BY sp.code), "
    "term AS (SELECT d.code, d.population, COALESCE(b.providers, 0) AS providers, COALESCE(b.tier6, 0) AS tier6, "
    "COALESCE(b.tier5, 0) AS tier5, COALESCE(b.tier4, 0) AS tier4, COALESCE(b.tier3, 0) AS tier3, "
    "COALESCE(b.unrated, 0) AS unrated, COALESCE(b.evaluated, 0) AS evaluated, "
    "COALESCE(m.merchants, 0) AS paying_merchants, "
    "CAST(COALESCE(b.providers, 0) AS DOUBLE PRECISION) * 1000000 / d.population AS provider_density, "
    "COALESCE(b.performance, 0) AS performance, "
    "CAST(COALESCE(m.merchants, 0) AS DOUBLE PRECISION) * 1000000 / d.population AS merchant_density "
    "FROM division d LEFT JOIN by_division b ON b.code = d.code LEFT JOIN paying m ON m.code = d.code), "
    "span AS (SELECT term.*, MIN(provider_density) OVER () AS pd_low, MAX(provider_density) OVER () AS pd_high, "
    "MIN(performance) OVER () AS mp_low, MAX(performance) OVER () AS mp_high, "
    "MIN(merchant_density) OVER () AS md_low, MAX(merchant_density) OVER () AS md_high FROM term), "
    "normalised AS (SELECT span.*, "
    "CASE WHEN pd_high > pd_low THEN (provider_density - pd_low) / (pd_high - pd_low) ELSE 0 END AS provider_term, "
    "CASE WHEN mp_high > mp_low THEN (performance - mp_low) / (mp_high - mp_low) ELSE 0 END AS performance_term, "
    "CASE WHEN md_high > md_low THEN (merchant_density - md_low) / (md_high - md_low) ELSE 0 END AS merchant_term "
    "FROM span), "
    "scored AS (SELECT code, population, providers, tier6, tier5, tier4, tier3, unrated, evaluated, "
    "paying_merchants, provider_density, performance, merchant_density, provider_term, performance_term, "
    "merchant_term, 0.3 * provider_term + 0.4 * performance_term + 0.3 * merchant_term AS ecosystem_index "
    "FROM normalised) "
    "SELECT scored.*, ROW_NUMBER() OVER (ORDER BY ecosystem_index DESC, providers DESC, code) AS rank "
    "FROM scored ORDER BY rank"
)

# Providers by city (within the recognised province; code NULL when the province is not
# recognised), the city as first given among its spellings (trimmed, compared in lower case):
# $1 now, $2 rows. Most providers first; `cities` is how many there are in all.
PROVIDERS_BY_CITY = (
    f"{_PLACED_PROVIDERS}, by_city AS (SELECT p.code, MIN(TRIM(p.city)) AS city, {_BY_TIER} FROM provider p "
    "GROUP BY p.code, LOWER(TRIM(p.city))) "
    "SELECT by_city.*, ROW_NUMBER() OVER (ORDER BY providers DESC, city, code) AS rank, COUNT(*) OVER () AS cities "
    "FROM by_city ORDER BY rank LIMIT $2"
)

# Providers by service category (a provider listed in several counts in each): $1 now.
PROVIDERS_BY_CATEGORY = (
    f"{_PLACED_PROVIDERS}, category(name) AS (VALUES {_CATEGORY_NAMES})"
    f", by_category AS (SELECT g.name AS category, {_BY_TIER} FROM category g "
    "JOIN provider p ON p.categories LIKE '%\"' || g.name || '\"%' GROUP BY g.name) "
    "SELECT by_category.*, ROW_NUMBER() OVER (ORDER BY providers DESC, category) AS rank FROM by_category ORDER BY rank"
)

# Providers by the tier they hold now, with the share of all providers and how many have
# no recognised province, and the totals of both (`all_providers`, `all_unplaced`): $1 now.
# Highest tier first.
PROVIDERS_BY_TIER = (
    f"{_PLACED_PROVIDERS}, by_tier AS (SELECT CASE WHEN p.tier IN (3, 4, 5, 6) THEN p.tier ELSE 0 END AS tier, "
    "COUNT(*) AS providers, SUM(CASE WHEN p.code IS NULL THEN 1 ELSE 0 END) AS unplaced "
    "FROM provider p GROUP BY CASE WHEN p.tier IN (3, 4, 5, 6) THEN p.tier ELSE 0 END) "
    "SELECT tier, providers, unplaced, CAST(providers AS DOUBLE PRECISION) / SUM(providers) OVER () AS share, "
    "CAST(SUM(providers) OVER () AS BIGINT) AS all_providers, CAST(SUM(unplaced) OVER () AS BIGINT) AS all_unplaced "
    "FROM by_tier ORDER BY tier DESC"
)
