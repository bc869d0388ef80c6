"""Hall login and the WeChat callback over HTTP, with the real app talking to the local fake WeChat."""
from __future__ import annotations

import json
import logging
import threading
import time
import urllib.parse

import pytest
import redis
from fake_wechat import FakeWeChat

from server.config import Secret
from items.clock import utcnow
from wechat import login as hall_login
from wechat import store
from wechat.casework import PROGRESS_TEMPLATE




@pytest.fixture(scope="session")
def kit():
    """tests/harness.py: RunningApp and make_settings."""
    import harness
    return harness


@pytest.fixture(scope="module")
def mp(external) -> dict:
    """WeChat's published message-crypto sample (token, EncodingAESKey, appid, signed ciphertext)."""
    vectors = json.loads((external / "wechat-crypto-vectors" / "vectors.json").read_text(encoding="utf-8"))
    return vectors["mp_message_crypto"]


@pytest.fixture
def fake(mp):
    """The fake WeChat serving the sample vectors' appid, so one app does login and callback alike."""
    with FakeWeChat(appid=mp["appid"]) as server:
        yield server


@pytest.fixture
def start(kit, fake, mp, tmp_path):
    """start(db_url, kv_url=None, **settings) → a started RunningApp on the fake WeChat; all stopped after."""
    apps = []

    def make(db_url, kv_url=None, **overrides):
        values = dict(wechat_appid=fake.appid, wechat_secret=Secret(fake.secret), wechat_api_base=fake.base_url,
                      wechat_timeout=2.0, wechat_token=Secret(mp["token"]),
                      wechat_aes_key=Secret(mp["encoding_aes_key"]), upload_dir=str(tmp_path / "up"))
        values.update(overrides)
        apps.append(kit.RunningApp(kit.make_settings(db_url, kv_url, **values)).start())
        return apps[-1]

    yield make
    for running in reversed(apps):
        running.stop()


@pytest.fixture
def app(start, sqlite_url):
    return start(sqlite_url)


def login(api, code):
    return api.post("/api/v1/hall/login", {"code": code}, token=None)


# -- login ------------------------------------------------------------------------------------------

def test_login_with_a_good_code_answers_our_own_token_and_keeps_the_session_key_server_side(start, db_url, fake):
    app = start(db_url)
    session_key = fake.register_code("code-alice-1", "openid-alice")
    api = app.api()

    resp = login(api, "code-alice-1")

    assert resp.status == 200, resp.body
    assert set(resp.json) == {"token", "expires_in"}
    assert resp.json["expires_in"] == app.settings.hall_token_ttl
    assert session_key.encode() not in resp.body and b"openid-alice" not in resp.body
    user = app.ctx.executor.submit(app.ctx._call, app.ctx.hall.ensure_hall_user, "openid-alice").result()
    assert hall_login.session_key(app.ctx.kv, user.id) == session_key
    assert 0 < app.ctx.kv.ttl(hall_login.SESSION_KEY_PREFIX + str(user.id)) <= app.settings.hall_token_ttl
    actor = app.ctx.accounts.authenticate(resp.json["token"])
    assert (actor.role, actor.user_id) == ("citizen", user.id)


def test_the_same_openid_signs_in_as_the_same_hall_user(app, fake):
    fake.register_code("code-a", "openid-bob")
    fake.register_code("code-b", "openid-bob")
    api = app.api()

    first = app.ctx.accounts.authenticate(login(api, "code-a").json["token"])
    second = app.ctx.accounts.authenticate(login(api, "code-b").json["token"])

    assert first.user_id == second.user_id


def test_a_citizen_token_signs_in_to_the_hall(app, fake):
    fake.register_code("code-c", "openid-carol")
    api = app.api()
    api.token = login(api, "code-c").json["token"]

    resp = api.post("/api/v1/hall/subscriptions", {"template_id": PROGRESS_TEMPLATE, "accepted": 2})

    assert resp.status == 200, resp.body
    assert resp.json == {"template_id": PROGRESS_TEMPLATE, "count": 2}


@pytest.mark.parametrize("code", ["never-issued", ""])
def test_login_with_a_code_wechat_does_not_know_is_400(app, code):
    resp = login(app.api(), code)

    assert resp.status == 400
    assert resp.error_code() == "invalid_wechat_code"


def test_a_login_code_works_once(app, fake):
    fake.register_code("code-once", "openid-dan")
    api = app.api()
    assert login(api, "code-once").status == 200

    resp = login(api, "code-once")

    assert resp.status == 400
    assert resp.error_code() == "invalid_wechat_code"
    assert resp.json["error"]["details"]["errcode"] == 40163


def test_login_without_a_code_field_is_400(app):
    resp = app.api().post("/api/v1/hall/login", {"kode": "x"}, token=None)

    assert resp.status == 400
    assert resp.error_code() == "invalid_wechat_code"


@pytest.mark.parametrize("how", ["503", "refuse"])
def test_login_while_wechat_is_down_is_503(app, fake, how):
    fake.register_code("code-down", "openid-erin")
    fake.down = how

    resp = login(app.api(), "code-down")

    assert resp.status == 503
    assert resp.error_code() == "wechat_unavailable"
    fake.down = False
    assert login(app.api(), "code-down").status == 200  # the code was never spent


def test_wechat_busy_on_login_is_503(app, fake):
    fake.register_code("code-busy", "openid-fay")
    fake.force_errcode("/sns/jscode2session", -1)

    resp = login(app.api(), "code-busy")

    assert resp.status == 503
    assert resp.error_code() == "wechat_unavailable"


def test_logins_from_one_client_are_rate_limited(app):
    api = app.api()
    statuses = [login(api, f"unknown-{i}").status for i in range(hall_login.MAX_LOGINS_PER_WINDOW + 1)]

    assert statuses[:-1] == [400] * hall_login.MAX_LOGINS_PER_WINDOW
    resp = login(api, "one-more")
    assert resp.status == 429
    assert resp.error_code() == "too_many_logins"


def test_session_keys_and_codes_never_reach_the_logs(app, fake, caplog):
    # At the served level, INFO; urllib3's DEBUG lines carry whole request URLs (`govhall -v` only).
    session_key = fake.register_code("code-secret-xyz", "openid-gus")
    with caplog.at_level(logging.INFO):
        assert login(app.api(), "code-secret-xyz").status == 200
        assert login(app.api(), "code-secret-xyz").status == 400

    assert session_key not in caplog.text
    assert "code-secret-xyz" not in caplog.text
    assert fake.secret not in caplog.text and "openid-gus" not in caplog.text


# -- one access token for two app instances -------------------------------------------------------

def queue_progress(ctx, openids: list[str], per_user: int) -> None:
    """Queue `per_user` progress messages for each citizen, each with a consent to spend."""
    def work():
        for openid in openids:
            user = ctx.hall.ensure_hall_user(openid)
            ctx.hall.add_consent(user.id, PROGRESS_TEMPLATE, per_user)
            with store.transaction():
                for n in range(per_user):
                    store.queue_message("subscribe_message", f"{openid}:{n}", user.id, openid, PROGRESS_TEMPLATE,
                                        {"case_no": f"CASE-{openid}-{n}", "item_name": "建筑工程施工许可证核发",
                                         "action": "accept", "state_label": "已受理",
                                         "at": "2026-03-02T02:00:00Z"}, utcnow())
    ctx.executor.submit(ctx._call, work).result()


def wait_for(condition, seconds: float = 30.0) -> bool:
    """Poll `condition` until it holds or `seconds` pass (waiting on background work, not timing it)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def test_two_app_instances_share_one_access_token_through_redis(start, sqlite_url, fake, redis_server_url):
    with redis.Redis.from_url(redis_server_url) as admin:
        admin.flushdb()
    first, second = start(sqlite_url, redis_server_url), start(sqlite_url, redis_server_url)
    queue_progress(first.ctx, [f"openid-{n}" for n in range(6)], per_user=3)
    # Both servers run their outbox workers, as `govhall serve` does, at the same time.
    for running in (first, second):
        running.loop.call_soon_threadsafe(running.ctx.start_background)

    assert wait_for(lambda: len(fake.sent) >= 18)
    tokens = []
    barrier = threading.Barrier(2)

    def read_token(running):
        barrier.wait()
        tokens.append(running.ctx.gateway.access_token())

    threads = [threading.Thread(target=read_token, args=(r,)) for r in (first, second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert fake.tokens_issued == 1
    assert tokens[0] == tokens[1] == fake.current_token
    assert sorted(m["page"] for m in fake.sent) == sorted(
        f"pages/case/detail?case_no=CASE-openid-{u}-{n}" for u in range(6) for n in range(3))


# -- the server callback -------------------------------------------------------------------------

def callback_url(**params) -> str:
    return "/wechat/callback?" + urllib.parse.urlencode(params)


def encrypted_body(mp: dict) -> bytes:
    return (f"<xml><ToUserName><![CDATA[{mp['expected_plaintext_fields']['ToUserName']}]]></ToUserName>"
            f"<Encrypt><![CDATA[{mp['encrypt']}]]></Encrypt></xml>").encode()


def test_callback_handshake_with_the_published_signature_echoes(app, mp):
    resp = app.api().get(callback_url(signature=mp["url_verification_signature"]["signature"],
                                      timestamp=mp["timestamp"], nonce=mp["nonce"], echostr="echo-4711"),
                         token=None)

    assert resp.status == 200
    assert resp.body == b"echo-4711"
    assert resp.headers["Content-Type"].startswith("text/plain")


def test_callback_handshake_with_a_wrong_signature_is_403(app, mp):
    resp = app.api().get(callback_url(signature="0" * 40, timestamp=mp["timestamp"], nonce=mp["nonce"],
                                      echostr="echo-4711"), token=None)

    assert resp.status == 403
    assert resp.error_code() == "bad_signature"
    assert b"echo-4711" not in resp.body


def post_message(app, mp, body: bytes, **overrides):
    params = dict(encrypt_type="aes", msg_signature=mp["msg_signature"], timestamp=mp["timestamp"],
                  nonce=mp["nonce"], signature=mp["url_verification_signature"]["signature"])
    params.update(overrides)
    return app.api().post(callback_url(**params), raw=body, content_type="text/xml", token=None)


def test_callback_decrypts_the_published_message_and_answers_success(app, mp, caplog):
    with caplog.at_level(logging.INFO, logger="server.handlers.hall_public"):
        resp = post_message(app, mp, encrypted_body(mp))

    assert resp.status == 200, resp.body
    assert resp.body == b"success"
    assert "MsgType=text" in caplog.text
    assert mp["expected_plaintext_fields"]["FromUserName"] not in caplog.text


def test_callback_with_a_wrong_message_signature_is_403(app, mp):
    resp = post_message(app, mp, encrypted_body(mp), msg_signature="f" * 40)

    assert resp.status == 403
    assert resp.error_code() == "bad_signature"


def test_callback_with_a_tampered_ciphertext_is_refused(app, mp):
    body = encrypted_body(mp).replace(mp["encrypt"][:8].encode(), b"AAAAAAAA")

    resp = post_message(app, mp, body)

    assert resp.status == 403
    assert resp.error_code() == "bad_signature"


def test_callback_for_another_app_is_403_after_decryption(start, sqlite_url, mp):
    other = start(sqlite_url, wechat_appid="wx0000000000000000")

    resp = post_message(other, mp, encrypted_body(mp))

    assert resp.status == 403
    assert resp.error_code() == "wrong_appid"


def test_callback_with_an_unreadable_body_is_400(app, mp):
    resp = post_message(app, mp, b"<xml><ToUserName>x</ToUserName></xml>")

    assert resp.status == 400
    assert resp.error_code() == "bad_message"


def test_plain_mode_callback_checks_the_signature(app, mp):
    params = dict(signature=mp["url_verification_signature"]["signature"], timestamp=mp["timestamp"],
                  nonce=mp["nonce"])
    good = app.api().post(callback_url(**params), raw=b"<xml></xml>", content_type="text/xml", token=None)
    bad = app.api().post(callback_url(**dict(params, signature="1" * 40)), raw=b"<xml></xml>",
                         content_type="text/xml", token=None)

    assert (good.status, good.body) == (200, b"success")
    assert bad.status == 403
    assert bad.error_code() == "bad_signature"


def test_callback_without_a_configured_token_is_503(start, sqlite_url):
    bare = start(sqlite_url, wechat_token=Secret(""))

    resp = bare.api().get(callback_url(signature="x", timestamp="1", nonce="2", echostr="e"), token=None)

    assert resp.status == 503
    assert resp.error_code() == "callback_not_configured"
