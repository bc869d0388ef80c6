"""`govhall serve --processes 2` on PostgreSQL and Redis: both processes answer, SIGTERM drains a slow request."""
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


def _govhall(args: list[str], env: dict, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "server.cli", *args], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=300, **kw)


@pytest.fixture
def production_env(postgres_admin_url, redis_server_url, tmp_path):
    from servers import create_database, drop_database
    url = create_database(postgres_admin_url)
    env = dict(os.environ, GOVHALL_DATABASE_URL=url, GOVHALL_REDIS_URL=redis_server_url,
               GOVHALL_SECRET_KEY="processes-test-secret", GOVHALL_VAR_DIR=str(tmp_path / "var"),
               GOVHALL_UPLOAD_DIR=str(tmp_path / "uploads"), GOVHALL_PASSWORD="admin-password-1",
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


def test_several_processes_share_the_port_and_sigterm_drains_a_request_in_flight(production_env, tmp_path):
    env = production_env
    assert _govhall(["migrate"], env).returncode == 0
    assert _govhall(["create-user", "admin", "--role", "province_admin"], env).returncode == 0
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

        # A slow request (a large catalogue checked by a dry-run import) is in flight when SIGTERM comes.
        api.login("admin", "admin-password-1")
        from scripts.bench.bench_import import json_bytes, make_document
        body = json_bytes([make_document(i) for i in range(15000)])
        answer = {}

        def slow() -> None:
            # a busy machine (tests in parallel) may take minutes over it: the point is the drain, not speed
            answer["resp"] = api.request("POST", "/api/v1/catalogue/imports?dry_run=1", raw=body,
                                         content_type="application/json", timeout=600)
            answer["at"] = time.monotonic()
        caller = threading.Thread(target=slow)
        caller.start()
        time.sleep(1.5)
        proc.send_signal(signal.SIGTERM)
        signalled = time.monotonic()
        caller.join(660)
        assert proc.wait(660) == 0
        resp = answer["resp"]
        assert resp.status == 200, resp.body[:500]
        assert resp.json["rows"] == 15000 and resp.json["dry_run"] is True
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
