"""The catalogue API over HTTP on SQLite and PostgreSQL: auth, revise, versions, imports."""
from __future__ import annotations

import copy
import io
import json

import jsonpatch
import pytest

from samples import building_permit

ITEM = building_permit()


@pytest.fixture
def admin(running_app):
    running_app.ctx.accounts.create_user("admin", "admin-password", "province_admin")
    api = running_app.api()
    api.login("admin", "admin-password")
    return api


def test_login_with_wrong_password_is_401(running_app):
    running_app.ctx.accounts.create_user("admin", "admin-password", "province_admin")
    resp = running_app.api().post("/api/v1/auth/login", {"username": "admin", "password": "nope-nope"}, token=None)
    assert resp.status == 401
    assert resp.error_code() == "bad_credentials"


def test_catalogue_without_token_is_401_and_with_bad_token_is_401(running_app):
    api = running_app.api()
    assert api.get("/api/v1/catalogue/items", token=None).error_code() == "not_signed_in"
    resp = api.get("/api/v1/catalogue/items", token="forged")
    assert resp.status == 401 and resp.error_code() == "invalid_token"


def test_revoked_and_expired_tokens_are_refused(running_app):
    ctx = running_app.ctx
    ctx.accounts.create_user("admin", "admin-password", "province_admin")
    api = running_app.api()
    token = api.login("admin", "admin-password")
    assert api.post("/api/v1/auth/logout").status == 200
    assert api.get("/api/v1/catalogue/items", token=token).status == 401
    actor = ctx.accounts.authenticate(api.login("admin", "admin-password"))
    short = ctx.accounts.issue_token(actor, ttl=1)
    ctx.kv.delete(*[k for k in ctx.kv.keys("govhall:token:*") if ctx.kv.ttl(k) <= 1])  # what expiry does
    resp = api.get("/api/v1/catalogue/items", token=short)
    assert resp.status == 401 and resp.error_code() == "invalid_token"


def test_only_province_admin_writes_the_catalogue(running_app):
    running_app.ctx.accounts.create_user("rev", "reviewer-pass", "reviewer", region="410400")
    api = running_app.api()
    api.login("rev", "reviewer-pass")
    resp = api.put("/api/v1/catalogue/items/000104002000", ITEM)
    assert resp.status == 403 and resp.error_code() == "role_required"


def test_put_creates_then_revises_with_verified_patch_and_history(admin):
    first = admin.put("/api/v1/catalogue/items/000104002000", ITEM)
    assert first.status == 201, first.body
    assert first.json["version"] == 1
    revised = copy.deepcopy(ITEM)
    revised["legal_limit"]["value"] = 10
    revised["materials"].append({"name": "施工合同", "necessity": "required", "source": "applicant", "form": "paper",
                                 "originals": 1, "copies": 1, "e_license": "", "note": ""})
    second = admin.put("/api/v1/catalogue/items/000104002000", revised)
    assert second.status == 200 and second.json["version"] == 2
    v1 = admin.get("/api/v1/catalogue/items/000104002000?version=1").json["document"]
    v2 = admin.get("/api/v1/catalogue/items/000104002000").json["document"]
    assert jsonpatch.apply_patch(v1, second.json["patch"]) == v2
    assert v2["legal_limit"]["value"] == 10 and v2["materials"][1]["id"]  # an id was generated
    unchanged = admin.put("/api/v1/catalogue/items/000104002000", v2)
    assert unchanged.json["changed"] is False and unchanged.json["version"] == 2
    history = admin.get("/api/v1/catalogue/items/000104002000/versions").json["versions"]
    assert [h["version"] for h in history] == [1, 2]
    assert all(h["author"] == "admin" for h in history)


def test_invalid_catalogue_item_is_422_naming_every_field_and_nothing_is_written(admin):
    bad = dict(ITEM, item_type="77", legal_limit={"value": -1, "unit": "week"})
    resp = admin.put("/api/v1/catalogue/items/000104002000", bad)
    assert resp.status == 422 and resp.error_code() == "validation_failed"
    paths = {e["path"] for e in resp.json["error"]["details"]["errors"]}
    assert "/item_type" in paths and any(p.startswith("/legal_limit") for p in paths)
    assert admin.get("/api/v1/catalogue/items/000104002000").status == 404


def test_json_stored_as_utf8_not_escapes(running_app, admin):
    admin.put("/api/v1/catalogue/items/000104002000", ITEM)
    row = running_app.ctx.db.execute_sql(
        "SELECT document FROM catalogue_version_record WHERE basic_code = '000104002000'").fetchone()
    assert "建筑工程施工许可证核发" in row[0] and "\\u" not in row[0]


def test_import_of_liaoning_sample_then_reimport_changes_nothing(admin, liaoning_sample):
    data = liaoning_sample.read_bytes()
    resp = admin.request("POST", "/api/v1/catalogue/imports?filename=government_data.json", raw=data,
                         content_type="application/json")
    assert resp.status == 201, resp.body
    assert resp.json["created"] == 30
    again = admin.request("POST", "/api/v1/catalogue/imports?filename=government_data.json", raw=data,
                          content_type="application/json")
    assert again.json["unchanged"] == 30 and again.json["created"] == 0
    listing = admin.get("/api/v1/catalogue/items?size=100").json
    assert listing["total"] == 30
    doc = admin.get("/api/v1/catalogue/items/210973001000").json["document"]
    assert [b["kind"] for b in doc["basis"]] == ["法律", "地方性法规"]


def test_import_with_a_bad_row_writes_nothing_and_reports_the_row(admin):
    rows = [ITEM, dict(ITEM, basic_code="000104003000", name="", item_type="01")]
    raw = json.dumps(rows, ensure_ascii=False).encode()
    resp = admin.request("POST", "/api/v1/catalogue/imports?filename=c.json", raw=raw, content_type="application/json")
    assert resp.status == 422 and resp.error_code() == "import_rows_invalid"
    bad = resp.json["error"]["details"]["errors"]
    assert [r["row"] for r in bad] == [2]
    assert any(e["field"] == "/name" for e in bad[0]["errors"])
    assert admin.get("/api/v1/catalogue/items").json["total"] == 0


def test_import_dry_run_reports_without_writing(admin):
    raw = json.dumps([ITEM], ensure_ascii=False).encode()
    resp = admin.request("POST", "/api/v1/catalogue/imports?filename=c.json&dry_run=1", raw=raw,
                         content_type="application/json")
    assert resp.status == 200 and resp.json["created"] == 1 and resp.json["written"] is False
    assert admin.get("/api/v1/catalogue/items").json["total"] == 0


def test_import_template_downloads_and_imports_back(admin):
    resp = admin.get("/api/v1/catalogue/template.xlsx", token=None)
    assert resp.status == 200
    imported = admin.request("POST", "/api/v1/catalogue/imports?filename=t.xlsx", raw=resp.body,
                             content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    assert imported.status == 201, imported.body
    assert imported.json["created"] == 1
    import openpyxl
    assert openpyxl.load_workbook(io.BytesIO(resp.body)).active.max_row >= 2


def test_unknown_path_and_openapi(running_app):
    api = running_app.api()
    resp = api.get("/api/v1/nothing-here", token=None)
    assert resp.status == 404 and resp.error_code() == "not_found"
    spec = api.get("/api/v1/openapi.json", token=None).json
    assert spec["openapi"].startswith("3.") and "/api/v1/catalogue/items/{basic_code}" in spec["paths"]
