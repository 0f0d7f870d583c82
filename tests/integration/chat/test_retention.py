"""Retention, export and erasure of chat transcripts: a shop's owner or operator exports a
buyer's messages as JSON and erases them on request (texts become the marker, audited,
the rows' seq and times and the SLA events stay); the scheduled job erases texts older
than FUWU_CHAT_RETENTION_DAYS and nothing newer."""

from __future__ import annotations

import datetime

from chat import jobs
from chat.services import conversations, retention
from chat.services.conversations import Participant
from chat.tables import Conversation, Message
from fuwu import settings as fuwu_settings
from fuwu.clock import now
from fuwu.tables import AuditEvent
from sla.tables import ServiceEvent
from tests.conftest import add_member
from tests.integration.chat.conftest import shop_with_contract


async def _talk(merchant, provider, agent, buyer: str, lines: int = 3) -> dict:
    """A buyer's conversation with the shop, answered by the agent, closed and rated."""
    await provider_online(provider, agent)
    conversation = await conversations.open_for_buyer(merchant.org_id, buyer)
    me = Participant(shop=merchant.org_id, buyer=buyer)
    staff = Participant(user_id=agent.user_id, organisations={provider.org_id: "agent"})
    for number in range(lines):
        await conversations.post(me, conversation["id"], f"{buyer}-q{number}", f"My address is {number} Silk Road")
        await conversations.post(staff, conversation["id"], f"{buyer}-a{number}", f"Shipping to {number} Silk Road")
    await conversations.close(staff, conversation["id"])
    await conversations.rate(me, conversation["id"], 4, "Call me on 138 0000 0000")
    return conversation


async def provider_online(provider, agent) -> None:
    from chat.services import presence
    from fuwu.services import accounts

    await presence.set_presence(await accounts.membership(agent.user_id, provider.org_id), agent.user_id, "online")


async def _texts(conversation_id) -> list[tuple[int, str]]:
    rows = await Message.select(Message.seq, Message.text).where(Message.conversation == conversation_id).order_by(
        Message.seq)
    return [(int(r["seq"]), r["text"]) for r in rows]


async def test_the_shop_exports_a_buyers_messages_and_erases_them_on_request(client):
    merchant, provider, contract_id, (agent,) = await shop_with_contract(capacity=5)
    first = await _talk(merchant, provider, agent, "visitor-erase-me")
    second = await _talk(merchant, provider, agent, "visitor-erase-me", lines=1)  # reopened later: a second one
    other = await _talk(merchant, provider, agent, "visitor-keep-me", lines=1)
    url = f"/api/v1/orgs/{merchant.org_id}/buyers/visitor-erase-me/messages"
    events_before = await ServiceEvent.count().where(ServiceEvent.contract == contract_id)

    exported = await client.get(url, headers=merchant.headers)
    assert exported.status_code == 200, exported.text
    body = exported.json()
    assert body["buyer"] == "visitor-erase-me" and [c["id"] for c in body["conversations"]] == [
        str(first["id"]), str(second["id"])]
    transcript = body["conversations"][0]
    assert [(m["sender"], m["text"]) for m in transcript["messages"] if m["sender"] != "system"][:2] == [
        ("buyer", "My address is 0 Silk Road"), ("agent", "Shipping to 0 Silk Road")]
    assert [m["seq"] for m in transcript["messages"]] == list(range(1, len(transcript["messages"]) + 1))
    assert transcript["rating"] == 4 and transcript["rating_comment"] == "Call me on 138 0000 0000"
    assert not any(m["erased"] for m in transcript["messages"])

    seqs_before = [seq for seq, _ in await _texts(first["id"])]
    erased = await client.delete(url, headers=merchant.headers)
    assert erased.status_code == 200, erased.text
    total = len(seqs_before) + len(await _texts(second["id"]))
    assert erased.json() == {"buyer": "visitor-erase-me", "conversations": 2, "erased": total}
    # Every text of the buyer's conversations is the marker; positions and times stay.
    after = await _texts(first["id"])
    assert [seq for seq, _ in after] == seqs_before and {text for _, text in after} == {retention.ERASED}
    row = await Conversation.select(Conversation.rating, Conversation.rating_comment).where(
        Conversation.id == first["id"]).first()
    assert row == {"rating": 4, "rating_comment": ""}
    # Another buyer of the same shop keeps everything; the SLA figures keep their events.
    assert retention.ERASED not in {text for _, text in await _texts(other["id"])}
    assert await ServiceEvent.count().where(ServiceEvent.contract == contract_id) == events_before
    audited = await AuditEvent.select(AuditEvent.object_id, AuditEvent.after, AuditEvent.actor).where(
        (AuditEvent.action == "erased") & (AuditEvent.organisation == merchant.org_id))
    assert {a["object_id"] for a in audited} == {str(first["id"]), str(second["id"])}
    assert all(a["actor"] == merchant.user_id for a in audited)

    again = await client.get(url, headers=merchant.headers)
    assert all(m["erased"] and m["text"] == "[erased]" for c in again.json()["conversations"] for m in c["messages"])
    assert (await client.delete(url, headers=merchant.headers)).json()["erased"] == 0  # nothing more to erase


async def test_an_operator_may_erase_an_evaluator_or_the_provider_may_not(client):
    merchant, provider, _, (agent,) = await shop_with_contract()
    await _talk(merchant, provider, agent, "visitor-asks-01", lines=1)
    url = f"/api/v1/orgs/{merchant.org_id}/buyers/visitor-asks-01/messages"
    operator, evaluator = await add_member(merchant, "operator"), await add_member(merchant, "evaluator")
    assert (await client.get(url, headers=operator.headers)).status_code == 200
    refused = await client.delete(url, headers=evaluator.headers)
    assert refused.status_code == 403 and refused.json()["code"] == "role_not_allowed"
    # The provider serves the chat but is not the shop: its own org path knows no such buyer.
    served = f"/api/v1/orgs/{provider.org_id}/buyers/visitor-asks-01/messages"
    assert (await client.delete(served, headers=provider.headers)).status_code == 404
    assert (await client.delete(url, headers=provider.headers)).status_code == 404  # not a member of the shop
    unknown = await client.get(f"/api/v1/orgs/{merchant.org_id}/buyers/visitor-never-here/messages",
                               headers=merchant.headers)
    assert unknown.status_code == 404
    bad = await client.get(f"/api/v1/orgs/{merchant.org_id}/buyers/not%20a%20visitor/messages",
                           headers=merchant.headers)
    assert bad.status_code == 422 and bad.json()["code"] == "visitor_token_invalid", bad.text
    assert (await client.delete(url, headers=operator.headers)).json()["erased"] > 0


async def test_the_job_erases_texts_older_than_the_retention_period_and_keeps_the_figures(monkeypatch):
    merchant, provider, contract_id, (agent,) = await shop_with_contract(capacity=5)
    old = await _talk(merchant, provider, agent, "visitor-long-ago", lines=2)
    recent = await _talk(merchant, provider, agent, "visitor-yesterday", lines=2)
    long_ago = now() - datetime.timedelta(days=400)
    await Message.update({Message.at: long_ago}).where(Message.conversation == old["id"])
    await Conversation.update({Conversation.closed_at: long_ago}).where(Conversation.id == old["id"])
    events_before = await ServiceEvent.count().where(ServiceEvent.contract == contract_id)

    monkeypatch.setenv("FUWU_CHAT_RETENTION_DAYS", "365")
    fuwu_settings.get_settings.cache_clear()
    try:
        assert fuwu_settings.get_settings().chat_retention_days == 365
        done = await retention.erase_expired()
    finally:
        fuwu_settings.get_settings.cache_clear()
    assert done["erased"] >= len(await _texts(old["id"]))
    assert {text for _, text in await _texts(old["id"])} == {retention.ERASED}
    assert retention.ERASED not in {text for _, text in await _texts(recent["id"])}
    olds = await Conversation.select(Conversation.id, Conversation.rating_comment, Conversation.rating).where(
        Conversation.id.is_in([old["id"], recent["id"]]))
    assert {r["id"]: (r["rating"], r["rating_comment"]) for r in olds} == {
        old["id"]: (4, ""), recent["id"]: (4, "Call me on 138 0000 0000")}
    assert [seq for seq, _ in await _texts(old["id"])] == list(range(1, len(await _texts(old["id"])) + 1))
    assert await ServiceEvent.count().where(ServiceEvent.contract == contract_id) == events_before
    # A shorter period, set by the setting, reaches the recent one too; running again is harmless.
    monkeypatch.setenv("FUWU_CHAT_RETENTION_DAYS", "0")
    fuwu_settings.get_settings.cache_clear()
    try:
        await retention.erase_expired(now() + datetime.timedelta(seconds=1))
        assert (await retention.erase_expired(now() + datetime.timedelta(seconds=1)))["erased"] == 0
    finally:
        fuwu_settings.get_settings.cache_clear()
    assert {text for _, text in await _texts(recent["id"])} == {retention.ERASED}


def test_the_retention_job_is_scheduled():
    assert "chat.retention" in {job.id for job in jobs.JOBS}
