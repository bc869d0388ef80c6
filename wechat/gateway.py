"""The WeChat gateway: login (code2session), the one shared access token, subscribe messages, all with timeouts."""
from __future__ import annotations

import dataclasses
import logging
import secrets
import threading
import time
from typing import Any, Callable

import requests
from redis.exceptions import RedisError, WatchError
from wechatpy.client import WeChatClient
from wechatpy.exceptions import WeChatClientException

from items.errors import Conflict, Malformed, Unavailable, invalid

logger = logging.getLogger(__name__)

# wx.login codes are single-use and live five minutes: 40029 invalid, 40163 already used.
INVALID_CODE_ERRCODES = frozenset({40029, 40163})
# The token was replaced by a newer one (40001/40014) or expired (42001): refresh once and retry.
STALE_TOKEN_ERRCODES = frozenset({40001, 40014, 42001})
NO_CONSENT_ERRCODE = 43101
SYSTEM_BUSY_ERRCODE = -1
# Refresh well before WeChat's own expiry, so no process ever sends a token in its last minutes.
TOKEN_EXPIRY_MARGIN = 300
MIN_TOKEN_TTL = 60
LOCK_POLL_INTERVAL = 0.05


@dataclasses.dataclass(frozen=True)
class Session:
    """What code2session gives: who the user is, and the key that never leaves the server (DOMAIN.md §6)."""

    openid: str
    unionid: str | None
    session_key: str = dataclasses.field(repr=False)


class _Client(WeChatClient):
    """wechatpy's client on a configurable base URL, with the token chosen by the gateway per call.

    wechatpy fetches tokens itself from a fixed URL with no timeout and keeps them per process;
    here the gateway sets `token` before each call, so one token is shared through Redis.
    """

    def __init__(self, appid: str, secret: str, api_base: str, timeout: float):
        super().__init__(appid, secret, timeout=timeout, auto_retry=False)
        # Instance attributes win over wechatpy's class-level https://api.weixin.qq.com/ bases.
        self.API_BASE_URL = f"{api_base}/cgi-bin/"
        self.wxa.API_BASE_URL = f"{api_base}/"
        self.token: str | None = None

    @property
    def access_token(self) -> str | None:
        # None makes requests drop the parameter: sns/ endpoints authenticate with appid+secret.
        return self.token

    def fetch_access_token(self):
        raise AssertionError("tokens are fetched by WeChatGateway, through Redis")


class WeChatGateway:
    """The only way the server talks to WeChat. Methods are synchronous: run them off the event loop."""

    def __init__(self, appid: str, secret: Any, api_base: str, kv: Any, timeout: float = 5.0):
        self.appid = appid
        # Accept a plain str or a masked secret object (server.config.Secret) without importing server/.
        self._secret = secret.reveal() if hasattr(secret, "reveal") else str(secret)
        self.api_base = api_base.rstrip("/")
        self.timeout = timeout
        self._kv = kv
        self.token_key = f"govhall:wechat:access_token:{appid}"
        self.lock_key = f"govhall:wechat:access_token_lock:{appid}"
        # A holder makes one HTTP call (connect + read, each bounded by timeout) and a few Redis calls;
        # if it dies, the lock frees itself after this long.
        self.lock_timeout = 2 * timeout + 5
        # requests.Session is not documented as thread-safe: one client per executor thread.
        self._local = threading.local()
        self._clients: list[_Client] = []
        self._clients_guard = threading.Lock()

    def __repr__(self) -> str:
        return f"WeChatGateway(appid={self.appid!r}, api_base={self.api_base!r}, secret='**********')"

    # -- login ---------------------------------------------------------------------------------

    def code2session(self, code: str) -> Session:
        """Exchange a wx.login code for the user's Session.

        Raises Malformed(invalid_wechat_code) when WeChat rejects the code (unknown or already used),
        Unavailable(wechat_unavailable) when WeChat is unreachable, slow, busy or answers an error.
        """
        if not code or not isinstance(code, str):
            raise invalid("a wx.login code is required",
                          "/code", "required", code="invalid_wechat_code", kind=Malformed)
        result = self._call("code2session", lambda client: client.wxa.code_to_session(code))
        openid = result.get("openid")
        session_key = result.get("session_key")
        if not openid or not session_key:
            raise Unavailable("WeChat answered code2session without an openid",
                              code="wechat_unavailable", details={"endpoint": "code2session",
                                                                  "reason": "incomplete_answer"})
        return Session(openid=openid, unionid=result.get("unionid") or None, session_key=session_key)

    # -- the shared access token -----------------------------------------------------------------

    def access_token(self) -> str:
        """The app's current access token, shared by every process through Redis.

        Raises Unavailable(wechat_unavailable) when a token cannot be had, Unavailable(kv_unavailable)
        when Redis is down.
        """
        return self._token(stale=None)

    def invalidate_token(self, stale: str | None = None) -> None:
        """Forget the cached token: only if it is still `stale` when given (another process may already
        have refreshed it; deleting that fresh one would start a cascade of refreshes, each of which
        invalidates the token the others hold). Raises Unavailable(kv_unavailable)."""
        try:
            if stale is None:
                self._kv.delete(self.token_key)
                return
            with self._kv.pipeline() as pipe:
                pipe.watch(self.token_key)
                if _text(pipe.get(self.token_key)) != stale:
                    return
                pipe.multi()
                pipe.delete(self.token_key)
                pipe.execute()
        except WatchError:
            return  # the token changed meanwhile: it is no longer `stale`, nothing to forget
        except RedisError as exc:
            raise _kv_unavailable(type(exc).__name__) from None

    def _token(self, stale: str | None) -> str:
        # One refresher at a time across processes: each fetch invalidates the token the others
        # share (DOMAIN.md §6). Waiters poll the cache, so they pick up the fresh token as soon as
        # it lands rather than when the lock is freed.
        deadline = time.monotonic() + self.lock_timeout + 1
        while True:
            token = self._read_token()
            if token and token != stale:
                return token
            owner = self._try_lock()
            if owner is not None:
                try:
                    # Refreshed between our read and our lock: fetching again would replace it.
                    token = self._read_token()
                    if token and token != stale:
                        return token
                    return self._refresh()
                finally:
                    self._unlock(owner)
            if time.monotonic() >= deadline:
                raise Unavailable("timed out waiting for another process to refresh the WeChat token",
                                  code="wechat_unavailable",
                                  details={"endpoint": "token", "reason": "lock_timeout"})
            time.sleep(LOCK_POLL_INTERVAL)

    def _refresh(self) -> str:
        token, expires_in = self._fetch_token()
        ttl = max(int(expires_in) - TOKEN_EXPIRY_MARGIN, MIN_TOKEN_TTL)
        try:
            self._kv.set(self.token_key, token, ex=ttl)
        except RedisError as exc:
            raise _kv_unavailable(type(exc).__name__) from None
        logger.info("fetched a new WeChat access token for appid %s (ttl %ss)", self.appid, ttl)
        return token

    # The lock is SET NX PX plus a WATCH/MULTI compare-and-delete, not redis-py's Lock: that one
    # releases through Lua, which the in-process stand-in (fakeredis without lupa) cannot run.
    def _try_lock(self) -> str | None:
        owner = secrets.token_hex(16)
        try:
            taken = self._kv.set(self.lock_key, owner, nx=True, px=int(self.lock_timeout * 1000))
        except RedisError as exc:
            raise _kv_unavailable(type(exc).__name__) from None
        return owner if taken else None

    def _unlock(self, owner: str) -> None:
        try:
            with self._kv.pipeline() as pipe:
                pipe.watch(self.lock_key)
                if _text(pipe.get(self.lock_key)) != owner:
                    return  # expired and taken by another: not ours to delete
                pipe.multi()
                pipe.delete(self.lock_key)
                pipe.execute()
        except WatchError:
            return
        except RedisError:
            # Redis went away: the lock frees itself when its timeout runs out.
            logger.warning("WeChat token lock for appid %s was not released", self.appid)

    def _read_token(self) -> str | None:
        try:
            return _text(self._kv.get(self.token_key))
        except RedisError as exc:
            raise _kv_unavailable(type(exc).__name__) from None

    def _fetch_token(self) -> tuple[str, int]:
        result = self._call("token", lambda client: client.get("token", params={
            "grant_type": "client_credential", "appid": self.appid, "secret": self._secret,
            "access_token": None,
        }))
        token = result.get("access_token")
        if not token:
            raise Unavailable("WeChat answered the token request without a token",
                              code="wechat_unavailable",
                              details={"endpoint": "token", "reason": "incomplete_answer"})
        return token, int(result.get("expires_in") or 7200)

    # -- subscribe messages ----------------------------------------------------------------------

    def send_subscribe_message(self, openid: str, template_id: str, data: dict,
                               page: str | None = None) -> None:
        """Send one subscribe message (mini-program subscribeMessage.send); returns None once WeChat took it.

        Raises Conflict(no_subscription_consent) when the user has not consented (43101),
        Unavailable(wechat_unavailable) when WeChat is down or answers another error.
        """
        def send(client: _Client) -> dict:
            return client.wxa.send_subscribe_message(openid, template_id, data, page=page)

        self._with_token("subscribe_send", send)

    def _with_token(self, endpoint: str, call: Callable[[_Client], dict]) -> dict:
        token = self._token(stale=None)
        try:
            return self._call(endpoint, call, token=token, retryable=STALE_TOKEN_ERRCODES)
        except _StaleToken:
            pass
        # Another process (or WeChat itself) replaced our token: refresh once, then give up.
        logger.info("WeChat access token for appid %s was stale; refreshing once", self.appid)
        token = self._token(stale=token)
        try:
            return self._call(endpoint, call, token=token, retryable=STALE_TOKEN_ERRCODES)
        except _StaleToken as stale:
            errcode = stale.errcode
        raise Unavailable("WeChat rejected a freshly fetched access token", code="wechat_unavailable",
                          details={"endpoint": endpoint, "errcode": errcode})

    # -- the one place HTTP happens ---------------------------------------------------------------

    def _call(self, endpoint: str, call: Callable[[_Client], Any], token: str | None = None,
              retryable: frozenset = frozenset()) -> dict:
        """Run one wechatpy call and turn every failure into a domain error.

        Errors are raised outside the `except` blocks so no exception chain carries the request URL,
        which holds the secret, the code or the token.
        """
        client = self._client()
        client.token = token
        errcode: int | None = None
        reason: str | None = None
        try:
            result = call(client)
        except WeChatClientException as exc:
            errcode = exc.errcode
            status = getattr(exc.response, "status_code", None)
            reason = f"http_{status}" if errcode is None else "errcode"
        except requests.Timeout:
            reason = "timeout"
        except requests.RequestException as exc:
            reason = type(exc).__name__
        finally:
            client.token = None
        if reason is None and not isinstance(result, dict):
            reason = "not_json"
        if reason is None:
            return result
        if errcode in retryable:
            raise _StaleToken(errcode)
        details: dict[str, Any] = {"endpoint": endpoint, "reason": reason}
        if errcode is not None:
            details["errcode"] = errcode
        logger.warning("WeChat %s failed: %s (errcode %s)", endpoint, reason, errcode)
        if endpoint == "code2session" and errcode in INVALID_CODE_ERRCODES:
            raise invalid("WeChat did not accept this login code",
                          "/code", "wechat_code", code="invalid_wechat_code", kind=Malformed, errcode=errcode)
        if errcode == NO_CONSENT_ERRCODE:
            raise Conflict("the user has not consented to this subscribe message",
                           code="no_subscription_consent", details=details)
        raise Unavailable("WeChat is unavailable", code="wechat_unavailable", details=details)

    def _client(self) -> _Client:
        client = getattr(self._local, "client", None)
        if client is None:
            client = _Client(self.appid, self._secret, self.api_base, self.timeout)
            self._local.client = client
            with self._clients_guard:
                self._clients.append(client)
        return client

    def close(self) -> None:
        """Close every thread's HTTP connections (at server shutdown and in tests)."""
        with self._clients_guard:
            clients, self._clients = self._clients, []
        for client in clients:
            client._http.close()
        self._local = threading.local()


class _StaleToken(Exception):
    def __init__(self, errcode: int):
        super().__init__(errcode)
        self.errcode = errcode


def _kv_unavailable(reason: str) -> Unavailable:
    return Unavailable("the key-value store is unavailable", code="kv_unavailable",
                       details={"reason": reason})


def _text(value: Any) -> str | None:
    """A Redis value as str, whether the client decodes responses or not."""
    if value is None:
        return None
    return value.decode() if isinstance(value, bytes) else str(value)
