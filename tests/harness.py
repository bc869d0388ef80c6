"""The app under test: served on a free 127.0.0.1 port in a thread, and a small synchronous client.

Import it as `from harness import RunningApp, make_settings` (tests/ is on sys.path via tests/conftest.py);
`conftest` names differ per folder, so test modules never import from conftest.
"""
from __future__ import annotations

import asyncio
import json
import socket
import threading
import urllib.error
import urllib.request

import tornado.netutil


class ApiResponse:
    def __init__(self, status: int, headers, body: bytes):
        self.status = status
        self.headers = headers
        self.body = body

    @property
    def json(self):
        return json.loads(self.body)

    def error_code(self) -> str:
        """The error envelope's code, after checking the envelope is complete (CONTRACT.md §3)."""
        data = self.json
        assert set(data) == {"error"}, data
        assert set(data["error"]) == {"code", "message", "details"}, data
        assert isinstance(data["error"]["message"], str) and data["error"]["message"]
        assert_validation_details(self.status, data["error"]["details"])
        return data["error"]["code"]


def assert_validation_details(status: int, details: dict) -> None:
    """A 400 or 422 names every broken rule in the one shape (docs/api.md "Error details"):
    `details.errors` is a non-empty list of {path, rule, message}."""
    if status not in (400, 422):
        return
    errors = details.get("errors")
    assert isinstance(errors, list) and errors, (status, details)
    # An import report keeps its per-row entries: they name a file's row and column (docs/api.md).
    is_import_report = "written" in details and "dry_run" in details
    for error in errors:
        assert isinstance(error, dict), (status, details)
        if is_import_report and "row" in error:
            continue
        assert "field" not in error, (status, details)
        assert all(isinstance(error.get(key), str) for key in ("path", "rule", "message")), (status, details)
        assert error["rule"] and error["message"], (status, details)


class Api:
    """A small synchronous HTTP client for tests against the app on a free port."""

    def __init__(self, base: str):
        self.base = base
        self.token: str | None = None

    def request(self, method: str, path: str, body=None, headers: dict | None = None, token: str | None = "default",
                raw: bytes | None = None, content_type: str | None = None, timeout: float = 60) -> ApiResponse:
        headers = dict(headers or {})
        data = raw
        if body is not None:
            data = json.dumps(body, ensure_ascii=False).encode()
            headers.setdefault("Content-Type", content_type or "application/json")
        elif content_type:
            headers["Content-Type"] = content_type
        use = self.token if token == "default" else token
        if use:
            headers["Authorization"] = f"Bearer {use}"
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                return ApiResponse(resp.status, resp.headers, resp.read())
        except urllib.error.HTTPError as exc:
            return ApiResponse(exc.code, exc.headers, exc.read())

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body, **kw)

    def put(self, path, body=None, **kw):
        return self.request("PUT", path, body, **kw)

    def patch(self, path, body=None, **kw):
        return self.request("PATCH", path, body, **kw)

    def login(self, username: str, password: str) -> str:
        resp = self.post("/api/v1/auth/login", {"username": username, "password": password}, token=None)
        assert resp.status == 200, resp.body
        self.token = resp.json["token"]
        return self.token


class RunningApp:
    """The real app served by Tornado on a free 127.0.0.1 port in a background thread."""

    def __init__(self, settings):
        from server.app import make_app
        self.settings = settings
        # bound here, on a port the kernel picks: a port chosen first and bound later can be taken in between by
        # another worker's client connection (EADDRINUSE)
        self._sockets = tornado.netutil.bind_sockets(0, "127.0.0.1", family=socket.AF_INET)
        self.port = self._sockets[0].getsockname()[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self.app = make_app(settings)
        self.ctx = self.app.ctx
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        async def main():
            import tornado.httpserver
            self.loop = asyncio.get_running_loop()
            self._stop = asyncio.Event()
            server = tornado.httpserver.HTTPServer(self.app, max_body_size=self.settings.import_max_bytes)
            server.add_sockets(self._sockets)
            self._ready.set()
            await self._stop.wait()
            server.stop()
            await server.close_all_connections()
        try:
            asyncio.run(main())
        except BaseException as exc:  # noqa: BLE001 - surfaced to the test
            self._error = exc
            self._ready.set()

    def start(self) -> "RunningApp":
        self._thread.start()
        self._ready.wait(30)
        if self._error:
            raise self._error
        return self

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(30)
        self.ctx.close()

    def api(self) -> Api:
        return Api(self.base)


def make_settings(db_url: str, kv_url: str | None = None, **overrides):
    from server.config import Secret, Settings
    # the cheapest argon2 cost: tests sign in hundreds of times, and the cost is a production setting
    values = dict(database_url=db_url, redis_url=kv_url, secret_key=Secret("test-secret-key-0123456789"),
                  workers=8, password_hash_cost=1, password_hash_memory_kib=32)
    values.update(overrides)
    return Settings(**values)
