"""Uploads over HTTP on SQLite and PostgreSQL: type sniffing, size limit, storage by hash, never executable."""
from __future__ import annotations

import hashlib
import stat
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from hall_world import JPEG, PDF, PNG, Hall
from items.errors import Invalid, TooLarge, UnsupportedType
from wechat.uploads import UploadService, sniff


@pytest.fixture
def hall(running_app):
    return Hall(running_app)


@pytest.mark.parametrize("content,declared", [(PDF, "application/pdf"), (PNG, "image/png"), (JPEG, "image/jpeg"),
                                              (PNG, "application/octet-stream")])
def test_pdf_png_and_jpeg_are_stored_by_sha256_with_mode_0600(hall, content, declared):
    api = hall.citizen()
    resp = hall.upload(api, content, declared)
    assert resp.status == 201, resp.body
    digest = hashlib.sha256(content).hexdigest()
    assert resp.json["sha256"] == digest and resp.json["size"] == len(content)
    assert resp.json["content_type"] == sniff(content)
    stored = Path(hall.app.settings.upload_dir) / digest[:2] / digest[2:4] / digest
    assert stored.read_bytes() == content
    mode = stat.S_IMODE(stored.stat().st_mode)
    assert mode == 0o600
    assert not mode & (stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


def test_same_content_twice_is_one_file_but_two_file_ids(hall):
    first = hall.upload(hall.citizen("openid-a")).json
    second = hall.upload(hall.citizen("openid-b")).json
    assert first["sha256"] == second["sha256"]
    assert first["file_id"] != second["file_id"]
    assert len(list(Path(hall.app.settings.upload_dir).rglob(first["sha256"]))) == 1


def test_a_script_declared_as_pdf_is_415(hall):
    resp = hall.upload(hall.citizen(), b"#!/bin/sh\nrm -rf /\n", "application/pdf")
    assert resp.status == 415
    assert resp.error_code() == "unsupported_upload_type"
    assert resp.json["error"]["details"]["errors"][0]["rule"] == "file_type"


def test_a_png_declared_as_pdf_is_415_because_the_bytes_decide(hall):
    resp = hall.upload(hall.citizen(), PNG, "application/pdf")
    assert resp.status == 415 and resp.error_code() == "unsupported_upload_type"
    assert resp.json["error"]["details"] == {"errors": [{"path": "/file", "rule": "type_matches_content",
                                                         "message": "the file's content does not match its declared type"}],
                                             "declared": "application/pdf", "detected": "image/png",
                                             "allowed": ["application/pdf", "image/jpeg", "image/png"]}


def test_oversize_upload_is_413_with_the_limit(hall):
    limit = hall.app.settings.upload_max_bytes
    resp = hall.upload(hall.citizen(), PDF + bytes(limit), "application/pdf")
    assert resp.status == 413
    assert resp.error_code() == "upload_too_large"
    assert resp.json["error"]["details"]["max_bytes"] == limit
    assert [p for p in Path(hall.app.settings.upload_dir).rglob("*") if p.is_file()] == []


def test_upload_without_a_citizen_token_is_401_and_staff_are_403(hall):
    anonymous = hall.app.api()
    assert hall.upload(anonymous).status == 401
    resp = hall.upload(hall.staff_a)
    assert resp.status == 403 and resp.error_code() == "role_required"


def test_upload_that_is_not_multipart_is_415(hall):
    resp = hall.citizen().post("/api/v1/hall/uploads", raw=PDF, headers={"Content-Type": "application/pdf"})
    assert resp.status == 415 and resp.error_code() == "unsupported_media_type"


def test_another_users_file_id_cannot_be_used_in_an_application(hall):
    alice, mallory = hall.citizen("openid-alice"), hall.citizen("openid-mallory")
    alices_file = hall.upload(alice).json["file_id"]
    resp = hall.submit(mallory, hall.body(alices_file))
    assert resp.status == 422
    assert resp.error_code() == "file_not_found"
    assert resp.json["error"]["details"]["errors"][0]["path"] == "/materials/0/file_id"


def test_empty_file_is_422(tmp_path):
    with pytest.raises(Invalid) as caught:
        UploadService(tmp_path, 100).check(b"", "application/pdf")
    assert caught.value.code == "empty_upload"


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=1, max_size=64))
def test_bytes_without_a_known_signature_are_never_accepted(content):
    service = UploadService(Path("/nonexistent"), 1000)
    if sniff(content) is None:
        with pytest.raises(UnsupportedType):
            service.check(content, "application/octet-stream")
    else:
        assert content[:3] in (b"%PD", b"\xff\xd8\xff", b"\x89PN")


def test_size_limit_is_checked_before_the_type(tmp_path):
    with pytest.raises(TooLarge):
        UploadService(tmp_path, 4).check(b"not a pdf at all", None)
