"""Tables of the chat domain: agents' seats, conversations and their messages."""

from piccolo.columns import UUID, BigInt, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from fuwu.tables import Organisation, User
from sla.tables import Contract
from tenders.tables import Tender


class Seat(Table, tablename="chat_seat"):
    """An agent's chat seat in one organisation: capacity, load and presence. `load`
    changes only by conditional updates in the assigning or releasing transaction, so
    no two processes assign past the capacity."""

    id = UUID(primary_key=True)
    organisation = ForeignKey(references=Organisation, index=True)
    user = ForeignKey(references=User)
    pair = Varchar(length=80, unique=True)  # "<organisation>:<user>"
    capacity = Integer(default=3)
    load = Integer(default=0)
    presence = Varchar(length=10, default="offline")
    last_seen = Timestamptz(null=True, default=None)  # the last heartbeat
    last_assigned = Timestamptz(null=True, default=None)  # ties in load go to who waited longest


class Conversation(Table, tablename="chat_conversation"):
    id = UUID(primary_key=True)
    kind = Varchar(length=10, default="shop")
    shop = ForeignKey(references=Organisation, index=True)  # the merchant
    provider = ForeignKey(references=Organisation, null=True, default=None, index=True)  # who serves it
    contract = ForeignKey(references=Contract, null=True, default=None, index=True)
    tender = ForeignKey(references=Tender, null=True, default=None, index=True)  # a business conversation's tender
    # A business conversation's subject, "tender:<tender>:<provider>" or "contract:<contract>"
    # (NULL for a buyer's): one conversation per subject, even when both sides open it at once.
    topic = Varchar(length=120, null=True, default=None, unique=True)
    buyer = Varchar(length=100, null=True, default=None, index=True)  # the shop's visitor id
    agent = ForeignKey(references=User, null=True, default=None, index=True)
    status = Varchar(length=10, default="queued", index=True)
    seq = BigInt(default=0)  # the last message's sequence number
    epoch = Integer(default=1)  # changes only if the sequence space is ever reset
    buyer_read = BigInt(default=0)
    agent_read = BigInt(default=0)
    opened_at = Timestamptz(default=TimestamptzNow())
    queued_at = Timestamptz(null=True, default=None)
    assigned_at = Timestamptz(null=True, default=None)
    closed_at = Timestamptz(null=True, default=None)
    rating = Integer(null=True, default=None)
    rating_comment = Text(default="")


class Message(Table, tablename="chat_message"):
    id = UUID(primary_key=True)
    conversation = ForeignKey(references=Conversation)
    seq = BigInt()
    # "<conversation>:<seq>" and "<conversation>:<client id>": each position once, each
    # client message once (a resend returns the stored one).
    position = Varchar(length=80, unique=True)
    client_key = Varchar(length=160, unique=True)
    sender_kind = Varchar(length=10)
    sender = ForeignKey(references=User, null=True, default=None)
    text = Text()
    at = Timestamptz()


class CannedReply(Table, tablename="chat_canned_reply"):
    """A ready answer an organisation's agents insert in a conversation with one click."""

    id = UUID(primary_key=True)
    organisation = ForeignKey(references=Organisation, index=True)
    title = Varchar(length=100)
    text = Text()
    created_at = Timestamptz(default=TimestamptzNow())
