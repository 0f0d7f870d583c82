"""Chat statuses, kinds and the protocol's constants (see chat/PROTOCOL.md)."""

from fuwu.i18n import N_
from fuwu.values import Values

# A conversation's status.
QUEUED = "queued"  # waiting for an agent with free capacity (the buyer was told their place)
ASSIGNED = "assigned"  # an agent serves it
CLOSED = "closed"  # ended by an agent (or the merchant); the buyer may rate it once
CONVERSATION_STATUSES = Values((QUEUED, N_("Waiting")), (ASSIGNED, N_("Open")), (CLOSED, N_("Closed")))

# A conversation's kind.
SHOP = "shop"  # a buyer and the shop (served by the contracted provider's agents, else the merchant's members)
BUSINESS = "business"  # the merchant and a provider: about a tender in evaluation, or their contract
CONVERSATION_KINDS = Values((SHOP, N_("With buyers")), (BUSINESS, N_("Tenders and contracts")))

# Who sent a message.
BUYER = "buyer"
AGENT = "agent"  # a member serving the conversation (the contracted provider's, or the merchant's without one)
MEMBER = "member"  # another member of either party (a business conversation, or a merchant looking in)
SYSTEM = "system"  # an automatic notice: never a reply
MERCHANT = "merchant"  # a member of the merchant, in a business conversation
PROVIDER = "provider"  # a member of the provider, in a business conversation
SENDER_KINDS = (BUYER, AGENT, MEMBER, SYSTEM, MERCHANT, PROVIDER)

# An agent's presence.
ONLINE = "online"
AWAY = "away"  # connected but taking no new conversations
OFFLINE = "offline"
PRESENCE = Values((ONLINE, N_("Online")), (AWAY, N_("Away")), (OFFLINE, N_("Offline")))

# WebSocket close codes (4000-4999 are the application's).
CLOSE_UNAUTHORISED = 4401  # no valid session, token or visitor token
CLOSE_RESYNC = 4409  # the socket fell behind (its buffer overflowed): reconnect and resume from the last seq
CLOSE_TOO_FAST = 4429  # far over the rate limit
CLOSE_MALFORMED = 4400  # too many malformed frames
CLOSE_GOING_AWAY = 1001  # the server is shutting down: reconnect (to another process)

# Limits.
MAX_TEXT = 4000  # characters a message
REPLAY_CAP = 500  # messages a resume replays at most; beyond, an explicit reset
SOCKET_BUFFER = 2000  # frames a socket may have waiting before it is closed with CLOSE_RESYNC
RATE_PER_SECOND, RATE_BURST = 10, 30  # messages a sender may send
HEARTBEAT_SECONDS = 20  # the server's heartbeat with its positions
OFFLINE_AFTER_SECONDS = 60  # an agent without a heartbeat this long is offline
REASSIGN_AFTER_SECONDS = 120  # a conversation of an agent offline this long goes to another
DEFAULT_CAPACITY = 3  # conversations an agent serves at once unless the provider sets another

AUDIT_ACTIONS = Values(
    ("capacity_set", N_("capacity set")),
    ("transferred", N_("transferred")),
    ("erased", N_("erased")),
    ("canned_reply_added", N_("canned reply added")),
    ("canned_reply_removed", N_("canned reply removed")),
)
AUDIT_OBJECTS = Values(("conversation", N_("conversation")), ("chat_seat", N_("chat seat")),
                       ("canned_reply", N_("canned reply")))
