"""The attachment upload answers a malformed multipart body with 400, never a 500,
and checks who is asking before it reads the body: a caller who is not a member of
the organisation in the path gets 404 however broken the body is."""

from __future__ import annotations

import pytest

from bids.tables import BidAttachment
from tests.conftest import assert_problem, new_actor
from tests.tendering import bid_body, published_tender, tender_url

pytestmark = pytest.mark.usefixtures("quick_password_hashing")

BOUNDARY = "fuwuboundary"
BODIES = {
    "only-a-text-field": (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhello\r\n"
                          f"--{BOUNDARY}--\r\n").encode(),
    "only-the-closing-boundary": f"--{BOUNDARY}--\r\n".encode(),
    "empty": b"",
    "no-boundary-at-all": b"just some bytes",
    "unterminated-part": (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"data\"; "
                          f"filename=\"a.pdf\"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.4").encode(),
}


async def _tender_with_bid(client):
    merchant = await new_actor("merchant")
    provider = await new_actor("provider")
    tid = (await published_tender(client, merchant))["id"]
    submitted = await client.post(tender_url(provider, tid, "/bid"), json=bid_body(), headers=provider.headers)
    assert submitted.status_code == 201, submitted.text
    return merchant, provider, tid, submitted.json()["id"]


def _post(client, url, actor, body, content_type=f"multipart/form-data; boundary={BOUNDARY}"):
    return client.post(url, content=body, headers={**actor.headers, "Content-Type": content_type})


@pytest.mark.parametrize("shape", list(BODIES))
async def test_a_multipart_body_without_a_file_gets_400_from_the_bidder(client, shape):
    _, provider, tid, bid_id = await _tender_with_bid(client)
    response = await _post(client, tender_url(provider, tid, "/bid/attachments"), provider, BODIES[shape])
    body = assert_problem(response, 400)
    assert body["code"] in ("file_missing", "invalid_multipart") and "multipart/form-data" in body["detail"]
    assert await BidAttachment.count().where(BidAttachment.bid == bid_id) == 0


async def test_a_multipart_body_with_a_boundary_missing_from_the_header_gets_400(client):
    _, provider, tid, _ = await _tender_with_bid(client)
    response = await _post(client, tender_url(provider, tid, "/bid/attachments"), provider, BODIES["only-a-text-field"],
                           content_type="multipart/form-data")
    assert_problem(response, 400, "invalid_multipart")


@pytest.mark.parametrize("shape", list(BODIES))
async def test_a_caller_outside_the_organisation_gets_404_before_the_body_is_read(client, shape):
    merchant, provider, tid, _ = await _tender_with_bid(client)
    stranger = await new_actor("provider")
    # The provider's organisation in the path, the stranger's token.
    response = await _post(client, tender_url(provider, tid, "/bid/attachments"), stranger, BODIES[shape])
    assert_problem(response, 404)
    # Without a token at all: 401, whatever the body.
    anonymous = await client.post(tender_url(provider, tid, "/bid/attachments"), content=BODIES[shape],
                                  headers={"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"})
    assert_problem(anonymous, 401)
