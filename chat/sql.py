"""Every hand-written statement of the chat domain, in one place ($n placeholders,
column lists from the Piccolo tables; tests/integration/test_hand_written_sql.py runs
each on both engines)."""

from __future__ import annotations

from chat.tables import Conversation, Message, Seat
from fuwu.db import insert_statement
from sla import states as sla_states
from sla.sql import insert_live_events_select, mark_stale_select

_CONVERSATION = Conversation._meta.tablename
_MESSAGE = Message._meta.tablename
_SEAT = Seat._meta.tablename

# The next position in a conversation, taken in the storing transaction (the row is
# held until it commits, so positions are contiguous and in commit order). $1 the conversation.
NEXT_SEQ = (
    f"UPDATE {_CONVERSATION} SET seq = seq + 1 WHERE id = $1 "
    "RETURNING seq, epoch, status, kind, shop, provider, contract, buyer, agent"
)

INSERT_MESSAGE = insert_statement(Message, {
    "id": "$1", "conversation": "$2", "seq": "$3", "position": "$4", "client_key": "$5", "sender_kind": "$6",
    "sender": "$7", "text": "$8", "at": "$9",
})

_MESSAGE_COLUMNS = "id, conversation, seq, client_key, sender_kind, sender, text, at"

# A message already stored under this client id: $1 "<conversation>:<client id>".
MESSAGE_BY_CLIENT_KEY = f"SELECT {_MESSAGE_COLUMNS} FROM {_MESSAGE} WHERE client_key = $1"

# The messages after a position, in order: $1 conversation, $2 after seq, $3 at most.
MESSAGES_AFTER = (
    f"SELECT {_MESSAGE_COLUMNS} FROM {_MESSAGE} WHERE conversation = $1 AND seq > $2 ORDER BY seq LIMIT $3"
)
# The messages before a position, newest first (history pages): $1, $2 before seq, $3 at most.
MESSAGES_BEFORE = (
    f"SELECT {_MESSAGE_COLUMNS} FROM {_MESSAGE} WHERE conversation = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3"
)

# Takes a seat with free capacity for a new conversation: online, least loaded, then
# the one that waited longest; the conditional update holds under concurrency (on
# PostgreSQL the candidate row is locked, others skip it; SQLite serialises writers).
# $1 the organisation, $2 now. Returns the seat's user, or no row.
_PICK_SEAT = (
    f"SELECT id FROM {_SEAT} WHERE organisation = $1 AND presence = 'online' AND load < capacity "
    "ORDER BY load, last_assigned NULLS FIRST, id LIMIT 1"
)
TAKE_SEAT_POSTGRES = (
    f'UPDATE {_SEAT} SET load = load + 1, last_assigned = $2 WHERE id = ({_PICK_SEAT} FOR UPDATE SKIP LOCKED) '
    'AND load < capacity RETURNING "user"'
)
# The same, waiting for the candidate's lock instead of skipping it: when every free
# seat is held by a concurrent assignment, skipping them all would queue a
# conversation although capacity is free. After the wait the row is checked again;
# the caller retries while some seat still has room.
TAKE_SEAT_WAIT_POSTGRES = (
    f'UPDATE {_SEAT} SET load = load + 1, last_assigned = $2 WHERE id = ({_PICK_SEAT} FOR UPDATE) '
    'AND load < capacity RETURNING "user"'
)
# Whether any online seat of the organisation has room: $1 the organisation.
FREE_SEAT = f"SELECT 1 AS free FROM {_SEAT} WHERE organisation = $1 AND presence = 'online' AND load < capacity LIMIT 1"
TAKE_SEAT_SQLITE = (
    f'UPDATE {_SEAT} SET load = load + 1, last_assigned = $2 WHERE id = ({_PICK_SEAT}) '
    'AND load < capacity RETURNING "user"'
)
# The same for one named agent (a transfer): $1 organisation, $2 now, $3 the agent.
TAKE_AGENT_SEAT = (
    f'UPDATE {_SEAT} SET load = load + 1, last_assigned = $2 WHERE organisation = $1 AND "user" = $3 '
    "AND presence <> 'offline' AND load < capacity RETURNING \"user\""
)
# An agent's heartbeat: the seat was seen now. $1 the seat's pair "<organisation>:<user>", $2 now.
SEAT_SEEN = f"UPDATE {_SEAT} SET last_seen = $2 WHERE pair = $1"
# Gives a conversation's place back: $1 organisation, $2 the agent.
RELEASE_SEAT = f'UPDATE {_SEAT} SET load = load - 1 WHERE organisation = $1 AND "user" = $2 AND load > 0'

# The oldest waiting conversation an organisation serves, held for assignment: $1 the organisation.
_OLDEST_QUEUED = (
    f"SELECT id FROM {_CONVERSATION} WHERE provider = $1 AND status = 'queued' ORDER BY queued_at, id LIMIT 1"
)
OLDEST_QUEUED_POSTGRES = _OLDEST_QUEUED + " FOR UPDATE SKIP LOCKED"
OLDEST_QUEUED_SQLITE = _OLDEST_QUEUED
# A waiting conversation's place in its queue (1 = next): $1 the organisation, $2 queued at, $3 id.
QUEUE_PLACE = (
    f"SELECT COUNT(*) AS n FROM {_CONVERSATION} WHERE provider = $1 AND status = 'queued' "
    "AND (queued_at < $2 OR (queued_at = $2 AND id <= $3))"
)

# A business conversation (a merchant and a provider about a tender or a contract),
# once per subject: a concurrent open of the same subject inserts nothing and reads the
# one stored. $1 id, $2 the merchant, $3 the provider, $4 contract, $5 tender, $6 topic, $7 now.
INSERT_BUSINESS = insert_statement(Conversation, {
    "id": "$1", "kind": "'business'", "shop": "$2", "provider": "$3", "contract": "$4", "tender": "$5",
    "topic": "$6", "buyer": "NULL", "agent": "NULL", "status": "'assigned'", "seq": "0", "epoch": "1",
    "buyer_read": "0", "agent_read": "0", "opened_at": "$7", "queued_at": "NULL", "assigned_at": "$7",
    "closed_at": "NULL", "rating": "NULL", "rating_comment": "''",
}, suffix="ON CONFLICT (topic) DO NOTHING")

# PostgreSQL: the next position and the message at it in ONE statement (the per-message
# path under load: one round trip instead of two). The sender's kind is decided from
# the conversation's row the update returns, as `conversations.sender_kind` decides
# it (the caller checks the two agree, and access, and rolls back otherwise):
# $1 conversation, $2 message id, $3 client key, $4 'buyer' for a buyer (else NULL),
# $5 the sender's organisations (uuid[]), $6 sender, $7 text, $8 at.
STORE_MESSAGE_POSTGRES = (
    f"WITH c AS ({NEXT_SEQ.replace('$1', '$1::uuid')}), "
    f"k AS (SELECT c.*, COALESCE($4::text, CASE WHEN c.kind = 'business' THEN "
    "CASE WHEN c.shop = ANY($5::uuid[]) THEN 'merchant' ELSE 'provider' END "
    "WHEN c.provider = ANY($5::uuid[]) THEN 'agent' ELSE 'member' END) AS sender_kind FROM c), "
    f"m AS (INSERT INTO {_MESSAGE} (id, conversation, seq, position, client_key, sender_kind, sender, text, at) "
    "SELECT $2, $1, k.seq, $1::text || ':' || k.seq::text, $3, k.sender_kind, $6, $7, $8 FROM k RETURNING seq) "
    "SELECT k.* FROM k"
)

# PostgreSQL, group commit: a whole batch of messages stored by ONE statement, which
# is its own transaction (one round trip a batch, no BEGIN or COMMIT):
# - each message only where its sender may write (as `conversations.can_view`: a
#   buyer in their own conversation with the shop; a member of one of its two
#   organisations); the others are left out and change nothing;
# - the batch's conversations locked in the order of their ids (two processes'
#   batches never wait for each other in a cycle), each one's seq moved by its
#   messages in the batch, which take the positions in their order in the batch;
# - a closed conversation a buyer writes to is reopened (queued again);
# - the sender's kind as `conversations.sender_kind` decides it;
# - the SLA events (a buyer's message, an agent's reply in a shop conversation)
#   through the sla domain's fragment, in the same statement, and the marks of the
#   contracts' conversations whose chat steps they make stale (the sla domain's too).
# Arrays, one element a message: $1 conversation, $2 message id, $3 client key, $4 a
# buyer's shop, $5 a buyer's visitor id (NULL for a member), $6 a member's
# organisations (comma-separated), $7 sender, $8 text, $9 at, $10 at in microseconds.
# Returns a row for each message stored, in the batch's order (`n`, from 1), with
# `was` the conversation's status before. A resend (a client key stored before)
# fails the statement, which then stores nothing.
_LOCKED = f"SELECT c.id, c.status FROM {_CONVERSATION} c WHERE c.id IN (SELECT conversation FROM p) ORDER BY c.id FOR UPDATE"
STORE_BATCH_POSTGRES = (
    "WITH i AS (SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::uuid[], $5::text[], $6::text[], "
    "$7::uuid[], $8::text[], $9::timestamptz[], $10::bigint[]) WITH ORDINALITY AS t(conversation, id, client_key, "
    "buyer_shop, buyer_id, orgs, sender, text, at, at_us, n)), "
    "p AS (SELECT i.*, c.kind, c.shop, c.provider, c.contract, c.buyer AS conversation_buyer, "
    "CASE WHEN i.buyer_id IS NOT NULL THEN 'buyer' WHEN c.kind = 'business' THEN "
    "CASE WHEN strpos(i.orgs, c.shop::text) > 0 THEN 'merchant' ELSE 'provider' END "
    "WHEN strpos(i.orgs, c.provider::text) > 0 THEN 'agent' ELSE 'member' END AS sender_kind "
    f"FROM i JOIN {_CONVERSATION} c ON c.id = i.conversation "
    "WHERE (i.buyer_id IS NOT NULL AND c.kind = 'shop' AND c.shop = i.buyer_shop AND c.buyer = i.buyer_id) "
    "OR (i.buyer_id IS NULL AND (strpos(i.orgs, c.provider::text) > 0 OR strpos(i.orgs, c.shop::text) > 0))), "
    f"l AS ({_LOCKED}), "
    "k AS (SELECT conversation, COUNT(*) AS k, bool_or(sender_kind = 'buyer') AS buyer_wrote FROM p "
    "GROUP BY conversation), "
    f"u AS (UPDATE {_CONVERSATION} SET seq = {_CONVERSATION}.seq + k.k, "
    f"status = CASE WHEN k.buyer_wrote AND l.status = 'closed' THEN 'queued' ELSE {_CONVERSATION}.status END, "
    f"queued_at = CASE WHEN k.buyer_wrote AND l.status = 'closed' THEN $9[1] ELSE {_CONVERSATION}.queued_at END, "
    f"agent = CASE WHEN k.buyer_wrote AND l.status = 'closed' THEN NULL ELSE {_CONVERSATION}.agent END "
    f"FROM k, l WHERE {_CONVERSATION}.id = k.conversation AND l.id = k.conversation "
    f"RETURNING {_CONVERSATION}.id, {_CONVERSATION}.seq AS last, k.k, {_CONVERSATION}.epoch, l.status AS was), "
    "s AS (SELECT p.*, u.last - u.k + ROW_NUMBER() OVER (PARTITION BY p.conversation ORDER BY p.n) AS seq, "
    "u.epoch, u.was FROM p JOIN u ON u.id = p.conversation), "
    f"m AS (INSERT INTO {_MESSAGE} (id, conversation, seq, position, client_key, sender_kind, sender, text, at) "
    "SELECT id, conversation, seq, conversation::text || ':' || seq::text, client_key, sender_kind, sender, text, at "
    "FROM s RETURNING id), "
    "e AS (" + insert_live_events_select({
        "kind": f"CASE WHEN s.sender_kind = 'buyer' THEN '{sla_states.BUYER_MESSAGE}' "
                f"ELSE '{sla_states.AGENT_REPLY}' END",
        "shop": "s.shop", "contract": "s.contract", "at": "s.at", "at_us": "s.at_us",
        "conversation": "s.conversation::text", "buyer": "CASE WHEN s.sender_kind = 'buyer' THEN s.buyer_id END",
        "agent": "CASE WHEN s.sender_kind = 'agent' THEN s.sender::text END",
    }, "s WHERE s.kind = 'shop' AND s.sender_kind IN ('buyer', 'agent')") + " RETURNING id), "
    "st AS (" + mark_stale_select("s.contract", "s.conversation::text",
                                  "s WHERE s.kind = 'shop' AND s.contract IS NOT NULL "
                                  "AND s.sender_kind IN ('buyer', 'agent')") + ") "
    "SELECT n, seq, epoch, was, kind, shop, provider, contract, conversation_buyer AS buyer, sender_kind "
    "FROM s ORDER BY n"
)
