"""The main pages, as a merchant, a provider and a platform admin read them in English
and in Chinese, show words and local times: never a stored code (`cs_presales`,
`key_account`, `status_published`) or an ISO timestamp in UTC."""

from __future__ import annotations

import datetime
import re
from html.parser import HTMLParser
from types import SimpleNamespace

import pytest

from fuwu.clock import now
from fuwu.services import accounts
from tests.conftest import add_member, new_actor, web_login
from tests.tendering import bid_body, iso, pass_bid_deadline, published_tender, tender_url

# A stored code: a lowercase word joined to another by an underscore.
CODE = re.compile(r"(?<![\w@/.#-])[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?![\w@/-])")
ISO = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
# Addresses and e-mails may hold underscores; they are not codes.
NOT_WORDS = re.compile(r"\S+@\S+|https?://\S+|/[\w/.-]+")


class _Text(HTMLParser):
    """The text a reader sees. <code> shows identifiers and raw changes on purpose
    (audit details, token prefixes); scripts, styles and templates are not shown."""

    HIDDEN = {"script", "style", "template", "code"}

    def __init__(self) -> None:
        super().__init__()
        self.depth = 0
        self.parts: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in self.HIDDEN:
            self.depth += 1

    def handle_endtag(self, tag):
        if tag in self.HIDDEN and self.depth:
            self.depth -= 1

    def handle_data(self, data):
        if not self.depth:
            self.parts.append(data)


def page_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


def problems(text: str) -> list[str]:
    words = NOT_WORDS.sub(" ", text)
    return CODE.findall(words) + ISO.findall(words)


def test_the_checker_catches_codes_and_iso_times():
    assert problems(page_text("<p>Size: key_account</p>")) == ["key_account"]
    assert problems(page_text("<p>At 2026-12-08T10:00:00+00:00</p>")) == ["2026-12-08T10:00"]
    assert problems(page_text("<p>Customer service (pre-sales), 2026-12-08 18:00 <code>status_published</code>"
                              " a_b@example.test /tenders/x_y</p>")) == []


async def _scenario(client):
    """A tender run as far as a presentation being scheduled: the merchant (a key
    account) with an evaluator, three providers, questions, bids, a closed round."""
    merchant = await new_actor("merchant", size="key_account")
    evaluator = await add_member(merchant, "evaluator")
    alpha, beta = await new_actor("provider", categories=["cs_presales", "cs_postsales"]), await new_actor("provider")
    admin_email = f"admin-{merchant.org_id}@example.test"
    await accounts.create_admin(admin_email, merchant.password, "Platform admin")
    targets = [
        {"metric": "first_response_time", "statistic": "mean", "comparator": "<=", "target": 25, "window": "month",
         "weight": 30, "service_credit_percent": 5},
        {"metric": "inquiry_conversion_rate", "statistic": "rate", "comparator": ">=", "target": 0.3,
         "window": "month", "weight": 40, "service_credit_percent": 5},
        {"metric": "service_attitude", "statistic": "mean", "comparator": ">=", "target": 4.8, "window": "week",
         "weight": 30, "service_credit_percent": 2},
    ]
    tender = await published_tender(client, merchant, sla_targets=targets)
    tid = tender["id"]
    # a second tender stays a draft; a third is cancelled
    drafted = await client.post(tender_url(merchant), json={**_body(), "title": "Photography for spring"},
                                headers=merchant.headers)
    assert drafted.status_code == 201, drafted.text
    cancelled = await published_tender(client, merchant, title="Cancelled tender")
    response = await client.post(tender_url(merchant, cancelled["id"], "/cancel"), json={"reason": "Budget cut"},
                                 headers=merchant.headers)
    assert response.status_code == 200, response.text
    asked = await client.post(tender_url(alpha, tid, "/questions"), json={"text": "Night coverage?"},
                              headers=alpha.headers)
    await client.post(tender_url(merchant, tid, f"/questions/{asked.json()['id']}/answer"),
                      json={"answer": "Until 24:00."}, headers=merchant.headers)
    for actor, price in ((alpha, 4_000_000), (beta, 3_800_000)):
        commitment = [{"metric": "inquiry_conversion_rate", "statistic": "rate", "comparator": ">=", "target": 0.35,
                       "window": "month"}]
        response = await client.post(tender_url(actor, tid, "/bid"), json=bid_body(price, sla_commitment=commitment),
                                     headers=actor.headers)
        assert response.status_code == 201, response.text
    await pass_bid_deadline(tid)
    await client.get(tender_url(merchant, tid), headers=merchant.headers)  # closes bidding
    bids = (await client.get(tender_url(merchant, tid, "/bids"), headers=merchant.headers)).json()["items"]
    await client.post(tender_url(merchant, tid, "/evaluation/start"), headers=merchant.headers)
    for actor in (merchant, evaluator):
        for bid in bids:
            await client.post(tender_url(merchant, tid, "/rounds/1/scores"), headers=actor.headers,
                              json={"bid_id": bid["id"], "scores": [{"criterion": 1, "value": 8}]})
    await client.post(tender_url(merchant, tid, "/rounds/1/close"), headers=merchant.headers)
    await client.post(tender_url(merchant, tid, "/rounds/1/shortlist"), json={"top": 2}, headers=merchant.headers)
    start = now() + datetime.timedelta(days=1)
    slot = await client.post(tender_url(merchant, tid, "/rounds/2/slots"), headers=merchant.headers, json={
        "bid_id": bids[0]["id"], "starts_at": iso(start), "ends_at": iso(start + datetime.timedelta(minutes=45)),
        "place": "Hangzhou office"})
    assert slot.status_code == 201, slot.text
    admin_user = await accounts.authenticate(admin_email, merchant.password, "192.0.2.9")
    return merchant, alpha, admin_user, admin_email, tid


def _body() -> dict:
    from tests.tendering import tender_body

    return tender_body(category="photography", requirements={"skus": 40, "models": 1, "location": "Hangzhou"})


@pytest.mark.parametrize("locale", ["en", "zh_Hans"])
async def test_main_pages_show_words_and_local_times(client, make_client, locale):
    merchant, provider, admin_user, admin_email, tid = await _scenario(client)
    readers = [
        (merchant.user_id, merchant.email, ["/dashboard", "/org", "/providers", f"/providers/{provider.org_id}",
                                            "/audit", "/notifications", "/account", "/tenders", "/tenders/new",
                                            f"/tenders/{tid}", f"/tenders/{tid}/audit", f"/tenders/{tid}/evaluation",
                                            f"/tenders/{tid}/comparison"]),
        (provider.user_id, provider.email, ["/dashboard", "/org", "/open-tenders", f"/tenders/{tid}",
                                            f"/tenders/{tid}/bid", "/notifications", "/audit", "/providers"]),
        (admin_user["id"], admin_email, ["/dashboard", "/admin", "/admin?kind=merchant", "/audit", "/providers"]),
    ]
    seen = {}
    for user_id, email, paths in readers:
        await accounts.set_locale(user_id, locale)
        reader = await make_client()
        await web_login(reader, SimpleNamespace(email=email, password=merchant.password))
        for path in paths:
            response = await reader.get(path)
            assert response.status_code == 200, (path, response.status_code)
            text = page_text(response.text)
            seen[(email, path)] = problems(text)
    shown = {key: found for key, found in seen.items() if found}
    assert not shown, shown
