"""A local fake of WeChat's HTTP API (login, tokens, subscribe messages), so wechatpy's real client code runs in tests."""
from __future__ import annotations

import asyncio
import collections
import itertools
import json
import secrets
import socket
import threading

import tornado.httpserver
import tornado.netutil
import tornado.web

# Real WeChat error codes the fake answers with.
INVALID_APPSECRET = 40125
INVALID_CODE = 40029
CODE_USED = 40163
INVALID_TOKEN = 40001
NO_CONSENT = 43101


class FakeWeChat:
    """WeChat's API on a free 127.0.0.1 port, served from a background thread.

    Use `start()`/`stop()` (or `with FakeWeChat(...) as fake:`) and give `fake.base_url` to the gateway.
    State the tests set or read:
      register_code(code, openid, unionid=None) -> session_key; codes are single-use, like wx.login's.
      tokens_issued: how many access tokens /cgi-bin/token handed out; only the newest one is valid.
      expire_token(): the current token stops working (42001), as when WeChat expires it.
      refuse_consent(openid): subscribe messages to that user answer 43101.
      sent: the subscribe messages accepted, in order.
      down: False (serving), "503" or True (every endpoint answers 503), "refuse" (the port is closed).
      delay: seconds every endpoint waits before answering (for timeout tests).
      force_errcode(path, errcode): that path answers this WeChat errcode (e.g. -1, system busy).
      hits: a Counter of requests per path.
    """

    def __init__(self, appid: str = "wxfakeappid0000001", secret: str = "fake-secret-0123456789abcdef"):
        self.appid = appid
        self.secret = secret
        self.delay = 0.0
        self.sent: list[dict] = []
        self.hits: collections.Counter = collections.Counter()
        self.tokens_issued = 0
        self._state = threading.Lock()
        self._codes: dict[str, tuple[str, str | None]] = {}
        self._sessions: dict[str, str] = {}
        self._current_token: str | None = None
        self._expired_token: str | None = None
        self._no_consent: set[str] = set()
        self._forced: dict[str, int] = {}
        self._down: bool | str = False
        self._port: int | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: tornado.httpserver.HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._counter = itertools.count(1)

    # -- what tests set up -------------------------------------------------------------------------

    def register_code(self, code: str, openid: str, unionid: str | None = None) -> str:
        """Make `code` a valid wx.login code for `openid`; returns the session_key it will yield."""
        with self._state:
            self._codes[code] = (openid, unionid)
            self._sessions[code] = secrets.token_urlsafe(16)
            return self._sessions[code]

    def refuse_consent(self, openid: str) -> None:
        with self._state:
            self._no_consent.add(openid)

    def force_errcode(self, path: str, errcode: int | None) -> None:
        """Every request to `path` (e.g. "/sns/jscode2session") answers `errcode`; None undoes it."""
        with self._state:
            if errcode is None:
                self._forced.pop(path, None)
            else:
                self._forced[path] = errcode

    def expire_token(self) -> None:
        """The current access token stops working, as when WeChat's two hours are up."""
        with self._state:
            self._expired_token, self._current_token = self._current_token, None

    @property
    def current_token(self) -> str | None:
        return self._current_token

    @property
    def down(self) -> bool | str:
        return self._down

    @down.setter
    def down(self, how: bool | str) -> None:
        if how not in (False, True, "503", "refuse"):
            raise ValueError("down is False, True/'503' or 'refuse'")
        was_refusing = self._down == "refuse"
        self._down = how
        if how == "refuse" and not was_refusing:
            self._run_on_loop(self._close_listener())
        elif how != "refuse" and was_refusing:
            self._run_on_loop(self._reopen_listener())

    # -- life cycle --------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        if self._port is None:
            raise RuntimeError("FakeWeChat is not started")
        return f"http://127.0.0.1:{self._port}"

    def start(self) -> "FakeWeChat":
        """Serve from a background thread; returns self once the port accepts connections."""
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            self._loop = loop
            try:
                self._open_listener()
            except BaseException as exc:  # surfaced to start()'s caller below
                failure.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            loop.run_forever()
            pending = asyncio.all_tasks(loop)
            for task in pending:
                task.cancel()
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.close()

        self._thread = threading.Thread(target=run, name="fake-wechat", daemon=True)
        self._thread.start()
        ready.wait(10)
        if failure:
            raise failure[0]
        return self

    def stop(self) -> None:
        if self._thread is None or self._loop is None:
            return
        self._run_on_loop(self._close_listener())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._thread = None
        self._loop = None

    def __enter__(self) -> "FakeWeChat":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def _open_listener(self) -> None:
        sockets = tornado.netutil.bind_sockets(self._port or 0, "127.0.0.1", family=socket.AF_INET)
        self._port = sockets[0].getsockname()[1]
        app = tornado.web.Application([
            (r"/sns/jscode2session", _Code2Session, {"fake": self}),
            (r"/cgi-bin/token", _Token, {"fake": self}),
            (r"/cgi-bin/message/subscribe/send", _SubscribeSend, {"fake": self}),
        ], log_function=lambda handler: None)  # the query strings hold the (fake) secret and codes
        self._server = tornado.httpserver.HTTPServer(app)
        self._server.add_sockets(sockets)

    async def _reopen_listener(self) -> None:
        self._open_listener()

    async def _close_listener(self) -> None:
        # Stop listening and drop kept-alive connections too: a down server answers nobody.
        server, self._server = self._server, None
        if server is not None:
            server.stop()
            await server.close_all_connections()

    def _run_on_loop(self, coroutine) -> None:
        if self._loop is None:
            coroutine.close()
            return
        asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(10)

    # -- what the handlers call (on the fake's loop thread) --------------------------------------

    def _issue_token(self, appid: str | None, secret: str | None) -> dict:
        with self._state:
            if appid != self.appid or secret != self.secret:
                return {"errcode": INVALID_APPSECRET, "errmsg": "invalid appsecret"}
            # A new token invalidates the previous one (DOMAIN.md §6).
            self.tokens_issued += 1
            self._expired_token = None
            self._current_token = f"FAKE-TOKEN-{next(self._counter)}-{secrets.token_hex(8)}"
            return {"access_token": self._current_token, "expires_in": 7200}

    def _code2session(self, appid: str | None, secret: str | None, code: str | None) -> dict:
        with self._state:
            if appid != self.appid or secret != self.secret:
                return {"errcode": INVALID_APPSECRET, "errmsg": "invalid appsecret"}
            if code not in self._codes:
                used = code in self._sessions
                return ({"errcode": CODE_USED, "errmsg": "code been used"} if used
                        else {"errcode": INVALID_CODE, "errmsg": "invalid code"})
            openid, unionid = self._codes.pop(code)
            answer = {"openid": openid, "session_key": self._sessions[code]}
            if unionid:
                answer["unionid"] = unionid
            return answer

    def _subscribe_send(self, token: str | None, message: dict) -> dict:
        with self._state:
            if token is None or token != self._current_token:
                if token is not None and token == self._expired_token:
                    return {"errcode": 42001, "errmsg": "access_token expired"}
                return {"errcode": INVALID_TOKEN, "errmsg": "invalid credential, access_token is invalid"}
            if message.get("touser") in self._no_consent:
                return {"errcode": NO_CONSENT, "errmsg": "user refuse to accept the msg"}
            self.sent.append(message)
            return {"errcode": 0, "errmsg": "ok", "msgid": len(self.sent)}


class _FakeHandler(tornado.web.RequestHandler):
    def initialize(self, fake: FakeWeChat) -> None:
        self.fake = fake

    async def prepare(self) -> None:
        self.fake.hits[self.request.path] += 1
        if self.fake.delay:
            await asyncio.sleep(self.fake.delay)
        if self.fake.down in (True, "503"):
            self.set_status(503)
            self.finish("service unavailable")
            return
        forced = self.fake._forced.get(self.request.path)
        if forced is not None:
            self.answer({"errcode": forced, "errmsg": "forced by the test"})

    def answer(self, body: dict) -> None:
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.finish(json.dumps(body, ensure_ascii=False))


class _Code2Session(_FakeHandler):
    def get(self) -> None:
        self.answer(self.fake._code2session(self.get_query_argument("appid", None),
                                            self.get_query_argument("secret", None),
                                            self.get_query_argument("js_code", None)))


class _Token(_FakeHandler):
    def get(self) -> None:
        self.answer(self.fake._issue_token(self.get_query_argument("appid", None),
                                           self.get_query_argument("secret", None)))


class _SubscribeSend(_FakeHandler):
    def post(self) -> None:
        try:
            message = json.loads(self.request.body or b"{}")
        except ValueError:
            self.answer({"errcode": 47001, "errmsg": "data format error"})
            return
        self.answer(self.fake._subscribe_send(self.get_query_argument("access_token", None), message))
