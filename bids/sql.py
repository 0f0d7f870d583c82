"""Every hand-written statement of the bids domain, in one place.

The bid path runs on every submission of a burst before a deadline, so its writes are
hand-written (see `fuwu.db.fetch`): `$n` placeholders, column lists taken from the
Piccolo tables. Tenders' tables are reached only through the fragments tenders
exports. `tests/integration/test_hand_written_sql.py` runs each on both engines.
"""

from __future__ import annotations

from bids.tables import Bid, BidRevision, Score
from fuwu.db import insert_statement
from tenders import sql as tender_sql

# A new live bid, unless the provider has one already (then no row comes back).
INSERT_BID = insert_statement(Bid, {
    "id": "$1", "tender": "$2", "provider": "$3", "submitted_by": "$4", "status": "$5", "live_key": "$6",
    "price_amount": "$7", "pricing_model": "$8", "price_unit": "$9", "currency": "$10", "proposal": "$11",
    "sla_commitment": "$12", "team": "$13", "valid_until": "$14", "version": "1", "first_submitted_at": "$15",
    "submitted_at": "$15", "withdrawn_at": "NULL", "result": "''", "rank": "NULL",
}, suffix="ON CONFLICT (live_key) DO NOTHING RETURNING id")

INSERT_REVISION = insert_statement(BidRevision, {
    "id": "$1", "bid": "$2", "version": "$3", "action": "$4", "at": "$5", "by": "$6", "snapshot": "$7",
})

# The evaluators' mean per bid and criterion in one round: $1 the round.
MEAN_SCORES = f"SELECT bid, criterion, AVG(value) AS mean FROM {Score._meta.tablename} WHERE round = $1 GROUP BY bid, criterion"

# The ids (as text) of bids whose tender is still open for bids: their audit events
# stay off the platform's timeline. No parameters.
SEALED_BID_IDS = f"SELECT CAST(b.id AS TEXT) AS id FROM {Bid._meta.tablename} b WHERE b.tender IN ({tender_sql.OPEN_FOR_BIDS_TENDER_IDS})"

# A condition for Piccolo queries of bids: the bid's tender has the words in its title
# or brief. $1: the LIKE pattern, lower case, with \ escaping % and _.
BID_TENDER_TEXT_LIKE = f"{Bid._meta.tablename}.tender IN ({tender_sql.TENDER_IDS_TITLE_OR_BRIEF_LIKE})"
