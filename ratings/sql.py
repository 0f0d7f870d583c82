"""Every hand-written statement of the ratings domain, in one place (`$n`
placeholders; column lists from the Piccolo tables; run on both engines by
tests/integration/test_hand_written_sql.py).

The scorecard's figures are aggregates the query builder writes well (COUNT, SUM,
GROUP BY over indexed ranges); what is written by hand is what makes the
evaluation job idempotent whichever process runs it: a provider's standing row
made once, and an evaluation stored once per provider and moment.
"""

from __future__ import annotations

from fuwu.db import insert_statement
from ratings.tables import Evaluation, Standing

# A provider's standing row, made once (a second insert does nothing): $1 id, $2
# provider, $3 now.
ENSURE_STANDING = insert_statement(Standing, {
    "id": "$1", "provider": "$2", "tier": "0", "at_risk": "FALSE", "below_count": "0", "composite": "NULL",
    "pending_tier": "NULL", "pending_requested_at": "NULL", "evaluated_as_of": "NULL", "updated_at": "$3",
}, "ON CONFLICT (provider) DO NOTHING")

# One evaluation, stored once per provider and moment (its key): the row comes back
# only to the one transaction that stored it, which alone then moves the standing.
INSERT_EVALUATION = insert_statement(Evaluation, {
    "id": "$1", "provider": "$2", "as_of": "$3", "key": "$4", "operating": "$5", "brand": "$6", "service": "$7",
    "growth": "$8", "composite": "$9", "tier_before": "$10", "tier_after": "$11", "at_risk": "$12",
    "explanation": "$13", "computed_at": "$14",
}, "ON CONFLICT (key) DO NOTHING RETURNING id")
