"""Every hand-written statement of the tenders domain, in one place.

Hand-written where a benchmark showed Piccolo's query building costing more than the
database (see `fuwu.db.fetch`): PostgreSQL's `$n` placeholders (turned into `?n` on
SQLite), column lists taken from the Piccolo tables. Other domains never name these
tables: they call tenders' functions, or compose the fragments this module exports.
`tests/integration/test_hand_written_sql.py` runs each statement on both engines.
"""

from __future__ import annotations

from fuwu.sql import provider_categories
from tenders import states
from tenders.tables import Tender, TenderInvitation

_TENDER = Tender._meta.tablename

# Ids of tenders still open for bids: their bids are sealed. A fragment without
# parameters, for other domains to compose into their own statements.
OPEN_FOR_BIDS_TENDER_IDS = f"SELECT t.id FROM {_TENDER} t WHERE t.status = '{states.PUBLISHED}'"

_INVITATION = TenderInvitation._meta.tablename

# Holding a tender (see tenders.services.lifecycle.TENDER_LOCK_SPACE): bids hold it
# shared, every change of the tender exclusively. PostgreSQL only.
HOLD_TENDER_SHARED = "SELECT pg_advisory_xact_lock_shared($1, $2)"
HOLD_TENDER_EXCLUSIVE = "SELECT pg_advisory_xact_lock($1, $2)"

# The provider's side of every bid write: the tender with what provider_can_see needs,
# in one statement. $1 tender, $2 provider, $3 the "<tender>:<provider>" pair.
TENDER_FOR_BIDDER = (
    "SELECT t.id, t.status, t.bid_deadline, t.evaluation_end, t.pricing_models, t.currency, t.visibility, "
    f"t.category, {provider_categories('$2')} AS provider_categories, "
    f"EXISTS (SELECT 1 FROM {_INVITATION} i WHERE i.pair = $3) AS invited "
    f"FROM {_TENDER} t WHERE t.id = $1"
)

# Conditions for Piccolo queries of tenders (fuwu.db.where).
INVITED_PROVIDER = f"{_TENDER}.id IN (SELECT tender FROM {_INVITATION} WHERE provider = $1)"
# An explicit ESCAPE: SQLite has no default escape character for LIKE. $1: the pattern.
TITLE_OR_BRIEF_LIKE = (
    f"(LOWER({_TENDER}.title) LIKE $1 ESCAPE '\\' OR LOWER({_TENDER}.brief) LIKE $1 ESCAPE '\\')"
)

# Ids of tenders whose title or brief matches, for other domains to compose into their
# own conditions. $1: the pattern, as for TITLE_OR_BRIEF_LIKE.
TENDER_IDS_TITLE_OR_BRIEF_LIKE = f"SELECT id FROM {_TENDER} WHERE {TITLE_OR_BRIEF_LIKE}"
