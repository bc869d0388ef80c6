"""Fixtures shared by every test package: shared data, real storage backends, and the app on a free port."""
from __future__ import annotations

import asyncio
import json
import os
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from servers import PostgresServer, RedisServer, create_database, drop_database, free_port  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SHARED_EXTERNAL = (REPO.parent / "shared" / "data" / "external").resolve()


@pytest.fixture(scope="session")
def external() -> Path:
    """../shared/data/external beside the checkout (never copied into the project)."""
    if not SHARED_EXTERNAL.is_dir():
        pytest.fail(f"shared data not found at {SHARED_EXTERNAL}: check out ../shared beside the repo")
    return SHARED_EXTERNAL


# --- real servers ------------------------------------------------------------------------------------

def skip_or_fail(reason: str):
    """Skip with the reason; in CI (GOVHALL_TEST_REQUIRE_SERVERS=1) a missing server is a failure."""
    if os.environ.get("GOVHALL_TEST_REQUIRE_SERVERS") == "1":
        pytest.fail(reason + " (GOVHALL_TEST_REQUIRE_SERVERS=1: no skipping)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def postgres_admin_url():
    """A PostgreSQL server: GOVHALL_TEST_POSTGRES_URL, or one started here; skipped when not installed."""
    url = os.environ.get("GOVHALL_TEST_POSTGRES_URL")
    if url:
        yield url
        return
    server = PostgresServer()
    try:
        url = server.start()
    except Exception as exc:  # noqa: BLE001 - the reason goes into the skip
        server.stop()
        skip_or_fail(f"PostgreSQL is installed but did not start: {exc}")
    if url is None:
        skip_or_fail("PostgreSQL is not installed here (initdb/pg_ctl not found); .ci/run installs it")
    yield url
    server.stop()


@pytest.fixture(scope="session")
def redis_server_url():
    """A real Redis: GOVHALL_TEST_REDIS_URL, or one started here; skipped when not installed."""
    url = os.environ.get("GOVHALL_TEST_REDIS_URL")
    if url:
        yield url
        return
    server = RedisServer()
    url = server.start()
    if url is None:
        skip_or_fail("redis-server is not installed here; .ci/run installs it")
    yield url
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """A fresh empty database on SQLite (temp file) and on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/govhall.db"
        return
    admin = request.getfixturevalue("postgres_admin_url")
    url = create_database(admin)
    yield url
    drop_database(admin, url)


@pytest.fixture
def sqlite_url(tmp_path):
    return f"sqlite:///{tmp_path}/govhall.db"


@pytest.fixture(params=["embedded", "redis"])
def kv_url(request):
    """None (the in-process stand-in) and a real Redis server."""
    if request.param == "embedded":
        return None
    url = request.getfixturevalue("redis_server_url")
    import redis
    redis.Redis.from_url(url).flushdb()
    return url


# --- the app ---------------------------------------------------------------------------------------

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
        return data["error"]["code"]


class Api:
    """A small synchronous HTTP client for tests against the app on a free port."""

    def __init__(self, base: str):
        self.base = base
        self.token: str | None = None

    def request(self, method: str, path: str, body=None, headers: dict | None = None, token: str | None = "default",
                raw: bytes | None = None, content_type: str | None = None) -> ApiResponse:
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
            with urllib.request.urlopen(req, timeout=60) as resp:
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
        self.port = free_port()
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
            server.listen(self.port, "127.0.0.1")
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
    values = dict(database_url=db_url, redis_url=kv_url, secret_key=Secret("test-secret-key-0123456789"),
                  workers=8)
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def running_app(db_url, tmp_path):
    """The app on SQLite and PostgreSQL with the embedded key-value store."""
    app = RunningApp(make_settings(db_url, upload_dir=str(tmp_path / "uploads"))).start()
    yield app
    app.stop()
