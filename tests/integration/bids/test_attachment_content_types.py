"""A bid's file is what its content says it is, not what the uploader declares: the
type is sniffed from the bytes, stored and served; executables, content that
disagrees with the name's extension, and names that hide their extension behind
bidirectional or other control characters are refused or cleaned."""

from __future__ import annotations

import io
import zipfile

import pytest

from bids.services.submission import attachment_dir
from bids.tables import BidAttachment
from tests.conftest import assert_problem, new_actor
from tests.tendering import bid_body, published_tender, tender_url

pytestmark = pytest.mark.usefixtures("quick_password_hashing")

PDF = b"%PDF-1.4\n% plan\n" + bytes(range(256)) * 4 + b"\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64 + b"\xff\xd9"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48 + b"PE\x00\x00"
ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 56
HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"


def _zip(*names: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in names:
            archive.writestr(name, "<x/>")
    return buffer.getvalue()


DOCX = _zip("[Content_Types].xml", "_rels/.rels", "word/document.xml")
XLSX = _zip("[Content_Types].xml", "_rels/.rels", "xl/workbook.xml")


async def _bid(client):
    merchant = await new_actor("merchant")
    provider = await new_actor("provider")
    tid = (await published_tender(client, merchant))["id"]
    submitted = await client.post(tender_url(provider, tid, "/bid"), json=bid_body(), headers=provider.headers)
    assert submitted.status_code == 201, submitted.text
    return provider, tid, submitted.json()["id"]


async def _upload(client, provider, tid, name, content, declared):
    return await client.post(tender_url(provider, tid, "/bid/attachments"), headers=provider.headers,
                             files={"data": (name, content, declared)})


@pytest.mark.parametrize(("name", "content", "declared"), [
    pytest.param("payload.exe", b"just some words", "text/plain", id="exe-name-declared-text"),
    pytest.param("payload.txt", EXE, "text/plain", id="exe-content-named-text"),
    pytest.param("notes.pdf", EXE, "application/pdf", id="exe-content-named-pdf"),
    pytest.param("tool.png", ELF, "image/png", id="elf-content-named-png"),
    pytest.param("spoof2.html", HTML, "image/png", id="html-declared-png"),
    pytest.param("spoof.png", HTML, "image/png", id="html-content-named-png"),
    pytest.param("readme.txt", HTML, "text/plain", id="html-content-named-text"),
    pytest.param("invoice\u202egpj.exe", JPEG, "image/jpeg", id="bidi-override-hides-exe"),
    pytest.param("photo.jpg", PNG, "image/jpeg", id="png-content-named-jpg"),
    pytest.param("plan.pdf", PNG, "application/pdf", id="png-content-named-pdf"),
    pytest.param("report.docx", XLSX, "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                 id="spreadsheet-named-docx"),
    pytest.param("bundle.zip", _zip("readme.txt", "setup.exe"), "application/zip", id="zip-holding-an-exe"),
    pytest.param("app.zip", _zip("META-INF/MANIFEST.MF", "App.class"), "application/zip", id="java-archive"),
    pytest.param("broken.zip", b"PK\x03\x04 not really a zip", "application/zip", id="corrupt-zip"),
    pytest.param("binary.txt", bytes(range(256)), "text/plain", id="binary-named-text"),
])
async def test_a_file_whose_content_is_not_what_its_name_says_is_refused(client, name, content, declared):
    provider, tid, bid_id = await _bid(client)
    before = {p.name for p in attachment_dir().iterdir()}
    assert_problem(await _upload(client, provider, tid, name, content, declared), 422, "attachment_invalid")
    assert {p.name for p in attachment_dir().iterdir()} == before
    assert await BidAttachment.count().where(BidAttachment.bid == bid_id) == 0


@pytest.mark.parametrize(("name", "content", "declared", "expected"), [
    pytest.param("plan.pdf", PDF, "text/html", "application/pdf", id="pdf-declared-html"),
    pytest.param("photo.PNG", PNG, "application/octet-stream", "image/png", id="png-generic"),
    pytest.param("photo.jpeg", JPEG, "image/png", "image/jpeg", id="jpeg-declared-png"),
    pytest.param("notes.txt", "价格说明 and notes\n".encode(), "image/png", "text/plain", id="text-declared-png"),
    pytest.param("team.docx", DOCX, "application/zip",
                 "application/vnd.openxmlformats-officedocument.wordprocessingml.document", id="docx"),
    pytest.param("sheet.xlsx", XLSX, "application/octet-stream",
                 "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", id="xlsx"),
    pytest.param("bundle.zip", _zip("a.txt", "b.pdf"), "application/x-zip-compressed", "application/zip", id="zip"),
])
async def test_the_type_is_sniffed_from_the_content_stored_and_served(client, name, content, declared, expected):
    provider, tid, _ = await _bid(client)
    uploaded = await _upload(client, provider, tid, name, content, declared)
    assert uploaded.status_code == 201, uploaded.text
    assert uploaded.json()["content_type"] == expected
    listed = (await client.get(tender_url(provider, tid, "/bid"), headers=provider.headers)).json()["attachments"]
    assert [a["content_type"] for a in listed] == [expected]
    served = await client.get(tender_url(provider, tid, f"/attachments/{uploaded.json()['id']}"),
                              headers=provider.headers)
    assert served.status_code == 200 and served.content == content
    assert served.headers["content-type"].split(";")[0] == expected


@pytest.mark.parametrize(("sent", "kept"), [
    pytest.param("plan\u202efdp.pdf", "planfdp.pdf", id="right-to-left-override"),
    pytest.param("\u2066plan\u2069 v2\u200b.pdf", "plan v2.pdf", id="isolates-and-zero-width"),
    pytest.param("plan\u0085\u007f\ue000.pdf", "plan.pdf", id="c1-delete-and-private-use"),
    pytest.param("C:\\Users\\me\\plan.pdf", "plan.pdf", id="windows-path"),
    pytest.param("\u202e\u200f", "file.pdf", id="nothing-but-controls"),
])
async def test_control_characters_are_stripped_from_file_names(client, sent, kept):
    provider, tid, _ = await _bid(client)
    uploaded = await _upload(client, provider, tid, sent, PDF, "application/pdf")
    assert uploaded.status_code == 201, uploaded.text
    assert uploaded.json()["filename"] == kept
    served = await client.get(tender_url(provider, tid, f"/attachments/{uploaded.json()['id']}"),
                              headers=provider.headers)
    assert "\u202e" not in served.headers["content-disposition"]
