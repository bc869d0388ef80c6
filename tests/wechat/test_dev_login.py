"""The development WeChat stand-in: `dev:<name>` codes sign a citizen in locally, and production refuses it."""
from __future__ import annotations

import pytest

from harness import RunningApp, make_settings
from server import cli
from server.commands import serve as serve_command
from server.config import Settings
from wechat.gateway import WeChatGateway


@pytest.fixture
def dev_app(sqlite_url, tmp_path):
    app = RunningApp(make_settings(sqlite_url, upload_dir=str(tmp_path / "uploads"), wechat_dev=True)).start()
    yield app
    app.stop()


def sign_in(app, code):
    return app.api().post("/api/v1/hall/login", {"code": code}, token=None)


def test_dev_code_signs_in_the_same_citizen_every_time_and_the_token_works(dev_app):
    first, again, other = sign_in(dev_app, "dev:alice"), sign_in(dev_app, "dev:alice"), sign_in(dev_app, "dev:bob")
    assert first.status == again.status == other.status == 200, first.body
    users = [dev_app.ctx.accounts.authenticate(r.json["token"]) for r in (first, again, other)]
    assert users[0].role == "citizen" and users[0].user_id == users[1].user_id != users[2].user_id
    api = dev_app.api()
    api.token = first.json["token"]
    assert api.get("/api/v1/hall/applications").json["total"] == 0


def test_dev_stand_in_refuses_codes_that_are_not_dev_codes(dev_app):
    for code in ("081abcDEF", "dev:", "dev:a b", "dev:" + "x" * 65):
        resp = sign_in(dev_app, code)
        assert resp.status == 400 and resp.error_code() == "invalid_wechat_code", code


def test_the_real_gateway_is_used_unless_asked(running_app):
    assert isinstance(running_app.ctx.gateway, WeChatGateway)
    assert Settings.from_env({"GOVHALL_SECRET_KEY": "k"}).wechat_dev is False


def test_dev_stand_in_is_refused_beside_a_production_database():
    assert Settings.from_env({"GOVHALL_WECHAT_DEV": "1", "GOVHALL_SECRET_KEY": "k"}).wechat_dev is True
    with pytest.raises(ValueError, match="GOVHALL_DATABASE_URL"):
        Settings.from_env({"GOVHALL_WECHAT_DEV": "1", "GOVHALL_SECRET_KEY": "k",
                           "GOVHALL_DATABASE_URL": "postgresql://gov@db/govhall"})


@pytest.mark.parametrize("argv, env", [
    (["serve", "--dev-wechat"], {}),
    (["serve"], {"GOVHALL_WECHAT_DEV": "1"}),
])
def test_serve_with_the_dev_stand_in_and_a_database_url_stops_with_a_clear_message(argv, env, monkeypatch, capsys):
    monkeypatch.setenv("GOVHALL_DATABASE_URL", "postgresql://gov@127.0.0.1:9/none")
    monkeypatch.setenv("GOVHALL_SECRET_KEY", "k" * 32)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert "refused when GOVHALL_DATABASE_URL is set" in err and "Traceback" not in err


def test_serve_dev_wechat_flag_turns_the_stand_in_on_for_the_embedded_default(monkeypatch, tmp_path):
    monkeypatch.delenv("GOVHALL_DATABASE_URL", raising=False)
    monkeypatch.delenv("GOVHALL_WECHAT_DEV", raising=False)
    monkeypatch.setenv("GOVHALL_VAR_DIR", str(tmp_path))
    served = []
    monkeypatch.setattr(serve_command, "run", lambda args, settings: served.append(settings) or 0)
    assert cli.main(["serve", "--dev-wechat"]) == 0
    assert cli.main(["serve"]) == 0
    assert [s.wechat_dev for s in served] == [True, False]
