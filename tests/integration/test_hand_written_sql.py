"""Every hand-written statement of every domain runs here, on the engine of this run
(the suite runs on SQLite and again on PostgreSQL in CI), and each one that has a
query-builder equivalent gives what the query builder gives.

A statement added to a domain's `sql.py` without a case here fails
`test_every_hand_written_statement_has_a_case`."""

from __future__ import annotations

import statistics
import uuid

import pytest

import bids.sql
import chat.sql
import fuwu.sql
import ratings.sql
import sla.sql
import tenders.sql
from bids.tables import Bid, BidRevision, EvaluationRound, RoundEntry, Score
from fuwu import db
from fuwu.clock import now
from fuwu.db import fetch, fetchrow, where
from fuwu.security import token_hash
from fuwu.services import accounts, audit, notifications
from fuwu.tables import ApiToken, AuditEvent, IdempotencyRecord, Membership, Notification, Organisation
from sla.tables import Contract
from tenders.services import lifecycle
from tenders.tables import Tender
from tests.conftest import add_member, new_actor
from tests.tendering import bid_body, pass_bid_deadline, published_tender, tender_url

MODULES = (fuwu.sql, tenders.sql, bids.sql, sla.sql, chat.sql, ratings.sql)
# Constants of the sql modules that are names, not statements.
NOT_STATEMENTS = {"sla.sql.EVENTS", "sla.sql.STEPS", "sla.sql.STALE", "sla.sql.HISTORY_STAGING",
                  "sla.sql.STAGED_COLUMNS"}
POSTGRES_ONLY = {"sla.sql.LATE_EVENTS_POSTGRES", "sla.sql.REBUILDER_LOCK", "sla.sql.MARK_STALE_POSTGRES",
                 "sla.sql.TAKE_STALE_POSTGRES", "sla.sql.DELETE_STEPS_POSTGRES", "sla.sql.INSERT_STEPS_POSTGRES",
                 "sla.sql.BULK_READ_SETTINGS", "sla.sql.CREATE_HISTORY_STAGING",
                 "sla.sql.INSERT_EVENTS_FROM_HISTORY_STAGING",
                 "sla.sql.INSERT_ORDERS_FROM_HISTORY_STAGING", "sla.sql.TAKE_EVENT_IDS", "tenders.sql.HOLD_TENDER_SHARED",
                 "tenders.sql.HOLD_TENDER_EXCLUSIVE", "fuwu.sql.HOLD_ADDRESS",
                 "chat.sql.TAKE_SEAT_POSTGRES", "chat.sql.OLDEST_QUEUED_POSTGRES", "chat.sql.TAKE_SEAT_WAIT_POSTGRES",
                 "chat.sql.STORE_MESSAGE_POSTGRES", "chat.sql.STORE_BATCH_POSTGRES",
                 "sla.sql.TRACK_RECORD_POSTGRES", "sla.sql.MEASURED_BY_PERIOD_POSTGRES",
                 "sla.sql.MILESTONES_BY_PERIOD_POSTGRES", "ratings.sql.RATINGS_BY_PERIOD_POSTGRES"}
# Their PostgreSQL twins lock rows (FOR UPDATE SKIP LOCKED); SQLite serialises writers instead.
SQLITE_ONLY = {"sla.sql.LATE_EVENTS_SQLITE", "sla.sql.TAKE_STALE_SQLITE", "chat.sql.TAKE_SEAT_SQLITE",
               "chat.sql.OLDEST_QUEUED_SQLITE",
               # Each engine reads the JSON lists of providers, metrics and conversations with its own functions.
               "sla.sql.MARK_STALE_SQLITE", "sla.sql.DELETE_STEPS_SQLITE", "sla.sql.INSERT_STEPS_SQLITE",
               "sla.sql.TRACK_RECORD_SQLITE", "sla.sql.MEASURED_BY_PERIOD_SQLITE",
               "sla.sql.MILESTONES_BY_PERIOD_SQLITE", "ratings.sql.RATINGS_BY_PERIOD_SQLITE"}
CASES: dict[str, object] = {}


def case(*names: str):
    def register(test):
        for name in names:
            CASES[name] = test
        return test
    return register


def statements() -> list[str]:
    return sorted(f"{module.__name__}.{name}" for module in MODULES for name, value in vars(module).items()
                  if name.isupper() and not name.startswith("_") and isinstance(value, str)
                  and f"{module.__name__}.{name}" not in NOT_STATEMENTS)


class Rollback(Exception):
    pass


# --- the shell ---------------------------------------------------------------------------


@case("fuwu.sql.RECORD_AUDIT_EVENT")
async def audit_event_reads_back(client):
    actor = await new_actor("merchant")
    object_id = uuid.uuid4()
    await audit.record(actor=actor.user_id, organisation=actor.org_id, object_type="check", object_id=object_id,
                       action="recorded", before={"a": 1}, after={"b": "二"})
    row = await AuditEvent.select().where(AuditEvent.object_id == str(object_id)).output(load_json=True).first()
    assert (row["actor"], row["organisation"], row["action"], row["before"], row["after"]) == (
        actor.user_id, actor.org_id, "recorded", {"a": 1}, {"b": "二"})


@case("fuwu.sql.INSERT_NOTIFICATION", "fuwu.sql.NOTIFICATION_PAGE")
async def notification_page_equals_the_query_builder(client):
    actor = await new_actor("merchant")
    for number in range(7):
        await notifications.notify([actor.user_id], kind="check", title="Hello {n}", params={"n": number},
                                   link=f"/x/{number}")
    stored = await Notification.select().where(Notification.user == actor.user_id).output(load_json=True)
    assert sorted(row["params"]["n"] for row in stored) == list(range(7))
    cursor, reference_cursor = None, None
    while True:
        page = await notifications.list_for_user(actor.user_id, cursor, 3)
        reference = await notifications._list_for_user_builder(actor.user_id, reference_cursor, 3)
        assert [item["id"] for item in page.items] == [item["id"] for item in reference.items]
        assert [item["params"] for item in page.items] == [item["params"] for item in reference.items]
        if page.next_cursor is None:
            assert reference.next_cursor is None
            break
        cursor, reference_cursor = page.next_cursor, reference.next_cursor


@case("fuwu.sql.STORE_IDEMPOTENT_ANSWER", "fuwu.sql.IDEMPOTENT_ANSWER")
async def idempotent_answer_is_stored_once(client):
    key = f"check:{uuid.uuid4()}"
    first = await fetch(fuwu.sql.STORE_IDEMPOTENT_ANSWER, uuid.uuid4(), key, "f1", 201, '{"a":1}', now())
    second = await fetch(fuwu.sql.STORE_IDEMPOTENT_ANSWER, uuid.uuid4(), key, "f2", 201, '{"a":2}', now())
    assert len(first) == 1 and second == []
    row = await fetchrow(fuwu.sql.IDEMPOTENT_ANSWER, key)
    reference = await IdempotencyRecord.select(
        IdempotencyRecord.request_fingerprint, IdempotencyRecord.status_code, IdempotencyRecord.response_body
    ).where(IdempotencyRecord.scope_key == key).first()
    assert row == reference and row["request_fingerprint"] == "f1"


@case("fuwu.sql.VIEWER_BY_TOKEN_HASH", "fuwu.sql.TOUCH_TOKEN")
async def token_read_equals_the_query_builder(client):
    actor = await new_actor("provider")
    row = await fetchrow(fuwu.sql.VIEWER_BY_TOKEN_HASH, token_hash(actor.token))
    reference = await ApiToken.select(
        ApiToken.id, ApiToken.revoked_at, ApiToken.user.id.as_alias("user_id"), ApiToken.user.email.as_alias("email"),
        ApiToken.user.is_active.as_alias("is_active"),
    ).where(ApiToken.token_hash == token_hash(actor.token)).first()
    assert {key: row[key] for key in reference} == reference
    moment = now().replace(microsecond=0)
    await fetch(fuwu.sql.TOUCH_TOKEN, row["id"], moment)
    touched = await ApiToken.select(ApiToken.last_used_at).where(ApiToken.id == row["id"]).first()
    assert touched["last_used_at"] == moment


@case("fuwu.sql.VIEWER_BY_SESSION_HASH")
async def session_read_equals_the_query_builder(client):
    from fuwu.services.accounts import sessions
    from fuwu.tables import User, WebSession

    actor = await new_actor("merchant")
    user = await accounts.get_user(actor.user_id)
    cookie = await sessions.start_session({**user, "memberships": await accounts.memberships_of(actor.user_id)})
    row = await fetchrow(fuwu.sql.VIEWER_BY_SESSION_HASH, token_hash(cookie))
    reference = await WebSession.select(
        WebSession.id, WebSession.expires_at, WebSession.current_organisation,
        *(getattr(WebSession.user, c._meta.name).as_alias(c._meta.name if c._meta.name != "id" else "user_id")
          for c in (User.id, User.email, User.display_name, User.locale, User.timezone, User.is_active)),
    ).where(WebSession.token_hash == token_hash(cookie)).first()
    assert row == reference and row["user_id"] == actor.user_id and row["current_organisation"] == actor.org_id
    viewer = await sessions.viewer_from_session(cookie)
    assert (viewer.user_id, viewer.session_id, viewer.current_organisation) == (actor.user_id, row["id"], actor.org_id)
    assert await fetchrow(fuwu.sql.VIEWER_BY_SESSION_HASH, token_hash(cookie + "x")) is None


@case("fuwu.sql.MEMBERSHIPS_OF_USER")
async def memberships_of_a_person_equal_the_query_builder(client):
    from fuwu.services.accounts import ORG_COLUMNS

    from fuwu.schemas import OrganisationCreate

    owner = await new_actor("provider")
    second = await accounts.create_organisation(owner.viewer, OrganisationCreate(
        kind="merchant", name=f"Shop {uuid.uuid4().hex[:6]}", size="small", province="Zhejiang", city="Hangzhou"))
    rows = await accounts.memberships_of(owner.user_id)
    reference = await Membership.select(
        Membership.id, Membership.role,
        *(getattr(Membership.organisation, c._meta.name).as_alias(f"org_{c._meta.name}") for c in ORG_COLUMNS),
    ).where(Membership.user == owner.user_id).order_by(Membership.created_at).output(load_json=True)
    assert [(row["id"], row["role"]) for row in rows] == [(row["id"], row["role"]) for row in reference]
    assert [row["organisation"] for row in rows] == [
        {c._meta.name: row[f"org_{c._meta.name}"] for c in ORG_COLUMNS} for row in reference]
    assert [row["organisation"]["id"] for row in rows] == [owner.org_id, second["id"]]
    assert rows[0]["organisation"]["categories"] == reference[0]["org_categories"] and rows[0]["organisation"]["categories"]


@case("fuwu.sql.UNREAD_NOTIFICATIONS")
async def unread_count_equals_the_query_builder(client):
    actor = await new_actor("merchant")
    for i in range(3):
        await notifications.notify([actor.user_id], kind="member_joined", title="{name} joined", params={"name": i})
    await notifications.mark_read(actor.user_id, (await notifications.list_for_user(actor.user_id, None, 1)).items[0]["id"])
    reference = await Notification.count().where((Notification.user == actor.user_id) & Notification.read_at.is_null())
    assert await notifications.unread_count(actor.user_id) == reference == 2


@case("fuwu.sql.MEMBERSHIP_BY_PAIR")
async def membership_read_equals_the_query_builder(client):
    owner = await new_actor("provider")
    agent = await add_member(owner, "agent")
    row = await fetchrow(fuwu.sql.MEMBERSHIP_BY_PAIR, f"{agent.user_id}:{owner.org_id}")
    reference = await Membership.select(
        Membership.id, Membership.role, Membership.organisation.kind.as_alias("kind"),
        Membership.organisation.name.as_alias("name"), Membership.organisation.suspended_at.as_alias("suspended_at"),
    ).where((Membership.user == agent.user_id) & (Membership.organisation == owner.org_id)).first()
    assert row == reference and row["role"] == "agent"
    assert await fetchrow(fuwu.sql.MEMBERSHIP_BY_PAIR, f"{agent.user_id}:{uuid.uuid4()}") is None


@case("fuwu.sql.NAME_CONTAINS")
async def name_search_matches_any_case_and_takes_wildcards_literally(client):
    tag = uuid.uuid4().hex[:8]
    names = [f"{tag} 50% Off Studio", f"{tag} 500 Off studio", f"{tag} a_b Photo", f"{tag} axb photo"]
    for name in names:
        await Organisation(kind="provider", name=name).save()
    for text, expected in (("50% off", names[:1]), ("a_b", names[2:3]), ("STUDIO", names[:2]), ("\\", [])):
        found = {row["name"] for row in await Organisation.select(Organisation.name).where(
            where(fuwu.sql.NAME_CONTAINS, db.contains_pattern(text))) if row["name"].startswith(tag)}
        reference = {name for name in names if text.lower() in name.lower()}
        assert found == reference == set(expected), (text, found, reference)


@case("fuwu.sql.IN_CATEGORY")
async def category_condition_equals_a_plain_filter(client):
    await new_actor("provider", categories=["design", "video"])
    matched = {row["id"] for row in await Organisation.select(Organisation.id).where(
        where(fuwu.sql.IN_CATEGORY, '%"design"%'))}
    reference = {row["id"] for row in await Organisation.select(Organisation.id, Organisation.categories).output(
        load_json=True) if "design" in (row["categories"] or [])}
    assert matched == reference and matched


@case("fuwu.sql.PROVIDER_PAGE")
async def provider_page_equals_the_query_builder(client):
    from fuwu.services.accounts import directory

    province = f"Province {uuid.uuid4().hex[:6]}"
    actors = [await new_actor("provider", categories=categories)
              for categories in (["design", "video"], ["video"], ["design"], ["photography"], ["design", "photography"])]
    actors.append(await new_actor("merchant"))  # never listed
    await Organisation.update({Organisation.province: province}).where(
        Organisation.id.is_in([actor.org_id for actor in actors]))
    for category, where_ in ((None, province), ("design", province), ("video", None), (None, None),
                             ("photography", f"{province} nowhere")):
        cursor, reference_cursor, seen = None, None, 0
        while True:
            page = await directory.list_providers(category, where_, cursor, 2)
            reference = await directory._list_providers_builder(category, where_, reference_cursor, 2)
            assert page.items == reference.items
            assert all(row["province"] == where_ for row in page.items if where_)
            assert all(category in row["categories"] for row in page.items if category)
            seen += len(page.items)
            if page.next_cursor is None or seen > 40:
                assert reference.next_cursor is None or seen > 40
                break
            cursor, reference_cursor = page.next_cursor, reference.next_cursor
        if where_ == province:
            assert seen == (5 if category is None else 3)


@case("fuwu.sql.RANKED_PROVIDER_CANDIDATES")
async def ranked_candidates_count_capacity_as_the_query_builder_does(client):
    category = "photography"
    big = await new_actor("provider", categories=[category])
    for _ in range(2):
        await add_member(big, "agent")
    rows = await accounts.ranked_provider_candidates(category, 3, True, "Zhejiang", 1000, capacity_weight=25,
                                                     region_weight=15)
    assert rows and all(category in row["categories"] for row in rows)
    for row in rows:
        agents = await Membership.count().where((Membership.organisation == row["id"]) & (Membership.role == "agent"))
        assert row["capacity"] == agents
    ranked = [(min(1.0, row["capacity"] / 3) * 25 + (15 if row["province"] == "Zhejiang" else 0)) for row in rows]
    assert ranked == sorted(ranked, reverse=True)
    assert rows[0]["id"] == big.org_id or ranked[0] == ranked[[r["id"] for r in rows].index(big.org_id)]
    # Composed with the sla domain's fragment: capacity net of the seats on running
    # contracts (customer-service ones when agents only), as the query builder sums them.
    async with db.atomic():
        for kind, seats, status in (("cs_presales", 2, "active"), (category, 1, "pending_signature"),
                                    ("cs_presales", 7, "terminated")):
            await Contract(merchant=big.org_id, provider=big.org_id, category=kind, status=status, seats=seats,
                           starts_at=now(), ends_at=now(), pricing_model="milestone").save()
    for agents_only, kinds in ((True, ["cs_presales", "cs_postsales"]), (False, None)):
        # Every provider of the category (the suite's database holds many).
        rows = await accounts.ranked_provider_candidates(category, 3, agents_only, "Zhejiang", 1_000_000,
                                                         capacity_weight=25, region_weight=15,
                                                         committed_seats=sla.sql.committed_seats)
        for row in rows:
            running = Contract.select(Contract.seats).where(
                (Contract.provider == row["id"]) & Contract.status.is_in(["pending_signature", "active"]))
            if kinds is not None:
                running = running.where(Contract.category.is_in(kinds))
            assert row["committed"] == sum(r["seats"] for r in await running)
            assert row["free"] == max(0, row["capacity"] - row["committed"])
        big_row = next(row for row in rows if row["id"] == big.org_id)
        assert big_row["committed"] == (2 if agents_only else 3)
        free = [(min(1.0, row["free"] / 3) * 25 + (15 if row["province"] == "Zhejiang" else 0)) for row in rows]
        assert free == sorted(free, reverse=True)


# --- tenders -----------------------------------------------------------------------------


@case("tenders.sql.OPEN_FOR_BIDS_TENDER_IDS")
async def open_tenders_equal_the_query_builder(client):
    merchant = await new_actor("merchant")
    await published_tender(client, merchant)
    ids = {row["id"] for row in await fetch(tenders.sql.OPEN_FOR_BIDS_TENDER_IDS)}
    reference = {row["id"] for row in await Tender.select(Tender.id).where(Tender.status == "published")}
    assert ids == reference and ids


@case("fuwu.sql.HOLD_ADDRESS")
async def address_lock_is_taken_and_released_with_the_transaction(client):
    from fuwu.services.accounts.sessions import address_lock_key

    for _ in range(2):
        with pytest.raises(Rollback):
            async with db.atomic():
                await fetch(fuwu.sql.HOLD_ADDRESS, *address_lock_key("203.0.113.9"))
                raise Rollback


@case("tenders.sql.HOLD_TENDER_SHARED", "tenders.sql.HOLD_TENDER_EXCLUSIVE")
async def tender_locks_are_taken_and_released_with_the_transaction(client):
    key = lifecycle._lock_key(uuid.uuid4())
    with pytest.raises(Rollback):
        async with db.atomic():
            await fetch(tenders.sql.HOLD_TENDER_SHARED, *key)
            raise Rollback
    with pytest.raises(Rollback):
        async with db.atomic():
            await fetch(tenders.sql.HOLD_TENDER_EXCLUSIVE, *key)
            raise Rollback


@case("tenders.sql.TENDER_FOR_BIDDER")
async def bidder_read_decides_as_provider_can_see(client):
    merchant = await new_actor("merchant")
    tender = await published_tender(client, merchant)
    inside, outside = await new_actor("provider"), await new_actor("provider", categories=["video"])
    row = await lifecycle._row(uuid.UUID(tender["id"]))
    for provider in (inside, outside):
        async with db.atomic():
            locked = await lifecycle.lock_tender_for_provider(provider.org_id, uuid.UUID(tender["id"]))
        assert (locked is not None) == await lifecycle.provider_can_see(row, provider.org_id)
    assert locked is None


@case("tenders.sql.INVITED_PROVIDER", "tenders.sql.TITLE_OR_BRIEF_LIKE")
async def browsing_conditions_equal_a_plain_filter(client):
    merchant = await new_actor("merchant")
    word = uuid.uuid4().hex[:8]
    await published_tender(client, merchant, title=f"Night shift {word}_%")
    await published_tender(client, merchant, title="Something else", visibility="invited")
    provider = await new_actor("provider")
    member = await accounts.membership(provider.user_id, provider.org_id)
    found = await lifecycle.browse_open_tenders(member, text=f"{word}_%")
    assert [item["title"] for item in found.items] == [f"Night shift {word}_%"]
    assert not (await lifecycle.browse_open_tenders(member, text=f"{word}x")).items
    invited_only = await Tender.select(Tender.id).where(where(tenders.sql.INVITED_PROVIDER, provider.org_id))
    assert invited_only == []


# --- bids --------------------------------------------------------------------------------


@case("bids.sql.INSERT_BID", "bids.sql.INSERT_REVISION", "bids.sql.SEALED_BID_IDS")
async def bid_writes_read_back_and_sealed_ids_equal_the_query_builder(client):
    merchant, provider = await new_actor("merchant"), await new_actor("provider")
    tender = await published_tender(client, merchant)
    response = await client.post(tender_url(provider, tender["id"], "/bid"), json=bid_body(price=3_210_000),
                                 headers=provider.headers)
    assert response.status_code == 201, response.text
    bid_id = uuid.UUID(response.json()["id"])
    bid = await Bid.select().where(Bid.id == bid_id).output(load_json=True).first()
    assert (bid["price_amount"], bid["version"], bid["status"], bid["rank"]) == (3_210_000, 1, "submitted", None)
    revision = await BidRevision.select().where(BidRevision.bid == bid_id).output(load_json=True).first()
    assert revision["version"] == 1 and revision["snapshot"]["price_amount"] == 3_210_000
    sealed = {row["id"] for row in await fetch(bids.sql.SEALED_BID_IDS)}
    reference = {str(row["id"]) for row in await Bid.select(Bid.id).where(Bid.tender.status == "published")}
    assert sealed == reference and str(bid_id) in reference


@case("bids.sql.MEAN_SCORES")
async def mean_scores_equal_a_plain_mean(client):
    merchant, provider = await new_actor("merchant"), await new_actor("provider")
    tender = await published_tender(client, merchant)
    response = await client.post(tender_url(provider, tender["id"], "/bid"), json=bid_body(), headers=provider.headers)
    bid_id = uuid.UUID(response.json()["id"])
    await pass_bid_deadline(tender["id"])
    started = await client.post(tender_url(merchant, tender["id"], "/evaluation/start"), headers=merchant.headers)
    assert started.status_code == 200, started.text
    round_id = (await EvaluationRound.select(EvaluationRound.id).where(
        EvaluationRound.tender == tender["id"]).order_by(EvaluationRound.number).first())["id"]
    assert await RoundEntry.exists().where(RoundEntry.round == round_id)
    values = {1: [7.0, 8.5, 9.0], 2: [3.0]}
    evaluators = [merchant, *[await add_member(merchant, "evaluator") for _ in range(2)]]
    async with db.atomic():
        for criterion, marks in values.items():
            for evaluator, value in zip(evaluators, marks):
                await Score(round=round_id, bid=bid_id, criterion=criterion, evaluator=evaluator.user_id, value=value,
                            key=f"{round_id}:{bid_id}:{criterion}:{evaluator.user_id}").save()
    rows = await fetch(bids.sql.MEAN_SCORES, round_id)
    got = {(str(row["bid"]), row["criterion"]): float(row["mean"]) for row in rows}
    assert got == {(str(bid_id), criterion): pytest.approx(statistics.mean(marks))
                   for criterion, marks in values.items()}


@case("tenders.sql.TENDER_IDS_TITLE_OR_BRIEF_LIKE", "bids.sql.BID_TENDER_TEXT_LIKE")
async def bids_by_tender_words_equal_a_plain_filter(client):
    merchant, provider = await new_actor("merchant"), await new_actor("provider")
    word = uuid.uuid4().hex[:8]
    matching = await published_tender(client, merchant, title=f"Night shift {word}_%")
    other = await published_tender(client, merchant, title="Something else", brief=f"About {word}X%")
    for tender in (matching, other):
        response = await client.post(tender_url(provider, tender["id"], "/bid"), json=bid_body(),
                                     headers=provider.headers)
        assert response.status_code == 201, response.text
    pattern = f"%{word}\\_\\%%"  # the words "<word>_%" taken literally
    ids = {row["id"] for row in await fetch(tenders.sql.TENDER_IDS_TITLE_OR_BRIEF_LIKE, pattern)}
    assert {str(i) for i in ids} == {matching["id"]}
    found = await Bid.select(Bid.tender).where((Bid.provider == provider.org_id)
                                               & where(bids.sql.BID_TENDER_TEXT_LIKE, pattern))
    assert [str(row["tender"]) for row in found] == [matching["id"]]
    both = await Bid.select(Bid.tender).where((Bid.provider == provider.org_id)
                                              & where(bids.sql.BID_TENDER_TEXT_LIKE, f"%{word}%"))
    assert {str(row["tender"]) for row in both} == {matching["id"], other["id"]}


# --- sla: the service-event log (its metric statements are checked against a plain-Python
# reference by tests/integration/sla/test_metrics_property.py, on both engines) --------------


@case("sla.sql.INSERT_EVENT", "sla.sql.ORDER_EVENT")
async def orders_are_stored_once_by_order_id(client):
    from sla.services.events import ingest_order

    merchant = await new_actor("merchant")
    first = await ingest_order(shop=merchant.org_id, order="o-1", buyer="b-1", amount=100, currency="CNY")
    again = await ingest_order(shop=merchant.org_id, order="o-1", buyer="b-2", amount=999, currency="CNY")
    assert (first["created"], again["created"], again["amount"], again["id"]) == (True, False, 100, first["id"])


@case("sla.sql.ANALYZE_EVENTS")
async def the_event_log_can_be_analysed_after_a_bulk_import(client):
    from sla.tables import ServiceEvent

    before = await ServiceEvent.count()
    assert await fetch(sla.sql.ANALYZE_EVENTS) == []  # planner statistics only: no rows, nothing changed
    assert await ServiceEvent.count() == before


@case("sla.sql.INSERT_EVENTS", "sla.sql.COUNT_IMPORTED", "sla.sql.DELETE_IMPORT")
async def history_lines_are_imported_in_batches_and_undone_on_a_bad_line(client):
    from fuwu.errors import InvalidInput
    from sla.services.events import import_history
    from sla.tables import ServiceEvent

    merchant = await new_actor("merchant")
    line = '{"type": "buyer_message", "at": "2026-03-02T09:00:00+08:00", "conversation": "c%d", "buyer": "b"}\n'
    done = await import_history(merchant.org_id, [line % n for n in range(5)], batch_size=2)
    assert (done["lines"], done["added"]) == (5, 5)
    with pytest.raises(InvalidInput):
        await import_history(merchant.org_id, [line % n for n in range(10, 15)] + ["not json\n"], batch_size=2)
    assert await ServiceEvent.count().where(ServiceEvent.shop == merchant.org_id) == 5


@case("sla.sql.LATE_EVENTS_POSTGRES", "sla.sql.LATE_EVENTS_SQLITE")
async def late_events_of_closed_windows_are_the_ones_that_can_change_them(client):
    from sla.services.closing import _late_many
    from sla.services.contracts import CONTRACT_COLUMNS
    from sla.tables import Contract
    from tests.integration.sla.conftest import Log, make_contract

    parties = (await new_actor("merchant"), await new_actor("provider"))
    contract = await make_contract(parties)
    other = await make_contract(parties)
    log, elsewhere = Log(contract), Log(other)
    await log.add("buyer_message", "2026-03-02T23:00:00", conversation="c1", buyer="b1")
    await log.add("agent_reply", "2026-03-03T09:00:00", conversation="c1")  # late for 2 March
    await log.add("buyer_message", "2026-03-03T09:30:00", conversation="c2", buyer="b2")
    await log.add("agent_reply", "2026-03-03T09:40:00", conversation="c2")  # another conversation: not late
    await log.add("order_placed", "2026-03-03T10:00:00", buyer="b1", order="o1")  # b1 chatted on 2 March: late
    await log.add("order_placed", "2026-03-03T11:00:00", buyer="b9", order="o2")  # b9 never chatted: not late
    await elsewhere.add("milestone_created", "2026-03-03T12:00:00", milestone="m1", due="2026-03-09T00:00")
    rows = {row["id"]: row for row in await Contract.select(*CONTRACT_COLUMNS).where(
        Contract.id.is_in([contract.id, other.id]))}
    day = (log.us("2026-03-02T00:00"), log.us("2026-03-03T00:00"))
    horizon = log.us("2026-03-04T00:00")
    statement = sla.sql.LATE_EVENTS_POSTGRES if db.is_postgres() else sla.sql.LATE_EVENTS_SQLITE
    assert statement in (sla.sql.LATE_EVENTS_POSTGRES, sla.sql.LATE_EVENTS_SQLITE)
    found = await _late_many([(rows[contract.id], day, horizon), (rows[contract.id], day, log.us("2026-03-03T09:30")),
                              (rows[other.id], day, horizon), (rows[other.id], day, log.us("2026-03-03T00:00"))])
    assert found == [log.us("2026-03-03T10:00:00"), log.us("2026-03-03T09:00:00"), log.us("2026-03-03T12:00:00"),
                     day[1]]


@case("sla.sql.TAKE_EVENT_IDS", "sla.sql.CREATE_HISTORY_STAGING", "sla.sql.INSERT_EVENTS_FROM_HISTORY_STAGING",
      "sla.sql.INSERT_ORDERS_FROM_HISTORY_STAGING")
async def history_batches_are_copied_through_staging_skipping_lines_and_orders_held(client):
    from sla.services.events import import_history
    from sla.tables import ServiceEvent

    merchant = await new_actor("merchant")
    order = ('{"type": "order_placed", "at": "2026-03-02T10:00:%02d+08:00", "buyer": "b%d", "order": "o1", '
             '"amount": %d, "currency": "CNY"}\n')
    lines = [order % (0, 1, 100), order % (1, 2, 200)]  # the same order id twice: the first wins
    lines += ['{"type": "notice", "at": "2026-03-02T09:00:00+08:00", "conversation": "c%d"}\n' % n for n in range(5)]
    first = await import_history(merchant.org_id, lines, batch_size=3)
    again = await import_history(merchant.org_id, lines, batch_size=3)  # re-importing the file adds nothing
    assert (first["added"], again["added"]) == (6, 0)
    rows = await ServiceEvent.select(ServiceEvent.kind, ServiceEvent.line, ServiceEvent.amount).where(
        ServiceEvent.shop == merchant.org_id).order_by(ServiceEvent.id)
    assert [(row["kind"], row["line"], row["amount"]) for row in rows] == [
        ("order_placed", 1, 100)] + [("notice", line, None) for line in range(3, 8)]


@case("sla.sql.MARK_STALE_POSTGRES", "sla.sql.MARK_STALE_SQLITE", "sla.sql.TAKE_STALE_POSTGRES",
      "sla.sql.TAKE_STALE_SQLITE", "sla.sql.REBUILDER_LOCK", "sla.sql.DELETE_STEPS_POSTGRES",
      "sla.sql.DELETE_STEPS_SQLITE", "sla.sql.INSERT_STEPS_POSTGRES", "sla.sql.INSERT_STEPS_SQLITE")
async def chat_steps_marked_stale_and_rebuilt(client):
    # What the steps hold and the metrics read from them: tests/integration/sla/test_chat_steps.py.
    from tests.integration.sla import test_chat_steps

    await test_chat_steps.test_steps_are_rebuilt_from_the_log_and_late_events_mark_them_stale(
        (await new_actor("merchant"), await new_actor("provider")))


@case("sla.sql.PEER_ATTITUDE")
async def each_providers_attitude_in_a_category_counts_each_conversation_once(client):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from sla.calendar import to_us
    from sla.tables import Contract
    from tests.integration.sla.conftest import Log, make_contract

    zone = ZoneInfo("Asia/Shanghai")
    merchant, first, second = await new_actor("merchant"), await new_actor("provider"), await new_actor("provider")
    category = f"peers_{uuid.uuid4().hex[:8]}"  # this run's own: a reused database holds earlier runs' contracts
    for provider, scores in ((first, (5, 3)), (second, (4,))):
        contract = await make_contract((merchant, provider))
        async with db.atomic():
            await Contract.update({Contract.category: category}).where(Contract.id == contract.id)
        log = Log(contract)
        for number, rating in enumerate(scores):
            await log.add("conversation_closed", f"2021-02-0{number + 1}T10:00:00", conversation=f"c{number}")
            await log.add("chat_rated", f"2021-02-0{number + 1}T10:01:00", conversation=f"c{number}", rating=1)
            await log.add("chat_rated", f"2021-02-0{number + 1}T10:02:00", conversation=f"c{number}", rating=rating)
    start, end = to_us(datetime(2021, 2, 1, tzinfo=zone)), to_us(datetime(2021, 3, 1, tzinfo=zone))
    rows = await fetch(sla.sql.PEER_ATTITUDE, category, start, end, end)
    assert sorted((str(row["provider"]), int(row["n"]), int(row["total"])) for row in rows) == sorted(
        [(str(first.org_id), 2, 8), (str(second.org_id), 1, 4)])


@case("sla.sql.BULK_READ_SETTINGS")
async def bulk_read_settings_last_only_for_their_transaction(client):
    from sla.services.evaluation import reading

    async with reading(bulk=True):
        assert (await fetchrow("SELECT current_setting('work_mem') AS w, current_setting('jit') AS j")) == {
            "w": "256MB", "j": "off"}
    async with reading():
        assert (await fetchrow("SELECT current_setting('work_mem') AS w"))["w"] != "256MB"


# --- chat ----------------------------------------------------------------------------------


async def _chat_shop(capacity: int = 1):
    from chat.tables import Seat

    merchant = await new_actor("merchant")
    agent = await add_member(merchant, "operator")
    await Seat(organisation=merchant.org_id, user=agent.user_id, pair=f"{merchant.org_id}:{agent.user_id}",
               capacity=capacity, presence="online").save()
    return merchant, agent


@case("chat.sql.NEXT_SEQ", "chat.sql.INSERT_MESSAGE", "chat.sql.MESSAGE_BY_CLIENT_KEY", "chat.sql.MESSAGES_AFTER",
      "chat.sql.MESSAGES_BEFORE")
async def messages_are_stored_at_contiguous_positions_and_read_back_in_order(client):
    from chat.services import conversations
    from chat.tables import Message

    merchant, _ = await _chat_shop()
    opened = await conversations.open_for_buyer(merchant.org_id, "visitor-sql-1")
    buyer = conversations.Participant(shop=merchant.org_id, buyer="visitor-sql-1")
    for number in range(5):
        await conversations.post(buyer, opened["id"], f"c{number}", f"text {number}")
    again, created = await conversations.post(buyer, opened["id"], "c2", "text 2")
    assert created is False and int(again["seq"]) == 3
    after, _ = await conversations.messages_after(buyer, opened["id"], 2)
    reference = await Message.select(Message.seq).where((Message.conversation == opened["id"]) & (Message.seq > 2)
                                                       ).order_by(Message.seq)
    assert [int(r["seq"]) for r in after] == [r["seq"] for r in reference] == [3, 4, 5]
    page, before = await conversations.messages_before(buyer, opened["id"], None, 2)
    assert [int(r["seq"]) for r in page] == [4, 5] and before == 4


@case("chat.sql.TAKE_SEAT_POSTGRES", "chat.sql.TAKE_SEAT_SQLITE", "chat.sql.RELEASE_SEAT",
      "chat.sql.OLDEST_QUEUED_POSTGRES", "chat.sql.OLDEST_QUEUED_SQLITE", "chat.sql.QUEUE_PLACE",
      "chat.sql.TAKE_AGENT_SEAT", "chat.sql.TAKE_SEAT_WAIT_POSTGRES", "chat.sql.FREE_SEAT", "chat.sql.SEAT_SEEN")
async def seats_are_taken_within_capacity_and_the_queue_is_served_in_order(client):
    from chat.services import conversations
    from chat.tables import Conversation, Seat

    merchant, agent = await _chat_shop(capacity=1)
    first = await conversations.open_for_buyer(merchant.org_id, "visitor-sql-a")
    second = await conversations.open_for_buyer(merchant.org_id, "visitor-sql-b")
    assert (first["status"], first["agent_id"], second["status"]) == ("assigned", agent.user_id, "queued")
    place = await fetchrow(chat.sql.QUEUE_PLACE, merchant.org_id, second["queued_at"], second["id"])
    assert int(place["n"]) == 1
    staff = conversations.Participant(user_id=agent.user_id, organisations={merchant.org_id: "operator"})
    await conversations.close(staff, first["id"])
    moved = await Conversation.select(Conversation.status, Conversation.agent).where(
        Conversation.id == second["id"]).first()
    assert moved == {"status": "assigned", "agent": agent.user_id}
    assert (await Seat.select(Seat.load).where(Seat.user == agent.user_id).first())["load"] == 1
    await Seat.update({Seat.capacity: 2}).where(Seat.user == agent.user_id)
    taken = await fetchrow(chat.sql.TAKE_AGENT_SEAT, merchant.org_id, now(), agent.user_id)
    assert taken is not None and await fetchrow(chat.sql.TAKE_AGENT_SEAT, merchant.org_id, now(), agent.user_id) is None
    from chat.services import presence

    await presence.heartbeat(agent.user_id, [merchant.org_id])
    seen = await Seat.select(Seat.last_seen).where(Seat.user == agent.user_id).first()
    assert seen["last_seen"] is not None and abs((now() - seen["last_seen"]).total_seconds()) < 60


@case("chat.sql.STORE_BATCH_POSTGRES", "chat.sql.STORE_MESSAGE_POSTGRES")
async def messages_sent_at_once_are_stored_in_one_batch_at_contiguous_positions(client):
    import asyncio

    from chat.services import conversations
    from chat.tables import Message
    from sla.tables import ServiceEvent

    merchant, agent = await _chat_shop(capacity=10)
    staff = conversations.Participant(user_id=agent.user_id, organisations={merchant.org_id: "operator"})
    opened = [await conversations.open_for_buyer(merchant.org_id, f"visitor-batch-{n}") for n in range(3)]
    buyers = [conversations.Participant(shop=merchant.org_id, buyer=f"visitor-batch-{n}") for n in range(3)]
    first, _ = await conversations.post(buyers[0], opened[0]["id"], "alone", "one at a time")  # a batch of one
    sizes = []
    store = conversations._GroupCommit.store

    async def counted(self, batch):
        sizes.append(len(batch))
        return await store(self, batch)

    conversations._GroupCommit.store = counted
    try:
        sent = await asyncio.gather(*[conversations.post(buyers[n % 3] if n % 2 == 0 else staff, opened[n % 3]["id"],
                                                         f"b{n}", f"batch {n}") for n in range(30)])
    finally:
        conversations._GroupCommit.store = store
    assert max(sizes) > 1 and all(created for _, created in sent)
    assert {m["sender_kind"] for m, _ in sent} == {"buyer", "agent"}
    for conversation in opened:
        seqs = [r["seq"] for r in await Message.select(Message.seq).where(
            Message.conversation == conversation["id"]).order_by(Message.seq)]
        assert seqs == list(range(1, len(seqs) + 1))
    kinds = [r["kind"] for r in await ServiceEvent.select(ServiceEvent.kind).where(
        ServiceEvent.conversation.is_in([str(c["id"]) for c in opened]))]
    assert kinds.count("buyer_message") == 16 and kinds.count("agent_reply") == 15
    # Inside a caller's transaction a message is stored in it, alone (not batched).
    from fuwu.db import atomic

    async with atomic():
        inside, created = await conversations.post(staff, opened[1]["id"], "in-tx", "inside a transaction")
    assert created and inside["sender_kind"] == "agent"
    assert inside["seq"] == await Message.count().where(Message.conversation == opened[1]["id"])
    # A resend in a batch is answered with the stored message; a stranger's message is refused alone.
    stranger = conversations.Participant(shop=merchant.org_id, buyer="visitor-batch-nobody")
    answers = await asyncio.gather(conversations.post(buyers[2], opened[2]["id"], "b2", "batch 2"),
                                   conversations.post(stranger, opened[2]["id"], "x", "let me in"),
                                   conversations.post(buyers[2], opened[2]["id"], "new", "new one"),
                                   return_exceptions=True)
    assert answers[0][1] is False and answers[0][0]["text"] == "batch 2"
    assert getattr(answers[1], "status_code", None) == 404 and answers[2][1] is True


@case("chat.sql.INSERT_BUSINESS")
async def a_contracts_conversation_is_stored_once_however_many_open_it_at_once(client):
    import asyncio
    import datetime

    from chat.services import business
    from chat.tables import Conversation
    from fuwu.services.accounts import membership
    from sla.tables import Contract

    merchant, provider = await new_actor("merchant"), await new_actor("provider")
    contract = Contract(merchant=merchant.org_id, provider=provider.org_id, category="cs_presales", status="active",
                        starts_at=now(), ends_at=now() + datetime.timedelta(days=30), currency="CNY",
                        pricing_model="periodic_fee", pricing_terms={}, period_fee=1, time_zone="Asia/Shanghai",
                        calendar={})
    await contract.save()
    members = [await membership(merchant.user_id, merchant.org_id), await membership(provider.user_id, provider.org_id)]
    opened = await asyncio.gather(*[business.open_for_contract(members[n % 2], contract.id) for n in range(6)])
    assert len({row["id"] for row in opened}) == 1 and opened[0]["kind"] == "business"
    assert await Conversation.count().where(Conversation.contract == contract.id) == 1


@case("sla.sql.TRACK_RECORD_POSTGRES", "sla.sql.TRACK_RECORD_SQLITE")
async def track_record_equals_the_latest_measurements_counted_in_python(client):
    from sla.tables import Measurement
    from tests.integration.sla.test_track_records import _history

    proven, newcomer = await _history()
    statement = sla.sql.TRACK_RECORD_POSTGRES if db.is_postgres() else sla.sql.TRACK_RECORD_SQLITE
    metrics = ["first_response_time", "inquiry_conversion_rate", "resolution_time"]
    rows = await fetch(statement, db.dump_json([str(proven.org_id), str(newcomer.org_id)]), db.dump_json(metrics))
    got = {(uuid.UUID(str(r["provider"])), r["metric"], r["statistic"]):
           (r["windows"], r["met"], round(float(r["median"]), 9), r["contracts"]) for r in rows}
    # The same from the query builder: the latest version of each window, met or breached.
    latest: dict = {}
    for m in await Measurement.select(
            Measurement.contract.provider.as_alias("provider"), Measurement.target.metric.as_alias("metric"),
            Measurement.target.statistic.as_alias("statistic"), Measurement.target, Measurement.window_start,
            Measurement.version, Measurement.value, Measurement.outcome, Measurement.contract).where(
            Measurement.contract.provider.is_in([proven.org_id, newcomer.org_id])):
        key = (m["target"], m["window_start"])
        if key not in latest or latest[key]["version"] < m["version"]:
            latest[key] = m
    grouped: dict = {}
    for m in latest.values():
        if m["outcome"] in ("met", "breached") and m["value"] is not None and m["metric"] in metrics:
            grouped.setdefault((m["provider"], m["metric"], m["statistic"]), []).append(m)
    expected = {key: (len(ms), sum(m["outcome"] == "met" for m in ms),
                      round(statistics.median(m["value"] for m in ms), 9),
                      len({m["contract"] for m in ms})) for key, ms in grouped.items()}
    assert got == expected and len(got) == 3


# --- ratings -------------------------------------------------------------------------------


@case("ratings.sql.ENSURE_STANDING", "ratings.sql.STORE_EVALUATION", "ratings.sql.MOVE_STANDING")
async def standing_is_made_once_and_an_evaluation_is_stored_once_per_moment(client):
    import datetime

    from ratings.tables import Evaluation, Standing

    provider = await new_actor("provider")
    moment = now()
    for _ in range(2):
        await db.executemany(ratings.sql.ENSURE_STANDING, [(uuid.uuid4(), provider.org_id, moment)])
    rows = await Standing.select().where(Standing.provider == provider.org_id)
    assert [(row["tier"], row["at_risk"], row["below_count"], row["composite"]) for row in rows] == [(0, False, 0, None)]
    key = f"{provider.org_id}:1"
    args = (provider.org_id, moment, key, 60.5, 80.0, 47.25, 50.0, 61.29, 0, 3, True, db.dump_json({"a": [1]}), moment)
    await db.executemany(ratings.sql.STORE_EVALUATION, [(uuid.uuid4(), *args), (uuid.uuid4(), *args)])
    stored = await Evaluation.select().where(Evaluation.key == key).output(load_json=True)
    assert [(row["composite"], row["tier_after"], row["at_risk"], row["explanation"]) for row in stored] == [
        (61.29, 3, True, {"a": [1]})]
    # The standing moves once for a moment: a second move as of the same moment changes nothing.
    as_of = moment.replace(microsecond=0)
    await db.executemany(ratings.sql.MOVE_STANDING, [(provider.org_id, 3, True, 1, 61.29, None, None, as_of, moment)])
    await db.executemany(ratings.sql.MOVE_STANDING, [(provider.org_id, 5, False, 0, 90.0, 6, moment, as_of, moment)])
    row = await Standing.select().where(Standing.provider == provider.org_id).first()
    assert (row["tier"], row["at_risk"], row["below_count"], row["composite"], row["pending_tier"]) == (
        3, True, 1, 61.29, None)
    later = as_of + datetime.timedelta(days=7)
    await db.executemany(ratings.sql.MOVE_STANDING, [(provider.org_id, 4, False, 0, 70.0, None, None, later, moment)])
    assert (await Standing.select(Standing.tier).where(Standing.provider == provider.org_id).first())["tier"] == 4


@case("ratings.sql.RATINGS_BY_PERIOD_POSTGRES", "ratings.sql.RATINGS_BY_PERIOD_SQLITE",
      "sla.sql.MEASURED_BY_PERIOD_POSTGRES", "sla.sql.MEASURED_BY_PERIOD_SQLITE",
      "sla.sql.MILESTONES_BY_PERIOD_POSTGRES", "sla.sql.MILESTONES_BY_PERIOD_SQLITE")
async def figures_by_period_equal_one_query_builder_count_a_period(client):
    """The scorecard's one-pass statements give, period by period, what a query-builder
    count of each period alone gives."""
    import datetime

    from piccolo.query.functions.aggregate import Count, Sum

    from ratings.tables import Rating
    from sla.services.evaluation import attainment, json_moment
    from sla.tables import Measurement, Milestone, MilestoneSubmission
    from tests.integration.ratings.conftest import milestone, signed_contract
    from tests.integration.sla.test_track_records import _history

    proven, newcomer = await _history()
    merchant = await new_actor("merchant")
    day = datetime.timedelta(days=1)
    contract = await signed_contract(merchant, proven, starts=now() - 100 * day)
    for due, late in ((now() - 50 * day, False), (now() - 20 * day, True), (now() - 5 * day, False)):
        await milestone(contract, proven, due=due, submitted=due + (day if late else -day))
    moment = now()
    for days in (3, 10, 40, 70):
        await Rating(contract=contract, merchant=merchant.org_id, provider=proven.org_id, occasion=f"period:{days}",
                     key=f"{contract}:check:{days}", overall=days % 5 + 1, quality=3, communication=3,
                     timeliness=3, author=merchant.user_id, created_at=moment - days * day,
                     publish_after=moment - days * day + 14 * day, status="blind").save()
    ids = [proven.org_id, newcomer.org_id]
    spans = [(moment - (k + 1) * 30 * day, moment - k * 30 * day) for k in range(3)]
    # The statements for this engine, read through the services that run them.
    by_period = await attainment(ids, spans)
    statement = ratings.sql.RATINGS_BY_PERIOD_POSTGRES if db.is_postgres() else ratings.sql.RATINGS_BY_PERIOD_SQLITE
    ordered = sorted(ids, key=str)
    rated = {(uuid.UUID(str(r["provider"])), int(r["k"])): (int(r["n"]), int(r["total"])) for r in await fetch(
        statement, db.dump_json([str(i) for i in ordered]),
        db.dump_json([[k, json_moment(s), json_moment(e)] for k, (s, e) in enumerate(spans)]), moment, ordered[0],
        ordered[-1])}
    for k, (start, end) in enumerate(spans):
        measured = await Measurement.count().where(
            (Measurement.contract.provider == proven.org_id) & (Measurement.window_end > start)
            & (Measurement.window_end <= end) & Measurement.outcome.is_in(["met", "breached"]))
        due = await Milestone.count().where((Milestone.contract.provider == proven.org_id)
                                            & (Milestone.due_at >= start) & (Milestone.due_at < end))
        on_time = await MilestoneSubmission.count().where(
            (MilestoneSubmission.milestone.contract.provider == proven.org_id) & (MilestoneSubmission.number == 1)
            & (MilestoneSubmission.milestone.due_at >= start) & (MilestoneSubmission.milestone.due_at < end)
            & (MilestoneSubmission.submitted_at <= MilestoneSubmission.milestone.due_at))
        got = by_period.get(proven.org_id, [{"measured": 0, "due": 0, "on_time": 0}] * 3)[k]
        assert (got["measured"], got["due"], got["on_time"]) == (measured, due, on_time), k
        counted = (Rating.provider == proven.org_id) & (Rating.created_at >= start) & (Rating.created_at < end) & (
            Rating.publish_after <= moment)
        row = await Rating.select(Count(), Sum(Rating.overall)).where(counted).first()
        assert rated.get((proven.org_id, k), (0, 0)) == (row["count"], row["sum"] or 0), k
    assert sum(p["due"] for p in by_period[proven.org_id]) == 3
    assert sum(p["on_time"] for p in by_period[proven.org_id]) == 2
    # The two newest are still blind (14 days not passed, no review of the merchant): not counted.
    assert sum(n for (_, _), (n, _) in rated.items()) == 2
    assert newcomer.org_id not in by_period


@case("ratings.sql.PROVINCE_ECOSYSTEM", "ratings.sql.PROVIDERS_BY_CITY", "ratings.sql.PROVIDERS_BY_CATEGORY",
      "ratings.sql.PROVIDERS_BY_TIER")
async def analytics_statements_give_the_hand_computed_figures(client):
    # The hand-built world of tests/integration/ratings/test_analytics.py (answers worked out
    # there), in a transaction rolled back: the statements run on this engine as written.
    import datetime as dt

    from tests.integration.ratings.test_analytics import _hand_built_world

    somebody = await new_actor("merchant")
    with pytest.raises(Rollback):
        async with db.atomic():
            world = await _hand_built_world(somebody.user_id)
            moment = world["now"]
            ecosystem = await fetch(ratings.sql.PROVINCE_ECOSYSTEM, moment, moment - dt.timedelta(days=180))
            cities = await fetch(ratings.sql.PROVIDERS_BY_CITY, moment, 2)
            categories = await fetch(ratings.sql.PROVIDERS_BY_CATEGORY, moment)
            tiers = await fetch(ratings.sql.PROVIDERS_BY_TIER, moment)
            raise Rollback
    assert [(row["code"], round(row["ecosystem_index"], 4)) for row in ecosystem[:3]] == [
        ("460000", 1.0), ("330000", 0.4985), ("110000", 0.3159)]
    assert len(ecosystem) == 34 and {row["ecosystem_index"] for row in ecosystem[3:]} == {0}
    assert [(row["code"], row["city"].lower(), row["providers"]) for row in cities] == [
        ("330000", "hangzhou", 2), ("110000", "", 1)]  # $2 rows only
    assert [(row["category"], row["providers"]) for row in categories] == [("design", 4), ("photography", 2),
                                                                          ("video", 1)]
    assert [(row["tier"], row["providers"], row["unplaced"]) for row in tiers] == [
        (6, 1, 0), (5, 1, 0), (4, 1, 0), (3, 1, 0), (0, 2, 1)]


# --- the sweep ---------------------------------------------------------------------------


def test_every_hand_written_statement_has_a_case():
    missing = [name for name in statements() if name not in CASES]
    assert not missing, f"hand-written statements without a case in this file: {missing}"


@pytest.mark.parametrize("name", statements())
async def test_hand_written_statement(name, client):
    if name in SQLITE_ONLY and db.is_postgres():
        pytest.skip(f"{name} is SQLite's variant; the SQLite run of the suite executes it")
    if name in POSTGRES_ONLY and not db.is_postgres():
        pytest.skip(f"{name} is for PostgreSQL only (a lock SQLite's IMMEDIATE transaction makes needless, or "
                    "PostgreSQL's own COPY, settings or statement variant); the PostgreSQL run of the suite "
                    "executes it")
    await CASES[name](client)

