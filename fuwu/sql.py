"""Every hand-written statement of the shell, in one place.

Hand-written where a benchmark showed Piccolo's query building costing more than the
database for statements that nearly every request runs (see `fuwu.db.fetch`). One
style: PostgreSQL's `$n` placeholders (turned into `?n` on SQLite), names that say
what each does, column lists taken from the Piccolo tables. Other domains never name
these tables: they call the shell's functions, or compose the fragments below.
`tests/integration/test_hand_written_sql.py` runs every statement on both engines and
checks each one that has a query-builder equivalent against it.
"""

from __future__ import annotations

from fuwu.db import insert_statement
from fuwu.tables import (ApiToken, AuditEvent, IdempotencyRecord, Membership, Notification, Organisation, User,
                         WebSession)

_ORGANISATION = Organisation._meta.tablename
# What a reader is shown of an organisation (fuwu.services.accounts.ORG_COLUMNS, and
# the memberships statement below).
ORGANISATION_COLUMNS = (
    Organisation.id, Organisation.kind, Organisation.name, Organisation.size, Organisation.province,
    Organisation.city, Organisation.categories, Organisation.profile, Organisation.currency, Organisation.timezone,
    Organisation.created_at,
)
# What the public directory shows of a provider (columns of the Piccolo table).
_LISTED = ", ".join(f'o."{column._meta.db_column_name}"' for column in (
    Organisation.id, Organisation.name, Organisation.province, Organisation.city, Organisation.categories,
    Organisation.profile, Organisation.created_at))

# --- JSON lists as rows, for statements that take a batch in one parameter ----------------
#
# Each engine reads a JSON array with its own functions. JSON_IDS: $1, an array of ids,
# as rows (id). JSON_PERIODS: $2, an array of [number, start, end], as rows (k, s, e).
JSON_IDS = {
    "postgres": "SELECT CAST(x AS uuid) AS id FROM jsonb_array_elements_text(CAST($1 AS jsonb)) AS x",
    "sqlite": "SELECT value AS id FROM json_each($1)",
}
JSON_PERIODS = {
    "postgres": "SELECT CAST(x->>0 AS integer) AS k, CAST(x->>1 AS timestamptz) AS s, CAST(x->>2 AS timestamptz) AS e "
                "FROM jsonb_array_elements(CAST($2 AS jsonb)) AS x",
    "sqlite": "SELECT json_extract(value, '$[0]') AS k, json_extract(value, '$[1]') AS s, "
              "json_extract(value, '$[2]') AS e FROM json_each($2)",
}

# --- audit ------------------------------------------------------------------------------

RECORD_AUDIT_EVENT = insert_statement(AuditEvent, {
    "id": "$1", "at": "$2", "actor": "$3", "organisation": "$4", "object_type": "$5", "object_id": "$6",
    "action": "$7", "before": "$8", "after": "$9",
})



def not_hidden_audit_event(hidden_ids_sql: str) -> str:
    """A condition on audit events (fuwu.db.where): not an event about an object of
    type $1 whose id is among the rows of `hidden_ids_sql` (see fuwu.wiring.AuditFilter)."""
    table = AuditEvent._meta.tablename
    return f"NOT ({table}.object_type = $1 AND {table}.object_id IN ({hidden_ids_sql}))"


# --- notifications ----------------------------------------------------------------------

INSERT_NOTIFICATION = insert_statement(Notification, {
    "id": "$1", "user": "$2", "organisation": "$3", "kind": "$4", "title": "$5", "body": "$6", "params": "$7",
    "link": "$8", "created_at": "$9", "read_at": "NULL",
})

# One page of a user's notifications, newest first: $1 user, $2 unread only, $3 first
# page (no cursor), $4/$5 the cursor's time and id, $6 rows to read.
NOTIFICATION_PAGE = (
    f"SELECT id, kind, title, body, params, link, created_at, read_at FROM {Notification._meta.tablename} "
    'WHERE "user" = $1 AND (NOT $2 OR read_at IS NULL) '
    "AND ($3 OR created_at < $4 OR (created_at = $4 AND id < $5)) "
    "ORDER BY created_at DESC, id DESC LIMIT $6"
)

# The user's unread notifications, counted for the bell of every page: $1 user.
UNREAD_NOTIFICATIONS = (
    f'SELECT COUNT(*) AS unread FROM {Notification._meta.tablename} WHERE "user" = $1 AND read_at IS NULL'
)

# --- idempotency ------------------------------------------------------------------------

STORE_IDEMPOTENT_ANSWER = insert_statement(IdempotencyRecord, {
    "id": "$1", "scope_key": "$2", "request_fingerprint": "$3", "status_code": "$4", "response_body": "$5",
    "created_at": "$6",
}, suffix="ON CONFLICT (scope_key) DO NOTHING RETURNING id")
IDEMPOTENT_ANSWER = (
    f"SELECT request_fingerprint, status_code, response_body FROM {IdempotencyRecord._meta.tablename} "
    "WHERE scope_key = $1"
)

# --- API tokens and memberships ---------------------------------------------------------

VIEWER_BY_TOKEN_HASH = (
    "SELECT t.id, t.revoked_at, t.last_used_at, u.id AS user_id, u.email, u.display_name, u.locale, u.timezone, "
    f'u.is_active FROM {ApiToken._meta.tablename} t JOIN {User._meta.tablename} u ON u.id = t."user" '
    "WHERE t.token_hash = $1"
)
TOUCH_TOKEN = f"UPDATE {ApiToken._meta.tablename} SET last_used_at = $2 WHERE id = $1"

# The person behind a web session cookie: every page a signed-in person opens runs it.
VIEWER_BY_SESSION_HASH = (
    "SELECT s.id, s.expires_at, s.current_organisation, u.id AS user_id, u.email, u.display_name, u.locale, "
    f'u.timezone, u.is_active FROM {WebSession._meta.tablename} s JOIN {User._meta.tablename} u ON u.id = s."user" '
    "WHERE s.token_hash = $1"
)

# Every organisation a person belongs to, oldest membership first (every page a
# signed-in person opens shows them): $1 user. The organisation's columns each as
# org_<name>; categories as JSON text.
_MEMBER_ORGANISATION = ", ".join(f'o."{column._meta.db_column_name}" AS "org_{column._meta.name}"'
                                 for column in ORGANISATION_COLUMNS)
MEMBERSHIPS_OF_USER = (
    f"SELECT m.id, m.role, {_MEMBER_ORGANISATION} FROM {Membership._meta.tablename} m "
    f'JOIN {_ORGANISATION} o ON o.id = m.organisation WHERE m."user" = $1 ORDER BY m.created_at'
)

MEMBERSHIP_BY_PAIR = (
    f"SELECT m.id, m.role, o.kind, o.name, o.suspended_at FROM {Membership._meta.tablename} m "
    f"JOIN {_ORGANISATION} o ON o.id = m.organisation WHERE m.pair = $1"
)

# --- providers --------------------------------------------------------------------------

# Providers listed in a category: categories are a short JSON list whose text is
# matched on both engines (PostgreSQL needs the cast from json). $1: '%"category"%'.
IN_CATEGORY = f"CAST({_ORGANISATION}.categories AS TEXT) LIKE $1"

# Organisations whose name contains a text, in any case (the admins' search): $1 the
# lower-cased pattern (fuwu.db.contains_pattern). An explicit ESCAPE: SQLite has no
# default escape character for LIKE (Piccolo's ilike falls back to a LIKE without one).
NAME_CONTAINS = f"LOWER({_ORGANISATION}.name) LIKE $1 ESCAPE '\\'"

# One page of the public directory of providers, newest first (the /providers page and
# the API list): $1 filter by province, $2 the province, $3 filter by category, $4 the
# category pattern ('%"category"%'), $5 first page (no cursor), $6/$7 the cursor's time
# and id, $8 rows to read. Categories come as JSON text; `verified` (the platform's
# badge) with each row rather than by a second statement.
PROVIDER_PAGE = (
    f"SELECT {_LISTED}, o.verified_at IS NOT NULL AS verified FROM {_ORGANISATION} o "
    "WHERE o.kind = 'provider' AND (NOT $1 OR o.province = $2) "
    "AND (NOT $3 OR CAST(o.categories AS TEXT) LIKE $4) "
    "AND ($5 OR o.created_at < $6 OR (o.created_at = $6 AND o.id < $7)) "
    "ORDER BY o.created_at DESC, o.id DESC LIMIT $8"
)


def provider_categories(param: str) -> str:
    """A scalar subquery: the categories (JSON text) of the provider whose id is the
    placeholder `param`, for other domains to compose into one statement."""
    return f"(SELECT o.categories FROM {_ORGANISATION} o WHERE o.id = {param})"


def ranked_provider_candidates(committed: str = "0") -> str:
    """Providers of a category ranked for a tender: free capacity (members, or agents
    only for customer service, net of the seats `committed` on running contracts)
    against the seats asked for, then the same province. `committed` is a scalar SQL
    expression over the provider `o.id` and $2 (a higher domain's fragment, composed
    by the caller); 0 ranks by the whole team.
    $1 category pattern, $2 agents only, $3 seats asked for, $4 capacity weight,
    $5 merchant's province, $6 region weight, $7 rows."""
    return (
        "SELECT * FROM (SELECT o.id, o.name, o.province, o.city, CAST(o.categories AS TEXT) AS categories, "
        f"(SELECT COUNT(*) FROM {Membership._meta.tablename} m WHERE m.organisation = o.id "
        f"AND (NOT $2 OR m.role = 'agent')) AS capacity, {committed} AS committed "
        f"FROM {_ORGANISATION} o WHERE o.kind = 'provider' AND CAST(o.categories AS TEXT) LIKE $1) AS c "
        "ORDER BY (CASE WHEN c.capacity - c.committed >= $3 THEN 1.0 WHEN c.capacity <= c.committed THEN 0.0 "
        "ELSE (c.capacity - c.committed) * 1.0 / $3 END) * $4 "
        "+ (CASE WHEN c.province = $5 AND c.province <> '' THEN $6 ELSE 0 END) DESC, c.name LIMIT $7"
    )


# Ranked by the whole team, when no domain counts running contracts.
RANKED_PROVIDER_CANDIDATES = ranked_provider_candidates()


def organisations_by_place() -> str:
    """A subquery for other domains' aggregates (the ratings domain's analytics): each
    organisation's id, kind, province and city as given, categories as JSON text, and
    whether it is suspended. No placeholders."""
    return (f"SELECT o.id, o.kind, o.province, o.city, CAST(o.categories AS TEXT) AS categories, "
            f"(o.suspended_at IS NOT NULL) AS suspended FROM {_ORGANISATION} o")


# --- attempts at the doors (log-in, sign-up) ------------------------------------------------

# Holds one address while its recent attempts are counted and the new one written
# (fuwu.services.accounts.sessions.ADDRESS_LOCK_SPACE). PostgreSQL only: SQLite's
# IMMEDIATE transaction already holds the database.
HOLD_ADDRESS = "SELECT pg_advisory_xact_lock($1, $2)"
