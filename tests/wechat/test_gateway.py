"""The WeChat gateway against the local fake WeChat: login, the shared token, subscribe messages, outages."""
from __future__ import annotations

import socket
import threading

import fakeredis
import pytest
import redis

from items.errors import Conflict, Malformed, Unavailable
from wechat.gateway import Session, WeChatGateway

TEMPLATE = "tmpl-progress-001"
DATA = {"thing1": {"value": "营业执照变更"}, "phrase2": {"value": "已受理"}}


@pytest.fixture
def make_gateway(fake_wechat):
    """Build gateways on the fake; `kv` defaults to a fresh fakeredis. Closed after the test."""
    gateways: list[WeChatGateway] = []

    def make(kv=None, timeout: float = 5.0, secret: str | None = None) -> WeChatGateway:
        gateway = WeChatGateway(fake_wechat.appid, secret or fake_wechat.secret, fake_wechat.base_url,
                                kv if kv is not None else fakeredis.FakeRedis(), timeout=timeout)
        gateways.append(gateway)
        return gateway

    yield make
    for gateway in gateways:
        gateway.close()


def unused_port() -> int:
    """A 127.0.0.1 port nothing listens on (bound, read, released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def assert_no_secrets(error: Exception, *secrets: str) -> None:
    """Neither the error, its details nor a chained exception may carry a secret (STYLE.md, Logging)."""
    text = f"{error} {error!r} {getattr(error, 'details', '')}"
    for secret in secrets:
        assert secret not in text
    assert error.__cause__ is None and error.__context__ is None


# -- code2session --------------------------------------------------------------------------------

def test_code2session_with_a_registered_code_returns_the_session(fake_wechat, make_gateway):
    session_key = fake_wechat.register_code("code-ok", "openid-alice", unionid="union-alice")

    session = make_gateway().code2session("code-ok")

    assert session == Session(openid="openid-alice", unionid="union-alice", session_key=session_key)


def test_code2session_without_a_unionid_gives_none(fake_wechat, make_gateway):
    fake_wechat.register_code("code-ok", "openid-bob")

    assert make_gateway().code2session("code-ok").unionid is None


def test_session_repr_hides_the_session_key(fake_wechat, make_gateway):
    session_key = fake_wechat.register_code("code-ok", "openid-alice")

    session = make_gateway().code2session("code-ok")

    assert session_key not in repr(session)


def test_unknown_code_is_malformed_invalid_wechat_code(fake_wechat, make_gateway):
    with pytest.raises(Malformed) as caught:
        make_gateway().code2session("code-nobody-issued")

    assert caught.value.code == "invalid_wechat_code"
    assert caught.value.details["errcode"] == 40029
    assert_no_secrets(caught.value, fake_wechat.secret, "code-nobody-issued")


def test_a_code_used_twice_is_malformed_the_second_time(fake_wechat, make_gateway):
    fake_wechat.register_code("code-once", "openid-alice")
    gateway = make_gateway()
    gateway.code2session("code-once")

    with pytest.raises(Malformed) as caught:
        gateway.code2session("code-once")

    assert caught.value.code == "invalid_wechat_code"
    assert caught.value.details["errcode"] == 40163


def test_empty_code_is_malformed_without_calling_wechat(fake_wechat, make_gateway):
    with pytest.raises(Malformed) as caught:
        make_gateway().code2session("")

    assert caught.value.code == "invalid_wechat_code"
    assert sum(fake_wechat.hits.values()) == 0


@pytest.mark.parametrize("how", ["503", "refuse"])
def test_code2session_when_wechat_is_down_is_unavailable(fake_wechat, make_gateway, how):
    fake_wechat.register_code("code-ok", "openid-alice")
    fake_wechat.down = how

    with pytest.raises(Unavailable) as caught:
        make_gateway().code2session("code-ok")

    assert caught.value.code == "wechat_unavailable"
    assert_no_secrets(caught.value, fake_wechat.secret, "code-ok")


def test_code2session_answers_again_once_wechat_is_back(fake_wechat, make_gateway):
    fake_wechat.register_code("code-ok", "openid-alice")
    gateway = make_gateway()
    fake_wechat.down = "refuse"
    with pytest.raises(Unavailable):
        gateway.code2session("code-ok")

    fake_wechat.down = False

    assert gateway.code2session("code-ok").openid == "openid-alice"


def test_code2session_slower_than_the_timeout_is_unavailable(fake_wechat, make_gateway):
    fake_wechat.register_code("code-slow", "openid-alice")
    fake_wechat.delay = 3.0

    with pytest.raises(Unavailable) as caught:
        make_gateway(timeout=0.2).code2session("code-slow")

    assert caught.value.code == "wechat_unavailable"
    assert caught.value.details["reason"] == "timeout"


def test_system_busy_is_unavailable(fake_wechat, make_gateway):
    fake_wechat.force_errcode("/sns/jscode2session", -1)

    with pytest.raises(Unavailable) as caught:
        make_gateway().code2session("code-any")

    assert caught.value.details["errcode"] == -1


def test_any_other_errcode_is_unavailable_naming_the_errcode(fake_wechat, make_gateway):
    fake_wechat.force_errcode("/sns/jscode2session", 45011)

    with pytest.raises(Unavailable) as caught:
        make_gateway().code2session("code-any")

    assert caught.value.code == "wechat_unavailable"
    assert caught.value.details == {"endpoint": "code2session", "reason": "errcode", "errcode": 45011}


def test_gateway_repr_masks_the_secret(fake_wechat, make_gateway):
    assert fake_wechat.secret not in repr(make_gateway())


# -- the shared access token ----------------------------------------------------------------------

def test_two_processes_sharing_a_store_fetch_one_token(fake_wechat, make_gateway, kv_factory):
    first, second = make_gateway(kv_factory()), make_gateway(kv_factory())

    token = first.access_token()

    assert second.access_token() == token == fake_wechat.current_token
    assert fake_wechat.tokens_issued == 1


@pytest.mark.parametrize("shared_gateway", [False, True], ids=["process_each", "one_gateway"])
def test_eight_threads_racing_on_an_empty_cache_fetch_exactly_one_token(
        fake_wechat, make_gateway, kv_factory, shared_gateway):
    shared = make_gateway(kv_factory())
    gateways = [shared if shared_gateway else make_gateway(kv_factory()) for _ in range(8)]
    # A slow token endpoint widens the window in which a second fetch could slip in.
    fake_wechat.delay = 0.2
    start = threading.Barrier(len(gateways))
    tokens: list[str] = []
    errors: list[BaseException] = []

    def fetch(gateway: WeChatGateway) -> None:
        start.wait()
        try:
            tokens.append(gateway.access_token())
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=fetch, args=(gateway,)) for gateway in gateways]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert errors == []
    assert fake_wechat.tokens_issued == 1
    assert tokens == [fake_wechat.current_token] * 8


def test_cached_token_expires_before_wechat_expires_it(make_gateway, kv_factory):
    kv = kv_factory()
    gateway = make_gateway(kv)

    gateway.access_token()

    # The fake says expires_in 7200: the cache keeps it 300 s less (refresh margin).
    assert 0 < kv.ttl(gateway.token_key) <= 7200 - 300


def test_invalidate_forgets_only_the_token_it_was_given(fake_wechat, make_gateway, kv_factory):
    gateway = make_gateway(kv_factory())
    token = gateway.access_token()

    gateway.invalidate_token("some-older-token")
    assert gateway.access_token() == token

    gateway.invalidate_token(token)
    assert gateway.access_token() != token
    assert fake_wechat.tokens_issued == 2


def test_invalidate_without_a_token_forgets_the_cached_one(fake_wechat, make_gateway, kv_factory):
    gateway = make_gateway(kv_factory())
    gateway.access_token()

    gateway.invalidate_token()
    gateway.access_token()

    assert fake_wechat.tokens_issued == 2


def test_a_second_process_reporting_the_same_stale_token_does_not_refresh_again(
        fake_wechat, make_gateway, kv_factory):
    first, second = make_gateway(kv_factory()), make_gateway(kv_factory())
    stale = first.access_token()
    fake_wechat.expire_token()
    first.send_subscribe_message("openid-alice", TEMPLATE, DATA)  # refreshes once

    second.invalidate_token(stale)  # arrives late, about the token already replaced

    assert second.access_token() == fake_wechat.current_token
    assert fake_wechat.tokens_issued == 2


def test_token_fetch_with_a_wrong_secret_is_unavailable_without_the_secret(fake_wechat, make_gateway):
    gateway = make_gateway(secret="wrong-secret-value")

    with pytest.raises(Unavailable) as caught:
        gateway.access_token()

    assert caught.value.details["errcode"] == 40125
    assert_no_secrets(caught.value, "wrong-secret-value")


def test_token_when_the_store_is_down_is_unavailable(fake_wechat, make_gateway):
    kv = redis.Redis(host="127.0.0.1", port=unused_port(), socket_connect_timeout=0.5)
    gateway = make_gateway(kv)

    with pytest.raises(Unavailable) as caught:
        gateway.access_token()
    kv.close()

    assert caught.value.code == "kv_unavailable"
    assert fake_wechat.tokens_issued == 0


# -- subscribe messages ---------------------------------------------------------------------------

def test_subscribe_message_reaches_wechat(fake_wechat, make_gateway, kv_factory):
    make_gateway(kv_factory()).send_subscribe_message("openid-alice", TEMPLATE, DATA,
                                                      page="pages/case/detail?id=1")

    assert fake_wechat.sent == [{"touser": "openid-alice", "template_id": TEMPLATE,
                                 "page": "pages/case/detail?id=1", "data": DATA}]


def test_expired_token_is_refreshed_once_and_the_message_sent(fake_wechat, make_gateway, kv_factory):
    gateway = make_gateway(kv_factory())
    gateway.access_token()
    fake_wechat.expire_token()

    gateway.send_subscribe_message("openid-alice", TEMPLATE, DATA)

    assert fake_wechat.tokens_issued == 2
    assert [message["touser"] for message in fake_wechat.sent] == ["openid-alice"]


def test_token_replaced_elsewhere_is_refreshed_and_the_message_sent(fake_wechat, make_gateway):
    ours = make_gateway(fakeredis.FakeRedis())
    ours.access_token()
    # A deployment with another store fetches its own token, which invalidates ours (DOMAIN.md §6).
    make_gateway(fakeredis.FakeRedis()).access_token()

    ours.send_subscribe_message("openid-alice", TEMPLATE, DATA)

    assert fake_wechat.tokens_issued == 3
    assert len(fake_wechat.sent) == 1


def test_a_token_rejected_even_after_refresh_is_unavailable(fake_wechat, make_gateway):
    fake_wechat.force_errcode("/cgi-bin/message/subscribe/send", 40001)

    with pytest.raises(Unavailable) as caught:
        make_gateway().send_subscribe_message("openid-alice", TEMPLATE, DATA)

    assert caught.value.details["errcode"] == 40001
    assert fake_wechat.tokens_issued == 2  # one refresh, then no loop
    assert_no_secrets(caught.value, fake_wechat.current_token)


def test_user_without_consent_is_conflict(fake_wechat, make_gateway):
    fake_wechat.refuse_consent("openid-alice")

    with pytest.raises(Conflict) as caught:
        make_gateway().send_subscribe_message("openid-alice", TEMPLATE, DATA)

    assert caught.value.code == "no_subscription_consent"
    assert fake_wechat.sent == []


@pytest.mark.parametrize("how", ["503", "refuse"])
def test_subscribe_when_wechat_is_down_is_unavailable(fake_wechat, make_gateway, how):
    gateway = make_gateway()
    gateway.access_token()
    fake_wechat.down = how

    with pytest.raises(Unavailable) as caught:
        gateway.send_subscribe_message("openid-alice", TEMPLATE, DATA)

    assert caught.value.code == "wechat_unavailable"
    assert_no_secrets(caught.value, fake_wechat.current_token)


def test_subscribe_slower_than_the_timeout_is_unavailable(fake_wechat, make_gateway):
    gateway = make_gateway(timeout=0.2)
    gateway.access_token()
    fake_wechat.delay = 3.0

    with pytest.raises(Unavailable) as caught:
        gateway.send_subscribe_message("openid-alice", TEMPLATE, DATA)

    assert caught.value.details["reason"] == "timeout"


def test_a_failed_refresh_frees_the_lock_for_the_next_caller(fake_wechat, make_gateway, kv_factory):
    kv = kv_factory()
    gateway = make_gateway(kv)
    fake_wechat.down = "503"
    with pytest.raises(Unavailable):
        gateway.access_token()

    fake_wechat.down = False

    assert kv.get(gateway.lock_key) is None
    assert make_gateway(kv_factory()).access_token() == fake_wechat.current_token
