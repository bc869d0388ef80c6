"""Uploads are parsed as what they claim to be: polyglots, markup, script, attachments, broken or
enormous images are refused with the error body (422 upload_refused naming the rule)."""
from __future__ import annotations

import io
import zlib
import struct
from pathlib import Path

import pypdf
import pytest
from PIL import Image

from hall_world import JPEG, PDF, PNG, Hall, sample_image, sample_pdf
from items.errors import Invalid
from wechat.filecheck import MAX_PIXELS
from wechat.uploads import UploadService


def rule_of(content: bytes, declared: str = "application/octet-stream") -> str | None:
    """The rule an upload breaks, or None when it is accepted."""
    try:
        UploadService(Path("/nonexistent"), 20 * 1024 * 1024).check(content, declared)
    except Invalid as exc:
        assert exc.code == "upload_refused"
        assert exc.details["errors"][0]["path"] == "/file"
        return exc.details["errors"][0]["rule"]
    return None


def pdf_with(change) -> bytes:
    writer = pypdf.PdfWriter()
    writer.add_blank_page(width=595, height=842)
    change(writer)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def test_real_pdfs_pngs_and_jpegs_pass():
    assert [rule_of(c) for c in (PDF, sample_pdf(3), PNG, JPEG, sample_image("JPEG", (640, 480)))] == [None] * 5


@pytest.mark.parametrize("content, rule", [
    (b"%PDF-1.4<html><body><script>alert(1)</script></body></html>", "no_markup"),
    (b"%PDF-1.4\n<!DOCTYPE html><p>hello", "no_markup"),
    (PDF + b"\n<script>fetch('/x')</script>", "no_markup"),
    (PNG[:-12] + png_chunk(b"tEXt", b"Comment\x00<svg onload=alert(1)>") + PNG[-12:], "no_markup"),
    (b"%PDF-1.7\n" + b"\x00" * 64 + b"\n%%EOF\n", "file_parses"),
    (b"%PDF-1.4\nnot really a pdf", "file_parses"),
    (PDF + b"PK\x03\x04 a zip after the end", "trailing_data"),
    (PNG + b"GIF89a", "trailing_data"),
    (PNG[:40] + PNG[-12:], "file_parses"),
    (JPEG[: len(JPEG) // 2], "file_parses"),
    (b"\xff\xd8\xff\xe0" + bytes(60), "file_parses"),
])
def test_files_that_are_not_what_their_first_bytes_claim_are_refused(content, rule):
    assert rule_of(content) == rule


def open_action(**entries):
    """A change that makes the PDF run the action `entries` when it opens."""
    from pypdf.generic import DictionaryObject, NameObject, TextStringObject

    def change(writer):
        writer._root_object[NameObject("/OpenAction")] = DictionaryObject({
            NameObject("/" + k): NameObject(v) if v.startswith("/") else TextStringObject(v)
            for k, v in entries.items()})
    return change


def named_script(writer):
    from pypdf.generic import ArrayObject, DictionaryObject, NameObject, TextStringObject
    action = DictionaryObject({NameObject("/S"): NameObject("/JavaScript"),
                               NameObject("/JS"): TextStringObject("app.alert('hi');")})
    writer._root_object[NameObject("/Names")] = DictionaryObject({NameObject("/JavaScript"): DictionaryObject(
        {NameObject("/Names"): ArrayObject([TextStringObject("x"), writer._add_object(action)])})})


@pytest.mark.parametrize("change, found", [
    (named_script, {"/JavaScript", "/JS"}),
    (open_action(S="/JavaScript", JS="app.alert(1)"), {"/JS", "/JavaScript"}),
    (open_action(S="/Launch", F="calc.exe"), {"/Launch"}),
    (open_action(S="/SubmitForm", F="https://example.invalid/"), {"/SubmitForm"}),
    (lambda w: w.add_attachment("note.html", b"hello"), {"/EmbeddedFiles", "/EmbeddedFile"}),
])
def test_pdfs_carrying_script_actions_or_attachments_are_refused(change, found):
    content = pdf_with(change)
    with pytest.raises(Invalid) as caught:
        UploadService(Path("/nonexistent"), len(content)).check(content, "application/pdf")
    assert caught.value.details["errors"][0]["rule"] == "no_active_content"
    assert caught.value.details["found"] in found


def test_a_password_protected_pdf_is_refused():
    assert rule_of(pdf_with(lambda w: w.encrypt("secret", algorithm="AES-128"))) == "pdf_encrypted"


def test_an_image_with_more_pixels_than_a_photo_needs_is_refused_before_decoding():
    out = io.BytesIO()
    Image.new("1", (10_000, MAX_PIXELS // 10_000 + 1)).save(out, format="PNG")
    assert rule_of(out.getvalue()) == "image_size"


# --- over HTTP -------------------------------------------------------------------------------------

@pytest.fixture
def hall(running_app):
    return Hall(running_app)


def test_a_pdf_html_polyglot_is_422_with_the_error_body_and_nothing_is_stored(hall):
    resp = hall.upload(hall.citizen(), b"%PDF-1.4<html><script>alert(document.cookie)</script></html>",
                       "application/pdf")
    assert resp.status == 422 and resp.error_code() == "upload_refused"
    assert resp.json["error"]["details"]["errors"] == [
        {"path": "/file", "rule": "no_markup", "message": resp.json["error"]["details"]["errors"][0]["message"]}]
    assert [p for p in Path(hall.app.settings.upload_dir).rglob("*") if p.is_file()] == []


def test_a_broken_png_is_422_naming_the_rule(hall):
    resp = hall.upload(hall.citizen(), PNG[:40] + PNG[-12:], "image/png")
    assert resp.status == 422 and resp.error_code() == "upload_refused"
    assert resp.json["error"]["details"]["errors"][0]["rule"] == "file_parses"
