"""`govhall serve --processes 2` on PostgreSQL and Redis: both processes answer, SIGTERM drains a request in flight."""
from __future__ import annotations

import concurrent.futures
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from harness import Api
from servers import free_port

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "wechat"))  # the fake WeChat

from fake_wechat import FakeWeChat  # noqa: E402


def _govhall(args: list[str], env: dict, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "server.cli", *args], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=300, **kw)


@pytest.fixture
def fake_wechat():
    fake = FakeWeChat().start()
    yield fake
    fake.stop()


@pytest.fixture
def production_env(postgres_admin_url, redis_server_url, fake_wechat, tmp_path):
    from servers import create_database, drop_database
    url = create_database(postgres_admin_url)
    env = dict(os.environ, GOVHALL_DATABASE_URL=url, GOVHALL_REDIS_URL=redis_server_url,
               GOVHALL_WECHAT_APPID=fake_wechat.appid, GOVHALL_WECHAT_SECRET=fake_wechat.secret,
               GOVHALL_WECHAT_API_BASE=fake_wechat.base_url, GOVHALL_WECHAT_TIMEOUT="60",
               GOVHALL_SECRET_KEY="processes-test-secret", GOVHALL_VAR_DIR=str(tmp_path / "var"),
               GOVHALL_UPLOAD_DIR=str(tmp_path / "uploads"),
               GOVHALL_SHUTDOWN_TIMEOUT="600", PYTHONUNBUFFERED="1")
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    yield env
    drop_database(postgres_admin_url, url)


def _wait_ready(api: Api, proc: subprocess.Popen, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"serve exited with {proc.returncode}: {proc.stderr.read()}")
        try:
            if api.get("/api/v1/health/ready", token=None).status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError("serve did not become ready")


def test_several_processes_share_the_port_and_sigterm_drains_a_request_in_flight(production_env, fake_wechat, tmp_path):
    env = production_env
    assert _govhall(["migrate"], env).returncode == 0
    port = free_port()
    log = open(tmp_path / "serve.log", "w+")
    proc = subprocess.Popen([sys.executable, "-m", "server.cli", "serve", "--port", str(port), "--processes", "2"],
                            cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, text=True)
    api = Api(f"http://127.0.0.1:{port}")
    try:
        _wait_ready(api, proc)

        # Concurrent callers on fresh connections: the kernel hands them to both processes.
        # The second process may still be starting when the first is ready: ask until both answered.
        def pids_of(n: int) -> set[int]:
            with concurrent.futures.ThreadPoolExecutor(8) as pool:
                return set(pool.map(lambda _: api.get("/api/v1/health/live", token=None).json["pid"], range(n)))
        pids = pids_of(50)
        asked = 50
        while len(pids) < 2 and asked < 3000:
            pids |= pids_of(50)
            asked += 50
        assert len(pids) == 2 and proc.pid not in pids

        # Metrics of both processes are summed by any one of them (multiprocess mode).
        metrics = api.get("/metrics", token=None).body.decode()
        live = [l for l in metrics.splitlines() if l.startswith("govhall_http_requests_total{")
                and 'route="/api/v1/health/live"' in l]
        assert sum(float(l.rsplit(" ", 1)[1]) for l in live) >= asked

        # A request in flight when SIGTERM comes: a citizen's sign-in waiting on WeChat, which answers only
        # after `delay` seconds. The signal is sent once WeChat has been asked, so the request is in flight
        # then, however busy the machine is.
        fake_wechat.register_code("code-drain", "openid-drain")
        fake_wechat.delay = 3.0
        answer = {}

        def slow() -> None:
            answer["resp"] = api.post("/api/v1/hall/login", {"code": "code-drain"}, token=None, timeout=120)
            answer["at"] = time.monotonic()
        caller = threading.Thread(target=slow)
        caller.start()
        deadline = time.monotonic() + 60
        while not fake_wechat.hits["/sns/jscode2session"] and time.monotonic() < deadline:
            time.sleep(0.02)
        assert fake_wechat.hits["/sns/jscode2session"] == 1
        proc.send_signal(signal.SIGTERM)
        signalled = time.monotonic()
        caller.join(180)
        assert proc.wait(180) == 0
        resp = answer["resp"]
        assert resp.status == 200, resp.body[:500]
        assert set(resp.json) == {"token", "expires_in"}
        assert answer["at"] > signalled  # answered after the stop began, not before it
        log.seek(0)
        text = log.read()
        assert "shutting down: 1 request(s) in flight" in text
        assert "Traceback" not in text
        with pytest.raises(OSError):  # nothing listens any more
            api.get("/api/v1/health/live", token=None)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(30)
        log.close()


def test_several_processes_without_redis_are_refused(tmp_path):
    env = dict(os.environ, GOVHALL_VAR_DIR=str(tmp_path / "var"),
               GOVHALL_DATABASE_URL=f"sqlite:///{tmp_path}/g.db", GOVHALL_AUTO_MIGRATE="1")
    env.pop("GOVHALL_REDIS_URL", None)
    done = _govhall(["serve", "--port", str(free_port()), "--processes", "2"], env)
    assert done.returncode != 0
    assert "GOVHALL_REDIS_URL" in done.stderr
