"""The chat's pages over real HTTP: the sample shop page with the widget's one script
tag, the widget's files, the console, the conversation list with its filters, a
transcript paged and escaped, and the canned replies' API."""

from __future__ import annotations

import datetime

from chat.tables import Conversation, Message
from fuwu.clock import now
from fuwu.tables import User
from tests.authz import sign_in
from tests.conftest import add_member, new_actor
from tests.integration.chat.conftest import shop_with_contract


async def _conversation(merchant, provider, agent=None, status="assigned", buyer="visitor-pages-1", opened=None,
                        messages=()):
    row = Conversation(kind="shop", shop=merchant.org_id, provider=provider.org_id, buyer=buyer, status=status,
                       agent=agent.user_id if agent else None, opened_at=opened or now(), seq=len(messages))
    await row.save()
    for seq, (kind, text) in enumerate(messages, start=1):
        await Message(conversation=row.id, seq=seq, position=f"{row.id}:{seq}", client_key=f"{row.id}:c{seq}",
                      sender_kind=kind, text=text, at=now()).save()
    return row.id


async def test_the_sample_shop_page_embeds_the_widget_with_one_script_tag(client):
    merchant = await new_actor("merchant")
    page = await client.get(f"/shops/{merchant.org_id}")
    assert page.status_code == 200
    assert f'<script src="/static/chat/widget.js" data-shop="{merchant.org_id}" defer></script>' in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    widget = await client.get("/static/chat/widget.js")
    assert widget.status_code == 200 and "javascript" in widget.headers["content-type"]
    assert "innerHTML" not in widget.text  # every text is shown with textContent
    assert (await client.get("/static/chat/widget.css")).status_code == 200


async def test_a_shop_page_for_a_provider_or_nobody_is_not_found(client):
    provider = await new_actor("provider")
    assert (await client.get(f"/shops/{provider.org_id}")).status_code == 404
    assert (await client.get("/shops/00000000-0000-0000-0000-000000000000")).status_code == 404


async def test_the_visitor_token_may_be_fetched_from_a_shop_on_another_site(client):
    merchant = await new_actor("merchant")
    answer = await client.get(f"/api/v1/shops/{merchant.org_id}/visitor-token",
                              params={"visitor": "visitor-cors-01"}, headers={"Origin": "https://shop.example"})
    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == "*"


async def test_an_agent_opens_the_console_and_an_evaluator_may_not(client, make_client):
    merchant, provider, _, (agent,) = await shop_with_contract()
    await sign_in(client, agent)
    page = await client.get("/console")
    assert page.status_code == 200
    assert 'src="/static/chat/console.js"' in page.text and f'data-org="{provider.org_id}"' in page.text
    assert 'href="/console"' in page.text  # the nav entry
    evaluator = await add_member(merchant, "evaluator")
    other = await make_client()
    await sign_in(other, evaluator)
    assert (await other.get("/console")).status_code == 403


async def test_the_merchants_console_says_who_serves_its_buyers(client):
    merchant, provider, _, _ = await shop_with_contract()
    await sign_in(client, merchant)
    page = await client.get("/console")
    assert page.status_code == 200 and 'data-testid="served-by"' in page.text


async def test_the_conversation_list_filters_by_status_agent_and_day(client):
    merchant, provider, _, (agent, colleague) = await shop_with_contract(agents=2)
    mine = await _conversation(merchant, provider, agent, buyer="visitor-filter-a")
    closed = await _conversation(merchant, provider, colleague, status="closed", buyer="visitor-filter-b")
    old = await _conversation(merchant, provider, agent, status="closed", buyer="visitor-filter-c",
                              opened=now() - datetime.timedelta(days=10))
    await sign_in(client, merchant)
    everything = (await client.get("/conversations")).text
    assert all(f"/conversations/{cid}" in everything for cid in (mine, closed, old))
    by_status = (await client.get("/conversations", params={"status": "closed"})).text
    assert f"/conversations/{mine}" not in by_status and f"/conversations/{closed}" in by_status
    by_agent = (await client.get("/conversations", params={"agent": str(agent.user_id)})).text
    assert f"/conversations/{closed}" not in by_agent and f"/conversations/{old}" in by_agent
    today = now().astimezone(datetime.timezone(datetime.timedelta(hours=8))).date().isoformat()
    recent = (await client.get("/conversations", params={"from": today})).text
    assert f"/conversations/{old}" not in recent and f"/conversations/{mine}" in recent
    bad = await client.get("/conversations", params={"from": "yesterday"})
    assert bad.status_code == 422 and "YYYY-MM-DD" in bad.text


async def test_the_provider_sees_the_conversations_it_serves_and_not_others(client):
    merchant, provider, _, (agent,) = await shop_with_contract()
    served = await _conversation(merchant, provider, agent, buyer="visitor-served")
    stranger_merchant, stranger_provider, _, (stranger,) = await shop_with_contract()
    foreign = await _conversation(stranger_merchant, stranger_provider, stranger, buyer="visitor-foreign")
    await sign_in(client, provider)
    listed = (await client.get("/conversations")).text
    assert f"/conversations/{served}" in listed and f"/conversations/{foreign}" not in listed
    assert (await client.get(f"/conversations/{foreign}")).status_code == 404


async def test_a_transcript_is_paged_and_shows_text_escaped(client):
    merchant, provider, _, (agent,) = await shop_with_contract()
    lines = [("buyer", "<script>alert(1)</script>")] + [("agent", f"answer {n}") for n in range(2, 61)]
    conversation = await _conversation(merchant, provider, agent, messages=lines)
    await sign_in(client, merchant)
    latest = await client.get(f"/conversations/{conversation}")
    assert latest.status_code == 200
    assert "answer 60" in latest.text and "answer 10" not in latest.text
    assert "<script>alert(1)</script>" not in latest.text
    assert "?before_seq=11" in latest.text
    older = await client.get(f"/conversations/{conversation}", params={"before_seq": 11})
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in older.text and "answer 10" in older.text
    assert "answer 11" not in older.text


async def test_canned_replies_are_added_by_a_manager_read_by_agents_and_removed(client, make_client):
    merchant, provider, _, (agent,) = await shop_with_contract()
    manager = await add_member(provider, "manager")
    url = f"/api/v1/orgs/{provider.org_id}/canned-replies"
    added = await client.post(url, json={"title": "Delivery", "text": "We ship within 48 hours."},
                              headers={**manager.headers, "Idempotency-Key": "canned-1"})
    assert added.status_code == 201, added.text
    again = await client.post(url, json={"title": "Delivery", "text": "We ship within 48 hours."},
                              headers={**manager.headers, "Idempotency-Key": "canned-1"})
    assert again.json()["id"] == added.json()["id"]
    listed = await client.get(url, headers=agent.headers)
    assert [r["title"] for r in listed.json()] == ["Delivery"]
    refused = await client.post(url, json={"title": "Mine", "text": "x"}, headers=agent.headers)
    assert refused.status_code == 403
    blank = await client.post(url, json={"title": " ", "text": "x"}, headers=manager.headers)
    assert blank.status_code == 422
    assert (await client.get(f"/api/v1/orgs/{merchant.org_id}/canned-replies", headers=merchant.headers)).json() == []
    removed = await client.delete(f"{url}/{added.json()['id']}", headers=manager.headers)
    assert removed.status_code == 204
    assert (await client.get(url, headers=agent.headers)).json() == []
    assert (await client.delete(f"{url}/{added.json()['id']}", headers=manager.headers)).status_code == 404


async def test_the_chat_pages_speak_chinese(client):
    merchant, provider, _, (agent,) = await shop_with_contract()
    await _conversation(merchant, provider, agent, status="closed", buyer="visitor-zh-01")
    await User.update({User.locale: "zh_Hans"}).where(User.id == agent.user_id)
    await sign_in(client, agent)
    chinese = {"Accept-Language": "zh-CN"}
    console = await client.get("/console")
    assert console.status_code == 200 and '<html lang="zh-Hans">' in console.text
    assert "我的会话" in console.text and "快捷回复" in console.text and "自 {time} 起等待" in console.text
    listed = await client.get("/conversations")
    assert "开始日期从" in listed.text and "visitor-zh-01" in listed.text
    client.cookies.clear()  # someone not signed in: the browser's language
    shop = await client.get(f"/shops/{merchant.org_id}", headers=chinese)
    assert '<html lang="zh-Hans">' in shop.text
    assert "春季印花真丝围巾" in shop.text
