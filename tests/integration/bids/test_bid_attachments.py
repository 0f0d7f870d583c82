"""Files of a bid (DESIGN.md section 3): type and size limits with clear 4xx errors;
the stored file is downloadable by its own provider at any time, by the merchant's
team only once bids are unsealed, and is not found for anyone else."""

from __future__ import annotations

import dataclasses
import hashlib

import pytest

from fuwu.settings import get_settings
from bids.services.submission import MAX_ATTACHMENTS, attachment_dir
from bids.tables import BidAttachment
from tests.conftest import add_member, assert_problem, new_actor
from tests.tendering import bid_body, pass_bid_deadline, published_tender, tender_url

pytestmark = pytest.mark.usefixtures("quick_password_hashing")
PDF = b"%PDF-1.4\n% our staffing plan\n" + bytes(range(256)) * 4


async def _upload(client, provider, tid, name="plan.pdf", content=PDF, content_type="application/pdf"):
    return await client.post(tender_url(provider, tid, "/bid/attachments"), headers=provider.headers,
                             files={"data": (name, content, content_type)})


async def _tender_with_bid(client):
    merchant = await new_actor("merchant")
    provider = await new_actor("provider")
    tid = (await published_tender(client, merchant))["id"]
    submitted = await client.post(tender_url(provider, tid, "/bid"), json=bid_body(), headers=provider.headers)
    assert submitted.status_code == 201, submitted.text
    return merchant, provider, tid, submitted.json()["id"]


def _stored_files() -> set[str]:
    return {p.name for p in attachment_dir().iterdir()}


async def test_file_is_read_by_its_provider_and_by_the_merchant_only_after_the_deadline(client):
    merchant, provider, tid, bid_id = await _tender_with_bid(client)
    evaluator = await add_member(merchant, "evaluator")
    rival = await new_actor("provider")
    await client.post(tender_url(rival, tid, "/bid"), json=bid_body(5_000_000), headers=rival.headers)
    other_merchant = await new_actor("merchant")
    uploaded = await _upload(client, provider, tid)
    assert uploaded.status_code == 201, uploaded.text
    file = uploaded.json()
    assert file["filename"] == "plan.pdf" and file["content_type"] == "application/pdf"
    assert file["size_bytes"] == len(PDF) and file["sha256"] == hashlib.sha256(PDF).hexdigest()
    mine = (await client.get(tender_url(provider, tid, "/bid"), headers=provider.headers)).json()
    assert [a["id"] for a in mine["attachments"]] == [file["id"]]
    path = f"/attachments/{file['id']}"

    own = await client.get(tender_url(provider, tid, path), headers=provider.headers)
    assert own.status_code == 200 and own.content == PDF
    assert own.headers["content-type"].startswith("application/pdf")
    assert "plan.pdf" in own.headers.get("content-disposition", "")
    for reader in (merchant, evaluator):
        assert_problem(await client.get(tender_url(reader, tid, path), headers=reader.headers), 409, "bids_sealed")
    assert_problem(await client.get(tender_url(rival, tid, path), headers=rival.headers), 404, "file_not_found")
    assert_problem(await client.get(tender_url(other_merchant, tid, path), headers=other_merchant.headers), 404)
    # The provider's own org path only: another org's path is not found.
    assert_problem(await client.get(tender_url(merchant, tid, path), headers=provider.headers), 404)

    await pass_bid_deadline(tid)
    for reader in (merchant, evaluator):
        opened = await client.get(tender_url(reader, tid, path), headers=reader.headers)
        assert opened.status_code == 200 and opened.content == PDF
    assert (await client.get(tender_url(provider, tid, path), headers=provider.headers)).content == PDF
    assert_problem(await client.get(tender_url(rival, tid, path), headers=rival.headers), 404, "file_not_found")
    assert_problem(await client.get(tender_url(other_merchant, tid, path), headers=other_merchant.headers), 404)
    listed = (await client.get(tender_url(merchant, tid, f"/bids/{bid_id}"), headers=merchant.headers)).json()
    assert [a["id"] for a in listed["attachments"]] == [file["id"]]


async def test_a_file_id_of_another_tender_is_not_found(client):
    merchant, provider, tid, _ = await _tender_with_bid(client)
    other_tid = (await published_tender(client, merchant))["id"]
    file_id = (await _upload(client, provider, tid)).json()["id"]
    assert_problem(await client.get(tender_url(provider, other_tid, f"/attachments/{file_id}"), headers=provider.headers),
                   404, "file_not_found")


@pytest.mark.parametrize(("name", "content", "content_type"), [
    pytest.param("tool.exe", b"MZ\x90\x00", "application/x-msdownload", id="executable"),
    pytest.param("page.html", b"<script>alert(1)</script>", "text/html", id="html"),
    pytest.param("noext", b"data", "application/octet-stream", id="unknown-type"),
    pytest.param("empty.pdf", b"", "application/pdf", id="empty"),
])
async def test_files_of_a_wrong_type_or_empty_are_refused_and_nothing_is_stored(client, name, content, content_type):
    _, provider, tid, bid_id = await _tender_with_bid(client)
    before = _stored_files()
    assert_problem(await _upload(client, provider, tid, name, content, content_type), 422, "attachment_invalid")
    assert _stored_files() == before
    assert await BidAttachment.count().where(BidAttachment.bid == bid_id) == 0


async def test_type_is_taken_from_the_name_when_the_declared_type_is_generic(client):
    _, provider, tid, _ = await _tender_with_bid(client)
    uploaded = await _upload(client, provider, tid, "photo.png", b"\x89PNG\r\n\x1a\n....", "application/octet-stream")
    assert uploaded.status_code == 201 and uploaded.json()["content_type"] == "image/png"
    named = await _upload(client, provider, tid, "../../etc/passwd.txt", b"hello", "text/plain")
    assert named.status_code == 201 and named.json()["filename"] == "passwd.txt"


async def test_files_over_the_size_limit_are_refused(client, monkeypatch):
    settings = dataclasses.replace(get_settings(), upload_max_bytes=1024)
    monkeypatch.setattr("bids.services.submission.get_settings", lambda: settings)
    _, provider, tid, bid_id = await _tender_with_bid(client)
    before = _stored_files()
    fits = await _upload(client, provider, tid, content=b"x" * 1024, content_type="text/plain", name="a.txt")
    assert fits.status_code == 201
    assert_problem(await _upload(client, provider, tid, content=b"x" * 1025, content_type="text/plain", name="b.txt"),
                   422, "attachment_invalid")
    assert len(_stored_files() - before) == 1
    assert await BidAttachment.count().where(BidAttachment.bid == bid_id) == 1


async def test_request_bodies_over_the_server_limit_get_413(client):
    _, provider, tid, bid_id = await _tender_with_bid(client)
    too_big = await _upload(client, provider, tid, content=b"0" * (get_settings().upload_max_bytes + 1024 * 1024 + 1),
                            content_type="text/plain", name="big.txt")
    assert_problem(too_big, 413, "request_too_large")
    assert await BidAttachment.count().where(BidAttachment.bid == bid_id) == 0


async def test_a_file_within_the_documented_size_limit_is_accepted(client):
    _, provider, tid, _ = await _tender_with_bid(client)
    assert get_settings().upload_max_bytes >= 12 * 1024 * 1024
    uploaded = await _upload(client, provider, tid, content=b"%PDF" + b"0" * (12 * 1024 * 1024))
    assert uploaded.status_code == 201, uploaded.text[:300]


async def test_a_bid_holds_at_most_the_maximum_number_of_files(client):
    _, provider, tid, bid_id = await _tender_with_bid(client)
    for n in range(MAX_ATTACHMENTS):
        assert (await _upload(client, provider, tid, f"f{n}.txt", b"x", "text/plain")).status_code == 201
    before = _stored_files()
    assert_problem(await _upload(client, provider, tid, "one-more.txt", b"x", "text/plain"), 422, "attachment_invalid")
    assert _stored_files() == before
    assert await BidAttachment.count().where(BidAttachment.bid == bid_id) == MAX_ATTACHMENTS


async def test_files_need_a_live_bid_before_the_deadline(client):
    merchant = await new_actor("merchant")
    provider = await new_actor("provider")
    tid = (await published_tender(client, merchant))["id"]
    before = _stored_files()
    assert_problem(await _upload(client, provider, tid), 409, "no_live_bid")
    await client.post(tender_url(provider, tid, "/bid"), json=bid_body(), headers=provider.headers)
    await pass_bid_deadline(tid)
    assert_problem(await _upload(client, provider, tid), 409, "bid_deadline_passed")
    assert _stored_files() == before
    assert_problem(await _upload(client, merchant, tid), 404)
