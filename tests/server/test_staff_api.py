"""Staff accounts over HTTP: managing them, and every change ending the account's sessions at once (real Redis too)."""
from __future__ import annotations

import pytest

from harness import RunningApp, make_settings
from items import codes, store
from items.scope import Actor

CITY, COUNTY = "410400", "410402"
ORG = codes.make_credit_code("11410402MB0123456")
SYSTEM = Actor(username="system", role="province_admin")
ADMIN_ROUTES = [("GET", "/api/v1/users", None), ("POST", "/api/v1/users", {"username": "x", "role": "editor"}),
                ("GET", "/api/v1/users/ed", None), ("PATCH", "/api/v1/users/ed", {"disabled": True}),
                ("POST", "/api/v1/users/ed/password", {})]


def seed(ctx) -> None:
    for code, name in (("410000", "河南省"), (CITY, "平顶山市"), (COUNTY, "新华区")):
        ctx.directory.save_region(None, {"code": code, "name": name}, SYSTEM)
    ctx.directory.save_department(None, {"credit_code": ORG, "name": "新华区住房和城乡建设局", "region_code": COUNTY},
                                  SYSTEM)
    ctx.accounts.create_user("admin", "admin-password", "province_admin")
    ctx.accounts.create_user("ed", "editor-password", "editor", org=ORG)


@pytest.fixture
def world(db_url, kv_url, tmp_path):
    """The app on SQLite and PostgreSQL, each with the in-process stand-in and a real Redis."""
    app = RunningApp(make_settings(db_url, kv_url, upload_dir=str(tmp_path / "uploads"))).start()
    seed(app.ctx)
    yield app
    app.stop()


def signed_in(app, username: str, password: str):
    api = app.api()
    api.login(username, password)
    return api


def test_disabling_a_user_refuses_their_existing_token_at_once_and_their_sign_in(world):
    admin, editor = signed_in(world, "admin", "admin-password"), signed_in(world, "ed", "editor-password")
    assert editor.get("/api/v1/auth/me").status == 200
    resp = admin.patch("/api/v1/users/ed", {"disabled": True})
    assert resp.status == 200 and resp.json["disabled"] is True
    resp = editor.get("/api/v1/auth/me")
    assert resp.status == 401 and resp.error_code() == "session_ended"
    assert world.api().post("/api/v1/auth/login", {"username": "ed", "password": "editor-password"},
                            token=None).status == 401
    assert admin.patch("/api/v1/users/ed", {"disabled": False}).json["disabled"] is False
    assert signed_in(world, "ed", "editor-password").get("/api/v1/auth/me").json["user"]["role"] == "editor"


def test_role_change_ends_the_session_and_the_next_sign_in_carries_the_new_role(world):
    admin, editor = signed_in(world, "admin", "admin-password"), signed_in(world, "ed", "editor-password")
    resp = admin.patch("/api/v1/users/ed", {"role": "reviewer", "region": CITY})
    assert resp.status == 200 and (resp.json["role"], resp.json["org"], resp.json["region"]) == ("reviewer", None, CITY)
    assert editor.get("/api/v1/auth/me").status == 401
    me = signed_in(world, "ed", "editor-password").get("/api/v1/auth/me").json["user"]
    assert (me["role"], me["region"]) == ("reviewer", CITY)
    assert signed_in(world, "admin", "admin-password").get("/api/v1/auth/me").status == 200  # others keep theirs


def test_password_reset_generates_one_password_ends_sessions_and_never_reaches_the_audit(world, caplog):
    admin, editor = signed_in(world, "admin", "admin-password"), signed_in(world, "ed", "editor-password")
    resp = admin.post("/api/v1/users/ed/password", {})
    new_password = resp.json["password"]
    assert resp.status == 200 and len(new_password) >= 12
    assert editor.get("/api/v1/auth/me").status == 401
    assert signed_in(world, "ed", new_password).get("/api/v1/auth/me").status == 200
    assert admin.post("/api/v1/users/ed/password", {"password": "short"}).status == 422
    world.ctx.db.connect(reuse_if_open=True)
    entries, _ = store.audit_entries(target="ed")
    assert [e["action"] for e in entries] == ["user.password_reset"]
    assert entries[0]["actor"] == "admin" and new_password not in str(entries) + caplog.text


def test_own_password_change_needs_the_current_one_and_returns_a_fresh_session(world):
    editor = signed_in(world, "ed", "editor-password")
    old_token = editor.token
    resp = editor.post("/api/v1/auth/password", {"password": "wrong-password", "new_password": "new-password-1"})
    assert resp.status == 422 and resp.json["error"]["details"]["errors"][0]["rule"] == "current_password"
    resp = editor.post("/api/v1/auth/password", {"password": "editor-password", "new_password": "new-password-1"})
    assert resp.status == 200
    assert editor.get("/api/v1/auth/me", token=old_token).status == 401
    assert editor.get("/api/v1/auth/me", token=resp.json["token"]).status == 200
    assert signed_in(world, "ed", "new-password-1").token


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("kv_url", ["redis"], indirect=True)
def test_a_change_made_through_one_process_ends_sessions_served_by_another(world, db_url, kv_url, tmp_path):
    other = RunningApp(make_settings(db_url, kv_url, upload_dir=str(tmp_path / "uploads2"))).start()
    try:
        editor_elsewhere = signed_in(other, "ed", "editor-password")
        assert editor_elsewhere.get("/api/v1/auth/me").status == 200
        assert signed_in(world, "admin", "admin-password").patch("/api/v1/users/ed", {"org": None,
                                                                                      "role": "reform_office",
                                                                                      "region": CITY}).status == 200
        assert editor_elsewhere.get("/api/v1/auth/me").status == 401
    finally:
        other.stop()


@pytest.mark.parametrize("kv_url", ["embedded"], indirect=True)
def test_creating_accounts_checks_the_directory_and_lists_with_filters(world):
    admin = signed_in(world, "admin", "admin-password")
    cases = [({"username": "bad name", "role": "editor", "org": ORG}, ("/username", "username_format")),
             ({"username": "w1", "role": "window_staff", "org": codes.make_credit_code("11410402MB0123457")},
              ("/org", "org_exists")),
             ({"username": "r1", "role": "reviewer", "region": "410403"}, ("/region", "region_exists")),
             ({"username": "r1", "role": "reviewer"}, ("/region", "region_code")),
             ({"username": "r1", "role": "mayor"}, ("/role", "enum")),
             ({"username": "r1", "role": "reviewer", "region": CITY, "password": "short"}, ("/password", "password_length")),
             ({"username": "r1", "role": "reviewer", "region": CITY, "shoe_size": 9}, ("/shoe_size", "unknown_field"))]
    for body, expected in cases:
        resp = admin.post("/api/v1/users", body)
        assert resp.status == 422 and resp.error_code() == "validation_failed", body
        assert expected in [(e["path"], e["rule"]) for e in resp.json["error"]["details"]["errors"]], body
    created = admin.post("/api/v1/users", {"username": "w1", "role": "window_staff", "org": ORG})
    assert created.status == 201 and created.json["region"] == COUNTY and created.json["password"]
    assert admin.post("/api/v1/users", {"username": "w1", "role": "window_staff", "org": ORG}).status == 409
    assert admin.patch("/api/v1/users/w1", {"disabled": True}).status == 200
    assert [u["username"] for u in admin.get(f"/api/v1/users?org={ORG}&disabled=0").json["users"]] == ["ed"]
    assert [u["username"] for u in admin.get(f"/api/v1/users?region={CITY}&role=window_staff").json["users"]] == ["w1"]
    assert admin.get("/api/v1/users?q=adm").json["users"][0]["username"] == "admin"
    assert admin.get("/api/v1/users?disabled=maybe").status == 400
    resp = admin.patch("/api/v1/users/admin", {"disabled": True})
    assert resp.status == 409 and resp.error_code() == "last_province_admin"
    assert admin.get("/api/v1/users/nobody").error_code() == "user_not_found"


@pytest.mark.parametrize("kv_url", ["embedded"], indirect=True)
def test_only_province_admins_manage_accounts(world):
    editor = signed_in(world, "ed", "editor-password")
    for method, path, body in ADMIN_ROUTES:
        resp = editor.request(method, path, body)
        assert resp.status == 403 and resp.error_code() == "role_required", (method, path)
        assert editor.request(method, path, body, token=None).status == 401, (method, path)
    resp = editor.post("/api/v1/auth/password", {"password": "x", "new_password": "y"}, token=None)
    assert resp.status == 401


@pytest.mark.parametrize("kv_url", ["embedded"], indirect=True)
def test_create_user_command_on_an_existing_account_ends_its_sessions(world):
    editor = signed_in(world, "ed", "editor-password")
    world.ctx.accounts.create_user("ed", "another-password", "editor", org=ORG)  # what `govhall create-user` runs
    assert editor.get("/api/v1/auth/me").status == 401
    assert signed_in(world, "ed", "another-password").get("/api/v1/auth/me").status == 200


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("kv_url", ["embedded"], indirect=True)
def test_openapi_describes_the_directory_and_account_patches_as_json_objects(world):
    spec = world.api().get("/api/v1/openapi.json", token=None).json
    for path in ("/api/v1/users/{username}", "/api/v1/directory/regions/{code}",
                 "/api/v1/directory/departments/{credit_code}"):
        assert spec["paths"][path]["patch"]["requestBody"]["content"]["application/json"]["schema"]["type"] == "object"
